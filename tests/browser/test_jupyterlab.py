"""The shipped notebooks in JupyterLab (not only Voila), in headless Chromium: each opens, runs every cell in its
kernel with no error output, every widget renders (no "Error displaying widget"), and a click on a control
changes what the widget shows. The notebooks are the shipped files with only their parameters cell changed.

JupyterLab runs with ``expose_app_in_browser`` so the test can run the notebook through Lab's own command
(``notebook:run-all-cells``) and read the cells' execution counts and outputs from its models.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from okai_insight.report import notebooks_dir
from tests.browser.conftest import Console, free_port, server

#: The notebook panel of one path, from Lab's main area (another restored notebook may be the current widget).
PANEL_JS = "[...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === NAME)"

RUN_MS = 300_000  # a whole notebook on a loaded 2-core machine (notebook 03 projects the memories)
STEP_MS = 60_000

PARAMETERS = "url = {url!r}\nsample = 600\nqueries = 20\n"


@pytest.fixture(scope="module")
def lab(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("lab")
    for name in ("01-health-check", "03-embedding-explorer", "dashboard"):
        nb = nbformat.read(notebooks_dir() / f"{name}.ipynb", as_version=4)
        nb.metadata["kernelspec"] = {"name": "okai-insight-python", "display_name": "Python", "language": "python"}
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        params.source = PARAMETERS.format(url=demo_url) if "sample" in params.source else f"url = {demo_url!r}\n"
        nbformat.write(nb, root / f"{name}.ipynb")
    port = free_port()
    args = [
        "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=",
        "--ServerApp.password=", "--LabApp.expose_app_in_browser=True", f"--ServerApp.root_dir={root}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--allow-root",  # CI containers run as root; nothing here needs it
    ]  # fmt: skip
    home = root / "home"  # a fresh settings directory: no workspace of a previous run reopens notebooks
    env = {"JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "ws"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime")}  # fmt: skip
    with server(args, root, f"http://127.0.0.1:{port}/lab", env=env) as url:
        yield url.removesuffix("lab")


def _run_notebook(browser: Any, base: str, name: str) -> tuple[Any, Console]:
    """Open ``name`` in JupyterLab, run all its cells, wait until every code cell has run; returns the page."""
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    console = Console(page)
    page.goto(f"{base}lab/tree/{name}.ipynb?reset", wait_until="load", timeout=STEP_MS * 2)
    panel = PANEL_JS.replace("NAME", repr(f"{name}.ipynb"))
    page.wait_for_function(
        f"() => {{ const w = window.jupyterapp && {panel}; return w && w.sessionContext.session?.kernel"
        "?.connectionStatus === 'connected' && w.content.widgets.length > 0; }",
        timeout=STEP_MS * 2,
    )
    page.evaluate(f"() => {{ window.jupyterapp.shell.activateById({panel}.id); "
                  "return window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # fmt: skip
    page.wait_for_function(
        f"() => {{ const w = {panel}; const cells = w.content.widgets.filter(c => c.model.type === 'code');"
        " return w.sessionContext.session?.kernel?.status === 'idle' && cells.every(c => c.model.executionCount !== "
        "null && c.promptNode.innerText.indexOf('*') < 0); }",
        timeout=RUN_MS,
        polling=1000,
    )
    page.evaluate(f"() => {{ window.okaiPanel = {panel}; }}")
    return page, console


def _errors(page: Any) -> list[str]:
    """The cells' error outputs (tracebacks) and stderr, from Lab's models."""
    return list(
        page.evaluate(
            "() => window.okaiPanel.content.widgets.filter(c => c.model.type === 'code')"
            ".flatMap(c => c.model.outputs.toJSON()).filter(o => o.output_type === 'error' || "
            "(o.output_type === 'stream' && o.name === 'stderr')).map(o => o.ename ? o.ename + ': ' + o.evalue : o.text)"
        )
    )


def _check_rendered(page: Any, console: Console, shot: Path) -> None:
    assert _errors(page) == []
    page.locator(".okai-panel >> visible=true").first.wait_for(timeout=STEP_MS)
    assert page.locator("text=Error displaying widget").count() == 0
    assert page.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    page.screenshot(path=str(shot))


def _panel_status(panel: Any) -> str:
    return str(panel.locator(".widget-html").first.inner_text())


def test_dashboard_runs_in_jupyterlab_and_a_tab_click_loads_it(
    browser: Any, lab: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = _run_notebook(browser, lab, "dashboard")
    tabs = page.locator(".okai-dashboard .lm-TabBar-tab")
    tabs.first.wait_for(timeout=STEP_MS)
    titles = [t.strip() for t in tabs.all_inner_texts()]
    assert titles[:3] == ["Health", "Activity", "Statements"] and titles[-2:] == ["Drift", "History"]
    page.locator(".okai-dashboard .okai-badge").first.wait_for(timeout=STEP_MS)  # Health loads by itself
    tabs.nth(titles.index("Indexes")).click()
    page.locator(".okai-dashboard .okai-body >> text=Index usage >> visible=true").first.wait_for(timeout=STEP_MS)
    _check_rendered(page, console, tmp_path_factory.getbasetemp() / "lab-dashboard.png")
    assert console.errors == [] and console.external == []
    page.close()


def test_health_notebook_runs_in_jupyterlab_and_the_checkbox_shows_every_check(
    browser: Any, lab: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = _run_notebook(browser, lab, "01-health-check")
    _check_rendered(page, console, tmp_path_factory.getbasetemp() / "lab-health.png")
    # the findings table (jupyter.interactive) is sortable and searchable in Lab: search narrows it to one severity
    grid = page.locator(".okai-sortable").first
    grid.scroll_into_view_if_needed()
    grid.locator("tbody tr").first.wait_for(timeout=STEP_MS)
    grid.locator("input[type=search]").first.fill("warning")
    page.wait_for_function(
        "() => { const rows = [...document.querySelector('.okai-sortable').querySelectorAll('tbody tr')];"
        " return rows.length > 0 && rows.every(r => r.innerText.toLowerCase().includes('warning')); }",
        timeout=STEP_MS,
    )
    panel = page.locator(".okai-panel").last
    panel.locator(".okai-badge").first.wait_for(timeout=STEP_MS)
    before = panel.locator(".okai-body h4").count()
    panel.locator("input[type=checkbox]").first.check()  # "every check's rows"
    page.wait_for_function(
        "(n) => [...document.querySelectorAll('.okai-panel')].pop().querySelectorAll('.okai-body h4').length > n",
        arg=before,
        timeout=STEP_MS,
    )
    assert console.errors == [] and console.external == []
    page.close()


def test_explorer_notebook_runs_in_jupyterlab_and_the_map_answers(
    browser: Any, lab: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page, console = _run_notebook(browser, lab, "03-embedding-explorer")
    _check_rendered(page, console, tmp_path_factory.getbasetemp() / "lab-explorer-start.png")
    explorer = page.locator(".okai-explorer")
    explorer.locator("canvas").first.wait_for(timeout=STEP_MS)
    explorer.scroll_into_view_if_needed()
    option = explorer.locator("select[size] option").first
    cluster, size = re.match(r"\s*(-?\d+)\s+(\d+) memories", str(option.get_attribute("value"))).groups()  # type: ignore[union-attr]
    explorer.locator("select[size]").select_option(index=0)
    explorer.locator(f".widget-html >> text=cluster {cluster}: {size} memories").wait_for(timeout=STEP_MS)
    drift = page.locator(".okai-panel", has=page.locator("text=window")).last
    drift.locator("img.okai-plot").wait_for(timeout=STEP_MS)
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "lab-explorer.png"))
    assert console.errors == [] and console.external == []
    page.close()
