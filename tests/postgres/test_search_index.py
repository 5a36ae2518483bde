"""The PostgreSQL adapter's searches are served by the HNSW index, and filtered searches keep their recall."""

from __future__ import annotations

import itertools
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters._pg_profile_sql import MemoryQueryShape
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

DIM = 32
N = 3000


def _clustered(rng: np.random.Generator, n: int, dim: int, clusters: int = 30) -> np.ndarray:
    centres = rng.normal(size=(clusters, dim))
    data = centres[rng.integers(0, clusters, size=n)] + 0.3 * rng.normal(size=(n, dim))
    return (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def loaded(pg_url):
    db = PostgresAdapter(pg_url, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=1), dimension=DIM)
    db.init()
    rng = np.random.default_rng(7)
    vectors = _clustered(rng, N, DIM)
    agent = uuid.uuid4()
    db.create_account(Account(id=agent, name="Eliza", email="eliza@example.org"))
    big, small = db.create_room(), db.create_room()
    rooms = [small if i % 100 == 0 else big for i in range(N)]  # the small room holds 1 % of rows
    ids = db.create_memories(
        [
            Memory(room_id=r, agent_id=agent, content={"i": i}, embedding=v)
            for i, (r, v) in enumerate(zip(rooms, vectors, strict=True))
        ],
        "messages",
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    yield db, vectors, np.array(ids), np.array(rooms), small
    db.close()


def _index_scans(url: str) -> int:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT pg_stat_force_next_flush()")
        row = conn.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'idx_memories_embedding'"
        ).fetchone()
        return int(row[0])


def test_explain_shows_the_hnsw_index(loaded, pg_url):
    db, vectors, *_ = loaded
    query = db.profile_sql.search_index(MemoryQueryShape()).as_string()
    params = {"q": vectors[0], "type": "messages", "k": 10, "threshold": 0.5}
    with psycopg.connect(pg_url) as conn:
        from okai_insight.adapters.postgres import register

        register(conn)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query, params).fetchall())
    assert "idx_memories_embedding" in plan, plan


def test_pg_stat_user_indexes_counts_the_adapters_searches(loaded, pg_url):
    db, vectors, *_ = loaded
    before = _index_scans(pg_url)
    for v in vectors[:5]:
        db.search_memories_by_embedding(v, table_name="messages", count=10)
    with db.pool.connection() as conn:  # the pool's only connection: make it report its statistics now
        conn.execute("SELECT pg_stat_force_next_flush()")
    assert _index_scans(pg_url) >= before + 5


def test_unfiltered_recall_at_10(loaded):
    db, vectors, ids, *_ = loaded
    rng = np.random.default_rng(3)
    recalls = []
    for qi in rng.choice(N, 30, replace=False):
        q = vectors[qi] + 0.05 * rng.normal(size=DIM).astype(np.float32)
        truth = set(ids[np.argsort(-(vectors @ (q / np.linalg.norm(q))))[:10]])
        got = {m.id for m in db.search_memories_by_embedding(q, table_name="messages", count=10)}
        recalls.append(len(truth & got) / 10)
    assert np.mean(recalls) >= 0.95


def test_filtered_search_on_a_small_room_is_exact(loaded):
    """A room holding 1 % of rows: pgvector's post-filtered index scan would return ~0.4 rows; we return the truth."""
    db, vectors, ids, rooms, small = loaded
    mask = rooms == small
    for qi in (1, 2, 3):
        q = vectors[qi]
        sims = vectors[mask] @ q
        truth = list(ids[mask][np.argsort(-sims)[:10]])
        got = db.search_memories_by_embedding(q, table_name="messages", count=10, room_id=small)
        assert [m.id for m in got] == truth
        assert np.allclose([m.similarity for m in got], np.sort(sims)[::-1][:10], atol=1e-5)


def test_large_k_raises_ef_search(loaded):
    """hnsw.ef_search bounds what one index scan returns; asking for more rows must still return them."""
    db, vectors, *_ = loaded
    assert len(db.search_memories_by_embedding(vectors[0], table_name="messages", count=500)) == 500
    # beyond pgvector's ef_search maximum (1000) the iterative scan still delivers every row asked for
    hits = db.search_memories_by_embedding(vectors[0], table_name="messages", count=1500)
    assert len(hits) == 1500 and len({h.id for h in hits}) == 1500
    disorder = [(a.similarity, b.similarity) for a, b in itertools.pairwise(hits) if a.similarity < b.similarity - 1e-6]
    assert disorder == []
