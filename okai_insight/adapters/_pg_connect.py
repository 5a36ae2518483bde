"""How the PostgreSQL adapter's connections are made: timeouts on the client, the socket and the server.

* ``connect_timeout`` bounds the connection's start-up (a frozen postmaster never answers it).
* TCP keepalives and ``tcp_user_timeout`` make the kernel break a connection to a vanished peer instead of
  waiting for hours; libpq ignores them on Unix sockets, where a vanished server closes the socket anyway.
* ``statement_timeout`` and ``lock_timeout`` on every session: the server cancels a slow statement or a lock wait
  (typed QueryTimeout / LockTimeout). A server that is frozen cannot do that: ``_pg_watchdog`` bounds the call.

Values the URL sets itself (``?keepalives_idle=30``) win over the settings: the URL is the caller's argument.

Example:
    >>> from okai_insight.settings import Settings
    >>> kw = connection_kwargs("postgresql://u@h/db?keepalives_idle=30", Settings())
    >>> kw["tcp_user_timeout"], "keepalives_idle" in kw
    (10000, False)
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
import psycopg_pool
from psycopg import conninfo as pg_conninfo
from psycopg.pq import TransactionStatus

from okai_insight.adapters._pg_watchdog import WATCHDOG
from okai_insight.settings import Settings

#: After ``tcp_keepalives_idle_s`` idle, probes go out this often, and this many unanswered ones break the link.
KEEPALIVES_INTERVAL_S = 5
KEEPALIVES_COUNT = 3


def connection_kwargs(url: str, settings: Settings, **extra: Any) -> dict[str, Any]:
    """libpq/psycopg connection parameters for the adapter's connections to ``url`` (the URL's own values kept).

    Example:
        >>> connection_kwargs("postgresql://u@h/db", Settings(connect_timeout_s=0.5))["connect_timeout"]
        1
    """
    ours: dict[str, Any] = {
        "connect_timeout": max(1, round(settings.connect_timeout_s)),
        "keepalives": 1,
        "keepalives_idle": max(1, settings.tcp_keepalives_idle_s),
        "keepalives_interval": KEEPALIVES_INTERVAL_S,
        "keepalives_count": KEEPALIVES_COUNT,
        "tcp_user_timeout": max(0, settings.tcp_user_timeout_ms),
    }
    try:
        given = pg_conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        given = {}
    kwargs = {k: v for k, v in ours.items() if given.get(k) in (None, "")}
    kwargs.update(extra)
    return kwargs


def set_session_timeouts(conn: psycopg.Connection[Any], settings: Settings, *, statement: bool = True) -> None:
    """Set the session's ``statement_timeout`` (unless ``statement`` is False) and ``lock_timeout``.

    Example:
        >>> set_session_timeouts(conn, Settings(adapter_statement_timeout_ms=2000))   # doctest: +SKIP
    """
    statement_ms = max(0, settings.adapter_statement_timeout_ms) if statement else 0
    conn.execute(
        "SELECT set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
        (f"{statement_ms}ms", f"{max(0, settings.adapter_lock_timeout_ms)}ms"),
    )
    if not conn.autocommit:
        conn.commit()


def call_timeout_s(settings: Settings) -> float:
    """How long the client waits for one adapter call before it drops the connection (0: never): the server's
    statement timeout plus the connect timeout, so the server's own cancellation always comes first.

    Example:
        >>> call_timeout_s(Settings(adapter_statement_timeout_ms=1000, connect_timeout_s=1.0))
        2.0
    """
    if settings.adapter_statement_timeout_ms <= 0:
        return 0.0
    return settings.adapter_statement_timeout_ms / 1000 + settings.connect_timeout_s


def retry_limits(settings: Settings) -> dict[str, Any]:
    """``with_retries`` keywords for connecting: how many retries, their backoff, and the total deadline
    (``connect_deadline_s``), each attempt counted at the connect timeout libpq really applies (whole seconds,
    at least 2).

    Example:
        >>> retry_limits(Settings())["deadline_s"], retry_limits(Settings(connect_timeout_s=0.5))["attempt_s"]
        (5.0, 2.0)
    """
    return {
        "attempts": settings.retry_attempts,
        "base_delay_s": settings.retry_base_delay_s,
        "deadline_s": settings.connect_deadline_s,
        "attempt_s": float(max(2, round(settings.connect_timeout_s))),
    }


class GuardedPool(psycopg_pool.ConnectionPool[psycopg.Connection[Any]]):
    """A pool whose health check of idle connections (``check()``, run before a retry) is bounded like a call:
    pinging a connection to a frozen server would otherwise wait forever on a Unix socket. It lends the most
    recently returned connection first (last in, first out), as SQLAlchemy's ``pool_use_lifo`` does.

    Example:
        >>> GuardedPool("host=/nonexistent", open=False, check_timeout_s=2.0).check_timeout_s
        2.0
    """

    def __init__(self, *args: Any, check_timeout_s: float = 0.0, **kwargs: Any) -> None:
        self.check_timeout_s = check_timeout_s
        super().__init__(*args, **kwargs)

    def _get_ready_connection(self, timeout: float | None) -> psycopg.Connection[Any] | None:
        # The most recently returned connection first (psycopg_pool hands out the one idle longest). Its backend's
        # caches and prepared statements are warm: taking turns over two backends made a top-10 search at 100k x
        # 384 ~9 % slower (p50 1,177 against 1,077 us; raw psycopg 1,073; 2026-12-05). And connections beyond
        # min_size now really sit idle, so max_idle closes them; with turns, sequential calls kept every one busy.
        # psycopg_pool calls this under its lock, and its shrinking still closes the longest idle (the left end).
        ready = self._pool
        if len(ready) > 1:
            ready.rotate(1)
        return super()._get_ready_connection(timeout)

    def check_connection(self, conn: psycopg.Connection[Any]) -> None:  # type: ignore[override]
        with WATCHDOG.guard(conn, timeout_s=self.check_timeout_s):
            psycopg_pool.ConnectionPool.check_connection(conn)

    def connection(self, timeout: float | None = None) -> Loan:  # type: ignore[override]
        """A connection from the pool for the block, as ``ConnectionPool.connection`` (same commit/rollback and
        return), without its costs on every adapter call: see :class:`Loan`.

        Example:
            >>> with db.pool.connection() as conn:             # doctest: +SKIP
            ...     conn.execute("SELECT 1")
        """
        return Loan(self, timeout)


_log = logging.getLogger(__name__)


class Loan:
    """``ConnectionPool.connection()`` as a class: a connection borrowed for a block, returned after it.

    psycopg_pool's generator context manager also enters the connection's own context, whose exit runs
    ``commit()``: on the adapter's autocommit connections, idle after every call, that is a no-op that still takes
    the connection's lock and runs its wait loop (~10 µs, with the generator's own cost ~20 µs of a ~100 µs call
    overhead in bench/adapter.py's top-10 search). Here the commit (or, after an error, the rollback) runs only when
    a transaction is actually open; the usage statistics are kept as the pool keeps them.

    Example:
        >>> with GuardedPool("host=/nonexistent", open=False).connection() as conn:   # doctest: +SKIP
        ...     conn.execute("SELECT 1")
    """

    __slots__ = ("_conn", "_pool", "_started", "_timeout")

    def __init__(self, pool: GuardedPool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._conn: psycopg.Connection[Any] | None = None
        self._started = 0.0

    def __enter__(self) -> psycopg.Connection[Any]:
        self._conn = conn = self._pool.getconn(self._timeout)
        self._started = time.monotonic()
        return conn

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        conn = self._conn
        assert conn is not None
        try:
            if not conn.closed and conn.pgconn.transaction_status != TransactionStatus.IDLE:
                if exc_type is None:
                    conn.commit()
                else:
                    try:
                        conn.rollback()
                    except Exception as exc:  # the connection is broken: the pool discards it on return
                        _log.warning("error ignored in rollback on %s: %s", conn, exc)
        finally:
            pool = self._pool
            pool.putconn(conn)
            # psycopg_pool's own connection() keeps this statistic (ops.monitoring reports it)
            pool._stats[pool._USAGE_MS] += int(1000.0 * (time.monotonic() - self._started))


__all__ = ["GuardedPool", "Loan", "call_timeout_s", "connection_kwargs", "retry_limits", "set_session_timeouts"]
