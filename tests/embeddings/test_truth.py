"""The streamed exact top-k (one pass over the table) equals the per-query exact scans, for every operator."""

from __future__ import annotations

import uuid

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

from okai_insight.embeddings import _truth as truth
from okai_insight.embeddings import recall, tune_recall
from okai_insight.embeddings._elizaos1 import resolve
from okai_insight.runner import using

N, DIM, K = 3000, 16, 10


@pytest.fixture(scope="module")
def truth_table(pg_url):
    """3,000 clustered vectors (some exact duplicates, a zero vector, a NULL), spread over many pages."""
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(8, DIM))
    X = (centres[rng.integers(0, 8, N)] + 0.5 * rng.normal(size=(N, DIM))).astype(np.float32)
    X[10:14] = X[9]  # duplicates: ties at the k-th distance must not break equality of the distance lists
    X[20] = 0.0
    ids = [uuid.uuid4() for _ in range(N)]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS truth_items")
        conn.execute(f"CREATE TABLE truth_items (id uuid PRIMARY KEY, pad text, embedding vector({DIM}))")
        with conn.cursor() as cur, cur.copy("COPY truth_items (id, pad, embedding) FROM STDIN") as copy:
            for i in range(N):
                copy.write_row((ids[i], "x" * 200, "[" + ",".join(f"{x:.9g}" for x in X[i]) + "]"))
            copy.write_row((uuid.uuid4(), "null", None))
        conn.execute("DELETE FROM truth_items WHERE id = %s", (ids[5],))  # a dead tuple in the pages read
        conn.execute("CREATE INDEX truth_hnsw ON truth_items USING hnsw (embedding vector_cosine_ops)")
        conn.execute("ANALYZE truth_items")
    return X


def _per_query(run, t, Q, op):
    from psycopg import sql

    out_ids, out_d = [], []
    statement = sql.SQL(
        "SELECT id::text AS id, (embedding {op} %(q)s::vector)::float8 AS distance FROM truth_items "
        "ORDER BY embedding {op} %(q)s::vector LIMIT %(k)s"
    ).format(op=sql.SQL(op))
    with run.transaction(settings={"enable_indexscan": "off"}, vectors=True) as tx:
        for q in Q:
            rows = tx.execute(statement, {"q": q, "k": K}).rows
            out_ids.append([r["id"] for r in rows])
            out_d.append([r["distance"] for r in rows])
    return out_ids, out_d


@pytest.mark.parametrize("op", ["<=>", "<->", "<#>"])
def test_streamed_topk_equals_the_per_query_scans(truth_table, pg_url, op, monkeypatch):
    X = truth_table
    Q = X[[0, 9, 21, 33, 500, 2999]]
    with using(pg_url) as run:
        tables, _ = resolve(run, "truth_items", "embedding")
        t = tables[0]
        monkeypatch.setattr(type(t), "operator", property(lambda self: op))
        expected_ids, expected_d = _per_query(run, t, Q, op)
        with run.transaction(vectors=True) as tx:
            assert truth.supported(tx, t)
            # a few pages a read: the rows cross many COPY statements
            ids, dists = truth.streamed_topk(tx, t, Q, K, pages_per_read=7)
    for i in range(len(Q)):
        assert dists[i] == pytest.approx(expected_d[i], abs=1e-9)
        # equal distances (duplicates) may come in another order; every other row is the same
        assert len(ids[i]) == K
        tied = {d for d in expected_d[i] if expected_d[i].count(d) > 1}
        assert [a for a, d in zip(ids[i], dists[i], strict=True) if d not in tied] == [
            a for a, d in zip(expected_ids[i], expected_d[i], strict=True) if d not in tied
        ]


def test_tune_recall_from_the_stream_equals_the_per_query_baseline(truth_table, pg_url, monkeypatch):
    kwargs = {"table": "truth_items", "k": K, "ef_search": (10, 40), "queries": 30, "scopes": ("all",)}
    monkeypatch.setattr(recall, "STREAMED_TRUTH_ROWS", 10**12)
    scans = tune_recall(pg_url, **kwargs)
    monkeypatch.setattr(recall, "STREAMED_TRUTH_ROWS", 0)
    monkeypatch.setattr(truth, "PAGES_PER_READ", 5)
    streamed = tune_recall(pg_url, **kwargs)
    assert scans.summary["exact_from_stream"] is False
    assert streamed.summary["exact_from_stream"] is True
    for ef in (10, 40):
        assert streamed.recall("all", ef) == pytest.approx(scans.recall("all", ef))
    exact_scans = {r["query_id"]: r["ids"] for r in scans.table("exact")}
    exact_streamed = {r["query_id"]: r["ids"] for r in streamed.table("exact")}
    assert exact_streamed.keys() == exact_scans.keys()
    for q, ids in exact_scans.items():
        assert len(exact_streamed[q]) == len(ids)
        assert len(set(exact_streamed[q]) & set(ids)) >= len(ids) - 4  # at most the duplicates' tie order differs


def test_a_partitioned_table_keeps_the_per_query_scans(truth_table, pg_url):
    """Page ranges cover one heap: a partitioned table's rows live in its partitions, so it is never streamed."""
    rng = np.random.default_rng(12)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("DROP TABLE IF EXISTS truth_parts")
        conn.execute(f"CREATE TABLE truth_parts (id uuid, k int, embedding vector({DIM})) PARTITION BY RANGE (k)")
        conn.execute("CREATE TABLE truth_parts_a PARTITION OF truth_parts FOR VALUES FROM (0) TO (50)")
        conn.execute("CREATE TABLE truth_parts_b PARTITION OF truth_parts FOR VALUES FROM (50) TO (100)")
        with conn.cursor() as cur, cur.copy("COPY truth_parts (id, k, embedding) FROM STDIN") as copy:
            for i in range(100):
                copy.write_row((uuid.uuid4(), i, "[" + ",".join(f"{x:.6g}" for x in rng.normal(size=DIM)) + "]"))
    with using(pg_url) as run:
        tables, _ = resolve(run, "truth_parts", "embedding")
        with run.transaction(vectors=True) as tx:
            assert not truth.supported(tx, tables[0])
        tables, _ = resolve(run, "truth_items", "embedding")
        with run.transaction(vectors=True) as tx:
            assert truth.supported(tx, tables[0])
