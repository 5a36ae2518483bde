"""The Explain and Embeddings panels: EXPLAIN analysis with a before/after comparison, and the embedding explorer
(scatter coloured by a chosen column; pick a point to see its memory and its neighbours).

Both call the library (``okai_insight.diagnostics.explain``, ``okai_insight.embeddings.explore``); a failure
shows as one line in the panel.

Example:
    >>> from okai_insight.jupyter import ExplainWidget
    >>> ExplainWidget(url)                                           # doctest: +SKIP
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from okai_insight.diagnostics._result import findings_html
from okai_insight.diagnostics.explain import compare_plans, explain
from okai_insight.embeddings import explore, neighbours
from okai_insight.jupyter._base import Panel
from okai_insight.presentation import STYLE, analysis_runner, figure_html, message_html, table_html

EXAMPLE_QUERY = 'SELECT id FROM memories ORDER BY "createdAt" DESC LIMIT 10'


def _html_of(obj: Any) -> str:
    rep = getattr(obj, "_repr_html_", None)
    return str(rep()) if callable(rep) else f"<pre>{html.escape(str(obj))}</pre>"


class ExplainWidget(Panel):
    """A query box and options; Explain shows the plan tree with its findings highlighted; Compare shows the
    previous plan against the current one (before / after a change).

    Example:
        >>> w = ExplainWidget(url, background=False)                     # doctest: +SKIP
        >>> w.query.value = "SELECT 1"; w.refresh(); w.wait()            # doctest: +SKIP
    """

    title = "Explain"

    def __init__(self, db: Any = None, *, query: str = EXAMPLE_QUERY, **kwargs: Any) -> None:
        self._initial_query = query
        self.plans: list[Any] = []
        kwargs.setdefault("autoload", False)
        super().__init__(db, **kwargs)
        self.refresh_button.description = "Explain"
        self.body.value = STYLE + message_html("write a query and press Explain")

    def extra_children(self) -> list[Any]:
        self.query = widgets.Textarea(value=self._initial_query, layout={"width": "100%", "height": "90px"})
        self.analyze = widgets.Checkbox(value=True, description="ANALYZE (runs the query, rolled back)", indent=False)
        self.compare_button = widgets.Button(description="Compare with previous", disabled=True)
        self.compare_button.on_click(lambda _: self.compare())
        self.comparison = widgets.HTML()
        return [self.query, widgets.HBox([self.analyze, self.compare_button]), self.comparison]

    def compute(self) -> Any:
        self.step(0, 1, "explaining")
        with analysis_runner(self.db, timeout_ms=30_000) as run:
            return explain(run, self.query.value, analyze=bool(self.analyze.value))

    def render(self, data: Any) -> None:
        self.plans.append(data)
        self.compare_button.disabled = len(self.plans) < 2
        self.body.value = STYLE + _html_of(data)

    def compare(self) -> None:
        """Show the last two plans side by side through the library's plan comparison."""
        if len(self.plans) < 2:
            return
        try:
            self.comparison.value = STYLE + _html_of(compare_plans(self.plans[-2], self.plans[-1]))
        except Exception as exc:
            from okai_insight.jupyter._base import short_error

            self.comparison.value = message_html(short_error(exc), kind="unavailable")


class ExplorerWidget(Panel):
    """A 2-D projection of the memories (the library's explorer) coloured by a chosen column; choose a point to
    see its memory and its nearest neighbours (in the original space, through the database's index).

    Example:
        >>> w = ExplorerWidget(url, sample=1000, background=False)       # doctest: +SKIP
        >>> w.color_by.value = "agent_id"                                # doctest: +SKIP
    """

    title = "Embeddings"

    def __init__(self, db: Any = None, *, sample: int = 2000, **kwargs: Any) -> None:
        self.sample = sample
        self.result: Any = None
        super().__init__(db, **kwargs)

    def extra_children(self) -> list[Any]:
        self.color_by = widgets.Dropdown(options=["room_id"], value="room_id", description="colour by")
        self.point = widgets.BoundedIntText(value=0, min=0, max=0, description="point #", layout={"width": "180px"})
        self.scatter = widgets.HTML()
        self.detail = widgets.HTML()
        self.color_by.observe(lambda _: self._draw(), names="value")
        self.point.observe(lambda _: self._show_point(), names="value")
        return [widgets.HBox([self.color_by, self.point]), self.scatter, self.detail]

    def compute(self) -> Any:
        self.step(0, 1, "reading and projecting embeddings")
        with analysis_runner(self.db) as run:
            return explore(run, limit=self.sample, progress=False)

    def frame(self) -> Any:
        """The projection's rows (coordinates and metadata) as a DataFrame."""
        for name in ("frame", "coords", "to_pandas"):
            value = getattr(self.result, name, None)
            if value is not None:
                return value() if callable(value) else value
        return None

    def render(self, data: Any) -> None:
        self.result = data
        frame = self.frame()
        if frame is not None and len(frame):
            cols = [c for c in ("room_id", "agent_id", "user_id", "type", "cluster", "created_at") if c in frame]
            self.color_by.options = cols or [frame.columns[0]]
            self.point.max = len(frame) - 1
        summary = {k: v for k, v in (getattr(data, "summary", None) or {}).items() if not isinstance(v, list | dict)}
        self.body.value = STYLE + (table_html([summary]) if summary else "") + findings_html(data.findings)
        self._draw()
        self._show_point()

    def _draw(self) -> None:
        if self.result is None or not hasattr(self.result, "plot"):
            return
        ax = self.result.plot(color=self.color_by.value)
        self.scatter.value = figure_html(ax.figure, width=700, alt="embedding projection")

    def _show_point(self) -> None:
        frame = self.frame()
        if frame is None or not len(frame):
            return
        row = frame.iloc[int(self.point.value)].to_dict()
        parts = [table_html([row])]
        try:
            with analysis_runner(self.db) as run:
                parts.append(_html_of(neighbours(run, row.get("id"), k=10)))
        except Exception as exc:
            from okai_insight.jupyter._base import short_error

            parts.append(message_html(short_error(exc), kind="unavailable"))
        self.detail.value = STYLE + "".join(parts)
