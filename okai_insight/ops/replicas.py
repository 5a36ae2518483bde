"""Read replicas, failover and replication status for the PostgreSQL adapter.

* :class:`ReplicaRouter` gives the adapter a pool per replica: read-only methods (searches, ``get_*``, counts)
  run on a replica, writes on the primary. Inside :meth:`ReplicaRouter.read_your_writes` the router remembers the
  WAL position of each write and sends a read to a replica only once that replica has replayed it (else to the
  primary). Set ``Settings.replica_urls`` (``OKAI_REPLICA_URLS``, comma separated) and the adapter builds one.
  It runs on every call, so it lives in the data layer (``okai_insight/adapters/routing.py``) and is re-exported
  here; this module keeps the one-off administrative actions.
* Failover is libpq's own: :func:`failover_url` makes a multi-host URL with ``target_session_attrs=read-write``,
  so after a standby is promoted, a new connection lands on the new primary; the adapter's retries with backoff
  (``okai_insight/adapters/_retry.py``) carry the calls across the switch.
* :func:`create_replica` makes a streaming replica of a (local) server with ``pg_basebackup -R`` and starts it
  with the embedded server; :func:`promote` turns a standby into a primary; :func:`replication_role_and_lag` shows this server's role and its standbys' lag.

Example:
    >>> import okai_insight
    >>> db = okai_insight.connect(failover_url(primary, standby), replica_urls=(standby,))   # doctest: +SKIP
    >>> with db.router.read_your_writes():                                                      # doctest: +SKIP
    ...     room = db.create_room(); assert db.get_room(room) == room
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import conninfo

from okai_insight._postgres_only import require_postgres
from okai_insight._renamed import renamed
from okai_insight.adapters.routing import ReplicaRouter
from okai_insight.diagnostics.replication import MAX_LAG_MS
from okai_insight.diagnostics.replication import replication_status as replication_check
from okai_insight.errors import ConnectionFailed, FeatureNotAvailable, InvalidInput, translate_pg_errors
from okai_insight.ops._connection import connect

#: ReplicaRouter lives with the adapter that calls it; it stays importable from here.
__all__ = [
    "ReplicaRouter",
    "ReplicationStatus",
    "create_replica",
    "failover_url",
    "promote",
    "replication_role_and_lag",
]


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

    require_postgres(primary_url, "create_replica")  # before libpq reads a sqlite:/// URL as a keyword string
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
    with connect(url, autocommit=True) as conn, translate_pg_errors("promoting"):
        row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if not (row and row[0]):
            raise InvalidInput(f"{_where(url)} is not a standby (already a primary?)")
        done = conn.execute("SELECT pg_promote(true, %s)", (wait_s,)).fetchone()
    return bool(done and done[0])


@dataclass(frozen=True)
class ReplicationStatus:
    """One server's replication state: its role, and per standby (on a primary) or for itself (on a standby)
    how far behind it is; ``status`` is the replication diagnostic's verdict (``"warning"`` when a lag reaches
    ``max_lag_ms`` or a standby runs no WAL receiver, else ``"ok"``)."""

    role: str
    standbys: list[dict[str, Any]]
    replay_lag_bytes: int | None = None
    replay_lag_ms: float | None = None
    status: str = "ok"


def replication_role_and_lag(url: str, *, max_lag_ms: float = MAX_LAG_MS) -> ReplicationStatus:
    """Role and lag: on a primary, each connected standby's state and lag (``pg_stat_replication``); on a standby,
    how many bytes received are not replayed yet and how old the last replayed transaction is. The numbers and the
    verdict are the replication diagnostic's (``okai_insight.diagnostics.replication.replication_status``, one
    query: ``queries/replication/replication_status.sql``).

    Example:
        >>> replication_role_and_lag(primary_url).standbys[0]["state"]         # doctest: +SKIP
        'streaming'
    """
    with connect(url, autocommit=True) as conn:
        result = replication_check(conn, max_lag_ms=max_lag_ms)
    if result.status != "ok":
        raise FeatureNotAvailable(f"replication status of {_where(url)}: {result.note}")
    status = "warning" if result.worst_severity in ("warning", "critical") else "ok"
    rows = result.rows
    if rows and rows[0]["role"] == "standby":
        me = rows[0]
        return ReplicationStatus("standby", [], me["replay_lag_bytes"], me["replay_lag_ms"], status)
    standbys = [
        {
            "application_name": r["standby"],
            "state": r["state"],
            "sync_state": r["sync_state"],
            "replay_lag_bytes": r["replay_lag_bytes"],
            "replay_lag_ms": r["replay_lag_ms"],
        }
        for r in rows
    ]
    return ReplicationStatus("primary", standbys, status=status)


def _where(url: str) -> str:
    info = conninfo.conninfo_to_dict(url)
    return f"{info.get('host') or 'localhost'}/{info.get('dbname') or ''}"


#: ``replication_status`` is the replication diagnostic's name (``okai_insight.diagnostics.replication``, and the
#: ``okai-insight replication_status`` command); this module's function, which adds the server's role, is
#: ``replication_role_and_lag``. The old name warns for one release.
__getattr__ = renamed(__name__, {"replication_status": ("replication_role_and_lag", replication_role_and_lag)})
