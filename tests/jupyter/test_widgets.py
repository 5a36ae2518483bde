"""Widgets driven through their traitlets, on a real database: what they display follows the library's results."""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest

from okai_insight.diagnostics import doctor
from okai_insight.jupyter import (
    PANELS,
    STORE_PANELS,
    ActivityWidget,
    Dashboard,
    ExplainWidget,
    HealthWidget,
    RecallWidget,
    ThresholdWidget,
)


def _count(widget, name: str) -> str:
    m = re.search(rf"data-name='{name}'.*?<b[^>]*>([^<]+)</b>", widget.counts.value, re.S)
    assert m is not None, f"{name} not displayed"
    return m.group(1)


def test_dashboard_has_every_tab_and_loads_tabs_when_opened(demo_url: str) -> None:
    d = Dashboard(demo_url, background=False)
    assert d.titles == ("Health", "Activity", "Statements", "Indexes", "Space & maintenance", "Explain",
                        "Embeddings", "Threshold tuner", "Recall tuner", "Drift", "History")  # fmt: skip
    assert len(d.children) == len(PANELS) + len(STORE_PANELS)
    h = d.panel(HealthWidget)
    assert h.loads == 1 and h.report.counts() == doctor(demo_url).counts()
    for severity, n in h.report.counts().items():
        assert f"{severity}: {n}" in h.body.value
    indexes = d.children[3]
    assert indexes.loads == 0, "tabs load when first opened"
    d.selected_index = 3
    assert indexes.loads == 1 and "idx_memories_embedding" in indexes.body.value
    d.selected_index = 4
    assert "Table sizes" in d.children[4].body.value


def test_health_widget_works_in_the_background_with_progress(demo_url: str) -> None:
    w = HealthWidget(demo_url, autoload=False)
    assert w.loads == 0 and "not loaded yet" in w.body.value
    w.refresh()
    assert w.progress.layout.visibility == "visible" or w.loads == 1
    w.wait()
    assert w.loads == 1 and w.error is None
    assert w.progress.layout.visibility == "hidden" and not w.refresh_button.disabled
    assert w.progress.value == w.progress.max, "progress reached the end"
    shown_before = w.body.value
    w.show_all.value = True
    assert len(w.body.value) > len(shown_before), "every check's rows are shown on request"


def test_threshold_slider_changes_the_displayed_counts(demo_url: str) -> None:
    w = ThresholdWidget(demo_url, queries=25, background=False)
    assert w.error is None and not w.slider.disabled
    result = w.result
    assert w.slider.value == pytest.approx(result.summary["best_threshold"], abs=w.slider.step)
    w.slider.value = w.slider.min
    low = _count(w, "mean_results"), _count(w, "queries_without_results")
    w.slider.value = w.slider.max
    high = _count(w, "mean_results"), _count(w, "queries_without_results")
    assert low != high, "moving the slider changes the expected result counts"
    assert float(low[0]) > float(high[0]) and int(low[1]) <= int(high[1])
    # The displayed numbers are the library's row nearest the slider, not a computation of the widget's.
    row = min(result.rows, key=lambda r: abs(r["threshold"] - w.slider.value))
    assert float(high[0]) == pytest.approx(row["mean_results"], abs=5e-4)
    assert "data:image/png;base64," in w.plot.value


def test_recall_slider_shows_the_measured_recall(demo_url: str) -> None:
    w = RecallWidget(demo_url, queries=20, background=False)
    assert w.error is None
    seen = set()
    for ef in w.ef.options:
        w.ef.value = ef
        assert float(_count(w, "recall_at_k")) == pytest.approx(w.result.recall("all", ef), abs=5e-4)
        seen.add(_count(w, "mean_ms"))
    assert len(seen) > 1, "latency differs between settings"
    assert "data:image/png;base64," in w.plot.value


def test_cancel_needs_opt_in_and_confirmation(demo_url: str) -> None:
    errors: list[BaseException] = []
    started = threading.Event()

    def sleeper() -> None:
        with psycopg.connect(demo_url, application_name="okai-sleeper", autocommit=True) as conn:
            started.set()
            try:
                conn.execute("SELECT pg_sleep(30)")
            except psycopg.errors.QueryCanceled as exc:
                errors.append(exc)

    t = threading.Thread(target=sleeper, daemon=True)
    t.start()
    started.wait(10)
    w = ActivityWidget(demo_url, background=False)
    for _ in range(50):
        pid = next((r["pid"] for r in w.data[0].rows if "pg_sleep" in str(r.get("query"))), None)
        if pid is not None:
            break
        time.sleep(0.1)
        w.refresh()
    assert pid is not None and pid in w.pid.options
    assert w.cancel_button.disabled and w.pid.disabled, "no cancel without the opt-in"
    w.request("cancel")
    assert w.pending is None and "allow cancel/terminate" in w.action_status.value
    w.allow.value = True
    w.pid.value = pid
    assert not w.cancel_button.disabled
    w.request("cancel")
    assert w.pending == "cancel" and w.confirm_button.layout.visibility == "visible"
    time.sleep(0.3)
    assert t.is_alive() and not errors, "a request alone signals nothing"
    assert w.confirm() is True
    t.join(10)
    assert errors and isinstance(errors[0], psycopg.errors.QueryCanceled)
    assert w.last_action == f"cancel {pid}: accepted"
    w.allow.value = False
    assert w.cancel_button.disabled and w.pending is None


def test_explain_widget_waits_for_a_query_then_explains_it(demo_url: str) -> None:
    w = ExplainWidget(demo_url, background=False)
    assert w.loads == 0, "Explain waits for a query"
    w.query.value = "SELECT count(*) FROM memories"
    w.refresh()
    assert w.loads == 1
    # explain is a direct import now (issue 13): no "not available yet" branch is left to take
    assert w.error is None and "memories" in w.body.value
