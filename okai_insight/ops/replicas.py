"""Read replicas, failover and replication status for the PostgreSQL adapter.

* :class:`ReplicaRouter` gives the adapter a pool per replica: read-only methods (searches, ``get_*``, counts)
  run on a replica, writes on the primary. Inside :meth:`ReplicaRouter.read_your_writes` the router remembers the
  WAL position of each write and sends a read to a replica only once that replica has replayed it (else to the
  primary). Set ``Settings.replica_urls`` (``OKAI_REPLICA_URLS``, comma separated) and the adapter builds one.
* Failover is libpq's own: :func:`failover_url` makes a multi-host URL with ``target_session_attrs=read-write``,
  so after a standby is promoted, a new connection lands on the new primary; the adapter's retries with backoff
  (``okai_insight/adapters/_retry.py``) carry the calls across the switch.
* :func:`create_replica` makes a streaming replica of a (local) server with ``pg_basebackup -R`` and starts it
  with the embedded server; :func:`promote` turns a standby into a primary; :func:`replication_status` shows lag.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect(failover_url(primary, standby), replica_urls=(standby,))   # doctest: +SKIP
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
import psycopg_pool
from psycopg import conninfo

from okai_insight.errors import ConfigurationError, ConnectionFailed, InvalidInput
from okai_insight.settings import Settings

Conn = psycopg.Connection[Any]

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
        for i, url in enumerate(self.urls):
            from okai_insight.adapters.postgres import register

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

    def pool_for(self, primary: psycopg_pool.ConnectionPool[Conn], *, read_only: bool, attempt: int) -> Any:
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


def failover_url(primary: str, *standbys: str) -> str:
    """A libpq multi-host URL over the primary and its standbys that always connects to the writable one.

    Example:
        >>> failover_url("postgresql://u@h1:5432/db", "postgresql://u@h2:5433/db")
        'postgresql://u@/db?host=h1,h2&port=5432,5433&target_session_attrs=read-write'
    """
    if not standbys:
        raise InvalidInput("failover_url needs at least one standby URL")
    infos = [conninfo.conninfo_to_dict(u) for u in (primary, *standbys)]
    first = infos[0]
    for info in infos[1:]:
        for key in ("dbname", "user"):
            if info.get(key) != first.get(key):
                raise InvalidInput(
                    f"the standbys must use the primary's {key}: {info.get(key)!r} != {first.get(key)!r}"
                )
    params: dict[str, Any] = {
        "host": ",".join(str(i.get("host") or "") for i in infos),
        "port": ",".join(str(i.get("port") or "5432") for i in infos),
    }
    skip = {"host", "port", "hostaddr", "user", "dbname"}
    params.update({k: v for k, v in first.items() if k not in skip and v not in (None, "")})
    params["target_session_attrs"] = "read-write"
    user = quote(str(first.get("user") or ""), safe="")
    dbname = quote(str(first.get("dbname") or ""), safe="")
    return f"postgresql://{user}{'@' if user else ''}/{dbname}?{urlencode(params, safe='/,')}"


def create_replica(primary_url: str, data_dir: str | Path, *, owner_like: str | Path | None = None) -> Any:
    """Make a streaming replica of the local server at ``primary_url`` in the new ``data_dir`` and start it.

    Uses ``pg_basebackup -R`` (the primary's ``pg_hba.conf`` must allow replication connections; the embedded
    server's does for local sockets). Returns the started :class:`~okai_insight.embedded.EmbeddedServer`.

    Example:
        >>> standby = create_replica(primary_url, "/srv/standby", owner_like="/srv/primary")   # doctest: +SKIP
        >>> standby.url()                                                                      # doctest: +SKIP
        'postgresql://postgres:@/okai?host=/srv/standby'
    """
    from okai_insight.embedded import EmbeddedServer
    from okai_insight.ops.backup import basebackup

    database = conninfo.conninfo_to_dict(primary_url).get("dbname") or "postgres"
    copy = basebackup(primary_url, data_dir, owner_like=owner_like, standby=True, sync=False)
    server = EmbeddedServer(copy.path, database=str(database))
    try:
        server.start()
    except psycopg.errors.ReadOnlySqlTransaction:
        pass  # running: only the embedded setup's CREATE EXTENSION cannot run on a standby (replicated anyway)
    if server.url() is None:
        raise ConnectionFailed(f"the replica in {copy.path} did not start (see {copy.path / 'log'})")
    return server


def promote(url: str, *, wait_s: int = 60) -> bool:
    """Promote the standby at ``url`` to a primary (``pg_promote``); True once it accepts writes.

    Example:
        >>> promote(standby_url)                                       # doctest: +SKIP
        True
    """
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if not (row and row[0]):
                raise InvalidInput(f"{_where(url)} is not a standby (already a primary?)")
            done = conn.execute("SELECT pg_promote(true, %s)", (wait_s,)).fetchone()
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(str(exc).strip()) from exc
    return bool(done and done[0])


@dataclass(frozen=True)
class ReplicationStatus:
    """One server's replication state: its role, and per standby (on a primary) or for itself (on a standby)
    how far behind it is."""

    role: str
    standbys: list[dict[str, Any]]
    replay_lag_bytes: int | None = None
    replay_lag_ms: float | None = None


def replication_status(url: str) -> ReplicationStatus:
    """Role and lag: on a primary, each connected standby's state and lag (``pg_stat_replication``); on a standby,
    how many bytes received are not replayed yet and how old the last replayed transaction is.

    Example:
        >>> replication_status(primary_url).standbys[0]["state"]         # doctest: +SKIP
        'streaming'
    """
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(str(exc).strip()) from exc
    with conn:
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if row and row[0]:
            lag = conn.execute(
                "SELECT pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint, "
                "CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
                "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000 END"
            ).fetchone()
            assert lag is not None
            return ReplicationStatus(
                "standby", [], None if lag[0] is None else int(lag[0]), None if lag[1] is None else float(lag[1])
            )
        cur = conn.execute(
            "SELECT application_name, state, sync_state, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS replay_lag_bytes, "
            "extract(epoch FROM replay_lag) * 1000 AS replay_lag_ms "
            "FROM pg_stat_replication ORDER BY application_name, pid"
        )
        names = [d.name for d in cur.description or []]
        standbys = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        for s in standbys:
            s["replay_lag_ms"] = None if s["replay_lag_ms"] is None else float(s["replay_lag_ms"])
        return ReplicationStatus("primary", standbys)


def _where(url: str) -> str:
    info = conninfo.conninfo_to_dict(url)
    return f"{info.get('host') or 'localhost'}/{info.get('dbname') or ''}"
