"""The operations subcommands end to end on a real database (exit codes and what they print)."""

from __future__ import annotations

import time

import psycopg
import pytest

from okai_insight.cli import main
from tests.ops._data import populate


@pytest.fixture(scope="module")
def url(make_database):
    return populate(make_database("opscli"), memories=100).url


def test_backup_restore_and_basebackup(url, make_database, tmp_path, small_server, server_dir, capsys):
    dump = tmp_path / "a.dump"
    assert main(["backup", url, "-o", str(dump)]) == 0
    assert main(["backup", url, "-o", str(dump)]) == 2  # exists: bad input, nothing overwritten
    assert main(["restore", str(dump), make_database("clirestore")]) == 0
    assert "verified, " in capsys.readouterr().out
    assert main(["basebackup", small_server.url(), "-o", str(server_dir / "base")]) == 0
    assert (server_dir / "base" / "PG_VERSION").is_file()


def test_maintain_dry_run_says_what_and_why_then_runs(url, capsys):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE scratch WITH (autovacuum_enabled = false) AS SELECT g AS x FROM generate_series(1, 1000) AS g"
        )
        conn.execute("ANALYZE scratch")
        conn.execute("DELETE FROM scratch WHERE x > 100")
    assert main(["maintain", url, "--dry-run", "--table", "scratch"]) == 0
    out = capsys.readouterr().out
    assert 'VACUUM (ANALYZE) "public"."scratch"' in out and "900 dead rows > autovacuum trigger" in out
    assert main(["maintain", url, "--table", "scratch"]) == 0  # dry run changed nothing: it runs now
    assert "done: VACUUM" in capsys.readouterr().out
    assert main(["maintain", url, "--table", "scratch", "--dry-run"]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert main(["maintain", url, "--bloat-ratio", "0.5"]) == 2


def test_retention_dry_run_execute_and_archive_restore(url, tmp_path, capsys):
    assert main(["retention", url, "--older-than-months", "6"]) == 0
    assert "would delete 50 rows" in capsys.readouterr().out
    assert main(["retention", url, "--older-than-months", "6", "--archive", str(tmp_path), "--execute"]) == 0
    assert "deleted 50 rows" in capsys.readouterr().out
    assert main(["retention", url, "--older-than-months", "6"]) == 0
    assert "would delete 0 rows" in capsys.readouterr().out
    assert main(["archive-restore", url, "--archive", str(tmp_path)]) == 0
    assert "restored 50 memories" in capsys.readouterr().out
    assert main(["retention", url]) == 2  # no age: refused


def test_health_metrics_and_replication(url, tmp_path, capsys):
    assert main(["health", url]) == 0
    assert main(["health", f"postgresql://x@/none?host={tmp_path}"]) == 2
    capsys.readouterr()
    assert main(["metrics", url, "--format", "prometheus", "--probes", "1"]) == 0
    out = capsys.readouterr().out
    assert "# TYPE okai_pool_max gauge" in out and "okai_vector_search_latency_ms{" in out
    assert main(["replication", url, "--format", "json"]) == 0
    assert '"role": "primary"' in capsys.readouterr().out
    assert main(["promote", url]) == 2  # not a standby


def test_secure_and_verify_isolation(url, capsys):
    assert main(["secure", url, "--roles", "--isolation", "on", "--audit", "on"]) == 0
    assert main(["verify-isolation", url]) == 0
    assert "isolation verified" in capsys.readouterr().out
    assert main(["secure", url, "--isolation", "off", "--audit", "off"]) == 0
    assert main(["verify-isolation", url]) == 1  # row level security off: not isolated


def test_maintain_a_missing_table_says_so(url, capsys):
    """It answered "nothing to do" for a typo (issue 19 item 8)."""
    assert main(["maintain", url, "--table", "memoires", "--dry-run"]) == 2
    captured = capsys.readouterr()
    assert "NoSuchTable: no such table: 'memoires'" in captured.err and "nothing to do" not in captured.out


def test_replica_create_makes_a_streaming_replica(small_server, server_dir, capsys):
    """okai-insight replica create wraps ops.replicas.create_replica: a real standby of a throwaway server that
    replays what the primary commits (issue 19 item 8)."""
    from okai_insight.embedded import EmbeddedServer
    from okai_insight.ops.replicas import replication_role_and_lag

    with pytest.raises(SystemExit):
        main(["replica", "--help"])
    assert "pg_basebackup -R" in capsys.readouterr().out
    primary = small_server.url()
    data_dir = server_dir / "standby"
    try:
        assert (
            main(["replica", "create", primary, "--data-dir", str(data_dir), "--owner-like", str(server_dir / "small")])
            == 0
        )
        out = capsys.readouterr().out
        standby = EmbeddedServer(data_dir).url()
        assert standby is not None and standby != primary and f"streaming replica running at {standby}" in out
        assert replication_role_and_lag(standby).role == "standby"
        with psycopg.connect(primary, autocommit=True) as conn:
            conn.execute("CREATE TABLE replicated AS SELECT 42 AS answer")
        deadline = time.monotonic() + 30
        while True:  # the standby replays the commit
            with psycopg.connect(standby, autocommit=True) as conn:
                if conn.execute("SELECT to_regclass('replicated') IS NOT NULL").fetchone()[0]:
                    assert conn.execute("SELECT answer FROM replicated").fetchone() == (42,)
                    break
            assert time.monotonic() < deadline, "the standby did not replay the primary's commit"
            time.sleep(0.1)
        assert [s["state"] for s in replication_role_and_lag(primary).standbys] == ["streaming"]
        # A directory that is not empty is refused before anything runs.
        assert main(["replica", "create", primary, "--data-dir", str(data_dir)]) == 2
        assert "is not empty" in capsys.readouterr().err
    finally:
        EmbeddedServer(data_dir).stop(mode="immediate")


def test_restore_errors_are_one_clear_line_naming_no_python_argument(url, make_database, tmp_path, capsys):
    """Issue 19 item 8: restore's errors read ``pg_restore failed: );`` or named a Python argument (``expected=``)
    the CLI does not have. Each failure is now one line saying what is wrong and that nothing changed."""
    dump = tmp_path / "b.dump"
    assert main(["backup", url, "-o", str(dump)]) == 0
    capsys.readouterr()

    def refusal(*argv: str) -> str:
        assert main(["restore", *argv]) != 0
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1, err
        assert "=" not in err.split(":", 1)[1] and not err.rstrip(".").endswith(");"), err
        return err

    assert "no dump at" in refusal(str(tmp_path / "missing.dump"), make_database("restore_err"))
    lone = tmp_path / "lone.dump"
    lone.write_bytes(dump.read_bytes())
    assert "fingerprint file that okai-insight backup writes beside it" in refusal(str(lone), make_database("re2"))
    # A target that already holds the tables, without --clean: PostgreSQL's own reason, and the target unchanged.
    busy = make_database("restore_busy")
    assert main(["restore", str(dump), busy]) == 0
    capsys.readouterr()
    message = refusal(str(dump), busy)
    assert "rolled back, the target is unchanged" in message and "already exists" in message, message
