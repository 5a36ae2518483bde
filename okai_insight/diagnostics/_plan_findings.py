"""Findings about one plan, in the manner of pev2 and depesz, plus the pgvector ones neither shows.

General: where the time goes (a node's exclusive share 40 / 90 %), row misestimates (10x / 100x / 1000x), a
filter that throws away most rows it reads (50 / 90 %), sequential scans over large tables, sorts spilling to
disk, hashes in more than one batch, workers planned but not launched, nested loops running their inner side
many times, index-only scans fetching from the heap. pgvector: a distance ``ORDER BY`` served by a sequential scan
and a sort instead of the vector index (and why: :mod:`._vector_query_analysis`), a distance used only in a filter, an HNSW
scan whose filter removes most candidates (fewer rows than the LIMIT come back without ``hnsw.iterative_scan``),
a LIMIT above ``hnsw.ef_search``.

Example:
    >>> from okai_insight.diagnostics._plan import parse_plan
    >>> nodes = parse_plan({"Plan": {"Node Type": "Sort", "Sort Method": "external merge", "Sort Space Used": 9000,
    ...                              "Sort Space Type": "Disk", "Actual Rows": 1, "Actual Loops": 1}})
    >>> [f.threshold for _, f in plan_findings(nodes, PlanContext("SELECT 1"))]
    ['Sort Space Type = Disk']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from okai_insight.diagnostics._fmt import human_ms
from okai_insight.diagnostics._plan import SCANS, PlanNode, ancestors, descendants
from okai_insight.diagnostics._result import Finding, Severity
from okai_insight.diagnostics._vector_query_analysis import (
    OPCLASS_FOR,
    OPERATORS,
    VectorIndex,
    analyse,
    order_by_clauses,
)
from okai_insight.diagnostics.vectors import (
    MAX_HALFVEC_INDEX_DIMS,
    MAX_VECTOR_INDEX_DIMS,
    column_of,
    index_sql,
    operator_indexes,
    verified_fix,
)

PEV2 = "pev2 (dalibo/pev2: node duration, row estimation, filter)"
DEPESZ = "explain.depesz.com (exclusive time, rows x)"
PG_DOCS = "PostgreSQL docs, Using EXPLAIN"
README = "pgvector README"
#: Estimate factors: info, warning, critical (depesz colours 10x / 100x / 1000x).
MISESTIMATE = (10.0, 100.0, 1000.0)
#: Misestimates on fewer rows than this are noise.
MISESTIMATE_MIN_ROWS = 100
#: Exclusive time share of a node (pev2: 10 / 40 / 90 %); findings start at 40 % of a plan taking >= HOT_MIN_MS
#: (a fast statement has no time worth chasing).
HOT_PERCENT = (40.0, 90.0)
HOT_MIN_MS = 100.0
#: Share of rows a filter removes (pev2: 50 / 90 %) on at least this many rows read.
REMOVED_SHARE = (0.5, 0.9)
REMOVED_MIN_ROWS = 1000
#: A sequential scan over at least this many rows is a large one (PgHero's sequential scan threshold).
LARGE_TABLE_ROWS = 10_000
#: The inner side of a nested loop running this many times.
MANY_LOOPS = 1000
#: Index-only scans: heap fetches above this share of the rows returned (and at least 100).
HEAP_FETCH_SHARE = 0.1
DEFAULT_EF_SEARCH = 40
#: An exact vector search (a sequential scan and a distance sort) is worth a finding from this many ms a search:
#: an HNSW search at ef_search 40 answers in about 1 ms. Measured on this project's test server (PostgreSQL 18,
#: pgvector 0.8, 2 shared cores; ORDER BY e <=> q LIMIT 10, median of 5): 0.8 ms at 2,000 rows x 384 dims,
#: 4.6 ms at 10,000 x 384, 25 ms at 50,000 x 384, 7 ms at 2,000 x 1,536, 36 ms at 10,000 x 1,536.
EXACT_SLOW_MS = 10.0
#: Without ANALYZE the exact scan's time is estimated as rows x dimensions x this (ns): the lowest rate of the
#: measurements above (4.6 ms / (10,000 x 384)), so a plan is called slow only when it surely is.
EXACT_NS_PER_ROW_DIM = 1.2


@dataclass(frozen=True)
class PlanContext:
    """What the findings need besides the nodes: the statement, the settings it ran under, the vector indexes
    (rows of ``queries/vectors/vector_indexes.sql``) and the tables' estimated rows.

    Example:
        >>> PlanContext("SELECT 1").ef_search
        40
    """

    query: str
    analyze: bool = False
    execution_ms: float | None = None
    vector_indexes: Sequence[Mapping[str, Any]] = ()
    ef_search: int = DEFAULT_EF_SEARCH
    iterative_scan: str = "off"
    table_rows: Mapping[str, float] = field(default_factory=dict)
    #: Rows of ``queries/vectors/vector_columns.sql`` (type and declared dimensions): every index suggested is
    #: built by :func:`~okai_insight.diagnostics.vectors.index_sql` for them, never one pgvector refuses.
    vector_columns: Sequence[Mapping[str, Any]] = ()
    #: EXPLAIN of a corrected statement in the read-only runner: (statement, index) -> whether its plan scans the
    #: index (None: cannot tell). explain() sets it; without it a correction is printed as "not verified".
    verify: Callable[[str, str], bool | None] | None = field(default=None, compare=False)

    def index_row(self, name: str | None) -> Mapping[str, Any] | None:
        """The vector index of that name, or None."""
        for r in self.vector_indexes:
            if name is not None and (r["index"] == name or r["qualified_index"] == name):
                return r
        return None

    def rows_of(self, relation: str | None) -> float | None:
        """The table's estimated rows (pg_class.reltuples), or None when unknown."""
        return None if relation is None else self.table_rows.get(relation)


