"""The report's sections, each built from the library's result objects (no SQL here) and each guarded: a
section that cannot be built (a missing extension, a function this version does not have yet, a failed check)
says why in one line and the rest of the report goes on.

Example:
    >>> from okai_insight.diagnostics import doctor
    >>> report = doctor(url)                                      # doctest: +SKIP
    >>> health_summary(report).status                             # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import functools
import html
import inspect
from collections.abc import Callable
from typing import Any, Literal, ParamSpec

from okai_insight.diagnostics import registry
from okai_insight.diagnostics._result import Result, findings_html, result_html
from okai_insight.embeddings import embedding_quality, explore, tune_recall, tune_threshold
from okai_insight.embeddings.recall import DEFAULT_QUERIES
from okai_insight.embeddings.threshold import DEFAULT_QUERIES as THRESHOLD_QUERIES
from okai_insight.presentation import (
    analysis_runner,
    badges,
    figure_html,
    problems_html,
    results_html,
    table_html,
)
from okai_insight.report._render import Section, unavailable

P = ParamSpec("P")


def guarded(title: str) -> Callable[[Callable[P, Section]], Callable[P, Section]]:
    """Turn a failure inside a section builder into an ``unavailable`` section with a one-line reason.

    Example:
        >>> @guarded("Demo")
        ... def broken() -> Section:
        ...     raise ValueError("no data")
        >>> broken().text
        'not available: ValueError: no data'
    """

    def wrap(fn: Callable[P, Section]) -> Callable[P, Section]:
        @functools.wraps(fn)
        def inner(*args: P.args, **kwargs: P.kwargs) -> Section:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                from okai_insight._redact import redact_exception
                from okai_insight.errors import OkaiError

                first = redact_exception(exc)  # a driver's message can quote the URL it could not use
                reason = first if isinstance(exc, OkaiError) else f"{type(exc).__name__}: {first}"
                return unavailable(title, reason)

        return inner

    return wrap


def concern_results(target: Any, report: Any, concern: str, **options: Any) -> list[Result]:
    """The results of one concern's registered diagnostics: taken from ``report`` (a :class:`DoctorReport`) for
    those doctor ran, else run on ``target`` with the ``options`` each takes (e.g. ``limit``).

    Example:
        >>> [r.name for r in concern_results(url, None, "space", limit=5)]     # doctest: +SKIP
        ['database_size', 'table_sizes']
    """
    ran = {r.name: r for r in report.results} if report is not None else {}
    out = []
    for entry in registry.entries(concern=concern, own=True):
        if entry.name in ran:
            out.append(ran[entry.name])
        elif not (entry.doctor and report is not None):  # doctor left it out (pool_stats without a pool)
            takes = inspect.signature(entry.function).parameters
            out.append(entry.function(target, **{k: v for k, v in options.items() if k in takes}))
    return out


def _noteworthy(result: Result) -> bool:
    return bool(result.findings) or result.status != "ok"


def _result_of(results: list[Result], check: Callable[..., Any]) -> Result:
    return next(r for r in results if r.name == check.__name__)


@guarded("Health summary")
def health_summary(report: Any, *, target: Any = None) -> Section:
    """Counts per severity, the database and server, which checks could not run, and a one-line verdict.

    Example:
        >>> from okai_insight.diagnostics import DoctorReport
        >>> health_summary(DoctorReport([], database="okai", server_version="18.6")).text.splitlines()[0]
        'okai on PostgreSQL 18.6: 0 checks, critical: 0, warning: 0, info: 0'
    """
    counts = report.counts()
    degraded = [r for r in report.results if r.status != "ok"]
    where = f"{report.database or '?'} on PostgreSQL {report.server_version or '?'}"
    if counts["critical"]:
        verdict = f"{counts['critical']} critical problem(s) need attention now: see the top findings below."
    elif counts["warning"]:
        verdict = f"No critical problems; {counts['warning']} warning(s) worth fixing."
    else:
        verdict = "No critical problems and no warnings."
    parts = [
        f"<p class='okai-lead'><b>{html.escape(where)}</b>"
        + (f" ({html.escape(target.display)}{', the demo database' if target.demo else ''})" if target else "")
        + f": {len(report.results)} checks in {report.duration_ms / 1000:.1f} s.</p>",
        f"<p>{badges(counts)}</p>",
        f"<p>{html.escape(verdict)}</p>",
    ]
    if degraded:
        items = "".join(f"<li>{html.escape(r.title)}: {html.escape(r.note or r.status)}</li>" for r in degraded)
        parts.append(f"<p>Not checked here:</p><ul>{items}</ul>")
    text = f"{where}: {len(report.results)} checks, " + ", ".join(f"{k}: {v}" for k, v in counts.items())
    return Section("Health summary", "".join(parts), text=text + "\n" + verdict)


@guarded("Top findings and their fixes")
def top_findings(report: Any, *, limit: int = 12) -> Section:
    """The most severe findings first, each with its threshold, source and the SQL that fixes it.

    Example:
        >>> from okai_insight.diagnostics import DoctorReport
        >>> top_findings(DoctorReport([])).text
        'no findings'
    """
    found = report.problems
    shown = found[:limit]
    if not shown:
        return Section("Top findings and their fixes", "<p>No findings.</p>", text="no findings")
    more = len(found) - len(shown)
    tail = f"<p>… and {more} more (info) in the sections below.</p>" if more > 0 else ""
    # one line per problem, ranked by severity then rows affected (embedding quality included), each opening
    # to its message, threshold and fix
    text = "\n".join(
        f"{', '.join(p.checks)}: {p.finding.to_text()}" + (f"\n    rows affected: {p.rows_text}" if p.rows_text else "")
        for p in shown
    )
    return Section("Top findings and their fixes", problems_html(shown) + tail, text=text)


@guarded("Statements")
def statements_section(target: str, report: Any = None, *, limit: int = 10) -> Section:
    """The statements with the most total time (pg_stat_statements), and the slow ones.

    Example:
        >>> statements_section(url).title                         # doctest: +SKIP
        'Statements'
    """
    from okai_insight.diagnostics.statements import query_stats

    results = concern_results(target, report, "statements", limit=limit)
    top = _result_of(results, query_stats)
    return Section("Statements", results_html(results, max_rows=15), text=top.to_text(max_rows=limit))


@guarded("Indexes")
def indexes_section(target: str, report: Any = None) -> Section:
    """Every index with its size and scans, and the index checks that found something.

    Example:
        >>> indexes_section(url).title                            # doctest: +SKIP
        'Indexes'
    """
    from okai_insight.diagnostics.indexes import index_usage

    # every index with its use, then the checks that found something
    results = [
        r for r in concern_results(target, report, "indexes") if r.name == index_usage.__name__ or _noteworthy(r)
    ]
    usage = _result_of(results, index_usage)
    return Section("Indexes", results_html(results, max_rows=20), text=usage.to_text(max_rows=20))


@guarded("Space and maintenance")
def space_section(target: str, report: Any = None, *, limit: int = 15) -> Section:
    """Database and table sizes, dead rows and the last vacuum / analyze.

    Example:
        >>> space_section(url).title                              # doctest: +SKIP
        'Space and maintenance'
    """
    from okai_insight.diagnostics.space import table_sizes

    results = concern_results(target, report, "space", limit=limit)
    results += [r for r in concern_results(target, report, "maintenance") if r.rows or _noteworthy(r)]
    tables = _result_of(results, table_sizes)
    return Section("Space and maintenance", results_html(results, max_rows=limit), text=tables.to_text())


@guarded("Vector indexes")
def vector_section(target: str, report: Any = None) -> Section:
    """pgvector: the extension, vector columns, vector indexes and whether the queries run can use them.

    Example:
        >>> vector_section(url).title                             # doctest: +SKIP
        'Vector indexes'
    """
    results = concern_results(target, report, "vectors")
    return Section("Vector indexes", results_html(results, max_rows=15), text="\n".join(r.to_text() for r in results))


def _summary_html(result: Any) -> str:
    summary = {k: v for k, v in (getattr(result, "summary", None) or {}).items() if not isinstance(v, list | dict)}
    return table_html([summary]) if summary else ""


def _plot_html(result: Any, *, alt: str, **kwargs: Any) -> str:
    plot = getattr(result, "plot", None)
    if plot is None:
        return ""
    ax = plot(**kwargs)
    fig = ax.figure if hasattr(ax, "figure") else ax
    return figure_html(fig, alt=alt)


@guarded("Recall at the current settings")
def recall_section(target: str, *, queries: int = DEFAULT_QUERIES) -> Section:
    """Recall of the vector index against exact search at the current ``hnsw.ef_search``, and the smallest
    value reaching the target recall (the library's recall tuner). ``queries`` defaults to the tuner's own
    :data:`~okai_insight.embeddings.recall.DEFAULT_QUERIES`, so the report's headline is the notebook's, the
    widget's and the CLI's.

    Example:
        >>> recall_section(url, queries=20).title                 # doctest: +SKIP
        'Recall at the current settings'
    """
    with analysis_runner(target) as run:
        result = tune_recall(run, queries=queries)
    # the summary and the plot first; the per-setting rows folded past the first few
    body = _summary_html(result) + _plot_html(result, alt="recall against ef_search") + result_html(result, max_rows=8)
    return Section("Recall at the current settings", body, text=str(result))


@guarded("Embedding quality")
def quality_section(
    target: str, *, by: Literal["agent", "room", "type", "user"] | None = "agent", probes: int = 500
) -> Section:
    """Dimensions, NULL / zero / non-unit vectors, duplicates and signs of mixed models, with the norm plot.

    Example:
        >>> quality_section(url).title                            # doctest: +SKIP
        'Embedding quality'
    """
    with analysis_runner(target) as run:
        result = embedding_quality(run, by=by, probes=probes)
    body = _summary_html(result) + result_html(result, max_rows=15)
    if result.status == "ok" and result.rows:
        body += _plot_html(result, alt="embedding norms per group")
    return Section("Embedding quality", body, text=result.to_text())


@guarded("Projection of the memories")
def projection_section(target: str, *, sample: int = 2000, color_by: str = "room_id") -> Section:
    """A 2-D projection of a sample of the embeddings (the library's explorer), coloured by a column.

    Example:
        >>> projection_section(url, sample=500).title             # doctest: +SKIP
        'Projection of the memories'
    """
    with analysis_runner(target) as run:
        result = explore(run, limit=sample, progress=False)
    body = findings_html(result.findings) if result.findings else ""
    if result.status != "ok":
        body += result_html(result)
    else:
        summary = {k: v for k, v in result.summary.items() if not isinstance(v, list | dict)}
        body += table_html([summary]) + _plot_html(result, alt="projection of the embeddings", color=color_by)
    return Section("Projection of the memories", body, text=str(result))


@guarded("Threshold guidance")
def threshold_section(target: str, *, queries: int = THRESHOLD_QUERIES) -> Section:
    """What a ``match_threshold`` means here: precision / recall / F1 against the threshold, the best-F1 value,
    and how many memories a search returns at each threshold (the library's threshold tuner).

    Example:
        >>> threshold_section(url).title                          # doctest: +SKIP
        'Threshold guidance'
    """
    with analysis_runner(target) as run:
        result = tune_threshold(run, queries=queries)
    body = _summary_html(result) + _plot_html(result, alt="precision and recall against the threshold")
    body += result_html(result, max_rows=10)  # a row per threshold step: the rest behind "show all"
    return Section("Threshold guidance", body, text=str(result))


#: What the history section says when the store holds no snapshot of this database.
NO_SNAPSHOTS = "no snapshots yet: run okai-insight snapshot"


@guarded("History")
def history_section(target: Any, *, store_dir: Any = None, statements: int = 5) -> Section:
    """Trends from the local history store (:mod:`okai_insight.history`): space growth over the snapshots with a
    plot, the heaviest statements over time with a plot, the tables that grew most, and what changed since the
    last snapshot. Reads the store (never creates it) and the database's identity only; with no snapshot it says
    so: ``no snapshots yet: run okai-insight snapshot``.

    Example:
        >>> history_section(url).text                             # doctest: +SKIP
        'no snapshots yet: run okai-insight snapshot'
    """
    import matplotlib.pyplot as plt

    from okai_insight.history import history

    h = history(target, store_dir=store_dir)
    if not h.snapshots:
        body = (
            "<p><b>no snapshots yet: run <code>okai-insight snapshot</code></b> (for example hourly from cron); each "
            "snapshot records statement counters, table and index sizes and vector-index usage in a local store, "
            "outside this database, and this section then shows how they change.</p>"
        )
        return Section("History", body, text=NO_SNAPSHOTS)
    summary = h.summary()
    body = table_html([summary])
    fig, (space_ax, statements_ax) = plt.subplots(1, 2, figsize=(12.0, 4.0))
    h.plot(ax=space_ax)
    h.plot_statements(ax=statements_ax, n=statements)
    fig.tight_layout()
    body += figure_html(fig, width=900, alt="space and top statements over the snapshots")
    text = [h.to_text()]
    if len(h.snapshots) < 2:
        body += "<p>One snapshot so far: the next <code>okai-insight snapshot</code> shows what changed.</p>"
    else:
        grown = h.growth_by_table()
        if grown:
            body += "<h4>Tables that grew most since the first snapshot</h4>" + table_html(grown)
        changes = h.since_last()
        body += "<h4>Since the last snapshot</h4>" + (
            table_html(changes, ["kind", "name", "calls", "total_ms", "bytes", "scans"], max_rows=15)
            if changes
            else "<p>Nothing changed between the last two snapshots.</p>"
        )
    body += "<h4>Space at each snapshot</h4>" + table_html(h.space(), max_rows=10)
    return Section("History", body, text="\n".join(text))
