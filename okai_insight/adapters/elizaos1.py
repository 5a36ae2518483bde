"""A read-only handle on an ElizaOS 1.x database (``@elizaos/plugin-sql`` 1.7.x): the contract's reads against
the 1.x schema, every write refused with :class:`~okai_insight.errors.ReadOnlySchema`.

``okai_insight.connect(url)`` returns one when the database is 1.x (docs/elizaos1.md). Its connection is read-only
at the server (``default_transaction_read_only``), so even a bug here cannot write. 1.x names are mapped to the
contract's: ``entity_id`` is ``user_id``, ``room_state`` the participant's state, a relationship's ``tags`` its
``status`` (comma-joined); agents and entities are accounts. Vectors live in ``embeddings.dim_N``, one column per
dimension, chosen per agent: a search uses the column of the caller's dimension (``dimension=``, the search's or
the handle's ``agent_id``, or the only one in use) and raises :class:`~okai_insight.errors.MixedDimensions` when
that is ambiguous. Similarity is cosine, as on every adapter; zero vectors are never matched (1.x itself returns
them first, with similarity NaN).

The same mapping, as one SELECT per okai-insight table (:func:`okai_view`), is what ``okai-insight copy`` reads.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect("postgresql://localhost/eliza")       # doctest: +SKIP
    >>> type(db).__name__, db.dimensions                                  # doctest: +SKIP
    ('ElizaOS1Reader', (384,))
    >>> db.create_room()                                                  # doctest: +SKIP
    Traceback (most recent call last):
    okai_insight.errors.ReadOnlySchema: create_room refused: this is an ElizaOS 1.x (@elizaos/plugin-sql) ...
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from okai_insight.adapters._checked import CheckedGoal, CheckedKnowledge, CheckedMemory, MemoryBatch
from okai_insight.adapters._pg_connect import connection_kwargs, set_session_timeouts
from okai_insight.adapters.base import (
    MAX_SEARCH_COUNT,
    CacheQuery,
    IdLike,
    KeysetPaging,
    MemoryPage,
    MemorySearch,
    Vector,
)
from okai_insight.errors import (
    FeatureNotAvailable,
    MixedDimensions,
    ReadOnlySchema,
    SchemaDimensionMismatch,
    SchemaError,
    pg_error,
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
from okai_insight.schema._profile import ELIZAOS1_NAME, SchemaProfile, read_profile
from okai_insight.settings import Settings
from okai_insight.validation import check_count, check_embedding, check_optional_id, check_threshold

#: 1.x memory types that are knowledge (a document and its fragments), not conversation.
KNOWLEDGE_TYPES = ("documents", "knowledge", "fragments")

# -- the mapping: one SELECT per okai-insight table, in okai-insight's column names --------------------------------
# %(agent)s (uuid or NULL) limits every view to one agent's rows. Timestamps without time zone are UTC (Drizzle
# writes toISOString()). Vectors come as real[] so that no driver type registration is needed.
_VIEWS: dict[str, str] = {
    "accounts": """
        SELECT e.id, COALESCE(a.created_at, e.created_at AT TIME ZONE 'UTC') AS "createdAt",
               COALESCE(a.name, e.names[1]) AS name, a.username AS username,
               e.id::text || '@elizaos1.invalid' AS email, NULL::text AS "avatarUrl",
               jsonb_build_object('names', to_jsonb(e.names), 'metadata', e.metadata, 'agentId', e.agent_id)
                   AS details
        FROM entities AS e
        LEFT JOIN agents AS a ON a.id = e.id
        WHERE (%(agent)s::uuid IS NULL OR e.agent_id = %(agent)s::uuid)
        UNION ALL
        SELECT a.id, a.created_at, a.name, a.username, a.id::text || '@elizaos1.invalid', NULL::text,
               jsonb_build_object('names', jsonb_build_array(a.name), 'metadata', '{{}}'::jsonb, 'agentId', a.id)
        FROM agents AS a
        WHERE NOT EXISTS (SELECT 1 FROM entities AS e WHERE e.id = a.id)
          AND (%(agent)s::uuid IS NULL OR a.id = %(agent)s::uuid)
    """,
    "rooms": """
        SELECT r.id, r.created_at AT TIME ZONE 'UTC' AS "createdAt"
        FROM rooms AS r
        WHERE (%(agent)s::uuid IS NULL OR r.agent_id = %(agent)s::uuid)
    """,
    "memories": """
        SELECT m.id, m.type, m.created_at AT TIME ZONE 'UTC' AS "createdAt", m.content,
               e.{dim}::real[] AS embedding, m.entity_id AS "userId", m.agent_id AS "agentId",
               m.room_id AS "roomId", m."unique" AS "isUnique"
        FROM memories AS m
        LEFT JOIN embeddings AS e ON e.memory_id = m.id
        WHERE m.type <> ALL(%(knowledge)s)
          AND (%(agent)s::uuid IS NULL OR m.agent_id = %(agent)s::uuid)
    """,
    "participants": """
        SELECT p.id, p.entity_id AS "userId", p.room_id AS "roomId", p.created_at AS "joinedAt",
               CASE WHEN upper(p.room_state) IN ('FOLLOWED', 'MUTED') THEN upper(p.room_state) END AS "userState",
               NULL::text AS last_message_read
        FROM participants AS p
        WHERE (%(agent)s::uuid IS NULL OR p.agent_id = %(agent)s::uuid)
    """,
    "relationships": """
        SELECT r.id, r.created_at AS "createdAt", r.source_entity_id AS "userA", r.target_entity_id AS "userB",
               NULLIF(array_to_string(r.tags, ','), '') AS status, r.agent_id AS "userId"
        FROM relationships AS r
        WHERE (%(agent)s::uuid IS NULL OR r.agent_id = %(agent)s::uuid)
    """,
    "logs": """
        SELECT l.id, l.created_at AS "createdAt", l.entity_id AS "userId", l.body, l.type, l.room_id AS "roomId"
        FROM logs AS l
        WHERE (%(agent)s::uuid IS NULL OR l.room_id IN (SELECT r.id FROM rooms AS r WHERE r.agent_id = %(agent)s::uuid))
    """,
    "cache": """
        SELECT c.key, c.agent_id::text AS "agentId", c.value, c.created_at AT TIME ZONE 'UTC' AS "createdAt",
               c.expires_at AT TIME ZONE 'UTC' AS "expiresAt"
        FROM cache AS c
        WHERE (%(agent)s::uuid IS NULL OR c.agent_id = %(agent)s::uuid)
    """,
    "knowledge": """
        SELECT m.id, m.agent_id AS "agentId", m.content, e.{dim}::real[] AS embedding,
               m.created_at AT TIME ZONE 'UTC' AS "createdAt",
               (m.type = 'documents' OR m.metadata->>'type' = 'document') AS "isMain",
               (SELECT d.id FROM memories AS d WHERE d.id::text = m.metadata->>'documentId' AND d.id <> m.id)
                   AS "originalId",
               CASE WHEN m.metadata->>'position' ~ '^[0-9]{{1,9}}$' THEN (m.metadata->>'position')::int END
                   AS "chunkIndex",
               false AS "isShared"
        FROM memories AS m
        LEFT JOIN embeddings AS e ON e.memory_id = m.id
        WHERE m.type = ANY(%(knowledge)s)
          AND (%(agent)s::uuid IS NULL OR m.agent_id = %(agent)s::uuid)
    """,
}

#: What a 1.x database holds that okai-insight's schema has no place for (``copy`` reports their row counts).
UNMAPPED_TABLES = (
    "worlds",
    "components",
    "tasks",
    "servers",
    "message_servers",
    "message_server_agents",
    "channels",
    "channel_participants",
    "central_messages",
)
#: What is dropped from the rows that are copied.
UNMAPPED_COLUMNS = (
    "memories.metadata (knowledge's documentId/position become originalId/chunkIndex) and memories.world_id",
    "agents' character (bio, system, settings, style, plugins...) and rooms' name, source, type, world_id",
    "relationships.tags become the comma-joined status; relationships.metadata",
)


def okai_view(table: str, dimension: int | None) -> sql.Composed:
    """The SELECT that reads a 1.x database as okai-insight's ``table`` (parameters ``agent``, ``knowledge``).

    Example:
        >>> "dim_384" in okai_view("memories", 384).as_string(None)
        True
    """
    # No dimension: the caller reads no vectors (or there are none); any declared column does.
    dim = sql.Identifier(f"dim_{dimension or 384}")
    return sql.SQL(_VIEWS[table]).format(dim=dim)


def view_params(agent_id: uuid.UUID | None) -> dict[str, Any]:
    """The parameters every :func:`okai_view` takes.

    Example:
        >>> view_params(None)["knowledge"]
        ['documents', 'knowledge', 'fragments']
    """
    return {"agent": agent_id, "knowledge": list(KNOWLEDGE_TYPES)}


def _refuse(action: str) -> NoReturn:
    raise ReadOnlySchema(ELIZAOS1_NAME, action, hint="okai-insight reads ElizaOS 1.x; export it with okai-insight copy")


def _vector_text(q: Embedding) -> str:
    return "[" + ",".join(repr(float(x)) for x in q) + "]"


_MEMORY_COLUMNS = """
    m.id, m.type, m.created_at AT TIME ZONE 'UTC' AS created_at, m.content, m.entity_id, m.agent_id, m.room_id,
    m."unique" AS is_unique
