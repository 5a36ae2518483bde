"""Sortable, searchable tables in notebooks (issue 16 item 2): a diagnostic's result shown with its findings first
and every row in an itables table, on the demo database."""

from __future__ import annotations

import datetime as dt
import html

import ipywidgets as widgets
import pandas as pd
from itables.widget import ITable

from okai_insight.diagnostics import indexes
from okai_insight.jupyter import interactive
from okai_insight.jupyter._scatter import sortable_table
from okai_insight.presentation import format_cell
from okai_insight.results import Finding, Result


def test_a_diagnostic_result_becomes_findings_then_a_sortable_table_of_every_row(demo_url: str) -> None:
    result = indexes.index_usage(demo_url)
    assert result.status == "ok" and len(result.rows) > 0
    shown = interactive(result)
    assert isinstance(shown, widgets.VBox)
    header, table = shown.children
    assert isinstance(table, ITable)
    assert result.title in header.value
    assert "<table" not in header.value  # the rows are in the sortable table, not repeated as static HTML
    assert len(table.df) == len(result.rows)  # every row, not the first page or the static view's first 20
    keys = [c for c in table.df.columns if c.endswith(" (sort key)")]
    shown_columns = [c for c in table.df.columns if c not in keys]
    assert shown_columns == [c for c in result.columns if c in table.df.columns]
    numeric = [c for c in shown_columns if pd.api.types.is_numeric_dtype(table.df[c])]
    assert numeric, "numbers stay numbers, so sorting is numeric"
    # sizes read as people read them (the one formatting layer), and sort by their hidden byte counts
    assert keys == ["size_bytes (sort key)"]
    sizes = table.df["size_bytes"].tolist()
    assert sizes == [format_cell("size_bytes", r["size_bytes"]) for r in result.rows] and "kB" in "".join(sizes)
    assert table.df["size_bytes (sort key)"].tolist() == [r["size_bytes"] for r in result.rows]
    hidden = list(table.df.columns).index("size_bytes (sort key)")
    defs = table._dt_args["columnDefs"]
    assert {"targets": [hidden], "visible": False, "searchable": False} in defs
    assert any(f"row[{hidden}]" in str(d.get("render", "")) for d in defs)


def test_findings_come_first_and_rows_with_floats_are_rounded() -> None:
    result = Result(
        "space",
        "table_sizes",
        "Table sizes",
        rows=[{"table": f"t{i}", "bloat_ratio": 1 / (i + 3)} for i in range(40)],
        findings=[Finding("warning", "t0 is bloated")],
    )
    header, table = interactive(result, page_rows=5).children
    assert header.value.index("Table sizes") < header.value.index("t0 is bloated")
    assert len(table.df) == 40 and table.df["bloat_ratio"].iloc[0] == 0.333


def test_a_dataframe_and_an_empty_result() -> None:
    frame = pd.DataFrame({"check": ["a", "b"], "severity": ["info", "warning"]})
    shown = interactive(frame)
    assert isinstance(shown, widgets.VBox) and len(shown.children[0].df) == 2
    empty = interactive(Result("space", "x", "Nothing here", note="no tables yet"))
    assert isinstance(empty, widgets.HTML) and "no tables yet" in empty.value


def test_without_a_widget_manager_the_display_data_holds_the_static_view(demo_url: str) -> None:
    result = indexes.index_usage(demo_url)
    bundle = interactive(result)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # JupyterLab, Notebook 7, Voila: the widgets
    assert result.title in bundle["text/html"] and "<table" in bundle["text/html"]  # an HTML export: the table


def test_a_panel_shows_each_results_rows_as_a_sortable_table_after_its_findings(demo_url: str) -> None:
    from okai_insight.jupyter import HealthWidget, IndexesWidget

    w = IndexesWidget(demo_url, background=False)
    assert w.error is None
    shown = [r for r in w.data if r.rows]
    tables = [c for c in w.tables.children if isinstance(c, ITable)]
    assert len(tables) == len(shown) > 0, "one sortable table per result with rows"
    for result, table in zip(shown, tables, strict=True):
        assert len(table.df) == len(result.rows), "every row, paged in the browser, not the static view's first 25"
        assert f"okai-rows-{result.name}" in table._dom_classes
    texts = [c.value for c in w.tables.children if isinstance(c, widgets.HTML)]
    assert all("<table" not in t for t in texts), "rows are not repeated as static HTML"
    assert w.tables.layout.display is None and w.body.layout.display == "none"
    assert "idx_memories_embedding" in w.body.value, "the static view is still there for scripts and exports"

    h = HealthWidget(demo_url, background=False)
    head = h.tables.children[0]
    assert isinstance(head, widgets.HTML)
    findings = h.report.findings
    assert findings and findings[0].message.split()[0] in head.value, "the findings come first"


def test_a_failing_panel_shows_its_error_not_the_previous_tables(demo_url: str) -> None:
    from okai_insight.jupyter import IndexesWidget

    w = IndexesWidget(demo_url, background=False)
    assert len(w.tables.children) > 0
    w.db = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    w.refresh()
    assert w.error is not None
    assert w.tables.children == () and w.tables.layout.display == "none" and w.body.layout.display is None
    assert html.escape(w.error) in w.body.value, "the error is shown in the body"


def test_times_with_a_timezone_become_the_static_tables_text_without_a_warning() -> None:
    # pytest turns warnings into errors: itables reading a tz-aware column through the deprecated Series.values
    # failed the Health panel (seen in CI); the cells are the static tables' text, a missing time an empty cell.
    at = dt.datetime(2026, 12, 5, 6, 0, tzinfo=dt.UTC)
    table = sortable_table([{"checked_at": at, "size_bytes": 2048}, {"checked_at": None, "size_bytes": 5}])
    assert table.df["checked_at"].tolist() == [format_cell("checked_at", at), ""]
    assert table.df["size_bytes"].tolist() == ["2 kB", "5 B"]
