"""The presentation layer's shared toolkit: HTML formatting (style sheet, badges, tables, figures, messages) and
how batch views call the library. The report and the widgets both use it; neither uses the other's modules.

Example:
    >>> from okai_insight.presentation import message_html
    >>> message_html("ok")
    "<p style='color:#555;font-style:italic'>ok</p>"
"""

from okai_insight.presentation._calls import EMBEDDING_TIMEOUT_MS, analysis_runner
from okai_insight.presentation._format import NO_MATH, format_cell, human_bytes, human_duration, rows_text
from okai_insight.presentation._health import health_html, problems_html
from okai_insight.presentation._html import (
    COLOURS,
    STYLE,
    badges,
    figure_html,
    message_html,
    results_html,
    table_html,
)

__all__ = [
    "COLOURS",
    "EMBEDDING_TIMEOUT_MS",
    "NO_MATH",
    "STYLE",
    "analysis_runner",
    "badges",
    "figure_html",
    "format_cell",
    "health_html",
    "human_bytes",
    "human_duration",
    "message_html",
    "problems_html",
    "results_html",
    "rows_text",
    "table_html",
]