NodeFinding = tuple[int, Finding]


def plan_findings(nodes: Sequence[PlanNode], ctx: PlanContext) -> list[NodeFinding]:
    """Every finding about the plan, each with the id of the node it concerns.

    Example:
        >>> plan_findings([], PlanContext("SELECT 1"))
        []
    """
    out: list[NodeFinding] = []
    vector_nodes: set[int] = set()
    for found in (_vector_sorts(nodes, ctx), _vector_filters(nodes, ctx), _hnsw_scans(nodes, ctx)):
        out += found
        vector_nodes |= {i for i, _ in found}
    for node in nodes:
        out += _disk_sort(node)
        out += _hash_batches(node)
        out += _workers(node)
        out += _heap_fetches(node)
        out += _nested_loop(nodes, node, ctx)
        if node.id not in vector_nodes:
            out += _misestimate(nodes, node)
            out += _filter(node, ctx)
    out += _hot_node(nodes, ctx)
    return out


# -- general --------------------------------------------------------------------------------------------------------
def _hot_node(nodes: Sequence[PlanNode], ctx: PlanContext) -> list[NodeFinding]:
    timed = [n for n in nodes if n.time_percent is not None and n.exclusive_ms is not None]
    total = ctx.execution_ms or 0.0
    if not timed or total < HOT_MIN_MS:
        return []
    hot = max(timed, key=lambda n: n.exclusive_ms or 0.0)
    share = hot.time_percent or 0.0
    if share < HOT_PERCENT[0]:
        return []
    severity: Severity = "warning" if share >= HOT_PERCENT[1] else "info"
    return [
        (
            hot.id,
            Finding(
                severity,
                f"{hot.label} takes {share:.0f} % of the {human_ms(total)} this statement ran "
                f"({human_ms(hot.exclusive_ms)} of its own): start there.",
                threshold=f"exclusive time >= {HOT_PERCENT[0]:g} % (>= {HOT_PERCENT[1]:g} %: warning) of "
                f">= {HOT_MIN_MS:g} ms",
                source=f"{PEV2}; {DEPESZ}",
                subject=_subject(hot),
            ),
        )
    ]


