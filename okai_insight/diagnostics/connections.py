"""Connections: who is connected (by database, user, application, client and state) against
``max_connections``, and the adapter's pool statistics.

Example:
    >>> from okai_insight.diagnostics import connections
    >>> connections.connection_states(url).rows[0]["connections"]    # doctest: +SKIP
    3
"""

from __future__ import annotations

from typing import Any

from okai_insight.diagnostics._result import Finding, Severity
from okai_insight.diagnostics._runner import CheckUnavailable, Findings, Outcome, Runner, diagnostic

#: Share of usable connections (max_connections minus the superuser reserve) in use that raises a warning /
#: critical finding. PgHero flags an absolute 500 (lib/pghero.rb total_connections_threshold); a share of the
#: server's own limit fits small servers too.
WARN_RATIO = 0.8
CRITICAL_RATIO = 0.95


@diagnostic("connections", "Connections")
def connection_states(run: Runner) -> Outcome:
    """Client connections grouped by database, user, application, client and state; a finding when their total
    nears the server's usable limit (80 % warning, 95 % critical).

    Example:
        >>> connection_states(url).findings                          # doctest: +SKIP
        []
    """
    res = run.query("connections", "connection_states")
    findings: Findings = []
    if res.rows:
        total = sum(int(r["connections"]) for r in res.rows)
        usable = int(res.rows[0]["max_connections"]) - int(res.rows[0]["reserved_connections"])
        ratio = total / usable if usable > 0 else 1.0
        if ratio >= WARN_RATIO:
            severity: Severity = "critical" if ratio >= CRITICAL_RATIO else "warning"
            findings.append(
                Finding(
                    severity,
                    f"{total} client connections use {ratio:.0%} of the {usable} the server allows; new connections "
                    "will be refused at the limit. Pool connections in the application (or put PgBouncer in front).",
                    threshold=f"connections / (max_connections - superuser_reserved_connections) >= {WARN_RATIO}",
                    source="okai-insight (PgHero lib/pghero/methods/connections.rb uses an absolute 500)",
                    fix_sql="-- find who holds them:\nSELECT application_name, state, count(*) FROM pg_stat_activity "
                    "GROUP BY 1, 2 ORDER BY 3 DESC;",
                    subject="server",
                )
            )
    return res.rows, findings, res.columns


@diagnostic("connections", "Connection pool", adapter_only=True)
def pool_stats(run: Runner) -> Outcome:
    """The adapter's connection pool: size, in use, idle, waiting clients and timeouts (``psycopg_pool`` stats).
    Available when the diagnostics are given an adapter; a warning when requests timed out or clients wait.

    Example:
        >>> pool_stats(db).rows[0]["pool_max"]                        # doctest: +SKIP
        20
    """
    adapter = run.adapter
    if adapter is None:
        raise CheckUnavailable("pool statistics need the adapter (pass the object okai_insight.connect() returned)")
    stats: dict[str, Any] = dict(adapter.pool.get_stats())
    row = {
        "pool_min": stats.get("pool_min"),
        "pool_max": stats.get("pool_max"),
        "pool_size": stats.get("pool_size"),
        "pool_available": stats.get("pool_available"),
        "in_use": (stats.get("pool_size") or 0) - (stats.get("pool_available") or 0),
        "requests_waiting": stats.get("requests_waiting", 0),
        "requests_num": stats.get("requests_num", 0),
        "requests_queued": stats.get("requests_queued", 0),
        "requests_errors": stats.get("requests_errors", 0),
        "requests_wait_ms": stats.get("requests_wait_ms", 0),
        "connections_errors": stats.get("connections_errors", 0),
        "connections_lost": stats.get("connections_lost", 0),
    }
    findings: Findings = []
    if row["requests_errors"] or row["requests_waiting"]:
        findings.append(
            Finding(
                "warning",
                f"the pool timed out {row['requests_errors']} request(s) and {row['requests_waiting']} wait now: "
                f"all {row['pool_max']} connections were busy. Raise pool_max_size (OKAI_POOL_MAX_SIZE) or find "
                "the slow statements holding them (statements.slow_queries).",
                threshold="requests_errors > 0 or requests_waiting > 0",
                source="psycopg_pool ConnectionPool.get_stats()",
                subject="pool",
            )
        )
    return [row], findings
