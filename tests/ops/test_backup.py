"""Logical and physical backups, each restore verified against its source."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import psutil
import psycopg
import pytest
from psycopg import sql

from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import BackupError, ConnectionFailed, InvalidInput
from okai_insight.ops._client_tools import client_connection
from okai_insight.ops._restore import restore_in_one_transaction
from okai_insight.ops.backup import (
    Fingerprint,
    backup,
    basebackup,
    database_fingerprint,
    fingerprint_path,
    fingerprint_statement,
    restore,
)
from tests.ops._data import populate


def test_backup_and_restore_reproduce_rows_and_embeddings(filled, make_database, tmp_path):
    made = backup(filled.url, tmp_path / "a.dump")
    assert made.size_bytes > 0 and fingerprint_path(made.path).is_file()
    assert made.fingerprint.row_counts["public.memories"] == filled.memories
    assert set(made.fingerprint.embedding_checksums) >= {"public.memories.embedding", "public.knowledge.embedding"}
    target = make_database("restored")
    result = restore(made.path, target)
    assert result.verified and result.differences == []
    assert database_fingerprint(target) == made.fingerprint
    with psycopg.connect(target) as conn:
        row = conn.execute("SELECT count(*) FROM memories WHERE embedding IS NOT NULL").fetchone()
    assert row == (filled.memories,)


def test_fingerprint_is_the_dumps_snapshot_not_later_writes(filled, make_database, tmp_path):
    made = backup(filled.url, tmp_path / "b.dump")
    with psycopg.connect(filled.url) as conn:  # a write after the dump: not in the dump, not in its fingerprint
        mid, original = conn.execute('SELECT "id", embedding::text FROM memories ORDER BY "id" LIMIT 1').fetchone()
        conn.execute('UPDATE memories SET embedding = embedding + embedding WHERE "id" = %s', (mid,))
    try:
        assert database_fingerprint(filled.url).differences(made.fingerprint) == [
            "public.memories.embedding: embedding checksum differs"
        ]
        assert restore(made.path, make_database("snap")).verified
    finally:
        with psycopg.connect(filled.url) as conn:
            conn.execute('UPDATE memories SET embedding = %s::vector WHERE "id" = %s', (original, mid))
    assert database_fingerprint(filled.url) == made.fingerprint


def test_a_restore_that_differs_from_its_source_is_refused(filled, make_database, tmp_path):
    made = backup(filled.url, tmp_path / "c.dump")
    counts = dict(made.fingerprint.row_counts, **{"public.memories": filled.memories + 1})
    wrong = Fingerprint(counts, made.fingerprint.embedding_checksums)
    with pytest.raises(BackupError, match=r"public\.memories: 201 rows in the source, 200 here"):
        restore(made.path, make_database("wrong"), expected=wrong)


def test_bad_input_is_refused_before_anything_runs(filled, tmp_path):
    (tmp_path / "exists.dump").write_text("x")
    with pytest.raises(InvalidInput, match="exists"):
        backup(filled.url, tmp_path / "exists.dump")
    with pytest.raises(InvalidInput, match="does not exist"):
        backup(filled.url, tmp_path / "nodir" / "x.dump")
    with pytest.raises(InvalidInput, match="no dump"):
        restore(tmp_path / "missing.dump", filled.url)
    with pytest.raises(InvalidInput, match=r"fingerprint\.json is missing"):
        restore(tmp_path / "exists.dump", filled.url)


def test_a_corrupt_dump_is_a_backup_error(filled, tmp_path):
    bad = tmp_path / "bad.dump"
    bad.write_bytes(b"not a dump")
    fingerprint_path(bad).write_text(Fingerprint({}).to_json())
    with pytest.raises(BackupError, match="pg_restore failed"):
        restore(bad, filled.url)


def test_basebackup_is_a_startable_physical_copy(small_server, server_dir):
    url = small_server.url()
    source = database_fingerprint(url)
    assert source.row_counts["public.memories"] == 50
    copy = basebackup(url, server_dir / "base", owner_like=small_server.data_dir, sync=False)
    assert (copy.path / "PG_VERSION").is_file() and copy.size_bytes > 0
    server = EmbeddedServer(copy.path)
    try:
        copied = server.start()
        assert copied != url
        assert database_fingerprint(copied) == source
    finally:
        server.stop(mode="immediate")
    with pytest.raises(InvalidInput, match="not empty"):
        basebackup(url, server_dir / "base")


# -- a damaged dump or fingerprint never touches the target ----------------------------------------------------------


@pytest.fixture(scope="module")
def good_dump(make_database, tmp_path_factory):
    """One verified dump of 500 memories: enough that the data, not the table of contents, fills most of the file
    (with 200, the old restore failed before its drops for a cut in the middle; with 400 it emptied the target)."""
    source = populate(make_database("dmgsrc"), memories=500)
    return backup(source.url, tmp_path_factory.mktemp("dumps") / "good.dump")


@pytest.fixture(scope="module")
def restored_template(good_dump, make_database):
    """A database restored from the good dump, to copy targets from (CREATE DATABASE ... TEMPLATE: a file copy,
    much cheaper than a restore per test)."""
    url = make_database("restored_tpl")
    restore(good_dump.path, url)
    return url.split("?")[0].rsplit("/", 1)[1]


def _damaged_copy(good, tmp_path, damage):
    """A copy of the good dump and its fingerprint file with one kind of damage done to it."""
    dump = tmp_path / "damaged.dump"
    dump.write_bytes(good.path.read_bytes())
    side = fingerprint_path(dump)
    side.write_bytes(good.fingerprint_path.read_bytes())
    data = bytearray(dump.read_bytes())
    if damage == "truncated":
        dump.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "flipped_bytes":
        mid = len(data) // 2
        data[mid : mid + 16] = bytes(b ^ 0xFF for b in data[mid : mid + 16])
        dump.write_bytes(bytes(data))
    elif damage == "zeroed_header":
        data[:64] = bytes(64)
        dump.write_bytes(bytes(data))
    elif damage == "appended_garbage":
        dump.write_bytes(bytes(data) + b"garbage" * 100)
    elif damage == "fingerprint_counts_edited":  # the dump is intact, the fingerprint lies about it
        recorded = json.loads(side.read_text())
        recorded["row_counts"]["public.memories"] += 1
        side.write_text(json.dumps(recorded))
    elif damage == "fingerprint_checksum_edited":
        recorded = json.loads(side.read_text())
        recorded["dump"]["sha256"] = "0" * 64
        side.write_text(json.dumps(recorded))
    elif damage == "fingerprint_missing":
        side.unlink()
    elif damage == "fingerprint_corrupt_json":
        side.write_text(side.read_text()[:-7])
    else:
        raise AssertionError(damage)
    return dump


def _tables(url):
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
        )
        return sorted(r[0] for r in rows)


DAMAGES = [
    "truncated",
    "flipped_bytes",
    "zeroed_header",
    "appended_garbage",
    "fingerprint_counts_edited",
    "fingerprint_checksum_edited",
    "fingerprint_missing",
    "fingerprint_corrupt_json",
]


@pytest.mark.parametrize("damage", DAMAGES)
def test_restore_clean_with_a_damaged_dump_or_fingerprint_keeps_the_target(
    damage, good_dump, restored_template, make_database, tmp_path
):
    """The red-team run: restore --clean with a damaged dump took 20,000 memories to 0 in 6 of 6 damage types."""
    target = make_database("dmg_clean", template=restored_template)
    before = database_fingerprint(target)
    assert before.row_counts["public.memories"] == 500
    dump = _damaged_copy(good_dump, tmp_path, damage)
    with pytest.raises((BackupError, InvalidInput)) as caught:
        restore(dump, target, clean=True)
    assert (
        "nothing was restored" in str(caught.value)
        or "target is unchanged" in str(caught.value)
        or (damage == "fingerprint_missing" and "is missing" in str(caught.value))
    )
    assert database_fingerprint(target) == before


@pytest.mark.parametrize("damage", DAMAGES)
def test_restore_with_a_damaged_dump_or_fingerprint_leaves_an_empty_target_empty(
    damage, good_dump, make_database, tmp_path
):
    """Without --clean the red-team run left an empty target half-restored (11 empty tables)."""
    target = make_database("dmg_empty")
    dump = _damaged_copy(good_dump, tmp_path, damage)
    with pytest.raises((BackupError, InvalidInput)):
        restore(dump, target)
    assert _tables(target) == []


def test_a_damaged_archive_that_passes_the_pre_checks_is_rolled_back(
    good_dump, restored_template, make_database, tmp_path
):
    """The second wall, on its own: the restore's one transaction. A truncated archive fed straight to it (no
    checksum, no --list) stops pg_restore before its COMMIT, so neither --clean's drops nor the tables made so
    far survive."""
    truncated = tmp_path / "cut.dump"
    truncated.write_bytes(good_dump.path.read_bytes()[: good_dump.size_bytes * 3 // 4])
    expected = good_dump.fingerprint.as_json_object()
    full = make_database("wall_full", template=restored_template)
    before = database_fingerprint(full)
    with psycopg.connect(full) as conn:
        check = fingerprint_statement(conn)
    failure = restore_in_one_transaction(truncated, full, expected=expected, check=check, clean=True)
    assert failure is not None  # psql stopped at the cut COPY data, or reached its end without COMMIT
    assert database_fingerprint(full) == before
    empty = make_database("wall_empty")
    assert restore_in_one_transaction(truncated, empty, expected=expected, check=check, clean=False) is not None
    assert _tables(empty) == []


def test_without_clean_a_target_holding_one_of_the_tables_is_not_half_restored(good_dump, make_database):
    target = make_database("half")
    with psycopg.connect(target) as conn:
        conn.execute("CREATE TABLE rooms (note text)")  # late in the dump's order: the other tables come first
    with pytest.raises(BackupError, match=r'relation "rooms" already exists.*|already exists'):
        restore(good_dump.path, target)
    assert _tables(target) == ["rooms"]


def test_the_restore_check_runs_before_the_commit(good_dump, restored_template, make_database):
    """A fingerprint that the restored rows do not reproduce rolls the restore back, --clean's drops included."""
    target = make_database("check_clean", template=restored_template)
    with psycopg.connect(target) as conn:
        conn.execute("DELETE FROM memories WHERE ctid IN (SELECT ctid FROM memories LIMIT 7)")
    before = database_fingerprint(target)
    wrong = Fingerprint(
        dict(good_dump.fingerprint.row_counts, **{"public.memories": 501}), good_dump.fingerprint.embedding_checksums
    )
    with pytest.raises(BackupError, match=r"public\.memories: 501 rows in the source, 500 here.*unchanged"):
        restore(good_dump.path, target, clean=True, expected=wrong)
    assert database_fingerprint(target) == before and before.row_counts["public.memories"] == 493


