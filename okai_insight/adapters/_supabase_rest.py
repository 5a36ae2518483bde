"""The Supabase adapter's REST transport: the official ``supabase`` client against PostgREST (``/rest/v1``).

Tables are read and written through PostgREST's table endpoints, vector search and the other set operations
through the migration's RPC functions (``/rest/v1/rpc/<name>``). Requests carry the project's key (``apikey``) and
a bearer token (a user's JWT, or the key itself), so the server's row level security decides what each call
sees. Each call is one HTTP request and one transaction; :meth:`SupabaseRestAdapter.remove_room` is several.

Example:
    >>> db = SupabaseRestAdapter("https://xyz.supabase.co", key=anon_key, access_token=user_jwt)  # doctest: +SKIP
    >>> db.init()                                                                                 # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np

from okai_insight import _json as okai_json
from okai_insight.adapters import _rows as rows_
from okai_insight.adapters import _supabase_rest_codec as codec
from okai_insight.adapters._checked import CheckedGoal, CheckedKnowledge, CheckedMemory, MemoryBatch
from okai_insight.adapters._supabase_base import SupabaseAdapter
from okai_insight.adapters.base import CacheQuery, MemoryPage, MemorySearch
from okai_insight.errors import (
    ConfigurationError,
    ConnectionFailed,
    DuplicateId,
    FeatureNotAvailable,
    NotFound,
    SchemaDimensionMismatch,
    SchemaError,
)
from okai_insight.models import (
    Account,
    Actor,
    CachedEmbedding,
    Embedding,
    Goal,
    GoalStatus,
    KnowledgeItem,
    Memory,
    Participant,
    Relationship,
    UserState,
)
from okai_insight.schema import check_dimension
from okai_insight.settings import Settings


class SupabaseRestAdapter(SupabaseAdapter):
    """okai-insight's adapter over Supabase's REST API (PostgREST), authenticated as the key or a user's JWT.

    Example:
        >>> with SupabaseRestAdapter(url, key=key) as db:        # doctest: +SKIP
        ...     db.init()
        ...     db.create_room()
    """

    transport = "rest"

    def __init__(
        self,
        url: str,
        *,
        key: str,
        access_token: str | None = None,
        settings: Settings | None = None,
        dimension: int | None = None,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ConfigurationError(f"the Supabase URL must be https://<project>.supabase.co, got {url!r}")
        if not key:
            raise ConfigurationError("a Supabase key is needed (SUPABASE_KEY, or ?key= in the supabase:// URL)")
        self.url = url.rstrip("/")
        self.key = key
        self.access_token = access_token
        self.settings = settings or Settings.from_env()
        #: An explicit dimension must match the project's recorded one (init refuses otherwise); None adopts it.
        self._explicit_dimension = None if dimension is None else check_dimension(dimension)
        self.embedding_dimension = self._explicit_dimension or self.settings.embedding_dimension
        self._client: Any = None
        self._http: Any = None

    # -- plumbing -------------------------------------------------------------------------------------------
    def init(self) -> None:
        """Create the client and read the schema's embedding dimension from ``okai_settings``.

        Example:
            >>> db.init()                                      # doctest: +SKIP
        """
        import httpx

        try:
            from supabase import ClientOptions, create_client
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise ConfigurationError(
                "the REST transport needs the supabase package: pip install okai-insight[supabase]"
            ) from exc
        headers = {"Authorization": f"Bearer {self.access_token or self.key}"}
        self._http = httpx.Client(timeout=httpx.Timeout(30.0, connect=self.settings.connect_timeout_s))
        options = ClientOptions(
            headers=headers,
            auto_refresh_token=False,
            persist_session=False,
            httpx_client=self._http,
            postgrest_client_retry=False,
        )
        try:
            self._client = create_client(self.url, self.key, options=options)
        except Exception as exc:  # the client validates the URL and key shape
            raise ConfigurationError(f"cannot create the Supabase client: {exc}") from exc
        rows = self._execute(self._client.table("okai_settings").select("key,value"))
        values = {r["key"]: r["value"] for r in rows}
        if "supabase_migration" not in values:
            raise SchemaError("this project lacks okai-insight's Supabase migration; apply it (docs/supabase.md)")
        stored = int(values["embedding_dimension"])
        if self._explicit_dimension is not None and self._explicit_dimension != stored:
            raise SchemaDimensionMismatch(requested=self._explicit_dimension, stored=stored)
        self.embedding_dimension = stored

    def close(self) -> None:
        self._client = None
        if self._http is not None:
            self._http.close()
            self._http = None

    @property
    def client(self) -> Any:
        """The ``supabase`` client (``supabase.Client``).

        Example:
            >>> db.client.table("rooms").select("id").execute().data   # doctest: +SKIP
        """
        if self._client is None:
            raise ConnectionFailed("the adapter is not initialised: call init() or use okai_insight.connect()")
        return self._client

    def _execute(self, request: Any) -> Any:
        """Run one request; PostgREST errors become okai-insight's errors."""
        import httpx
        from postgrest.exceptions import APIError

        try:
            return request.execute().data
        except APIError as exc:
            raise codec.error(exc.code, exc.message, exc.details) from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"cannot reach {self.url}: {exc}") from exc

    def _count(self, request: Any) -> int:
        import httpx
        from postgrest.exceptions import APIError

        try:
            return int(request.execute().count or 0)
        except APIError as exc:
            raise codec.error(exc.code, exc.message, exc.details) from exc
        except httpx.HTTPError as exc:
            raise ConnectionFailed(f"cannot reach {self.url}: {exc}") from exc

    def _table(self, name: str) -> Any:
        return self.client.table(name)

    def _rpc(self, name: str, params: dict[str, Any]) -> Any:
        return self._execute(self.client.rpc(name, params))

    def _insert(self, table: str, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        from postgrest.types import ReturnMethod

        self._execute(self._table(table).insert(rows, returning=ReturnMethod.minimal))

    def _delete(self, table: str) -> Any:
        from postgrest.types import CountMethod, ReturnMethod

        return self._table(table).delete(count=CountMethod.exact, returning=ReturnMethod.minimal)

    def _update(self, table: str, values: dict[str, Any]) -> Any:
        from postgrest.types import CountMethod, ReturnMethod

        return self._table(table).update(values, count=CountMethod.exact, returning=ReturnMethod.minimal)

    # -- accounts -------------------------------------------------------------------------------------------
    def _do_get_account_by_id(self, user_id: uuid.UUID) -> Account | None:
        rows = self._execute(
            self._table("accounts").select("id,name,username,email,avatarUrl,details,createdAt").eq("id", str(user_id))
        )
        return rows_.account(rows[0], codec.timestamp, _same) if rows else None

    def _do_create_account(self, account: Account) -> bool:
        row = {
            "id": str(account.id),
            "name": account.name,
            "username": account.username,
            "email": account.email,
            "avatarUrl": account.avatar_url,
            "details": account.details,
        }
        try:
            self._insert("accounts", row)
        except DuplicateId:
            return False
        return True

    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]:
        rows = self._execute(
            self._table("participants").select("accounts(id,name,username,details)").eq("roomId", str(room_id))
        )
        actors = [
            Actor(uuid.UUID(a["id"]), a["name"], a["username"], a["details"] or {})
            for a in (r["accounts"] for r in rows)
            if a
        ]
        return sorted(actors, key=lambda a: (a.name is None, a.name or "", str(a.id)))

    # -- memories -------------------------------------------------------------------------------------------
    def _do_get_memories(self, page: MemoryPage) -> list[Memory]:
        q = self._table("memories").select(codec.MEMORY_COLUMNS).eq("type", page.type).eq("roomId", str(page.room_id))
        if page.agent_id is not None:
            q = q.eq("agentId", str(page.agent_id))
        if page.unique:
            q = q.eq("isUnique", True)
        if page.start is not None:
            q = q.gte("createdAt", page.start.isoformat())
        if page.end is not None:
            q = q.lte("createdAt", page.end.isoformat())
        if page.before is not None:
            ts, bid = page.before[0].isoformat(), page.before[1]
            q = q.or_(f'createdAt.lt."{ts}",and(createdAt.eq."{ts}",id.lt.{bid})')
        q = q.order("createdAt", desc=True).order("id", desc=True)
        if page.limit is not None:
            q = q.limit(page.limit)
        return [codec.memory(r) for r in self._execute(q)]

    def _do_get_memory_by_id(self, memory_id: uuid.UUID) -> Memory | None:
        rows = self._execute(self._table("memories").select(codec.MEMORY_COLUMNS).eq("id", str(memory_id)))
        return codec.memory(rows[0]) if rows else None

    def _do_get_memories_by_ids(self, ids: list[uuid.UUID], memory_type: str | None) -> list[Memory]:
        q = self._table("memories").select(codec.MEMORY_COLUMNS).in_("id", [str(i) for i in ids])
        if memory_type is not None:
            q = q.eq("type", memory_type)
        return [codec.memory(r) for r in self._execute(q.order("createdAt", desc=True).order("id"))]

    def _do_get_memories_by_room_ids(
        self, room_ids: list[uuid.UUID], memory_type: str, agent_id: uuid.UUID | None, limit: int | None
    ) -> list[Memory]:
        q = self._table("memories").select(codec.MEMORY_COLUMNS).eq("type", memory_type)
        q = q.in_("roomId", [str(r) for r in room_ids])
        if agent_id is not None:
            q = q.eq("agentId", str(agent_id))
        q = q.order("createdAt", desc=True).order("id", desc=True)
        if limit is not None:
            q = q.limit(limit)
        return [codec.memory(r) for r in self._execute(q)]

    def _do_get_cached_embeddings(self, query: CacheQuery) -> list[CachedEmbedding]:
        params = {
            "query_table_name": query.type,
            "query_threshold": query.threshold,
            "query_input": query.input,
            "query_field_name": query.field,
            "query_field_sub_name": query.sub_field,
            "query_match_count": query.k,
        }
        rows = self._rpc("get_embedding_list", params)
        return [
            CachedEmbedding(np.asarray(codec.vector(r["embedding"]), dtype=np.float32), int(r["levenshtein_score"]))
            for r in rows
        ]

    def _do_log(self, body: dict[str, Any], user_id: uuid.UUID, room_id: uuid.UUID, type: str) -> None:
        self._insert("logs", {"body": body, "userId": str(user_id), "roomId": str(room_id), "type": type})

    def _do_search_memories(self, q: Embedding, search: MemorySearch) -> list[Memory]:
        params: dict[str, Any] = {
            "query_table_name": search.type,
            "query_embedding": codec.to_json_vector(q),
            "query_match_count": search.k,
            "query_unique": search.unique,
            "query_exact_max_rows": self.settings.exact_search_max_rows,
        }
        if search.threshold is not None:
            params["query_match_threshold"] = search.threshold
        if search.room_id is not None:
            params["query_roomId"] = str(search.room_id)
        if search.agent_id is not None:
            params["query_agentId"] = str(search.agent_id)
        return [codec.memory(r) for r in self._rpc("search_memories", params)]

    @staticmethod
    def _memory_row(m: CheckedMemory) -> dict[str, Any]:
        created = m.created_at or dt.datetime.now(dt.UTC)
        return {
            "id": str(m.id),
            "type": m.type,
            "createdAt": created.isoformat(),
            "content": okai_json.loads(m.content),
            "embedding": codec.to_json_vector(m.embedding),
            "userId": _str(m.user_id),
            "agentId": _str(m.agent_id),
            "roomId": _str(m.room_id),
            "isUnique": m.unique,
        }

    def _do_create_memory(self, memory: CheckedMemory, unique: bool) -> uuid.UUID:
        row = self._memory_row(memory)
        try:
            if unique and row["embedding"] is not None and any(row["embedding"]):
                self._rpc(
                    "check_similarity_and_insert",
                    {
                        "query_table_name": row["type"],
                        "query_userId": row["userId"],
                        "query_content": row["content"],
                        "query_roomId": row["roomId"],
                        "query_embedding": row["embedding"],
                        "query_createdAt": row["createdAt"],
                        "similarity_threshold": self.settings.duplicate_threshold,
                        "query_agentId": row["agentId"],
                        "query_id": row["id"],
                    },
                )
            else:
                self._insert("memories", row)
        except DuplicateId as exc:
            raise DuplicateId(f"a memory with id {row['id']} already exists") from exc
        return memory.id

    def _do_create_memories(self, batch: MemoryBatch) -> list[uuid.UUID]:
        self._insert("memories", [self._memory_row(m) for m in batch])  # one request, one transaction: all or none
        return batch.ids

    def _do_remove_memory(self, memory_id: uuid.UUID, memory_type: str) -> bool:
        return self._count(self._delete("memories").eq("id", str(memory_id)).eq("type", memory_type)) > 0

    def _do_remove_all_memories(self, room_id: uuid.UUID, memory_type: str) -> int:
        return int(self._rpc("remove_memories", {"query_table_name": memory_type, "query_roomId": str(room_id)}))

    def _do_count_memories(self, room_id: uuid.UUID, memory_type: str, unique: bool) -> int:
        params = {"query_table_name": memory_type, "query_roomId": str(room_id), "query_unique": unique}
        return int(self._rpc("count_memories", params))

    # -- goals ----------------------------------------------------------------------------------------------
    def _do_get_goals(
        self, room_id: uuid.UUID, user_id: uuid.UUID | None, only_in_progress: bool, limit: int
    ) -> list[Goal]:
        q = self._table("goals").select(codec.GOAL_COLUMNS).eq("roomId", str(room_id))
        if user_id is not None:
            q = q.eq("userId", str(user_id))
        if only_in_progress:
            q = q.eq("status", GoalStatus.IN_PROGRESS.value)
        return [codec.goal(r) for r in self._execute(q.order("createdAt").order("id").limit(limit))]

    @staticmethod
    def _goal_values(goal: CheckedGoal) -> dict[str, Any]:
        return {
            "name": goal.name,
            "status": goal.status.value,
            "description": goal.description,
            "objectives": goal.objectives,
        }

    def _do_update_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> None:
        if not self._count(self._update("goals", self._goal_values(goal)).eq("id", str(goal_id))):
            raise NotFound(f"goal {goal_id} does not exist")

    def _do_update_goal_status(self, goal_id: uuid.UUID, status: GoalStatus) -> None:
        if not self._count(self._update("goals", {"status": status.value}).eq("id", str(goal_id))):
            raise NotFound(f"goal {goal_id} does not exist")

    def _do_create_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> uuid.UUID:
        row = {
            "id": str(goal_id),
            **self._goal_values(goal),
            "roomId": str(goal.room_id),
            "userId": _str(goal.user_id),
        }
        try:
            self._insert("goals", row)
        except DuplicateId as exc:
            raise DuplicateId(f"a goal with id {goal_id} already exists") from exc
        return goal_id

    def _do_remove_goal(self, goal_id: uuid.UUID) -> bool:
        return self._count(self._delete("goals").eq("id", str(goal_id))) > 0

    def _do_remove_all_goals(self, room_id: uuid.UUID) -> int:
        return self._count(self._delete("goals").eq("roomId", str(room_id)))

    # -- rooms and participants -----------------------------------------------------------------------------
    def _do_get_room(self, room_id: uuid.UUID) -> uuid.UUID | None:
        rows = self._execute(self._table("rooms").select("id").eq("id", str(room_id)))
        return uuid.UUID(rows[0]["id"]) if rows else None

    def _do_create_room(self, room_id: uuid.UUID) -> uuid.UUID:
        try:
            rows = self._rpc("create_room", {"roomId": str(room_id)})
        except DuplicateId as exc:
            raise DuplicateId(f"room {room_id} already exists") from exc
        return uuid.UUID(rows[0]["id"])

    def _do_remove_room(self, room_id: uuid.UUID) -> None:
        rid = str(room_id)
        try:
            # One transaction that locks the room first, like the other adapters: a concurrent insert lands before
            # or fails with NotFound, and never makes remove_room say NotFound while the room exists.
            rows = self._rpc("remove_room", {"query_roomId": rid})
        except FeatureNotAvailable:
            rows = None  # a project migrated before the function existed: one request a table, as before
        if rows is not None:
            if not (rows and rows[0].get("removed")):
                raise NotFound(f"room {rid} does not exist")
            return
        for table in ("memories", "participants", "goals", "logs"):  # the spec's foreign keys do not cascade
            self._count(self._delete(table).eq("roomId", rid))
        if not self._count(self._delete("rooms").eq("id", rid)):
            raise NotFound(f"room {rid} does not exist")

    def _do_get_rooms_for_participant(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = self._execute(self._table("participants").select("roomId").eq("userId", str(user_id)).order("roomId"))
        return [uuid.UUID(r["roomId"]) for r in rows]

    def _do_get_rooms_for_participants(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        rows = self._execute(self._table("participants").select("roomId").in_("userId", [str(i) for i in user_ids]))
        return sorted({uuid.UUID(r["roomId"]) for r in rows})

    def _do_add_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        try:
            self._insert("participants", {"userId": str(user_id), "roomId": str(room_id)})
        except DuplicateId:
            return False
        return True

    def _do_remove_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        return self._count(self._delete("participants").eq("userId", str(user_id)).eq("roomId", str(room_id))) > 0

    def _do_get_participants_for_account(self, user_id: uuid.UUID) -> list[Participant]:
        rows = self._execute(
            self._table("participants")
            .select("id,userId,roomId,userState,last_message_read,joinedAt")
            .eq("userId", str(user_id))
            .order("roomId")
        )
        return [rows_.participant(r, codec.timestamp) for r in rows]

    def _do_get_participants_for_room(self, room_id: uuid.UUID) -> list[uuid.UUID]:
        rows = self._execute(self._table("participants").select("userId").eq("roomId", str(room_id)).order("userId"))
        return [uuid.UUID(x["userId"]) for x in rows]

    def _do_get_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID) -> UserState | None:
        rows = self._execute(
            self._table("participants").select("userState").eq("roomId", str(room_id)).eq("userId", str(user_id))
        )
        return UserState(rows[0]["userState"]) if rows and rows[0]["userState"] else None

    def _do_set_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID, state: str | None) -> None:
        r, u = str(room_id), str(user_id)
        if not self._count(self._update("participants", {"userState": state}).eq("roomId", r).eq("userId", u)):
            raise NotFound(f"account {u} does not take part in room {r}")

    # -- relationships --------------------------------------------------------------------------------------
    def _do_create_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> bool:
        a, b = str(user_a), str(user_b)
        self._insert("relationships", {"id": str(uuid.uuid4()), "userA": a, "userB": b, "userId": a})
        return True

    def _do_get_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> Relationship | None:
        a, b = user_a, user_b
        rows = self._execute(
            self._table("relationships")
            .select(codec.RELATIONSHIP_COLUMNS)
            .or_(f"and(userA.eq.{a},userB.eq.{b}),and(userA.eq.{b},userB.eq.{a})")
            .order("createdAt")
            .order("id")
            .limit(1)
        )
        return rows_.relationship(rows[0], codec.timestamp) if rows else None

    def _do_get_relationships(self, user_id: uuid.UUID) -> list[Relationship]:
        u = user_id
        rows = self._execute(
            self._table("relationships")
            .select(codec.RELATIONSHIP_COLUMNS)
            .or_(f"userA.eq.{u},userB.eq.{u}")
            .order("createdAt")
            .order("id")
        )
        return [rows_.relationship(r, codec.timestamp) for r in rows]

    # -- knowledge ------------------------------------------------------------------------------------------
    def _do_get_knowledge(self, agent_id: uuid.UUID, id: uuid.UUID | None, limit: int | None) -> list[KnowledgeItem]:
        q = self._table("knowledge").select(codec.KNOWLEDGE_COLUMNS).or_(f"agentId.eq.{agent_id},isShared.is.true")
        if id is not None:
            q = q.eq("id", str(id))
        q = q.order("createdAt", desc=True).order("id")
        if limit is not None:
            q = q.limit(limit)
        return [codec.knowledge(r) for r in self._execute(q)]

    def _do_search_knowledge(self, agent_id: uuid.UUID, q: Embedding, threshold: float, k: int) -> list[KnowledgeItem]:
        params = {
            "query_agent_id": str(agent_id),
            "query_embedding": codec.to_json_vector(q),
            "match_threshold": threshold,
            "match_count": k,
        }
        return [codec.knowledge(r) for r in self._rpc("search_knowledge", params)]

    def _do_create_knowledge(self, knowledge: CheckedKnowledge) -> None:
        row = {
            "id": str(knowledge.id),
            "agentId": _str(knowledge.agent_id),
            "content": knowledge.content,
            "embedding": codec.to_json_vector(knowledge.embedding),
            "isMain": knowledge.is_main,
            "originalId": _str(knowledge.original_id),
            "chunkIndex": knowledge.chunk_index,
            "isShared": knowledge.is_shared,
        }
        try:
            self._insert("knowledge", row)
        except DuplicateId as exc:
            raise DuplicateId(f"knowledge item {row['id']} already exists") from exc

    def _do_remove_knowledge(self, knowledge_id: uuid.UUID) -> bool:
        kid = knowledge_id
        return self._count(self._delete("knowledge").or_(f"id.eq.{kid},originalId.eq.{kid}")) > 0

    def _do_clear_knowledge(self, agent_id: uuid.UUID, shared: bool) -> int:
        condition = f"agentId.eq.{agent_id},isShared.is.true" if shared else f"agentId.eq.{agent_id}"
        return self._count(self._delete("knowledge").or_(condition))

    # -- cache ----------------------------------------------------------------------------------------------
    def _do_get_cache(self, key: str, agent_id: uuid.UUID) -> str | None:
        rows = self._execute(self._table("cache").select("value").eq("key", key).eq("agentId", str(agent_id)))
        if not rows:
            return None
        value = rows[0]["value"]
        return value if isinstance(value, str) else okai_json.dumps(value)

    def _do_set_cache(self, key: str, agent_id: uuid.UUID, value: str) -> bool:
        from postgrest.types import ReturnMethod

        row = {"key": key, "agentId": str(agent_id), "value": value}
        self._execute(self._table("cache").upsert(row, on_conflict="key,agentId", returning=ReturnMethod.minimal))
        return True

    def _do_delete_cache(self, key: str, agent_id: uuid.UUID) -> bool:
        return self._count(self._delete("cache").eq("key", key).eq("agentId", str(agent_id))) > 0


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _same(value: Any) -> Any:
    return value
