"""The embedded PostgreSQL default: configuration before first start, reuse, status, stop, connect()."""

from __future__ import annotations

import psycopg
import pytest

import okai_insight
from okai_insight.cli import main
from okai_insight.embedded import EmbeddedServer, default_data_dir, run_tool


def test_data_dir_honours_okai_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("OKAI_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path.resolve() / "pgdata"
    monkeypatch.delenv("OKAI_DATA_DIR")
    assert default_data_dir().parts[-2:] == ("okai-insight", "pgdata")


def test_session_server_is_configured_for_diagnostics(pg_server):
    with psycopg.connect(pg_server.url()) as conn:
        settings = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('shared_preload_libraries', 'track_io_timing')"
            ).fetchall()
        )
        version = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]
        vector = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'vector'").fetchone()
    assert "pg_stat_statements" in settings["shared_preload_libraries"]
    assert settings["track_io_timing"] == "on"
    assert version >= 180000 and vector[0].startswith("0.8")


def test_start_reuses_a_running_server(pg_server):
    pid = pg_server.status().pid
    assert pg_server.start() == pg_server.url()
    assert EmbeddedServer(pg_server.data_dir).status().pid == pid


def test_bundled_tools_run(pg_server):
    out = run_tool("psql", [pg_server.url(), "-Atc", "SELECT 40 + 2"]).stdout
    assert out.strip() == "42"


@pytest.mark.slow
def test_full_lifecycle_and_connect_without_url(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("OKAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OKAI_DATABASE_URL", raising=False)
    server = EmbeddedServer()
    assert server.status().running is False
    assert main(["server", "status"]) == 3
    capsys.readouterr()
    try:
        db = okai_insight.connect()  # starts the server in $OKAI_DATA_DIR
        try:
            room = db.create_room()
            assert db.get_room(room) == room
        finally:
            db.close()
        assert main(["server", "url"]) == 0
        assert capsys.readouterr().out.strip() == server.url()
        db2 = okai_insight.connect()  # reuses it: same data
        assert db2.get_room(room) == room
        db2.close()
    finally:
        assert main(["server", "stop"]) == 0
    assert server.status().running is False
    assert main(["server", "stop"]) == 0
    assert "not running" in capsys.readouterr().out


def test_start_right_after_kill_9_of_the_postmaster(monkeypatch, tmp_path, capsys):
    """kill -9 leaves postmaster.pid (and the socket's lock file) behind, often with a zombie postmaster or
    orphaned backends; start must see the lock is stale, as PostgreSQL decides, and start. Three times in a row,
    through EmbeddedServer.start, okai_insight.connect() and `okai-insight server start`, each serving the rows
    written before."""
    import os
    import signal
    import time

    monkeypatch.setenv("OKAI_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OKAI_DATABASE_URL", raising=False)
    server = EmbeddedServer()
    url = server.start()
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (n int)")
            conn.execute("INSERT INTO kept SELECT generate_series(1, 100)")
        starts = [
            server.start,
            lambda: okai_insight.connect(init=False).close(),
            lambda: main(["server", "start"]),
        ]
        for trial, start in enumerate(starts):
            busy = psycopg.connect(server.url())  # an open session: its backend is orphaned by the kill
            busy.execute("SELECT count(*) FROM kept")
            old_pid = server.status().pid
            assert old_pid is not None
            os.kill(old_pid, signal.SIGKILL)
            t0 = time.monotonic()
            outcome = start()
            assert outcome in (None, 0) or str(outcome).startswith("postgresql://"), outcome
            status = server.status()
            assert status.running and status.pid != old_pid, f"trial {trial}: {status}"
            with psycopg.connect(server.url()) as conn:
                assert conn.execute("SELECT count(*) FROM kept").fetchone() == (100,), f"trial {trial}"
            assert time.monotonic() - t0 < 30
            busy.close()
        capsys.readouterr()
    finally:
        server.stop(mode="immediate")
