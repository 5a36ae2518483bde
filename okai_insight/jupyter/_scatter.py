"""The interactive embedding map: a jupyter-scatter (anywidget, WebGL; its JavaScript ships in the wheel, so it
works offline in JupyterLab, Notebook 7 and Voila) over a :class:`~okai_insight.embeddings.explorer.Projection`.

Hover a point: its text (truncated), agent, room and user names and time. Click a point: it and its nearest
memories (``neighbours_of``, in the original space) are selected and listed with their similarities. Lasso or
box-select (shift/alt-drag): :attr:`EmbeddingMap.selection` is their rows, :meth:`EmbeddingMap.export` writes
them to CSV. Search highlights (selects) the memories whose text holds the words. Colour by any metadata, by name
(a glasbey-like palette distinct beyond 10 groups), by HDBSCAN cluster (the cluster list is linked: choosing a
cluster selects it) or by ``embedding_quality``'s second-model suspects.

This module is presentation only: the data come from ``okai_insight.embeddings`` (explore, neighbours,
clusters, embedding_quality).

Example:
    >>> m = EmbeddingMap(explore(url, limit=2000), neighbours_of=lambda i: neighbours(url, i))  # doctest: +SKIP
    >>> m.widget                                                    # doctest: +SKIP
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from okai_insight.embeddings._palette import distinct_colours
from okai_insight.presentation import STYLE, message_html, table_html

#: Colour choices: label -> frame column.
COLOURINGS = {
    "room": "room_name",
    "agent": "agent_name",
    "user": "user_name",
    "type": "type",
    "cluster": "cluster",
    "second model suspects": "model_suspect",
    "time": "created_at",
}
TEXT_CHARS = 200


@contextmanager
def _quiet() -> Iterator[None]:
    """jupyter-scatter (its font module, on import) calls ``DataFrame.set_index(inplace=True)``, which pandas deprecates (a warning a user
    cannot act on): silence that one message around its calls."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*inplace keyword.*")
        yield


def sortable_table(rows: list[dict[str, Any]], *, caption: str | None = None, page_rows: int = 10) -> Any:
    """Rows as an interactive table widget (itables' ``ITable``: sort by any column, search, page, select rows;
    its JavaScript ships in the wheel, so it works offline in JupyterLab, Notebook 7 and Voila); ``None`` when
    itables is not installed (callers then show :func:`~okai_insight.presentation.table_html`). Cells read as in
    every okai-insight table (:func:`~okai_insight.presentation.format_cell`: floats to 3 significant digits,
    ``*_bytes`` as kB/MB/GB, ``*_ms`` as ms/s/min) while sorting stays numeric: see :func:`_display_and_sort`.

    Example:
        >>> t = sortable_table([{"cluster": 1, "share": 0.123456}])
        >>> t is None or t.selected_rows == []
        True
    """
    try:
        with _quiet():
            from itables.widget import ITable
    except ImportError:
        return None
    import pandas as pd

    from okai_insight.presentation import format_cell

    frame = pd.DataFrame(rows)
    for col in frame.columns:
        if frame[col].dtype.kind == "M":
            # Times as the static tables show them (ISO text, which sorts in time order): itables reads a
            # timezone-aware column through Series.values, which pandas deprecates (a warning, an error in tests).
            frame[col] = [format_cell(str(col), None if pd.isna(t) else t) for t in (r.get(col) for r in rows)]
        elif frame[col].dtype.kind == "f":
            frame[col] = frame[col].map(lambda v: float(f"{v:.3g}") if v == v else v)
        elif frame[col].dtype.kind == "O":  # a missing value is an empty cell, as in the static tables, not "None"
            frame[col] = frame[col].map(lambda v: "" if v is None else v)
    frame, column_defs = _display_and_sort(frame)
    with _quiet():
        table = ITable(frame, caption=caption, select=True, pageLength=page_rows, classes="display compact nowrap",
                       showIndex=False, allow_html=False, columnDefs=column_defs)  # fmt: skip
    table.add_class("okai-sortable")
    return table


