"""The server's settings: its features for this role, the key settings, and the cache hit ratio (concern
``settings``; okai-insight's own configuration is :mod:`okai_insight.settings`).

Example:
    >>> from okai_insight.diagnostics import server_settings
    >>> server_settings.cache_hit_ratio(url).rows[0]["table_hit_ratio"]     # doctest: +SKIP
    0.998
"""

from __future__ import annotations

from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import Findings, Outcome, Runner, diagnostic

#: PgHero lib/pghero.rb: cache_hit_rate_threshold 99 (%).
CACHE_HIT_RATIO = 0.99
#: Below this many block reads the ratio says nothing (a fresh server reads everything from disk once).
MIN_BLOCKS = 10_000


@diagnostic("settings", "Server features")
def server_features(run: Runner) -> Outcome:
    """Server version, extensions (available / installed), this role's memberships: what the other checks can
    use. An info finding when pg_stat_statements or pgvector is not installed here.

    Example:
        >>> server_features(url).rows[0]["server_version"]          # doctest: +SKIP
        '18.6'
    """
    f = run.features
    row = {
        "server_version": f.server_version,
        "server_version_num": f.server_version_num,
        "database": f.database,
        "user": f.user,
        "superuser": f.superuser,
        "reads_all_stats": f.can_read_all_stats(),
        "installed_extensions": dict(sorted(f.installed.items())),
        "statements_readable": f.readable_statements,
    }
    findings: Findings = []
    if "pg_stat_statements" not in f.installed:
        findings.append(
            Finding(
                "info",
                "pg_stat_statements is not installed in this database: the statements checks and the vector "
                "query checks have no history to read. Install it (it must also be in shared_preload_libraries).",
                threshold="pg_stat_statements not in pg_extension",
                source="PostgreSQL docs, pgstatstatements",
                fix_sql="CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
                subject=f.database,
            )
        )
    if not f.can_read_all_stats():
        findings.append(
            Finding(
                "info",
                f"role {f.user} sees only its own sessions' query texts; grant it pg_monitor for the full picture.",
                threshold="not a member of pg_monitor / pg_read_all_stats",
                source="PostgreSQL docs, predefined-roles",
                fix_sql=f"GRANT pg_monitor TO {f.user};",
                subject=f.user,
            )
        )
    return [row], findings


@diagnostic("settings", "Key settings")
def key_settings(run: Runner) -> Outcome:
    """The settings that matter for an agent-memory database (memory in bytes, source, pending restart); a
    critical finding when autovacuum or track_counts is off, info when track_io_timing is off.

    Example:
        >>> {r["name"] for r in key_settings(url).rows} >= {"shared_buffers", "work_mem"}   # doctest: +SKIP
        True
    """
    res = run.query("settings", "key_settings")
    values = {r["name"]: r["setting"] for r in res.rows}
    findings: Findings = []
    for name in ("autovacuum", "track_counts"):
        if values.get(name) == "off":
            findings.append(
                Finding(
                    "critical",
                    f"{name} is off: dead rows pile up and transaction-ID wraparound is only prevented by emergency "
                    "vacuums" + (" (autovacuum needs track_counts)" if name == "track_counts" else "") + ".",
                    threshold=f"{name} = off",
                    source="PostgreSQL docs, routine-vacuuming (autovacuum)",
                    fix_sql=f"ALTER SYSTEM SET {name} = on;\nSELECT pg_reload_conf();",
                    subject=name,
                )
            )
    if values.get("track_io_timing") == "off":
        findings.append(
            Finding(
                "info",
                "track_io_timing is off: EXPLAIN (BUFFERS) and pg_stat_statements cannot tell time spent reading.",
                threshold="track_io_timing = off",
                source="PostgreSQL docs, runtime-config-statistics",
                fix_sql="ALTER SYSTEM SET track_io_timing = on;\nSELECT pg_reload_conf();",
                subject="track_io_timing",
            )
        )
    pending = [r["name"] for r in res.rows if r["pending_restart"]]
    if pending:
        findings.append(
            Finding(
                "info",
                f"changed settings wait for a restart: {', '.join(pending)}",
                threshold="pending_restart",
                source="PostgreSQL docs, view-pg-settings",
                subject="server",
            )
        )
    return res.rows, findings, res.columns


@diagnostic("settings", "Cache hit ratio")
def cache_hit_ratio(run: Runner, *, min_ratio: float = CACHE_HIT_RATIO, min_blocks: int = MIN_BLOCKS) -> Outcome:
    """Share of table and index reads served from shared_buffers; a warning under ``min_ratio`` (99 %) once at
    least ``min_blocks`` blocks were read.

    Example:
        >>> cache_hit_ratio(url).findings                           # doctest: +SKIP
        []
    """
    res = run.query("settings", "cache_hit_ratio")
    findings: Findings = []
    r = res.rows[0]
    for kind in ("table", "index"):
        ratio = r[f"{kind}_hit_ratio"]
        blocks = (r[f"{kind}_blocks_read"] or 0) + (r[f"{kind}_blocks_hit"] or 0)
        if ratio is not None and blocks >= min_blocks and ratio < min_ratio:
            findings.append(
                Finding(
                    "warning",
                    f"{kind} cache hit ratio is {ratio:.1%}: {r[f'{kind}_blocks_read']} of {blocks} block reads "
                    "missed shared_buffers. The working set (HNSW indexes included) does not fit; raise "
                    "shared_buffers (about 25 % of RAM) or add memory.",
                    threshold=f"{kind}_hit_ratio < {min_ratio} with >= {min_blocks} block reads",
                    source="PgHero lib/pghero.rb (cache_hit_rate_threshold 99)",
                    fix_sql="ALTER SYSTEM SET shared_buffers = '2GB';  -- size to your RAM; then restart",
                    subject=kind,
                )
            )
    return res.rows, findings, res.columns
