"""The Drift and History panels on the demo database: what they show is the library's drift and history results
(names instead of ids, the plots, the deltas since the last snapshot), and the snapshot goes to the local store
given, never into the database."""

from __future__ import annotations

from pathlib import Path

import psycopg

from okai_insight.embeddings import drift
from okai_insight.history import history


def test_drift_widget_shows_the_library_result_by_name(demo_url: str) -> None:
    from okai_insight.jupyter import DriftWidget

    w = DriftWidget(demo_url, background=False, window="week")
    assert w.error is None, w.error
    expected = drift(demo_url, window="week")
    assert [(r["group"], r["window_start"]) for r in w.result.rows] == [
        (r["group"], r["window_start"]) for r in expected.rows
    ]
    assert "img class='okai-plot'" in w.body.value and "alt='embedding drift'" in w.body.value
    assert "Eliza" in w.body.value, "agents are shown by name"
    first = str(expected.rows[0]["group"])
    assert f"<td>{first[:8]}</td>" not in w.body.value, "not as UUID prefixes"
    w.window.value = "day"  # a control change computes again
    assert w.loads == 2 and len(w.result.rows) == len(drift(demo_url, window="day").rows) > len(expected.rows)


def test_history_widget_snapshots_into_the_local_store(demo_url: str, tmp_path: Path) -> None:
    from okai_insight.jupyter import HistoryWidget

    def tables() -> set[str]:
        with psycopg.connect(demo_url) as conn:
            return {r[0] for r in conn.execute("SELECT schemaname || '.' || tablename FROM pg_tables")}

    before = tables()
    w = HistoryWidget(demo_url, store_dir=tmp_path, background=False)
    assert w.error is None and "no snapshots yet" in w.body.value
    w.take_snapshot()
    assert w.error is None, w.error
    assert "snapshot 1 taken" in w.body.value and "take a second snapshot" in w.body.value
    with psycopg.connect(demo_url, autocommit=True) as conn:  # the application grows between snapshots
        conn.execute(
            "CREATE TABLE app_growth AS SELECT g AS n, repeat('x', 200) AS pad FROM generate_series(1, 5000) g"
        )
    w.snapshot_button.click()
    assert w.error is None, w.error
    body = w.body.value
    assert "Since the last snapshot" in body and "Space over time" in body and body.count("okai-plot") >= 1
    assert "public.app_growth" in body, "the new table is among the deltas"
    assert w.history.since_last() == history(demo_url, store_dir=tmp_path).since_last()
    assert len(list(tmp_path.glob("*.sqlite3"))) == 1
    assert tables() == before | {"public.app_growth"}, "nothing of the history went into the database"