def _misestimate(nodes: Sequence[PlanNode], node: PlanNode) -> list[NodeFinding]:
    factor = node.estimate_factor
    if factor is None or factor < MISESTIMATE[0] or node.actual_rows is None:
        return []
    if max(node.estimated_rows, node.actual_rows) < MISESTIMATE_MIN_ROWS:
        return []
    if not node.underestimated and any(a.node_type == "Limit" for a in [node, *ancestors(nodes, node)]):
        return []  # a LIMIT stops its input early: fewer rows than estimated is expected
    severity: Severity = "critical" if factor >= MISESTIMATE[2] else "warning" if factor >= MISESTIMATE[1] else "info"
    way = "under" if node.underestimated else "over"
    fix = None
    if node.relation:
        fix = (
            f"ANALYZE {node.relation};  -- fresh statistics first; if the estimate stays off and columns are "
            f"correlated:\n-- CREATE STATISTICS ON <col_a>, <col_b> FROM {node.relation}; ANALYZE {node.relation};"
        )
    return [
        (
            node.id,
            Finding(
                severity,
                f"{node.label}: the planner expected {node.estimated_rows:.0f} rows per loop and got "
                f"{node.actual_rows:.0f} ({factor:g}x {way}estimated); plans above it were chosen for the wrong "
                "row count.",
                threshold=f"estimate factor >= {MISESTIMATE[0]:g}x ({MISESTIMATE[1]:g}x warning, "
                f"{MISESTIMATE[2]:g}x critical) on >= {MISESTIMATE_MIN_ROWS} rows",
                source=f"{DEPESZ}; {PEV2}",
                fix_sql=fix,
                subject=_subject(node),
            ),
        )
    ]


def _filter(node: PlanNode, ctx: PlanContext) -> list[NodeFinding]:
    if node.node_type not in SCANS:
        return []
    table_rows = ctx.rows_of(node.relation) or 0.0
    if node.analyzed:
        read, share = node.rows_read or 0.0, node.removed_share
        if share is None or read < REMOVED_MIN_ROWS or share < REMOVED_SHARE[0]:
            return []
        large_seq = node.node_type == "Seq Scan" and read >= LARGE_TABLE_ROWS
        severity: Severity = "warning" if share >= REMOVED_SHARE[1] or large_seq else "info"
        what = f"reads {read:.0f} rows and its filter removes {share * 100:.0f} % of them"
    else:
        if node.node_type != "Seq Scan" or table_rows < LARGE_TABLE_ROWS or not node.filter:
            return []
        if node.estimated_rows > table_rows * (1 - REMOVED_SHARE[1]):
            return []
        severity, what = "info", f"is expected to read {table_rows:.0f} rows to return {node.estimated_rows:.0f}"
    kind = "a sequential scan of a large table" if node.node_type == "Seq Scan" else "an index that does not narrow"
    fix = None
    if node.relation and node.filter:
        fix = (
            f"-- an index on the filter's column(s) lets PostgreSQL read only matching rows:\n"
            f"CREATE INDEX CONCURRENTLY ON {node.relation} (<column(s) of: {node.filter}>);"
        )
    return [
        (
            node.id,
            Finding(
                severity,
                f"{node.label} {what} ({kind}); filter: {node.filter or node.index_cond or '?'}",
                threshold=f"rows removed by filter >= {REMOVED_SHARE[0] * 100:g} % ({REMOVED_SHARE[1] * 100:g} %: "
                f"warning) of >= {REMOVED_MIN_ROWS} rows read; Seq Scan over >= {LARGE_TABLE_ROWS} rows",
                source=f"{PEV2}; PgHero (sequential scans on >= 10k rows)",
                fix_sql=fix,
                subject=_subject(node),
            ),
        )
    ]


