"""``Dashboard(db)``: every panel in tabs. The first tab loads at once; the others load when first opened.

Example:
    >>> from okai_insight.jupyter import Dashboard
    >>> Dashboard(url)                                               # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from okai_insight.jupyter._activity import ActivityWidget
from okai_insight.jupyter._base import Panel
from okai_insight.jupyter._explore import ExplainWidget, ExplorerWidget
from okai_insight.jupyter._panels import HealthWidget, IndexesWidget, SpaceWidget, StatementsWidget
from okai_insight.jupyter._trends import DriftWidget, HistoryWidget
from okai_insight.jupyter._tuners import RecallWidget, ThresholdWidget

#: The tabs, in order.
PANELS: tuple[type[Panel], ...] = (
    HealthWidget,
    ActivityWidget,
    StatementsWidget,
    IndexesWidget,
    SpaceWidget,
    ExplainWidget,
    ExplorerWidget,
    ThresholdWidget,
    RecallWidget,
    DriftWidget,
)
#: Tabs after :data:`PANELS` that keep state outside the database: History reads (and on request writes) the local
#: snapshot store, so it is not among the read-only panels every diagnostics test constructs.
STORE_PANELS: tuple[type[Panel], ...] = (HistoryWidget,)


class Dashboard(widgets.Tab):  # type: ignore[misc]
    """Tabs: Health, Activity, Statements, Indexes, Space & maintenance, Explain, Embeddings, Threshold tuner,
    Recall tuner, Drift, History. ``panel_options`` passes keyword arguments to one panel class (e.g. smaller samples).

    Example:
        >>> d = Dashboard(url, panel_options={ThresholdWidget: {"queries": 30}})   # doctest: +SKIP
        >>> d.selected_index = 7; d.panel(ThresholdWidget).wait()        # doctest: +SKIP
    """

    def __init__(
        self,
        db: Any = None,
        *,
        background: bool = True,
        panel_options: dict[type[Panel], dict[str, Any]] | None = None,
    ) -> None:
        options = panel_options or {}
        self.panels: list[Panel] = []
        for i, cls in enumerate(PANELS + STORE_PANELS):
            kwargs: dict[str, Any] = {"background": background, "autoload": i == 0}
            kwargs.update(options.get(cls, {}))
            self.panels.append(cls(db, **kwargs))
        super().__init__(children=self.panels)
        self.titles = tuple(p.title for p in self.panels)
        self.add_class("okai-dashboard")
        self.observe(self._opened, names="selected_index")

    def panel(self, cls: type[Panel]) -> Any:
        """The dashboard's panel of one class.

        Example:
            >>> Dashboard(url).panel(HealthWidget).title                 # doctest: +SKIP
            'Health'
        """
        return next(p for p in self.panels if isinstance(p, cls))

    def _opened(self, change: dict[str, Any]) -> None:
        index = change.get("new")
        if index is None:
            return
        panel = self.panels[index]
        if panel.loads == 0 and not panel.busy and not isinstance(panel, ExplainWidget):
            panel.refresh()
