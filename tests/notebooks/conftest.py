"""A database with (part of) the demo dataset, shared by the notebook tests of one module."""

from __future__ import annotations

from collections.abc import Callable

import pytest

#: Enough memories for every notebook to have something to show, few enough to stay fast.
DEMO_ROWS = 600


def demo_database(make_database: Callable[[str], str], prefix: str) -> str:
    import okai_insight
    from okai_insight.demo import load

    url = make_database(prefix)
    with okai_insight.connect(url) as db:
        load(db, rows=DEMO_ROWS, progress=False)
    return url


@pytest.fixture(scope="module")
def demo_url(make_database: Callable[[str], str]) -> str:
    return demo_database(make_database, "nbdemo")
