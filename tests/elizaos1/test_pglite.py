"""A PGlite directory (ElizaOS 1.x's default store) is served so okai-insight reads it (issue 14 item 5).

Before: okai-insight could not open a PGlite directory at all (only WebAssembly PGlite can).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from okai_insight.errors import InvalidInput
from okai_insight.pglite import serve
from okai_insight.schema import read_profile
from tests.elizaos1.conftest import ElizaOS1Databases


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pglite-node")  # serve() installs the shipped lockfile here with npm ci


def test_serve_a_pglite_directory_and_stop(elizaos1: ElizaOS1Databases, node_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "copy"
    shutil.copytree(elizaos1.pglite_dir, data)  # the server writes (a checkpoint): keep the fixture pristine
    ada = elizaos1.pglite_summary["agents"][0]
    with serve(data, node_dir=node_dir) as url:
        with psycopg.connect(url, prepare_threshold=None) as conn:
            count = conn.execute("SELECT count(*) FROM memories WHERE agent_id = %s", (ada["agentId"],)).fetchone()
            profile = read_profile(conn)
    assert count == (ada["written"]["messages"] + ada["written"]["documents"] + ada["written"]["knowledge"],)
    assert profile.flavor == "elizaos1" and profile.dimensions == (384,)
    socket_dir = url.rsplit("host=", 1)[1]
    assert not Path(socket_dir).exists()  # stopped and cleaned up
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2).close()


def test_a_directory_without_a_cluster_is_refused(tmp_path: Path, node_dir: Path) -> None:
    empty = tmp_path / "not-pglite"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="not a PGlite data directory"), serve(empty, node_dir=node_dir):
        pass
    assert list(empty.iterdir()) == []  # PGlite would have created a new cluster here
