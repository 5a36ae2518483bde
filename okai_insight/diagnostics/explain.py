"""EXPLAIN analysis: the plan of one statement as a node tree and rows, with findings in the manner of pev2 and
depesz, the pgvector ones they do not see, and a before / after comparison of two plans.

Safety: one statement at a time; ``EXPLAIN (FORMAT JSON, SETTINGS[, ANALYZE, BUFFERS])`` runs through the
diagnostics runner, in a transaction that is always rolled back, with ``statement_timeout`` and ``lock_timeout``.
Without ``analyze`` nothing executes (any statement EXPLAIN takes can be explained, in a READ ONLY transaction).
With ``analyze`` the statement really runs: reading statements run READ ONLY; a statement that writes is refused
unless the caller passes ``allow_writes=True``, and then runs in a read-write transaction that is rolled back
(its effects vanish, though sequences advance and triggers fire). A ``$1`` query (as pg_stat_statements shows
it) without parameters is explained with ``GENERIC_PLAN`` (PostgreSQL 16+).

Example:
    >>> from okai_insight.diagnostics import explain
    >>> plan = explain.explain(url, "SELECT id FROM memories ORDER BY embedding <=> %(q)s::vector LIMIT 5",
    ...                        {"q": str(vector)}, analyze=True)          # doctest: +SKIP
    >>> plan.nodes[1].label                                                # doctest: +SKIP
    'Index Scan using idx_memories_embedding on memories'
    >>> explain.compare_settings(url, query, {"hnsw.ef_search": "100"}, params)   # doctest: +SKIP
"""

from __future__ import annotations

import html
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.diagnostics._explain_gate import classify
from okai_insight.diagnostics._plan import PlanNode, parse_plan, tree_text
from okai_insight.diagnostics._plan_findings import DEFAULT_EF_SEARCH, PlanContext, plan_findings
from okai_insight.diagnostics._result import Finding, Result, findings_html, result_html
from okai_insight.diagnostics._runner import CheckUnavailable, Runner, Target, using
from okai_insight.diagnostics._side_effects import plan_function_names, refuse_by_name, refuse_volatile
from okai_insight.diagnostics.vectors import plan_uses
from okai_insight.errors import InvalidInput, StatementRefused, first_line

#: The user's statement failed on its own terms (bad SQL, unknown table or column, wrong parameter type).
_QUERY_ERRORS = (
    psycopg.errors.SyntaxErrorOrAccessRuleViolation,
    psycopg.errors.DataException,
    psycopg.errors.UndefinedTable,
    psycopg.errors.UndefinedColumn,
    psycopg.errors.UndefinedFunction,
    psycopg.errors.UndefinedObject,
    psycopg.errors.UndefinedParameter,
    psycopg.errors.InvalidParameterValue,
    psycopg.errors.FeatureNotSupported,
    psycopg.errors.CardinalityViolation,
    psycopg.ProgrammingError,
)


