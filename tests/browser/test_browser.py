"""The generated report and the Voila dashboard, checked in headless Chromium: plots and tables are there, and
moving the threshold slider changes the displayed counts. Screenshots go to docs/ for the README when
OKAI_UPDATE_SCREENSHOTS=1 (else to the temporary directory, so a test run leaves the tree unchanged)."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from okai_insight.report import build_report

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def voila_dashboard(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from okai_insight.report import this_python_kernel

    root = tmp_path_factory.mktemp("voila")
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "okai-insight-python", "display_name": "Python", "language": "python"}
    nb.cells = [
        new_code_cell(
            "from okai_insight.jupyter import Dashboard, ThresholdWidget\n"
            f"dashboard = Dashboard({demo_url!r}, panel_options={{ThresholdWidget: {{'queries': 20}}}})\n"
            "dashboard"
        )
    ]
    nbformat.write(nb, root / "dashboard.ipynb")
    port = _free_port()
    log = open(root / "voila.log", "w")  # noqa: SIM115
    with this_python_kernel():
        env = dict(os.environ)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "voila",
                str(root / "dashboard.ipynb"),
                "--no-browser",
                f"--port={port}",
                "--Voila.ip=127.0.0.1",
                "--show_tracebacks=True",
            ],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(url + "voila/api/shutdown/", timeout=1)
            except OSError as exc:
                if getattr(exc, "code", None) is not None:
                    break
                if proc.poll() is not None or time.monotonic() > deadline:
                    proc.kill()
                    raise AssertionError(f"voila did not start: {(root / 'voila.log').read_text()[-2000:]}") from exc
                time.sleep(0.5)
                continue
            break
        try:
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _counts(page: Any) -> dict[str, str]:
    return json.loads(
        page.evaluate(
            "() => JSON.stringify(Object.fromEntries([...document.querySelectorAll('.okai-count')]"
            ".filter(e => e.offsetParent !== null).map(e => [e.dataset.name, e.querySelector('b').innerText])))"
        )
    )


def test_dashboard_in_voila_threshold_slider_moves_the_counts(
    browser: Any, voila_dashboard: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1100})
    page.goto(voila_dashboard, wait_until="load", timeout=120_000)
    tabs = page.locator(".lm-TabBar-tab, .p-TabBar-tab")
    tabs.first.wait_for(timeout=120_000)
    titles = tabs.all_inner_texts()
    assert [t.strip() for t in titles][:3] == ["Health", "Activity", "Statements"] and len(titles) == 11
    page.locator(".okai-badge").first.wait_for(timeout=60_000)  # the Health tab loaded by itself
    assert page.locator(".okai-badge").count() >= 3
    tabs.nth(7).click()  # Threshold tuner
    page.wait_for_function(
        "() => [...document.querySelectorAll('.okai-count')].some(e => e.offsetParent !== null)", timeout=120_000
    )
    page.locator("img.okai-plot >> visible=true").first.wait_for(timeout=30_000)
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
    page.wait_for_timeout(1500)  # let the plot follow before the screenshot
    page.screenshot(path=str(_screenshot_dir(tmp_path_factory) / "dashboard.png"))
    page.close()
