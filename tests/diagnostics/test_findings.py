"""Each diagnostic finds its planted defect and stays quiet on the healthy database."""

from __future__ import annotations

from okai_insight.diagnostics import activity, indexes, maintenance, statements, vectors


def subjects(result, severity=None):
    return {f.subject for f in result.findings if severity is None or f.severity == severity}


def loud(result):
    return [f for f in result.findings if f.severity != "info"]


def test_duplicate_index(planted, healthy):
    r = indexes.duplicate_indexes(planted.url)
    assert subjects(r) == {"public.planted_dup_type"}
    assert r.findings[0].fix_sql == "DROP INDEX CONCURRENTLY public.planted_dup_type;"
    assert r.rows[0]["covered_by"] == "idx_memories_type_room"
    assert "PgHero" in r.findings[0].source
    assert indexes.duplicate_indexes(healthy).findings == []


def test_unused_index(planted, healthy):
    r = indexes.unused_indexes(planted.url)
    assert "public.planted_unused_pad" in subjects(r, "warning")
    row = next(x for x in r.rows if x["index"] == "planted_unused_pad")
    assert row["size_bytes"] >= 10 * 1024 * 1024 and row["index_scans"] == 0
    assert indexes.unused_indexes(healthy).findings == []


def test_invalid_index(planted, healthy):
    r = indexes.invalid_indexes(planted.url)
    assert subjects(r, "critical") == {"public.planted_invalid"}
    assert "REINDEX INDEX CONCURRENTLY public.planted_invalid" in r.findings[0].fix_sql
    assert indexes.invalid_indexes(healthy).findings == []


def test_foreign_key_without_index_and_sequential_scans(planted, healthy):
    fk = indexes.foreign_keys_without_index(planted.url)
    assert subjects(fk, "warning") == {"public.planted_child"}
    assert fk.findings[0].fix_sql == "CREATE INDEX CONCURRENTLY ON public.planted_child (parent_id);"
    seq = indexes.sequential_scans(planted.url)
    assert "public.planted_child" in subjects(seq, "warning"), seq.note
    assert loud(indexes.foreign_keys_without_index(healthy)) == []
    assert loud(indexes.sequential_scans(healthy)) == []


def test_dead_rows_and_autovacuum_off(planted, healthy):
    r = maintenance.vacuum_stats(planted.url)
    row = next(x for x in r.rows if x["table"] == "planted_dead")
    assert row["dead_rows"] == 15000 and row["autovacuum_enabled"] is False
    warn = [f for f in r.findings if f.subject == "public.planted_dead" and f.severity == "warning"]
    assert warn and warn[0].fix_sql == "VACUUM (ANALYZE) public.planted_dead;"
    assert loud(maintenance.vacuum_stats(healthy)) == []


def test_wraparound_and_sequences_quiet(planted, healthy):
    for db in (planted.url, healthy):
        assert maintenance.transaction_id_danger(db).findings == []
        assert maintenance.sequence_danger(db).findings == []
        assert maintenance.database_xid_age(db).findings == []
    # the queries do return data when the thresholds are loosened
    assert maintenance.transaction_id_danger(planted.url, threshold=2**31).rows


def test_long_running_and_idle_in_transaction(planted, healthy):
    r = activity.long_running_queries(planted.url, min_duration_ms=1000)
    assert f"pid {planted.long_pid}" in subjects(r, "warning")
    assert f"pg_cancel_backend({planted.long_pid})" in next(
        f.fix_sql for f in r.findings if f.subject == f"pid {planted.long_pid}"
    )
    assert activity.long_running_queries(planted.url).findings == []  # nothing has run for 60 s
    idle = activity.idle_in_transaction(planted.url, min_idle_ms=500)
    assert subjects(idle) == {f"pid {planted.blocker_pid}"}
    assert idle.rows[0]["locks_held"] >= 1
    assert activity.long_running_queries(healthy, min_duration_ms=1000).findings == []
    assert activity.idle_in_transaction(healthy, min_idle_ms=0).findings == []