@dataclass
class ExplainResult(Result):
    """A plan: ``rows`` (one a node, see :meth:`PlanNode.to_row`), ``nodes``, ``findings`` (each about one node;
    ``node_findings`` keeps which), the raw ``plan`` document, planning and execution time, and a text tree.

    Example:
        >>> r = ExplainResult("explain", "explain", "Plan", query="SELECT 1")
        >>> r.execution_ms is None
        True
    """

    query: str = ""
    analyze: bool = False
    settings: dict[str, str] = field(default_factory=dict)
    plan: list[dict[str, Any]] = field(default_factory=list)
    nodes: list[PlanNode] = field(default_factory=list)
    node_findings: list[tuple[int, Finding]] = field(default_factory=list)
    planning_ms: float | None = None
    execution_ms: float | None = None

    @property
    def root(self) -> PlanNode:
        """The top node."""
        return self.nodes[0]

    def node(self, node_type: str) -> PlanNode | None:
        """The first node of that type (``"Seq Scan"``), or None.

        Example:
            >>> ExplainResult("explain", "explain", "Plan").node("Sort") is None
            True
        """
        return next((n for n in self.nodes if n.node_type == node_type), None)

    def marks(self) -> dict[int, str]:
        """Node id -> the worst severity of its findings (for highlighting the tree)."""
        out: dict[int, str] = {}
        order = {"critical": 0, "warning": 1, "info": 2}
        for node_id, f in self.node_findings:
            if node_id not in out or order[f.severity] < order[out[node_id]]:
                out[node_id] = f.severity
        return out

    def tree(self) -> str:
        """The plan as an indented text tree with the flagged nodes marked.

        Example:
            >>> ExplainResult("explain", "explain", "Plan").tree()
            ''
        """
        return tree_text(self.nodes, marks=self.marks())

    def to_text(self, *, max_rows: int = 20, max_width: int = 60) -> str:
        """Header (times, settings), findings, then the tree."""
        timing = []
        if self.planning_ms is not None:
            timing.append(f"planning {self.planning_ms:.3f} ms")
        if self.execution_ms is not None:
            timing.append(f"execution {self.execution_ms:.3f} ms")
        head = f"== EXPLAIN{' ANALYZE' if self.analyze else ''}: {', '.join(timing) or 'estimates only'}"
        if self.settings:
            head += "; with " + ", ".join(f"{k} = {v}" for k, v in self.settings.items())
        counts = {k: v for k, v in self.counts().items() if v}
        head += f"; {', '.join(f'{v} {k}' for k, v in counts.items()) or 'no findings'}"
        return "\n".join([head, *(f.to_text() for f in self.findings), self.tree()])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the result's dict plus the query, timings, settings, the tree and the raw plan."""
        out = super().to_dict()
        out.update(
            query=self.query,
            analyze=self.analyze,
            settings=self.settings,
            planning_ms=self.planning_ms,
            execution_ms=self.execution_ms,
            tree=self.tree(),
            plan=self.plan,
        )
        return out

    def _repr_html_(self) -> str:
        marks = self.marks()
        colours = {"critical": "#fde7ea", "warning": "#fff4e0", "info": "#e8f1fc"}
        lines = []
        for node, line in zip(self.nodes, self.tree().splitlines(), strict=True):
            style = f" style='background:{colours[marks[node.id]]}'" if node.id in marks else ""
            lines.append(f"<span{style}>{html.escape(line)}</span>")
        head = html.escape(self.to_text().splitlines()[0].lstrip("= "))
        return (
            f"<div class='okai-explain'><h4>{head}</h4>{findings_html(self.findings)}"
            f"<pre>{chr(10).join(lines)}</pre>{result_html(Result('explain', 'nodes', 'Plan nodes', self.rows))}</div>"
        )


