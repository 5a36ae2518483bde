"""HTML building blocks for report sections: a section, a figure as an inline PNG, a small style sheet.

Example:
    >>> s = Section("Space", "<p>ok</p>")
    >>> "<h2>Space</h2>" in s._repr_html_()
    True
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass, field
from typing import Any

STYLE = """
<style>
.okai-section { margin: 1.2em 0 2em 0; font-family: system-ui, sans-serif; }
.okai-section h2 { border-bottom: 2px solid #ddd; padding-bottom: 4px; }
.okai-section table { border-collapse: collapse; font-size: 12px; margin: 6px 0; }
.okai-section th, .okai-section td { border: 1px solid #ddd; padding: 3px 6px; text-align: left;
  max-width: 36em; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.okai-section th { background: #f4f4f4; }
.okai-section pre { background: #f7f7f7; padding: 4px 6px; white-space: pre-wrap; font-size: 12px; }
.okai-badge { display: inline-block; padding: 4px 12px; margin-right: 8px; border-radius: 12px; color: white;
  font-weight: bold; }
.okai-unavailable { color: #666; font-style: italic; }
.okai-lead { font-size: 1.05em; }
</style>
"""
COLOURS = {"critical": "#b00020", "warning": "#b26a00", "info": "#1565c0", "ok": "#2e7d32"}


@dataclass
class Section:
    """One part of a report: a title, an HTML body (and a plain-text version for the terminal).

    ``status`` is ``ok`` or ``unavailable`` (the body then says why in one line).

    Example:
        >>> print(Section("Space", "<p>x</p>", text="12 MB").text)
        12 MB
    """

    title: str
    html: str
    text: str = ""
    status: str = "ok"
    parts: list[Any] = field(default_factory=list)

    def _repr_html_(self) -> str:
        return f"<section class='okai-section'><h2>{html.escape(self.title)}</h2>{self.html}</section>"

    def body(self) -> Body:
        """The section without its title (for a notebook whose markdown cell already has the heading).

        Example:
            >>> Section("T", "<p>x</p>").body()._repr_html_()
            "<section class='okai-section'><p>x</p></section>"
        """
        return Body(f"<section class='okai-section'>{self.html}</section>", self.text)

    def __str__(self) -> str:
        return f"== {self.title}\n{self.text}"


@dataclass(frozen=True)
class Body:
    """HTML to display as it is (with a text fallback for consoles).

    Example:
        >>> str(Body("<b>x</b>", "x"))
        'x'
    """

    html: str
    text: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text


def unavailable(title: str, reason: str) -> Section:
    """A section that could not be built, saying why in one line.

    Example:
        >>> unavailable("Recall", "tune_recall is not available yet").status
        'unavailable'
    """
    body = f"<p class='okai-unavailable'>Not available: {html.escape(reason)}</p>"
    return Section(title, body, text=f"not available: {reason}", status="unavailable")


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
    """Rows (dicts) as a plain HTML table, floats rounded, at most ``max_rows``.

    Example:
        >>> table_html([{"a": 1.23456}])
        '<table><thead><tr><th>a</th></tr></thead><tbody><tr><td>1.235</td></tr></tbody></table>'
    """
    if not rows:
        return "<p><i>(no rows)</i></p>"
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))

    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, float):
            return f"{v:.4g}"
        return html.escape(str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in cols) + "</tr>" for r in rows[:max_rows])
    more = f"<p>… {len(rows) - max_rows} more rows</p>" if len(rows) > max_rows else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"
