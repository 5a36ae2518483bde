"""Module-scoped planted worlds (each test module gets its own database)."""

from __future__ import annotations

import pytest

from tests.embeddings._world import World, build


@pytest.fixture(scope="module")
def world(pg_url: str) -> World:
    return build(pg_url)
