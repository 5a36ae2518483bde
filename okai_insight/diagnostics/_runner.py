"""The one safe runner every diagnostic goes through.

Each query runs in its own ``READ ONLY`` transaction with ``statement_timeout`` and ``lock_timeout`` set for that
transaction only (``set_config(..., true)``, i.e. ``SET LOCAL``), and the transaction is always rolled back: a
diagnostic can neither write nor wait long for a lock. The runner takes a URL, a psycopg connection (left as it
was found) or an adapter (a connection is borrowed from its pool). Server features (version, extensions
available / installed / readable, role memberships) are read once per runner and cached.

A missing extension or privilege, a timeout or a lock wait raises :class:`CheckUnavailable`, which the
:func:`diagnostic` decorator turns into a result with ``status="unavailable"`` and a note on how to enable it
(PgHero's ``NotEnabled``): one check degrades, the report goes on.

Example:
    >>> from okai_insight.diagnostics._runner import Runner
    >>> with Runner("postgresql://postgres@/okai?host=/tmp/pg") as run:          # doctest: +SKIP
    ...     rows = run.query("activity", "running_queries").rows
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Concatenate, ParamSpec, Protocol, runtime_checkable

import psycopg
from psycopg import sql
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row

from okai_insight.diagnostics._result import Finding, Result
from okai_insight.diagnostics._sql import load_sql
from okai_insight.errors import ConnectionFailed, FeatureNotAvailable, InvalidInput
from okai_insight.settings import Settings

P = ParamSpec("P")
_ROLLBACK_STATES = (TransactionStatus.INTRANS, TransactionStatus.INERROR)
Conn = psycopg.Connection[Any]
Rows = list[dict[str, Any]]
Findings = list[Finding]
#: What a diagnostic body returns: rows, findings, and optionally the column names (kept when there are no rows).
Outcome = tuple[Rows, Findings] | tuple[Rows, Findings, tuple[str, ...]]


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
            try:
                self._conn = psycopg.connect(
                    url,
                    autocommit=True,
                    connect_timeout=max(1, int(self.settings.connect_timeout_s)),
                    application_name="okai-insight diagnostics",
                )
            except psycopg.OperationalError as exc:
                raise ConnectionFailed(str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)) from exc
            self._owned = True
        elif isinstance(target, psycopg.Connection):
            self._conn = target
        elif isinstance(target, _PooledAdapter):
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
        text = load_sql(concern, name)
        template = sql.SQL(text)  # type: ignore[arg-type]  # the file's text is trusted SQL, not user input
        statement: sql.SQL | sql.Composed = template.format(**identifiers) if identifiers is not None else template
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
        conn = self.connection
        if conn.info.transaction_status != TransactionStatus.IDLE:
            raise InvalidInput(
                "the connection is inside a transaction; diagnostics need an idle connection "
                "(commit or roll back first, or pass a URL)"
            )
        saved_autocommit = conn.autocommit
        if not saved_autocommit:
            conn.autocommit = True
        try:
            with conn.cursor(row_factory=dict_row) as cur:
                cur.execute("BEGIN TRANSACTION READ ONLY" if read_only else "BEGIN TRANSACTION READ WRITE")
                try:
                    cur.execute(
                        "SELECT set_config('statement_timeout', %s, true), set_config('lock_timeout', %s, true)",
                        (f"{int(self.settings.statement_timeout_ms)}ms", f"{int(self.settings.lock_timeout_ms)}ms"),
                    )
                    for name, value in (local_settings or {}).items():
                        cur.execute("SELECT set_config(%s, %s, true)", (name, str(value)))
                    # last, so no setting above undoes it: the server reads backslashes in '' strings as the parser
                    # that checked the statement did (libpg_query), whatever the database's default
                    cur.execute("SELECT set_config('standard_conforming_strings', 'on', true)")
                    # The statement may hold a user's SQL text (explain). psycopg sends a statement without
                    # parameters over the simple query protocol, which runs every ';'-separated statement in the
                    # string (a COMMIT among them ends the READ ONLY transaction). In pipeline mode it always uses
                    # the extended protocol, where the server itself refuses a second statement ("cannot insert
                    # multiple commands into a prepared statement"); prepare=False leaves no prepared statement
                    # behind on a pooled connection.
                    if unbound_params:
                        cur.execute(_parsed_alone(conn, statement))
                    else:
                        with conn.pipeline():
                            cur.execute(statement, params if params is not None else {}, prepare=False)
                    columns = tuple(d.name for d in cur.description or ())
                    rows = cur.fetchall() if cur.description else []
                finally:
                    if not conn.closed and conn.info.transaction_status in _ROLLBACK_STATES:
                        conn.execute("ROLLBACK")
        except psycopg.Error as exc:
            raise self._translate(exc, label) from exc
        finally:
            if not conn.closed and conn.autocommit != saved_autocommit:
                conn.autocommit = saved_autocommit
        return QueryResult(list(rows), columns)

    def _translate(self, exc: psycopg.Error, label: str) -> Exception:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        s = self.settings
        if isinstance(exc, psycopg.errors.QueryCanceled):
            return CheckUnavailable(
                f"{label} was cancelled after statement_timeout {s.statement_timeout_ms} ms "
                "(raise it with OKAI_STATEMENT_TIMEOUT_MS, or run the check when the server is less busy)"
            )
        if isinstance(exc, psycopg.errors.LockNotAvailable):
            return CheckUnavailable(
                f"{label} gave up waiting for a lock after lock_timeout {s.lock_timeout_ms} ms "
                "(something holds a strong lock; see activity.blocked_queries)"
            )
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            return CheckUnavailable(
                f"{label}: this role lacks a privilege ({first}); grant it pg_monitor and SELECT on the tables",
                fix_sql=f"GRANT pg_monitor TO {self.features.user};",
            )
        if isinstance(exc, psycopg.errors.ObjectNotInPrerequisiteState):
            return CheckUnavailable(f"{label}: {first}")
        if isinstance(
            exc, psycopg.errors.UndefinedTable | psycopg.errors.UndefinedFunction | psycopg.errors.UndefinedObject
        ):
            return CheckUnavailable(f"{label}: {first} (a required extension or table is missing)")
        if isinstance(exc, psycopg.OperationalError):
            return ConnectionFailed(first)
        return exc

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


Body = Callable[Concatenate[Runner, P], Outcome]


def diagnostic(concern: str, title: str) -> Callable[[Body[P]], Callable[Concatenate[Target, P], Result]]:
    """Make a diagnostic from ``body(run, **options) -> (rows, findings[, columns])``.

    The public function takes the database target first; it opens a runner, times the check, and turns
    :class:`CheckUnavailable` into a ``status="unavailable"`` result with an info finding saying how to enable it.

    Example:
        >>> @diagnostic("indexes", "Invalid indexes")                       # doctest: +SKIP
        ... def invalid_indexes(run):
        ...     return run.query("indexes", "invalid_indexes").rows, []
    """

    def wrap(body: Body[P]) -> Callable[Concatenate[Target, P], Result]:
        name = body.__name__

        @functools.wraps(body)
        def run_diagnostic(db: Target = None, /, *args: P.args, **kwargs: P.kwargs) -> Result:
            start = time.perf_counter()
            try:
                with using(db) as run:
                    out = body(run, *args, **kwargs)
            except CheckUnavailable as exc:
                finding = Finding("info", str(exc), fix_sql=exc.fix_sql, check=name)
                return Result(
                    concern,
                    name,
                    title,
                    findings=[finding],
                    status="unavailable",
                    note=str(exc),
                    duration_ms=(time.perf_counter() - start) * 1000,
                )
            rows, findings = out[0], out[1]
            columns: tuple[str, ...] = out[2] if len(out) > 2 else ()  # type: ignore[misc]
            return Result(
                concern,
                name,
                title,
                rows=rows,
                findings=[replace(f, check=name) for f in findings],
                columns=columns,
                duration_ms=(time.perf_counter() - start) * 1000,
            )

        run_diagnostic.concern = concern  # type: ignore[attr-defined]
        run_diagnostic.title = title  # type: ignore[attr-defined]
        return run_diagnostic

    return wrap
