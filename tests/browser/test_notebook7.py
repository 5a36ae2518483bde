"""The health and explorer notebooks in Jupyter Notebook 7 (the classic interface's successor), in headless
Chromium: each opens and runs every cell in its kernel with no error output, the widgets render (no "Error
displaying widget"); the findings table is sortable and searchable, a click on the health widget's control changes
what it shows, and the explorer's map draws and answers a choice in its cluster list. JupyterLab and Voila have
their own tests (test_jupyterlab.py, test_browser.py); Notebook 7 is the third front end issue 16 names.

Notebook 7 runs as its own server (``jupyter notebook``): served by the session's JupyterLab server instead, its
``/static/notebook/`` font request is refused (403), so it keeps its own. It runs with ``expose_app_in_browser``,
so the test runs the notebook through the app's own command (``notebook:run-all-cells``) and reads the cells from
its models, as the JupyterLab test does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (
    STEP_MS,
    Console,
    check_rendered,
    every_check_shows_more,
    free_port,
    search_narrows,
    server,
    start_all_cells,
    wait_all_cells,
    write_notebooks,
)

NAME = "nb7-health-check"  # a copy of 01-health-check for Notebook 7
EXPLORER = "nb7-embedding-explorer"  # a copy of 03-embedding-explorer


@pytest.fixture(scope="module")
def notebook7(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("nb7")
    write_notebooks(root, demo_url, {NAME: "01-health-check", EXPLORER: "03-embedding-explorer"})
    port = free_port()
    args = [
        "notebook", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
        "--ServerApp.password=", "--JupyterNotebookApp.expose_app_in_browser=True", f"--ServerApp.root_dir={root}",
        "--allow-root",
    ]  # fmt: skip
    home = root / "home"
    env = {"JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "ws"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime")}  # fmt: skip
    with server(args, root, f"http://127.0.0.1:{port}/tree", env=env) as url:
        yield url.removesuffix("tree")


def _run_in_notebook7(browser: Any, notebook7: str, name: str) -> tuple[Any, Console, Any]:
    """Open ``name`` in Notebook 7, run every cell through the app's own command, wait for them and check what
    rendered; returns the page, its console and the notebook's locator."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    console = Console(page)
    page.goto(f"{notebook7}notebooks/{name}.ipynb", wait_until="load", timeout=STEP_MS * 2)
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.name.includes('Notebook')", timeout=STEP_MS * 2
    )  # fmt: skip  (Notebook 7's app, not JupyterLab's)
    start_all_cells(page, name)
    nb = wait_all_cells(page, name)
    check_rendered(page, name, nb)
    return page, console, nb


def _our_errors(console: Console) -> list[str]:
    """Console errors but one: Notebook 7.6's own bundle (static/notebook/notebook_core.*.js, its settings
    registry's load at start-up) throws "Cannot read properties of undefined (reading 'schema')" with these
    extensions installed, before any cell runs, on any notebook (seen opening the dashboard alone): not ours."""
    return [e for e in console.errors if not (e.startswith("pageerror:") and "reading 'schema'" in e)]


def test_health_notebook_runs_in_notebook_7(browser: Any, notebook7: str) -> None:
    page, console, nb = _run_in_notebook7(browser, notebook7, NAME)
    assert search_narrows(page, nb.locator(".okai-sortable").first, "warning") > 0
    health = nb.locator(".okai-panel").last
    health.scroll_into_view_if_needed()
    every_check_shows_more(page, health)
    assert _our_errors(console) == [] and console.external == []
    page.close()


def test_explorer_notebook_runs_in_notebook_7_and_the_map_answers(browser: Any, notebook7: str) -> None:
    # the explorer's front end (jupyter-scatter's anywidget) in the third front end issue 16 names: the map draws,
    # and choosing a cluster in its linked list shows that cluster
    page, console, nb = _run_in_notebook7(browser, notebook7, EXPLORER)
    explorer = nb.locator(".okai-explorer")
    explorer.locator("canvas").first.wait_for(timeout=STEP_MS)
    explorer.scroll_into_view_if_needed()
    option = explorer.locator("select[size] option").first
    found = re.match(r"\s*(-?\d+)\s+(\d+) memories", str(option.get_attribute("value")))
    assert found is not None, option.get_attribute("value")
    cluster, size = found.groups()
    explorer.locator("select[size]").select_option(index=0)
    explorer.locator(f".widget-html >> text=cluster {cluster}: {size} memories").wait_for(timeout=STEP_MS)
    assert _our_errors(console) == [] and console.external == []
    page.close()
