"""The one read-only runner: every diagnostic, embedding check and ops status query goes through it.

Each query runs in its own ``READ ONLY`` transaction with ``statement_timeout`` and ``lock_timeout`` set for that
transaction only (``set_config(..., true)``, i.e. ``SET LOCAL``), and the transaction is always rolled back: a
diagnostic can neither write nor wait long for a lock. The runner takes a URL, a psycopg connection (left as it
was found) or an adapter (a connection is borrowed from its pool). Server features (version, extensions
available / installed / readable, role memberships) are read once per runner and cached.

Several statements that must share one transaction (``SET LOCAL`` planner settings for a batch of searches,
vectors read as numpy arrays) run in :meth:`Runner.transaction`, like psycopg's
``transaction(force_rollback=True)`` with ``BEGIN READ ONLY``.

Every statement the runner sends carries the tag :data:`TAG` (``/* okai-insight */``) before and after it
(:func:`tagged` says why both), and a connection the runner opens has ``application_name``
:data:`APPLICATION_NAME`, so the statistics checks can leave okai-insight's own statements out. A superuser's transactions also run with ``track_counts`` off (``SET LOCAL``), so its
reads add nothing to ``seq_scan`` / ``idx_scan`` in ``pg_stat_user_tables`` (counters that cannot be filtered by
application); :attr:`Runner.counts_own_reads` says when a role cannot do that.

A missing extension or privilege, a timeout or a lock wait raises :class:`CheckUnavailable`, which the
``diagnostic`` decorator turns into a result with ``status="unavailable"`` and a note on how to enable it
(PgHero's ``NotEnabled``): one check degrades, the report goes on. Driver errors are translated by
:func:`okai_insight.errors.translate_pg_errors`, the package's one error table.

Example:
    >>> from okai_insight.runner import Runner
    >>> with Runner("postgresql://postgres@/okai?host=/tmp/pg") as run:          # doctest: +SKIP
    ...     rows = run.query("activity", "running_queries").rows
    ...     with run.transaction(settings={"enable_indexscan": "off"}) as tx:
    ...         tx.query("embeddings", "fetch_by_ids", {"ids": []}, identifiers=ids)
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg.types import TypeInfo

from okai_insight._postgres_only import require_postgres, require_postgres_target
from okai_insight.errors import (
    FeatureNotAvailable,
    InvalidInput,
    LockTimeout,
    OkaiError,
    PermissionDenied,
    QueryTimeout,
    first_line,
    translate_pg_errors,
)
from okai_insight.query_files import load_sql
from okai_insight.settings import Settings

_ROLLBACK_STATES = (TransactionStatus.INTRANS, TransactionStatus.INERROR)
#: The comment ending every statement the runner sends; the statistics checks leave statements holding it out.
TAG = "/* okai-insight */"
#: ``application_name`` of every connection the runner opens (a borrowed adapter connection keeps the
#: application's own name: its statements still carry :data:`TAG`).
APPLICATION_NAME = "okai-insight"
_TAG_BEFORE = sql.SQL(TAG + " ")
_TAG_AFTER = sql.SQL("\n" + TAG)  # on its own line: a statement may end in a "--" comment
Conn = psycopg.Connection[Any]
Rows = list[dict[str, Any]]


@runtime_checkable
class _PooledAdapter(Protocol):
    url: str

    @property
    def pool(self) -> Any: ...


#: What a diagnostic accepts: a URL (None: ``OKAI_DATABASE_URL`` or the embedded server), a psycopg connection,
#: an adapter with ``.pool``, or an open :class:`Runner` (shares its connection and feature cache).
Target = Any


class CheckUnavailable(FeatureNotAvailable):
    """A check cannot run here (missing extension, privilege, server version, timeout); says how to enable it."""

    def __init__(self, message: str, *, fix_sql: str | None = None) -> None:
        super().__init__(message)
        self.fix_sql = fix_sql


@dataclass(frozen=True)
class QueryResult:
    """The rows (dicts) and column names of one query.

    Example:
        >>> QueryResult([{"a": 1}], ("a",)).rows[0]["a"]
        1
    """

    rows: Rows
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Features:
    """What the server offers this role: read once per runner (``Runner.features``).

    Example:
        >>> f = Features(180006, {"vector": "0.8.1"}, {"vector": "0.8.1"}, frozenset(), "okai", "me")
        >>> f.has_extension("vector"), f.server_version
        (True, '18.6')
    """

    server_version_num: int
    available: Mapping[str, str | None]
    installed: Mapping[str, str]
    roles: frozenset[str]
    database: str
    user: str
    superuser: bool = False
    readable_statements: bool = False
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def server_version(self) -> str:
        """``"18.6"`` from ``180006``."""
        n = self.server_version_num
        return f"{n // 10000}.{n % 10000}" if n >= 100000 else f"{n // 10000}.{(n // 100) % 100}.{n % 100}"

    def has_extension(self, name: str) -> bool:
        """Whether the extension is installed in this database.

        Example:
            >>> Features(180000, {}, {}, frozenset(), "d", "u").has_extension("vector")
            False
        """
        return name in self.installed

    def can_read_all_stats(self) -> bool:
        """Whether this role sees every session's query text (superuser, pg_monitor or pg_read_all_stats)."""
        return self.superuser or bool({"pg_monitor", "pg_read_all_stats"} & self.roles)