def explain(
    db: Target,
    query: str,
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    *,
    analyze: bool = False,
    buffers: bool = True,
    settings: Mapping[str, Any] | None = None,
    allow_writes: bool = False,
    timeout_ms: int | None = None,
) -> ExplainResult:
    """EXPLAIN one statement and analyse its plan.

    ``params`` bind ``%(name)s`` / ``%s`` placeholders; ``settings`` are set for this statement only
    (``{"hnsw.ef_search": 100, "enable_seqscan": "off"}``); ``timeout_ms`` overrides the runner's
    statement_timeout. With ``analyze=True`` the statement executes (READ ONLY, rolled back); statements that
    write raise :class:`~okai_insight.errors.InvalidInput` unless ``allow_writes=True``.

    Example:
        >>> plan = explain(url, "SELECT count(*) FROM memories", analyze=True)    # doctest: +SKIP
        >>> plan.root.node_type, plan.execution_ms < 100                             # doctest: +SKIP
        ('Aggregate', True)
    """
    stmt = classify(query, params)
    if analyze and stmt.writes and not allow_writes:
        raise StatementRefused(
            f"EXPLAIN ANALYZE would execute this {stmt.keyword}: it writes to the database. Explain it without "
            "analyze (nothing runs), or pass allow_writes=True to run it in a transaction that is rolled back "
            "(its rows vanish; sequences still advance and triggers still fire)."
        )
    refuse_by_name(stmt.functions, analyze=analyze, allow_writes=allow_writes)
    local = {str(k): str(v) for k, v in (settings or {}).items()}
    refused = sorted(k for k in local if k.lower() in _FIXED_SETTINGS)
    if refused:
        raise StatementRefused(
            f"explain() does not take the setting {refused[0]}: it decides how the statement is read or whether "
            "it may write, which the safety checks rely on"
        )
    if timeout_ms is not None:
        if int(timeout_ms) <= 0:
            raise InvalidInput(f"timeout_ms must be positive, got {timeout_ms!r}")
        local["statement_timeout"] = f"{int(timeout_ms)}ms"
    start = time.perf_counter()
    with using(db) as run:
        options = ["FORMAT JSON", "SETTINGS"]
        if stmt.dollar_params and params is None:
            if analyze:
                raise InvalidInput(
                    "this statement has $1-style parameters and no values: EXPLAIN ANALYZE needs values (pass "
                    "params with %s / %(name)s placeholders), or explain it without analyze for a generic plan"
                )
            if run.features.server_version_num < 160000:
                raise InvalidInput("a generic plan for a $1 query needs PostgreSQL 16 or later; pass values instead")
            options.append("GENERIC_PLAN")
        body = stmt.text if params is not None else stmt.text.replace("%", "%%")
        if analyze:
            # First the plan without running anything: its VERBOSE output names every function the statement
            # would call, views and row security policies included, which the text alone does not show.
            planned = _run_explain(run, ["VERBOSE", "FORMAT JSON"], body, params, read_only=True, local=local)
            names = stmt.functions | plan_function_names(planned)
            refuse_by_name(names, analyze=True, allow_writes=allow_writes)
            calls = {"functions": sorted(names), "operators": sorted(stmt.operators)}
            refuse_volatile(run.query("explain", "volatile_calls", calls).rows, allow_writes=allow_writes)
            options += ["ANALYZE", f"BUFFERS {'ON' if buffers else 'OFF'}"]
            # It runs on a connection of its own, closed afterwards: no session state can outlive it.
            with run.throwaway() as once:
                document = _run_explain(once, options, body, params, read_only=not stmt.writes, local=local)
        else:
            document = _run_explain(run, options, body, params, read_only=True, local=local)
        nodes = parse_plan(document)
        ctx = _context(run, stmt.text, analyze, document[0], nodes, local, params)
        found = plan_findings(nodes, ctx)  # inside: a corrected statement is EXPLAINed before it is offered
    top = document[0]
    return ExplainResult(
        "explain",
        "explain",
        "EXPLAIN analysis",
        rows=[n.to_row() for n in nodes],
        findings=[f for _, f in found],
        duration_ms=(time.perf_counter() - start) * 1000,
        query=stmt.text,
        analyze=analyze,
        settings=local,
        plan=document,
        nodes=nodes,
        node_findings=found,
        planning_ms=top.get("Planning Time"),
        execution_ms=top.get("Execution Time"),
    )


#: Settings explain() does not take from its caller: how the text is lexed, and the transaction's read-only mode.
_FIXED_SETTINGS = frozenset(
    {
        "standard_conforming_strings",
        "backslash_quote",
        "transaction_read_only",
        "default_transaction_read_only",
        "session_authorization",
        "role",
    }
)


def _run_explain(
    run: Runner,
    options: Sequence[str],
    body: str,
    params: Mapping[str, Any] | Sequence[Any] | None,
    *,
    read_only: bool,
    local: Mapping[str, str],
) -> list[dict[str, Any]]:
    """``EXPLAIN (options) body`` through the runner; the plan document, or a typed error."""
    statement = sql.SQL("EXPLAIN ({}) ").format(sql.SQL(", ".join(options))) + sql.SQL(body)  # type: ignore[arg-type]
    try:
        out = run.execute(
            statement,
            params,
            label="explain",
            read_only=read_only,
            local_settings=local,
            unbound_params="GENERIC_PLAN" in options,
        )
    except psycopg.errors.ReadOnlySqlTransaction as exc:
        raise StatementRefused(
            "EXPLAIN ANALYZE refused: the statement tried to write (a data-modifying function, FOR UPDATE, or "
            f"nextval), and it runs READ ONLY ({first_line(exc)}); pass allow_writes=True "
            "to run it in a rolled-back transaction"
        ) from exc
    except _QUERY_ERRORS as exc:
        raise InvalidInput(f"EXPLAIN failed: {first_line(exc)}") from exc
    except CheckUnavailable as exc:
        if isinstance(exc.__cause__, _QUERY_ERRORS):
            raise InvalidInput(f"EXPLAIN failed: {first_line(exc.__cause__)}") from exc
        raise
    document: list[dict[str, Any]] = out.rows[0][out.columns[0]]
    return document


