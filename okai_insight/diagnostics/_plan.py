"""A query plan from ``EXPLAIN (FORMAT JSON)`` as a list of nodes: estimated against actual rows, loops,
inclusive and exclusive time, rows removed, buffers, sorts and hashes; and a text tree for the terminal.

Times follow depesz and pev2: a node's inclusive time is ``Actual Total Time x Actual Loops``; its exclusive time
is that minus its children's inclusive time (never below zero). The estimate factor compares rows per loop,
as EXPLAIN reports both: ``max(estimated, actual) / min(estimated, actual)``, each at least one row.

Example:
    >>> nodes = parse_plan([{"Plan": {"Node Type": "Seq Scan", "Relation Name": "t", "Plan Rows": 10,
    ...                                "Actual Rows": 1000, "Actual Loops": 1, "Actual Total Time": 2.0}}])
    >>> nodes[0].label, nodes[0].estimate_factor, nodes[0].underestimated
    ('Seq Scan on t', 100.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Node types that read a relation.
SCANS = frozenset(
    {"Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan", "Bitmap Index Scan", "Tid Scan", "Sample Scan"}
)


@dataclass
class PlanNode:
    """One node of a plan; ``raw`` keeps EXPLAIN's own dict for everything not lifted into a field.

    Example:
        >>> PlanNode(0, None, 0, "Index Scan", relation="memories", index="idx").label
        'Index Scan using idx on memories'
    """

    id: int
    parent_id: int | None
    depth: int
    node_type: str
    relation: str | None = None
    alias: str | None = None
    index: str | None = None
    parent_relationship: str | None = None
    estimated_rows: float = 0.0
    actual_rows: float | None = None
    loops: int | None = None
    startup_ms: float | None = None
    total_ms: float | None = None
    inclusive_ms: float | None = None
    exclusive_ms: float | None = None
    time_percent: float | None = None
    total_cost: float = 0.0
    rows_removed_by_filter: float = 0.0
    rows_removed_by_recheck: float = 0.0
    rows_removed_by_join_filter: float = 0.0
    heap_fetches: float | None = None
    shared_hit_blocks: int | None = None
    shared_read_blocks: int | None = None
    temp_read_blocks: int | None = None
    temp_written_blocks: int | None = None
    sort_method: str | None = None
    sort_space_kb: int | None = None
    sort_space_type: str | None = None
    hash_batches: int | None = None
    original_hash_batches: int | None = None
    workers_planned: int | None = None
    workers_launched: int | None = None
    filter: str | None = None
    index_cond: str | None = None
    order_by: str | None = None
    sort_key: list[str] = field(default_factory=list)
    children: list[int] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        """``Index Scan using idx on memories m`` (the way EXPLAIN's text format names a node)."""
        text = self.node_type
        if self.index:
            text += f" using {self.index}"
        if self.relation:
            text += f" on {self.relation}"
            if self.alias and self.alias != self.relation.rsplit(".", 1)[-1]:
                text += f" {self.alias}"
        return text

    @property
    def analyzed(self) -> bool:
        """Whether the node carries actual numbers (EXPLAIN ANALYZE, and the node ran)."""
        return self.actual_rows is not None and bool(self.loops)

    @property
    def estimate_factor(self) -> float | None:
        """How far the row estimate is off, as a factor >= 1 (None without ANALYZE or when the node never ran)."""
        if not self.analyzed or self.actual_rows is None:
            return None
        est, act = max(self.estimated_rows, 1.0), max(self.actual_rows, 1.0)
        return round(max(est, act) / min(est, act), 1)

    @property
    def underestimated(self) -> bool:
        """True when more rows came than the planner expected."""
        return self.actual_rows is not None and self.actual_rows > self.estimated_rows

    @property
    def rows_read(self) -> float | None:
        """Rows the node looked at over all loops: returned plus removed by its filter (None without ANALYZE)."""
        if not self.analyzed or self.actual_rows is None or self.loops is None:
            return None
        return (self.actual_rows + self.rows_removed_by_filter + self.rows_removed_by_recheck) * self.loops

    @property
    def removed_share(self) -> float | None:
        """Share of the rows read that the filter threw away (0..1), or None."""
        read = self.rows_read
        if not read or self.loops is None:
            return None
        return (self.rows_removed_by_filter + self.rows_removed_by_recheck) * self.loops / read

    def to_row(self) -> dict[str, Any]:
        """The node as a result row (unit-suffixed numbers; no raw dict).

        Example:
            >>> PlanNode(0, None, 0, "Result").to_row()["node_type"]
            'Result'
        """
        return {
            "id": self.id,
            "parent_id": self.parent_id,
            "depth": self.depth,
            "node_type": self.node_type,
            "relation": self.relation,
            "index": self.index,
            "estimated_rows": self.estimated_rows,
            "actual_rows": self.actual_rows,
            "loops": self.loops,
            "estimate_factor": self.estimate_factor,
            "inclusive_ms": _r(self.inclusive_ms),
            "exclusive_ms": _r(self.exclusive_ms),
            "time_percent": _r(self.time_percent, 1),
            "total_cost": self.total_cost,
            "rows_removed_by_filter": self.rows_removed_by_filter,
            "heap_fetches": self.heap_fetches,
            "shared_hit_blocks": self.shared_hit_blocks,
            "shared_read_blocks": self.shared_read_blocks,
            "temp_written_blocks": self.temp_written_blocks,
            "sort_method": self.sort_method,
            "sort_space_kb": self.sort_space_kb,
            "sort_space_type": self.sort_space_type,
            "hash_batches": self.hash_batches,
            "workers_planned": self.workers_planned,
            "workers_launched": self.workers_launched,
            "condition": self.index_cond or self.filter or (", ".join(self.sort_key) or None) or self.order_by,
        }


def _r(v: float | None, digits: int = 3) -> float | None:
    return None if v is None else round(v, digits)


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def parse_plan(document: Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> list[PlanNode]:
    """The nodes of an ``EXPLAIN (FORMAT JSON)`` document, depth first (the root is ``nodes[0]``).

    Example:
        >>> [n.node_type for n in parse_plan({"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort"}]}})]
        ['Limit', 'Sort']
    """
    top = document[0] if isinstance(document, Sequence) else document
    nodes: list[PlanNode] = []

    def visit(raw: Mapping[str, Any], parent: PlanNode | None) -> PlanNode:
        relation = raw.get("Relation Name")
        if relation and raw.get("Schema") and raw.get("Schema") != "public":
            relation = f"{raw['Schema']}.{relation}"
        loops = _int(raw.get("Actual Loops"))
        node = PlanNode(
            id=len(nodes),
            parent_id=parent.id if parent else None,
            depth=parent.depth + 1 if parent else 0,
            node_type=str(raw.get("Node Type", "?")),
            relation=relation,
            alias=raw.get("Alias"),
            index=raw.get("Index Name"),
            parent_relationship=raw.get("Parent Relationship"),
            estimated_rows=float(raw.get("Plan Rows", 0) or 0),
            actual_rows=None if raw.get("Actual Rows") is None else float(raw["Actual Rows"]),
            loops=loops,
            startup_ms=raw.get("Actual Startup Time"),
            total_ms=raw.get("Actual Total Time"),
            total_cost=float(raw.get("Total Cost", 0) or 0),
            rows_removed_by_filter=float(raw.get("Rows Removed by Filter", 0) or 0),
            rows_removed_by_recheck=float(raw.get("Rows Removed by Index Recheck", 0) or 0),
            rows_removed_by_join_filter=float(raw.get("Rows Removed by Join Filter", 0) or 0),
            heap_fetches=raw.get("Heap Fetches"),
            shared_hit_blocks=_int(raw.get("Shared Hit Blocks")),
            shared_read_blocks=_int(raw.get("Shared Read Blocks")),
            temp_read_blocks=_int(raw.get("Temp Read Blocks")),
            temp_written_blocks=_int(raw.get("Temp Written Blocks")),
            sort_method=raw.get("Sort Method"),
            sort_space_kb=_int(raw.get("Sort Space Used")),
            sort_space_type=raw.get("Sort Space Type"),
            hash_batches=_int(raw.get("Hash Batches")),
            original_hash_batches=_int(raw.get("Original Hash Batches")),
            workers_planned=_int(raw.get("Workers Planned")),
            workers_launched=_int(raw.get("Workers Launched")),
            filter=raw.get("Filter"),
            index_cond=raw.get("Index Cond") or raw.get("Recheck Cond"),
            order_by=raw.get("Order By"),
            sort_key=list(raw.get("Sort Key") or ()),
            raw={k: v for k, v in raw.items() if k != "Plans"},
        )
        if node.total_ms is not None and loops:
            node.inclusive_ms = float(node.total_ms) * loops
        nodes.append(node)
        for child in raw.get("Plans") or ():
            node.children.append(visit(child, node).id)
        return node

    visit(top["Plan"], None)
    total = float(top.get("Execution Time") or 0) or (nodes[0].inclusive_ms or 0)
    for node in nodes:
        if node.inclusive_ms is None:
            continue
        below = sum(nodes[c].inclusive_ms or 0 for c in node.children)
        node.exclusive_ms = max(0.0, node.inclusive_ms - below)
        node.time_percent = 100.0 * node.exclusive_ms / total if total else None
    return nodes


def ancestors(nodes: Sequence[PlanNode], node: PlanNode) -> list[PlanNode]:
    """The node's parents, nearest first.

    Example:
        >>> ns = parse_plan({"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort"}]}})
        >>> [a.node_type for a in ancestors(ns, ns[1])]
        ['Limit']
    """
    out: list[PlanNode] = []
    current = node
    while current.parent_id is not None:
        current = nodes[current.parent_id]
        out.append(current)
    return out


def descendants(nodes: Sequence[PlanNode], node: PlanNode) -> list[PlanNode]:
    """Every node below ``node``, depth first.

    Example:
        >>> ns = parse_plan({"Plan": {"Node Type": "Limit", "Plans": [{"Node Type": "Sort"}]}})
        >>> [d.node_type for d in descendants(ns, ns[0])]
        ['Sort']
    """
    out: list[PlanNode] = []
    for c in node.children:
        out.append(nodes[c])
        out += descendants(nodes, nodes[c])
    return out


def tree_text(nodes: Sequence[PlanNode], *, marks: Mapping[int, str] | None = None) -> str:
    """The plan as an indented tree, one line a node: rows actual / estimated, loops, exclusive time and its
    share, buffers; ``marks`` puts a severity tag on the nodes findings point at.

    Example:
        >>> print(tree_text(parse_plan({"Plan": {"Node Type": "Limit", "Plan Rows": 5,
        ...                                       "Plans": [{"Node Type": "Seq Scan", "Relation Name": "t"}]}})))
        Limit  est 5 rows
        └─ Seq Scan on t  est 0 rows
    """
    marks = marks or {}
    lines: list[str] = []
    for n in nodes:
        prefix = "" if n.depth == 0 else "   " * (n.depth - 1) + "└─ "
        parts = [f"{prefix}{n.label}"]
        if n.analyzed:
            rows = f"{_num(n.actual_rows)} of est {_num(n.estimated_rows)} rows"
            if n.loops and n.loops > 1:
                rows += f" x {n.loops} loops"
            parts.append(rows)
            if n.exclusive_ms is not None:
                share = f" ({n.time_percent:.0f} %)" if n.time_percent is not None else ""
                parts.append(f"{n.exclusive_ms:.3f} ms{share}")
            removed = n.rows_removed_by_filter + n.rows_removed_by_recheck
            if removed:
                parts.append(f"removed {_num(removed)}")
        else:
            parts.append(f"est {_num(n.estimated_rows)} rows")
        if n.shared_hit_blocks or n.shared_read_blocks:
            parts.append(f"buffers hit {n.shared_hit_blocks or 0} read {n.shared_read_blocks or 0}")
        if n.sort_space_type:
            parts.append(f"{n.sort_method} {n.sort_space_kb} kB {n.sort_space_type.lower()}")
        if n.id in marks:
            parts.append(f"<< {marks[n.id]}")
        lines.append("  ".join(parts))
    return "\n".join(lines)


def _num(v: float | None) -> str:
    if v is None:
        return "?"
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.2f}"