def _disk_sort(node: PlanNode) -> list[NodeFinding]:
    if (node.sort_space_type or "").lower() != "disk":
        return []
    need_mb = max(4, math.ceil((node.sort_space_kb or 0) * 2 / 1024))
    return [
        (
            node.id,
            Finding(
                "warning",
                f"{node.label} spilled to disk ({node.sort_method}, {node.sort_space_kb} kB): work_mem is too "
                "small for it, so it writes and reads temporary files.",
                threshold="Sort Space Type = Disk",
                source=f"{PG_DOCS} (Sort Method: external merge); {PEV2}",
                fix_sql=f"SET work_mem = '{need_mb}MB';  -- for this session or role; or sort fewer rows "
                "(an index in the sort order, a LIMIT)",
                subject=_subject(node),
            ),
        )
    ]


def _hash_batches(node: PlanNode) -> list[NodeFinding]:
    if not node.hash_batches or node.hash_batches <= 1:
        return []
    peak_kb = int(node.raw.get("Peak Memory Usage") or 0)
    need_mb = max(4, math.ceil(peak_kb * node.hash_batches / 1024 * 1.5))
    return [
        (
            node.id,
            Finding(
                "warning",
                f"{node.label} split into {node.hash_batches} batches (planned {node.original_hash_batches}): "
                "the hash table did not fit in work_mem and went through temporary files.",
                threshold="Hash Batches > 1",
                source=f"{PG_DOCS} (Hash: Batches); {PEV2}",
                fix_sql=f"SET work_mem = '{need_mb}MB';  -- or hash_mem_multiplier",
                subject=_subject(node),
            ),
        )
    ]


def _workers(node: PlanNode) -> list[NodeFinding]:
    planned, launched = node.workers_planned, node.workers_launched
    if planned is None or launched is None or launched >= planned:
        return []
    return [
        (
            node.id,
            Finding(
                "warning",
                f"{node.label} planned {planned} parallel workers but launched {launched}: the server ran out of "
                "worker processes, so the statement ran slower than planned.",
                threshold="Workers Launched < Workers Planned",
                source=f"{PEV2}; PostgreSQL docs (max_parallel_workers, max_worker_processes)",
                fix_sql="SHOW max_parallel_workers; SHOW max_worker_processes;  -- raise them "
                "(max_worker_processes needs a restart)",
                subject=_subject(node),
            ),
        )
    ]


def _heap_fetches(node: PlanNode) -> list[NodeFinding]:
    if node.node_type != "Index Only Scan" or not node.heap_fetches or not node.analyzed:
        return []
    returned = (node.actual_rows or 0) * (node.loops or 1)
    if node.heap_fetches < 100 or node.heap_fetches < HEAP_FETCH_SHARE * max(returned, 1):
        return []
    return [
        (
            node.id,
            Finding(
                "warning",
                f"{node.label} fetched {node.heap_fetches:.0f} rows from the table for {returned:.0f} returned: the "
                "visibility map is stale, so the index-only scan is not index-only.",
                threshold=f"Heap Fetches >= {HEAP_FETCH_SHARE * 100:g} % of rows returned",
                source=f"{PG_DOCS} (Index-Only Scans and the visibility map); {PEV2}",
                fix_sql=f"VACUUM (ANALYZE) {node.relation};" if node.relation else None,
                subject=_subject(node),
            ),
        )
    ]


