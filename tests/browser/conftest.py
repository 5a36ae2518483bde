"""Headless Chromium (Debian's package) driven by Playwright for Python; a demo database to look at."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("OKAI_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): install it with `sudo apt-get install -y chromium` (Debian/Ubuntu; "
            ".ci/run does this on CI), or point OKAI_CHROMIUM at a Chromium binary. Playwright's own browser "
            "download is not used."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def demo_url(make_database: Callable[[str], str]) -> str:
    import okai_insight
    from okai_insight.demo import load

    url = make_database("bdemo")
    with okai_insight.connect(url) as db:
        load(db, rows=600, progress=False)
    return url


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (each server of the browser tests gets its own)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, proc: Any, log: Path, *, timeout_s: float = 120) -> None:
    """Poll ``url`` until the server answers (any HTTP status), failing with the log's tail if it dies first."""
    import time
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError as exc:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"server did not start: {log.read_text()[-2000:]}") from exc
            time.sleep(0.5)


@contextmanager
def server(args: list[str], root: Path, url: str, *, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run a Jupyter server (Voila or JupyterLab) in ``root`` with this Python's kernel; yield its base URL once
    it answers; stop it (terminate, then kill) afterwards. Poll a URL that starts no kernel (Voila renders a
    notebook, running all of it, for every request of its page)."""
    from okai_insight.report import this_python_kernel

    log_path = root / "server.log"
    with open(log_path, "w") as log, this_python_kernel():
        proc = subprocess.Popen(
            [sys.executable, "-m", *args], cwd=root, env={**os.environ, **(env or {})}, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_for_http(url, proc, log_path)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(15)


#: Voila runs with okai's own template (okai_insight/jupyter/jupyter_data: Voila's "lab" without CDN links), found
#: through JUPYTER_PATH as `okai-insight lab` finds it (an editable checkout has no copy in share/jupyter).
VOILA_TEMPLATE = ["--template=okai"]


def voila_env() -> dict[str, str]:
    """The environment a Voila server of these tests needs to find the ``okai`` template."""
    from okai_insight.jupyter._voila import jupyter_path

    return {"JUPYTER_PATH": jupyter_path()}


#: Console errors that are not ours: Voila's page loads every installed JupyterLab extension, and jupysql's
#: (built against a newer JupyterLab than Voila's bundled 4.2) fails to federate there; nothing of it is used.
#: Likewise Notebook 7's own extensions (the notebook package, installed since Notebook 7 is tested too): Voila's
#: loader (voila.js) reports "The getter for the shared module is not a function" for them; nothing of it is used.
KNOWN_CONSOLE_ERRORS = (
    "jupysql-plugin",
    "Shared module @jupyterlab/completer",
    "The getter for the shared module is not a function",
)


class Console:
    """The page's console errors and uncaught exceptions, and every request that left 127.0.0.1 (aborted: the
    tests run offline, as a user without internet would)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        self.external: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.route(lambda u: not u.startswith(("http://127.0.0.1", "ws://127.0.0.1")), self._external)

    def _external(self, route: Any) -> None:
        self.external.append(route.request.url)
        route.abort()

    def _console(self, msg: Any) -> None:
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        if any(k in msg.text or k in where for k in KNOWN_CONSOLE_ERRORS):
            return
        if msg.text.startswith("Failed to load resource") and not where.startswith("http://127.0.0.1"):
            return  # an external request we aborted: listed in self.external and checked there
        self.errors.append(f"{msg.text} ({where})")


# -- JupyterLab and Notebook 7: one server, notebooks run through the app's own commands ----------------------------

RUN_MS = 300_000  # a whole notebook on a loaded 2-core machine (notebook 03 projects the memories)
STEP_MS = 60_000

#: The parameters cell of a notebook under test: the demo database, small samples.
PARAMETERS = "url = {url!r}\nsample = 600\nqueries = 20\n"

#: The notebook panel of one path, from the app's main area (another open notebook may be the current widget).
PANEL_JS = "[...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === NAME)"


def write_notebooks(root: Path, url: str, names: dict[str, str]) -> None:
    """Copy shipped notebooks (``{copy name: shipped name}``) into ``root`` with this Python's kernel and only
    their parameters cell changed (the demo database, small samples)."""
    import nbformat

    from okai_insight.report import notebooks_dir

    for target, name in names.items():
        nb = nbformat.read(notebooks_dir() / f"{name}.ipynb", as_version=4)
        nb.metadata["kernelspec"] = {"name": "okai-insight-python", "display_name": "Python", "language": "python"}
        params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        params.source = PARAMETERS.format(url=url) if "sample" in params.source else f"url = {url!r}\n"
        nbformat.write(nb, root / f"{target}.ipynb")


def panel_js(name: str) -> str:
    """JavaScript for the app's notebook panel of ``name``.ipynb."""
    return PANEL_JS.replace("NAME", repr(f"{name}.ipynb"))


