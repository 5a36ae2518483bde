"""The shipped notebooks in JupyterLab (not only Voila), in headless Chromium: each opens, runs every cell in its
kernel with no error output, every widget renders (no "Error displaying widget"), and a person's action (a click,
a search) changes what a widget shows. The notebooks are the shipped files with only their parameters cell changed.

One JupyterLab server for the session (``lab``, in tests/browser/conftest.py) and one page: each test opens its
notebook in a new tab of it, runs it, and asserts inside that notebook's panel. JupyterLab runs with
``expose_app_in_browser`` so the test runs a notebook through Lab's own command (``notebook:run-all-cells``) and reads
the cells' execution counts and outputs from its models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    STEP_MS,
    Console,
    check_rendered,
    every_check_shows_more,
    search_narrows,
    start_all_cells,
    wait_all_cells,
)


@pytest.fixture(scope="module")
def lab_page(browser: Any, lab: str) -> Iterator[tuple[Any, Console]]:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    console = Console(page)
    page.goto(f"{lab}lab?reset", wait_until="load", timeout=STEP_MS * 2)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.commands.hasCommand('docmanager:open')",
                           timeout=STEP_MS * 2)  # fmt: skip
    yield page, console
    page.close()


def _open(page: Any, name: str) -> None:
    """Open ``name`` in a new tab of the page, which makes it the current notebook (run-all-cells runs that)."""
    page.evaluate("(p) => { window.jupyterapp.commands.execute('docmanager:open', {path: p}); }", f"{name}.ipynb")


def _run_notebook(page: Any, name: str, shot: Path | None = None) -> Any:
    """Open ``name``, run every cell, wait for them all and check what rendered; returns the notebook's locator."""
    _open(page, name)
    start_all_cells(page, name)
    nb = wait_all_cells(page, name)
    check_rendered(page, name, nb, shot)
    return nb


def test_dashboard_runs_in_jupyterlab_and_its_tables_sort_and_search(
    lab_page: tuple[Any, Console], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = lab_page
    _open(page, "dashboard")
    start_all_cells(page, "dashboard")
    nb = wait_all_cells(page, "dashboard")
    tabs = nb.locator(".okai-dashboard .lm-TabBar-tab")
    tabs.first.wait_for(timeout=STEP_MS)
    titles = [t.strip() for t in tabs.all_inner_texts()]
    assert titles[:3] == ["Health", "Activity", "Statements"] and titles[-2:] == ["Drift", "History"]
    nb.locator(".okai-dashboard .okai-badge >> visible=true").first.wait_for(timeout=STEP_MS)  # Health loads itself
    tabs.nth(titles.index("Indexes")).click()
    nb.locator(".okai-dashboard .okai-body >> text=Index usage >> visible=true").first.wait_for(timeout=STEP_MS)
    check_rendered(page, "dashboard", nb, tmp_path_factory.getbasetemp() / "lab-dashboard.png")
    # the panel's row tables are sortable (itables): ascending by size from the column's order icon ...
    grid = nb.locator(".okai-dashboard .okai-rows-index_usage >> visible=true").first
    grid.locator("tbody tr").first.wait_for(timeout=STEP_MS)
    headers = [h.strip() for h in grid.locator("thead th").all_inner_texts()]
    column = headers.index("size_bytes")

    def texts() -> list[str]:
        return grid.locator(f"tbody tr td:nth-child({column + 1})").all_inner_texts()

    def sizes() -> list[float]:  # "16 kB" -> 16384: the cells read as people read them
        units = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}
        return [float(n.replace(",", "")) * units[u] for n, u in (t.split() for t in texts())]

    first_texts = texts()
    assert all(t.endswith((" B", " kB", " MB", " GB")) for t in first_texts), first_texts
    before = sizes()
    assert before == sorted(before, reverse=True) and len(set(before)) > 1, "largest first, as the check returns"
    grid.locator(f"thead th[data-dt-column='{column}'] .dt-column-order").click()
    grid.evaluate("g => { window.okaiGrid = g; }")
    page.wait_for_function(  # the column's cells changed (then their order is checked below)
        f"() => [...window.okaiGrid.querySelectorAll('tbody tr td:nth-child({column + 1})')]"
        f".map(td => td.innerText).join('|') !== {'|'.join(first_texts)!r}",
        timeout=STEP_MS,
    )
    after = sizes()
    # ascending by the byte counts behind the text ("512 kB" below "1.5 MB"), not alphabetically
    assert after == sorted(after) and after != before
    # ... and searchable: the search box narrows the rows to the memories' indexes
    total = grid.locator("tbody tr").count()
    shown = search_narrows(page, grid, "memories")
    assert 0 < shown <= total
    assert all("memories" in r.lower() for r in grid.locator("tbody tr").all_inner_texts())
    assert console.errors == [] and console.external == []


