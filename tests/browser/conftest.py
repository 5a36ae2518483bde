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
    it answers; stop it (terminate, then kill) afterwards."""
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