def _context(
    run: Runner,
    query: str,
    analyze: bool,
    top: Mapping[str, Any],
    nodes: Sequence[PlanNode],
    local: Mapping[str, str],
    params: Mapping[str, Any] | Sequence[Any] | None = None,
) -> PlanContext:
    vector_indexes: list[dict[str, Any]] = []
    vector_columns: list[dict[str, Any]] = []
    ef_search, iterative = DEFAULT_EF_SEARCH, "off"
    if run.features.has_extension("vector"):
        vector_indexes = run.query("vectors", "vector_indexes").rows
        vector_columns = run.query("vectors", "vector_columns").rows
        ext = run.query("vectors", "vector_extension").rows[0]
        ef = local.get("hnsw.ef_search") or ext["ef_search_setting"]
        ef_search = int(ef) if str(ef or "").isdigit() else DEFAULT_EF_SEARCH
        iterative = str(local.get("hnsw.iterative_scan") or ext["iterative_scan_setting"] or "off")
    relations = sorted({n.relation for n in nodes if n.relation})
    table_rows: dict[str, float] = {}
    if relations:
        for r in run.query("explain", "relation_rows", {"relations": relations}).rows:
            table_rows[r["relation"]] = float(r["estimated_rows"])
    return PlanContext(
        query=query,
        analyze=analyze,
        execution_ms=top.get("Execution Time"),
        vector_indexes=vector_indexes,
        ef_search=ef_search,
        iterative_scan=iterative,
        table_rows=table_rows,
        vector_columns=vector_columns,
        # the same EXPLAIN vector_queries runs on its corrections (generic plan, or the caller's sample values)
        verify=lambda corrected, index: plan_uses(run, corrected, index, params),
    )


#: How many times compare_settings() runs each variant (after one warm-up each), alternating A B B A A B ...
COMPARE_RUNS = 7
#: A difference of medians smaller than this share of the slower one is "same", whatever the spread.
NOISE_FLOOR = 0.10


@dataclass(frozen=True)
class Timing:
    """Several measurements of one time (ms): the median, and the spread as min-max.

    Example:
        >>> t = Timing((1.0, 3.0, 2.0))
        >>> t.median, t.low, t.high, t.text()
        (2.0, 1.0, 3.0, '2.000 ms (1.000-3.000, 3 runs)')
    """

    runs: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(statistics.median(self.runs))

    @property
    def low(self) -> float:
        return min(self.runs)

    @property
    def high(self) -> float:
        return max(self.runs)

    def text(self) -> str:
        """The median with its range and the number of runs."""
        if len(self.runs) == 1:
            return f"{self.median:.3f} ms (1 run)"
        return f"{self.median:.3f} ms ({self.low:.3f}-{self.high:.3f}, {len(self.runs)} runs)"


def timing_change(before: Timing, after: Timing) -> str:
    """How ``after`` compares with ``before``: ``same`` when the difference is inside the noise, i.e. the two
    ranges (min-max over the runs) overlap, or the medians differ by less than :data:`NOISE_FLOOR` (10 %) of the
    slower one; otherwise the change of the medians. One run each has no measured spread: only the 10 % floor
    applies, and the text says the noise was not measured.

    Example:
        >>> timing_change(Timing((10.0, 11.0, 12.0)), Timing((11.5, 12.5, 13.0)))
        'same'
        >>> timing_change(Timing((10.0, 10.5, 11.0)), Timing((2.0, 2.1, 2.2)))
        '-80 % (5x faster)'
        >>> timing_change(Timing((10.0,)), Timing((2.0,)))
        '-80 % (5x faster; one run each, noise not measured)'
    """
    a, b = before.median, after.median
    overlap = len(before.runs) > 1 and len(after.runs) > 1 and before.low <= after.high and after.low <= before.high
    if overlap or abs(a - b) < NOISE_FLOOR * max(a, b) or a == b:
        return "same"
    text = _change(a, b, time_like=True)
    if len(before.runs) == 1 or len(after.runs) == 1:
        text = text[:-1] + "; one run each, noise not measured)" if text.endswith(")") else text
    return text