def _display_and_sort(frame: Any) -> tuple[Any, list[dict[str, Any]]]:
    """Byte and duration columns (``*_bytes``, ``*_ms``) shown as people read them and sorted by their numbers.

    Python formats each cell (the one formatting layer, :func:`~okai_insight.presentation.format_cell`); the raw
    number goes to a hidden, unsearchable column at the end, and the shown column's DataTables ``render`` takes it
    for sorting and type detection (``'sort'``/``'type'``), so "2 kB" sorts below "1.5 MB". The JavaScript only
    picks one of the two values: no formatting is written twice.

    Example:
        >>> import pandas as pd
        >>> f, defs = _display_and_sort(pd.DataFrame({"t": ["a"], "size_bytes": [1_572_864]}))
        >>> [str(v) for v in f.iloc[0]], [d["targets"] for d in defs]
        (['a', '1.5 MB', '1572864'], [[2], [1]])
    """
    from itables.typing import JavascriptFunction

    from okai_insight.presentation import format_cell

    frame = frame.copy()
    column_defs: list[dict[str, Any]] = []
    for col in list(frame.columns):
        name = str(col)
        if not name.endswith(("_bytes", "_ms")) or frame[col].dtype.kind not in "iuf":
            continue
        hidden = len(frame.columns)
        frame[f"{name} (sort key)"] = frame[col]
        frame[col] = [format_cell(name, None if v != v else v) for v in frame[col].tolist()]
        shown = list(frame.columns).index(col)
        column_defs.append({"targets": [hidden], "visible": False, "searchable": False})
        column_defs.append(
            {
                "targets": [shown],
                "render": JavascriptFunction(
                    f"function (data, type, row) {{ return type === 'sort' || type === 'type' ? row[{hidden}] : data; }}"
                ),
            }
        )
    return frame, column_defs


def _minutes(times: Any) -> Any:
    """UTC timestamps as ``YYYY-MM-DD HH:MM`` text ("" for a missing one), through numpy's datetime formatting.

    Example:
        >>> import pandas as pd
        >>> list(_minutes(pd.Series(pd.to_datetime(["2025-04-11 21:47:59", None], utc=True))))
        ['2025-04-11 21:47', '']
    """
    import numpy as np
    import pandas as pd

    naive = times.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy().astype("datetime64[m]")
    text = np.char.replace(np.datetime_as_string(naive, unit="m").astype(str), "T", " ")
    return pd.Series(np.where(np.isnat(naive), "", text), index=times.index, dtype=object)


def _categorical(values: Any) -> Any:
    """Text categories, "none" for a missing value, whatever the column's dtype (a column with no value at all
    arrives as float NaN, which pandas will not fill with text).

    Example:
        >>> import pandas as pd
        >>> list(_categorical(pd.Series([float("nan"), float("nan")])))
        ['none', 'none']
    """
    return values.astype(object).where(values.notna(), "none").astype(str).astype("category")


