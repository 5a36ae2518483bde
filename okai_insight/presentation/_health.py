"""The doctor report in a notebook, findings first: the counts, then one line per problem (severity, what, where,
rows affected) that opens to the message, the threshold and its source and the fix; every check's own rows stay
folded underneath.

Example:
    >>> from okai_insight.diagnostics import DoctorReport
    >>> from okai_insight.results import Finding, Result
    >>> view = health_html(DoctorReport([Result("a", "b", "c", findings=[Finding("warning", "x", subject="t")])]))
    >>> "<details" in view and "warning" in view
    True
"""

from __future__ import annotations

import html
from typing import Any

from okai_insight.presentation._format import NO_MATH
from okai_insight.presentation._html import COLOURS, STYLE, badges, results_html


def health_html(report: Any) -> str:
    """A :class:`~okai_insight.diagnostics.DoctorReport` as HTML: badges, the findings (each a collapsed
    ``<details>``), then the checks' tables folded in one ``<details>``.

    Example:
        >>> from okai_insight.diagnostics import DoctorReport
        >>> "No findings" in health_html(DoctorReport([]))
        True
    """
    where = f"{report.database or '?'} (PostgreSQL {report.server_version or '?'})"
    head = (
        f"<h3>okai-insight doctor: {html.escape(where)}</h3>"
        f"<p>{len(report.results)} checks in {report.duration_ms / 1000:.1f} s</p><p>{badges(report.counts())}</p>"
    )
    items = problems_html(report.problems)
    noteworthy = [r for r in report.results if r.findings or r.status != "ok"]
    checks = (
        f"<details><summary>Every check's rows ({len(report.results)} checks, {len(noteworthy)} with findings or "
        f"not run)</summary>{results_html(report.results, max_rows=25)}</details>"
    )
    return f"{STYLE}<div class='okai-section okai-health {NO_MATH}'>{head}{items}{checks}</div>"


def problems_html(problems: Any) -> str:
    """Problems (:attr:`DoctorReport.problems`), one collapsed ``<details>`` each: severity, what, where, rows
    affected; opened, the message, threshold, source, fix and what the other checks said.

    Example:
        >>> problems_html([])
        '<p>No findings.</p>'
    """
    return "".join(_problem_html(p) for p in problems) or "<p>No findings.</p>"


def _problem_html(problem: Any) -> str:
    f = problem.finding
    colour = COLOURS[problem.severity]
    where = f" — {html.escape(problem.subject)}" if problem.subject else ""
    rows = f" — {html.escape(problem.rows_text)} rows" if problem.rows_text else ""
    summary = (
        f"<b style='color:{colour}'>{html.escape(problem.severity)}</b> {html.escape(problem.problem)}{where}{rows}"
        f" <small>({html.escape(', '.join(problem.checks) or f.check)})</small>"
    )
    body = f"<p>{html.escape(f.message)}</p>"
    if f.threshold:
        src = f" — {html.escape(f.source)}" if f.source else ""
        body += f"<p><small>threshold: {html.escape(f.threshold)}{src}</small></p>"
    if f.fix_sql:
        body += f"<pre>{html.escape(f.fix_sql.strip())}</pre>"
    others = [e for e in problem.evidence if e is not f and e.message != f.message]
    if others:
        also = "".join(f"<li>{html.escape(e.check)}: {html.escape(e.message)}</li>" for e in others)
        body += f"<p><small>also seen:</small></p><ul>{also}</ul>"
    return f"<details class='okai-problem'><summary>{summary}</summary>{body}</details>"