def compare_plans(
    before: ExplainResult | Sequence[ExplainResult], after: ExplainResult | Sequence[ExplainResult]
) -> Result:
    """What changed between two plans of a statement (before / after a setting, an index, a rewrite): timings,
    cost, buffers, rows, the scans used, and the findings resolved or new. Rows: ``metric``, ``before``,
    ``after``, ``change``, and for the times ``before_range`` / ``after_range`` (min-max over the runs).

    Give several runs of each (a list of plans, as :func:`compare_settings` does) for timings that mean
    something: times are medians, and a difference inside the noise is ``same`` (:func:`timing_change`). Other
    metrics are read from the run with the median execution time.

    Example:
        >>> a = ExplainResult("explain", "explain", "Plan", execution_ms=10.0)
        >>> b = ExplainResult("explain", "explain", "Plan", execution_ms=2.0)
        >>> compare_plans(a, b).rows[0]["change"]
        '-80 % (5x faster; one run each, noise not measured)'
        >>> compare_plans([a, a], [a, a]).rows[0]["change"]
        'same'
    """
    runs_a = [before] if isinstance(before, ExplainResult) else list(before)
    runs_b = [after] if isinstance(after, ExplainResult) else list(after)
    if not runs_a or not runs_b:
        raise InvalidInput("compare_plans needs at least one plan on each side")
    one_a, one_b = _median_run(runs_a), _median_run(runs_b)
    rows: list[dict[str, Any]] = []
    changes: dict[str, str] = {}

    def timed(name: str) -> None:
        xs = [getattr(p, name) for p in runs_a if getattr(p, name) is not None]
        ys = [getattr(p, name) for p in runs_b if getattr(p, name) is not None]
        if not xs or not ys:
            rows.append({"metric": name, "before": None, "after": None, "change": ""})
            return
        ta, tb = Timing(tuple(float(x) for x in xs)), Timing(tuple(float(y) for y in ys))
        changes[name] = timing_change(ta, tb)
        rows.append(
            {
                "metric": name,
                "before": round(ta.median, 3),
                "after": round(tb.median, 3),
                "change": changes[name],
                "before_range": ta.text(),
                "after_range": tb.text(),
            }
        )

    def metric(name: str, x: float | None, y: float | None) -> None:
        rows.append({"metric": name, "before": x, "after": y, "change": _change(x, y, time_like=False)})

    timed("execution_ms")
    timed("planning_ms")
    metric("total_cost", _root(one_a, "total_cost"), _root(one_b, "total_cost"))
    metric("rows", _root(one_a, "actual_rows"), _root(one_b, "actual_rows"))
    metric("shared_hit_blocks", _root(one_a, "shared_hit_blocks"), _root(one_b, "shared_hit_blocks"))
    metric("shared_read_blocks", _root(one_a, "shared_read_blocks"), _root(one_b, "shared_read_blocks"))
    shape_a, shape_b = _shape(one_a), _shape(one_b)
    rows.append(
        {"metric": "plan", "before": shape_a, "after": shape_b, "change": "same" if shape_a == shape_b else "changed"}
    )
    rows.append({"metric": "settings", "before": _settings(one_a), "after": _settings(one_b), "change": ""})
    findings: list[Finding] = []
    old, new = {_key(f): f for f in one_a.findings}, {_key(f): f for f in one_b.findings}
    for k in old.keys() - new.keys():
        findings.append(Finding("info", f"resolved: {old[k].message}", threshold=old[k].threshold, subject="after"))
    for k in new.keys() - old.keys():
        f = new[k]
        findings.append(Finding(f.severity, f"new: {f.message}", f.threshold, f.source, f.fix_sql, "after"))
    slower = changes.get("execution_ms", "same")
    if slower != "same" and one_a.execution_ms and one_b.execution_ms:
        exec_a = next(r for r in rows if r["metric"] == "execution_ms")
        ratio = exec_a["before"] / exec_a["after"] if exec_a["after"] else 0.0
        rows_a, rows_b = _root(one_a, "actual_rows"), _root(one_b, "actual_rows")
        if 0 < ratio < 1 / 1.5:
            same_rows = rows_a == rows_b
            findings.append(
                Finding(
                    "warning" if same_rows else "info",
                    f"after is {1 / ratio:.1f}x slower (median {exec_a['after']:.3f} ms against "
                    f"{exec_a['before']:.3f} ms: {exec_a['after_range']} against {exec_a['before_range']})"
                    + ("" if same_rows else f" and returns {rows_b:.0f} rows instead of {rows_a:.0f}"),
                    threshold=f"ranges do not overlap and the medians differ by >= {NOISE_FLOOR:.0%}",
                    subject="after",
                )
            )
    columns = ("metric", "before", "after", "change", "before_range", "after_range")
    return Result(
        "explain", "compare_plans", "Plan comparison (before / after)", rows=rows, findings=findings, columns=columns
    )