class Runner:
    """A diagnostics session on one connection: safe queries plus a feature cache. Use it as a context manager.

    Example:
        >>> with Runner(url) as run:                                   # doctest: +SKIP
        ...     run.features.server_version
        '18.6'
    """

    def __init__(self, target: Target = None, *, settings: Settings | None = None) -> None:
        if isinstance(target, Runner):
            raise InvalidInput("pass the Runner itself to diagnostics instead of wrapping it")
        self.target = target
        self.settings = settings or getattr(target, "settings", None) or Settings.from_env()
        if not isinstance(self.settings, Settings):
            self.settings = Settings.from_env()
        self._conn: Conn | None = None
        self._owned = False
        self._pool_ctx: Any = None
        self._features: Features | None = None
        self.adapter: Any = target if isinstance(target, _PooledAdapter) and not isinstance(target, str) else None

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def __enter__(self) -> Runner:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Connect (URL), borrow a pooled connection (adapter) or adopt the caller's connection."""
        if self._conn is not None:
            return
        target = self.target
        if target is None or isinstance(target, str):
            from okai_insight._connect import resolve_url

            url = resolve_url(target, self.settings)
            require_postgres(url, "diagnostics")  # else libpq reads sqlite:///x.db as a broken keyword string
            with translate_pg_errors():
                self._conn = psycopg.connect(
                    url,
                    autocommit=True,
                    connect_timeout=max(1, int(self.settings.connect_timeout_s)),
                    application_name=APPLICATION_NAME,
                    # No server-side prepared statements: PGlite (okai_insight.pglite) is one backend shared by every
                    # connection, so the second runner's "_pg3_0" collides with the first's
                    # (DuplicatePreparedStatement); a runner runs each check's statement once, so nothing is lost.
                    prepare_threshold=None,
                )
            self._owned = True
        elif isinstance(target, psycopg.Connection):
            self._conn = target
        elif isinstance(target, _PooledAdapter):
            require_postgres_target(target, "diagnostics")  # a SQLite or in-memory adapter has a pool of its own
            self._pool_ctx = target.pool.connection()
            self._conn = self._pool_ctx.__enter__()
        else:
            raise InvalidInput(
                f"diagnostics need a database URL, a psycopg connection or an adapter, got {type(target).__name__}"
            )

    def close(self) -> None:
        """Close an owned connection or give a borrowed one back to its pool."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._owned:
            conn.close()
        elif self._pool_ctx is not None:
            ctx, self._pool_ctx = self._pool_ctx, None
            ctx.__exit__(None, None, None)

    @contextmanager
    def throwaway(self) -> Iterator[Runner]:
        """A runner on a new connection to the same database, closed at the end: never the caller's connection,
        never returned to a pool. EXPLAIN ANALYZE runs there, so session state the statement may leave (an
        advisory lock, a setting, a prepared statement) dies with the connection.

        Example:
            >>> with run.throwaway() as once:                                # doctest: +SKIP
            ...     once.execute(sql.SQL("SELECT pg_backend_pid() AS pid")).rows
        """
        once = Runner(self._conninfo(), settings=self.settings)
        # The same database and role: the features are this runner's (read once). Reading them on the new
        # connection would run a catalog query there first, but only when settings are given (the Citus check in
        # transaction()), so one side of explain --compare started warmer and planned ~20 % faster, every run.
        once._features = self.features
        try:
            yield once
        finally:
            once.close()

    def _conninfo(self) -> str:
        """Where to open another connection to this runner's database (a URL or a libpq conninfo string)."""
        target = self.target
        if target is None or isinstance(target, str):
            from okai_insight._connect import resolve_url

            return resolve_url(target, self.settings)
        if isinstance(target, _PooledAdapter):
            return str(target.url)
        info = self.connection.info
        params = info.get_parameters()
        if info.password:  # get_parameters() leaves the password out
            params["password"] = info.password
        from psycopg.conninfo import make_conninfo

        return make_conninfo(**params)

    @property
    def connection(self) -> Conn:
        """The connection in use (opened on first use)."""
        if self._conn is None:
            self.open()
        assert self._conn is not None
        return self._conn

    # -- queries ------------------------------------------------------------------------------------------------
    def query(
        self,
        concern: str,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, sql.Composable] | None = None,
    ) -> QueryResult:
        """Run ``queries/<concern>/<name>.sql`` safely and return its rows.

        ``identifiers`` fills ``{placeholders}`` in the file with composed SQL (``sql.Identifier``), for the few
        queries that must name a table; everything else is a bound ``%(name)s`` parameter.

        Example:
            >>> run.query("indexes", "invalid_indexes").rows            # doctest: +SKIP
            []
        """
        text = _statement_text(load_sql(concern, name))
        template = sql.SQL(text)  # type: ignore[arg-type]  # the file's text is trusted SQL, not user input
        statement: sql.SQL | sql.Composed = template.format(**identifiers) if identifiers is not None else template
        with _statement_texts_readable(text, f"{concern}/{name}"):
            return self.execute(statement, params, label=f"{concern}/{name}")

    def execute(
        self,
        statement: sql.SQL | sql.Composed,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        *,
        label: str = "query",
        read_only: bool = True,
        local_settings: Mapping[str, str] | None = None,
        unbound_params: bool = False,
    ) -> QueryResult:
        """Run one statement in a rolled-back READ ONLY transaction with the configured timeouts.

        ``local_settings`` are set for that transaction only (``SET LOCAL``, after the timeouts, so they may
        override them). ``read_only=False`` is for EXPLAIN ANALYZE of a statement the caller opted to run: it
        still rolls back. The statement goes over the extended protocol (one statement, whatever its text);
        ``unbound_params=True`` is for ``EXPLAIN (GENERIC_PLAN)`` of a ``$1`` query, which cannot be bound
        without values: the server parses it alone first (extended protocol, nothing runs), then it runs as text.

        Example:
            >>> run.execute(sql.SQL("SELECT 1 AS one")).rows             # doctest: +SKIP
            [{'one': 1}]
        """
        with self._transaction_cursor(label, read_only=read_only, local_settings=local_settings) as cur:
            conn = cur.connection
            # The statement may hold a user's SQL text (explain). psycopg sends a statement without parameters over
            # the simple query protocol, which runs every ';'-separated statement in the string (a COMMIT among them
            # ends the READ ONLY transaction). In pipeline mode it always uses the extended protocol, where the
            # server itself refuses a second statement ("cannot insert multiple commands into a prepared
            # statement"); prepare=False leaves no prepared statement behind on a pooled connection.
            statement = tagged(statement)
            with self._translated(label):
                if unbound_params:
                    cur.execute(_parsed_alone(conn, statement))
                else:
                    with conn.pipeline():
                        cur.execute(statement, params if params is not None else {}, prepare=False)
                columns = tuple(d.name for d in cur.description or ())
                rows = cur.fetchall() if cur.description else []
        return QueryResult(list(rows), columns)

    @contextmanager
    def transaction(self, settings: Mapping[str, str] | None = None, *, vectors: bool = False) -> Iterator[Transaction]:
        """One READ ONLY transaction for several statements, with the runner's timeouts and ``settings`` set for
        it only (``SET LOCAL``), always rolled back: psycopg's ``transaction(force_rollback=True)`` with ``BEGIN
        READ ONLY``. ``vectors=True`` reads pgvector columns as float32 numpy arrays (loaders registered on this
        cursor only: the caller's connection is untouched).

        Example:
            >>> with run.transaction(settings={"hnsw.ef_search": "100"}, vectors=True) as tx:  # doctest: +SKIP
            ...     tx.query("embeddings", "knn_search", params, identifiers=ids).rows
        """
        with self._transaction_cursor("SET LOCAL", local_settings=settings, vectors=vectors) as cur:
            yield Transaction(self, cur)

    @contextmanager
    def _transaction_cursor(
        self,
        label: str,
        *,
        read_only: bool = True,
        local_settings: Mapping[str, str] | None = None,
        vectors: bool = False,
    ) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """A dict-row cursor inside ``BEGIN`` (READ ONLY unless told) with the timeouts and ``local_settings`` set
        for the transaction only; rolled back and the connection's autocommit restored whatever happens."""
        conn = self.connection
        if conn.info.transaction_status != TransactionStatus.IDLE:
            raise InvalidInput(
                "the connection is inside a transaction; diagnostics need an idle connection "
                "(commit or roll back first, or pass a URL)"
            )
        # Citus runs a distributed query's shard queries under the workers' own settings: set_config() stays on the
        # coordinator, only SET LOCAL with citus.propagate_set_commands = 'local' reaches them (measured: ef_search 1
        # by set_config still returned 30 rows through 4 shards' HNSW indexes, by propagated SET LOCAL 2).
        propagate = bool(local_settings) and self.features.has_extension("citus")
        saved_autocommit = conn.autocommit
        if not saved_autocommit:
            conn.autocommit = True
        try:
            with self._translated(label), conn.cursor(row_factory=dict_row) as cur:
                if vectors:
                    _register_vectors(cur)
                cur.execute(
                    tagged(sql.SQL("BEGIN TRANSACTION READ ONLY" if read_only else "BEGIN TRANSACTION READ WRITE"))
                )
                try:
                    # track_counts off (a superuser's only: it is PGC_SUSET) keeps this transaction's scans out of
                    # pg_stat_user_tables' seq_scan / idx_scan, which no check can filter by application afterwards
                    cur.execute(
                        tagged(
                            sql.SQL(
                                "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true),"
                                " CASE WHEN current_setting('is_superuser') = 'on'"
                                " THEN set_config('track_counts', 'off', true) END AS track_counts"
                            )
                        ),
                        (f"{int(self.settings.statement_timeout_ms)}ms", f"{int(self.settings.lock_timeout_ms)}ms"),
                    )
                    if propagate:
                        cur.execute(tagged(sql.SQL("SET LOCAL citus.propagate_set_commands = 'local'")))
                    for name, value in (local_settings or {}).items():
                        with self._translated(f"SET LOCAL {name}"):
                            if propagate:
                                cur.execute(
                                    tagged(
                                        sql.SQL("SET LOCAL {} = {}").format(
                                            sql.Identifier(*name.split(".")), sql.Literal(str(value))
                                        )
                                    )
                                )
                            else:
                                cur.execute(tagged(sql.SQL("SELECT set_config(%s, %s, true)")), (name, str(value)))
                    # last, so no setting above undoes it: the server reads backslashes in '' strings as the parser
                    # that checked the statement did (libpg_query), whatever the database's default
                    cur.execute(tagged(sql.SQL("SELECT set_config('standard_conforming_strings', 'on', true)")))
                    yield cur
                finally:
                    if not conn.closed and conn.info.transaction_status in _ROLLBACK_STATES:
                        conn.execute(tagged(sql.SQL("ROLLBACK")))
        finally:
            if not conn.closed and conn.autocommit != saved_autocommit:
                conn.autocommit = saved_autocommit

    @contextmanager
    def _translated(self, label: str) -> Iterator[None]:
        """Driver errors through the package's error table, then those a check cannot help into
        :class:`CheckUnavailable` saying what to do; the rest as the table made them."""
        try:
            with translate_pg_errors():
                yield
        except CheckUnavailable:
            raise
        except (QueryTimeout, PermissionDenied, FeatureNotAvailable) as exc:
            raise self._unavailable(exc, label) from exc.__cause__

    def _unavailable(self, exc: OkaiError, label: str) -> CheckUnavailable:
        s = self.settings
        cause = exc.__cause__
        first = first_line(cause) if cause is not None else str(exc)
        code = str(getattr(cause, "sqlstate", "") or "")
        if isinstance(exc, LockTimeout):
            return CheckUnavailable(
                f"{label} gave up waiting for a lock after lock_timeout {s.lock_timeout_ms} ms "
                "(something holds a strong lock; see activity.blocked_queries)"
            )
        if isinstance(exc, QueryTimeout):
            return CheckUnavailable(
                f"{label} was cancelled after statement_timeout {s.statement_timeout_ms} ms "
                "(raise it with OKAI_STATEMENT_TIMEOUT_MS, or run the check when the server is less busy)"
            )
        if isinstance(exc, PermissionDenied):
            return CheckUnavailable(
                f"{label}: this role lacks a privilege ({first}); grant it pg_monitor and SELECT on the tables",
                fix_sql=f"GRANT pg_monitor TO {self.features.user};",
            )
        if code.startswith("42"):
            return CheckUnavailable(f"{label}: {first} (a required extension or table is missing)")
        return CheckUnavailable(f"{label}: {first}")

    # -- features -----------------------------------------------------------------------------------------------
    @property
    def features(self) -> Features:
        """The server's features for this role, read once (``queries/settings/server_features.sql``)."""
        if self._features is None:
            row = self.query("settings", "server_features").rows[0]
            installed = dict(row["installed"] or {})
            readable = False
            if "pg_stat_statements" in installed:
                readable = bool(row["statements_readable"])
            self._features = Features(
                server_version_num=int(row["server_version_num"]),
                available=dict(row["available"] or {}),
                installed=installed,
                roles=frozenset(row["roles"] or ()),
                database=row["database"],
                user=row["current_user"],
                superuser=bool(row["superuser"]),
                readable_statements=readable,
                settings=dict(row["settings"] or {}),
            )
        return self._features

    @property
    def counts_own_reads(self) -> bool:
        """Whether this runner's scans add to ``pg_stat_user_tables``' ``seq_scan`` / ``idx_scan``: True unless the
        role is a superuser (only a superuser may turn ``track_counts`` off for its own transactions). A check that
        scans many times (the tuners) says so in its result when True.

        Example:
            >>> run.counts_own_reads                                   # doctest: +SKIP
            False
        """
        return not self.features.superuser

    def require_extension(self, name: str, *, why: str, preload: bool = False) -> None:
        """Raise :class:`CheckUnavailable` (with how to enable it) unless the extension is usable here.

        Example:
            >>> run.require_extension("pg_stat_statements", why="query statistics", preload=True)  # doctest: +SKIP
        """
        f = self.features
        if name not in f.available:
            raise CheckUnavailable(
                f"{why} needs the {name} extension, which this server does not have "
                f"(install it on the server: PostgreSQL's contrib package or the extension's own)"
            )
        if name not in f.installed:
            hint = "; it must also be in shared_preload_libraries (postgresql.conf, then restart)" if preload else ""
            raise CheckUnavailable(
                f"{why} needs the {name} extension in database {f.database}: run CREATE EXTENSION {name}{hint}",
                fix_sql=f"CREATE EXTENSION IF NOT EXISTS {name};",
            )
        if name == "pg_stat_statements" and not f.readable_statements:
            raise CheckUnavailable(
                f"{why}: role {f.user} may not read pg_stat_statements; grant it pg_read_all_stats or pg_monitor",
                fix_sql=f"GRANT pg_read_all_stats TO {f.user};",
            )

    def require_version(self, minimum: int, *, why: str) -> None:
        """Raise :class:`CheckUnavailable` unless ``server_version_num >= minimum``.

        Example:
            >>> run.require_version(130000, why="pg_stat_statements' exec-time columns")  # doctest: +SKIP
        """
        if self.features.server_version_num < minimum:
            raise CheckUnavailable(
                f"{why} needs PostgreSQL {minimum // 10000} or newer (this server is {self.features.server_version})"
            )


