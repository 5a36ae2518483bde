"""The generated report and the Voila dashboard, checked in headless Chromium: plots and tables are there, and
moving the threshold slider changes the displayed counts. Screenshots go to docs/ for the README when
OKAI_UPDATE_SCREENSHOTS=1 (else to the temporary directory, so a test run leaves the tree unchanged)."""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from okai_insight.report import build_report
from tests.browser.conftest import Console

DOCS = Path(__file__).resolve().parents[2] / "docs"
#: The README's screenshots are rewritten only on request (OKAI_UPDATE_SCREENSHOTS=1): a test run must not leave
#: the working tree changed. Otherwise they go to the session's temporary directory.
UPDATE_SCREENSHOTS = os.environ.get("OKAI_UPDATE_SCREENSHOTS") == "1"


def _screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return DOCS if UPDATE_SCREENSHOTS else tmp_path_factory.getbasetemp()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served_report(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("served")
    build_report(demo_url, root / "report.html", sample=300, queries=20)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/report.html"
    server.shutdown()
    server.server_close()


def test_report_in_chromium_has_its_plots_and_tables(
    browser: Any, served_report: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1500})
    page.goto(served_report, wait_until="load", timeout=60_000)
    assert page.title() == "okai-insight report"
    headings = page.locator("h2").all_inner_texts()
    for wanted in ("Health summary", "Indexes", "Recall at the current settings", "Projection of the memories",
                   "Threshold guidance"):  # fmt: skip
        assert any(wanted in h for h in headings), wanted
    plots = page.locator("img.okai-plot")
    assert plots.count() >= 4
    for i in range(plots.count()):  # every plot decoded to a real image
        assert plots.nth(i).evaluate("img => img.complete && img.naturalWidth > 100")
    assert page.locator("table").count() >= 8
    assert page.locator(".okai-badge").count() == 3
    assert page.locator("text=import okai_insight").count() == 0, "no code in the report"
    page.screenshot(path=str(_screenshot_dir(tmp_path_factory) / "report.png"))
    page.close()


def _counts(page: Any) -> dict[str, str]:
    return json.loads(
        page.evaluate(
            "() => JSON.stringify(Object.fromEntries([...document.querySelectorAll('.okai-count')]"
            ".filter(e => e.offsetParent !== null).map(e => [e.dataset.name, e.querySelector('b').innerText])))"
        )
    )


def test_dashboard_in_voila_threshold_slider_moves_the_counts(
    browser: Any, voila: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    console = Console(page)
    page.goto(f"{voila}voila/render/dashboard.ipynb", wait_until="load", timeout=120_000)
    tabs = page.locator(".lm-TabBar-tab, .p-TabBar-tab")
    tabs.first.wait_for(timeout=120_000)
    titles = tabs.all_inner_texts()
    assert [t.strip() for t in titles][:3] == ["Health", "Activity", "Statements"] and len(titles) == 11
    page.locator(".okai-badge >> visible=true").first.wait_for(timeout=60_000)  # the Health tab loaded by itself
    assert page.locator(".okai-badge").count() >= 3
    tabs.nth(7).click()  # Threshold tuner
    page.wait_for_function(
        "() => [...document.querySelectorAll('.okai-count')].some(e => e.offsetParent !== null)", timeout=120_000
    )
    plot = page.locator("img.okai-plot >> visible=true").first
    plot.wait_for(timeout=30_000)
    plot_before = plot.get_attribute("src")
    before = _counts(page)
    assert {"threshold", "mean_results", "queries_without_results"} <= set(before)
    handle = page.locator(".okai-threshold-slider .noUi-handle").first
    handle.focus()
    for _ in range(40):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(old) => { const e = [...document.querySelectorAll('.okai-count')].filter(x => x.offsetParent !== null)"
        ".find(x => x.dataset.name === 'threshold'); return e && e.querySelector('b').innerText !== old; }",
        arg=before["threshold"],
        timeout=30_000,
    )
    after = _counts(page)
    assert after["threshold"] != before["threshold"]
    assert (after["mean_results"], after["queries_without_results"]) != (
        before["mean_results"],
        before["queries_without_results"],
    ), "the expected result counts follow the slider"
    page.wait_for_function(  # the plot follows the slider too (waited on, not slept for, before the screenshot)
        "(old) => [...document.querySelectorAll('img.okai-plot')].some(i => i.offsetParent !== null && "
        "i.getAttribute('src') !== old)",
        arg=plot_before,
        timeout=30_000,
    )
    page.screenshot(path=str(_screenshot_dir(tmp_path_factory) / "dashboard.png"))
    # okai's Voila template: nothing leaves 127.0.0.1 (no FontAwesome from a CDN), and the page has no errors
    assert console.errors == [] and console.external == []
    page.close()
