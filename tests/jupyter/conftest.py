"""A database with part of the demo dataset for the widget tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest


@pytest.fixture(scope="module")
def demo_url(make_database: Callable[[str], str]) -> str:
    import okai_insight
    from okai_insight.demo import load

    url = make_database("wdemo")
    with okai_insight.connect(url) as db:
        load(db, rows=600, progress=False)
    return url