class EmbeddingMap:
    """The map, its controls and its linked tables, over a projection's frame (see the module docstring).

    ``neighbours_of(memory_id)`` returns the neighbours (a result with ``to_pandas()``: id, cosine_similarity,
    text_preview ...); ``suspects`` maps memory ids to a reason (``"norm"``, ``"direction"`` ...).

    Example:
        >>> m = EmbeddingMap(projection, neighbours_of=None)           # doctest: +SKIP
        >>> m.scatter.widget.selection = [0]; m.selection              # doctest: +SKIP
    """

    def __init__(
        self,
        projection: Any,
        *,
        neighbours_of: Callable[[str], Any] | None = None,
        suspects: dict[str, str] | None = None,
        colour: str = "room",
        height: int = 480,
    ) -> None:
        with _quiet():
            import jscatter

        self.projection = projection
        self.neighbours_of = neighbours_of
        self.frame = self._frame(projection, suspects or {})
        self.cluster_rows, cluster_error = self._clusters()
        for col in COLOURINGS.values():  # categories fixed once: jupyter-scatter maps them to colours
            if col in self.frame.columns and col != "created_at":
                self.frame[col] = _categorical(self.frame[col])
        self.neighbours: Any = None  # the last click's neighbours (a DataFrame)
        self.clicked: int | None = None
        self._programmatic = False
        with _quiet():
            self.scatter = jscatter.Scatter(data=self.frame, x="x", y="y", height=height)
        self.scatter.tooltip(
            True,
            properties=["color", "agent_name", "room_name", "user_name", "type", "time"],
            preview="text",
            preview_type="text",
            preview_text_lines=4,
        )
        self.scatter.legend(True)
        self.scatter.widget.observe(self._on_selection, names="selection")
        options = [k for k, c in COLOURINGS.items() if c in self.frame.columns]
        self.colour_by = widgets.Dropdown(
            options=options, value=colour if colour in options else options[0], description="colour by"
        )
        self.colour_by.observe(lambda ch: self.colour(ch["new"]), names="value")
        self.search_box = widgets.Text(
            placeholder="search the memories' text", description="search", continuous_update=False
        )
        self.search_box.observe(lambda ch: self.search(ch["new"]), names="value")
        self.export_button = widgets.Button(description="Export selection (CSV)")
        self.export_button.on_click(lambda _: self.export("selection.csv"))
        self.info = widgets.HTML()
        self.detail = widgets.HTML(STYLE + message_html("click a point to see its memory and its nearest neighbours"))
        self.cluster_list = widgets.Select(options=[], description="clusters", rows=8, layout={"width": "100%"})
        self.cluster_list.observe(lambda ch: self.select_cluster(ch["new"]), names="value")
        self.cluster_table = widgets.HTML()
        self.cluster_grid: Any = None  # the sortable, searchable cluster table (itables), when itables is installed
        self._fill_clusters(cluster_error)
        self.colour(self.colour_by.value)
        self.widget = widgets.VBox(
            [
                widgets.HBox([self.colour_by, self.search_box, self.export_button]),
                self.info,
                self.scatter.show(),
                self.detail,
                self.cluster_list,
                self.cluster_table,
                *([self.cluster_grid] if self.cluster_grid is not None else []),
            ]
        )
        self.widget.add_class("okai-explorer")

    # -- data --------------------------------------------------------------------------------------------------
    @staticmethod
    def _frame(projection: Any, suspects: dict[str, str]) -> Any:
        import pandas as pd

        f = projection.frame.copy().reset_index(drop=True)
        for col in ("agent", "room", "user"):
            if f"{col}_name" not in f.columns and f"{col}_id" in f.columns:
                f[f"{col}_name"] = f[f"{col}_id"].astype(str).str[:8]
        text = f["text_preview"] if "text_preview" in f.columns else pd.Series([""] * len(f))
        # vectorised: a Python loop over the rows and strftime cost ~3.3 s of a 5.5 s build at 100k points
        f["text"] = text.astype("string").fillna("").str.slice(0, TEXT_CHARS).astype(object)
        times = pd.to_datetime(f["created_at"], utc=True) if "created_at" in f.columns else None
        f["time"] = _minutes(times) if times is not None else ""
        if times is not None:
            f["created_at"] = times.astype("int64") // 10**9  # seconds: a colour scale
        if suspects:
            f["model_suspect"] = [
                f"suspect: {suspects[str(i)]}" if str(i) in suspects else "main model" for i in f["id"]
            ]
        return f

    @property
    def selection(self) -> Any:
        """The selected rows (click + neighbours, lasso, search or cluster) as a DataFrame (metadata, no vectors)."""
        idx = self.scatter.widget.selection
        idx = [] if idx is None else [int(i) for i in idx]
        return self.frame.iloc[idx].drop(columns=["text"]).reset_index(drop=True)

    def export(self, path: str | Path) -> Path:
        """Write :attr:`selection` to a CSV file; returns its path."""
        out = Path(path)
        self.selection.to_csv(out, index=False)
        self.info.value = STYLE + message_html(f"{len(self.selection)} rows written to {html.escape(str(out))}")
        return out

    # -- interactions ------------------------------------------------------------------------------------------
    def _select(self, indices: list[int]) -> None:
        self._programmatic = True
        try:
            with _quiet():
                self.scatter.selection(indices)
        finally:
            self._programmatic = False

    def colour(self, choice: str) -> None:
        """Colour the points by one of :data:`COLOURINGS` (categorical: one distinct colour a group)."""
        col = COLOURINGS.get(choice, choice)
        if col not in self.frame.columns:
            return
        if col == "created_at":
            with _quiet():
                self.scatter.color(by=col, map="viridis")
            return
        cats = list(self.frame[col].cat.categories)
        colours = distinct_colours(len(cats))
        mapping = {c: ("#bbbbbb" if c in ("-1", "main model") else colours[i]) for i, c in enumerate(cats)}
        with _quiet():
            self.scatter.color(by=col, map=mapping)

    def search(self, text: str) -> list[int]:
        """Select (highlight) the memories whose text contains every word of ``text`` (case-insensitive)."""
        words = [w for w in str(text or "").lower().split() if w]
        if not words:
            self._select([])
            self.info.value = ""
            return []
        lower = self.frame["text"].str.lower()
        hits = [i for i, t in enumerate(lower) if all(w in t for w in words)]
        self._select(hits)
        self.info.value = STYLE + message_html(f"{len(hits)} memories match {html.escape(text)!s}")
        return hits

    def select_cluster(self, cluster: Any) -> list[int]:
        """Select the points of one HDBSCAN cluster (as clicking its row in the cluster list does)."""
        if cluster is None or "cluster" not in self.frame.columns:
            return []
        hits = [i for i, c in enumerate(self.frame["cluster"].astype(str)) if c == str(cluster)]
        self._select(hits)
        self.info.value = STYLE + message_html(f"cluster {html.escape(str(cluster))}: {len(hits)} memories")
        return hits

    def _clusters(self) -> tuple[list[dict[str, Any]], str | None]:
        try:
            result = self.projection.clusters()
        except Exception as exc:  # too few points for HDBSCAN: the map shows without clusters
            return [], str(exc)
        self.frame["cluster"] = [str(c) for c in self.projection.frame["cluster"]]
        return list(result.rows), None

    def _fill_clusters(self, error: str | None) -> None:
        if error is not None:
            self.cluster_table.value = message_html(f"no clusters: {error}", kind="unavailable")
            return
        self.cluster_list.options = [
            (f"{r['cluster']:>3}  {r['size']:>5} memories  {r['top_words']}", str(r["cluster"]))
            for r in self.cluster_rows
        ]
        self.cluster_list.value = None
        self.cluster_grid = sortable_table(self.cluster_rows, caption="Clusters: sort, search, select a row to see it")
        if self.cluster_grid is None:
            self.cluster_table.value = STYLE + table_html(self.cluster_rows)
            return
        self.cluster_grid.observe(self._on_cluster_row, names="selected_rows")

    def _on_cluster_row(self, change: dict[str, Any]) -> None:
        rows = change["new"] or []
        if rows:  # positions in the rows given (DataTables keeps them through sorting and searching)
            self.select_cluster(self.cluster_rows[int(rows[-1])]["cluster"])

    def _on_selection(self, change: dict[str, Any]) -> None:
        if self._programmatic:
            return
        idx = change["new"]
        idx = [] if idx is None else [int(i) for i in idx]
        if len(idx) == 1:
            self.click(idx[0])
        else:
            self.info.value = STYLE + message_html(f"{len(idx)} memories selected (explorer.selection)")

    def click(self, index: int) -> Any:
        """Show a point's memory and list its nearest neighbours; select it and them on the map."""
        self.clicked = index
        row = self.frame.iloc[index]
        parts = [
            f"<p><b>{html.escape(str(row.get('agent_name', '')))}</b> in "
            f"<b>{html.escape(str(row.get('room_name', '')))}</b> at {html.escape(str(row.get('time', '')))}</p>"
            f"<blockquote>{html.escape(str(row.get('text', '')))}</blockquote>"
        ]
        self.neighbours = None
        if self.neighbours_of is not None:
            try:
                self.neighbours = self.neighbours_of(str(row["id"])).to_pandas()
            except Exception as exc:
                from okai_insight.jupyter._base import short_error

                parts.append(message_html(short_error(exc), kind="unavailable"))
        if self.neighbours is not None:
            positions = {str(v): i for i, v in enumerate(self.frame["id"])}
            shown = [
                positions[str(i)] for i in self.neighbours["id"] if str(i) in positions and str(i) != str(row["id"])
            ]
            self._select([index, *shown])
            cols = [
                c
                for c in ("rank", "cosine_similarity", "type", "created_at", "text_preview")
                if c in self.neighbours.columns
            ]
            parts.append("<h4>Nearest memories</h4>" + table_html(self.neighbours[cols].to_dict("records")))
        self.detail.value = STYLE + "".join(parts)
        self.info.value = STYLE + message_html("selected a memory and its nearest neighbours (explorer.selection)")
        return self.neighbours