def test_lock_tree(planted, healthy):
    r = activity.blocked_queries(planted.url)
    assert subjects(r, "critical") == {f"pid {planted.blocker_pid}"}
    by_pid = {x["pid"]: x for x in r.rows}
    assert by_pid[planted.blocked_pid]["blocked_by"] == [planted.blocker_pid]
    assert by_pid[planted.blocker_pid]["depth"] == 0 and by_pid[planted.blocked_pid]["depth"] == 1
    assert by_pid[planted.blocked_pid]["waiting_for_relation"] == "planted_parent"
    tree = activity.lock_tree_text(r.rows).splitlines()
    assert tree[0].startswith(f"pid {planted.blocker_pid} idle in transaction")
    assert tree[1].startswith(f"  pid {planted.blocked_pid} waits (AccessShareLock on planted_parent)")
    assert activity.blocked_queries(healthy).rows == []


def test_vector_columns(planted, healthy):
    r = vectors.vector_columns(planted.url)
    mixed = next(x for x in r.rows if x["table"] == "planted_vectors")
    assert mixed["declared_dims"] is None and mixed["stored_dims"] == {"3": 3, "4": 1}
    assert mixed["null_vectors"] == 1 and mixed["zero_vectors"] == 1
    crit = [f for f in r.findings if f.severity == "critical"]
    assert [f.subject for f in crit] == ["public.planted_vectors.embedding"]
    assert "ALTER TABLE public.planted_vectors ALTER COLUMN embedding TYPE vector(3)" in crit[0].fix_sql
    mem = next(x for x in r.rows if x["table"] == "memories")
    assert mem["declared_dims"] == 384 and mem["zero_vectors"] == 3 and mem["null_vectors"] == 1
    zero = [f for f in r.findings if f.subject == "public.memories.embedding" and "zero" in f.message]
    assert zero and zero[0].severity == "warning"  # the cosine index cannot hold them
    h = vectors.vector_columns(healthy)
    assert loud(h) == [] and {x["table"] for x in h.rows} == {"memories", "knowledge"}


def test_vector_indexes(planted, healthy):
    for db in (planted.url, healthy):
        r = vectors.vector_indexes(db)
        mem = next(x for x in r.rows if x["index"] == "idx_memories_embedding")
        assert (mem["method"], mem["opclass"], mem["operator"], mem["m"], mem["ef_construction"]) == (
            "hnsw",
            "vector_cosine_ops",
            "<=>",
            16,
            64,
        )
        assert loud(r) == []


def test_vector_queries_flag_elizaos_operator_mismatch(planted, healthy):
    r = vectors.vector_queries(planted.url)
    crit = [f for f in r.findings if f.severity == "critical"]
    assert len(crit) == 1 and "<-> (L2 distance)" in crit[0].message
    # The corrected query is offered only when its EXPLAIN scans the index; the planted table is small enough that
    # even <=> plans a sequential scan, so the correction is withdrawn and the message says why (issue 15 item 3).
    assert "corrected query" not in crit[0].fix_sql
    assert "EXPLAIN of it did not use idx_memories_embedding" in crit[0].message
    assert "USING hnsw (embedding vector_l2_ops)" in crit[0].fix_sql  # or the index for the app as it is
    codes = {c for row in r.rows for c in row["problems"]}
    assert {"operator_mismatch", "order_by_similarity", "distance_not_in_order_by"} <= codes
    h = vectors.vector_queries(healthy)
    assert h.rows, "the adapter's own searches are found and checked"
    assert h.findings == [], [f.message for f in h.findings]


def test_statements(planted, healthy, bare):
    top = statements.query_stats(planted.url, limit=5)
    assert top.status == "ok" and 0 < len(top.rows) <= 5
    assert top.rows == sorted(top.rows, key=lambda x: -x["total_ms"])
    slow = statements.slow_queries(planted.url, min_mean_ms=0, min_calls=20)
    assert any("planted_child" in x["query"] for x in slow.rows)
    assert statements.slow_queries(healthy).findings == []
    missing = statements.slow_queries(bare)
    assert missing.status == "unavailable"
    assert "CREATE EXTENSION pg_stat_statements" in missing.note
    assert missing.findings[0].fix_sql == "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"
