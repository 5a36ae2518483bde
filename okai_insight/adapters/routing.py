"""Read replicas for the PostgreSQL adapter: which pool each call's transaction runs on.

:class:`ReadRouter` is what :class:`~okai_insight.adapters.postgres.PostgresAdapter` asks on every call (a small
Protocol, so the adapter's hot path is typed and knows nothing of replicas); :class:`ReplicaRouter` implements it
with a pool per replica: read-only methods (searches, ``get_*``, counts) run on a replica, writes on the primary.
Inside :meth:`ReplicaRouter.read_your_writes` the router remembers the WAL position of each write and sends a read
to a replica only once that replica has replayed it (else to the primary). Set ``Settings.replica_urls``
(``OKAI_REPLICA_URLS``, comma separated) and the adapter builds one.

Making, promoting and watching replicas are one-off administrative actions: they live in
``okai_insight/ops/replicas.py``, which also re-exports :class:`ReplicaRouter` (its documented home).

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect(primary_url, replica_urls=(standby_url,))                   # doctest: +SKIP
    >>> with db.router.read_your_writes():                                                      # doctest: +SKIP
    ...     room = db.create_room(); assert db.get_room(room) == room
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

import psycopg
import psycopg_pool
from psycopg import conninfo

from okai_insight.errors import ConfigurationError
from okai_insight.settings import Settings

Conn = psycopg.Connection[Any]


class ConnectionSource(Protocol):
    """Anything that lends a connection for one transaction: a ``psycopg_pool.ConnectionPool`` or a replica."""

    def connection(self) -> AbstractContextManager[Conn]: ...


class ReadRouter(Protocol):
    """What the PostgreSQL adapter asks on every call when it has a router (``PostgresAdapter.router``).

    Example:
        >>> router: ReadRouter = ReplicaRouter(["postgresql://u@replica1/agents"], open=False)
        >>> router.close()
    """

    def pool_for(
        self, primary: psycopg_pool.ConnectionPool[Conn], *, read_only: bool, attempt: int
    ) -> ConnectionSource:
        """Where this attempt of a call runs: ``primary`` or a replica."""
        ...

    def after_write(self, conn: Conn) -> None:
        """Called once a write committed on ``conn`` (a primary's connection)."""
        ...

    def close(self) -> None:
        """Release the router's own connections."""
        ...


#: Inside read_your_writes(): the WAL position of the latest write this context made (None: no write yet).
#: A WAL position no replica reaches: reads go to the primary.
_ALWAYS_PRIMARY = "FFFFFFFF/FFFFFFFF"
_TOKEN: contextvars.ContextVar[list[str | None] | None] = contextvars.ContextVar("okai_ryw", default=None)


class ReplicaRouter:
    """Sends read-only transactions to replicas (round robin), everything else to the primary.

    A replica that cannot give a connection within ``replica_timeout_s`` is skipped for ``down_for_s`` and the read
    runs on the primary; a read that fails on a replica with a connection error is retried by the adapter on the
    primary.

    Example:
        >>> router = ReplicaRouter(["postgresql://u@replica1/agents"], settings=Settings(), open=False)
        >>> len(router.pools)
        1
    """

    #: A replica that could not give a connection is skipped for this long (reads go to the primary meanwhile).
    down_for_s = 5.0

    def __init__(self, urls: Sequence[str], *, settings: Settings | None = None, open: bool = True) -> None:
        if isinstance(urls, str) or not urls:
            raise ConfigurationError("replica_urls must be a non-empty list of postgresql:// URLs")
        for url in urls:
            try:
                conninfo.conninfo_to_dict(url)
            except psycopg.ProgrammingError as exc:
                raise ConfigurationError(f"replica URL {url!r} is not valid: {exc}") from exc
        s = settings or Settings.from_env()
        self.urls = tuple(urls)
        self.pools: list[psycopg_pool.ConnectionPool[Conn]] = []
        # Imported here: postgres.py imports this module for the ReadRouter type (and builds the router).
        from okai_insight.adapters.postgres import register

        for i, url in enumerate(self.urls):
            pool: psycopg_pool.ConnectionPool[Conn] = psycopg_pool.ConnectionPool(
                url,
                min_size=s.pool_min_size,
                max_size=s.pool_max_size,
                max_idle=s.pool_idle_timeout_s,
                timeout=s.connect_timeout_s,
                kwargs={"connect_timeout": max(1, int(s.connect_timeout_s))},
                configure=lambda conn: register(conn, ef_search=s.hnsw_ef_search),
                check=psycopg_pool.ConnectionPool.check_connection,
                name=f"okai-insight-replica-{i}",
                open=False,
            )
            self.pools.append(pool)
            if open:
                pool.open(wait=False)
        self._next = itertools.cycle(range(len(self.pools)))
        self._lock = threading.Lock()
        self._down_until = [0.0] * len(self.pools)
        #: Waiting this long for a replica's connection before falling back to the primary.
        self.replica_timeout_s = min(1.0, s.connect_timeout_s)
        #: How many reads went to a replica and to the primary, and how often a replica failed (the metrics show
        #: them).
        self.stats = {"replica_reads": 0, "primary_reads": 0, "replica_failures": 0}

    def pool_for(
        self, primary: psycopg_pool.ConnectionPool[Conn], *, read_only: bool, attempt: int
    ) -> ConnectionSource:
        """The pool a transaction should run on.

        Writes and retried reads (``attempt > 0``: the replica just failed) go to ``primary``.

        Example:
            >>> router.pool_for(db.pool, read_only=False, attempt=0) is db.pool        # doctest: +SKIP
            True
        """
        if not read_only or attempt > 0:
            if read_only:
                self._count("primary_reads")
            return primary
        index = self._pick()
        if index is None:
            self._count("primary_reads")
            return primary
        pool = self.pools[index]
        token = _TOKEN.get()
        if token is not None and token[0] is not None and not self._caught_up(pool, token[0]):
            self._count("primary_reads")
            return primary
        return _ReplicaTarget(self, index, primary)

    def _pick(self) -> int | None:
        """The next replica in turn that is not marked down."""
        now = time.monotonic()
        with self._lock:
            for _ in range(len(self.pools)):
                i = next(self._next)
                if self._down_until[i] <= now:
                    return i
        return None

    def _mark_down(self, index: int) -> None:
        with self._lock:
            self._down_until[index] = time.monotonic() + self.down_for_s
            self.stats["replica_failures"] += 1

    def _count(self, key: str) -> None:
        with self._lock:
            self.stats[key] += 1

    def _caught_up(self, pool: psycopg_pool.ConnectionPool[Conn], lsn: str) -> bool:
        try:
            with pool.connection(timeout=self.replica_timeout_s) as conn:
                row = conn.execute(
                    "SELECT coalesce(pg_last_wal_replay_lsn(), pg_current_wal_lsn()) >= %s::pg_lsn", (lsn,)
                ).fetchone()
                conn.rollback()
        except (psycopg.Error, psycopg_pool.PoolTimeout):
            return False
        return bool(row and row[0])

    def after_write(self, conn: Conn) -> None:
        """Called by the adapter after a write committed on ``conn``: inside :meth:`read_your_writes`, remember
        the primary's WAL position (one extra round trip; none outside the context).

        Example:
            >>> router.after_write(conn)                                  # doctest: +SKIP
        """
        token = _TOKEN.get()
        if token is None:
            return
        try:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
            conn.rollback()
        except psycopg.Error:
            # The write committed; only its position is unknown. Never fail (and so retry) a committed write for
            # that: send this block's reads to the primary instead.
            token[0] = _ALWAYS_PRIMARY
            return
        if row is not None:
            token[0] = str(row[0])

    @contextlib.contextmanager
    def read_your_writes(self) -> Iterator[None]:
        """Within this block, every read sees the block's earlier writes (a replica that has not replayed them
        yet is skipped for the primary).

        Example:
            >>> with db.router.read_your_writes():                       # doctest: +SKIP
            ...     mid = db.create_memory(memory, "messages")
            ...     assert db.get_memory_by_id(mid) is not None
        """
        reset = _TOKEN.set([None])
        try:
            yield
        finally:
            _TOKEN.reset(reset)

    def close(self) -> None:
        """Close the replica pools.

        Example:
            >>> router.close()                                            # doctest: +SKIP
        """
        for pool in self.pools:
            pool.close()


class _ReplicaTarget:
    """What :meth:`ReplicaRouter.pool_for` returns for a read: ``connection()`` gives a replica's connection, or,
    when that replica cannot give one within ``replica_timeout_s``, marks it down and gives the primary's."""

    def __init__(self, router: ReplicaRouter, index: int, primary: psycopg_pool.ConnectionPool[Conn]) -> None:
        self.router, self.index, self.primary = router, index, primary

    @contextlib.contextmanager
    def connection(self) -> Iterator[Conn]:
        pool = self.router.pools[self.index]
        try:
            conn = pool.getconn(timeout=self.router.replica_timeout_s)
        except (psycopg_pool.PoolTimeout, psycopg.OperationalError):
            self.router._mark_down(self.index)
            self.router._count("primary_reads")
            with self.primary.connection() as fallback:
                yield fallback
            return
        self.router._count("replica_reads")
        try:
            yield conn
        finally:
            pool.putconn(conn)
