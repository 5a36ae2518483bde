"""Tables and numbers for people (issue 16 item 2): one formatting layer for every HTML and text table.

Before: ``result_html`` printed ``0.9876543210987654`` and ``1572864`` raw, cut long tables with "… N more rows"
and nothing to open, and carried no class keeping MathJax off ``$1 ... $2``; ``table_sizes.live_rows`` read 0 for a
table loaded after its index was built; the recall plot drew every line with the same marker and style.
"""

from __future__ import annotations

import psycopg

from okai_insight.diagnostics import space
from okai_insight.embeddings.recall import RecallResult
from okai_insight.presentation import table_html
from okai_insight.results import Finding, Result, result_html

SQL = "SELECT * FROM memories WHERE embedding <=> $1 < $2 AND room_id = $3 ORDER BY created_at DESC LIMIT 10"


def _result(n: int = 3) -> Result:
    rows = [
        {"query": SQL, "calls": 7, "mean_ms": 1234.5678, "size_bytes": 1_572_864, "ratio": 0.9876543210987654}
        for _ in range(n)
    ]
    return Result("statements", "query_stats", "Top", rows=rows, findings=[Finding("warning", f"slow: {SQL}")])


def test_html_rounds_floats_names_units_and_keeps_mathjax_off() -> None:
    view = _result()._repr_html_()
    assert "0.9876543210987654" not in view and "<td>0.988</td>" in view
    assert "<td>1.5 MB</td>" in view and "1572864" not in view
    assert "<td>1.23 s</td>" in view
    assert "<td class='okai-sql'>" in view  # a wide, wrapped column for the SQL text
    assert view.startswith("<div class='okai-result tex2jax_ignore mathjax_ignore'>")
    assert "okai-findings tex2jax_ignore mathjax_ignore" in view


def test_long_tables_show_the_first_rows_and_fold_the_rest() -> None:
    view = result_html(_result(40), max_rows=25)
    shown, rest = view.split("<details", 1)
    assert shown.count("<tr>") == 1 + 25
    assert "show all 40 rows" in rest and rest.count("<tr>") == 1 + 40


def test_text_tables_use_the_same_formatting() -> None:
    text = _result(1).to_text()
    assert "1.5 MB" in text and "1.23 s" in text and "0.988" in text and "0.98765" not in text


def test_table_html_for_summaries() -> None:
    view = table_html([{"recall_at_k": 0.95123456, "duration_ms": 45_000.0, "table_bytes": 3 * 1024**3}])
    assert "<td>0.951</td>" in view and "<td>45 s</td>" in view and "<td>3 GB</td>" in view


def test_live_rows_counts_a_table_loaded_after_its_index(make_database) -> None:
    url = make_database("live_rows_fmt")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE loaded (id int PRIMARY KEY)")  # CREATE INDEX sets reltuples to 0
        conn.execute("INSERT INTO loaded SELECT generate_series(1, 1979)")
        conn.execute("SELECT pg_stat_force_next_flush()")  # what an idle backend does within a second
        conn.execute("SELECT 1")
    row = next(r for r in space.table_sizes(url).rows if r["table"] == "loaded")
    assert row["live_rows"] == 1979


def test_recall_plot_keeps_every_line_visible() -> None:
    rows = [
        {"scope": s, "iterative_scan": m, "ef_search": ef, "recall_at_k": 1.0}
        for s, m in [("all", "off"), ("all", "relaxed_order"), ("all", "strict_order"), ("room", "off"), ("room", "x")]
        for ef in (10, 40, 100)
    ]
    ax = RecallResult("embeddings", "tune_recall", "r", rows=rows, summary={"k": 10}).plot()
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith(("all", "room"))]
    styles = {(ln.get_marker(), str(ln.get_linestyle()), ln.get_markersize()) for ln in lines}
    assert len(lines) == 5 and len(styles) == 5
    assert "log scale" in ax.get_xlabel() and "fraction" in ax.get_ylabel()
    import matplotlib.pyplot as plt

    plt.close(ax.figure)
