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


@pytest.fixture
def node_dir(pglite_node_dir: Path) -> Path:
    return pglite_node_dir  # installed from the shipped lockfile once per session (tests/elizaos1/conftest.py)


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


def test_connections_one_after_another_on_one_serve(
    elizaos1: ElizaOS1Databases, node_dir: Path, tmp_path: Path
) -> None:
    """Three psycopg connections in turn, then two separate doctor() runs, on ONE served directory.

    Before: pglite-socket's own server answered the second connection with the text "Too many connections" (its
    previous client's close not yet handled): "expected authentication request from server, but received T".
    Each client also starts in a reset session: the previous one's prepared statements (prepare_threshold=0
    prepares every statement under the same names), temp tables and SETs are gone.
    """
    from okai_insight.diagnostics import doctor

    data = tmp_path / "copy"
    shutil.copytree(elizaos1.pglite_dir, data)
    seen = []
    with serve(data, node_dir=node_dir) as url:
        for _ in range(3):
            with psycopg.connect(url, prepare_threshold=0, connect_timeout=10) as conn:
                seen.append(
                    (
                        conn.execute("SHOW statement_timeout").fetchone(),
                        conn.execute("SELECT count(*) FROM memories").fetchone(),
                    )
                )
                conn.execute("SET statement_timeout = '7s'")
                conn.execute("CREATE TEMP TABLE scratch (a int)")
        reports = [doctor(url), doctor(url)]
    assert len(seen) == 3 and len(set(seen)) == 1 and seen[0][0] == ("0",)  # no SET leaked into the next client
    for report in reports:
        assert {r.name: r.note for r in report.results if r.status == "error"} == {}
        assert "vector_columns" in {r.name for r in report.results}
    assert [r.name for r in reports[0].results] == [r.name for r in reports[1].results]


def test_a_second_client_waits_for_the_first(elizaos1: ElizaOS1Databases, node_dir: Path, tmp_path: Path) -> None:
    """PGlite is one backend: a connection opened while another is open waits for it instead of being refused."""
    import threading
    import time

    data = tmp_path / "copy"
    shutil.copytree(elizaos1.pglite_dir, data)
    got: dict[str, object] = {}
    with serve(data, node_dir=node_dir) as url:
        first = psycopg.connect(url, prepare_threshold=None, autocommit=True)
        opened = time.monotonic()

        def second() -> None:
            with psycopg.connect(url, prepare_threshold=None, connect_timeout=20) as conn:
                got["row"] = conn.execute("SELECT 1").fetchone()
                got["after"] = time.monotonic() - opened

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        assert "row" not in got  # still waiting: the first client holds the backend
        first.close()
        thread.join(timeout=30)
    assert got["row"] == (1,) and isinstance(got["after"], float) and got["after"] >= 0.5


def test_a_directory_without_a_cluster_is_refused(tmp_path: Path, node_dir: Path) -> None:
    empty = tmp_path / "not-pglite"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="not a PGlite data directory"), serve(empty, node_dir=node_dir):
        pass
    assert list(empty.iterdir()) == []  # PGlite would have created a new cluster here


def _tree_digest(root: Path) -> dict[str, str]:
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_serving_never_writes_the_agents_directory(elizaos1: ElizaOS1Databases, node_dir: Path, tmp_path: Path) -> None:
    """PGlite writes its directory when it closes (a checkpoint): by default a snapshot is served, so every file
    of the agent's directory is byte-identical afterwards; in_place=True serves (and writes) the directory."""
    data = tmp_path / "agent-db"
    shutil.copytree(elizaos1.pglite_dir, data)
    before = _tree_digest(data)
    with serve(data, node_dir=node_dir) as url, psycopg.connect(url, prepare_threshold=None) as conn:
        assert conn.execute("SELECT count(*) > 0 FROM memories").fetchone() == (True,)
    assert _tree_digest(data) == before
    with serve(data, node_dir=node_dir, in_place=True) as url, psycopg.connect(url, prepare_threshold=None) as conn:
        conn.execute("SELECT 1")
    assert _tree_digest(data) != before  # what the snapshot protects against


def test_the_cli_runs_a_command_on_a_pglite_directory(elizaos1: ElizaOS1Databases, tmp_path: Path, capsys) -> None:
    import json

    from okai_insight.cli import main

    data = tmp_path / "agent-db"
    shutil.copytree(elizaos1.pglite_dir, data)
    before = _tree_digest(data)
    assert main(["pglite", str(data), "table_sizes", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert "memories" in {r["table"] for r in rows}
    assert _tree_digest(data) == before
    assert main(["pglite", str(tmp_path / "missing"), "table_sizes"]) == 2
    assert "is not a PGlite data directory" in capsys.readouterr().err


def test_the_cli_serves_until_interrupted(elizaos1: ElizaOS1Databases, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    data = tmp_path / "agent-db"
    shutil.copytree(elizaos1.pglite_dir, data)
    with subprocess.Popen(
        [sys.executable, "-m", "okai_insight", "pglite", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().decode().strip()
            assert url.startswith("postgresql://")
            with psycopg.connect(url, prepare_threshold=None, connect_timeout=10) as conn:
                assert conn.execute("SELECT count(*) > 0 FROM memories").fetchone() == (True,)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not Path(url.rsplit("host=", 1)[1]).exists()


def test_copy_from_a_pglite_directory(elizaos1: ElizaOS1Databases, node_dir: Path, tmp_path: Path, capsys) -> None:
    """``okai-insight pglite DIR copy --to sqlite:///...``: copy's --from defaults to OKAI_DATABASE_URL, which the
    pglite command sets to the served directory. Verified copy; the agent's directory byte-identical afterwards.

    Before: copy required --from (argparse exit 2), so the wrapper could not give it the served URL.
    """
    import os
    import sqlite3

    from okai_insight.cli import main

    data = tmp_path / "agent-db"
    shutil.copytree(elizaos1.pglite_dir, data)
    before = _tree_digest(data)
    target = tmp_path / "ada.db"
    code = main(["pglite", str(data), "copy", "--to", f"sqlite:///{target}", "--no-progress", "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0, out
    ada = elizaos1.pglite_summary["agents"][0]
    with sqlite3.connect(target) as conn:
        (memories,) = conn.execute("SELECT count(*) FROM memories").fetchone()
    assert memories == ada["written"]["messages"]  # documents and fragments go to knowledge
    assert _tree_digest(data) == before
    assert "OKAI_DATABASE_URL" not in os.environ or "okai-pglite" not in os.environ["OKAI_DATABASE_URL"]

    env = os.environ.pop("OKAI_DATABASE_URL", None)
    try:
        assert main(["copy", "--to", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    finally:
        if env is not None:
            os.environ["OKAI_DATABASE_URL"] = env
    assert "--from URL, or OKAI_DATABASE_URL" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
