"""create_memory(unique=True) decides the unique flag inside its INSERT: exactly on a small room, through the HNSW
index on a large one, with the same answer either way, in one round trip."""

from __future__ import annotations

import dataclasses
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

DIM = 16


@pytest.fixture(scope="module")
def world(pg_url):
    db = PostgresAdapter(pg_url, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=1), dimension=DIM)
    db.init()
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(5000, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    agent = uuid.uuid4()
    db.create_account(Account(id=agent, name="Eliza", email="eliza@example.org"))
    big, small = db.create_room(), db.create_room()
    db.create_memories(
        [
            Memory(room_id=big if i < 4980 else small, agent_id=agent, content={"i": i}, embedding=v)
            for i, v in enumerate(vectors)
        ],
        "messages",
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    yield db, vectors, big, small, agent
    db.close()


def _index_scans(db: PostgresAdapter, url: str) -> int:
    """The HNSW index's scan count, after the adapter's one backend has published its pending statistics.

    A backend publishes them at most once a second unless asked; asked, it does so before it next reports
    ready for a query, so the read on a second connection below already sees them.
    """
    with db.pool.connection() as own:
        own.execute("SELECT pg_stat_force_next_flush()")
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = 'idx_memories_embedding'"
        ).fetchone()
        assert row is not None
        return int(row[0])


def _far_from(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A unit vector whose cosine to every stored one is below 0.9 (the default duplicate threshold is 0.95)."""
    while True:
        v = rng.normal(size=DIM).astype(np.float32)
        v /= np.linalg.norm(v)
        if float((vectors @ v).max()) < 0.9:
            return v


@pytest.mark.parametrize("branch", ["exact", "hnsw"])
def test_unique_flag_is_the_same_on_both_branches(world, pg_url, branch):
    db, vectors, big, small, agent = world
    saved = db.settings
    # The big room (4,980 rows) is searched exactly under a cap of 10,000 and through the index under a cap of 0
    # (on a few hundred rows the planner rightly prefers reading the table to walking the index).
    db.settings = dataclasses.replace(saved, exact_search_max_rows=10_000 if branch == "exact" else 0)
    try:
        before = _index_scans(db, pg_url)
        near = vectors[7] + np.float32(0.01) * np.eye(DIM, dtype=np.float32)[0]  # cosine ~0.99995 to row 7
        dup = db.create_memory(
            Memory(room_id=big, agent_id=agent, content={"t": "dup"}, embedding=near), "messages", True
        )
        far_vec = _far_from(vectors, np.random.default_rng(11 if branch == "exact" else 12))
        far = db.create_memory(
            Memory(room_id=big, agent_id=agent, content={"t": "far"}, embedding=far_vec), "messages", True
        )
        scans = _index_scans(db, pg_url) - before
        # row 7 lives in the big room: a near copy of it in the small room is unique there
        other = db.create_memory(
            Memory(room_id=small, agent_id=agent, content={"t": "o"}, embedding=near), "messages", True
        )
    finally:
        db.settings = saved
    assert db.get_memory_by_id(dup).unique is False
    assert db.get_memory_by_id(far).unique is True
    assert db.get_memory_by_id(other).unique is True
    if branch == "hnsw":
        assert scans >= 2, "the large room's duplicate check did not use the HNSW index"
    else:
        assert scans == 0, "the small set was not searched exactly"
    db.remove_memory(dup, "messages")
    db.remove_memory(far, "messages")
    db.remove_memory(other, "messages")


def test_duplicate_threshold_setting_decides(world):
    db, vectors, big, _small, agent = world
    saved = db.settings
    near = vectors[9] + np.float32(0.3) * np.eye(DIM, dtype=np.float32)[1]
    cosine = float(vectors[9] @ (near / np.linalg.norm(near)))
    made = []
    try:
        for threshold, expected in ((cosine - 0.01, False), (cosine + 0.01, True)):
            db.settings = dataclasses.replace(saved, duplicate_threshold=threshold)
            mid = db.create_memory(Memory(room_id=big, agent_id=agent, content={}, embedding=near), "messages", True)
            made.append(mid)
            assert db.get_memory_by_id(mid).unique is expected, (threshold, cosine)
            db.remove_memory(mid, "messages")
    finally:
        db.settings = saved


def test_an_existing_id_is_refused_and_nothing_changes(world):
    from okai_insight.errors import DuplicateId

    db, vectors, big, _small, agent = world
    mid = db.create_memory(
        Memory(room_id=big, agent_id=agent, content={"n": 1}, embedding=vectors[3]), "messages", True
    )
    with pytest.raises(DuplicateId):
        db.create_memory(
            Memory(id=mid, room_id=big, agent_id=agent, content={"n": 2}, embedding=vectors[4]), "messages", True
        )
    assert db.get_memory_by_id(mid).content == {"n": 1}
    db.remove_memory(mid, "messages")
