"""The Explain and Embeddings panels: EXPLAIN analysis with a before/after comparison, and the embedding explorer
(the interactive map of :mod:`okai_insight.jupyter._scatter`: hover, click for neighbours, lasso, search).

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
from okai_insight.embeddings import embedding_quality, explore, neighbours
from okai_insight.jupyter._base import Panel
from okai_insight.presentation import STYLE, analysis_runner, message_html, table_html

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
    """The interactive embedding map (:class:`~okai_insight.jupyter._scatter.EmbeddingMap`: hover for a memory's
    text and names, click for its nearest neighbours, lasso for ``selection``, search, colour by metadata,
    clusters, second-model suspects) over the library's projection, with a progress bar fed by the projection's
    steps.

    Example:
        >>> w = ExplorerWidget(url, sample=1000, background=False)       # doctest: +SKIP
        >>> w.map.colour("agent"); w.selection                           # doctest: +SKIP
    """

    title = "Embeddings"

    def __init__(self, db: Any = None, *, sample: int = 2000, check_models: bool = True, **kwargs: Any) -> None:
        self.sample = sample
        self.check_models = check_models
        self.result: Any = None
        self.map: Any = None
        super().__init__(db, **kwargs)

    def extra_children(self) -> list[Any]:
        self.map_box = widgets.VBox()
        return [self.map_box]

    def compute(self) -> Any:
        total = 5 if self.check_models else 4
        with analysis_runner(self.db) as run:
            projection = explore(run, limit=self.sample, progress=lambda d, t, label: self.step(d, total, label))
            suspects: dict[str, str] = {}
            if self.check_models:
                self.step(4, total, "checking for a second embedding model")
                try:
                    quality = embedding_quality(run, sample_rows=max(self.sample, 1000))
                    suspects = {
                        str(r["id"]): str(r.get("reason", "suspect")) for r in quality.tables.get("mixed_rows") or []
                    }
                except Exception:  # the colouring is optional: the map shows without it
                    suspects = {}
            self.step(total, total, "drawing")
        return projection, suspects

    def frame(self) -> Any:
        """The projection's rows (coordinates and metadata) as a DataFrame."""
        return None if self.result is None else self.result.frame

    @property
    def selection(self) -> Any:
        """The rows selected on the map (a DataFrame; ``to_csv`` to export)."""
        return None if self.map is None else self.map.selection

    def _neighbours(self, memory_id: str) -> Any:
        with analysis_runner(self.db) as run:
            return neighbours(run, memory_id, k=10)

    def render(self, data: Any) -> None:
        from okai_insight.jupyter._scatter import EmbeddingMap

        projection, suspects = data
        self.result = projection
        self.map = EmbeddingMap(projection, neighbours_of=self._neighbours, suspects=suspects)
        self.map_box.children = [self.map.widget]
        summary = {k: v for k, v in (projection.summary or {}).items() if not isinstance(v, list | dict)}
        self.body.value = STYLE + (table_html([summary]) if summary else "") + findings_html(projection.findings)