def compare_settings(
    db: Target,
    query: str,
    after_settings: Mapping[str, Any],
    params: Mapping[str, Any] | Sequence[Any] | None = None,
    *,
    before_settings: Mapping[str, Any] | None = None,
    analyze: bool = True,
    runs: int = COMPARE_RUNS,
    warmup: int = 1,
    **options: Any,
) -> Result:
    """Explain ``query`` under ``before_settings`` (default: the session's) and ``after_settings`` and compare the
    plans. With ``analyze``, each variant first runs ``warmup`` times unmeasured (caches warm for both), then
    ``runs`` times each, alternating A B B A A B ... so neither side always runs second; times are medians with
    their min-max, and a difference inside the noise is reported as ``same`` (:func:`timing_change`). The plans
    with the median execution time are in ``result.plans``; every run in ``result.runs``.

    Example:
        >>> diff = compare_settings(url, query, {"hnsw.iterative_scan": "relaxed_order"}, params)  # doctest: +SKIP
        >>> [r["change"] for r in diff.rows if r["metric"] == "rows"]                               # doctest: +SKIP
        ['+900 %']
    """
    for name, value, least in (("runs", runs, 1), ("warmup", warmup, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise InvalidInput(f"{name} must be an integer >= {least}, got {value!r}")
    variants = (before_settings, after_settings)
    measured: tuple[list[ExplainResult], list[ExplainResult]] = ([], [])
    with using(db) as run:
        if not analyze:  # nothing runs, nothing to time: one plan each
            for side in (0, 1):
                measured[side].append(explain(run, query, params, analyze=False, settings=variants[side], **options))
        else:
            for _ in range(warmup):
                for side in (0, 1):
                    explain(run, query, params, analyze=True, settings=variants[side], **options)
            for i in range(runs):
                for side in (0, 1) if i % 2 == 0 else (1, 0):
                    measured[side].append(explain(run, query, params, analyze=True, settings=variants[side], **options))
    result = compare_plans(measured[0], measured[1])
    result.plans = (_median_run(measured[0]), _median_run(measured[1]))  # type: ignore[attr-defined]
    result.runs = measured  # type: ignore[attr-defined]
    return result


def _median_run(plans: Sequence[ExplainResult]) -> ExplainResult:
    """The run whose execution time is the median (the first one when there are no times)."""
    timed = sorted((p for p in plans if p.execution_ms is not None), key=lambda p: float(p.execution_ms or 0.0))
    return timed[(len(timed) - 1) // 2] if timed else plans[0]


def _key(f: Finding) -> tuple[str, str | None, str]:
    # the message up to its first colon names the node (its label), which is stable across the two plans
    return f.severity, f.threshold, f.message.split(":")[0]


def _root(plan: ExplainResult, attr: str) -> float | None:
    if not plan.nodes:
        return None
    value = getattr(plan.nodes[0], attr)
    return None if value is None else float(value)


def _shape(plan: ExplainResult) -> str:
    return " > ".join(n.label for n in plan.nodes if n.node_type not in ("Result",))


def _settings(plan: ExplainResult) -> str:
    return ", ".join(f"{k}={v}" for k, v in plan.settings.items() if k != "statement_timeout") or "session defaults"


def _change(x: float | None, y: float | None, *, time_like: bool) -> str:
    if x is None or y is None:
        return ""
    if x == y:
        return "same"
    if x == 0:
        return f"+{y:g}"
    pct = 100.0 * (y - x) / x
    text = f"{pct:+.0f} %"
    if time_like and y > 0:
        text += f" ({x / y:.0f}x faster)" if x > y else f" ({y / x:.1f}x slower)"
    return text
