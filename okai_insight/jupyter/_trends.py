"""Panels over time: embedding drift (``okai_insight.embeddings.drift``) and the snapshot history
(``okai_insight.history``: space growth, top statements over time, what changed since the last snapshot).

Both show the library's results with their plots; the only write is the History panel's "Take snapshot", which
records into the local snapshot store (never the user's database).

Example:
    >>> from okai_insight.jupyter import DriftWidget, HistoryWidget
    >>> DriftWidget(url)                                             # doctest: +SKIP
    >>> HistoryWidget(url, store_dir="/tmp/okai-history")            # doctest: +SKIP
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from okai_insight.diagnostics._result import findings_html
from okai_insight.jupyter._base import Panel
from okai_insight.presentation import STYLE, analysis_runner, figure_html, message_html, table_html

#: drift's windows and groups, as its ``window=`` and ``by=`` take them.
WINDOWS = ("hour", "day", "week", "month", "quarter", "year")
GROUPS = ("agent", "room", "user", "type", "world")


def _named(rows: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Rows with their ``group`` id shown by name (the id stays in ``group_id``)."""
    from okai_insight.embeddings._names import label_of

    return [{"group": label_of(names, r["group"]), **{k: v for k, v in r.items() if k != "group"},
             "group_id": r["group"]} for r in rows]  # fmt: skip


class DriftWidget(Panel):
    """How far each time window's embedding centroid moved from its group's baseline (cosine distance), per agent,
    room, user, type or world, with the plot and the windows that crossed the alert distance.

    Example:
        >>> w = DriftWidget(url, background=False)                       # doctest: +SKIP
        >>> w.by.value = "room"; w.wait(); w.result.rows[:1]             # doctest: +SKIP
    """

    title = "Drift"

    def __init__(self, db: Any = None, *, by: str = "agent", window: str = "week", **kwargs: Any) -> None:
        self._initial = (by, window)
        self.result: Any = None
        super().__init__(db, **kwargs)

    def controls(self) -> list[Any]:
        by, window = self._initial
        self.by = widgets.Dropdown(options=GROUPS, value=by, description="by", layout={"width": "170px"})
        self.window = widgets.Dropdown(options=WINDOWS, value=window, description="window", layout={"width": "190px"})
        for w in (self.by, self.window):
            w.observe(lambda _: self.refresh(), names="value")
        return [self.by, self.window]

    def compute(self) -> Any:
        from okai_insight.embeddings import drift
        from okai_insight.embeddings._names import display_names

        self.step(0, 2, "centroids per window")
        with analysis_runner(self.db) as run:
            result = drift(run, by=self.by.value, window=self.window.value)
            self.step(1, 2, "names")
            try:
                names = display_names(run)
            except Exception:  # names are a nicety: ids are shown without them
                names = {}
        return result, names

    def render(self, data: Any) -> None:
        result, names = data
        self.result = result
        rows = _named(list(result.rows), names)
        if not rows:
            self.body.value = STYLE + findings_html(result.findings) + message_html("no windows with embeddings")
            return
        ax = result.plot()
        labels = list(dict.fromkeys(r["group"] for r in rows))  # the plot draws one line a group, in this order
        for line, label in zip(ax.get_lines(), labels, strict=False):
            line.set_label(label)
        ax.legend(title=self.by.value, fontsize="small")
        cols: list[str] = [c for c in ("group", "window_start", "rows", "distance_from_baseline", "distance_from_previous")
                if c in rows[0]]  # fmt: skip
        self.body.value = (
            STYLE
            + findings_html(result.findings)
            + figure_html(ax.figure, alt="embedding drift")
            + table_html(rows, cols, max_rows=15)
        )


class HistoryWidget(Panel):
    """The snapshot history: space over time, the heaviest statements over time, what changed since the last
    snapshot; "Take snapshot" records one (into the local store, or ``into_schema``) and shows the new deltas.

    Example:
        >>> w = HistoryWidget(url, store_dir=tmp, background=False)      # doctest: +SKIP
        >>> w.take_snapshot(); w.wait(); w.history.since_last()[:1]      # doctest: +SKIP
    """

    title = "History"

    def __init__(
        self, db: Any = None, *, store_dir: str | Path | None = None, into_schema: str | None = None, **kwargs: Any
    ) -> None:
        self.store_dir = store_dir
        self.into_schema = into_schema
        self.history: Any = None
        self._snapshot_next = False
        super().__init__(db, **kwargs)

    def controls(self) -> list[Any]:
        self.snapshot_button = widgets.Button(description="Take snapshot", icon="camera",
                                              tooltip="record statement counters and sizes now")  # fmt: skip
        self.snapshot_button.on_click(lambda _: self.take_snapshot())
        return [self.snapshot_button]

    def take_snapshot(self) -> None:
        """Record a snapshot, then show the history again (in the background thread when ``background``).

        Example:
            >>> w.take_snapshot(); w.wait()                              # doctest: +SKIP
        """
        self._snapshot_next = True
        self.refresh()

    def compute(self) -> Any:
        from okai_insight.history import history, snapshot

        taken = None
        if self._snapshot_next:
            self._snapshot_next = False
            self.step(0, 2, "taking a snapshot")
            taken = snapshot(self.db, store_dir=self.store_dir, into_schema=self.into_schema)
        self.step(1, 2, "reading the history")
        return taken, history(self.db, store_dir=self.store_dir, into_schema=self.into_schema)

    def render(self, data: Any) -> None:
        taken, hist = data
        self.history = hist
        parts = [STYLE]
        if taken is not None:
            parts.append(message_html(f"snapshot {taken.id} taken at {taken.taken_at}: {taken.statements} statements,"
                                      f" {taken.relations} relations"))  # fmt: skip
        n = len(hist.snapshots)
        if n == 0:
            parts.append(message_html("no snapshots yet: press Take snapshot (or run okai-insight snapshot)"))
            self.body.value = "".join(parts)
            return
        parts.append(f"<p><b>{html.escape(str(hist.database))}</b>: {n} snapshot{'s' * (n != 1)}</p>")
        parts.append("<h4>Space over time</h4>" + figure_html(hist.plot().figure, alt="space over time"))
        parts.append(table_html(hist.space(), max_rows=10))
        if n >= 2:
            parts.append("<h4>Since the last snapshot</h4>" + table_html(hist.since_last(), max_rows=15))
            grown = hist.growth_by_table()
            if grown:
                parts.append("<h4>Tables that grew most</h4>" + table_html(grown, max_rows=10))
        else:
            parts.append(message_html("take a second snapshot to see what changed in between"))
        top = hist.top_statements(5)
        if top:
            parts.append("<h4>Top statements over time</h4>"
                         + figure_html(hist.plot_statements(n=5).figure, alt="top statements over time"))  # fmt: skip
            last = [r for r in top if r["snapshot"] == hist.snapshots[-1]["id"]]
            cols = [c for c in ("query", "calls", "total_ms", "mean_ms") if last and c in last[0]]
            parts.append(table_html(last, cols or None, max_rows=5))
        self.body.value = "".join(parts)