def start_all_cells(page: Any, name: str) -> None:
    """Wait until ``name``'s kernel is connected, then run every cell (``notebook:run-all-cells``) without waiting
    for them: several notebooks of one page run at once, each in its own kernel."""
    panel = panel_js(name)
    page.wait_for_function(
        f"() => {{ const w = window.jupyterapp && {panel}; return w && w.sessionContext.session?.kernel"
        "?.connectionStatus === 'connected' && w.content.widgets.length > 0; }",
        timeout=STEP_MS * 2,
    )
    page.evaluate(f"() => {{ window.jupyterapp.shell.activateById({panel}.id); "
                  "return window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # fmt: skip


def wait_all_cells(page: Any, name: str) -> Any:
    """Wait until every code cell of ``name`` has run and its kernel is idle; bring it to the front and return a
    locator on its panel (assertions stay inside one notebook when several are open)."""
    panel = panel_js(name)
    page.wait_for_function(
        f"() => {{ const w = {panel}; const cells = w.content.widgets.filter(c => c.model.type === 'code');"
        " return w.sessionContext.session?.kernel?.status === 'idle' && cells.every(c => c.model.executionCount !== "
        "null && c.promptNode.innerText.indexOf('*') < 0); }",
        timeout=RUN_MS,
        polling=1000,
    )
    node_id = page.evaluate(f"() => {{ const w = {panel}; window.jupyterapp.shell.activateById(w.id); return w.id; }}")
    return page.locator(f"[id='{node_id}']")


def cell_errors(page: Any, name: str) -> list[str]:
    """The cells' error outputs (tracebacks) and stderr of ``name``, from the app's models."""
    return list(
        page.evaluate(
            f"() => {panel_js(name)}.content.widgets.filter(c => c.model.type === 'code')"
            ".flatMap(c => c.model.outputs.toJSON()).filter(o => o.output_type === 'error' || "
            "(o.output_type === 'stream' && o.name === 'stderr')).map(o => o.ename ? o.ename + ': ' + o.evalue : o.text)"
        )
    )


def check_rendered(page: Any, name: str, notebook: Any, shot: Path | None = None) -> None:
    """No error output, the widgets rendered (an okai panel visible, no "Error displaying widget", no stderr)."""
    assert cell_errors(page, name) == []
    notebook.locator(".okai-panel >> visible=true").first.wait_for(timeout=STEP_MS)
    assert notebook.locator("text=Error displaying widget").count() == 0
    assert notebook.locator(".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']").count() == 0
    if shot is not None:
        page.screenshot(path=str(shot))


def search_narrows(page: Any, grid: Any, text: str) -> int:
    """Type ``text`` into a sortable table's search box and wait until its rows (at least one) all contain it;
    returns how many rows show."""
    grid.scroll_into_view_if_needed()
    grid.locator("tbody tr").first.wait_for(timeout=STEP_MS)
    grid.locator("input[type=search]").first.fill(text)
    grid.evaluate("g => { window.okaiGrid = g; }")
    page.wait_for_function(
        "(t) => { const rows = [...window.okaiGrid.querySelectorAll('tbody tr')]; return rows.length > 0 && "
        "rows.every(r => r.innerText.toLowerCase().includes(t)); }",
        arg=text.lower(),
        timeout=STEP_MS,
    )
    return int(grid.locator("tbody tr").count())


def visible_count(page: Any, scope: Any, selector: str) -> int:
    """How many elements matching ``selector`` inside ``scope`` are shown (hidden views do not count)."""
    return int(scope.evaluate(f"s => [...s.querySelectorAll({selector!r})].filter(e => e.offsetParent !== null)"
                              ".length"))  # fmt: skip


def every_check_shows_more(page: Any, health: Any) -> None:
    """Tick the health widget's "every check's rows" box and wait until it shows more checks than before."""
    health.locator(".okai-badge >> visible=true").first.wait_for(timeout=STEP_MS)
    before = visible_count(page, health, ".okai-body h4")
    health.locator("input[type=checkbox]").first.check()
    health.evaluate("p => { window.okaiHealth = p; }")
    page.wait_for_function(
        "(n) => [...window.okaiHealth.querySelectorAll('.okai-body h4')].filter(e => e.offsetParent !== null)"
        ".length > n",
        arg=before,
        timeout=STEP_MS,
    )


#: The notebooks the JupyterLab server holds: {copy: shipped notebook}.
LAB_NOTEBOOKS = {
    name: name
    for name in ("01-health-check", "02-indexes-and-plans", "03-embedding-explorer",
                 "04-threshold-and-recall-tuning", "dashboard")
}  # fmt: skip


@pytest.fixture(scope="session")
def lab(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One JupyterLab server for the session, with ``expose_app_in_browser``; yields its base URL."""
    root = tmp_path_factory.mktemp("lab")
    write_notebooks(root, demo_url, LAB_NOTEBOOKS)
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


@pytest.fixture(scope="session")
def voila(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Voila server for the session, in directory mode (``voila ROOT``) with okai's template; its pages are
    ``{base}voila/render/explorer.ipynb`` (the explorer alone) and ``{base}voila/render/dashboard.ipynb`` (the
    Dashboard with a small threshold tuner). Directory mode also means readiness is polled on the file list,
    which starts no kernel (polling a notebook's page would run the explorer's projection for nobody)."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    root = tmp_path_factory.mktemp("voila")
    cells = {
        "explorer": f"from okai_insight.jupyter import ExplorerWidget\nExplorerWidget({demo_url!r}, sample=600)",
        "dashboard": "from okai_insight.jupyter import Dashboard, ThresholdWidget\n"
        f"dashboard = Dashboard({demo_url!r}, panel_options={{ThresholdWidget: {{'queries': 20}}}})\ndashboard",
    }
    for name, source in cells.items():
        nb = new_notebook()
        nb.metadata["kernelspec"] = {"name": "okai-insight-python", "display_name": "Python", "language": "python"}
        nb.cells = [new_code_cell(source)]
        nbformat.write(nb, root / f"{name}.ipynb")
    port = free_port()
    args = ["voila", str(root), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1", "--show_tracebacks=True",
            *VOILA_TEMPLATE]  # fmt: skip
    base = f"http://127.0.0.1:{port}/"
    with server(args, root, base, env=voila_env()):
        yield base
