"""Fixtures of the operations tests: a filled database per module."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from okai_insight.embedded import EmbeddedServer
from tests.ops._data import Filled, populate


@pytest.fixture(scope="module")
def filled(make_database: Callable[[str], str]) -> Filled:
    """A database with 200 memories (half a year old or more), two agents, users and rooms."""
    return populate(make_database("opsfill"))


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A fresh directory for extra servers' data directories, outside pytest's per-user temp root: pytest runs in
    parallel (other suites) reset that root to mode 0700, which the server's unprivileged owner cannot traverse."""
    path = Path(tempfile.mkdtemp(prefix="okai-ops-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def small_server(server_dir: Path) -> Iterator[EmbeddedServer]:
    """A server of its own with a small filled database: a physical copy of it is quick, where one of the shared
    session cluster (every module's databases, checkpointed under load) can take a minute."""
    server = EmbeddedServer(server_dir / "small")
    try:
        populate(server.start(), memories=50)
        yield server
    finally:
        server.stop(mode="immediate")
