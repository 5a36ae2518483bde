"""Retention policies: dry run, batched deletes that skip locked rows, Parquet archives and their restore."""

from __future__ import annotations

import polars as pl
import psycopg
import pytest

from okai_insight.errors import InvalidInput
from okai_insight.ops.backup import database_fingerprint
from okai_insight.ops.lifecycle import RetentionPolicy, apply, preview, restore_archive
from tests.ops._data import populate


@pytest.fixture
def data(make_database):
    return populate(make_database("life"), memories=200)


def _count(url: str, where: str = "true") -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM memories WHERE {where}").fetchone()
    return int(row[0])


def test_dry_run_shows_rows_and_bytes_and_changes_nothing(data):
    six_months = preview(data.url, RetentionPolicy(months=6))
    assert six_months.rows == 100 and six_months.row_bytes > 100 * 50
    assert sum(six_months.by_type.values()) == 100 and set(six_months.by_type) == {"messages", "facts"}
    assert six_months.oldest < six_months.newest
    assert "would delete 100 rows" in six_months.summary()
    assert _count(data.url) == 200
    one_agent = preview(data.url, RetentionPolicy(months=6, agent_id=data.agents[0]))
    assert one_agent.rows == 50
    facts_in_room = preview(data.url, RetentionPolicy(days=30, types=("facts",), room_id=data.rooms[0]))
    assert 0 < facts_in_room.rows < 50
    assert preview(data.url, RetentionPolicy(months=24)).rows == 0


def test_batched_delete_archives_first_and_the_archive_restores_exactly(data, tmp_path):
    original = database_fingerprint(data.url)
    result = apply(data.url, RetentionPolicy(months=6), batch_size=30, archive_dir=tmp_path)
    assert result.deleted_rows == 100 and result.batches == 4 and len(result.archive_files) == 4
    assert _count(data.url, "(content->>'old')::boolean") == 0 and _count(data.url) == 100
    archived = pl.concat([pl.read_parquet(f) for f in result.archive_files])
    assert archived.height == 100 and archived["content"].str.contains('"old": true').all()
    assert archived["embedding"].list.len().unique().to_list() == [8]
    assert restore_archive(data.url, result.archive_files) == 100
    assert database_fingerprint(data.url) == original  # rows and embeddings exactly as before
    assert restore_archive(data.url, result.archive_files) == 0  # idempotent


def test_rows_locked_by_others_are_skipped_not_waited_for(data):
    with psycopg.connect(data.url) as other:
        locked = other.execute(
            'SELECT "id" FROM memories WHERE (content->>\'old\')::boolean ORDER BY "id" LIMIT 1 FOR UPDATE'
        ).fetchone()[0]
        result = apply(data.url, RetentionPolicy(months=6), batch_size=50)
        assert result.deleted_rows == 99 and result.longest_batch_ms < 1000
        other.rollback()
    assert preview(data.url, RetentionPolicy(months=6)).rows == 1
    assert _count(data.url, f"\"id\" = '{locked}'") == 1


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"months": -1}, {"days": 1.5}, {"months": 1, "types": "messages"}, {"months": 1, "agent_id": "nope"}],
)
def test_bad_policies_are_refused(kwargs):
    with pytest.raises(InvalidInput):
        RetentionPolicy(**kwargs)


def test_bad_arguments_are_refused(data, tmp_path):
    with pytest.raises(InvalidInput, match="batch_size"):
        apply(data.url, RetentionPolicy(months=6), batch_size=0)
    with pytest.raises(InvalidInput, match="no archive"):
        restore_archive(data.url, tmp_path / "missing.parquet")
    pl.DataFrame({"bogus": [1]}).write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(InvalidInput, match="bogus"):
        restore_archive(data.url, tmp_path / "bad.parquet")
    assert _count(data.url) == 200
