"""Where the diagnostics modules import result types from; they live in the public :mod:`okai_insight.results`
(embedding checks, ops and presentation use them too).

Example:
    >>> from okai_insight.diagnostics._result import Finding
    >>> Finding("info", "m").severity
    'info'
"""

from __future__ import annotations

from okai_insight.results import SEVERITIES, Finding, Result, Severity, Status, findings_html, result_html, text_table

__all__ = ["SEVERITIES", "Finding", "Result", "Severity", "Status", "findings_html", "result_html", "text_table"]
