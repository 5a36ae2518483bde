"""The one-statement choice between exact and HNSW search (ProfileSql.near_duplicate): a filtered set of at most
exact_search_max_rows rows is searched exactly, a larger one through the index, with the same answers; used by
filtered searches and by create_memory(unique=True), which decides the unique flag inside its INSERT."""

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


@pytest.mark.parametrize("branch", ["exact", "hnsw"])
def test_filtered_search_takes_the_chosen_branch_and_finds_the_true_neighbours(world, pg_url, branch):
    db, vectors, big, small, _agent = world
    saved = db.settings
    db.settings = dataclasses.replace(saved, exact_search_max_rows=10_000 if branch == "exact" else 0)
    rng = np.random.default_rng(5)
    queries = vectors[rng.choice(4980, 20, replace=False)] + np.float32(0.05) * rng.normal(size=(20, DIM)).astype(
        np.float32
    )
    try:
        before = _index_scans(db, pg_url)
        found = [db.search_memories_by_embedding(q, table_name="messages", count=10, room_id=big) for q in queries]
        scans = _index_scans(db, pg_url) - before
    finally:
        db.settings = saved
    truth = np.argsort(-(vectors[:4980] @ (queries / np.linalg.norm(queries, axis=1, keepdims=True)).T), axis=0)[:10]
    hits = sum(len({m.content["i"] for m in got} & set(truth[:, j].tolist())) for j, got in enumerate(found))
    recall = hits / (10 * len(queries))
    for got in found:
        assert len(got) == 10 and all(m.room_id == big for m in got)
        sims = [m.similarity for m in got]
        assert sims == sorted(sims, reverse=True), "results are not nearest first"
    if branch == "exact":
        assert scans == 0 and recall == 1.0
    else:
        assert scans >= len(queries) and recall >= 0.9


def test_a_small_room_is_searched_exactly_even_when_the_table_is_large(world, pg_url):
    db, vectors, _big, small, _agent = world
    before = _index_scans(db, pg_url)
    got = db.search_memories_by_embedding(vectors[4990], table_name="messages", count=5, room_id=small)
    assert _index_scans(db, pg_url) == before
    assert got[0].content["i"] == 4990 and len(got) == 5
    assert all(m.room_id == small for m in got)


def test_repeated_checks_keep_taking_the_chosen_branch(world, pg_url):
    """Eight exact checks, then eight through the index: a prepared statement's generic plan (PostgreSQL's choice
    after five runs) would keep the index branch off the index; the statement is planned for each call."""
    db, vectors, big, _small, agent = world
    saved = db.settings
    made = []
    try:
        db.settings = dataclasses.replace(saved, exact_search_max_rows=10_000)
        for i in range(8):
            memory = Memory(room_id=big, agent_id=agent, content={}, embedding=vectors[i])
            made.append(db.create_memory(memory, "messages", True))
        db.settings = dataclasses.replace(saved, exact_search_max_rows=0)
        before = _index_scans(db, pg_url)
        for i in range(8, 16):
            memory = Memory(room_id=big, agent_id=agent, content={}, embedding=vectors[i])
            made.append(db.create_memory(memory, "messages", True))
        scans = _index_scans(db, pg_url) - before
    finally:
        db.settings = saved
    assert scans == 8
    assert all(db.get_memory_by_id(m).unique is False for m in made)  # each is a copy of a stored row
    for m in made:
        db.remove_memory(m, "messages")
