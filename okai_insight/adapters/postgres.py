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

import contextlib
import datetime as dt
import operator
import re
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import psycopg
import psycopg_pool
from psycopg import sql
from psycopg.abc import Buffer, Params
from psycopg.rows import RowFactory
from psycopg.types.json import Jsonb, JsonbBinaryDumper

from okai_insight import _json
from okai_insight.adapters import _bulk_load
from okai_insight.adapters._checked import CheckedGoal, CheckedKnowledge, CheckedMemory, MemoryBatch
from okai_insight.adapters._pg_connect import (
    GuardedPool,
    call_timeout_s,
    connection_kwargs,
    retry_limits,
    set_session_timeouts,
)
from okai_insight.adapters._pg_health import ConnectionHealth, explain_failure, recording_connection_class
from okai_insight.adapters._pg_json import register_json_loader
from okai_insight.adapters._pg_memory_rows import counted_memories, memories, raw_memory_columns
from okai_insight.adapters._pg_profile_sql import MemoryQueryShape, ProfileSql
from okai_insight.adapters._pg_rows import by_name
from okai_insight.adapters._pg_vector import register_vector_types
from okai_insight.adapters._pg_watchdog import WATCHDOG
from okai_insight.adapters._retry import with_retries
from okai_insight.adapters.base import CacheQuery, KeysetPaging, MemoryPage, MemorySearch
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
from okai_insight.schema._citus import any_memory_exists
from okai_insight.schema._migrate import vector_type_for
from okai_insight.settings import Settings

T = TypeVar("T")
#: How many large filtered sets (room, agent...) PostgresAdapter._search remembers, to send their HNSW search early.
_LARGE_FILTERS_KEPT = 1024
Query = str | sql.SQL | sql.Composed  # what the helpers below run
Conn = psycopg.Connection[Any]

#: Above this many dimensions the planner may price an HNSW scan above a full sort (seen at 1536), so searches
#: switch sorting off for their one statement.
WIDE_VECTOR_DIMENSIONS = 512

#: Settings for one statement's HNSW scan, inside its transaction (see PostgresAdapter._index_settings).
_LOCAL_INDEX_SETTINGS = "SELECT set_config('enable_sort', %s, true), set_config('hnsw.ef_search', %s, true)"
#: How long a verdict of PostgresAdapter._plain_plan_keeps_index stands, in seconds.
_PLAN_CHECK_S = 300.0


def _numbered(query: str) -> str:
    """``query`` with its named placeholders as $1, $2, ... in order of first use (for EXPLAIN (GENERIC_PLAN)).

    Example:
        >>> _numbered("SELECT %(a)s, %(b)s, %(a)s")
        'SELECT $1, $2, $1'
    """
    order: dict[str, int] = {}
    return _PLACEHOLDER.sub(lambda m: f"${order.setdefault(m.group(1), len(order) + 1)}", query)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _plans_keep_index(custom: Any, generic: Any) -> bool:
    """Whether a statement planned as ``custom`` (with its values) and ``generic`` (EXPLAIN (GENERIC_PLAN)), both
    EXPLAIN (FORMAT JSON), runs without sorting: the custom plan does not sort, and the generic plan does not
    either or is estimated dearer, so PostgreSQL never switches to it (a margin covers the planning cost it adds to
    custom plans). 50k x 1536, ef_search 40: custom 2,582 without a sort, generic 9,783 with one: True.

    Example:
        >>> index = [{"Plan": {"Node Type": "Limit", "Total Cost": 2581.7, "Plans": [{"Node Type": "Index Scan"}]}}]
        >>> sort = [{"Plan": {"Node Type": "Limit", "Total Cost": 9782.5, "Plans": [{"Node Type": "Sort"}]}}]
        >>> cheap_sort = [{"Plan": {"Node Type": "Limit", "Total Cost": 900.0, "Plans": [{"Node Type": "Sort"}]}}]
        >>> _plans_keep_index(index, sort), _plans_keep_index(sort, index), _plans_keep_index(index, cheap_sort)
        (True, False, False)
    """
    if _sorts(custom):
        return False
    return not _sorts(generic) or _cost(generic) > 1.1 * _cost(custom) + 10


def _cost(plan: Any) -> float:
    """The estimated total cost of an EXPLAIN (FORMAT JSON) plan.

    Example:
        >>> _cost([{"Plan": {"Node Type": "Limit", "Total Cost": 12.5}}])
        12.5
    """
    return float(plan[0]["Plan"]["Total Cost"])


def _sorts(plan: Any) -> bool:
    """Whether an EXPLAIN (FORMAT JSON) plan has a sort node anywhere.

    Example:
        >>> _sorts([{"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort"}]}}])
        True
    """
    stack = [entry["Plan"] for entry in plan]
    while stack:
        node = stack.pop()
        if node.get("Node Type") in ("Sort", "Incremental Sort"):
            return True
        stack.extend(node.get("Plans", ()))
    return False


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


