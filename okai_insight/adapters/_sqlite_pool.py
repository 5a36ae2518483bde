"""Connections of the SQLite adapter: one per thread, a process-wide write lock per database, typed errors.

SQLite connections must not run two statements at once, so each thread gets its own (WAL lets readers run
beside the writer). Writers of one database in this process queue on one lock before ``BEGIN IMMEDIATE``, so
they never spin on ``SQLITE_BUSY``; other processes are waited for through the busy timeout.

Example:
    >>> pool = ConnectionPool("agent.db", driver=pick_driver())     # doctest: +SKIP
    >>> pool.transaction(lambda c: c.query("SELECT 1"))              # doctest: +SKIP
    [(1,)]
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from okai_insight.adapters import _sqlite_driver as drv
from okai_insight.adapters._sqlite_driver import Connection, Driver, open_connection
from okai_insight.errors import (
    ConnectionFailed,
    InvalidInput,
    LockTimeout,
    NotFound,
    OkaiError,
    PermissionDenied,
    SchemaError,
)

T = TypeVar("T")

_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def write_lock(key: str) -> threading.Lock:
    """The process-wide write lock of one database (keyed by its resolved path or memory name).

    Example:
        >>> write_lock("/tmp/a.db") is write_lock("/tmp/a.db")
        True
    """
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.Lock())


class ConnectionPool:
    """Per-thread connections to one database target."""

    def __init__(
        self,
        target: str,
        *,
        driver: Driver,
        lock_key: str,
        busy_timeout_ms: int = 5000,
        setup: Callable[[Connection], None] | None = None,
    ) -> None:
        self.target = target
        self.driver = driver
        self.busy_timeout_ms = busy_timeout_ms
        self._setup = setup
        self._lock = write_lock(lock_key)
        self._local = threading.local()
        self._all: dict[int, Connection] = {}
        self._guard = threading.Lock()
        self._closed = False

    def open(self) -> Connection:
        """A new connection outside the per-thread set (the caller closes it).

        Example:
            >>> conn = pool.open(); conn.close()               # doctest: +SKIP
        """
        try:
            conn = open_connection(self.target, driver=self.driver, busy_timeout_ms=self.busy_timeout_ms)
        except self.driver.error as exc:
            raise translate(self.driver, exc) from exc
        if self._setup is not None:
            self._setup(conn)
        return conn

    def connection(self) -> Connection:
        """This thread's connection, opened on first use.

        Example:
            >>> pool.connection().query("SELECT 1")             # doctest: +SKIP
            [(1,)]
        """
        if self._closed:
            raise ConnectionFailed("the adapter is closed")
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        conn = self.open()
        with self._guard:
            if self._closed:
                conn.close()
                raise ConnectionFailed("the adapter is closed")
            self._reap()
            stale = self._all.pop(threading.get_ident(), None)
            if stale is not None:
                stale.close()  # a finished thread's, whose ident this new thread reuses
            self._all[threading.get_ident()] = conn
        self._local.conn = conn
        return conn

    def _reap(self) -> None:
        """Close connections of threads that have ended (called with the guard held)."""
        alive = {t.ident for t in threading.enumerate()}
        for ident in [i for i in self._all if i not in alive]:
            self._all.pop(ident).close()

    def transaction(self, fn: Callable[[Connection], T], *, write: bool = False) -> T:
        """Run ``fn(conn)`` in one transaction (``BEGIN IMMEDIATE`` under the write lock when ``write``).

        Statement-level constraint failures become :class:`InvalidInput`; a failure at COMMIT (the deferred
        foreign keys) becomes :class:`NotFound`; other driver errors become typed okai errors.

        Example:
            >>> pool.transaction(lambda c: c.run("DELETE FROM rooms"), write=True)   # doctest: +SKIP
            0
        """
        conn = self.connection()
        if write:
            # The same bound as another process's lock gets through the busy timeout (Settings.adapter_lock_timeout_ms).
            if not self._lock.acquire(timeout=self.busy_timeout_ms / 1000):
                raise LockTimeout(f"another writer held the database for more than {self.busy_timeout_ms} ms")
            try:
                return self._in_transaction(conn, fn, "BEGIN IMMEDIATE")
            finally:
                self._lock.release()
        return self._in_transaction(conn, fn, "BEGIN")

    def _in_transaction(self, conn: Connection, fn: Callable[[Connection], T], begin: str) -> T:
        d = self.driver
        try:
            conn.run(begin)
            result = fn(conn)
        except d.error as exc:
            conn.rollback()
            if isinstance(exc, d.constraint_error):
                raise InvalidInput(f"the database refused the row: {exc}") from exc
            raise translate(d, exc) from exc
        except BaseException:
            conn.rollback()
            raise
        try:
            conn.run("COMMIT")
        except d.error as exc:
            conn.rollback()
            if isinstance(exc, d.constraint_error):
                raise NotFound("a referenced row does not exist (a room, account or knowledge item)") from exc
            raise translate(d, exc) from exc
        return result

    def close(self) -> None:
        """Close every connection; the pool refuses further use. Idempotent.

        Example:
            >>> pool.close()                                   # doctest: +SKIP
        """
        with self._guard:
            self._closed = True
            conns, self._all = list(self._all.values()), {}
        for conn in conns:
            conn.close()
        self._local = threading.local()


def translate(driver: Driver, exc: BaseException) -> OkaiError:
    """A driver error as an okai error, by SQLite result code (never by message text).

    Example:
        >>> translate(driver, busy_error)                      # doctest: +SKIP
        LockTimeout('the database stayed locked ...')
    """
    code = driver.code(exc)
    if code in (drv.SQLITE_BUSY, drv.SQLITE_LOCKED):
        return LockTimeout(f"the database stayed locked by another writer past the busy timeout: {exc}")
    if code in (drv.SQLITE_READONLY, drv.SQLITE_PERM):
        return PermissionDenied(f"the database is read-only: {exc}")
    if code in (drv.SQLITE_CANTOPEN, drv.SQLITE_IOERR, drv.SQLITE_FULL):
        return ConnectionFailed(f"the database file could not be opened or written: {exc}")
    if code in (drv.SQLITE_CORRUPT, drv.SQLITE_NOTADB):
        return SchemaError(f"the file is not a usable SQLite database: {exc}")
    return SchemaError(f"SQLite refused a statement: {exc}")


__all__ = ["ConnectionPool", "translate", "write_lock"]
