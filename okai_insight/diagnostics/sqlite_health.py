"""The SQLite store's own health check (issue 15 item 7): what ``okai-insight doctor sqlite:///x.db`` runs.

A SQLite store has no server statistics to read; what can go wrong is in the file itself:

- ``PRAGMA integrity_check`` finds corruption (critical);
- free pages: ``freelist_count`` against ``page_count`` (space deleted rows left behind; VACUUM returns it);
- the ``vec_memories`` vec0 index in step with ``memories``: every row with a non-zero embedding has its vec0 row and
  no vec0 row is left without its memory (a write behind the adapter's triggers, or an interrupted copy, breaks
  this; a search then misses memories or returns ids that no longer exist);
- the dimension mix: embeddings of another length than the store's recorded dimension (two models wrote to it).

Everything is read through a read-only connection (:class:`~okai_insight._store_runner.StoreRunner`): the check
never writes, creates or migrates the file.

Example:
    >>> report = sqlite_health("sqlite:///agent.db")                      # doctest: +SKIP
    >>> [f.severity for f in report.findings]                              # doctest: +SKIP
    []
"""

from __future__ import annotations

import time
from typing import Any

from okai_insight._store_runner import store_runner
from okai_insight.errors import InvalidInput
from okai_insight.results import Finding, Result

__all__ = ["FREE_PAGES_SHARE", "sqlite_health"]

#: Free pages above this share of the file are worth a VACUUM (SQLite's own freelist never shrinks the file).
FREE_PAGES_SHARE = 0.25


def _measure(conn: Any) -> dict[str, Any]:
    integrity = [str(r[0]) for r in conn.query("PRAGMA integrity_check")]
    page_count = int(conn.query("PRAGMA page_count")[0][0])
    freelist = int(conn.query("PRAGMA freelist_count")[0][0])
    dimension = conn.query('SELECT "value" FROM okai_settings WHERE "key" = \'embedding_dimension\'')
    dims = conn.query(
        'SELECT length("embedding") / 4 AS dims, count(*) FROM memories WHERE "embedding" IS NOT NULL GROUP BY 1'
    )
    embedded = conn.query(
        'SELECT count(*) FROM memories WHERE "embedding" IS NOT NULL AND "embedding" != zeroblob(length("embedding"))'
    )[0][0]
    vec_rows = conn.query("SELECT count(*) FROM vec_memories")[0][0]
    missing = conn.query(
        'SELECT m."id" FROM memories AS m WHERE m."embedding" IS NOT NULL '
        'AND m."embedding" != zeroblob(length(m."embedding")) '
        'AND NOT EXISTS (SELECT 1 FROM vec_memories AS v WHERE v.id = m."id") ORDER BY m."id" LIMIT 20'
    )
    orphans = conn.query(
        'SELECT v.id FROM vec_memories AS v WHERE NOT EXISTS (SELECT 1 FROM memories AS m WHERE m."id" = v.id) '
        "ORDER BY v.id LIMIT 20"
    )
    return {
        "integrity": integrity,
        "page_count": page_count,
        "freelist_count": freelist,
        "dimension": int(str(dimension[0][0]).strip('"')) if dimension else None,
        "dims": {int(d): int(n) for d, n in dims},
        "embedded_memories": int(embedded),
        "vec0_rows": int(vec_rows),
        "missing_from_vec0": [str(r[0]) for r in missing],
        "orphan_vec0_rows": [str(r[0]) for r in orphans],
    }


def sqlite_health(target: Any) -> Result:
    """Check a SQLite store (a ``sqlite:///`` URL or a SQLite / in-memory adapter); see the module docstring.

    Example:
        >>> sqlite_health("postgresql://me@localhost/agents")
        Traceback (most recent call last):
        okai_insight.errors.InvalidInput: sqlite_health checks a SQLite or in-memory store, not postgresql://...
    """
    start = time.perf_counter()
    run = store_runner(target)
    if run is None:
        raise InvalidInput(f"sqlite_health checks a SQLite or in-memory store, not {str(target).split(':')[0]}://...")
    with run:
        m = run.read(_measure)
    findings = _findings(m, run.url)
    rows = [{"check": k, "value": v} for k, v in m.items() if k not in ("missing_from_vec0", "orphan_vec0_rows")]
    return Result(
        "sqlite",
        "sqlite_health",
        "SQLite health",
        rows=rows,
        findings=findings,
        duration_ms=(time.perf_counter() - start) * 1000,
    )


def _findings(m: dict[str, Any], url: str) -> list[Finding]:
    out: list[Finding] = []
    check = "sqlite_health"
    if m["integrity"] != ["ok"]:
        out.append(
            Finding(
                "critical",
                f"{url}: PRAGMA integrity_check reports {len(m['integrity'])} problem(s): "
                f"{'; '.join(m['integrity'][:5])}. Restore from a backup, or copy what is readable to a new file.",
                threshold="integrity_check != ok",
                source="SQLite documentation (PRAGMA integrity_check)",
                check=check,
            )
        )
    share = m["freelist_count"] / m["page_count"] if m["page_count"] else 0.0
    if share > FREE_PAGES_SHARE:
        out.append(
            Finding(
                "info",
                f"{url}: {m['freelist_count']} of {m['page_count']} pages ({share:.0%}) are free (space deleted rows "
                "left behind); the file does not shrink by itself.",
                threshold=f"freelist_count / page_count > {FREE_PAGES_SHARE:g}",
                fix_sql="VACUUM;  -- rewrites the file; run it while no agent writes",
                check=check,
            )
        )
    missing, orphans = m["missing_from_vec0"], m["orphan_vec0_rows"]
    if missing or orphans or m["vec0_rows"] != m["embedded_memories"]:
        out.append(
            Finding(
                "critical",
                f"{url}: the vector index vec_memories is out of step with memories: {m['vec0_rows']} vec0 rows for "
                f"{m['embedded_memories']} memories with a non-zero embedding"
                + (f"; missing from the index: {', '.join(missing)}" if missing else "")
                + (f"; index rows without a memory: {', '.join(orphans)}" if orphans else "")
                + ". Searches miss the missing memories and may return ids that no longer exist; something wrote "
                "behind the adapter's triggers. Rebuild the index from memories (okai-insight copy into a new file).",
                threshold="count(vec_memories) = count(memories with a non-zero embedding), ids equal",
                check=check,
            )
        )
    dims = m["dims"]
    expected = m["dimension"]
    if len(dims) > 1 or (expected is not None and dims and set(dims) != {expected}):
        others = ", ".join(f"{n} of {d}" for d, n in sorted(dims.items()) if d != expected)
        out.append(
            Finding(
                "critical",
                f"{url}: memories hold embeddings of {len(dims)} dimensions (the store's is {expected}; {others}): "
                "two embedding models wrote to it; the other dimension's rows are never searched.",
                threshold="count(DISTINCT length(embedding) / 4) > 1",
                fix_sql=f'SELECT "id" FROM memories WHERE length("embedding") <> {4 * (expected or 0)};',
                check=check,
            )
        )
    return out
