"""Logical and physical backups, each restore verified against its source."""

from __future__ import annotations

import psycopg
import pytest

from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import BackupError, InvalidInput
from okai_insight.ops.backup import (
    Fingerprint,
    backup,
    basebackup,
    database_fingerprint,
    fingerprint_path,
    restore,
)


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
