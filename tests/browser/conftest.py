"""Headless Chromium (Debian's package) driven by Playwright for Python; a demo database to look at."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="module")
def demo_url(make_database: Callable[[str], str]) -> str:
    import okai_insight
    from okai_insight.demo import load

    url = make_database("bdemo")
    with okai_insight.connect(url) as db:
        load(db, rows=600, progress=False)
    return url
