"""Maintenance plans (dead rows, stale statistics, bloated HNSW index) and their execution with progress."""

from __future__ import annotations

import psycopg
import pytest

from okai_insight.errors import InvalidInput, NoSuchTable, NotFound
from okai_insight.ops.maintenance import Action, expected_hnsw_bytes, plan, reindex_work_mem_bytes, run
from tests.ops._data import populate


@pytest.fixture(scope="module")
def url(make_database):
    target = make_database("maint")
    with psycopg.connect(target, autocommit=True) as conn:  # tables must exist before autovacuum is turned off
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    populate(target, memories=1500)
    with psycopg.connect(target, autocommit=True) as conn:
        for table in ("memories", "accounts", "rooms"):  # no background autovacuum racing the assertions
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.execute("VACUUM ANALYZE")
    return target


def _kinds(actions, name):
    return [a.kind for a in actions if a.name == name]


def test_a_healthy_database_needs_nothing(url):
    assert plan(url, table="memories") == []


def test_dead_rows_then_a_bloated_vector_index_are_found_and_fixed(url):
    with psycopg.connect(url) as conn:
        conn.execute('DELETE FROM memories WHERE "id" IN (SELECT "id" FROM memories ORDER BY "id" LIMIT 1200)')
    first = plan(url, table="memories")
    assert [(a.kind, a.name) for a in first] == [("vacuum", "memories"), ("reindex", "idx_memories_embedding")]
    assert first[0].details["dead_rows"] == 1200 and "autovacuum trigger" in first[0].reason
    assert first[0].sql == 'VACUUM (ANALYZE) "public"."memories"'
    done = run(url, first[:1], progress=False)
    assert done[0].duration_ms > 0

    second = plan(url, table="memories")  # vacuum frees the rows but never shrinks the HNSW file
    assert [a.kind for a in second] == ["reindex"]
    action = second[0]
    assert action.sql == 'REINDEX INDEX CONCURRENTLY "public"."idx_memories_embedding"'
    assert "bloated vector index" in action.reason
    assert action.details["ratio"] > 3  # 300 live rows in an index built for 1500
    (result,) = run(url, second, progress=False)
    assert result.maintenance_work_mem_bytes == reindex_work_mem_bytes(result.size_before_bytes)
    assert result.size_after_bytes < result.size_before_bytes / 3
    assert result.progress_samples >= 1  # read from pg_stat_progress_create_index while it ran
    assert plan(url, table="memories") == []
    with psycopg.connect(url) as conn:  # the index is valid and used after the rebuild
        valid = conn.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 'idx_memories_embedding'::regclass"
        ).fetchone()
    assert valid == (True,)


def test_stale_statistics_ask_for_analyze(url):
    with psycopg.connect(url) as conn:
        conn.execute('UPDATE rooms SET "createdAt" = "createdAt"')  # 2 rows changed: below the trigger of 50
    assert plan(url, table="rooms") == []
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE fresh AS SELECT g AS x FROM generate_series(1, 100) AS g")
        conn.execute("ALTER TABLE fresh SET (autovacuum_enabled = false)")
    (action,) = plan(url, table="fresh")
    assert action.kind == "analyze" and "never analysed" in action.reason
    run(url, [action], progress=False)
    assert plan(url, table="fresh") == []


def test_estimates_and_bad_input():
    assert expected_hnsw_bytes(1000, 384, type_name="halfvec") < expected_hnsw_bytes(1000, 384)
    assert reindex_work_mem_bytes(10**12) == 4 * 1024**3
    with pytest.raises(InvalidInput):
        plan("postgresql://unused", bloat_ratio=0.5)
    with pytest.raises(InvalidInput):
        Action("drop", "public", "memories", "").statement()


def test_a_missing_table_is_named_not_called_healthy(url):
    """maintain --table with a name no table has was "nothing to do" (issue 19 item 8): now a typed error."""
    with pytest.raises(NoSuchTable, match="no such table: 'memoires'"):
        plan(url, table="memoires")
    assert issubclass(NoSuchTable, InvalidInput) and issubclass(NoSuchTable, NotFound)
    assert plan(url, table="accounts") == []  # a table that exists and needs nothing is still just that
