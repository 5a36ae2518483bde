"""The report's sections, each built from the library's result objects (no SQL here) and each guarded: a
section that cannot be built (a missing extension, a function this version does not have yet, a failed check)
says why in one line and the rest of the report goes on.

Example:
    >>> from okai_insight.diagnostics import health
    >>> report = health(url)                                      # doctest: +SKIP
    >>> health_summary(report).status                             # doctest: +SKIP
    'ok'
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from typing import Any, ParamSpec

from okai_insight.diagnostics._result import Result, findings_html, result_html
from okai_insight.embeddings import embedding_quality, explore, tune_recall, tune_threshold
from okai_insight.embeddings._table import GroupBy
from okai_insight.report._render import Section, badges, figure_html, table_html, unavailable

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


def _results_html(results: list[Result], *, max_rows: int = 15) -> str:
    return "".join(result_html(r, max_rows=max_rows) for r in results)


@guarded("Health summary")
def health_summary(report: Any, *, target: Any = None) -> Section:
    """Counts per severity, the database and server, which checks could not run, and a one-line verdict.

    Example:
        >>> from okai_insight.diagnostics import HealthReport
        >>> health_summary(HealthReport([], database="okai", server_version="18.6")).text.splitlines()[0]
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
        >>> from okai_insight.diagnostics import HealthReport
        >>> top_findings(HealthReport([])).text
        'no findings'
    """
    shown = report.findings[:limit]
    if not shown:
        return Section("Top findings and their fixes", "<p>No findings.</p>", text="no findings")
    more = len(report.findings) - len(shown)
    tail = f"<p>… and {more} more (info) in the sections below.</p>" if more > 0 else ""
    text = "\n".join(f"{f.check}: {f.to_text()}" for f in shown)
    return Section("Top findings and their fixes", findings_html(shown) + tail, text=text)


@guarded("Statements")
def statements_section(target: str, report: Any = None, *, limit: int = 10) -> Section:
    """The statements with the most total time (pg_stat_statements), and the slow ones.

    Example:
        >>> statements_section(url).title                         # doctest: +SKIP
        'Statements'
    """
    from okai_insight.diagnostics import statements

    top = statements.query_stats(target, limit=limit)
    results = [top]
    if report is not None:
        results.append(report.result("slow_queries"))
    return Section("Statements", _results_html(results), text=top.to_text(max_rows=limit))


@guarded("Indexes")
def indexes_section(target: str, report: Any = None) -> Section:
    """Every index with its size and scans, and the index checks that found something.

    Example:
        >>> indexes_section(url).title                            # doctest: +SKIP
        'Indexes'
    """
    from okai_insight.diagnostics import indexes

    usage = indexes.index_usage(target)
    results = [usage]
    if report is not None:
        names = ("invalid_indexes", "duplicate_indexes", "unused_indexes", "foreign_keys_without_index",
                 "sequential_scans")  # fmt: skip
        results += [r for r in report.results if r.name in names and (r.findings or r.status != "ok")]
    return Section("Indexes", _results_html(results, max_rows=20), text=usage.to_text(max_rows=20))


@guarded("Space and maintenance")
def space_section(target: str, report: Any = None, *, limit: int = 15) -> Section:
    """Database and table sizes, dead rows and the last vacuum / analyze.

    Example:
        >>> space_section(url).title                              # doctest: +SKIP
        'Space and maintenance'
    """
    from okai_insight.diagnostics import maintenance, space

    results = [space.database_size(target), space.table_sizes(target, limit=limit)]
    if report is not None:
        results.append(report.result("vacuum_stats"))
    else:
        results.append(maintenance.vacuum_stats(target))
    return Section("Space and maintenance", _results_html(results, max_rows=limit), text=results[1].to_text())


@guarded("Vector indexes")
def vector_section(target: str, report: Any = None) -> Section:
    """pgvector: the extension, vector columns, vector indexes and whether the queries run can use them.

    Example:
        >>> vector_section(url).title                             # doctest: +SKIP
        'Vector indexes'
    """
    from okai_insight.diagnostics import vectors

    names = ("vector_extension", "vector_columns", "vector_indexes", "vector_queries")
    source = report.result if report is not None else (lambda n: getattr(vectors, n)(target))
    results = [source(n) for n in names]
    return Section("Vector indexes", _results_html(results), text="\n".join(r.to_text() for r in results))


#: Statement timeout for the embedding sections: they read vectors and walk the index for many probes.
EMBEDDING_TIMEOUT_MS = 60_000


def analysis_runner(target: Any, *, timeout_ms: int = EMBEDDING_TIMEOUT_MS) -> Any:
    """A diagnostics :class:`~okai_insight.diagnostics.Runner` on ``target`` whose statement timeout is at least
    ``timeout_ms`` (a report is a batch job; the 5 s default suits interactive checks). Use it as a context manager.

    Example:
        >>> with analysis_runner(url) as run:                     # doctest: +SKIP
        ...     run.settings.statement_timeout_ms
        60000
    """
    from okai_insight.diagnostics import Runner
    from okai_insight.settings import Settings

    if isinstance(target, Runner):
        return target
    base = Settings.from_env()
    settings = base.replace(statement_timeout_ms=max(int(base.statement_timeout_ms), timeout_ms))
    return Runner(target, settings=settings)


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
def recall_section(target: str, *, queries: int = 50) -> Section:
    """Recall of the vector index against exact search at the current ``hnsw.ef_search``, and the smallest
    value reaching the target recall (the library's recall tuner).

    Example:
        >>> recall_section(url, queries=20).title                 # doctest: +SKIP
        'Recall at the current settings'
    """
    with analysis_runner(target) as run:
        result = tune_recall(run, queries=queries)
    body = _summary_html(result) + result._repr_html_() + _plot_html(result, alt="recall against ef_search")
    return Section("Recall at the current settings", body, text=str(result))


@guarded("Embedding quality")
def quality_section(target: str, *, by: GroupBy = "agent", probes: int = 500) -> Section:
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
def threshold_section(target: str, *, queries: int = 50) -> Section:
    """What a ``match_threshold`` means here: precision / recall / F1 against the threshold, the best-F1 value,
    and how many memories a search returns at each threshold (the library's threshold tuner).

    Example:
        >>> threshold_section(url).title                          # doctest: +SKIP
        'Threshold guidance'
    """
    with analysis_runner(target) as run:
        result = tune_threshold(run, queries=queries)
    body = _summary_html(result) + _plot_html(result, alt="precision and recall against the threshold")
    body += result._repr_html_()
    return Section("Threshold guidance", body, text=str(result))
