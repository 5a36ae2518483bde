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
from collections.abc import Sequence
from typing import Any

import numpy as np

from okai_insight import _json as okai_json
from okai_insight.adapters import _supabase_rest_codec as codec
from okai_insight.adapters._supabase_base import SupabaseAdapter
from okai_insight.adapters.base import IdLike, Vector
from okai_insight.errors import (
    ConfigurationError,
    ConnectionFailed,
    DuplicateId,
    FeatureNotAvailable,
    InvalidInput,
    NotFound,
    SchemaDimensionMismatch,
    SchemaError,
)
from okai_insight.models import (
    Account,
    Actor,
    CachedEmbedding,
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
from okai_insight.validation import (
    check_cache_value,
    check_content,
    check_count,
    check_embedding,
    check_goal_status,
    check_id,
    check_ids,
    check_indexed_text,
    check_optional_id,
    check_table_name,
    check_text,
    check_threshold,
    check_timestamp,
    check_user_state,
)


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

    def _memory_type(self, value: Any) -> str:
        return check_table_name(value, self.settings.memory_tables)

    # -- accounts -------------------------------------------------------------------------------------------
    def get_account_by_id(self, user_id: IdLike) -> Account | None:
        u = str(check_id(user_id, "user_id"))
        rows = self._execute(
            self._table("accounts").select("id,name,username,email,avatarUrl,details,createdAt").eq("id", u)
        )
        if not rows:
            return None
        r = rows[0]
        return Account(
            uuid.UUID(r["id"]),
            r["name"],
            r["username"],
            r["email"],
            r["avatarUrl"],
            r["details"] or {},
            codec.timestamp(r["createdAt"]),
        )

    def create_account(self, account: Account) -> bool:
        aid = check_id(account.id, "account.id")
        for name in ("name", "avatar_url"):
            check_text(getattr(account, name), f"account.{name}", optional=True)
        check_indexed_text(account.username, "account.username", optional=True)  # one limit on every adapter
        check_indexed_text(account.email, "account.email")
        row = {
            "id": str(aid),
            "name": account.name,
            "username": account.username,
            "email": account.email,
            "avatarUrl": account.avatar_url,
            "details": check_content(account.details or {}, "account.details"),
        }
        try:
            self._insert("accounts", row)
        except DuplicateId:
            return False
        return True

    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        rid = str(check_id(room_id, "room_id"))
        rows = self._execute(self._table("participants").select("accounts(id,name,username,details)").eq("roomId", rid))
        actors = [
            Actor(uuid.UUID(a["id"]), a["name"], a["username"], a["details"] or {})
            for a in (r["accounts"] for r in rows)
            if a
        ]
        return sorted(actors, key=lambda a: (a.name is None, a.name or "", str(a.id)))

    # -- memories -------------------------------------------------------------------------------------------
    def get_memories(
        self,
        room_id: IdLike,
        table_name: str,
        *,
        count: int | None = None,
        unique: bool = False,
        agent_id: IdLike | None = None,
        start: dt.datetime | int | None = None,
        end: dt.datetime | int | None = None,
        before: tuple[dt.datetime, IdLike] | None = None,
    ) -> list[Memory]:
        memory_type, rid = self._memory_type(table_name), str(check_id(room_id, "room_id"))
        aid = check_optional_id(agent_id, "agent_id")
        limit = check_count(count) if count is not None else None
        bounds = [_iso(v, n) if v is not None else None for v, n in ((start, "start"), (end, "end"))]
        if before is not None and (not isinstance(before, tuple) or len(before) != 2):
            raise InvalidInput("before must be a (created_at, id) tuple from the previous page's last row")
        cursor = None if before is None else (_iso(before[0], "before[0]"), check_id(before[1], "before[1]"))
        q = self._table("memories").select(codec.MEMORY_COLUMNS).eq("type", memory_type).eq("roomId", rid)
        if aid is not None:
            q = q.eq("agentId", str(aid))
        if unique:
            q = q.eq("isUnique", True)
        if bounds[0] is not None:
            q = q.gte("createdAt", bounds[0])
        if bounds[1] is not None:
            q = q.lte("createdAt", bounds[1])
        if cursor is not None:
            ts, bid = cursor
            q = q.or_(f'createdAt.lt."{ts}",and(createdAt.eq."{ts}",id.lt.{bid})')
        q = q.order("createdAt", desc=True).order("id", desc=True)
        if limit is not None:
            q = q.limit(limit)
        return [codec.memory(r) for r in self._execute(q)]

    def get_memory_by_id(self, memory_id: IdLike) -> Memory | None:
        mid = str(check_id(memory_id, "memory_id"))
        rows = self._execute(self._table("memories").select(codec.MEMORY_COLUMNS).eq("id", mid))
        return codec.memory(rows[0]) if rows else None

    def get_memories_by_ids(self, memory_ids: Sequence[IdLike], table_name: str | None = None) -> list[Memory]:
        ids = check_ids(memory_ids, "memory_ids")
        if not ids:
            return []
        q = self._table("memories").select(codec.MEMORY_COLUMNS).in_("id", [str(i) for i in ids])
        if table_name is not None:
            q = q.eq("type", self._memory_type(table_name))
        return [codec.memory(r) for r in self._execute(q.order("createdAt", desc=True).order("id"))]

    def get_memories_by_room_ids(
        self,
        room_ids: Sequence[IdLike],
        table_name: str,
        *,
        agent_id: IdLike | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        rooms = check_ids(room_ids, "room_ids")
        memory_type = self._memory_type(table_name)
        aid = check_optional_id(agent_id, "agent_id")
        n = check_count(limit, "limit") if limit is not None else None
        if not rooms:
            return []
        q = self._table("memories").select(codec.MEMORY_COLUMNS).eq("type", memory_type)
        q = q.in_("roomId", [str(r) for r in rooms])
        if aid is not None:
            q = q.eq("agentId", str(aid))
        q = q.order("createdAt", desc=True).order("id", desc=True)
        if n is not None:
            q = q.limit(n)
        return [codec.memory(r) for r in self._execute(q)]

    def get_cached_embeddings(
        self,
        *,
        query_table_name: str,
        query_threshold: int,
        query_input: str,
        query_field_name: str,
        query_field_sub_name: str,
        query_match_count: int,
    ) -> list[CachedEmbedding]:
        params = {
            "query_table_name": self._memory_type(query_table_name),
            "query_threshold": check_count(query_threshold, "query_threshold", maximum=255),
            "query_input": (check_text(query_input, "query_input") or "")[:255],
            "query_field_name": check_text(query_field_name, "query_field_name", max_chars=200),
            "query_field_sub_name": check_text(query_field_sub_name, "query_field_sub_name", max_chars=200),
            "query_match_count": check_count(query_match_count, "query_match_count"),
        }
        rows = self._rpc("get_embedding_list", params)
        return [
            CachedEmbedding(np.asarray(codec.vector(r["embedding"]), dtype=np.float32), int(r["levenshtein_score"]))
            for r in rows
        ]

    def log(self, *, body: dict[str, Any], user_id: IdLike, room_id: IdLike, type: str) -> None:
        row = {
            "body": check_content(body, "body"),
            "userId": str(check_id(user_id, "user_id")),
            "roomId": str(check_id(room_id, "room_id")),
            "type": check_text(type, "type", max_chars=200),
        }
        self._insert("logs", row)

    def search_memories_by_embedding(
        self,
        embedding: Vector,
        *,
        table_name: str,
        match_threshold: float | None = None,
        count: int = 10,
        room_id: IdLike | None = None,
        agent_id: IdLike | None = None,
        unique: bool = False,
    ) -> list[Memory]:
        q = check_embedding(embedding, self.embedding_dimension, allow_zero=False)
        params: dict[str, Any] = {
            "query_table_name": self._memory_type(table_name),
            "query_embedding": codec.to_json_vector(q),
            "query_match_count": check_count(count, "count", minimum=1, maximum=10_000),
            "query_unique": bool(unique),
            "query_exact_max_rows": self.settings.exact_search_max_rows,
        }
        if match_threshold is not None:
            params["query_match_threshold"] = check_threshold(match_threshold)
        rid, aid = check_optional_id(room_id, "room_id"), check_optional_id(agent_id, "agent_id")
        if rid is not None:
            params["query_roomId"] = str(rid)
        if aid is not None:
            params["query_agentId"] = str(aid)
        return [codec.memory(r) for r in self._rpc("search_memories", params)]

    def _memory_row(self, memory: Memory, memory_type: str) -> dict[str, Any]:
        if not isinstance(memory, Memory):
            raise InvalidInput(f"expected a Memory, got {type(memory).__name__}")
        emb = None if memory.embedding is None else check_embedding(memory.embedding, self.embedding_dimension)
        mid = check_id(memory.id, "memory.id") if memory.id is not None else uuid.uuid4()
        created = _iso(memory.created_at, "memory.created_at") if memory.created_at is not None else None
        return {
            "id": str(mid),
            "type": memory_type,
            "createdAt": created or dt.datetime.now(dt.UTC).isoformat(),
            "content": check_content(memory.content, "memory.content"),
            "embedding": codec.to_json_vector(emb),
            "userId": _str(check_optional_id(memory.user_id, "memory.user_id")),
            "agentId": _str(check_optional_id(memory.agent_id, "memory.agent_id")),
            "roomId": _str(check_optional_id(memory.room_id, "memory.room_id")),
            "isUnique": bool(memory.unique),
        }

    def create_memory(self, memory: Memory, table_name: str, unique: bool = False) -> uuid.UUID:
        row = self._memory_row(memory, self._memory_type(table_name))
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
        return uuid.UUID(row["id"])

    def create_memories(self, memories: Sequence[Memory], table_name: str) -> list[uuid.UUID]:
        memory_type = self._memory_type(table_name)
        rows = [self._memory_row(m, memory_type) for m in memories]
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        if len(set(ids)) != len(ids):
            raise DuplicateId("the batch holds the same memory id twice")
        self._insert("memories", rows)  # one request, one transaction: all rows or none
        return [uuid.UUID(i) for i in ids]

    def remove_memory(self, memory_id: IdLike, table_name: str) -> bool:
        mid, memory_type = str(check_id(memory_id, "memory_id")), self._memory_type(table_name)
        return self._count(self._delete("memories").eq("id", mid).eq("type", memory_type)) > 0

    def remove_all_memories(self, room_id: IdLike, table_name: str) -> int:
        params = {"query_table_name": self._memory_type(table_name), "query_roomId": str(check_id(room_id, "room_id"))}
        return int(self._rpc("remove_memories", params))

    def count_memories(self, room_id: IdLike, unique: bool = True, table_name: str = "") -> int:
        params = {
            "query_table_name": self._memory_type(table_name),
            "query_roomId": str(check_id(room_id, "room_id")),
            "query_unique": bool(unique),
        }
        return int(self._rpc("count_memories", params))

    # -- goals ----------------------------------------------------------------------------------------------
    def get_goals(
        self,
        room_id: IdLike,
        *,
        user_id: IdLike | None = None,
        only_in_progress: bool = True,
        count: int = 5,
        agent_id: IdLike | None = None,
    ) -> list[Goal]:
        rid = str(check_id(room_id, "room_id"))
        uid = check_optional_id(user_id, "user_id")
        n = check_count(count)
        check_optional_id(agent_id, "agent_id")  # ElizaOS accepts it; goals have no agent column
        q = self._table("goals").select(codec.GOAL_COLUMNS).eq("roomId", rid)
        if uid is not None:
            q = q.eq("userId", str(uid))
        if only_in_progress:
            q = q.eq("status", GoalStatus.IN_PROGRESS.value)
        return [codec.goal(r) for r in self._execute(q.order("createdAt").order("id").limit(n))]

    def _goal_row(self, goal: Goal) -> dict[str, Any]:
        if not isinstance(goal, Goal):
            raise InvalidInput(f"expected a Goal, got {type(goal).__name__}")
        check_text(goal.name, "goal.name")
        check_text(goal.description, "goal.description", optional=True)
        objectives = [
            {
                k: v
                for k, v in {"id": o.id, "description": o.description, "completed": bool(o.completed)}.items()
                if v is not None
            }
            for o in goal.objectives
        ]
        check_content({"objectives": objectives}, "goal")
        return {
            "name": goal.name,
            "status": check_goal_status(goal.status).value,
            "description": goal.description,
            "objectives": objectives,
            "roomId": str(check_id(goal.room_id, "goal.room_id")),
            "userId": _str(check_optional_id(goal.user_id, "goal.user_id")),
        }

    def update_goal(self, goal: Goal) -> None:
        gid = str(check_id(goal.id, "goal.id"))
        row = self._goal_row(goal)
        values = {k: row[k] for k in ("name", "status", "description", "objectives")}
        if not self._count(self._update("goals", values).eq("id", gid)):
            raise NotFound(f"goal {gid} does not exist")

    def update_goal_status(self, goal_id: IdLike, status: GoalStatus | str) -> None:
        gid = str(check_id(goal_id, "goal_id"))
        if not self._count(self._update("goals", {"status": check_goal_status(status).value}).eq("id", gid)):
            raise NotFound(f"goal {gid} does not exist")

    def create_goal(self, goal: Goal) -> uuid.UUID:
        gid = check_id(goal.id, "goal.id") if goal.id is not None else uuid.uuid4()
        row = {"id": str(gid), **self._goal_row(goal)}
        try:
            self._insert("goals", row)
        except DuplicateId as exc:
            raise DuplicateId(f"a goal with id {gid} already exists") from exc
        return gid

    def remove_goal(self, goal_id: IdLike) -> bool:
        gid = str(check_id(goal_id, "goal_id"))
        return self._count(self._delete("goals").eq("id", gid)) > 0

    def remove_all_goals(self, room_id: IdLike) -> int:
        rid = str(check_id(room_id, "room_id"))
        return self._count(self._delete("goals").eq("roomId", rid))

    # -- rooms and participants -----------------------------------------------------------------------------
    def get_room(self, room_id: IdLike) -> uuid.UUID | None:
        rid = str(check_id(room_id, "room_id"))
        rows = self._execute(self._table("rooms").select("id").eq("id", rid))
        return uuid.UUID(rows[0]["id"]) if rows else None

    def create_room(self, room_id: IdLike | None = None) -> uuid.UUID:
        rid = check_id(room_id, "room_id") if room_id is not None else uuid.uuid4()
        try:
            rows = self._rpc("create_room", {"roomId": str(rid)})
        except DuplicateId as exc:
            raise DuplicateId(f"room {rid} already exists") from exc
        return uuid.UUID(rows[0]["id"])

    def remove_room(self, room_id: IdLike) -> None:
        rid = str(check_id(room_id, "room_id"))
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

    def get_rooms_for_participant(self, user_id: IdLike) -> list[uuid.UUID]:
        u = str(check_id(user_id, "user_id"))
        rows = self._execute(self._table("participants").select("roomId").eq("userId", u).order("roomId"))
        return [uuid.UUID(r["roomId"]) for r in rows]

    def get_rooms_for_participants(self, user_ids: Sequence[IdLike]) -> list[uuid.UUID]:
        ids = check_ids(user_ids, "user_ids")
        if not ids:
            return []
        rows = self._execute(self._table("participants").select("roomId").in_("userId", [str(i) for i in ids]))
        return sorted({uuid.UUID(r["roomId"]) for r in rows})

    def add_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        row = {"userId": str(check_id(user_id, "user_id")), "roomId": str(check_id(room_id, "room_id"))}
        try:
            self._insert("participants", row)
        except DuplicateId:
            return False
        return True

    def remove_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        u, r = str(check_id(user_id, "user_id")), str(check_id(room_id, "room_id"))
        return self._count(self._delete("participants").eq("userId", u).eq("roomId", r)) > 0

    def get_participants_for_account(self, user_id: IdLike) -> list[Participant]:
        u = str(check_id(user_id, "user_id"))
        rows = self._execute(
            self._table("participants")
            .select("id,userId,roomId,userState,last_message_read,joinedAt")
            .eq("userId", u)
            .order("roomId")
        )
        return [
            Participant(
                uuid.UUID(r["id"]),
                uuid.UUID(r["userId"]),
                uuid.UUID(r["roomId"]),
                UserState(r["userState"]) if r["userState"] else None,
                r["last_message_read"],
                codec.timestamp(r["joinedAt"]),
            )
            for r in rows
        ]

    def get_participants_for_room(self, room_id: IdLike) -> list[uuid.UUID]:
        r = str(check_id(room_id, "room_id"))
        rows = self._execute(self._table("participants").select("userId").eq("roomId", r).order("userId"))
        return [uuid.UUID(x["userId"]) for x in rows]

    def get_participant_user_state(self, room_id: IdLike, user_id: IdLike) -> UserState | None:
        r, u = str(check_id(room_id, "room_id")), str(check_id(user_id, "user_id"))
        rows = self._execute(self._table("participants").select("userState").eq("roomId", r).eq("userId", u))
        return UserState(rows[0]["userState"]) if rows and rows[0]["userState"] else None

    def set_participant_user_state(self, room_id: IdLike, user_id: IdLike, state: UserState | str | None) -> None:
        r, u = str(check_id(room_id, "room_id")), str(check_id(user_id, "user_id"))
        value = check_user_state(state)
        if not self._count(self._update("participants", {"userState": value}).eq("roomId", r).eq("userId", u)):
            raise NotFound(f"account {u} does not take part in room {r}")

    # -- relationships --------------------------------------------------------------------------------------
    def create_relationship(self, user_a: IdLike, user_b: IdLike) -> bool:
        a, b = str(check_id(user_a, "user_a")), str(check_id(user_b, "user_b"))
        self._insert("relationships", {"id": str(uuid.uuid4()), "userA": a, "userB": b, "userId": a})
        return True

    def get_relationship(self, user_a: IdLike, user_b: IdLike) -> Relationship | None:
        a, b = check_id(user_a, "user_a"), check_id(user_b, "user_b")
        rows = self._execute(
            self._table("relationships")
            .select(codec.RELATIONSHIP_COLUMNS)
            .or_(f"and(userA.eq.{a},userB.eq.{b}),and(userA.eq.{b},userB.eq.{a})")
            .order("createdAt")
            .order("id")
            .limit(1)
        )
        return _relationship(rows[0]) if rows else None

    def get_relationships(self, user_id: IdLike) -> list[Relationship]:
        u = check_id(user_id, "user_id")
        rows = self._execute(
            self._table("relationships")
            .select(codec.RELATIONSHIP_COLUMNS)
            .or_(f"userA.eq.{u},userB.eq.{u}")
            .order("createdAt")
            .order("id")
        )
        return [_relationship(r) for r in rows]

    # -- knowledge ------------------------------------------------------------------------------------------
    def get_knowledge(
        self, *, agent_id: IdLike, id: IdLike | None = None, limit: int | None = None
    ) -> list[KnowledgeItem]:
        aid = check_id(agent_id, "agent_id")
        kid = check_optional_id(id, "id")
        q = self._table("knowledge").select(codec.KNOWLEDGE_COLUMNS).or_(f"agentId.eq.{aid},isShared.is.true")
        if kid is not None:
            q = q.eq("id", str(kid))
        q = q.order("createdAt", desc=True).order("id")
        if limit is not None:
            q = q.limit(check_count(limit, "limit"))
        return [codec.knowledge(r) for r in self._execute(q)]

    def search_knowledge(
        self,
        *,
        agent_id: IdLike,
        embedding: Vector,
        match_threshold: float,
        match_count: int,
        search_text: str | None = None,
    ) -> list[KnowledgeItem]:
        check_text(search_text, "search_text", optional=True)
        params = {
            "query_agent_id": str(check_id(agent_id, "agent_id")),
            "query_embedding": codec.to_json_vector(
                check_embedding(embedding, self.embedding_dimension, allow_zero=False)
            ),
            "match_threshold": check_threshold(match_threshold),
            "match_count": check_count(match_count, "match_count", minimum=1, maximum=10_000),
        }
        return [codec.knowledge(r) for r in self._rpc("search_knowledge", params)]

    def create_knowledge(self, knowledge: KnowledgeItem) -> None:
        if not isinstance(knowledge, KnowledgeItem):
            raise InvalidInput(f"expected a KnowledgeItem, got {type(knowledge).__name__}")
        if knowledge.is_shared == (knowledge.agent_id is not None):
            raise InvalidInput("a shared knowledge item has no agent_id; an agent's own item must have one")
        emb = None if knowledge.embedding is None else check_embedding(knowledge.embedding, self.embedding_dimension)
        row = {
            "id": str(check_id(knowledge.id, "knowledge.id")),
            "agentId": _str(check_optional_id(knowledge.agent_id, "knowledge.agent_id")),
            "content": check_content(knowledge.content, "knowledge.content"),
            "embedding": codec.to_json_vector(emb),
            "isMain": bool(knowledge.is_main),
            "originalId": _str(check_optional_id(knowledge.original_id, "knowledge.original_id")),
            "chunkIndex": None
            if knowledge.chunk_index is None
            else check_count(knowledge.chunk_index, "chunk_index", maximum=10**9),
            "isShared": bool(knowledge.is_shared),
        }
        try:
            self._insert("knowledge", row)
        except DuplicateId as exc:
            raise DuplicateId(f"knowledge item {row['id']} already exists") from exc

    def remove_knowledge(self, knowledge_id: IdLike) -> bool:
        kid = check_id(knowledge_id, "knowledge_id")
        return self._count(self._delete("knowledge").or_(f"id.eq.{kid},originalId.eq.{kid}")) > 0

    def clear_knowledge(self, agent_id: IdLike, shared: bool = False) -> int:
        aid = check_id(agent_id, "agent_id")
        condition = f"agentId.eq.{aid},isShared.is.true" if shared else f"agentId.eq.{aid}"
        return self._count(self._delete("knowledge").or_(condition))

    # -- cache ----------------------------------------------------------------------------------------------
    def _cache_key(self, key: Any, agent_id: Any) -> tuple[str, str]:
        return check_indexed_text(key, "key") or "", str(check_id(agent_id, "agent_id"))

    def get_cache(self, *, key: str, agent_id: IdLike) -> str | None:
        k, a = self._cache_key(key, agent_id)
        rows = self._execute(self._table("cache").select("value").eq("key", k).eq("agentId", a))
        if not rows:
            return None
        value = rows[0]["value"]
        return value if isinstance(value, str) else _json(value)

    def set_cache(self, *, key: str, agent_id: IdLike, value: str) -> bool:
        from postgrest.types import ReturnMethod

        k, a = self._cache_key(key, agent_id)
        v = check_cache_value(value)
        row = {"key": k, "agentId": a, "value": v}
        self._execute(self._table("cache").upsert(row, on_conflict="key,agentId", returning=ReturnMethod.minimal))
        return True

    def delete_cache(self, *, key: str, agent_id: IdLike) -> bool:
        k, a = self._cache_key(key, agent_id)
        return self._count(self._delete("cache").eq("key", k).eq("agentId", a)) > 0


def _str(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


def _json(value: Any) -> str:
    return okai_json.dumps(value)


def _iso(value: Any, name: str) -> str:
    """A timestamp parameter in PostgREST's form, ISO 8601 (callers pass ``None`` through themselves)."""
    checked = check_timestamp(value, name)
    if checked is None:
        raise InvalidInput(f"{name} must be a datetime or epoch milliseconds, got None")
    return checked.isoformat()


def _relationship(r: dict[str, Any]) -> Relationship:
    return Relationship(
        uuid.UUID(r["id"]),
        uuid.UUID(r["userA"]),
        uuid.UUID(r["userB"]),
        uuid.UUID(r["userId"]),
        r["status"],
        codec.timestamp(r["createdAt"]),
    )
