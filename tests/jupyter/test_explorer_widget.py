"""The interactive explorer's model (okai_insight.jupyter._scatter over jupyter-scatter) on the demo data: the
selection trait drives ``selection`` and the neighbour list, search and clusters select, colours use names and
stay distinct, the progress bar moves with the projection's steps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from okai_insight.embeddings._palette import _lab, distinct_colours


@pytest.fixture(scope="module")
def explorer(demo_url: str) -> Any:
    from okai_insight.jupyter import ExplorerWidget

    w = ExplorerWidget(demo_url, sample=600, background=False)
    assert w.error is None, w.error
    return w


def test_click_selects_point_and_lists_its_neighbours(explorer: Any) -> None:
    m = explorer.map
    m.scatter.widget.selection = [5]  # what a click in the browser sends
    clicked = m.frame.iloc[5]
    assert m.neighbours is not None and len(m.neighbours) == 10
    assert m.neighbours["cosine_similarity"].between(-1, 1).all()
    assert list(m.neighbours["cosine_similarity"]) == sorted(m.neighbours["cosine_similarity"], reverse=True)
    sel = explorer.selection
    assert sel.loc[0, "id"] == clicked["id"]  # the point first, then its neighbours on the map
    assert set(sel["id"][1:]) <= {str(i) for i in m.neighbours["id"]} | set(m.neighbours["id"])
    assert len(sel) > 1
    assert "Nearest memories" in m.detail.value and "cosine" in m.detail.value


def test_lasso_selection_is_a_dataframe_that_exports(explorer: Any, tmp_path: Path) -> None:
    import pandas as pd

    m = explorer.map
    m.scatter.widget.selection = [1, 2, 3, 40]
    sel = explorer.selection
    assert list(sel["id"]) == list(m.frame["id"].iloc[[1, 2, 3, 40]])
    assert {"x", "y", "agent_name", "room_name", "text_preview"} <= set(sel.columns)
    out = m.export(tmp_path / "sel.csv")
    assert list(pd.read_csv(out)["id"]) == list(sel["id"])


def test_search_highlights_matches(explorer: Any) -> None:
    m = explorer.map
    word = next(w for w in str(m.frame["text"].iloc[0]).split() if len(w) > 4).lower()
    hits = m.search(word)
    assert hits and all(word in str(t).lower() for t in m.frame["text"].iloc[hits])
    assert list(m.scatter.widget.selection) == hits
    assert len(hits) == sum(word in str(t).lower() for t in m.frame["text"])
    m.search("")
    assert not list(m.scatter.widget.selection if m.scatter.widget.selection is not None else [])


def test_colour_by_room_uses_names(explorer: Any) -> None:
    m = explorer.map
    m.colour("room")
    assert m.scatter.color()["by"] == "room_name"
    rooms = set(m.frame["room_name"].astype(str))
    ids = {str(r)[:8] for r in m.frame["room_id"]}
    assert rooms and not rooms & ids, rooms  # the demo's rooms are named by their participants, not their UUIDs
    hover = m.scatter.widget.tooltip_properties
    assert {"agent_name", "room_name", "time"} <= set(hover) and m.scatter.widget.tooltip_preview == "text"


def test_cluster_row_selects_the_cluster(explorer: Any) -> None:
    m = explorer.map
    first = m.cluster_list.options[0][1]
    m.cluster_list.value = first
    expected = [i for i, c in enumerate(m.frame["cluster"].astype(str)) if c == first]
    assert expected and list(m.scatter.widget.selection) == expected


def test_second_model_colouring_is_offered(explorer: Any) -> None:
    assert "second model suspects" in explorer.map.colour_by.options
    assert set(explorer.map.frame["model_suspect"].astype(str)) >= {"main model"}


def test_progress_bar_follows_the_projection_steps(demo_url: str) -> None:
    from okai_insight.embeddings import explore

    seen: list[tuple[int, int, str]] = []
    explore(demo_url, limit=300, seed=7, progress=lambda d, t, label: seen.append((d, t, label)))
    assert [d for d, _, _ in seen] == [0, 1, 2, 3, 4] and seen[-1][1] == 4
    assert [label for _, _, label in seen][:3] == ["reading embeddings", "PCA", "UMAP"]


def test_palette_is_distinct_for_15_groups() -> None:
    import numpy as np

    cols = distinct_colours(15)
    assert len(set(cols)) == 15
    lab = _lab(np.array([[int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)] for h in cols]))
    d = np.linalg.norm(lab[:, None] - lab[None], axis=2)
    np.fill_diagonal(d, np.inf)
    assert d.min() > 20  # CIELAB delta E: clearly different colours (matplotlib's default cycle repeats at 11)


def test_the_sortable_cluster_table_selects_its_row_on_the_map(explorer: Any) -> None:
    m = explorer.map
    grid = m.cluster_grid
    assert grid is not None and grid in m.widget.children, "itables' table is shown under the map"
    assert list(grid.df["cluster"]) == [r["cluster"] for r in m.cluster_rows]
    assert all(float(f"{v:.3g}") == v for v in grid.df["share"]), "floats to 3 significant digits"
    grid.selected_rows = [2]  # what clicking the third row in the browser sends, whatever the sort order
    chosen = str(m.cluster_rows[2]["cluster"])
    expected = [i for i, c in enumerate(m.frame["cluster"].astype(str)) if c == chosen]
    assert expected and list(m.scatter.widget.selection) == expected
    assert f"cluster {chosen}: {len(expected)} memories" in m.info.value
