"""Wide vectors (more than WIDE_VECTOR_DIMENSIONS) are searched with sorting switched off for the statement, in a
transaction of its own, only when PostgreSQL would otherwise sort: the adapter asks EXPLAIN (the plan with the
values and the generic plan) and keeps the verdict for a while. Either way the answer is the index search's.
"""

from __future__ import annotations

import tempfile
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters._pg_profile_sql import MemoryQueryShape
from okai_insight.adapters.postgres import WIDE_VECTOR_DIMENSIONS, PostgresAdapter
from okai_insight.settings import Settings
from tests.adapters._data import one_room

DIM = WIDE_VECTOR_DIMENSIONS + 88
N = 300


@pytest.fixture(scope="module")
def world(pg_url):
    settings = Settings.from_env({}, pool_min_size=1, pool_max_size=1, hnsw_ef_search=40)
    db = PostgresAdapter(pg_url, settings=settings, dimension=DIM)
    db.init()
    vectors, ids, _room, _agent = one_room(db, N, DIM, "wide", seed=11)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    yield db, vectors, ids
    db.close()


def _search_text(db: PostgresAdapter, q: np.ndarray) -> tuple[list[uuid.UUID], str]:
    """A top-5 search's ids and the protocol messages it sent (libpq's trace of the pool's one connection)."""
    with tempfile.TemporaryFile("w+") as trace:
        with db.pool.connection() as conn:
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            found = db.search_memories_by_embedding(q, table_name="wide", count=5)
        finally:
            with db.pool.connection() as conn:
                conn.pgconn.untrace()
        trace.seek(0)
        return [m.id for m in found], trace.read()


def test_a_plan_that_sorts_gets_the_per_statement_settings(world):
    """A few hundred rows: PostgreSQL reads and sorts them rather than walk the graph, so the search switches
    sorting off in its own transaction, and finds the query's own row first through the index."""
    db, vectors, ids = world
    db._plain_plans.clear()
    with db.pool.connection() as conn:
        assert not db._plain_plan_keeps_index(conn, MemoryQueryShape(), _params(vectors[0]))
    found, sent = _search_text(db, vectors[7])
    assert found[0] == ids[7] and len(found) == 5
    assert '"BEGIN"' in sent and "enable_sort" in sent


def test_a_plan_that_keeps_the_index_is_sent_alone_until_the_verdict_expires(world):
    db, vectors, ids = world
    db._plain_plans.clear()
    with db.pool.connection() as conn:
        conn.execute("SET enable_sort = off")  # this session's planner now keeps the index for the plain statement
    try:
        found, sent = _search_text(db, vectors[11])  # checks the plans (EXPLAIN), then sends the plain statement
        assert found[0] == ids[11] and "GENERIC_PLAN" in sent
        found, sent = _search_text(db, vectors[12])  # the verdict stands: no EXPLAIN, no transaction
        assert found[0] == ids[12] and "EXPLAIN" not in sent and '"BEGIN"' not in sent and "enable_sort" not in sent
    finally:
        with db.pool.connection() as conn:
            conn.execute("RESET enable_sort")
    checked_at, keeps = db._plain_plans[MemoryQueryShape()]
    assert keeps
    db._plain_plans[MemoryQueryShape()] = (checked_at - 10_000, keeps)  # expired: asked again, and now it sorts
    found, sent = _search_text(db, vectors[13])
    assert found[0] == ids[13] and "GENERIC_PLAN" in sent and "enable_sort" in sent
    assert db._plain_plans[MemoryQueryShape()][1] is False


def test_a_failing_check_keeps_the_settings_and_the_connection_usable(world):
    """EXPLAIN that fails (here: a vector of the wrong size) counts as "it may sort"; the connection is not left in
    a failed transaction."""
    db, vectors, _ids = world
    db._plain_plans.clear()
    with db.pool.connection() as conn:
        assert not db._plain_plan_keeps_index(conn, MemoryQueryShape(), _params(vectors[0][:3]))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert conn.execute("SELECT 1").fetchone() == (1,)


def _params(q: np.ndarray) -> dict[str, object]:
    return {"q": q, "type": "wide", "room_id": None, "agent_id": None, "threshold": -1.0, "k": 5}
