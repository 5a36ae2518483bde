"""A report's sections: a titled HTML body with a text version, or a one-line "not available" (the formatting
toolkit itself is :mod:`okai_insight.presentation`).

Example:
    >>> s = Section("Space", "<p>ok</p>")
    >>> "<h2>Space</h2>" in s._repr_html_()
    True
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from okai_insight.presentation import STYLE  # the report's style sheet is the widgets' (okai_insight.report.STYLE)
from okai_insight.presentation._format import NO_MATH  # MathJax must not typeset the SQL in a section

__all__ = ["STYLE", "Body", "Section", "unavailable"]


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
        return f"<section class='okai-section {NO_MATH}'><h2>{html.escape(self.title)}</h2>{self.html}</section>"

    def body(self) -> Body:
        """The section without its title (for a notebook whose markdown cell already has the heading).

        Example:
            >>> Section("T", "<p>x</p>").body()._repr_html_()
            "<section class='okai-section tex2jax_ignore mathjax_ignore'><p>x</p></section>"
        """
        return Body(f"<section class='okai-section {NO_MATH}'>{self.html}</section>", self.text)

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
