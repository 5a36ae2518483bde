"""Retry with exponential backoff and full jitter, for connection-class failures only.

Bad input, constraint violations and every other error fail at once: retrying them cannot help and would hide
bugs. A connection lost mid-transaction rolls back on the server, so retrying the whole transaction is safe when
the operation is idempotent (writes carry client-generated ids, see the PostgreSQL adapter).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
import psycopg_pool

from okai_insight.adapters._pg_health import RETRYABLE_REASONS
from okai_insight.errors import ConfigurationError, ConnectionFailed, DatabaseUnavailable, PoolTimeout

T = TypeVar("T")

#: SQLSTATEs after which a fresh connection may succeed: connection exceptions (08xxx), admin/crash shutdown
#: (57P01, 57P02), cannot connect now (57P03, a starting or recovering server), read-only standby after failover
#: is *not* here: writing to a standby needs a different server, not a retry.
_RETRYABLE_PREFIXES = ("08",)
_RETRYABLE_CODES = {"57P01", "57P02", "57P03"}


def is_connection_error(exc: BaseException) -> bool:
    """True for errors a new connection could cure.

    Example:
        >>> is_connection_error(psycopg.OperationalError("server closed the connection"))
        True
        >>> is_connection_error(ValueError())
        False
    """
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return False  # the pool already waited its full timeout; retrying would multiply the wait
    if isinstance(exc, psycopg.OperationalError):
        code = getattr(exc, "sqlstate", None)
        return code is None or code.startswith(_RETRYABLE_PREFIXES) or code in _RETRYABLE_CODES
    return isinstance(exc, psycopg.InterfaceError)


def backoff_delays(attempts: int, base_s: float, cap_s: float = 5.0) -> list[float]:
    """The sleep before each retry: full jitter over an exponentially growing window.

    Example:
        >>> len(backoff_delays(3, 0.1)), all(0 <= d <= 0.4 for d in backoff_delays(3, 0.1))
        (3, True)
    """
    return [random.uniform(0, min(cap_s, base_s * 2**i)) for i in range(attempts)]


def with_retries(
    fn: Callable[[int], T],
    *,
    attempts: int,
    base_delay_s: float,
    explain: Callable[[BaseException], DatabaseUnavailable | None] | None = None,
    deadline_s: float | None = None,
    attempt_s: float = 0.0,
) -> T:
    """Call ``fn(attempt)``; on a connection-class error sleep and call it again, up to ``attempts`` retries.

    ``explain`` says why the database cannot be reached (a :class:`DatabaseUnavailable` with its reason) after a
    connection error or a pool timeout; for a pool timeout, None means the pool is merely exhausted (every
    connection busy: :class:`PoolTimeout`, not retried, since the pool already waited its full timeout). An
    unreachable database is retried like a lost connection while its reason may pass (refused, timeout: a restart
    or a failover), and not when it cannot (authentication).

    ``deadline_s`` bounds the whole call: no retry starts when its sleep plus one full attempt (``attempt_s``,
    the connect timeout) would end past the deadline, counted from the call's start; the last failure is raised
    as :class:`DatabaseUnavailable` instead.

    Example:
        >>> with_retries(lambda attempt: attempt + 1, attempts=3, base_delay_s=0.01)
        1
    """
    if deadline_s is not None and not deadline_s > 0:
        raise ConfigurationError(f"connect_deadline_s must be positive, got {deadline_s!r}")
    delays: list[float] = []  # drawn at the first failure: a call that succeeds (nearly all) draws nothing
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            return fn(attempt)
        except psycopg_pool.PoolTimeout as exc:
            delays = delays or backoff_delays(attempts, base_delay_s)
            cause = explain(exc) if explain is not None else None
            if cause is None:
                raise PoolTimeout(f"no database connection became free in time: {exc}") from exc
            if cause.reason not in RETRYABLE_REASONS or attempt >= len(delays):
                raise _after(cause, attempt) from exc
            if deadline_s is not None and _past(started, delays[attempt] + attempt_s, deadline_s):
                raise _deadline(cause, exc, attempt, deadline_s) from exc
        except psycopg_pool.PoolClosed as exc:
            raise ConnectionFailed("the adapter is closed") from exc
        except psycopg.Error as exc:
            if not is_connection_error(exc):
                raise
            delays = delays or backoff_delays(attempts, base_delay_s)
            if attempt >= len(delays):
                cause = explain(exc) if explain is not None else None
                if cause is None:
                    raise ConnectionFailed(f"database unreachable after {attempt + 1} attempts: {exc}") from exc
                raise _after(cause, attempt) from exc
            if deadline_s is not None and _past(started, delays[attempt] + attempt_s, deadline_s):
                cause = explain(exc) if explain is not None else None
                raise _deadline(cause, exc, attempt, deadline_s) from exc
        time.sleep(delays[attempt])
        attempt += 1


def _past(started: float, next_s: float, deadline_s: float) -> bool:
    return time.monotonic() - started + next_s > deadline_s


def _deadline(
    cause: DatabaseUnavailable | None, exc: BaseException, attempt: int, deadline_s: float
) -> DatabaseUnavailable:
    reason = cause.reason if cause is not None else "timeout"
    detail = cause.detail if cause is not None else str(exc).strip()
    return DatabaseUnavailable(
        reason, f"{detail} (gave up after {attempt + 1} attempts: connect_deadline_s is {deadline_s:g} s)"
    )


def _after(cause: DatabaseUnavailable, attempt: int) -> DatabaseUnavailable:
    if attempt == 0:
        return cause
    return DatabaseUnavailable(cause.reason, f"{cause.detail} (after {attempt + 1} attempts)")