"""


class ElizaOS1Reader(KeysetPaging):
    """Reads an ElizaOS 1.x database through okai-insight's contract; refuses every write (:class:`ReadOnlySchema`).

    ``dimension`` or ``agent_id`` chooses the ``dim_N`` column when agents use several.

    Example:
        >>> db = ElizaOS1Reader("postgresql://localhost/eliza", agent_id=agent)   # doctest: +SKIP
        >>> db.search_memories_by_embedding(q, table_name="messages", count=3)    # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        settings: Settings | None = None,
        dimension: int | None = None,
        agent_id: IdLike | None = None,
    ) -> None:
        self.url = url
        self.settings = settings or Settings.from_env()
        self._requested = dimension
        self.agent_id = check_optional_id(agent_id, "agent_id")
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None
        self.profile = SchemaProfile(flavor="empty")

    # -- lifecycle --------------------------------------------------------------------------------------------
    def init(self) -> None:
        """Open the read-only connection and read the schema profile; a requested dimension or agent is checked.

        Example:
            >>> db.init()                                      # doctest: +SKIP
        """
        if self._conn is None:
            with self._translated("connecting"):
                # PGlite (one backend) keeps no prepared statements between clients: never prepare.
                conn = psycopg.connect(
                    self.url,
                    **connection_kwargs(self.url, self.settings, autocommit=True, prepare_threshold=None),
                )
                try:
                    # Every transaction of this session is read-only at the server: a write fails there too.
                    conn.execute("SELECT set_config('default_transaction_read_only', 'on', false)")
                    set_session_timeouts(conn, self.settings)
                    profile = read_profile(conn)
                except BaseException:
                    conn.close()
                    raise
            self._conn, self.profile = conn, profile
        try:
            self._check_request()
        except BaseException:
            self.close()  # a refused handle leaves no connection open
            raise

    def _check_request(self) -> None:
        if self.profile.flavor != "elizaos1":
            raise SchemaError(f"not an {ELIZAOS1_NAME} database (its schema looks {self.profile.display_name})")
        if self._requested is not None and self._requested not in self.profile.dimensions:
            stored = self.profile.dimensions[0] if len(self.profile.dimensions) == 1 else 0
            if stored:
                raise SchemaDimensionMismatch(requested=self._requested, stored=stored)
            raise MixedDimensions(self.profile.dimensions, f"dimension {self._requested}", "it is not one of them")
        if self.agent_id is not None and not self._agent_dimensions(self.agent_id) and not self._agent_exists():
            raise FeatureNotAvailable(f"{ELIZAOS1_NAME}: no agent {self.agent_id} in this database")

    def select_agent(self, agent_id: IdLike) -> None:
        """Limit the mapped views (what ``copy`` reads) to one agent, and take its dimension; FeatureNotAvailable
        when there is no such agent.

        Example:
            >>> db.select_agent(agent_id)                       # doctest: +SKIP
        """
        self.agent_id = check_optional_id(agent_id, "agent_id")
        if self._conn is None:
            self.init()
        else:
            self._check_request()

    def close(self) -> None:
        """Close the connection. Idempotent.

        Example:
            >>> db.close()                                     # doctest: +SKIP
        """
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    # -- dimensions ---------------------------------------------------------------------------------------------
    @property
    def dimensions(self) -> tuple[int, ...]:
        """The dimensions this database's vectors have (from the data, per agent).

        Example:
            >>> db.dimensions                                  # doctest: +SKIP
            (384, 768)
        """
        return self.profile.dimensions

    def _agent_dimensions(self, agent_id: uuid.UUID) -> list[int]:
        return sorted({dim for agent, dim in self.profile.agent_dimensions if agent == str(agent_id)})

    def _agent_exists(self) -> bool:
        rows = self._rows("SELECT 1 AS one FROM agents WHERE id = %(a)s", {"a": self.agent_id})
        return bool(rows)

    def dimension_for(self, agent_id: uuid.UUID | None = None, action: str = "reading vectors") -> int:
        """The ``dim_N`` column a vector read uses: the agent's (the call's, else the handle's), else the requested
        one, else the only one in use; :class:`MixedDimensions` when several remain.

        Example:
            >>> db.dimension_for(agent_id)                      # doctest: +SKIP
            768
        """
        for agent in (agent_id, self.agent_id):
            if agent is not None:
                dims = self._agent_dimensions(agent)
                if len(dims) == 1:
                    return dims[0]
        if self._requested is not None:
            return self._requested
        dims = list(self.profile.dimensions)
        if len(dims) == 1:
            return dims[0]
        if not dims:
            raise FeatureNotAvailable(f"{action}: this {ELIZAOS1_NAME} database holds no embeddings yet")
        raise MixedDimensions(tuple(dims), action, "pass dimension= to connect(), or an agent_id")

    @property
    def embedding_dimension(self) -> int:  # type: ignore[override]  # read from the data, never set
        return self.dimension_for()

    # -- SQL ------------------------------------------------------------------------------------------------------
    @contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """Every driver error leaves as an okai error naming the schema (a write as ReadOnlySchema)."""
        context = f"{action} ({ELIZAOS1_NAME})"
        try:
            yield
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            raise ReadOnlySchema(ELIZAOS1_NAME, action) from exc
        except psycopg.Error as exc:
            mapped = pg_error(exc, context)
            if mapped is None:  # e.g. UndefinedColumn: a 1.x version whose schema differs from the one we know
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                mapped = SchemaError(f"{context}: {first}")
            raise mapped from exc

    def _rows(self, query: str | sql.SQL | sql.Composed, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        if self._conn is None:
            self.init()
        assert self._conn is not None
        with self._lock, self._translated("reading"):
            with self._conn.cursor(row_factory=dict_row) as cur:
                return cur.execute(query, params or {}).fetchall()

    def fetch_view(
        self,
        table: str,
        dimension: int | None,
        *,
        where: str = "",
        after: Sequence[Any] | None = None,
        key: Sequence[str] = ("id",),
        limit: int | None = None,
        count: bool = False,
    ) -> list[dict[str, Any]]:
        """Rows of one okai-insight table as mapped from 1.x (:func:`okai_view`), keyset-paged on ``key``;
        ``where`` is a fixed condition on okai column names (from code, never from input).

        Example:
            >>> db.fetch_view("rooms", 384, limit=2)             # doctest: +SKIP
        """
        keys = sql.SQL(", ").join(sql.Identifier(k) for k in key)
        cond: list[sql.Composable] = [sql.SQL(where)] if where else []  # type: ignore[arg-type]
        params = view_params(self.agent_id)
        if after is not None:
            marks = sql.SQL(", ").join(sql.Placeholder(f"k{i}") for i in range(len(key)))
            cond.append(sql.SQL("({}) > ({})").format(keys, marks))
            params.update({f"k{i}": v for i, v in enumerate(after)})
        body = sql.SQL("count(*) AS n") if count else sql.SQL("*")
        query = sql.SQL("SELECT {} FROM ({}) AS t").format(body, okai_view(table, dimension))
        if cond:
            query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(cond)
        if not count:
            query += sql.SQL(" ORDER BY {}").format(keys)
            if limit is not None:
                query += sql.SQL(" LIMIT {}").format(sql.Literal(int(limit)))
        return self._rows(query, params)

    def count_table(self, table: str) -> int:
        """Rows of a 1.x table (for ``copy``'s summary of what has no home); 0 when it does not exist.

        Example:
            >>> db.count_table("worlds")                         # doctest: +SKIP
            2
        """
        exists = self._rows("SELECT to_regclass(%(t)s) IS NOT NULL AS ok", {"t": f"public.{table}"})
        if not exists[0]["ok"]:
            return 0
        query = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier("public", table))
        return int(self._rows(query)[0]["n"])

    def _memory_select(self, where: str, order: str = "", params: dict[str, Any] | None = None) -> list[Memory]:
        vectors = ", ".join(f"e.dim_{d}::real[]" for d in self.profile.declared_dimensions) or "NULL::real[]"
        query = (
            f"SELECT {_MEMORY_COLUMNS}, COALESCE({vectors}) AS embedding FROM memories AS m "
            f"LEFT JOIN embeddings AS e ON e.memory_id = m.id WHERE {where} {order}"
        )
        return [_memory(r) for r in self._rows(query, params)]

    # -- reads ------------------------------------------------------------------------------------------------
    def _require(self, feature: str) -> None:
        if feature == "knowledge":
            raise FeatureNotAvailable(
                f"{ELIZAOS1_NAME} keeps knowledge as memories of type 'documents' (a document) and 'knowledge' "
                "(its fragments): read them with get_memories / search_memories_by_embedding"
            )
        if feature in ("cache", "logs") and not getattr(self.profile, f"has_{feature}"):
            raise FeatureNotAvailable(f"this {ELIZAOS1_NAME} database has no {feature} table")

    def _do_get_account_by_id(self, user_id: uuid.UUID) -> Account | None:
        query = sql.SQL("SELECT * FROM ({}) AS t WHERE t.id = %(id)s").format(okai_view("accounts", None))
        rows = self._rows(query, {**view_params(None), "id": user_id})
        if not rows:
            return None
        r = rows[0]
        return Account(
            id=r["id"],
            name=r["name"],
            username=r["username"],
            email=r["email"],
            details=r["details"] or {},
            created_at=r["createdAt"],
        )

    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]:
        query = sql.SQL(
            "SELECT t.id, t.name, t.username, t.details FROM ({}) AS t "
            "JOIN participants AS p ON p.entity_id = t.id WHERE p.room_id = %(room)s ORDER BY t.name, t.id"
        ).format(okai_view("accounts", None))
        rows = self._rows(query, {**view_params(None), "room": room_id})
        return [Actor(id=r["id"], name=r["name"], username=r["username"], details=r["details"] or {}) for r in rows]

    def _do_get_memories(self, page: MemoryPage) -> list[Memory]:
        params: dict[str, Any] = {
            "type": page.type,
            "room": page.room_id,
            "agent": page.agent_id,
            "start": page.start,
            "end": page.end,
            "ts": page.before[0] if page.before else None,
            "bid": page.before[1] if page.before else None,
        }
        where = """m.type = %(type)s AND m.room_id = %(room)s
            AND (%(agent)s::uuid IS NULL OR m.agent_id = %(agent)s::uuid)
            AND (%(start)s::timestamptz IS NULL OR m.created_at AT TIME ZONE 'UTC' >= %(start)s::timestamptz)
            AND (%(end)s::timestamptz IS NULL OR m.created_at AT TIME ZONE 'UTC' <= %(end)s::timestamptz)
            AND (%(ts)s::timestamptz IS NULL
                 OR (m.created_at AT TIME ZONE 'UTC', m.id) < (%(ts)s::timestamptz, %(bid)s::uuid))"""
        if page.unique:
            where += ' AND m."unique"'
        limit = "" if page.limit is None else f" LIMIT {int(page.limit)}"
        return self._memory_select(where, "ORDER BY m.created_at DESC, m.id DESC" + limit, params)

    def _do_get_memory_by_id(self, memory_id: uuid.UUID) -> Memory | None:
        found = self._memory_select("m.id = %(id)s", "", {"id": memory_id})
        return found[0] if found else None

    def _do_get_memories_by_ids(self, ids: list[uuid.UUID], memory_type: str | None) -> list[Memory]:
        where = "m.id = ANY(%(ids)s) AND (%(type)s::text IS NULL OR m.type = %(type)s)"
        return self._memory_select(where, "ORDER BY m.created_at DESC, m.id DESC", {"ids": ids, "type": memory_type})

    def _do_get_memories_by_room_ids(
        self, room_ids: list[uuid.UUID], memory_type: str, agent_id: uuid.UUID | None, limit: int | None
    ) -> list[Memory]:
        where = (
            "m.room_id = ANY(%(rooms)s) AND m.type = %(type)s AND (%(agent)s::uuid IS NULL OR m.agent_id = %(agent)s)"
        )
        order = "ORDER BY m.created_at DESC, m.id DESC" + ("" if limit is None else f" LIMIT {int(limit)}")
        return self._memory_select(where, order, {"rooms": room_ids, "type": memory_type, "agent": agent_id})

    def _do_get_cached_embeddings(self, query: CacheQuery) -> list[CachedEmbedding]:
        dim = sql.Identifier(f"dim_{self.dimension_for(None, 'get_cached_embeddings')}")
        statement = sql.SQL(
            "SELECT e.{dim}::real[] AS embedding, "
            "levenshtein(left(m.content->%(field)s->>%(sub)s, 255), %(input)s) AS score "
            "FROM memories AS m JOIN embeddings AS e ON e.memory_id = m.id "
            "WHERE m.type = %(type)s AND e.{dim} IS NOT NULL AND m.content->%(field)s->>%(sub)s IS NOT NULL "
            "AND levenshtein(left(m.content->%(field)s->>%(sub)s, 255), %(input)s) <= %(threshold)s "
            "ORDER BY score, m.id LIMIT %(k)s"
        ).format(dim=dim)
        return [
            CachedEmbedding(embedding=np.asarray(r["embedding"], np.float32), levenshtein_score=int(r["score"]))
            for r in self._rows(statement, query.params())
        ]

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
        """Exact cosine search over the ``dim_N`` column of the agent's dimension (the search's ``agent_id``, the
        handle's, ``dimension=`` or the only one in use), joined to ``memories``; zero vectors never match.

        Example:
            >>> db.search_memories_by_embedding(q, table_name="messages", agent_id=agent, count=5)  # doctest: +SKIP
        """
        aid = check_optional_id(agent_id, "agent_id")
        dimension = self.dimension_for(aid, "searching memories")
        q = check_embedding(embedding, dimension, allow_zero=False)
        search = MemorySearch(
            type=self._memory_type(table_name),
            room_id=check_optional_id(room_id, "room_id"),
            agent_id=aid,
            threshold=None if match_threshold is None else check_threshold(match_threshold),
            k=check_count(count, "count", minimum=1, maximum=MAX_SEARCH_COUNT),
            unique=bool(unique),
        )
        return self._search(q, search, dimension)

    def _do_search_memories(self, q: Embedding, search: MemorySearch) -> list[Memory]:
        return self._search(q, search, len(q))

    def _search(self, q: Embedding, search: MemorySearch, dimension: int) -> list[Memory]:
        dim = sql.Identifier("e", f"dim_{dimension}")
        statement = sql.SQL(
            "SELECT " + _MEMORY_COLUMNS + ", {dim}::real[] AS embedding, 1 - ({dim} <=> %(q)s::vector) AS similarity "
            "FROM embeddings AS e JOIN memories AS m ON m.id = e.memory_id "
            "WHERE {dim} IS NOT NULL AND vector_norm({dim}) > 0 AND m.type = %(type)s "
            "AND (%(room)s::uuid IS NULL OR m.room_id = %(room)s::uuid) "
            "AND (%(agent)s::uuid IS NULL OR m.agent_id = %(agent)s::uuid) "
            'AND (NOT %(unique)s OR m."unique") '
            "AND (%(threshold)s::float8 IS NULL OR 1 - ({dim} <=> %(q)s::vector) >= %(threshold)s::float8) "
            "ORDER BY {dim} <=> %(q)s::vector, m.id LIMIT %(k)s"
        ).format(dim=dim)
        params = {
            "q": _vector_text(q),
            "type": search.type,
            "room": search.room_id,
            "agent": search.agent_id,
            "unique": search.unique,
            "threshold": search.threshold,
            "k": search.k,
        }
        return [_memory(r) for r in self._rows(statement, params)]

    def _do_count_memories(self, room_id: uuid.UUID, memory_type: str, unique: bool) -> int:
        rows = self._rows(
            "SELECT count(*) AS n FROM memories WHERE room_id = %(room)s AND type = %(type)s "
            'AND (NOT %(unique)s OR "unique")',
            {"room": room_id, "type": memory_type, "unique": unique},
        )
        return int(rows[0]["n"])

    def _do_get_goals(
        self, room_id: uuid.UUID, user_id: uuid.UUID | None, only_in_progress: bool, limit: int
    ) -> list[Goal]:
        return []  # ElizaOS 1.x has no goals (its tasks are something else): nothing to read

    def _do_get_room(self, room_id: uuid.UUID) -> uuid.UUID | None:
        rows = self._rows("SELECT id FROM rooms WHERE id = %(id)s", {"id": room_id})
        return rows[0]["id"] if rows else None  # type: ignore[no-any-return]

    def _do_get_rooms_for_participant(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        rows = self._rows(
            "SELECT DISTINCT room_id FROM participants WHERE entity_id = %(u)s ORDER BY room_id", {"u": user_id}
        )
        return [r["room_id"] for r in rows]

    def _do_get_rooms_for_participants(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        rows = self._rows(
            "SELECT DISTINCT room_id FROM participants WHERE entity_id = ANY(%(u)s) ORDER BY room_id", {"u": user_ids}
        )
        return [r["room_id"] for r in rows]

    def _do_get_participants_for_account(self, user_id: uuid.UUID) -> list[Participant]:
        query = sql.SQL('SELECT * FROM ({}) AS t WHERE t."userId" = %(u)s ORDER BY t."roomId", t.id').format(
            okai_view("participants", None)
        )
        return [
            Participant(
                id=r["id"],
                user_id=r["userId"],
                room_id=r["roomId"],
                user_state=UserState(r["userState"]) if r["userState"] else None,
                joined_at=r["joinedAt"],
            )
            for r in self._rows(query, {**view_params(None), "u": user_id})
        ]

    def _do_get_participants_for_room(self, room_id: uuid.UUID) -> list[uuid.UUID]:
        rows = self._rows(
            "SELECT DISTINCT entity_id FROM participants WHERE room_id = %(r)s ORDER BY entity_id", {"r": room_id}
        )
        return [r["entity_id"] for r in rows]

    def _do_get_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID) -> UserState | None:
        query = sql.SQL('SELECT t."userState" FROM ({}) AS t WHERE t."roomId" = %(r)s AND t."userId" = %(u)s').format(
            okai_view("participants", None)
        )
        rows = self._rows(query, {**view_params(None), "r": room_id, "u": user_id})
        return UserState(rows[0]["userState"]) if rows and rows[0]["userState"] else None

    def _relationships(self, where: str, params: dict[str, Any]) -> list[Relationship]:
        query = sql.SQL("SELECT * FROM ({}) AS t WHERE " + where + ' ORDER BY t."createdAt", t.id').format(
            okai_view("relationships", None)
        )
        return [
            Relationship(
                id=r["id"],
                user_a=r["userA"],
                user_b=r["userB"],
                user_id=r["userId"],
                status=r["status"],
                created_at=r["createdAt"],
            )
            for r in self._rows(query, {**view_params(None), **params})
        ]

    def _do_get_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> Relationship | None:
        found = self._relationships(
            '(t."userA" = %(a)s AND t."userB" = %(b)s) OR (t."userA" = %(b)s AND t."userB" = %(a)s)',
            {"a": user_a, "b": user_b},
        )
        return found[0] if found else None

    def _do_get_relationships(self, user_id: uuid.UUID) -> list[Relationship]:
        return self._relationships('t."userA" = %(u)s OR t."userB" = %(u)s', {"u": user_id})

    def _do_get_knowledge(self, agent_id: uuid.UUID, id: uuid.UUID | None, limit: int | None) -> list[KnowledgeItem]:
        self._require("knowledge")
        return []

    def _do_search_knowledge(self, agent_id: uuid.UUID, q: Embedding, threshold: float, k: int) -> list[KnowledgeItem]:
        self._require("knowledge")
        return []

    def _do_get_cache(self, key: str, agent_id: uuid.UUID) -> str | None:
        rows = self._rows("SELECT value FROM cache WHERE key = %(k)s AND agent_id = %(a)s", {"k": key, "a": agent_id})
        if not rows or rows[0]["value"] is None:
            return None
        value = rows[0]["value"]
        return value if isinstance(value, str) else json.dumps(value)

    # -- writes: every one refused before its input is even read ---------------------------------------------------
    def create_account(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_account")

    def log(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("log")

    def create_memory(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_memory")

    def create_memories(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_memories")

    def remove_memory(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_memory")

    def remove_all_memories(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_all_memories")

    def update_goal(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_goal")

    def update_goal_status(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_goal_status")

    def create_goal(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_goal")

    def remove_goal(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_goal")

    def remove_all_goals(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_all_goals")

    def create_room(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_room")

    def remove_room(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_room")

    def add_participant(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("add_participant")

    def remove_participant(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_participant")

    def set_participant_user_state(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("set_participant_user_state")

    def create_relationship(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_relationship")

    def create_knowledge(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("create_knowledge")

    def remove_knowledge(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("remove_knowledge")

    def clear_knowledge(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("clear_knowledge")

    def set_cache(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("set_cache")

    def delete_cache(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("delete_cache")

    # The contract's write hooks: unreachable (the public methods above refuse first), refused all the same.
    def _do_create_account(self, account: Account) -> bool:
        _refuse("create_account")

    def _do_log(self, body: dict[str, Any], user_id: uuid.UUID, room_id: uuid.UUID, type: str) -> None:
        _refuse("log")

    def _do_create_memory(self, memory: CheckedMemory, unique: bool) -> uuid.UUID:
        _refuse("create_memory")

    def _do_create_memories(self, batch: MemoryBatch) -> list[uuid.UUID]:
        _refuse("create_memories")

    def _do_remove_memory(self, memory_id: uuid.UUID, memory_type: str) -> bool:
        _refuse("remove_memory")

    def _do_remove_all_memories(self, room_id: uuid.UUID, memory_type: str) -> int:
        _refuse("remove_all_memories")

    def _do_update_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> None:
        _refuse("update_goal")

    def _do_update_goal_status(self, goal_id: uuid.UUID, status: GoalStatus) -> None:
        _refuse("update_goal_status")

    def _do_create_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> uuid.UUID:
        _refuse("create_goal")

    def _do_remove_goal(self, goal_id: uuid.UUID) -> bool:
        _refuse("remove_goal")

    def _do_remove_all_goals(self, room_id: uuid.UUID) -> int:
        _refuse("remove_all_goals")

    def _do_create_room(self, room_id: uuid.UUID) -> uuid.UUID:
        _refuse("create_room")

    def _do_remove_room(self, room_id: uuid.UUID) -> None:
        _refuse("remove_room")

    def _do_add_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        _refuse("add_participant")

    def _do_remove_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        _refuse("remove_participant")

    def _do_set_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID, state: str | None) -> None:
        _refuse("set_participant_user_state")

    def _do_create_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> bool:
        _refuse("create_relationship")

    def _do_create_knowledge(self, knowledge: CheckedKnowledge) -> None:
        _refuse("create_knowledge")

    def _do_remove_knowledge(self, knowledge_id: uuid.UUID) -> bool:
        _refuse("remove_knowledge")

    def _do_clear_knowledge(self, agent_id: uuid.UUID, shared: bool) -> int:
        _refuse("clear_knowledge")

    def _do_set_cache(self, key: str, agent_id: uuid.UUID, value: str) -> bool:
        _refuse("set_cache")

    def _do_delete_cache(self, key: str, agent_id: uuid.UUID) -> bool:
        _refuse("delete_cache")


#: The contract's write methods, every one refused by :class:`ElizaOS1Reader`.
WRITE_METHODS = (
    "create_account",
    "log",
    "create_memory",
    "create_memories",
    "remove_memory",
    "remove_all_memories",
    "update_goal",
    "update_goal_status",
    "create_goal",
    "remove_goal",
    "remove_all_goals",
    "create_room",
    "remove_room",
    "add_participant",
    "remove_participant",
    "set_participant_user_state",
    "create_relationship",
    "create_knowledge",
    "remove_knowledge",
    "clear_knowledge",
    "set_cache",
    "delete_cache",
)


def _memory(r: dict[str, Any]) -> Memory:
    emb = r.get("embedding")
    similarity = r.get("similarity")
    return Memory(
        id=r["id"],
        user_id=r["entity_id"],
        agent_id=r["agent_id"],
        room_id=r["room_id"],
        content=r["content"] or {},
        embedding=None if emb is None else np.asarray(emb, dtype=np.float32),
        created_at=r["created_at"],
        unique=bool(r["is_unique"]),
        similarity=None if similarity is None else float(similarity),
        type=r["type"],
    )


__all__ = ["KNOWLEDGE_TYPES", "UNMAPPED_TABLES", "WRITE_METHODS", "ElizaOS1Reader", "okai_view", "view_params"]