class Transaction:
    """One open READ ONLY transaction of :meth:`Runner.transaction`: run ``queries/`` files or composed statements,
    timed, never prepared (plans see the real values).

    Example:
        >>> tx.query("embeddings", "table_info", {"table": "memories", "column": "embedding"}).rows  # doctest: +SKIP
    """

    def __init__(self, run: Runner, cursor: psycopg.Cursor[dict[str, Any]]) -> None:
        self.run = run
        self.cursor = cursor
        #: Wall-clock milliseconds of the last statement (execute + fetch), as a client sees it.
        self.last_ms = 0.0

    def query(
        self,
        concern: str,
        name: str,
        params: Mapping[str, Any] | None = None,
        *,
        identifiers: Mapping[str, sql.Composable] | None = None,
    ) -> QueryResult:
        """Run ``queries/<concern>/<name>.sql`` inside the transaction and return its rows."""
        text = _statement_text(load_sql(concern, name))
        statement = sql.SQL(text).format(**(identifiers or {}))  # type: ignore[arg-type]  # trusted SQL file
        with _statement_texts_readable(text, f"{concern}/{name}"):
            return self.execute(statement, params, label=f"{concern}/{name}")

    def execute(
        self, statement: sql.Composed | sql.SQL, params: Mapping[str, Any] | None = None, *, label: str = "query"
    ) -> QueryResult:
        """Run one composed statement inside the transaction."""
        start = time.perf_counter()
        statement = tagged(statement)
        with self.run._translated(label):
            self.cursor.execute(statement, params if params is not None else {}, prepare=False)
            columns = tuple(d.name for d in self.cursor.description or ())
            rows = self.cursor.fetchall() if self.cursor.description else []
        self.last_ms = (time.perf_counter() - start) * 1000
        return QueryResult(list(rows), columns)


