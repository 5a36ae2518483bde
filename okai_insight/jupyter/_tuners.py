"""The threshold and recall tuners: a slider over the library's measured grid updates the counts and the plot.

The numbers come from :func:`okai_insight.embeddings.tune_threshold` / ``tune_recall`` result rows; moving a slider
looks the nearest measured row up (no recomputation, no SQL).

Example:
    >>> from okai_insight.jupyter import ThresholdWidget
    >>> w = ThresholdWidget(url, background=False)                   # doctest: +SKIP
    >>> w.slider.value = 0.9; w.current["mean_results"]              # doctest: +SKIP
    2.4
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from okai_insight.embeddings import tune_recall, tune_threshold
from okai_insight.embeddings.recall import DEFAULT_QUERIES
from okai_insight.jupyter._base import Panel
from okai_insight.presentation import STYLE, analysis_runner, figure_html, table_html


def _count(name: str, label: str, value: Any) -> str:
    text = f"{value:.3f}" if isinstance(value, float) else str(value)
    return (
        f"<div class='okai-count' data-name='{name}' style='display:inline-block;margin:4px 14px 4px 0'>"
        f"<small>{html.escape(label)}</small><br><b style='font-size:1.4em'>{html.escape(text)}</b></div>"
    )


class ThresholdWidget(Panel):
    """Precision, recall and F1 against the similarity threshold, and the expected result counts at the threshold
    under the slider (memories returned per query on average, queries that get none).

    Example:
        >>> w = ThresholdWidget(url, queries=50, background=False)       # doctest: +SKIP
        >>> w.slider.value = w.result.summary["best_threshold"]          # doctest: +SKIP
    """

    title = "Threshold tuner"

    def __init__(self, db: Any = None, *, queries: int = 100, convention: str = "cosine", **kwargs: Any) -> None:
        self.queries = queries
        self.convention = convention
        self.result: Any = None
        self.current: dict[str, Any] = {}
        super().__init__(db, **kwargs)

    def extra_children(self) -> list[Any]:
        self.slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="threshold",
                                          readout_format=".3f", continuous_update=False, disabled=True,
                                          layout={"width": "520px"})  # fmt: skip
        self.slider.add_class("okai-threshold-slider")
        self.counts = widgets.HTML()
        self.counts.add_class("okai-counts")
        self.plot = widgets.HTML()
        self.slider.observe(lambda _: self._show_current(), names="value")
        return [self.slider, self.counts, self.plot]

    def compute(self) -> Any:
        self.step(0, 1, "scoring pairs and sampled searches")
        with analysis_runner(self.db) as run:
            return tune_threshold(run, queries=self.queries, convention=self.convention)

    def render(self, data: Any) -> None:
        self.result = data
        rows = sorted(data.rows, key=lambda r: r["threshold"])
        if data.status != "ok" or not rows:
            self.body.value = STYLE + data._repr_html_()
            self.slider.disabled = True
            return
        lo, hi = float(rows[0]["threshold"]), float(rows[-1]["threshold"])
        best = data.summary.get("best_threshold")
        self.slider.min, self.slider.max = min(lo, self.slider.min), max(hi, self.slider.max)
        self.slider.min, self.slider.max = lo, hi
        self.slider.step = max((hi - lo) / 200, 1e-4)
        self.slider.disabled = False
        summary = {k: v for k, v in data.summary.items() if not isinstance(v, list | dict)}
        self.body.value = STYLE + table_html([summary]) + data._repr_html_()
        target = float(best) if best is not None else (lo + hi) / 2
        if abs(self.slider.value - target) < 1e-12:
            self._show_current()
        else:
            self.slider.value = target

    def row_at(self, threshold: float) -> dict[str, Any]:
        """The measured grid row nearest ``threshold``.

        Example:
            >>> w.row_at(0.8)["threshold"]                               # doctest: +SKIP
            0.8012
        """
        if self.result is None or not self.result.rows:
            return {}
        return dict(min(self.result.rows, key=lambda r: abs(float(r["threshold"]) - threshold)))

    def _show_current(self) -> None:
        if self.result is None or not self.result.rows:
            return
        row = self.row_at(float(self.slider.value))
        self.current = row
        limit = self.result.summary.get("limit", "k")
        n = self.result.summary.get("queries", "?")
        self.counts.value = (
            _count("threshold", "threshold", float(row["threshold"]))
            + _count("mean_results", f"memories returned per query (of top {limit})", float(row["mean_results"]))
            + _count("queries_without_results", f"queries with none (of {n})", int(row["queries_without_results"]))
            + _count("precision", "precision", float(row["precision"]))
            + _count("recall", "recall", float(row["recall"]))
            + _count("f1", "F1", float(row["f1"]))
        )
        ax = self.result.plot()
        ax.axvline(float(row["threshold"]), color="black", lw=1.5, label="slider")
        self.plot.value = figure_html(ax.figure, width=640, alt="threshold tuning")


class RecallWidget(Panel):
    """Recall@k and latency of the HNSW index against exact search at each measured ``hnsw.ef_search``, for
    unfiltered and room- / agent-filtered searches, with and without iterative scans; the ``SET`` to apply.

    Example:
        >>> w = RecallWidget(url, queries=50, background=False)          # doctest: +SKIP
        >>> w.ef.value = 100; w.current["recall_at_k"]                   # doctest: +SKIP
        0.97
    """

    title = "Recall tuner"

    def __init__(self, db: Any = None, *, queries: int = DEFAULT_QUERIES, k: int = 10, **kwargs: Any) -> None:
        self.queries = queries
        self.k = k
        self.result: Any = None
        self.current: dict[str, Any] = {}
        super().__init__(db, **kwargs)

    def extra_children(self) -> list[Any]:
        self.scope = widgets.Dropdown(options=["all"], value="all", description="search")
        self.mode = widgets.Dropdown(options=["off"], value="off", description="iterative")
        self.ef = widgets.SelectionSlider(options=[40], value=40, description="ef_search", continuous_update=False)
        self.counts = widgets.HTML()
        self.counts.add_class("okai-counts")
        self.plot = widgets.HTML()
        for w in (self.scope, self.mode, self.ef):
            w.observe(lambda _: self._show_current(), names="value")
        return [widgets.HBox([self.scope, self.mode, self.ef]), self.counts, self.plot]

    def compute(self) -> Any:
        self.step(0, 1, "exact and HNSW searches at each ef_search")
        with analysis_runner(self.db) as run:
            return tune_recall(run, queries=self.queries, k=self.k)

    def render(self, data: Any) -> None:
        self.result = data
        measured = [r for r in data.rows if r.get("ef_search")]
        if data.status != "ok" or not measured:
            self.body.value = STYLE + data._repr_html_()
            return
        self.scope.options = sorted({r["scope"] for r in measured}, key=lambda s: (s != "all", s))
        self.mode.options = sorted({r["iterative_scan"] for r in measured}, key=lambda m: (m != "off", m))
        self.ef.options = sorted({int(r["ef_search"]) for r in measured})
        self.ef.value = 40 if 40 in self.ef.options else self.ef.options[0]
        self.body.value = STYLE + data._repr_html_()
        ax = data.plot()
        self.plot.value = figure_html(ax.figure, width=640, alt="recall against ef_search")
        self._show_current()

    def _show_current(self) -> None:
        if self.result is None:
            return
        key = (self.scope.value, self.mode.value, self.ef.value)
        row = next((r for r in self.result.rows if (r["scope"], r["iterative_scan"], r["ef_search"]) == key), None)
        if row is None:
            self.counts.value = "<i>not measured for this combination (iterative scans apply to filtered searches)</i>"
            self.current = {}
            return
        self.current = dict(row)
        self.counts.value = (
            _count("recall_at_k", f"recall@{self.k}", float(row["recall_at_k"]))
            + _count("mean_ms", "mean ms", float(row["mean_ms"]))
            + _count("p95_ms", "p95 ms", float(row["p95_ms"]))
            + _count("mean_returned", "rows returned", float(row["mean_returned"]))
            + _count("uses_index", "uses the index", bool(row["uses_index"]))
        )