def test_cli_restore_of_a_damaged_dump_is_one_line_and_exit_1(
    good_dump, restored_template, make_database, tmp_path, capsys
):
    from okai_insight.cli import main

    target = make_database("dmg_cli", template=restored_template)
    before = database_fingerprint(target)
    for damage in ("flipped_bytes", "fingerprint_corrupt_json"):
        dump = _damaged_copy(good_dump, tmp_path, damage)
        assert main(["restore", str(dump), target, "--clean"]) == 1
        err = capsys.readouterr().err
        assert err.startswith("okai-insight: error: BackupError:") and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1
    assert database_fingerprint(target) == before


def test_cli_basebackup_taken_as_root_is_startable(small_server, server_dir, capsys):
    """The red-team run (as root): the CLI's copy failed to start with pg_control: Permission denied, since its
    files were root's and the server runs as another user."""
    from okai_insight.cli import main

    dest = server_dir / "cli-base"
    assert main(["basebackup", small_server.url(), "-o", str(dest)]) == 0
    assert f"server start --data-dir {dest}" in capsys.readouterr().out
    copy = EmbeddedServer(dest)
    try:
        copied = copy.start()
        assert copied != small_server.url()
        with psycopg.connect(copied) as conn:
            assert conn.execute("SELECT count(*) FROM memories").fetchone() == (50,)
    finally:
        copy.stop(mode="immediate")


