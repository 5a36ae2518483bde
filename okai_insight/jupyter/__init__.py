"""Notebook widgets (ipywidgets) over the library's result objects: a tabbed :class:`Dashboard` and each panel
on its own. Long work runs in a background thread with a progress bar; no widget runs SQL of its own.

Example:
    >>> from okai_insight.jupyter import Dashboard
    >>> Dashboard()                                                  # doctest: +SKIP
"""

from okai_insight.jupyter._activity import ActivityWidget
from okai_insight.jupyter._base import Panel
from okai_insight.jupyter._dashboard import PANELS, STORE_PANELS, Dashboard
from okai_insight.jupyter._explore import ExplainWidget, ExplorerWidget
from okai_insight.jupyter._panels import HealthWidget, IndexesWidget, SpaceWidget, StatementsWidget
from okai_insight.jupyter._sortable import interactive
from okai_insight.jupyter._trends import DriftWidget, HistoryWidget
from okai_insight.jupyter._tuners import RecallWidget, ThresholdWidget

__all__ = [
    "PANELS",
    "STORE_PANELS",
    "ActivityWidget",
    "Dashboard",
    "DriftWidget",
    "ExplainWidget",
    "ExplorerWidget",
    "HealthWidget",
    "HistoryWidget",
    "IndexesWidget",
    "Panel",
    "RecallWidget",
    "SpaceWidget",
    "StatementsWidget",
    "ThresholdWidget",
    "interactive",
]
