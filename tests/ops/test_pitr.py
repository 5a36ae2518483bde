"""Point-in-time recovery: WAL archiving on a server of the test's own (archive_mode needs a restart, which the
session server must not get), a base backup, and a restore to a moment between two batches of rows."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest

from okai_insight.cli import main
from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import BackupError, InvalidInput
from okai_insight.ops.backup import basebackup
from okai_insight.ops.pitr import archive_now, restore_to_time


def _insert(url, first, last, note):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO events SELECT g, %s FROM generate_series(%s::int, %s::int) AS g", (note, first, last))
        row = conn.execute("SELECT clock_timestamp()").fetchone()
    assert row is not None
    return row[0]


def test_restore_to_a_moment_holds_exactly_the_rows_committed_before_it(server_dir, capsys):
    primary = EmbeddedServer(server_dir / "primary")
    archive = server_dir / "wal"
    url = primary.start()
    try:
        assert main(["wal-archive", url, "--archive-dir", str(archive)]) == 0
        assert "restart the server" in capsys.readouterr().out
        primary.stop()
        url = primary.start()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE TABLE events (id int PRIMARY KEY, note text)")
        _insert(url, 1, 100, "in the base backup")
        base = basebackup(url, server_dir / "base", sync=False)
        before_base = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        at = _insert(url, 101, 200, "archived WAL, before T")  # T: after this batch's commit
        time.sleep(0.05)
        _insert(url, 201, 300, "after T")
        assert main(["wal-archive", url, "--check"]) == 0
        assert "archived WAL segment" in capsys.readouterr().out
        assert archive_now(url) <= max(p.name for p in archive.iterdir())

        copy = restore_to_time(base.path, archive, at, server_dir / "at-t")
        try:
            with psycopg.connect(copy.url.replace("/postgres?", "/okai?")) as conn:
                rows = conn.execute("SELECT count(*), min(id), max(id) FROM events").fetchone()
                assert rows == (200, 1, 200)
                assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
            assert copy.last_replayed_commit is not None and copy.last_replayed_commit <= at
            assert copy.stopped_before is not None  # the first commit after T, left out
        finally:
            EmbeddedServer(copy.path).stop(mode="immediate")
        with psycopg.connect(url) as conn:  # the source is untouched
            assert conn.execute("SELECT count(*) FROM events").fetchone() == (300,)

        # A moment before the base backup cannot be reached from it (PostgreSQL would silently recover to the
        # backup's end instead): refused before anything is copied, from the CLI in one line.
        assert (
            main(
                [
                    "pitr-restore",
                    "--base",
                    str(base.path),
                    "--archive-dir",
                    str(archive),
                    "--to",
                    before_base.isoformat(),
                    "-o",
                    str(server_dir / "too-early"),
                ]
            )
            == 2
        )
        err = capsys.readouterr().err
        assert err.startswith("okai-insight: error: InvalidInput:") and "Traceback" not in err, err
        assert "before the base backup" in err and not (server_dir / "too-early").exists()
        with pytest.raises(InvalidInput, match="time zone"):
            restore_to_time(base.path, archive, at.replace(tzinfo=None), server_dir / "naive")
        with pytest.raises(InvalidInput, match="not a base backup"):
            restore_to_time(copy.path, archive, at, server_dir / "from-a-started-copy")
    finally:
        primary.stop(mode="immediate")


def test_archive_now_refuses_when_archiving_is_off(small_server):
    with pytest.raises(BackupError, match="WAL archiving is off"):
        archive_now(small_server.url())