class PostgresAdapter(KeysetPaging):
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
        self._sql: ProfileSql | None = None
        self.embedding_dimension = self._requested_dimension
        #: Sends read-only transactions to replicas (``okai_insight.adapters.routing.ReplicaRouter``); built by
        #: init() from ``Settings.replica_urls``. None: everything runs on ``url``.
        self.router: ReadRouter | None = None
        #: The outcome of the pool's connection attempts: why the database is unreachable, if it is.
        self._health = ConnectionHealth(url, probe_timeout_s=self.settings.connect_timeout_s)
        self._limits: dict[str, Any] | None = None
        #: Filtered searches whose set was larger than exact_search_max_rows last time (see _search), oldest first.
        self._large_filters: dict[tuple[Any, ...], None] = {}
        #: per query shape: when the plain search statement's plans were last checked, and whether they keep the
        #: vector index (see _plain_plan_keeps_index)
        self._plain_plans: dict[MemoryQueryShape, tuple[float, bool]] = {}

    # -- lifecycle ------------------------------------------------------------------------------------------
    def init(self) -> None:
        s = self.settings

        def _migrate(_attempt: int) -> SchemaProfile:
            with psycopg.connect(self.url, **connection_kwargs(self.url, s, autocommit=True)) as conn:
                # A migration waits for no lock longer than a call would, but may build an index for minutes.
                set_session_timeouts(conn, s, statement=False)
                return migrate(conn, dimension=self._explicit_dimension, default_dimension=self._requested_dimension)

        with translate_pg_errors("creating or checking okai-insight's schema"):
            profile = with_retries(_migrate, **retry_limits(s), explain=self._explain_failure)
        self.profile = profile
        self._sql = ProfileSql(profile)
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
    def profile_sql(self) -> ProfileSql:
        """The SQL texts for this database's schema profile (set by ``init()``)."""
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
        limits = self._call_limits()
        bound_s = limits["bound_s"]

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
            return with_retries(attempt, **limits["retry"], explain=self._explain_failure)

    def _call_limits(self) -> dict[str, Any]:
        """The retry limits and the client-side bound of a call, for the current :attr:`settings` (kept: they were
        recomputed on every call, a few µs of the hot path)."""
        s = self.settings
        cached = self._limits
        if cached is None or cached["settings"] is not s:
            cached = self._limits = {"settings": s, "bound_s": call_timeout_s(s), "retry": retry_limits(s)}
        return cached

    def _begin(self, conn: Conn) -> None:
        """Run at the start of every transaction :meth:`_run` opens (a hook: a subclass sets its role here)."""

    @property
    def _needs_transaction(self) -> bool:
        # A subclass that sets per-transaction state in _begin (Supabase's role and JWT claims) needs a transaction
        # around every call, or SET LOCAL would not reach the statement.
        return type(self)._begin is not PostgresAdapter._begin

    #: False where COPY FROM into the table is not allowed (row level security): batches go through a temp table.
    _copy_into_table = True

    def _require(self, what: str) -> None:
        p = self.profile
        assert p is not None, "init() first"
        if (what == "cache" and not p.has_cache) or (what == "knowledge" and not p.has_knowledge):
            raise FeatureNotAvailable(f"this database has no {what} table (an older ElizaOS schema?)")
        if what == "logs" and not p.has_logs:
            raise FeatureNotAvailable("this database has no logs table")

    # -- accounts -------------------------------------------------------------------------------------------
    def _do_get_account_by_id(self, user_id: uuid.UUID) -> Account | None:
        rows = self._run(
            lambda c, _: _rows(
                c,
                _ACCOUNTS,
                'SELECT "id", "name", "username", "email", "avatarUrl", "details", "createdAt" '
                'FROM accounts WHERE "id" = %s',
                (user_id,),
            )
        )
        return rows[0] if rows else None

    def _do_create_account(self, account: Account) -> bool:
        aid = account.id

        def insert(c: Conn, attempt: int) -> bool:
            try:
                with c.transaction():
                    c.execute(
                        'INSERT INTO accounts ("id", "name", "username", "email", "avatarUrl", "details") '
                        "VALUES (%s, %s, %s, %s, %s, %s)",
                        (
                            aid,
                            account.name,
                            account.username,
                            account.email,
                            account.avatar_url,
                            Jsonb(account.details),
                        ),
                    )
                return True
            except psycopg.errors.UniqueViolation:
                # On a retry the first attempt may have committed: the same account existing counts as success.
                return attempt > 0 and self._account_matches(c, aid, account.email)

        return self._run(insert)

    @staticmethod
    def _account_matches(c: Conn, aid: uuid.UUID, email: str) -> bool:
        return _values(c, 'SELECT "email" FROM accounts WHERE "id" = %s', (aid,)) == [email]

    def _do_get_actor_details(self, room_id: uuid.UUID) -> list[Actor]:
        return self._run(
            lambda c, _: _rows(
                c,
                _ACTORS,
                'SELECT a."id", a."name", a."username", a."details" FROM participants AS p '
                'JOIN accounts AS a ON a."id" = p."userId" WHERE p."roomId" = %s ORDER BY a."name", a."id"',
                (room_id,),
            )
        )

    # -- memories -------------------------------------------------------------------------------------------
    def _do_get_memories(self, page: MemoryPage) -> list[Memory]:
        params: dict[str, Any] = {
            "type": page.type,
            "room_id": page.room_id,
            "agent_id": page.agent_id,
            "start": page.start,
            "end": page.end,
            "limit": page.limit,
        }
        if page.before is not None:
            params["before_ts"], params["before_id"] = page.before
        f = MemoryQueryShape(room=True, agent=page.agent_id is not None, unique=page.unique)
        query = self.profile_sql.get_memories(
            f,
            start=page.start is not None,
            end=page.end is not None,
            before=page.before is not None,
            limit=page.limit is not None,
        )
        return self._run(lambda c, _: _memory_rows(c, query, params), read_only=True, atomic=False)

    def _do_get_memory_by_id(self, memory_id: uuid.UUID) -> Memory | None:
        query = sql.SQL('SELECT {} FROM memories AS m WHERE m."id" = %(id)s').format(self.profile_sql.memory_columns)
        rows = self._run(lambda c, _: _memory_rows(c, query, {"id": memory_id}), read_only=True, atomic=False)
        return rows[0] if rows else None

    def _do_get_memories_by_ids(self, ids: list[uuid.UUID], memory_type: str | None) -> list[Memory]:
        params: dict[str, Any] = {"ids": ids}
        where: sql.Composable = sql.SQL('m."id" = ANY(%(ids)s)')
        if memory_type is not None:
            params["type"] = memory_type
            where = where + sql.SQL(' AND m."type" = %(type)s')
        query = sql.SQL('SELECT {} FROM memories AS m WHERE {} ORDER BY m."createdAt" DESC, m."id"').format(
            self.profile_sql.memory_columns, where
        )
        return self._run(lambda c, _: _memory_rows(c, query, params), read_only=True, atomic=False)

    def _do_get_memories_by_room_ids(
        self, room_ids: list[uuid.UUID], memory_type: str, agent_id: uuid.UUID | None, limit: int | None
    ) -> list[Memory]:
        params: dict[str, Any] = {"type": memory_type, "room_ids": room_ids, "agent_id": agent_id, "limit": limit}
        f = MemoryQueryShape(rooms=True, agent=agent_id is not None)
        query = sql.SQL('SELECT {} FROM memories AS m WHERE {} ORDER BY m."createdAt" DESC, m."id" DESC').format(
            self.profile_sql.memory_columns, self.profile_sql.memory_where(f)
        )
        if limit is not None:
            query = query + sql.SQL(" LIMIT %(limit)s")
        return self._run(lambda c, _: _memory_rows(c, query, params), read_only=True, atomic=False)

    def _do_get_cached_embeddings(self, query: CacheQuery) -> list[CachedEmbedding]:
        params = query.params()
        # ElizaOS stores the text at content.<sub_name> when field_name is "content"; both layouts are read.
        statement = """
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
        return self._run(lambda c, _: _rows(c, _CACHED, statement, params), read_only=True, atomic=False)

    def _do_log(self, body: dict[str, Any], user_id: uuid.UUID, room_id: uuid.UUID, type: str) -> None:
        params = (uuid.uuid4(), Jsonb(body), user_id, room_id, type)  # the id is fixed before a retry

        def insert(c: Conn, _: int) -> None:
            c.execute(
                'INSERT INTO logs ("id", "body", "userId", "roomId", "type") VALUES (%s, %s, %s, %s, %s) '
                'ON CONFLICT ("id") DO NOTHING',
                params,
            )

        self._run(insert)

    def _do_search_memories(self, q: Embedding, search: MemorySearch) -> list[Memory]:
        params: dict[str, Any] = {
            "q": q,
            "type": search.type,
            "room_id": search.room_id,
            "agent_id": search.agent_id,
            "threshold": -1.0 if search.threshold is None else search.threshold,
            "k": search.k,
        }
        f = MemoryQueryShape(room=search.room_id is not None, agent=search.agent_id is not None, unique=search.unique)
        return self._run(lambda c, _: self._search(c, f, params), read_only=True, atomic=False)

    def _search(self, c: Conn, f: MemoryQueryShape, params: dict[str, Any]) -> list[Memory]:
        if not (f.room or f.agent or f.unique):
            local = self._search_settings(c, f, params)
            if local is None:
                query = self.profile_sql.text("search_nearest", f)
                cur = _search_cursor(c)
                return _nearest_first(
                    memories(cur, cur.execute(query, params, binary=True).fetchall()), params["threshold"]
                )
            with c.pipeline():
                cur = self._send_index_search(c, f, params, local)
            return _nearest_first(memories(cur, cur.fetchall()), params["threshold"])
        # Filtered: one statement searches the filtered set exactly and counts it (up to the cap), so the common
        # case (a room of at most exact_search_max_rows memories) is one round trip of one prepared statement. A
        # larger set needs the HNSW search: a set seen large before gets its bounded count (an index-only scan)
        # and the HNSW search in one pipeline, one round trip; one seen small or new a second round trip after
        # the exact statement said "large". The count always decides, so a remembered size only saves time,
        # never changes a result.
        cap = self.settings.exact_search_max_rows
        counted_params = {**params, "cap": cap + 1}
        key = (f, params["type"], params["room_id"], params["agent_id"])
        large = self._large_filters
        if key in large:
            local = self._search_settings(c, f, params)
            with c.pipeline():
                counted = c.execute(self.profile_sql.text("count_bounded", f), counted_params)
                indexed = self._send_index_search(c, f, params, local)
            row = counted.fetchone()
            if row is not None and row[0] > cap:
                return _nearest_first(memories(indexed, indexed.fetchall()), params["threshold"])
            large.pop(key, None)  # it has shrunk: searched exactly below (a second round trip, once)
        cur = _search_cursor(c)
        cur.execute(self.profile_sql.text("search_exact_counted", f), counted_params, binary=True)
        filtered_rows, exact = counted_memories(cur, cur.fetchall(), "filtered_rows")
        if filtered_rows is None or filtered_rows <= cap:
            return _nearest_first(exact, params["threshold"])
        large[key] = None
        if len(large) > _LARGE_FILTERS_KEPT:
            # the oldest goes: a bounded memory, not a cache of every room (another thread may be at it)
            with contextlib.suppress(KeyError, RuntimeError, StopIteration):
                del large[next(iter(large))]
        local = self._search_settings(c, f, params)
        with c.pipeline():
            indexed = self._send_index_search(c, f, params, local)
        return _nearest_first(memories(indexed, indexed.fetchall()), params["threshold"])

    def _send_index_search(
        self, c: Conn, f: MemoryQueryShape, params: dict[str, Any], local: tuple[str, str] | None
    ) -> psycopg.Cursor[Any]:
        """Queue the HNSW search on ``c``, in a pipeline the caller has open; its cursor has the rows after it,
        for :func:`memories` and :func:`_nearest_first` (the statement leaves NaN, threshold and final order to the
        client).

        With per-statement settings ``local`` (see :meth:`_search_settings`) it runs in a transaction: BEGIN,
        settings, query, COMMIT, all in the same round trip.
        """
        query = self.profile_sql.text("search_nearest", f)
        if local is None:
            return _search_cursor(c).execute(query, params, binary=True)
        in_transaction = c.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
        if not in_transaction:
            c.execute("BEGIN")
        c.execute(_LOCAL_INDEX_SETTINGS, local)
        cur = raw_memory_columns(c.cursor()).execute(query, params, binary=True)
        if not in_transaction:
            c.execute("COMMIT")
        return cur

    def _search_settings(self, c: Conn, f: MemoryQueryShape, params: dict[str, Any]) -> tuple[str, str] | None:
        """:meth:`_index_settings` for one HNSW search, except that wide vectors with k <= ef_search go without
        settings while the planner keeps the index for the plain statement (:meth:`_plain_plan_keeps_index`).

        The settings cost a transaction around the search (BEGIN, settings, COMMIT: four statements in the round
        trip, 1.25x raw psycopg's time at 50k x 1536, ef_search 40, where the plain statement's plan was the index
        scan anyway; 2026-12-05).
        """
        local = self._index_settings(params["k"])
        if local is None or params["k"] > (self.settings.hnsw_ef_search or 40):
            return local
        return None if self._plain_plan_keeps_index(c, f, params) else local

    def _plain_plan_keeps_index(self, c: Conn, f: MemoryQueryShape, params: dict[str, Any]) -> bool:
        """Whether PostgreSQL runs the plain search statement (:meth:`ProfileSql.search_nearest`) for shape ``f``
        through the vector index: its plan with these values (every execution's until a prepared statement may
        switch) does not sort, and the generic plan either does not sort either or costs more than that plan
        (PostgreSQL switches a prepared statement to its generic plan only when it is estimated cheaper than the
        custom plans; plancache.c's choose_custom_plan). Asked with EXPLAIN, and again after ``_PLAN_CHECK_S``
        (the choice moves as the table grows); False when it cannot tell (PostgreSQL before 16 has no EXPLAIN
        (GENERIC_PLAN); a Citus table merges its shards' rows with a sort), which keeps the per-statement settings.
        """
        now = time.monotonic()
        known = self._plain_plans.get(f)
        if known is not None and now - known[0] < _PLAN_CHECK_S:
            return known[1]
        query = self.profile_sql.text("search_nearest", f)
        custom = generic = None
        # In a transaction of its own, rolled back (psycopg.Rollback leaves the block quietly): an EXPLAIN that
        # fails leaves the connection as it was.
        with contextlib.suppress(psycopg.Error), c.transaction():
            custom = c.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()
            generic = c.execute("EXPLAIN (GENERIC_PLAN, FORMAT JSON) " + _numbered(query)).fetchone()
            raise psycopg.Rollback
        keeps = custom is not None and generic is not None and _plans_keep_index(custom[0], generic[0])
        self._plain_plans[f] = (now, keeps)
        return keeps

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

    def _check_memory(self, memory: Any, memory_type: str, dimension: int, **known: Any) -> CheckedMemory:
        checked = super()._check_memory(memory, memory_type, dimension, **known)
        if checked.agent_id is None and self.profile is not None and self.profile.partition_key == "agentId":
            raise InvalidInput(
                "memory.agent_id is required: this database's memories are partitioned by agent "
                "(okai-insight partition), so every memory belongs to one agent's partition"
            )
        return checked

    def _do_create_memory(self, memory: CheckedMemory, unique: bool) -> uuid.UUID:
        params = _memory_params(memory)
        emb = memory.embedding
        insert = self.profile_sql.text("insert_memory")
        check = bool(unique and emb is not None and np.any(emb))

        def write(c: Conn, attempt: int) -> uuid.UUID:
            if check:
                # Check and insert under one per-room lock, in one transaction: two writers storing the same
                # message at once cannot both find "no near-duplicate" and both be marked unique. The lock is
                # taken by its own statement before the insert starts, so the insert's snapshot (a new one per
                # statement) sees every row a writer committed before releasing it. Sent as one pipeline: one
                # round trip for BEGIN, lock, settings, the checked insert and COMMIT.
                f = MemoryQueryShape(room=memory.room_id is not None)
                checked = {
                    **params,
                    "q": emb,
                    "threshold": self.settings.duplicate_threshold,
                    "k": 1,
                    "cap": self.settings.exact_search_max_rows + 1,
                }
                key = f"okai-unique:{memory.type}:{memory.room_id}"
                with c.pipeline(), c.transaction():
                    c.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))
                    local = self._index_settings(1)
                    if local is not None:
                        c.execute(_LOCAL_INDEX_SETTINGS, local)
                    # Planned for its own values on every call, never prepared: after five runs PostgreSQL may switch
                    # a prepared statement to a generic plan, costed with both branches and a LIMIT of unknown
                    # size, whose index branch reads the whole room instead of the index (seen in the tests).
                    cur = c.execute(self.profile_sql.text("insert_memory", f), checked, prepare=False)
                inserted = cur.fetchone() is not None
            else:
                inserted = c.execute(insert, params).fetchone() is not None
            if not inserted and attempt == 0:
                raise DuplicateId(f"a memory with id {memory.id} already exists")
            return memory.id

        return self._run(write, atomic=False)

    def create_memories(
        self, memories: Sequence[Memory], table_name: str, *, progress: bool = False
    ) -> list[uuid.UUID]:
        """Store many memories at once with binary COPY and return their ids; all or nothing.

        A batch large against its table (``Settings.bulk_load_min_rows`` and ``bulk_load_min_fraction``, measured
        defaults in ``okai_insight.adapters._bulk_load``) is loaded without the vector index, which is built once
        afterwards; ``progress`` shows bars with rows/s and the index build's progress.

        Example:
            >>> ids = db.create_memories(memories, "messages", progress=True)    # doctest: +SKIP
        """
        batch = MemoryBatch(memories, self._memory_type(table_name), self.embedding_dimension, self._check_memory)
        if not len(batch):
            return []
        return self._create_memories(batch, progress=progress)

    def _do_create_memories(self, batch: MemoryBatch) -> list[uuid.UUID]:
        return self._create_memories(batch, progress=False)

    @property
    def bulk_load_possible(self) -> bool:
        """The bulk path drops and builds the index: only on okai's plain schema with an index to build, as the
        table's owner (not through Supabase's per-transaction roles or row level security), and not switched off
        (``Settings.bulk_load``).

        Example:
            >>> db.bulk_load_possible                                         # doctest: +SKIP
            True
        """
        p = self.profile
        return (
            self.settings.bulk_load
            and p is not None
            and self._copy_into_table
            and not self._needs_transaction
            and p.partition_key is None
            and vector_type_for(self.embedding_dimension)[1] is not None
        )

    def bulk_loader(self, conn: Conn, *, progress: bool = False) -> _bulk_load.BulkLoad:
        """A bulk loader of memories on ``conn`` (autocommit, from :attr:`pool`): drops the vector index before a
        load and builds it once after (used by create_memories and ``okai-insight copy``).

        Example:
            >>> with db.pool.connection() as conn:                            # doctest: +SKIP
            ...     db.bulk_loader(conn).drop_indexes()
        """
        s = self.settings
        return _bulk_load.BulkLoad(
            conn,
            self.url,
            vector_type=self.profile.vector_type if self.profile else "vector",
            dimension=self.embedding_dimension,
            base_timeout_ms=s.adapter_statement_timeout_ms,
            connect_timeout_s=s.connect_timeout_s,
            progress=progress,
        )

    def _bulk_load(self, rows: int, write_rows: Callable[[Any], None], progress: bool) -> None:
        """One bulk load on a connection of its own (see okai_insight.adapters._bulk_load), not retried: a
        connection lost mid-load rolls it back, and the next call repairs the index."""
        with self.pool.connection() as conn, translate_pg_errors():
            try:
                self.bulk_loader(conn, progress=progress).run(rows, self.profile_sql.copy_memories, write_rows)
            except psycopg.errors.UniqueViolation as exc:
                raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc

    def _create_memories(self, batch: MemoryBatch, *, progress: bool) -> list[uuid.UUID]:
        ids = batch.ids
        vtype = self.profile.vector_type if self.profile else "vector"
        types = ["uuid", "text", "timestamptz", "jsonb", vtype, "uuid", "uuid", "uuid", "bool"]
        now = dt.datetime.now(dt.UTC)
        halfvec = vtype == "halfvec"
        if halfvec:
            from pgvector import HalfVector

        def write_rows(cp: Any) -> None:
            # Each row is checked as it is written (MemoryBatch iterates lazily), so Python's checks overlap the
            # server's work; a refused row raises inside the COPY, which aborts it whole: nothing is stored.
            # The content column takes the JSON text content_json already produced (see _JsonbText).
            cp.cursor.adapters.register_dumper(_JsonbText, _JsonbTextBinaryDumper)
            cp.set_types(types)
            write = cp.write_row
            for m in batch:
                e: Any = m.embedding
                if halfvec and e is not None:
                    e = HalfVector(e)
                write((m.id, m.type, m.created_at or now, m.content, e, m.user_id, m.agent_id, m.room_id, m.unique))

        if self.bulk_load_possible:
            state = self._run(lambda c, _: _bulk_load.index_state(c), atomic=False)
            if state.relkind == "r" and (
                state.needs_repair
                or _bulk_load.takes_bulk_path(
                    len(ids),
                    state.table_rows,
                    min_rows=self.settings.bulk_load_min_rows or _bulk_load.BULK_LOAD_MIN_ROWS,
                    min_fraction=self.settings.bulk_load_min_fraction or _bulk_load.BULK_LOAD_MIN_FRACTION,
                )
            ):
                self._bulk_load(len(ids), write_rows, progress)
                return ids

        def copy(c: Conn, attempt: int) -> list[uuid.UUID]:
            if attempt == 0 and self._copy_into_table:
                try:
                    # One COPY statement: atomic by itself in autocommit, one round trip.
                    with c.cursor().copy(self.profile_sql.copy_memories()) as cp:
                        write_rows(cp)
                    return ids
                except psycopg.errors.UniqueViolation as exc:
                    raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc
                except psycopg.errors.InternalError_ as exc:
                    # Citus's distributed COPY reports a shard's unique violation without its SQLSTATE (XX000).
                    if self.profile is not None and self.profile.distributed and any_memory_exists(c, ids):
                        raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc
                    raise
            # Through a temp table: where COPY into the table is not allowed, or on a retry after a lost
            # connection (the first COPY may have committed, so only the missing rows are inserted).
            staging = f"okai_copy_{uuid.uuid4().hex[:12]}"
            with c.transaction():
                c.execute(
                    sql.SQL("CREATE TEMP TABLE {} (LIKE memories INCLUDING DEFAULTS) ON COMMIT DROP").format(
                        sql.Identifier(staging)
                    )
                )
                with c.cursor().copy(self.profile_sql.copy_memories(staging)) as cp:
                    write_rows(cp)
                insert = sql.SQL("INSERT INTO memories SELECT * FROM {}").format(sql.Identifier(staging))
                if attempt == 0:
                    try:
                        with c.transaction():
                            c.execute(insert)
                    except psycopg.errors.UniqueViolation as exc:
                        raise DuplicateId(f"a memory in the batch already exists: {_detail(exc)}") from exc
                else:
                    c.execute(insert + sql.SQL(" ON CONFLICT {} DO NOTHING").format(self.profile_sql.memory_key))
            return ids

        return self._run(copy, atomic=False)

    def _do_remove_memory(self, memory_id: uuid.UUID, memory_type: str) -> bool:
        params = (memory_id, memory_type)
        return self._run(
            lambda c, _: c.execute('DELETE FROM memories WHERE "id" = %s AND "type" = %s', params).rowcount > 0
        )

    def _do_remove_all_memories(self, room_id: uuid.UUID, memory_type: str) -> int:
        params = (room_id, memory_type)
        return self._run(
            lambda c, _: c.execute('DELETE FROM memories WHERE "roomId" = %s AND "type" = %s', params).rowcount
        )

    def _do_count_memories(self, room_id: uuid.UUID, memory_type: str, unique: bool) -> int:
        params = {"room_id": room_id, "type": memory_type}
        f = MemoryQueryShape(room=True, unique=unique)
        query = sql.SQL("SELECT count(*) FROM memories AS m WHERE {}").format(self.profile_sql.memory_where(f))
        return self._run(lambda c, _: _count(c, query, params), read_only=True, atomic=False)

    # -- goals ----------------------------------------------------------------------------------------------
    def _do_get_goals(
        self, room_id: uuid.UUID, user_id: uuid.UUID | None, only_in_progress: bool, limit: int
    ) -> list[Goal]:
        params = {"room_id": room_id, "user_id": user_id, "limit": limit, "in_progress": only_in_progress}
        return self._run(
            lambda c, _: _rows(
                c,
                _GOALS,
                'SELECT "id", "roomId", "userId", "name", "status", "objectives", "description", "createdAt" '
                'FROM goals WHERE "roomId" = %(room_id)s '
                'AND (%(user_id)s::uuid IS NULL OR "userId" = %(user_id)s) '
                "AND (NOT %(in_progress)s OR \"status\" = 'IN_PROGRESS') "
                'ORDER BY "createdAt", "id" LIMIT %(limit)s',
                params,
            )
        )

    def _do_update_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> None:
        values = (goal.name, goal.status.value, goal.description, Jsonb(goal.objectives), goal_id)
        updated = self._run(
            lambda c, _: (
                c.execute(
                    'UPDATE goals SET "name" = %s, "status" = %s, "description" = %s, "objectives" = %s '
                    'WHERE "id" = %s',
                    values,
                ).rowcount
            )
        )
        if not updated:
            raise NotFound(f"goal {goal_id} does not exist")

    def _do_update_goal_status(self, goal_id: uuid.UUID, status: GoalStatus) -> None:
        updated = self._run(
            lambda c, _: c.execute('UPDATE goals SET "status" = %s WHERE "id" = %s', (status.value, goal_id)).rowcount
        )
        if not updated:
            raise NotFound(f"goal {goal_id} does not exist")

    def _do_create_goal(self, goal_id: uuid.UUID, goal: CheckedGoal) -> uuid.UUID:
        values = (
            goal_id,
            goal.name,
            goal.status.value,
            goal.description,
            Jsonb(goal.objectives),
            goal.room_id,
            goal.user_id,
        )

        def insert(c: Conn, attempt: int) -> uuid.UUID:
            inserted = c.execute(
                'INSERT INTO goals ("id", "name", "status", "description", "objectives", "roomId", "userId") '
                'VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT ("id") DO NOTHING RETURNING "id"',
                values,
            ).fetchone()
            if inserted is None and attempt == 0:
                raise DuplicateId(f"a goal with id {goal_id} already exists")
            return goal_id

        return self._run(insert)

    def _do_remove_goal(self, goal_id: uuid.UUID) -> bool:
        return self._run(lambda c, _: c.execute('DELETE FROM goals WHERE "id" = %s', (goal_id,)).rowcount > 0)

    def _do_remove_all_goals(self, room_id: uuid.UUID) -> int:
        return self._run(lambda c, _: c.execute('DELETE FROM goals WHERE "roomId" = %s', (room_id,)).rowcount)

    # -- rooms and participants -----------------------------------------------------------------------------
    def _do_get_room(self, room_id: uuid.UUID) -> uuid.UUID | None:
        found = self._run(lambda c, _: _values(c, 'SELECT "id" FROM rooms WHERE "id" = %s', (room_id,)), read_only=True)
        return found[0] if found else None

    def _do_create_room(self, room_id: uuid.UUID) -> uuid.UUID:
        def insert(c: Conn, attempt: int) -> uuid.UUID:
            inserted = c.execute(
                'INSERT INTO rooms ("id") VALUES (%s) ON CONFLICT ("id") DO NOTHING RETURNING "id"', (room_id,)
            ).fetchone()
            if inserted is None and attempt == 0:
                raise DuplicateId(f"room {room_id} already exists")
            return room_id

        return self._run(insert)

    def _do_remove_room(self, room_id: uuid.UUID) -> None:
        def delete(c: Conn, _: int) -> bool:
            # Lock the room first: an insert into it (which takes a KEY SHARE lock on the room through its foreign
            # key) either committed before, and is deleted below, or waits and then fails with NotFound. Without the
            # lock a row inserted between the deletes made the last one fail with a foreign key error.
            if c.execute('SELECT 1 FROM rooms WHERE "id" = %s FOR UPDATE', (room_id,)).fetchone() is None:
                return False
            # Explicit deletes: the spec's foreign keys do not cascade (ElizaOS's do; both work).
            for table in ("memories", "participants", "goals", "logs"):
                if table == "logs" and not (self.profile and self.profile.has_logs):
                    continue
                c.execute(sql.SQL('DELETE FROM {} WHERE "roomId" = %s').format(sql.Identifier(table)), (room_id,))
            return c.execute('DELETE FROM rooms WHERE "id" = %s', (room_id,)).rowcount > 0

        if not self._run(delete):
            raise NotFound(f"room {room_id} does not exist")

    def _do_get_rooms_for_participant(self, user_id: uuid.UUID) -> list[uuid.UUID]:
        return self._run(
            lambda c, _: _values(
                c, 'SELECT "roomId" FROM participants WHERE "userId" = %s ORDER BY "roomId"', (user_id,)
            )
        )

    def _do_get_rooms_for_participants(self, user_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        return self._run(
            lambda c, _: _values(
                c, 'SELECT DISTINCT "roomId" FROM participants WHERE "userId" = ANY(%s) ORDER BY "roomId"', (user_ids,)
            )
        )

    def _do_add_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        pid = uuid.uuid4()

        def insert(c: Conn, attempt: int) -> bool:
            # NOT EXISTS keeps this correct on schemas without the (userId, roomId) unique constraint.
            n = c.execute(
                'INSERT INTO participants ("id", "userId", "roomId") SELECT %s, %s, %s '
                'WHERE NOT EXISTS (SELECT 1 FROM participants WHERE "userId" = %s AND "roomId" = %s) '
                "ON CONFLICT DO NOTHING",
                (pid, user_id, room_id, user_id, room_id),
            ).rowcount
            if n == 0 and attempt > 0:
                return bool(c.execute('SELECT 1 FROM participants WHERE "id" = %s', (pid,)).fetchone())
            return n > 0

        return self._run(insert)

    def _do_remove_participant(self, user_id: uuid.UUID, room_id: uuid.UUID) -> bool:
        return self._run(
            lambda c, _: (
                c.execute('DELETE FROM participants WHERE "userId" = %s AND "roomId" = %s', (user_id, room_id)).rowcount
                > 0
            )
        )

    def _do_get_participants_for_account(self, user_id: uuid.UUID) -> list[Participant]:
        query = sql.SQL('SELECT {} FROM participants AS p WHERE p."userId" = %s ORDER BY p."roomId"').format(
            self.profile_sql.participant_columns()
        )
        return self._run(lambda c, _: _rows(c, _PARTICIPANTS, query, (user_id,)), read_only=True, atomic=False)

    def _do_get_participants_for_room(self, room_id: uuid.UUID) -> list[uuid.UUID]:
        return self._run(
            lambda c, _: _values(
                c, 'SELECT "userId" FROM participants WHERE "roomId" = %s ORDER BY "userId"', (room_id,)
            )
        )

    def _do_get_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID) -> UserState | None:
        if not (self.profile and self.profile.has_user_state):
            return None
        states = self._run(
            lambda c, _: _values(
                c, 'SELECT "userState" FROM participants WHERE "roomId" = %s AND "userId" = %s', (room_id, user_id)
            )
        )
        return UserState(states[0]) if states and states[0] else None

    def _do_set_participant_user_state(self, room_id: uuid.UUID, user_id: uuid.UUID, state: str | None) -> None:
        if not (self.profile and self.profile.has_user_state):
            raise FeatureNotAvailable("this database's participants table has no userState column")
        n = self._run(
            lambda c, _: (
                c.execute(
                    'UPDATE participants SET "userState" = %s WHERE "roomId" = %s AND "userId" = %s',
                    (state, room_id, user_id),
                ).rowcount
            )
        )
        if not n:
            raise NotFound(f"account {user_id} does not take part in room {room_id}")

    # -- relationships --------------------------------------------------------------------------------------
    def _do_create_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> bool:
        rel_id = uuid.uuid4()
        self._run(
            lambda c, _: c.execute(
                'INSERT INTO relationships ("id", "userA", "userB", "userId") VALUES (%s, %s, %s, %s) '
                'ON CONFLICT ("id") DO NOTHING',
                (rel_id, user_a, user_b, user_a),
            )
        )
        return True

    _REL_COLUMNS = '"id", "userA", "userB", "userId", "status", "createdAt"'

    def _do_get_relationship(self, user_a: uuid.UUID, user_b: uuid.UUID) -> Relationship | None:
        rows = self._run(
            lambda c, _: _rows(
                c,
                _RELATIONSHIPS,
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE ("userA" = %(a)s AND "userB" = %(b)s) OR ("userA" = %(b)s AND "userB" = %(a)s) '
                'ORDER BY "createdAt", "id" LIMIT 1',
                {"a": user_a, "b": user_b},
            )
        )
        return rows[0] if rows else None

    def _do_get_relationships(self, user_id: uuid.UUID) -> list[Relationship]:
        return self._run(
            lambda c, _: _rows(
                c,
                _RELATIONSHIPS,
                f"SELECT {self._REL_COLUMNS} FROM relationships "
                'WHERE "userA" = %(u)s OR "userB" = %(u)s ORDER BY "createdAt", "id"',
                {"u": user_id},
            )
        )

    # -- knowledge ------------------------------------------------------------------------------------------
    _K_COLUMNS = (
        '"id", "agentId", "content", "embedding", "createdAt", "isMain", "originalId", "chunkIndex", "isShared"'
    )

    def _do_get_knowledge(self, agent_id: uuid.UUID, id: uuid.UUID | None, limit: int | None) -> list[KnowledgeItem]:
        params = {"agent_id": agent_id, "id": id, "limit": limit}
        return self._run(
            lambda c, _: _rows(
                c,
                _KNOWLEDGE,
                f"SELECT {self._K_COLUMNS} FROM knowledge "
                'WHERE ("agentId" = %(agent_id)s OR "isShared") AND (%(id)s::uuid IS NULL OR "id" = %(id)s) '
                'ORDER BY "createdAt" DESC, "id" LIMIT %(limit)s',
                params,
            )
        )

    def _do_search_knowledge(self, agent_id: uuid.UUID, q: Embedding, threshold: float, k: int) -> list[KnowledgeItem]:
        params = {"agent_id": agent_id, "q": q, "threshold": threshold, "k": k}
        st, cap = self.profile_sql, self.settings.exact_search_max_rows

        def search(c: Conn, _: int) -> list[KnowledgeItem]:
            n = _count(c, st.text("count_knowledge_bounded"), {**params, "cap": cap + 1})
            return _rows(c, _KNOWLEDGE, st.text("search_knowledge", n <= cap), params)

        return self._run(search, read_only=True, atomic=False)

    def _knowledge_dimension(self) -> int:
        p = self.profile
        return (p.knowledge_dimension if p and p.knowledge_dimension else None) or self.embedding_dimension

    def _do_create_knowledge(self, knowledge: CheckedKnowledge) -> None:
        values = (
            knowledge.id,
            knowledge.agent_id,
            Jsonb(knowledge.content),
            knowledge.embedding,
            knowledge.is_main,
            knowledge.original_id,
            knowledge.chunk_index,
            knowledge.is_shared,
        )
        q = sql.SQL("%s::{}").format(sql.SQL(self.profile.vector_type if self.profile else "vector"))

        def insert(c: Conn, attempt: int) -> None:
            inserted = c.execute(
                sql.SQL(
                    'INSERT INTO knowledge ("id", "agentId", "content", "embedding", "isMain", "originalId", '
                    '"chunkIndex", "isShared") VALUES (%s, %s, %s, {}, %s, %s, %s, %s) '
                    'ON CONFLICT ("id") DO NOTHING RETURNING "id"'
                ).format(q),
                values,
            ).fetchone()
            if inserted is None and attempt == 0:
                raise DuplicateId(f"knowledge item {knowledge.id} already exists")

        self._run(insert)

    def _do_remove_knowledge(self, knowledge_id: uuid.UUID) -> bool:
        kid = knowledge_id
        return self._run(
            lambda c, _: (
                c.execute('DELETE FROM knowledge WHERE "id" = %s OR "originalId" = %s', (kid, kid)).rowcount > 0
            )
        )

    def _do_clear_knowledge(self, agent_id: uuid.UUID, shared: bool) -> int:
        return self._run(
            lambda c, _: (
                c.execute(
                    'DELETE FROM knowledge WHERE "agentId" = %s OR (%s AND "isShared")', (agent_id, shared)
                ).rowcount
            )
        )

    # -- cache ----------------------------------------------------------------------------------------------
    def _do_get_cache(self, key: str, agent_id: uuid.UUID) -> str | None:
        params = (key, str(agent_id))
        values = self._run(
            lambda c, _: _values(c, 'SELECT "value" FROM cache WHERE "key" = %s AND "agentId" = %s', params)
        )
        if not values:
            return None
        # okai-insight stores the string as a JSON string; ElizaOS rows hold the parsed JSON document.
        return values[0] if isinstance(values[0], str) else _json.dumps(values[0])

    def _do_set_cache(self, key: str, agent_id: uuid.UUID, value: str) -> bool:
        params = (key, str(agent_id), Jsonb(value))
        self._run(
            lambda c, _: c.execute(
                'INSERT INTO cache ("key", "agentId", "value") VALUES (%s, %s, %s) '
                'ON CONFLICT ("key", "agentId") DO UPDATE SET "value" = EXCLUDED."value", '
                '"createdAt" = CURRENT_TIMESTAMP',
                params,
            )
        )
        return True

    def _do_delete_cache(self, key: str, agent_id: uuid.UUID) -> bool:
        params = (key, str(agent_id))
        return self._run(
            lambda c, _: c.execute('DELETE FROM cache WHERE "key" = %s AND "agentId" = %s', params).rowcount > 0
        )


def _jsonb_text(text: str) -> Jsonb:
    """A jsonb parameter from JSON text already produced (and checked) by content_json: serialised once."""
    return Jsonb(text, dumps=_unchanged)


def _unchanged(text: Any) -> str:
    return str(text)


class _JsonbText:
    """Stands for JSON text already serialised and checked, for registering :class:`_JsonbTextBinaryDumper`."""


class _JsonbTextBinaryDumper(JsonbBinaryDumper):
    """Binary jsonb from JSON text as it is (content_json's output), registered by oid on a COPY's cursor only:
    the COPY's content column then takes the text itself, without a Jsonb wrapper and a dumps call per row.

    Example:
        >>> _JsonbTextBinaryDumper(_JsonbText).dump('{"text": "hi"}')
        b'\\x01{"text": "hi"}'
    """

    def dump(self, obj: Any) -> Buffer:
        text: str = obj
        return b"\x01" + text.encode()


def _detail(exc: psycopg.Error) -> str:
    diag = exc.diag
    return (diag.message_detail or diag.message_primary or str(exc)).strip()


def _rows(c: Conn, factory: RowFactory[T], query: Query, params: Params) -> list[T]:
    """Every row of ``query``, each built by ``factory`` from its columns by name (binary results: vectors and
    timestamps are decoded without text parsing)."""
    return c.cursor(row_factory=factory).execute(query, params, binary=True).fetchall()


def _memory_rows(c: Conn, query: Query, params: Params) -> list[Memory]:
    """The memories ``query`` returns (its columns ProfileSql.memory_columns, maybe a ``distance``), decoded a
    result at a time (:func:`okai_insight.adapters._pg_memory_rows.memories`)."""
    cur = raw_memory_columns(c.cursor())
    return memories(cur, cur.execute(query, params, binary=True).fetchall())


def _values(c: Conn, query: Query, params: Params) -> list[Any]:
    """The single column of ``query``'s rows."""
    return [value for (value,) in c.execute(query, params).fetchall()]


def _count(c: Conn, query: Query, params: Params) -> int:
    """The single number ``query`` returns."""
    found = c.execute(query, params).fetchone()
    return 0 if found is None else int(found[0])


def _memory_params(m: CheckedMemory) -> dict[str, Any]:
    return {
        "id": m.id,
        "type": m.type,
        "created_at": m.created_at,
        "content": _jsonb_text(m.content),
        "embedding": m.embedding,
        "user_id": m.user_id,
        "agent_id": m.agent_id,
        "room_id": m.room_id,
        "unique": m.unique,
    }


def _embedding(value: Any) -> Embedding | None:
    return None if value is None else np.asarray(value.to_numpy(), dtype=np.float32)


def _search_cursor(conn: Conn) -> psycopg.Cursor[Any]:
    """``conn``'s own cursor for top-k searches (rows for :func:`memories`): made on first use, then reused.

    A cursor given the same statement text again keeps its adaptation state (psycopg's Transformer: the dumper of
    the query vector and the loader of every column), which a new cursor looks up again on every search (~30 µs
    of a ~0.6 ms top-10 search, 20k x 384). The pool lends a connection to one thread at a time and the rows are
    fetched before it goes back, so one cursor per connection is safe. Only searches of at most ef_search rows
    (<= 1,000) use it: the cursor holds its last result until the next search.

    Example:
        >>> _search_cursor(conn) is _search_cursor(conn)          # doctest: +SKIP
        True
    """
    cur: psycopg.Cursor[Any] | None = conn.__dict__.get("_okai_search_cursor")
    if cur is None or cur.closed:
        cur = conn.__dict__["_okai_search_cursor"] = raw_memory_columns(conn.cursor())
    return cur


def _nearest_first(found: list[Memory], threshold: float) -> list[Memory]:
    """The rows of an HNSW search (ProfileSql.search_nearest) as the search's answer: a NaN distance (a zero
    vector) dropped, rows below ``threshold`` dropped, nearest first.

    ``similarity`` is ``1.0 - distance`` in double precision, the arithmetic SQL's ``1 - distance >= threshold``
    does, so the rows kept are those the server would keep; NaN compares false, so ``>=`` drops it too. The sort
    is needed: with ``hnsw.iterative_scan = relaxed_order`` the index returns rows only roughly in order (rows 1000
    and 1001 of a 1500-row search came swapped); Python's sort is stable, so equal distances keep the index's order.

    Example:
        >>> a, b = Memory(content={}, similarity=0.5), Memory(content={}, similarity=0.9)
        >>> [m.similarity for m in _nearest_first([a, b, Memory(content={}, similarity=float("nan"))], 0.0)]
        [0.9, 0.5]
    """
    # similarity is never None here: the query vector is checked and the statement skips NULL embeddings. The
    # sort key is a C-level attrgetter (a Python key function per row cost more than the sort; callgrind).
    kept = [m for m in found if m.similarity >= threshold]  # type: ignore[operator]
    kept.sort(key=_BY_SIMILARITY, reverse=True)
    return kept


_BY_SIMILARITY = operator.attrgetter("similarity")


def _similarity(distance: float | None) -> float | None:
    return None if distance is None else 1.0 - float(distance)


# Row builders keyed by the columns' names (ProfileSql.memory_columns and the SELECT lists above), for
# okai_insight.adapters._pg_rows.by_name: matched by name once per result, then called positionally (a reordered or
# added column cannot shift the values into the wrong fields).
def _knowledge(
    id: uuid.UUID,
    agentId: uuid.UUID | None,
    content: Any,
    embedding: Any,
    createdAt: dt.datetime | None,
    isMain: Any,
    originalId: uuid.UUID | None,
    chunkIndex: int | None,
    isShared: Any,
    distance: float | None = None,
) -> KnowledgeItem:
    return KnowledgeItem(
        id=id,
        agent_id=agentId,
        content=content,
        embedding=_embedding(embedding),
        created_at=createdAt,
        is_main=bool(isMain),
        original_id=originalId,
        chunk_index=chunkIndex,
        is_shared=bool(isShared),
        similarity=_similarity(distance),
    )


def _goal(
    id: uuid.UUID,
    roomId: uuid.UUID,
    userId: uuid.UUID | None,
    name: str | None,
    status: Any,
    objectives: Any,
    description: str | None,
    createdAt: dt.datetime | None,
) -> Goal:
    return Goal.from_stored(
        id=id,
        room_id=roomId,
        user_id=userId,
        name=name,
        status=status,
        objectives=objectives,
        description=description,
        created_at=createdAt,
    )


def _account(
    id: uuid.UUID,
    name: str | None,
    username: str | None,
    email: str,
    avatarUrl: str | None,
    details: Any,
    createdAt: dt.datetime | None,
) -> Account:
    return Account(id, name, username, email, avatarUrl, details or {}, createdAt)


def _actor(id: uuid.UUID, name: str | None, username: str | None, details: Any) -> Actor:
    return Actor(id, name, username, details or {})


def _participant(
    id: uuid.UUID,
    userId: uuid.UUID,
    roomId: uuid.UUID,
    userState: str | None,
    last_message_read: str | None,
    joinedAt: dt.datetime | None,
) -> Participant:
    return Participant(id, userId, roomId, UserState(userState) if userState else None, last_message_read, joinedAt)


def _relationship(
    id: uuid.UUID,
    userA: uuid.UUID,
    userB: uuid.UUID,
    userId: uuid.UUID,
    status: str | None,
    createdAt: dt.datetime | None,
) -> Relationship:
    return Relationship(id, userA, userB, userId, status, createdAt)


def _cached(embedding: Any, score: int) -> CachedEmbedding:
    return CachedEmbedding(np.asarray(embedding.to_numpy(), dtype=np.float32), int(score))


_KNOWLEDGE = by_name(_knowledge)
_GOALS = by_name(_goal)
_ACCOUNTS = by_name(_account)
_ACTORS = by_name(_actor)
_PARTICIPANTS = by_name(_participant)
_RELATIONSHIPS = by_name(_relationship)
_CACHED = by_name(_cached)

__all__ = ["OkaiError", "PostgresAdapter", "register"]