@contextmanager
def _statement_texts_readable(text: str, label: str) -> Iterator[None]:
    """A query of pg_stat_statements that fails on a damaged text in its query-text file as
    :class:`CheckUnavailable`, saying so and how to clear it, instead of as the caller's bad input.

    pg_stat_statements keeps every statement's text in one file per server; when a byte in it is damaged (seen
    in this project's parallel tests on a Citus worker: a NUL), PostgreSQL refuses to convert that text and every
    read of the view that includes texts fails with SQLSTATE 22021, whatever it selects.

    Example:
        >>> with _statement_texts_readable("SELECT 1", "q"):
        ...     pass
    """
    try:
        yield
    except InvalidInput as exc:
        cause = exc.__cause__
        if cause is None or "pg_stat_statements" not in text or getattr(cause, "sqlstate", None) != "22021":
            raise
        raise CheckUnavailable(
            f"{label}: pg_stat_statements' query-text file holds a damaged text ({first_line(cause)}), so no "
            "statement can be read with its text until the file is rewritten; pg_stat_statements_reset() "
            "rewrites it (and clears every statement's statistics)",
            fix_sql="SELECT pg_stat_statements_reset();  -- clears all statement statistics and their texts",
        ) from cause


def _register_vectors(cur: psycopg.Cursor[Any]) -> None:
    from pgvector.psycopg.halfvec import register_halfvec_info
    from pgvector.psycopg.vector import register_vector_info

    for name, register in (("vector", register_vector_info), ("halfvec", register_halfvec_info)):
        # not TypeInfo.fetch: its untagged catalog query would count as one of the database's statements
        cur.execute(tagged(sql.SQL("SELECT oid, typarray FROM pg_type WHERE oid = to_regtype(%s)")), (name,))
        row = cur.fetchone()
        if row is not None:
            info = TypeInfo(name, int(row["oid"]), int(row["typarray"]))
            register(cur, info)  # type: ignore[arg-type]  # adapters of this cursor only