# -- the password never reaches a child's command line ---------------------------------------------------------------

PASSWORD = "S3cret:pa55\\word"  # a colon and a backslash: the password file's escaping matters


@pytest.fixture(scope="module")
def password_server():
    """A server of its own where the role okai_pw must give a password (scram) for databases and replication;
    yields (server, url with the password, admin url)."""
    root = Path(tempfile.mkdtemp(prefix="okai-pw-"))
    server = EmbeddedServer(root / "pg")
    try:
        admin = server.start()
        populate(admin, memories=20)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE okai_pw LOGIN SUPERUSER REPLICATION PASSWORD {}").format(sql.Literal(PASSWORD))
            )
            conn.execute("CREATE SCHEMA other")
            conn.execute("CREATE TABLE other.blocker (x int)")
        hba = server.data_dir / "pg_hba.conf"
        rules = "local all okai_pw scram-sha-256\nlocal replication okai_pw scram-sha-256\n"
        hba.write_text(rules + hba.read_text())
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
        url = admin.replace("postgres:@", f"okai_pw:{quote(PASSWORD, safe='')}@")
        with pytest.raises(psycopg.OperationalError, match="password"):  # the password is really needed
            psycopg.connect(url.replace(quote(PASSWORD, safe=""), "wrong"), connect_timeout=5).close()
        yield server, url, admin
    finally:
        server.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _child_named(name, timeout_s=30.0):
    """Our running child process ``name`` (waiting for it to appear)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for child in psutil.Process().children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.name() == name:
                    return child
        time.sleep(0.02)
    raise AssertionError(f"no {name} child appeared")


def _what_others_see(pid):
    """The command line as any local user reads it, and the environment (only its user and root can)."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    environ = Path(f"/proc/{pid}/environ").read_bytes().decode(errors="replace")
    return cmdline, environ


