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

from typing import Any

import psycopg
import psycopg_pool
from psycopg import conninfo as pg_conninfo

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
    pinging a connection to a frozen server would otherwise wait forever on a Unix socket.

    Example:
        >>> GuardedPool("host=/nonexistent", open=False, check_timeout_s=2.0).check_timeout_s
        2.0
    """

    def __init__(self, *args: Any, check_timeout_s: float = 0.0, **kwargs: Any) -> None:
        self.check_timeout_s = check_timeout_s
        super().__init__(*args, **kwargs)

    def check_connection(self, conn: psycopg.Connection[Any]) -> None:  # type: ignore[override]
        with WATCHDOG.guard(conn, timeout_s=self.check_timeout_s):
            psycopg_pool.ConnectionPool.check_connection(conn)


__all__ = ["GuardedPool", "call_timeout_s", "connection_kwargs", "retry_limits", "set_session_timeouts"]