def _nested_loop(nodes: Sequence[PlanNode], node: PlanNode, ctx: PlanContext) -> list[NodeFinding]:
    if node.node_type != "Nested Loop" or len(node.children) < 2:
        return []
    inner = nodes[node.children[1]]
    if not inner.loops or inner.loops < MANY_LOOPS:
        return []
    share = 100.0 * (inner.inclusive_ms or 0.0) / ctx.execution_ms if ctx.execution_ms else 0.0
    severity: Severity = "warning" if share >= HOT_PERCENT[0] else "info"
    scan = next((d for d in [inner, *descendants(nodes, inner)] if d.node_type in SCANS), inner)
    fix = None
    if scan.node_type == "Seq Scan" and scan.relation:
        fix = f"CREATE INDEX CONCURRENTLY ON {scan.relation} (<join column>);  -- the inner side then looks rows up"
    return [
        (
            node.id,
            Finding(
                severity,
                f"{node.label} ran its inner side ({inner.label}) {inner.loops} times, {share:.0f} % of the time: "
                "each outer row repeats the inner scan. An index on the inner join key, or a hash join on more "
                "accurate estimates, avoids it.",
                threshold=f"inner loops >= {MANY_LOOPS} (warning when >= {HOT_PERCENT[0]:g} % of the time)",
                source=f"{DEPESZ} (loops); {PG_DOCS} (Nested Loop)",
                fix_sql=fix,
                subject=_subject(node),
            ),
        )
    ]


# -- pgvector -------------------------------------------------------------------------------------------------------
_VEC_OP = re.compile("|".join(re.escape(op) for op in OPERATORS))


def _indexes_on(ctx: PlanContext, relation: str | None) -> list[Mapping[str, Any]]:
    if relation is None:
        return []
    name = relation.rsplit(".", 1)[-1]
    return [r for r in ctx.vector_indexes if r["table"] == name and r["operator"]]


def _vi(r: Mapping[str, Any]) -> VectorIndex:
    return VectorIndex(r["table"], r["column"], r["index"], r["method"], r["opclass"], r["operator"])


def _vector_sorts(nodes: Sequence[PlanNode], ctx: PlanContext) -> list[NodeFinding]:
    """A Sort on a distance above a scan that is not a vector index scan."""
    out: list[NodeFinding] = []
    for node in nodes:
        if "Sort" not in node.node_type or not any(_VEC_OP.search(k) for k in node.sort_key):
            continue
        scans = [d for d in descendants(nodes, node) if d.node_type in SCANS and d.relation]
        for scan in scans:
            if ctx.index_row(scan.index) is not None:
                continue
            found = _unindexed_search(node, scan, ctx, " ".join(node.sort_key))
            if found is not None:
                out.append((node.id, found))
    return out


def _vector_filters(nodes: Sequence[PlanNode], ctx: PlanContext) -> list[NodeFinding]:
    """A distance in a scan's filter (WHERE distance < x) with no distance sort anywhere: the index cannot help."""
    if any("Sort" in n.node_type and any(_VEC_OP.search(k) for k in n.sort_key) for n in nodes):
        return []
    out: list[NodeFinding] = []
    for node in nodes:
        vector_filter = node.filter and _VEC_OP.search(node.filter) and node.order_by is None
        if node.node_type in SCANS and vector_filter and _indexes_on(ctx, node.relation):
            found = _unindexed_search(node, node, ctx, node.filter or "")
            if found is not None:
                out.append((node.id, found))
    return out