def test_the_helper_keeps_the_password_off_the_command_line():
    url = f"postgresql://okai_pw:{quote(PASSWORD, safe='')}@/okai?host=/tmp"
    with client_connection(url) as child:
        assert PASSWORD not in child.dsn and "password" not in child.dsn
        assert "user=okai_pw" in child.dsn and "host=/tmp" in child.dsn
        passfile = Path(child.env["PGPASSFILE"])
        assert passfile.stat().st_mode & 0o777 == 0o600
        assert passfile.read_text() == "*:*:*:*:S3cret\\:pa55\\\\word\n"
        assert PASSWORD not in " ".join(f"{k}={v}" for k, v in child.env.items() if k != "PGPASSWORD")
    assert not passfile.exists()
    with client_connection(url.replace("@/okai?", "@/okai?password=other&")) as child:  # ?password= too
        assert "other" not in child.dsn


def test_pg_dump_runs_without_the_password_in_its_argv(password_server, tmp_path):
    """Observe the real pg_dump: it is held on a lock (a table outside the fingerprinted schema) while we read
    /proc/<pid>/cmdline, then released; the dump, made with scram authentication, is complete."""
    server, url, admin = password_server
    holder = psycopg.connect(admin)
    holder.execute("LOCK TABLE other.blocker IN ACCESS EXCLUSIVE MODE")
    result = {}
    worker = threading.Thread(target=lambda: result.update(made=backup(url, tmp_path / "pw.dump")))
    worker.start()
    try:
        child = _child_named("pg_dump")
        cmdline, environ = _what_others_see(child.pid)
        assert "okai_pw" in cmdline and PASSWORD not in cmdline and quote(PASSWORD, safe="") not in cmdline
        assert PASSWORD not in environ and "PGPASSFILE=" in environ
    finally:
        holder.rollback()
        holder.close()
        worker.join(60)
    assert result["made"].fingerprint.row_counts["public.memories"] == 20


def test_restore_runs_psql_without_the_password_in_its_argv(password_server, tmp_path):
    """psql is held by --clean's DROP on a table another session reads, while we read its command line."""
    server, url, admin = password_server
    made = backup(url, tmp_path / "pw2.dump")
    holder = psycopg.connect(admin)
    holder.execute("SELECT count(*) FROM memories").fetchone()  # an ACCESS SHARE lock until rollback
    result = {}
    worker = threading.Thread(target=lambda: result.update(done=restore(made.path, url, clean=True)))
    worker.start()
    try:
        child = _child_named("psql")
        cmdline, environ = _what_others_see(child.pid)
        assert "okai_pw" in cmdline and PASSWORD not in cmdline and quote(PASSWORD, safe="") not in cmdline
        assert PASSWORD not in environ
    finally:
        holder.rollback()
        holder.close()
        worker.join(60)
    assert result["done"].verified


def test_basebackup_with_a_password_and_errors_without_it(password_server, server_dir):
    server, url, admin = password_server
    copy = basebackup(url, server_dir / "pwbase", sync=False)
    assert (copy.path / "PG_VERSION").is_file()
    wrong = url.replace(quote(PASSWORD, safe=""), "Wr0ng-pa55word")
    for call in (
        lambda: backup(wrong, server_dir / "x.dump"),
        lambda: basebackup(wrong, server_dir / "wrongbase", sync=False),
    ):
        with pytest.raises((BackupError, ConnectionFailed)) as caught:
            call()
        assert "Wr0ng-pa55word" not in str(caught.value) and "password authentication failed" in str(caught.value)


def test_the_fingerprint_query_file_follows_the_library_style():
    from okai_insight.query_files import all_queries, load_sql

    assert [q for q in all_queries() if q[0] == "ops"] == [("ops", "fingerprint")]
    text = load_sql("ops", "fingerprint")
    assert text.startswith("-- fingerprint:") and "-- Parameters:" in text
    assert all("%" not in line for line in text.splitlines() if line.lstrip().startswith("--"))
