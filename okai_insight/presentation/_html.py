"""The one formatting module of the presentation layer: the style sheet, severity badges, tables, inline figures and
one-line messages that the report and the widgets both render with (they add no numbers of their own: every value
comes from a library result object).

Example:
    >>> from okai_insight.presentation import badges, table_html
    >>> "critical: 1" in badges({"critical": 1})
    True
    >>> table_html([])
    '<p><i>(no rows)</i></p>'
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

from okai_insight.diagnostics._result import Result, result_html
from okai_insight.presentation._format import rows_html

STYLE = """
<style>
.okai-section { margin: 1.2em 0 2em 0; font-family: system-ui, sans-serif; }
.okai-section h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; }
.okai-section table { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
.okai-section th, .okai-section td { border: 1px solid #ddd; padding: 3px 6px; text-align: left;
  max-width: 36em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.okai-section th { background: #f4f4f4; }
.okai-section td.okai-sql, .okai-result td.okai-sql { min-width: 28em; max-width: 60em; white-space: pre-wrap;
  word-break: break-word; font-family: ui-monospace, monospace; }
.okai-section td, .okai-result td { font-variant-numeric: tabular-nums; }
.okai-findings li, .okai-problem { overflow-wrap: anywhere; }
.okai-more > summary { cursor: pointer; color: #1565c0; }
.okai-section pre { background: #f7f7f7; padding: 4px 6px; white-space: pre-wrap; font-size: 12px; }
.okai-badge { display: inline-block; padding: 4px 12px; margin-right: 8px; border-radius: 12px; color: white;
  font-weight: bold; }
.okai-unavailable { color: #666; font-style: italic; }
.okai-lead { font-size: 1.05em; }
</style>
"""
COLOURS = {"critical": "#b00020", "warning": "#b26a00", "info": "#1565c0", "ok": "#2e7d32"}


def message_html(text: str, *, kind: str = "info") -> str:
    """A one-line message (``info``, ``error`` or ``unavailable``) as HTML.

    Example:
        >>> "Not available" in message_html("no explorer yet", kind="unavailable")
        True
    """
    colour = {"info": "#555", "error": "#b00020", "unavailable": "#666"}[kind]
    prefix = {"info": "", "error": "Error: ", "unavailable": "Not available: "}[kind]
    return f"<p style='color:{colour};font-style:italic'>{html.escape(prefix + text)}</p>"


def figure_html(fig: Any, *, width: int = 760, alt: str = "plot") -> str:
    """A matplotlib figure as an inline PNG ``<img>`` (the figure is closed afterwards).

    Example:
        >>> import matplotlib.pyplot as plt
        >>> fig, ax = plt.subplots(); _ = ax.plot([0, 1])
        >>> figure_html(fig).startswith("<img class='okai-plot'")
        True
    """
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f"<img class='okai-plot' alt='{html.escape(alt)}' style='max-width:{width}px;width:100%' "
        f"src='data:image/png;base64,{data}'>"
    )


def badges(counts: dict[str, int]) -> str:
    """Coloured count badges per severity (green when a severity has none).

    Example:
        >>> "critical: 0" in badges({"critical": 0})
        True
    """
    out = []
    for severity, n in counts.items():
        colour = COLOURS[severity] if n else COLOURS["ok"]
        out.append(f"<span class='okai-badge' style='background:{colour}'>{html.escape(severity)}: {n}</span>")
    return "".join(out)


def table_html(rows: list[dict[str, Any]], columns: list[str] | None = None, *, max_rows: int = 20) -> str:
    """Rows (dicts) as an HTML table formatted for people (:mod:`okai_insight.presentation._format`): floats to 3
    significant digits, ``*_bytes`` and ``*_ms`` with units, past ``max_rows`` the whole table behind "show all".

    Example:
        >>> table_html([{"a": 1.23456, "size_bytes": 2048}])  # doctest: +ELLIPSIS
        "<table class='okai-table tex2jax_ignore mathjax_ignore'>...<td>1.23</td><td>2 kB</td>...</table>"
    """
    return rows_html(rows, columns, max_rows=max_rows)


def results_html(results: list[Result], *, max_rows: int = 25) -> str:
    """Several results as one HTML block, each with its findings (the results' own rendering).

    Example:
        >>> "<h4>T (a.b)</h4>" in results_html([Result("a", "b", "T")])
        True
    """
    return "".join(result_html(r, max_rows=max_rows) for r in results)
