"""The PostgreSQL + pgvector adapter (psycopg 3, ``psycopg_pool``).

* One pool (the spec's defaults: at most 20 connections, idle ones closed after 30 s, 2 s to connect), each
  connection configured by :func:`register` (pgvector types, search settings); statements are prepared by psycopg
  after their first executions.
* Searches use ``ORDER BY embedding <=> q LIMIT k`` so the HNSW cosine index serves them; a filtered set of at most
  ``Settings.exact_search_max_rows`` rows is searched exactly instead (recall 1.0, read through the btree indexes),
  larger ones through the index with pgvector 0.8's iterative scan.
* ``create_memories`` writes with binary COPY; ``get_memories`` pages by keyset.
* Connection-class failures are retried with backoff; writes carry client-side ids and ``ON CONFLICT DO NOTHING``
  on retries, so a retried write never duplicates a row that was committed before the connection dropped.

Example:
    >>> from okai_insight.adapters.postgres import PostgresAdapter
    >>> db = PostgresAdapter("postgresql://postgres@/okai?host=/tmp/pg")   # doctest: +SKIP
    >>> db.init()                                                          # doctest: +SKIP
    >>> db.embedding_dimension                                             # doctest: +SKIP
    384
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.types.json import Jsonb

from okai_insight import _json
from okai_insight.adapters._pg_connect import GuardedPool, call_timeout_s, connection_kwargs, set_session_timeouts
from okai_insight.adapters._pg_health import ConnectionHealth, explain_failure, recording_connection_class
from okai_insight.adapters._pg_json import register_json_loader
from okai_insight.adapters._pg_sql import MemoryFilters, Statements
from okai_insight.adapters._pg_vector import register_vector_types
from okai_insight.adapters._pg_watchdog import WATCHDOG
from okai_insight.adapters._retry import with_retries
from okai_insight.adapters.base import DatabaseAdapter, IdLike, Vector
from okai_insight.adapters.routing import ReadRouter, ReplicaRouter
from okai_insight.errors import (
    ConnectionFailed,
    DatabaseUnavailable,
    DuplicateId,
    FeatureNotAvailable,
    InvalidInput,
    NotFound,
    OkaiError,
    translate_pg_errors,
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
from okai_insight.schema import SchemaProfile, check_dimension, migrate
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
    content_json,
)

T = TypeVar("T")
Conn = psycopg.Connection[Any]

#: Above this many dimensions the planner may price an HNSW scan above a full sort (seen at 1536), so searches
#: switch sorting off for their one statement.
WIDE_VECTOR_DIMENSIONS = 512

#: Settings for one statement's HNSW scan, inside its transaction (see PostgresAdapter._index_settings).
_LOCAL_INDEX_SETTINGS = "SELECT set_config('enable_sort', %s, true), set_config('hnsw.ef_search', %s, true)"

#: fuzzystrmatch's levenshtein() refuses longer arguments.
LEVENSHTEIN_MAX_CHARS = 255


def register(conn: Conn, *, ef_search: int | None = None) -> None:
    """Configure a connection for okai-insight: pgvector's types and the search settings.

    Pass it to your own pool: ``ConnectionPool(url, configure=register)``.

    Example:
        >>> with psycopg.connect(url) as conn:              # doctest: +SKIP
        ...     register(conn)
    """
    register_vector_types(conn)
    register_json_loader(conn)  # rows nested too deep for json.loads are still read
    if ef_search is not None:
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ef_search),))
    # pgvector 0.8: keep scanning the HNSW graph until enough rows pass the filters (room, agent, type).
    conn.execute("SELECT set_config('hnsw.iterative_scan', 'relaxed_order', false)")
    if not conn.autocommit:
        conn.commit()


class PostgresAdapter(DatabaseAdapter):
    """okai-insight's data layer on PostgreSQL with pgvector; see the module docstring for its design.

    Example:
        >>> with PostgresAdapter(url) as db:                 # doctest: +SKIP
        ...     db.init()
        ...     room = db.create_room()
    """

    def __init__(self, url: str, *, settings: Settings | None = None, dimension: int | None = None) -> None:
        self.url = url
        self.settings = settings or Settings.from_env()
        #: An explicit dimension must match a stored schema's (migrate refuses otherwise); None adopts the stored one.
        self._explicit_dimension = None if dimension is None else check_dimension(dimension)
        self._requested_dimension = self._explicit_dimension or self.settings.embedding_dimension
        self._pool: psycopg_pool.ConnectionPool[Conn] | None = None
        self.profile: SchemaProfile | None = None
        self._sql: Statements | None = None
        self.embedding_dimension = self._requested_dimension
        #: Sends read-only transactions to replicas (``okai_insight.adapters.routing.ReplicaRouter``); built by
        #: init() from ``Settings.replica_urls``. None: everything runs on ``url``.
        self.router: ReadRouter | None = None
        #: The outcome of the pool's connection attempts: why the database is unreachable, if it is.
        self._health = ConnectionHealth(url, probe_timeout_s=self.settings.connect_timeout_s)

    # -- lifecycle ------------------------------------------------------------------------------------------
    def init(self) -> None:
        s = self.settings

        def _migrate(_attempt: int) -> SchemaProfile:
            with psycopg.connect(self.url, **connection_kwargs(self.url, s, autocommit=True)) as conn:
                # A migration waits for no lock longer than a call would, but may build an index for minutes.
                set_session_timeouts(conn, s, statement=False)
                return migrate(conn, dimension=self._explicit_dimension, default_dimension=self._requested_dimension)

        with translate_pg_errors("creating or checking okai-insight's schema"):
            profile = with_retries(
                _migrate, attempts=s.retry_attempts, base_delay_s=s.retry_base_delay_s, explain=self._explain_failure
            )
        self.profile = profile
        self._sql = Statements(profile)
        if profile.dimension is not None:
            self.embedding_dimension = profile.dimension
        if self._pool is None:
            self._pool = GuardedPool(
                self.url,
                check_timeout_s=call_timeout_s(s),
                min_size=s.pool_min_size,
                max_size=s.pool_max_size,
                max_idle=s.pool_idle_timeout_s,
                timeout=s.connect_timeout_s,
                # psycopg_pool retries a failed connection with backoff for 5 minutes by default, and a call cannot
                # start a new attempt meanwhile: after a restart the pool stayed empty for as long as the backoff.
                # Giving up soon lets the next call's demand try at once.
                reconnect_timeout=max(1.0, 2 * s.connect_timeout_s),
                # Autocommit: a single statement is its own transaction, so reads and one-statement writes take one
                # round trip instead of BEGIN, statement, COMMIT; multi-statement work opens a transaction.
                kwargs=connection_kwargs(self.url, s, autocommit=True),
                connection_class=recording_connection_class(self._health),
                configure=self._configure,
                name="okai-insight",
                open=False,
            )
            self._pool.open(wait=False)
        if s.replica_urls and self.router is None:
            self.router = ReplicaRouter(s.replica_urls, settings=s)

    def _configure(self, conn: Conn) -> None:
        # Bounded like a call: a server that freezes right after accepting would hold a pool worker forever.
        with WATCHDOG.guard(conn, timeout_s=call_timeout_s(self.settings)):
            register(conn, ef_search=self.settings.hnsw_ef_search)
            set_session_timeouts(conn, self.settings)

    def _explain_failure(self, exc: BaseException) -> DatabaseUnavailable | None:
        """Why the database is unreachable after ``exc`` (a connection error or a pool timeout); None when a pool
        timeout only means every connection is busy."""
        known = self._health.explain()
        if known is not None or isinstance(exc, psycopg_pool.PoolTimeout):
            return known
        return explain_failure(exc, self.url, probe_timeout_s=self.settings.connect_timeout_s)

    def close(self) -> None:
        if self.router is not None:
            self.router.close()
            self.router = None
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @property
    def pool(self) -> psycopg_pool.ConnectionPool[Conn]:
        """The connection pool (its ``get_stats()`` feed the connections diagnostic).

        Example:
            >>> db.pool.get_stats()["pool_max"]              # doctest: +SKIP
            20
        """
        if self._pool is None:
            raise ConnectionFailed("the adapter is not initialised: call init() or use okai_insight.connect()")
        return self._pool

    @property
    def statements(self) -> Statements:
        assert self._sql is not None, "init() first"
        return self._sql

    def _run(self, fn: Callable[[Conn, int], T], *, read_only: bool = False, atomic: bool = True) -> T:
        """Run ``fn(conn, attempt)``, retrying connection-class failures.

        ``atomic`` wraps it in one transaction; pass False for work of a single statement, which autocommit makes
        atomic by itself at a third of the round trips. ``read_only`` work may run on a replica when a
        :attr:`router` is set. Before a retry the pool drops every idle connection the failure also broke (a
        restarted server breaks them all), so the retry gets a live one.
        """
        transaction = atomic or self._needs_transaction
        bound_s = call_timeout_s(self.settings)

        def attempt(n: int) -> T:
            router = self.router
            if n > 0:
                self.pool.check()
            pool = self.pool if router is None else router.pool_for(self.pool, read_only=read_only, attempt=n)
            with pool.connection() as conn, WATCHDOG.guard(conn, timeout_s=bound_s) as guard:
                try:
                    if transaction:
                        with conn.transaction():
                            self._begin(conn)
                            result = fn(conn, n)
                    else:
                        result = fn(conn, n)
                    if router is not None and not read_only:
                        router.after_write(conn)
                except psycopg.Error as exc:
                    if guard is not None and guard.fired:
                        # The server did not even enforce its statement_timeout: frozen, or the network is gone.
                        # Not retried: the call's time is spent. A write in flight is all or nothing.
                        raise DatabaseUnavailable(
                            "timeout", f"no answer from the database within {bound_s:g} s; the connection was dropped"
                        ) from exc
                    raise
                return result

        with translate_pg_errors():  # the package's one error table (okai_insight.errors.PG_ERROR_TABLE)
            return with_retries(
                attempt,
                attempts=self.settings.retry_attempts,
                base_delay_s=self.settings.retry_base_delay_s,
                explain=self._explain_failure,
            )

    def _begin(self, conn: Conn) -> None:
        """Run at the start of every transaction :meth:`_run` opens (a hook: a subclass sets its role here)."""

    @property
    def _needs_transaction(self) -> bool:
        # A subclass that sets per-transaction state in _begin (Supabase's role and JWT claims) needs a transaction
        # around every call, or SET LOCAL would not reach the statement.
        return type(self)._begin is not PostgresAdapter._begin

    #: False where COPY FROM into the table is not allowed (row level security): batches go through a temp table.
    _copy_into_table = True

    def _table(self, value: Any) -> str:
        return check_table_name(value, self.settings.memory_tables)

    def _vec(self, value: Any, *, query: bool = False) -> Embedding:
        return check_embedding(value, self.embedding_dimension, allow_zero=not query)

    def _require(self, what: str) -> None:
        p = self.profile
        assert p is not None, "init() first"
        if (what == "cache" and not p.has_cache) or (what == "knowledge" and not p.has_knowledge):
            raise FeatureNotAvailable(f"this database has no {what} table (an older ElizaOS schema?)")
        if what == "logs" and not p.has_logs:
            raise FeatureNotAvailable("this database has no logs table")

    # -- accounts -------------------------------------------------------------------------------------------
    def get_account_by_id(self, user_id: IdLike) -> Account | None:
        uid = check_id(user_id, "user_id")
        row = self._run(
            lambda c, _: c.execute(
                'SELECT "id", "name", "username", "email", "avatarUrl", "details", "createdAt" '
                'FROM accounts WHERE "id" = %s',
                (uid,),
            ).fetchone()
        )
        return None if row is None else Account(row[0], row[1], row[2], row[3], row[4], row[5] or {}, row[6])

    def create_account(self, account: Account) -> bool:
        aid = check_id(account.id, "account.id")
        for name in ("name", "avatar_url"):
            check_text(getattr(account, name), f"account.{name}", optional=True)
        check_indexed_text(account.username, "account.username", optional=True)
        check_indexed_text(account.email, "account.email")
        details = check_content(account.details or {}, "account.details")

        def insert(c: Conn, attempt: int) -> bool:
            try:
                with c.transaction():
                    c.execute(
                        'INSERT INTO accounts ("id", "name", "username", "email", "avatarUrl", "details") '
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        (aid, account.name, account.username, account.email, account.avatar_url, Jsonb(details)),
                    )
                return True
            except psycopg.errors.UniqueViolation:
                # On a retry the first attempt may have committed: the same account existing counts as success.
                return attempt > 0 and self._account_matches(c, aid, account.email)

        return self._run(insert)

    @staticmethod
    def _account_matches(c: Conn, aid: uuid.UUID, email: str) -> bool:
        row = c.execute('SELECT "email" FROM accounts WHERE "id" = %s', (aid,)).fetchone()
        return row is not None and row[0] == email

    def get_actor_details(self, room_id: IdLike) -> list[Actor]:
        rid = check_id(room_id, "room_id")
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT a."id", a."name", a."username", a."details" FROM participants AS p '
                'JOIN accounts AS a ON a."id" = p."userId" WHERE p."roomId" = %s ORDER BY a."name", a."id"',
                (rid,),
            ).fetchall()
        )
        return [Actor(r[0], r[1], r[2], r[3] or {}) for r in rows]

    # -- memories -------------------------------------------------------------------------------------------
    def _memory(self, row: Sequence[Any], distance: float | None = None) -> Memory:
        emb = row[4]
        return Memory(
            id=row[0],
            type=row[1],
            created_at=row[2],
            content=_content(row[3]),
            embedding=None if emb is None else np.asarray(emb.to_numpy(), dtype=np.float32),
            user_id=row[5],
            agent_id=row[6],
            room_id=row[7],
            unique=bool(row[8]),
            similarity=None if distance is None else 1.0 - float(distance),
        )

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
        params: dict[str, Any] = {
            "type": self._table(table_name),
            "room_id": check_id(room_id, "room_id"),
            "agent_id": check_optional_id(agent_id, "agent_id"),
            "start": check_timestamp(start, "start"),
            "end": check_timestamp(end, "end"),
        }
        if count is not None:
            params["limit"] = check_count(count)
        if before is not None:
            if not isinstance(before, tuple) or len(before) != 2:
                raise InvalidInput("before must be a (created_at, id) tuple from the previous page's last row")
            params["before_ts"] = check_timestamp(before[0], "before[0]")
            params["before_id"] = check_id(before[1], "before[1]")
        f = MemoryFilters(room=True, agent=params["agent_id"] is not None, unique=bool(unique))
        query = self.statements.get_memories(
            f, start=start is not None, end=end is not None, before=before is not None, limit=count is not None
        )
        rows = self._run(lambda c, _: c.execute(query, params, binary=True).fetchall(), read_only=True, atomic=False)
        return [self._memory(r) for r in rows]

    def iter_memories(self, room_id: IdLike, table_name: str, *, page_size: int = 1000) -> Any:
        """Every memory of a room and type, newest first, fetched page by page (keyset pagination).

        Example:
            >>> sum(1 for _ in db.iter_memories(room_id, "messages"))   # doctest: +SKIP
            1200
        """
        before: tuple[dt.datetime, IdLike] | None = None
        while True:
            page = self.get_memories(room_id, table_name, count=page_size, before=before)
            yield from page
            if len(page) < page_size:
                return
            last = page[-1]
            assert last.created_at is not None and last.id is not None
            before = (last.created_at, last.id)

    def get_memory_by_id(self, memory_id: IdLike) -> Memory | None:
        mid = check_id(memory_id, "memory_id")
        query = sql.SQL('SELECT {} FROM memories AS m WHERE m."id" = %(id)s').format(self.statements.memory_columns)
        row = self._run(
            lambda c, _: c.execute(query, {"id": mid}, binary=True).fetchone(), read_only=True, atomic=False
        )
        return None if row is None else self._memory(row)

    def get_memories_by_ids(self, memory_ids: Sequence[IdLike], table_name: str | None = None) -> list[Memory]:
        ids = check_ids(memory_ids, "memory_ids")
        if not ids:
            return []
        params: dict[str, Any] = {"ids": ids}
        where: sql.Composable = sql.SQL('m."id" = ANY(%(ids)s)')
        if table_name is not None:
            params["type"] = self._table(table_name)
            where = where + sql.SQL(' AND m."type" = %(type)s')
        query = sql.SQL('SELECT {} FROM memories AS m WHERE {} ORDER BY m."createdAt" DESC, m."id"').format(
            self.statements.memory_columns, where
        )
        rows = self._run(lambda c, _: c.execute(query, params, binary=True).fetchall(), read_only=True, atomic=False)
        return [self._memory(r) for r in rows]

    def get_memories_by_room_ids(
        self,
        room_ids: Sequence[IdLike],
        table_name: str,
        *,
        agent_id: IdLike | None = None,
        limit: int | None = None,
    ) -> list[Memory]:
        rooms = check_ids(room_ids, "room_ids")
        params: dict[str, Any] = {
            "type": self._table(table_name),
            "room_ids": rooms,
            "agent_id": check_optional_id(agent_id, "agent_id"),
        }
        if limit is not None:
            params["limit"] = check_count(limit, "limit")
        if not rooms:
            return []
        f = MemoryFilters(rooms=True, agent=params["agent_id"] is not None)
        query = sql.SQL('SELECT {} FROM memories AS m WHERE {} ORDER BY m."createdAt" DESC, m."id" DESC').format(
            self.statements.memory_columns, self.statements.memory_where(f)
        )
        if limit is not None:
            query = query + sql.SQL(" LIMIT %(limit)s")
        rows = self._run(lambda c, _: c.execute(query, params, binary=True).fetchall(), read_only=True, atomic=False)
        return [self._memory(r) for r in rows]

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
            "type": self._table(query_table_name),
            "threshold": check_count(query_threshold, "query_threshold", maximum=LEVENSHTEIN_MAX_CHARS),
            "input": (check_text(query_input, "query_input") or "")[:LEVENSHTEIN_MAX_CHARS],
            "field": check_text(query_field_name, "query_field_name", max_chars=200),
            "sub": check_text(query_field_sub_name, "query_field_sub_name", max_chars=200),
            "k": check_count(query_match_count, "query_match_count"),
        }
        # ElizaOS stores the text at content.<sub_name> when field_name is "content"; both layouts are read.
        query = """
            SELECT embedding, levenshtein(%(input)s, content_text) AS score
            FROM (
                SELECT m."embedding" AS embedding,
                       left(COALESCE(m."content" -> %(field)s ->> %(sub)s, m."content" ->> %(sub)s), 255) AS content_text
                FROM memories AS m
                WHERE m."type" = %(type)s AND m."embedding" IS NOT NULL
            ) AS texts
            WHERE content_text IS NOT NULL AND levenshtein(%(input)s, content_text) <= %(threshold)s
            ORDER BY score
            LIMIT %(k)s
        """
        rows = self._run(lambda c, _: c.execute(query, params, binary=True).fetchall(), read_only=True, atomic=False)
        return [CachedEmbedding(np.asarray(r[0].to_numpy(), dtype=np.float32), int(r[1])) for r in rows]

    def log(self, *, body: dict[str, Any], user_id: IdLike, room_id: IdLike, type: str) -> None:
        self._require("logs")
        params = (
            Jsonb(check_content(body, "body")),
            check_id(user_id, "user_id"),
            check_id(room_id, "room_id"),
            check_text(type, "type", max_chars=200),
        )
        log_id = uuid.uuid4()

        def insert(c: Conn, _: int) -> None:
            c.execute(
                'INSERT INTO logs ("id", "body", "userId", "roomId", "type") VALUES (%s, %s, %s, %s, %s) '
                'ON CONFLICT ("id") DO NOTHING',
                (log_id, *params),
            )

        self._run(insert)

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
        q = self._vec(embedding, query=True)
        params: dict[str, Any] = {
            "q": q,
            "type": self._table(table_name),
            "room_id": check_optional_id(room_id, "room_id"),
            "agent_id": check_optional_id(agent_id, "agent_id"),
            "threshold": -1.0 if match_threshold is None else check_threshold(match_threshold),
            "k": check_count(count, "count", minimum=1, maximum=10_000),
        }
        f = MemoryFilters(room=params["room_id"] is not None, agent=params["agent_id"] is not None, unique=bool(unique))
        rows = self._run(lambda c, _: self._search(c, f, params), read_only=True, atomic=False)
        return [self._memory(r[:9], distance=r[9]) for r in rows]

    def _search(self, c: Conn, f: MemoryFilters, params: dict[str, Any]) -> list[Any]:
        st = self.statements
        exact = False
        if f.room or f.agent or f.unique:
            # Two prepared statements (count, then search) beat one that chooses in SQL (as near_duplicate does):
            # that one must be planned on every call (see create_memory), costing more than the round trip saved.
            cap = self.settings.exact_search_max_rows
            (n,) = c.execute(st.text("count_bounded", f), {**params, "cap": cap + 1}).fetchone() or (0,)
            exact = n <= cap
        if exact:
            return c.execute(st.text("search_exact", f), params, binary=True).fetchall()
        query = st.text("search_index", f)
        local = self._index_settings(params["k"])
        if local is None:
            return c.execute(query, params, binary=True).fetchall()
        with c.pipeline():  # BEGIN, settings, query, COMMIT: sent together, one round trip
            in_transaction = c.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
            if not in_transaction:
                c.execute("BEGIN")
            c.execute(_LOCAL_INDEX_SETTINGS, local)
            cur = c.execute(query, params, binary=True)
            if not in_transaction:
                c.execute("COMMIT")
        return cur.fetchall()

    def _index_settings(self, k: int) -> tuple[str, str] | None:
        """enable_sort and hnsw.ef_search for one HNSW search of ``k`` rows, or None when the defaults serve.

        The planner prices an HNSW scan by ef_search and the dimension; at 1536 dimensions with ef_search 80-150
        it prefers reading the whole table and sorting it (measured: 370 ms instead of 3 ms). For wide vectors,
        sorting is switched off for the statement so the index is used; and ef_search is raised to k when k is
        larger (pgvector caps it at 1000; beyond, the iterative scan, on for every connection, reads on until k
        rows are found). Narrow vectors with k <= ef_search, the common case, need neither: one statement.
        """
        ef = self.settings.hnsw_ef_search or 40
        wide = self.embedding_dimension > WIDE_VECTOR_DIMENSIONS
        if not wide and k <= ef:
            return None
        return ("off" if wide else "on"), str(min(max(k, ef), 1000))

    def _prepare_memory(self, memory: Memory, table: str) -> dict[str, Any]:
        if not isinstance(memory, Memory):
            raise InvalidInput(f"expected a Memory, got {type(memory).__name__}")
        emb = None if memory.embedding is None else self._vec(memory.embedding)
        if memory.agent_id is None and self.profile is not None and self.profile.partition_key == "agentId":
            raise InvalidInput(
                "memory.agent_id is required: this database's memories are partitioned by agent "
                "(okai-insight partition), so every memory belongs to one agent's partition"
            )
        return {
            "id": check_id(memory.id, "memory.id") if memory.id is not None else uuid.uuid4(),
            "type": table,
            "created_at": check_timestamp(memory.created_at, "memory.created_at"),
            "content": _jsonb_text(content_json(memory.content, "memory.content")),
            "embedding": emb,
            "user_id": check_optional_id(memory.user_id, "memory.user_id"),
            "agent_id": check_optional_id(memory.agent_id, "memory.agent_id"),
            "room_id": check_optional_id(memory.room_id, "memory.room_id"),
            "unique": bool(memory.unique),
        }

    def create_memory(self, memory: Memory, table_name: str, unique: bool = False) -> uuid.UUID:
        params = self._prepare_memory(memory, self._table(table_name))
        emb = params["embedding"]
        insert = self.statements.text("insert_memory")
        check = bool(unique and emb is not None and np.any(emb))

        def write(c: Conn, attempt: int) -> uuid.UUID:
            if check:
                # Check and insert under one per-room lock, in one transaction: two writers storing the same
                # message at once cannot both find "no near-duplicate" and both be marked unique. The lock is
                # taken by its own statement before the insert starts, so the insert's snapshot (a new one per
                # statement) sees every row a writer committed before releasing it. Sent as one pipeline: one
                # round trip for BEGIN, lock, settings, the checked insert and COMMIT.
                f = MemoryFilters(room=params["room_id"] is not None)
                checked = {
                    **params,
                    "q": emb,
                    "threshold": self.settings.duplicate_threshold,
                    "k": 1,
                    "cap": self.settings.exact_search_max_rows + 1,
                }
                key = f"okai-unique:{params['type']}:{params['room_id']}"
                with c.pipeline(), c.transaction():
                    c.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
                    local = self._index_settings(1)
                    if local is not None:
                        c.execute(_LOCAL_INDEX_SETTINGS, local)
                    # Planned for its own values on every call, never prepared: after five runs PostgreSQL may switch
                    # a prepared statement to a generic plan, costed with both branches and a LIMIT of unknown
                    # size, whose index branch reads the whole room instead of the index (seen in the tests).
                    cur = c.execute(self.statements.text("insert_memory", f), checked, prepare=False)
                row = cur.fetchone()
            else:
                row = c.execute(insert, params).fetchone()
            if row is None and attempt == 0:
                raise DuplicateId(f"a memory with id {params['id']} already exists")
            return params["id"]  # type: ignore[no-any-return]

        return self._run(write, atomic=False)

    def create_memories(self, memories: Sequence[Memory], table_name: str) -> list[uuid.UUID]:
        table = self._table(table_name)
        if isinstance(memories, str | bytes) or not isinstance(memories, Sequence):
            raise InvalidInput("memories must be a list of Memory objects")
        if not memories:
            return []
        # Ids are fixed before the first attempt, so a retry writes the same rows, never new copies of them.
        ids = [
            check_id(m.id, "memory.id") if isinstance(m, Memory) and m.id is not None else uuid.uuid4()
            for m in memories
        ]
        if len(set(ids)) != len(ids):
            raise DuplicateId("the batch holds the same memory id twice")
        vtype = self.profile.vector_type if self.profile else "vector"
        types = ["uuid", "text", "timestamptz", "jsonb", vtype, "uuid", "uuid", "uuid", "bool"]
        now = dt.datetime.now(dt.UTC)
        if vtype == "halfvec":
            from pgvector import HalfVector

            def as_column(e: Any) -> Any:
                return None if e is None else HalfVector(e)
        else:

            def as_column(e: Any) -> Any:
                return e

        def write_rows(cp: Any) -> None:
            # Each row is validated as it is written, so Python's checks overlap the server's work; a refused row
            # raises inside the COPY, which aborts it whole: nothing of the batch is stored.
            cp.set_types(types)
            for memory, mid in zip(memories, ids, strict=True):
                p = self._prepare_memory(memory, table)
                cp.write_row(
                    (
                        mid,
                        table,
                        p["created_at"] or now,
                        p["content"],
                        as_column(p["embedding"]),
                        p["user_id"],
                        p["agent_id"],
                        p["room_id"],
                        p["unique"],
                    )
                )

        def copy(c: Conn, attempt: int) -> list[uuid.UUID]:
            if attempt == 0 and self._copy_into_table:
                try:
                    # One COPY statement: atomic by itself in autocommit, one round trip.
                    with c.cursor().copy(self.statements.copy_memories()) as cp:
                        write_rows(cp)
                    return ids
                except psycopg.errors.UniqueViolation as exc:
                    raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc
            # Through a temp table: where COPY into the table is not allowed, or on a retry after a lost
            # connection (the first COPY may have committed, so only the missing rows are inserted).
            staging = f"okai_copy_{uuid.uuid4().hex[:12]}"
            with c.transaction():
                c.execute(
                    sql.SQL("CREATE TEMP TABLE {} (LIKE memories INCLUDING DEFAULTS) ON COMMIT DROP").format(
                        sql.Identifier(staging)
                    )
                )
                with c.cursor().copy(self.statements.copy_memories(staging)) as cp:
                    write_rows(cp)
                insert = sql.SQL("INSERT INTO memories SELECT * FROM {}").format(sql.Identifier(staging))
                if attempt == 0:
                    try:
                        with c.transaction():
                            c.execute(insert)
                    except psycopg.errors.UniqueViolation as exc:
                        raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc
                else:
                    c.execute(insert + sql.SQL(" ON CONFLICT {} DO NOTHING").format(self.statements.memory_key))
            return ids

        return self._run(copy, atomic=False)

    def remove_memory(self, memory_id: IdLike, table_name: str) -> bool:
        params = (check_id(memory_id, "memory_id"), self._table(table_name))
        return self._run(
            lambda c, _: c.execute('DELETE FROM memories WHERE "id" = %s AND "type" = %s', params).rowcount > 0
        )

    def remove_all_memories(self, room_id: IdLike, table_name: str) -> int:
        params = (check_id(room_id, "room_id"), self._table(table_name))
        return self._run(
            lambda c, _: c.execute('DELETE FROM memories WHERE "roomId" = %s AND "type" = %s', params).rowcount
        )

    def count_memories(self, room_id: IdLike, unique: bool = True, table_name: str = "") -> int:
        params = {"room_id": check_id(room_id, "room_id"), "type": self._table(table_name)}
        f = MemoryFilters(room=True, unique=bool(unique))
        query = sql.SQL("SELECT count(*) FROM memories AS m WHERE {}").format(self.statements.memory_where(f))
        row = self._run(lambda c, _: c.execute(query, params).fetchone(), read_only=True, atomic=False)
        return int(row[0]) if row else 0

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
        params = {
            "room_id": check_id(room_id, "room_id"),
            "user_id": check_optional_id(user_id, "user_id"),
            "limit": check_count(count),
            "in_progress": bool(only_in_progress),
        }
        check_optional_id(agent_id, "agent_id")  # ElizaOS accepts it; goals have no agent column
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT "id", "roomId", "userId", "name", "status", "objectives", "description", "createdAt" '
                'FROM goals WHERE "roomId" = %(room_id)s '
                'AND (%(user_id)s::uuid IS NULL OR "userId" = %(user_id)s) '
                "AND (NOT %(in_progress)s OR \"status\" = 'IN_PROGRESS') "
                'ORDER BY "createdAt", "id" LIMIT %(limit)s',
                params,
            ).fetchall()
        )
        return [_goal(r) for r in rows]

    def _goal_values(self, goal: Goal) -> tuple[Any, ...]:
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
        return (
            goal.name,
            check_goal_status(goal.status).value,
            goal.description,
            Jsonb(objectives),
            check_id(goal.room_id, "goal.room_id"),
            check_optional_id(goal.user_id, "goal.user_id"),
        )

    def update_goal(self, goal: Goal) -> None:
        gid = check_id(goal.id, "goal.id")
        values = self._goal_values(goal)
        updated = self._run(
            lambda c, _: (
                c.execute(
                    'UPDATE goals SET "name" = %s, "status" = %s, "description" = %s, "objectives" = %s '
                    'WHERE "id" = %s',
                    (*values[:4], gid),
                ).rowcount
            )
        )
        if not updated:
            raise NotFound(f"goal {gid} does not exist")

    def update_goal_status(self, goal_id: IdLike, status: GoalStatus | str) -> None:
        gid = check_id(goal_id, "goal_id")
        value = check_goal_status(status).value
        updated = self._run(
            lambda c, _: c.execute('UPDATE goals SET "status" = %s WHERE "id" = %s', (value, gid)).rowcount
        )
        if not updated:
            raise NotFound(f"goal {gid} does not exist")

    def create_goal(self, goal: Goal) -> uuid.UUID:
        gid = check_id(goal.id, "goal.id") if goal.id is not None else uuid.uuid4()
        values = self._goal_values(goal)

        def insert(c: Conn, attempt: int) -> uuid.UUID:
            row = c.execute(
                'INSERT INTO goals ("id", "name", "status", "description", "objectives", "roomId", "userId") '
                'VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ("id") DO NOTHING RETURNING "id"',
                (gid, *values),
            ).fetchone()
            if row is None and attempt == 0:
                raise DuplicateId(f"a goal with id {gid} already exists")
            return gid

        return self._run(insert)

    def remove_goal(self, goal_id: IdLike) -> bool:
        gid = check_id(goal_id, "goal_id")
        return self._run(lambda c, _: c.execute('DELETE FROM goals WHERE "id" = %s', (gid,)).rowcount > 0)

    def remove_all_goals(self, room_id: IdLike) -> int:
        rid = check_id(room_id, "room_id")
        return self._run(lambda c, _: c.execute('DELETE FROM goals WHERE "roomId" = %s', (rid,)).rowcount)

    # -- rooms and participants -----------------------------------------------------------------------------
    def get_room(self, room_id: IdLike) -> uuid.UUID | None:
        rid = check_id(room_id, "room_id")
        row = self._run(
            lambda c, _: c.execute('SELECT "id" FROM rooms WHERE "id" = %s', (rid,)).fetchone(), read_only=True
        )
        return None if row is None else row[0]

    def create_room(self, room_id: IdLike | None = None) -> uuid.UUID:
        rid = check_id(room_id, "room_id") if room_id is not None else uuid.uuid4()

        def insert(c: Conn, attempt: int) -> uuid.UUID:
            row = c.execute(
                'INSERT INTO rooms ("id") VALUES (%s) ON CONFLICT ("id") DO NOTHING RETURNING "id"', (rid,)
            ).fetchone()
            if row is None and attempt == 0:
                raise DuplicateId(f"room {rid} already exists")
            return rid

        return self._run(insert)

    def remove_room(self, room_id: IdLike) -> None:
        rid = check_id(room_id, "room_id")

        def delete(c: Conn, _: int) -> bool:
            # Lock the room first: an insert into it (which takes a KEY SHARE lock on the room through its foreign
            # key) either committed before, and is deleted below, or waits and then fails with NotFound. Without the
            # lock a row inserted between the deletes made the last one fail with a foreign key error.
            if c.execute('SELECT 1 FROM rooms WHERE "id" = %s FOR UPDATE', (rid,)).fetchone() is None:
                return False
            # Explicit deletes: the spec's foreign keys do not cascade (ElizaOS's do; both work).
            for table in ("memories", "participants", "goals", "logs"):
                if table == "logs" and not (self.profile and self.profile.has_logs):
                    continue
                c.execute(sql.SQL('DELETE FROM {} WHERE "roomId" = %s').format(sql.Identifier(table)), (rid,))
            return c.execute('DELETE FROM rooms WHERE "id" = %s', (rid,)).rowcount > 0

        if not self._run(delete):
            raise NotFound(f"room {rid} does not exist")

    def get_rooms_for_participant(self, user_id: IdLike) -> list[uuid.UUID]:
        uid = check_id(user_id, "user_id")
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT "roomId" FROM participants WHERE "userId" = %s ORDER BY "roomId"', (uid,)
            ).fetchall()
        )
        return [r[0] for r in rows]

    def get_rooms_for_participants(self, user_ids: Sequence[IdLike]) -> list[uuid.UUID]:
        ids = check_ids(user_ids, "user_ids")
        if not ids:
            return []
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT DISTINCT "roomId" FROM participants WHERE "userId" = ANY(%s) ORDER BY "roomId"', (ids,)
            ).fetchall()
        )
        return [r[0] for r in rows]

    def add_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        uid, rid = check_id(user_id, "user_id"), check_id(room_id, "room_id")
        pid = uuid.uuid4()

        def insert(c: Conn, attempt: int) -> bool:
            # NOT EXISTS keeps this correct on schemas without the (userId, roomId) unique constraint.
            n = c.execute(
                'INSERT INTO participants ("id", "userId", "roomId") SELECT %s, %s, %s '
                'WHERE NOT EXISTS (SELECT 1 FROM participants WHERE "userId" = %s AND "roomId" = %s) '
                "ON CONFLICT DO NOTHING",
                (pid, uid, rid, uid, rid),
            ).rowcount
            if n == 0 and attempt > 0:
                return bool(c.execute('SELECT 1 FROM participants WHERE "id" = %s', (pid,)).fetchone())
            return n > 0

        return self._run(insert)

    def remove_participant(self, user_id: IdLike, room_id: IdLike) -> bool:
        uid, rid = check_id(user_id, "user_id"), check_id(room_id, "room_id")
        return self._run(
            lambda c, _: (
                c.execute('DELETE FROM participants WHERE "userId" = %s AND "roomId" = %s', (uid, rid)).rowcount > 0
            )
        )

    def get_participants_for_account(self, user_id: IdLike) -> list[Participant]:
        uid = check_id(user_id, "user_id")
        query = sql.SQL('SELECT {} FROM participants AS p WHERE p."userId" = %s ORDER BY p."roomId"').format(
            self.statements.participant_columns()
        )
        rows = self._run(lambda c, _: c.execute(query, (uid,)).fetchall(), read_only=True, atomic=False)
        return [Participant(r[0], r[1], r[2], UserState(r[3]) if r[3] else None, r[4], r[5]) for r in rows]

    def get_participants_for_room(self, room_id: IdLike) -> list[uuid.UUID]:
        rid = check_id(room_id, "room_id")
        rows = self._run(
            lambda c, _: c.execute(
                'SELECT "userId" FROM participants WHERE "roomId" = %s ORDER BY "userId"', (rid,)
            ).fetchall()
        )
        return [r[0] for r in rows]

    def get_participant_user_state(self, room_id: IdLike, user_id: IdLike) -> UserState | None:
        rid, uid = check_id(room_id, "room_id"), check_id(user_id, "user_id")
        if not (self.profile and self.profile.has_user_state):
            return None
        row = self._run(
            lambda c, _: c.execute(
                'SELECT "userState" FROM participants WHERE "roomId" = %s AND "userId" = %s', (rid, uid)
            ).fetchone()
        )
        return UserState(row[0]) if row and row[0] else None

    def set_participant_user_state(self, room_id: IdLike, user_id: IdLike, state: UserState | str | None) -> None:
        rid, uid = check_id(room_id, "room_id"), check_id(user_id, "user_id")
        value = check_user_state(state)
        if not (self.profile and self.profile.has_user_state):
            raise FeatureNotAvailable("this database's participants table has no userState column")
        n = self._run(
            lambda c, _: (
                c.execute(
                    'UPDATE participants SET "userState" = %s WHERE "roomId" = %s AND "userId" = %s',
                    (value, rid, uid),
                ).rowcount
            )
        )
        if not n:
            raise NotFound(f"account {uid} does not take part in room {rid}")

    # -- relationships --------------------------------------------------------------------------------------
    def create_relationship(self, user_a: IdLike, user_b: IdLike) -> bool:
        a, b = check_id(user_a, "user_a"), check_id(user_b, "user_b")
        rel_id = uuid.uuid4()
        self._run(
            lambda c, _: c.execute(
                'INSERT INTO relationships ("id", "userA", "userB", "userId") VALUES (%s, %s, %s, %s) '
                'ON CONFLICT ("id") DO NOTHING',
                (rel_id, a, b, a),
            )
        )
        return True

    _REL_COLUMNS = '"id", "userA", "userB", "userId", "status", "createdAt"'

    def get_relationship(self, user_a: IdLike, user_b: IdLike) -> Relationship | None:
        a, b = check_id(user_a, "user_a"), check_id(user_b, "user_b")
        row = self._run(
            lambda c, _: c.execute(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE ("userA" = %(a)s AND "userB" = %(b)s) OR ("userA" = %(b)s AND "userB" = %(a)s) '
                'ORDER BY "createdAt", "id" LIMIT 1',
                {"a": a, "b": b},
            ).fetchone()
        )
        return None if row is None else Relationship(*row)

    def get_relationships(self, user_id: IdLike) -> list[Relationship]:
        uid = check_id(user_id, "user_id")
        rows = self._run(
            lambda c, _: c.execute(
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE "userA" = %(u)s OR "userB" = %(u)s ORDER BY "createdAt", "id"',
                {"u": uid},
            ).fetchall()
        )
        return [Relationship(*r) for r in rows]

    # -- knowledge ------------------------------------------------------------------------------------------
    _K_COLUMNS = (
        '"id", "agentId", "content", "embedding", "createdAt", "isMain", "originalId", "chunkIndex", "isShared"'
    )

    def get_knowledge(
        self, *, agent_id: IdLike, id: IdLike | None = None, limit: int | None = None
    ) -> list[KnowledgeItem]:
        self._require("knowledge")
        params = {
            "agent_id": check_id(agent_id, "agent_id"),
            "id": check_optional_id(id, "id"),
            "limit": check_count(limit, "limit") if limit is not None else None,
        }
        rows = self._run(
            lambda c, _: c.execute(
                f"SELECT {self._K_COLUMNS} FROM knowledge "
                'WHERE ("agentId" = %(agent_id)s OR "isShared") AND (%(id)s::uuid IS NULL OR "id" = %(id)s) '
                'ORDER BY "createdAt" DESC, "id" LIMIT %(limit)s',
                params,
                binary=True,
            ).fetchall()
        )
        return [_knowledge(r) for r in rows]

    def search_knowledge(
        self,
        *,
        agent_id: IdLike,
        embedding: Vector,
        match_threshold: float,
        match_count: int,
        search_text: str | None = None,
    ) -> list[KnowledgeItem]:
        self._require("knowledge")
        check_text(search_text, "search_text", optional=True)
        params = {
            "agent_id": check_id(agent_id, "agent_id"),
            "q": check_embedding(embedding, self._knowledge_dimension(), allow_zero=False),
            "threshold": check_threshold(match_threshold),
            "k": check_count(match_count, "match_count", minimum=1, maximum=10_000),
        }
        st, cap = self.statements, self.settings.exact_search_max_rows

        def search(c: Conn, _: int) -> list[Any]:
            (n,) = c.execute(st.text("count_knowledge_bounded"), {**params, "cap": cap + 1}).fetchone() or (0,)
            return c.execute(st.text("search_knowledge", n <= cap), params, binary=True).fetchall()

        rows = self._run(search, read_only=True, atomic=False)
        return [_knowledge(r[:9], distance=r[9]) for r in rows]

    def _knowledge_dimension(self) -> int:
        p = self.profile
        return (p.knowledge_dimension if p and p.knowledge_dimension else None) or self.embedding_dimension

    def create_knowledge(self, knowledge: KnowledgeItem) -> None:
        self._require("knowledge")
        if not isinstance(knowledge, KnowledgeItem):
            raise InvalidInput(f"expected a KnowledgeItem, got {type(knowledge).__name__}")
        if knowledge.is_shared == (knowledge.agent_id is not None):
            raise InvalidInput("a shared knowledge item has no agent_id; an agent's own item must have one")
        emb = None if knowledge.embedding is None else check_embedding(knowledge.embedding, self._knowledge_dimension())
        values = (
            check_id(knowledge.id, "knowledge.id"),
            check_optional_id(knowledge.agent_id, "knowledge.agent_id"),
            Jsonb(check_content(knowledge.content, "knowledge.content")),
            emb,
            bool(knowledge.is_main),
            check_optional_id(knowledge.original_id, "knowledge.original_id"),
            knowledge.chunk_index
            if knowledge.chunk_index is None
            else check_count(knowledge.chunk_index, "chunk_index", maximum=10**9),
            bool(knowledge.is_shared),
        )
        q = sql.SQL("%s::{}").format(sql.SQL(self.profile.vector_type if self.profile else "vector"))

        def insert(c: Conn, attempt: int) -> None:
            row = c.execute(
                sql.SQL(
                    'INSERT INTO knowledge ("id", "agentId", "content", "embedding", "isMain", "originalId", '
                    '"chunkIndex", "isShared") VALUES (%s, %s, %s, {}, %s, %s, %s, %s) '
                    'ON CONFLICT ("id") DO NOTHING RETURNING "id"'
                ).format(q),
                values,
            ).fetchone()
            if row is None and attempt == 0:
                raise DuplicateId(f"knowledge item {values[0]} already exists")

        self._run(insert)

    def remove_knowledge(self, knowledge_id: IdLike) -> bool:
        self._require("knowledge")
        kid = check_id(knowledge_id, "knowledge_id")
        return self._run(
            lambda c, _: (
                c.execute('DELETE FROM knowledge WHERE "id" = %s OR "originalId" = %s', (kid, kid)).rowcount > 0
            )
        )

    def clear_knowledge(self, agent_id: IdLike, shared: bool = False) -> int:
        self._require("knowledge")
        aid = check_id(agent_id, "agent_id")
        return self._run(
            lambda c, _: (
                c.execute(
                    'DELETE FROM knowledge WHERE "agentId" = %s OR (%s AND "isShared")', (aid, bool(shared))
                ).rowcount
            )
        )

    # -- cache ----------------------------------------------------------------------------------------------
    def _cache_key(self, key: Any, agent_id: Any) -> tuple[str, str]:
        self._require("cache")
        return check_indexed_text(key, "key") or "", str(check_id(agent_id, "agent_id"))

    def get_cache(self, *, key: str, agent_id: IdLike) -> str | None:
        k, a = self._cache_key(key, agent_id)
        row = self._run(
            lambda c, _: c.execute('SELECT "value" FROM cache WHERE "key" = %s AND "agentId" = %s', (k, a)).fetchone()
        )
        if row is None:
            return None
        value = row[0]
        # okai-insight stores the string as a JSON string; ElizaOS rows hold the parsed JSON document.
        return value if isinstance(value, str) else _json.dumps(value)

    def set_cache(self, *, key: str, agent_id: IdLike, value: str) -> bool:
        k, a = self._cache_key(key, agent_id)
        v = check_cache_value(value)
        self._run(
            lambda c, _: c.execute(
                'INSERT INTO cache ("key", "agentId", "value") VALUES (%s, %s, %s) '
                'ON CONFLICT ("key", "agentId") DO UPDATE SET "value" = EXCLUDED."value", '
                '"createdAt" = CURRENT_TIMESTAMP',
                (k, a, Jsonb(v)),
            )
        )
        return True

    def delete_cache(self, *, key: str, agent_id: IdLike) -> bool:
        k, a = self._cache_key(key, agent_id)
        return self._run(
            lambda c, _: c.execute('DELETE FROM cache WHERE "key" = %s AND "agentId" = %s', (k, a)).rowcount > 0
        )


def _content(value: Any) -> Any:
    """A memory's content as the jsonb loader returned it: an object; or, from writers that stored the object's
    JSON text as a jsonb string, that text decoded; anything else as it is (a read never fails on a row)."""
    if isinstance(value, str):
        try:
            return _json.loads(value)
        except ValueError:
            return value
    return value


def _jsonb_text(text: str) -> Jsonb:
    """A jsonb parameter from JSON text already produced (and checked) by content_json: serialised once."""
    return Jsonb(text, dumps=_unchanged)


def _unchanged(text: Any) -> str:
    return str(text)


def _detail(exc: psycopg.Error) -> str:
    diag = exc.diag
    return (diag.message_detail or diag.message_primary or str(exc)).strip()


def _goal(r: Sequence[Any]) -> Goal:
    return Goal.from_stored(
        id=r[0], room_id=r[1], user_id=r[2], name=r[3], status=r[4], objectives=r[5], description=r[6], created_at=r[7]
    )


def _knowledge(r: Sequence[Any], distance: float | None = None) -> KnowledgeItem:
    return KnowledgeItem(
        id=r[0],
        agent_id=r[1],
        content=r[2],
        embedding=None if r[3] is None else np.asarray(r[3].to_numpy(), dtype=np.float32),
        created_at=r[4],
        is_main=bool(r[5]),
        original_id=r[6],
        chunk_index=r[7],
        is_shared=bool(r[8]),
        similarity=None if distance is None else 1.0 - float(distance),
    )


__all__ = ["OkaiError", "PostgresAdapter", "register"]