def test_health_notebook_runs_in_jupyterlab_and_the_checkbox_shows_every_check(
    lab_page: tuple[Any, Console], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = lab_page
    nb = _run_notebook(page, "01-health-check", tmp_path_factory.getbasetemp() / "lab-health.png")
    # the findings table (jupyter.interactive) is sortable and searchable in Lab: search narrows it to one severity
    assert search_narrows(page, nb.locator(".okai-sortable").first, "warning") > 0
    panel = nb.locator(".okai-panel").last
    every_check_shows_more(page, panel)
    assert console.errors == [] and console.external == []


def test_indexes_notebook_runs_in_jupyterlab_and_index_usage_is_searchable(lab_page: tuple[Any, Console]) -> None:
    page, console = lab_page
    nb = _run_notebook(page, "02-indexes-and-plans")
    # what a person sees: every index in a sortable table; the search box finds the vector index on memories
    grid = nb.locator(".okai-sortable").first
    grid.scroll_into_view_if_needed()
    grid.locator("tbody tr").first.wait_for(timeout=STEP_MS)
    total = grid.locator("tbody tr").count()
    assert 1 <= search_narrows(page, grid, "idx_memories_embedding") < total
    nb.locator("text=Compare with previous").first.wait_for(timeout=STEP_MS)  # the EXPLAIN widget rendered
    assert console.errors == [] and console.external == []


def test_tuning_notebook_runs_in_jupyterlab_and_the_tuner_shows_its_counts(lab_page: tuple[Any, Console]) -> None:
    page, console = lab_page
    nb = _run_notebook(page, "04-threshold-and-recall-tuning")
    assert nb.locator(".jp-OutputArea-output", has_text="best cosine threshold").count() == 1
    # what a person sees: the threshold tuner widget's counts at its threshold, and its plot
    count = nb.locator(".okai-panel .okai-count[data-name='threshold'] b >> visible=true").first
    count.wait_for(timeout=STEP_MS)
    assert re.search(r"\d", count.inner_text()), count.inner_text()
    nb.locator(".okai-panel img.okai-plot >> visible=true").first.wait_for(timeout=STEP_MS)
    assert console.errors == [] and console.external == []


def test_explorer_notebook_runs_in_jupyterlab_and_the_map_answers(
    lab_page: tuple[Any, Console], tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = lab_page
    nb = _run_notebook(page, "03-embedding-explorer", tmp_path_factory.getbasetemp() / "lab-explorer-start.png")
    explorer = nb.locator(".okai-explorer")
    explorer.locator("canvas").first.wait_for(timeout=STEP_MS)
    explorer.scroll_into_view_if_needed()
    option = explorer.locator("select[size] option").first
    cluster, size = re.match(r"\s*(-?\d+)\s+(\d+) memories", str(option.get_attribute("value"))).groups()  # type: ignore[union-attr]
    explorer.locator("select[size]").select_option(index=0)
    explorer.locator(f".widget-html >> text=cluster {cluster}: {size} memories").wait_for(timeout=STEP_MS)
    drift = nb.locator(".okai-panel", has=page.locator("text=window")).last
    drift.locator("img.okai-plot").wait_for(timeout=STEP_MS)
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "lab-explorer.png"))
    assert console.errors == [] and console.external == []
