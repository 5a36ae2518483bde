"""Statements (pg_stat_statements): top queries by total time, mean time or calls; slow queries; the state of
pg_stat_statements itself. Each says how to enable the extension when it is missing.

okai-insight's own statements (the runner ends each with ``/* okai-insight */``) are left out, and each result's
``note`` says how many were: a tool that reads the statistics must not find itself in them.

Example:
    >>> from okai_insight.diagnostics import statements
    >>> statements.slow_queries(url).findings                        # doctest: +SKIP
    []
"""

from __future__ import annotations

from okai_insight.diagnostics._fmt import human_ms
from okai_insight.diagnostics._result import Finding, Result
from okai_insight.diagnostics._runner import Fields, Findings, Outcome, Runner, diagnostic
from okai_insight.errors import InvalidInput

#: PgHero lib/pghero.rb: slow_query_ms 20, slow_query_calls 100.
SLOW_MEAN_MS = 20.0
SLOW_CALLS = 100
_WHY = "query statistics"
_ORDERS = ("total", "mean", "calls")


def own_statements_note(run: Runner) -> str | None:
    """What the statistics checks left out: okai-insight's own statements in pg_stat_statements, or None if none.

    Example:
        >>> own_statements_note(run)                                 # doctest: +SKIP
        "left out okai-insight's own statements: 12 (340 calls, 1.2 s)"
    """
    row = run.query("statements", "own_statements").rows[0]
    if not row["statements"]:
        return None
    return (
        f"left out okai-insight's own statements: {row['statements']} "
        f"({row['calls']} calls, {human_ms(row['total_ms'])})"
    )


def _require(run: Runner) -> None:
    run.require_extension("pg_stat_statements", why=_WHY, preload=True)
    run.require_version(130000, why="pg_stat_statements' *_exec_time columns")


@diagnostic("statements", "Top statements", result=Result, doctor=False)
def query_stats(run: Runner, *, order_by: str = "total", limit: int = 20) -> Fields:
    """The ``limit`` statements with the most total time (``order_by="mean"`` or ``"calls"`` for the others).

    Example:
        >>> query_stats(url, order_by="mean", limit=5).rows[0]["mean_ms"]   # doctest: +SKIP
        41.2
    """
    if order_by not in _ORDERS:
        raise InvalidInput(f"order_by must be one of {_ORDERS}, got {order_by!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    _require(run)
    res = run.query("statements", "query_stats", {"order_by": order_by, "limit": limit})
    return {"rows": res.rows, "findings": [], "columns": res.columns, "note": own_statements_note(run)}


@diagnostic("statements", "Slow statements", result=Result)
def slow_queries(run: Runner, *, min_mean_ms: float = SLOW_MEAN_MS, min_calls: int = SLOW_CALLS) -> Fields:
    """Statements averaging at least ``min_mean_ms`` (20 ms) over at least ``min_calls`` (100) calls; a warning
    each, pointing at EXPLAIN.

    Example:
        >>> slow_queries(url, min_mean_ms=5, min_calls=10).rows       # doctest: +SKIP
        []
    """
    _require(run)
    res = run.query("statements", "slow_queries", {"min_mean_ms": min_mean_ms, "min_calls": min_calls})
    findings = [
        Finding(
            "warning",
            f"query {r['queryid']} averages {human_ms(r['mean_ms'])} over {r['calls']} calls "
            f"({human_ms(r['total_ms'])} in total): {' '.join(str(r['query']).split())[:200]}",
            threshold=f"mean_ms >= {min_mean_ms:g} and calls >= {min_calls}",
            source="PgHero lib/pghero.rb (slow_query_ms 20, slow_query_calls 100)",
            fix_sql="-- see where the time goes (okai_insight.diagnostics.explain):\n"
            "EXPLAIN (ANALYZE, BUFFERS) <the query with real values>;",
            subject=f"queryid {r['queryid']}",
        )
        for r in res.rows
    ]
    return {"rows": res.rows, "findings": findings, "columns": res.columns, "note": own_statements_note(run)}


@diagnostic("statements", "pg_stat_statements")
def statements_info(run: Runner) -> Outcome:
    """When pg_stat_statements was last reset and whether it had to evict statements (then its totals are
    incomplete: raise ``pg_stat_statements.max``). Unavailable, with how to enable it, when it is missing.

    Example:
        >>> statements_info(url).rows[0]["dealloc"]                   # doctest: +SKIP
        0
    """
    _require(run)
    res = run.query("statements", "statements_info")
    findings: Findings = []
    for r in res.rows:
        if r["dealloc"]:
            findings.append(
                Finding(
                    "info",
                    f"pg_stat_statements evicted the least-used statements {r['dealloc']} times since "
                    f"{r['stats_reset']} (it keeps {r['max_statements']}): rarely-run statements are missing.",
                    threshold="dealloc > 0",
                    source="PostgreSQL docs, pgstatstatements (pg_stat_statements_info)",
                    fix_sql="ALTER SYSTEM SET pg_stat_statements.max = 10000;  -- then restart the server",
                    subject="pg_stat_statements",
                )
            )
    return res.rows, findings, res.columns
