"""A filtered search is one round trip (issue 17 item 2): one statement searches the filtered set exactly and counts
it; a large set's bounded count and HNSW search go in one pipeline once the set is known to be large. The count
always decides, so the answers are those of the exact or the index search, whichever the size calls for.

Round trips are counted at the protocol level (ReadyForQuery messages in libpq's trace), as bench/adapter.py does.
"""

from __future__ import annotations

import dataclasses
import tempfile
import uuid
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

R = TypeVar("R")
DIM = 16
SMALL, LARGE = 40, 400


@pytest.fixture(scope="module")
def world(pg_url):
    # One pooled connection, so the traced connection is the one every call uses.
    settings = Settings.from_env({}, pool_min_size=1, pool_max_size=1, exact_search_max_rows=100)
    db = PostgresAdapter(pg_url, settings=settings, dimension=DIM)
    db.init()
    rng = np.random.default_rng(17)
    vectors = rng.normal(size=(SMALL + LARGE, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    agent = uuid.uuid4()
    db.create_account(Account(id=agent, name="Eliza", email=f"{agent}@example.org"))
    small, large = db.create_room(), db.create_room()
    db.create_memories(
        [
            Memory(room_id=small if i < SMALL else large, agent_id=agent, content={"i": i}, embedding=v)
            for i, v in enumerate(vectors)
        ],
        "round_trips",
    )
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    yield db, vectors, small, large
    db.close()


def _traced(db: PostgresAdapter, call: Callable[[], R]) -> tuple[R, int]:
    """``call()``'s result and how many times it waited for the server (ReadyForQuery messages on the pool's one
    connection)."""
    with tempfile.TemporaryFile("w+") as trace:
        with db.pool.connection() as conn:
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            result = call()
        finally:
            with db.pool.connection() as conn:
                conn.pgconn.untrace()
        trace.seek(0)
        return result, sum(1 for line in trace if "\tReadyForQuery\t" in line)


def _exact(vectors: np.ndarray, rows: range, q: np.ndarray, k: int) -> list[int]:
    sims = vectors[rows.start : rows.stop] @ (q / np.linalg.norm(q))
    return [rows.start + int(j) for j in np.argsort(-sims)[:k]]


def test_a_small_filtered_set_is_one_round_trip_and_exact(world):
    db, vectors, small, _large = world
    q = vectors[3] + np.float32(0.1)
    for _ in range(7):  # past psycopg's prepare threshold and PostgreSQL's switch to a generic plan
        db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=small)
    found, trips = _traced(
        db, lambda: db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=small)
    )
    assert trips == 1
    assert [m.content["i"] for m in found] == _exact(vectors, range(0, SMALL), q, 10)
    sims = [m.similarity for m in found]
    assert sims == sorted(sims, reverse=True)


def test_a_threshold_nothing_passes_gives_no_rows(world):
    db, vectors, small, _large = world
    far = -vectors[:SMALL].mean(axis=0)
    found = db.search_memories_by_embedding(
        far, table_name="round_trips", count=10, room_id=small, match_threshold=0.999
    )
    assert found == []


def test_a_large_filtered_set_is_one_round_trip_once_known_large(world):
    db, vectors, _small, large = world
    q = vectors[SMALL + 5]
    first, first_trips = _traced(
        db, lambda: db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=large)
    )
    later, later_trips = _traced(
        db, lambda: db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=large)
    )
    assert first_trips == 2  # the count said "large": the HNSW search follows
    assert later_trips == 1  # count and HNSW search in one pipeline
    for got in (first, later):
        assert got[0].content["i"] == SMALL + 5 and len(got) == 10
        assert all(m.room_id == large for m in got)


def test_a_set_that_shrinks_is_searched_exactly_again(world):
    """The remembered size only saves time: when the count says small, the exact rows are the answer (the call
    that finds out takes a second round trip for them; the next is one round trip again)."""
    db, vectors, _small, large = world
    q = vectors[SMALL + 9] + np.float32(0.05)
    db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=large)  # known large now
    saved = db.settings
    db.settings = dataclasses.replace(saved, exact_search_max_rows=10_000)  # the same set is now "small"
    try:
        found, trips = _traced(
            db, lambda: db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=large)
        )
        again, again_trips = _traced(
            db, lambda: db.search_memories_by_embedding(q, table_name="round_trips", count=10, room_id=large)
        )
    finally:
        db.settings = saved
    truth = _exact(vectors, range(SMALL, SMALL + LARGE), q, 10)
    assert [m.content["i"] for m in found] == truth and [m.content["i"] for m in again] == truth
    assert trips == 2 and again_trips == 1