def _unindexed_search(node: PlanNode, scan: PlanNode, ctx: PlanContext, expression: str) -> Finding | None:
    indexes = _indexes_on(ctx, scan.relation)
    rows = ctx.rows_of(scan.relation) or (scan.rows_read or scan.estimated_rows)
    large = rows >= LARGE_TABLE_ROWS
    used = [op for op in OPERATORS if op in expression]
    source = f"{README} (Querying: ORDER BY distance LIMIT k; operator classes; HNSW)"
    threshold = f"distance {('sort' if node is not scan else 'filter')} over {scan.node_type}, no vector index scan"
    where = f"{node.label} over {scan.label} ({rows:.0f} rows)"
    if not indexes:
        op = used[0] if used else "<=>"
        column = _column_of(expression, op)
        c = column_of(ctx.vector_columns, scan.relation, column)
        create = (
            index_sql(
                scan.relation or "", column, c["declared_dims"], opclass=OPCLASS_FOR[op], column_type=str(c["type"])
            )
            if c is not None
            else None
        )
        if create is None:
            dims = c["declared_dims"] if c is not None else None
            create = (
                f"-- pgvector cannot index {column} ({dims} dimensions; vector up to {MAX_VECTOR_INDEX_DIMS}, "
                f"halfvec up to {MAX_HALFVEC_INDEX_DIMS}, and only with declared dimensions): keep exact search"
                if c is not None
                else None
            )
        return Finding(
            "warning" if large else "info",
            f"{where}: every search computes the distance to every row, and {scan.relation} has no vector index "
            f"for {op} ({OPERATORS.get(op, '?')}).",
            threshold=threshold,
            source=source,
            fix_sql=create,
            subject=_subject(node),
        )
    problems = [(r, p) for r in indexes for p in analyse(ctx.query, _vi(r), ef_search=ctx.ef_search)]
    if problems:
        r, p = next(((r, p) for r, p in problems if p.code == "operator_mismatch"), problems[0])
        severity: Severity = "critical" if p.code == "operator_mismatch" and large else "warning" if large else "info"
        # The correction is EXPLAINed before it is offered (vector_queries' verification, one function for both).
        verified = ctx.verify(p.corrected, str(r["index"])) if p.corrected and ctx.verify is not None else None
        p, fix = verified_fix(p, str(r["index"]), verified)
        if p.code == "operator_mismatch":
            c = column_of(ctx.vector_columns, r["qualified_table"], r["column"])
            alt = operator_indexes(r, used, c["declared_dims"] if c is not None else None)
            if alt is not None:
                fix = f"{fix}\n" if fix else ""
                fix += f"-- or, if the application cannot change, an index for its operator:\n{alt}"
        return Finding(
            severity,
            f"{where}: the vector index is not used because the statement {p.message}.",
            threshold=f"{threshold} ({p.code})",
            source=source,
            fix_sql=fix,
            subject=_subject(node),
        )
    if scan.filter or scan.index_cond:
        return None  # an exact search over the rows a filter kept: recall 1.0, and the planner judged it cheaper
    spent = _exact_ms(node, scan, ctx, rows)
    if spent is None or spent < EXACT_SLOW_MS:
        return None  # the planner chose exact search and it is fast: that is the right plan, nothing to fix
    names = ", ".join(str(r["index"]) for r in indexes)
    measured = "took" if node.analyzed else "is estimated at"
    return Finding(
        "warning",  # only reported when slow: a fast exact search is the right plan
        f"{where}: the statement could use {names} but the planner preferred to read the table; the exact search "
        f"{measured} {human_ms(spent)} (an HNSW search takes about 1 ms). Compare the plans with the index "
        "forced: compare_settings(db, query, {'enable_seqscan': 'off'}); a high hnsw.ef_search or a selective filter makes the planner cost the index scan higher.",
        threshold=f"{threshold}; exact search >= {EXACT_SLOW_MS:g} ms (measured, or rows x dims x "
        f"{EXACT_NS_PER_ROW_DIM:g} ns)",
        source=source,
        fix_sql="SET enable_seqscan = off;  -- to compare only; SET hnsw.ef_search lower, or "
        "hnsw.iterative_scan = relaxed_order with a filter",
        subject=_subject(node),
    )


def _exact_ms(node: PlanNode, scan: PlanNode, ctx: PlanContext, rows: float) -> float | None:
    """How long the exact search takes: measured (ANALYZE: the sort's inclusive time, scan included), else
    estimated from rows x declared dimensions; None when neither is known."""
    if node.analyzed and node.inclusive_ms is not None:
        return float(node.inclusive_ms)
    c = column_of(ctx.vector_columns, scan.relation, _column_of(" ".join(node.sort_key) or (scan.filter or ""), "<"))
    dims = c["declared_dims"] if c is not None else None
    return None if not dims else rows * float(dims) * EXACT_NS_PER_ROW_DIM / 1e6


def _column_of(expression: str, op: str) -> str:
    m = re.search(rf'("?[A-Za-z_][\w$]*"?)\s*{re.escape(op)}', expression)
    return m.group(1) if m else "embedding"


