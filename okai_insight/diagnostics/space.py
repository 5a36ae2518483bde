"""Space: database, table, TOAST and index sizes, and growth between two snapshots the caller keeps.

Example:
    >>> from okai_insight.diagnostics import space
    >>> before = space.table_sizes(url)                              # doctest: +SKIP
    >>> space.growth(before, space.table_sizes(url)).rows            # doctest: +SKIP
    [{'schema': 'public', 'table': 'memories', 'total_bytes_before': ..., 'growth_bytes': 81920}]
"""

from __future__ import annotations

from okai_insight.diagnostics._result import Result
from okai_insight.diagnostics._runner import Outcome, Runner, diagnostic
from okai_insight.errors import InvalidInput


@diagnostic("space", "Database sizes")
def database_size(run: Runner) -> Outcome:
    """The size of every database this role may connect to (``current`` marks this one); no findings.

    Example:
        >>> [r["size_bytes"] for r in database_size(url).rows if r["current"]]  # doctest: +SKIP
        [8532451]
    """
    res = run.query("space", "database_size")
    return res.rows, [], res.columns


@diagnostic("space", "Table sizes", doctor=False)
def table_sizes(run: Runner, *, limit: int = 100) -> Outcome:
    """Tables with heap, TOAST, index and total bytes, largest first; no findings (a listing).

    Example:
        >>> table_sizes(url, limit=1).rows[0]["table"]               # doctest: +SKIP
        'memories'
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInput(f"limit must be a positive integer, got {limit!r}")
    res = run.query("space", "table_sizes", {"limit": limit})
    return res.rows, [], res.columns


def growth(before: Result, after: Result) -> Result:
    """Growth per table between two :func:`table_sizes` results the caller kept (no query of its own).

    Example:
        >>> b = Result("space", "table_sizes", "t", rows=[{"schema": "s", "table": "t", "total_bytes": 10}])
        >>> a = Result("space", "table_sizes", "t", rows=[{"schema": "s", "table": "t", "total_bytes": 30}])
        >>> growth(b, a).rows[0]["growth_bytes"]
        20
    """
    for res in (before, after):
        if res.name != "table_sizes":
            raise InvalidInput(f"growth() compares two table_sizes results, got {res.concern}.{res.name}")
    old = {(r["schema"], r["table"]): r for r in before.rows}
    rows = []
    for r in after.rows:
        prev = old.get((r["schema"], r["table"]))
        was = int(prev["total_bytes"]) if prev else 0
        rows.append(
            {
                "schema": r["schema"],
                "table": r["table"],
                "total_bytes_before": was,
                "total_bytes_after": int(r["total_bytes"]),
                "growth_bytes": int(r["total_bytes"]) - was,
            }
        )
    rows.sort(key=lambda r: (-r["growth_bytes"], r["schema"], r["table"]))
    return Result("space", "growth", "Table growth", rows=rows)
