"""Maintenance: vacuum and analyze, dead rows, transaction-ID wraparound headroom, sequences near overflow.

Example:
    >>> from okai_insight.diagnostics import maintenance
    >>> maintenance.vacuum_stats(url).findings[0].fix_sql            # doctest: +SKIP
    'VACUUM (ANALYZE) public.events;'
"""

from __future__ import annotations

from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import Findings, Outcome, Runner, diagnostic

#: PgHero lib/pghero/methods/maintenance.rb: transaction_id_danger(threshold: 10_000_000, max_value: 2_146_483_648).
XID_MAX_VALUE = 2_146_483_648
XID_THRESHOLD = 10_000_000
#: PgHero lib/pghero/methods/sequences.rb: sequence_danger(threshold: 0.9).
SEQUENCE_THRESHOLD = 0.9
#: Dead rows below this are not worth a finding, even past autovacuum's trigger (small tables churn).
MIN_DEAD_ROWS = 1_000
ROUTINE_VACUUMING = "PostgreSQL docs, routine-vacuuming"


@diagnostic("maintenance", "Vacuum and analyze")
def vacuum_stats(run: Runner, *, min_dead_rows: int = MIN_DEAD_ROWS) -> Outcome:
    """Per table: last (auto)vacuum and (auto)analyze, dead rows and autovacuum's trigger. A warning when dead
    rows passed the trigger (autovacuum is behind or off) and number at least ``min_dead_rows``; an info finding
    for tables with autovacuum switched off.

    Example:
        >>> vacuum_stats(url).rows[0]["dead_rows"]                   # doctest: +SKIP
        10000
    """
    res = run.query("maintenance", "vacuum_stats")
    findings: Findings = []
    for r in res.rows:
        table = r["qualified_table"]
        if (r["dead_rows"] or 0) >= max(min_dead_rows, r["autovacuum_trigger_rows"] or 0):
            why = (
                "autovacuum is disabled for it"
                if not r["autovacuum_enabled"]
                else "autovacuum has not caught up (long transactions holding old snapshots, or too few workers)"
            )
            findings.append(
                Finding(
                    "warning",
                    f"table {table} has {r['dead_rows']} dead rows ({(r['dead_ratio'] or 0):.0%} of its rows), past "
                    f"autovacuum's trigger of {r['autovacuum_trigger_rows']}: {why}. Dead rows bloat the table "
                    "and its indexes (HNSW graphs included) and slow scans.",
                    threshold="dead_rows >= autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor * "
                    f"reltuples and dead_rows >= {min_dead_rows}",
                    source=f"{ROUTINE_VACUUMING} (autovacuum daemon); PgHero lib/pghero/methods/maintenance.rb",
                    fix_sql=f"VACUUM (ANALYZE) {table};",
                    subject=table,
                )
            )
        if not r["autovacuum_enabled"]:
            findings.append(
                Finding(
                    "info",
                    f"autovacuum is disabled for {table}: nothing removes its dead rows or refreshes its "
                    "statistics unless you do.",
                    threshold="autovacuum_enabled = false (table storage option or server setting)",
                    source=ROUTINE_VACUUMING,
                    fix_sql=f"ALTER TABLE {table} RESET (autovacuum_enabled);",
                    subject=table,
                )
            )
    return res.rows, findings, res.columns


@diagnostic("maintenance", "Transaction ID wraparound")
def transaction_id_danger(run: Runner, *, threshold: int = XID_THRESHOLD, max_value: int = XID_MAX_VALUE) -> Outcome:
    """Tables with fewer than ``threshold`` (10 million) transaction IDs left before wraparound protection stops
    writes; a critical finding each with the VACUUM (FREEZE) that resets them.

    Example:
        >>> transaction_id_danger(url).rows                          # doctest: +SKIP
        []
    """
    res = run.query("maintenance", "transaction_id_danger", {"threshold": threshold, "max_value": max_value})
    findings = [
        Finding(
            "critical",
            f"table {r['qualified_table']} has {r['transactions_left']} transaction IDs left before PostgreSQL "
            "stops accepting writes to prevent wraparound.",
            threshold=f"transactions_left < {threshold}",
            source="PgHero lib/pghero/methods/maintenance.rb (transaction_id_danger); "
            f"{ROUTINE_VACUUMING} (vacuum-for-wraparound)",
            fix_sql=f"VACUUM (FREEZE, VERBOSE) {r['qualified_table']};",
            subject=r["qualified_table"],
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("maintenance", "Database XID age")
def database_xid_age(run: Runner, *, max_value: int = XID_MAX_VALUE) -> Outcome:
    """Every database's transaction-ID age against the wraparound limit; a warning past half of it. On PGlite
    (ElizaOS 1.x's default store, served by :mod:`okai_insight.pglite`) the ages are not real (``postgres`` and
    ``template0`` report 2^31): no warning, an info finding says so.

    Example:
        >>> database_xid_age(url).rows[0]["percent_towards_wraparound"] < 50   # doctest: +SKIP
        True
    """
    res = run.query("maintenance", "database_xid_age", {"max_value": max_value})
    if any(r["on_pglite"] for r in res.rows):
        note = Finding(
            "info",
            "this server is PGlite (PostgreSQL compiled to WebAssembly, one backend): its databases' transaction-ID "
            "ages are not real (postgres and template0 report the maximum), so no wraparound check applies.",
            threshold="version() mentions Emscripten or pg_backend_pid() = 0",
            source="docs/elizaos1.md (PGlite: what works and what does not)",
            subject="PGlite",
        )
        return res.rows, [note], res.columns
    findings = [
        Finding(
            "warning",
            f"database {r['database']} is {r['percent_towards_wraparound']} % of the way to transaction-ID "
            f"wraparound ({r['transactions_left']} left); autovacuum's anti-wraparound vacuums are not keeping up.",
            threshold="percent_towards_wraparound >= 50",
            source=f"{ROUTINE_VACUUMING} (vacuum-for-wraparound)",
            fix_sql="-- in that database: VACUUM (FREEZE);",
            subject=str(r["database"]),
        )
        for r in res.rows
        if (r["percent_towards_wraparound"] or 0) >= 50
    ]
    return res.rows, findings, res.columns


@diagnostic("maintenance", "Sequences near overflow")
def sequence_danger(run: Runner, *, threshold: float = SEQUENCE_THRESHOLD) -> Outcome:
    """Sequences feeding a column that used at least ``threshold`` (90 %) of the column type's range; a critical
    finding each with the ALTER to bigint.

    Example:
        >>> sequence_danger(url).findings                            # doctest: +SKIP
        []
    """
    res = run.query("maintenance", "sequence_danger")
    findings = [
        Finding(
            "critical",
            f"sequence {r['sequence']} for {r['schema']}.{r['table']}.{r['column']} ({r['column_type']}) has "
            f"used {r['used_ratio']:.0%} of its range (last value {r['last_value']} of {r['max_value']}); "
            "inserts fail when it runs out.",
            threshold=f"used_ratio >= {threshold}",
            source="PgHero lib/pghero/methods/sequences.rb (sequence_danger)",
            fix_sql=f"ALTER TABLE {r['qualified_table']} ALTER COLUMN {r['quoted_column']} TYPE bigint;\n"
            f"ALTER SEQUENCE {r['sequence']} AS bigint;",
            subject=str(r["sequence"]),
        )
        for r in res.rows
        if (r["used_ratio"] or 0) >= threshold
    ]
    return res.rows, findings, res.columns
