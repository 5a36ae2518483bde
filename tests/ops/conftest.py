"""Fixtures of the operations tests: a filled database per module."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.ops._data import Filled, populate


@pytest.fixture(scope="module")
def filled(make_database: Callable[[str], str]) -> Filled:
    """A database with 200 memories (half a year old or more), two agents, users and rooms."""
    return populate(make_database("opsfill"))