def tagged(statement: sql.SQL | sql.Composed) -> sql.Composed:
    r"""The statement between two :data:`TAG` comments, so pg_stat_statements and pg_stat_activity show it as
    okai-insight's. Both are needed (measured on PostgreSQL 18 with ``pg_stat_statements.track = all``): a
    top-level entry's text starts at its first token (the leading comment is dropped) and runs to the end of the
    string; the entry of the statement nested in an EXPLAIN starts at the string's start and ends with the inner
    statement (the trailing comment is dropped). The statement must not end in ``;`` (recorded up to the ``;``).

    Example:
        >>> tagged(sql.SQL("SELECT 1")).as_string(None)
        '/* okai-insight */ SELECT 1\n/* okai-insight */'
    """
    return sql.Composed([_TAG_BEFORE, statement, _TAG_AFTER])


def _statement_text(text: str) -> str:
    r"""A SQL file's text without trailing ``;`` and whitespace, so the tag lands inside the recorded statement.

    Example:
        >>> _statement_text("SELECT 1;\n")
        'SELECT 1'
    """
    text = text.rstrip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _parsed_alone(conn: Conn, statement: sql.SQL | sql.Composed) -> bytes:
    """The statement's bytes as psycopg would send them, after the server parsed them as ONE statement.

    A Parse message (the extended protocol's first step) runs nothing and is refused for a string holding more
    than one statement ("cannot insert multiple commands into a prepared statement"): the server's own check,
    made in the same transaction (same settings) as the simple-protocol run that follows. It leaves the unnamed
    statement, which the next query replaces.
    """
    from psycopg._queries import PostgresQuery  # psycopg's own %%-unescaping, so the bytes match exactly
    from psycopg.adapt import Transformer

    pgq = PostgresQuery(Transformer.from_context(conn))
    pgq.convert(statement, {})
    result = conn.pgconn.prepare(b"", pgq.query)
    if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding=conn.info.encoding)
    return pgq.query


@contextmanager
def using(target: Target, settings: Settings | None = None) -> Iterator[Runner]:
    """A runner for ``target``: the target itself when it is already a Runner, else a new one closed at the end.

    Example:
        >>> with using(url) as run:                               # doctest: +SKIP
        ...     run.features.database
    """
    if isinstance(target, Runner):
        yield target
        return
    with Runner(target, settings=settings) as run:
        yield run


__all__ = [
    "APPLICATION_NAME",
    "TAG",
    "CheckUnavailable",
    "Features",
    "QueryResult",
    "Runner",
    "Target",
    "Transaction",
    "load_sql",
    "tagged",
    "using",
]