def _asked_limit(nodes: Sequence[PlanNode], scan: PlanNode, ctx: PlanContext) -> int | None:
    limit = next((a for a in ancestors(nodes, scan) if a.node_type == "Limit"), None)
    if limit is None:
        return None
    for clause in order_by_clauses(" ".join(ctx.query.split())):
        if clause.limit and clause.limit.isdigit():
            return int(clause.limit)
    return int(limit.estimated_rows) or None


def _hnsw_scans(nodes: Sequence[PlanNode], ctx: PlanContext) -> list[NodeFinding]:
    out: list[NodeFinding] = []
    iterative = ctx.iterative_scan not in ("", "off")
    source = f"{README} (Filtering; Iterative Index Scans, 0.8.0; hnsw.ef_search)"
    for node in nodes:
        r = ctx.index_row(node.index)
        if r is None or r["method"] != "hnsw" or node.node_type not in SCANS:
            continue
        limit = _asked_limit(nodes, node, ctx)
        if limit is not None and limit > ctx.ef_search and not iterative:
            out.append(
                (
                    node.id,
                    Finding(
                        "warning",
                        f"{node.label} serves a LIMIT {limit} but hnsw.ef_search is {ctx.ef_search}: an HNSW scan "
                        f"returns at most ef_search ({ctx.ef_search}) candidates, so at most that many rows come back.",
                        threshold=f"LIMIT > hnsw.ef_search ({ctx.ef_search}) and hnsw.iterative_scan = off",
                        source=source,
                        fix_sql=f"SET hnsw.ef_search = {limit};  -- or SET hnsw.iterative_scan = relaxed_order;",
                        subject=_subject(node),
                    ),
                )
            )
        if not node.filter:
            continue
        fix = (
            "SET hnsw.iterative_scan = relaxed_order;  -- pgvector >= 0.8: scan on until enough rows pass the "
            "filter (strict_order keeps exact order)\n"
            "-- or, for a very selective filter, a btree on the filter column plus an exact sort, or a partial "
            "HNSW index per value"
        )
        if not node.analyzed:
            if not iterative:
                out.append(
                    (
                        node.id,
                        Finding(
                            "info",
                            f"{node.label} filters after the index scan ({node.filter}): with a selective filter, "
                            f"fewer rows than the LIMIT come back (the scan stops after ef_search "
                            f"{ctx.ef_search} candidates). Run with analyze=True to see how many are removed.",
                            threshold="Filter on an HNSW index scan, hnsw.iterative_scan = off",
                            source=source,
                            fix_sql=fix,
                            subject=_subject(node),
                        ),
                    )
                )
            continue
        returned = (node.actual_rows or 0) * (node.loops or 1)
        removed = node.rows_removed_by_filter * (node.loops or 1)
        share = node.removed_share or 0.0
        short = limit is not None and returned < limit
        if not short and share < REMOVED_SHARE[0]:
            continue
        severity: Severity = "warning" if short else "info"
        if short:
            what = f"returned {returned:.0f} of the {limit} rows asked"
        else:
            what = f"returned all {returned:.0f} rows asked, but only after reading {returned + removed:.0f}"
        message = (
            f"{node.label}: its filter ({node.filter}) removed {removed:.0f} of the {returned + removed:.0f} "
            f"candidates the index produced ({share * 100:.0f} %); the search {what}."
        )
        if short and iterative:
            message += " Iterative scan is on: it stopped at hnsw.max_scan_tuples; raise it or filter less."
            fix = "SET hnsw.max_scan_tuples = 100000;  -- default 20000"
        out.append(
            (
                node.id,
                Finding(
                    severity,
                    message,
                    threshold=f"rows returned < LIMIT, or rows removed by filter >= {REMOVED_SHARE[0] * 100:g} %, "
                    "after an HNSW index scan",
                    source=source,
                    fix_sql=fix,
                    subject=_subject(node),
                ),
            )
        )
    return out


def _subject(node: PlanNode) -> str:
    return f"node {node.id}: {node.label}"
