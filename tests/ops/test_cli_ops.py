"""The operations subcommands end to end on a real database (exit codes and what they print)."""

from __future__ import annotations

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
