"""The unfiltered (type-only) HNSW search is the plain statement a psycopg user writes (issue 17 item 2): no CTE, no
outer sort, no NaN or threshold filter in SQL. The client drops NaN distances and rows below the threshold and puts
the rows nearest first; the answers are those of the server-side filter and sort it replaced.
"""

from __future__ import annotations

import tempfile

import numpy as np
import psycopg
import pytest

from okai_insight.adapters._pg_memory_rows import counted_memories, raw_memory_columns
from okai_insight.adapters._pg_profile_sql import MemoryQueryShape
from okai_insight.adapters.postgres import PostgresAdapter, _nearest_first, register
from okai_insight.models import Memory
from okai_insight.settings import Settings
from tests.adapters._data import one_room

DIM = 16
N = 600
TYPE = "nearest"


@pytest.fixture(scope="module")
def world(pg_url):
    settings = Settings.from_env({}, pool_min_size=1, pool_max_size=1, hnsw_ef_search=40)
    db = PostgresAdapter(pg_url, settings=settings, dimension=DIM)
    db.init()
    vectors, ids, room, agent = one_room(db, N, DIM, TYPE, seed=5)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    yield db, vectors, ids, room, agent
    db.close()


def _statements(db: PostgresAdapter, call) -> list[str]:
    """The SQL texts ``call()`` sent (Parse and Query messages on the pool's one connection)."""
    with tempfile.TemporaryFile("w+") as trace:
        with db.pool.connection() as conn:
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            with db.pool.connection() as conn:
                conn.pgconn.untrace()
        trace.seek(0)
        return [line for line in trace if "\tParse\t" in line or "\tQuery\t" in line or "\tBind\t" in line]


def test_the_unfiltered_search_sends_the_plain_statement_through_the_hnsw_index(world, pg_url):
    db, vectors, *_ = world
    text = db.profile_sql.text("search_nearest", MemoryQueryShape())
    assert "WITH" not in text and "NaN" not in text and "threshold" not in text
    # the first calls parse it (unprepared, then prepared); the statement is the plain one, not search_index's CTE
    sent = "".join(_statements(db, lambda: db.search_memories_by_embedding(vectors[0], table_name=TYPE, count=10)))
    assert "MATERIALIZED" not in sent and ("ORDER BY" in sent or "Bind" in sent)
    with psycopg.connect(pg_url) as conn:
        register(conn, ef_search=40)
        # At test size reading the type's rows and sorting them is cheaper; these show the plan large tables get.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.execute(f"SET {setting} = off")
        params = {"q": vectors[0], "type": TYPE, "k": 10}
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + text, params).fetchall())
    assert "idx_memories_embedding" in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("threshold", [None, 0.0, 0.2, 0.5, 0.99])
def test_threshold_and_order_match_the_exact_answer(world, threshold):
    db, vectors, ids, *_ = world
    rng = np.random.default_rng(11)
    for _ in range(5):
        q = rng.normal(size=DIM).astype(np.float32)
        sims = vectors @ (q / np.linalg.norm(q))
        got = db.search_memories_by_embedding(q, table_name=TYPE, count=10, match_threshold=threshold)
        similarities = [m.similarity for m in got]
        assert similarities == sorted(similarities, reverse=True)
        kept = np.sort(sims)[::-1][:10]
        if threshold is not None:
            kept = kept[kept >= threshold - 1e-6]
            assert all(s >= threshold for s in similarities)
        # the HNSW index at ef_search 40 on 600 rows: its top 10 is the exact one here
        assert len(got) == len(kept)
        assert np.allclose(similarities, kept, atol=1e-5)


def test_k_above_ef_search_is_in_order_and_complete(world):
    db, vectors, *_ = world
    hits = db.search_memories_by_embedding(vectors[1], table_name=TYPE, count=300)
    assert len(hits) == 300 and len({h.id for h in hits}) == 300
    sims = [h.similarity for h in hits]
    assert sims == sorted(sims, reverse=True)


def test_zero_vectors_are_never_returned(world):
    db, vectors, _, room, agent = world
    zero = db.create_memory(
        Memory(room_id=room, agent_id=agent, content={"zero": True}, embedding=np.zeros(DIM, np.float32)), "zeros"
    )
    near = db.create_memory(Memory(room_id=room, agent_id=agent, content={"n": 1}, embedding=vectors[2]), "zeros")
    for threshold in (None, -1.0):
        got = db.search_memories_by_embedding(vectors[2], table_name="zeros", count=10, match_threshold=threshold)
        assert [m.id for m in got] == [near], (zero, got)


def test_nearest_first_is_the_server_side_filter_and_sort():
    def m(s: float | None) -> Memory:
        return Memory(content={}, similarity=s)

    a, b, c, tie1, tie2 = m(0.3), m(0.9), m(0.5), m(0.7), m(0.7)
    rows = [a, tie1, m(float("nan")), b, tie2, c]
    assert _nearest_first(rows, -1.0) == [b, tie1, tie2, c, a]
    assert [x is y for x, y in zip(_nearest_first(rows, -1.0)[1:3], (tie1, tie2), strict=True)] == [True, True]
    assert _nearest_first(rows, 0.5) == [b, tie1, tie2, c]  # inclusive, as SQL's >=
    assert _nearest_first(rows, 0.95) == []


_COLUMNS = (
    "'00000000-0000-0000-0000-00000000000a'::uuid AS id, 'messages' AS type, now() AS \"createdAt\", "
    '\'{"text": "hi"}\'::jsonb AS content, \'[1,2]\'::vector AS embedding, NULL::uuid AS "userId", '
    'NULL::uuid AS "agentId", NULL::uuid AS "roomId", true AS is_unique'
)


def test_counted_rows_share_the_memory_builder(world, pg_url):
    """The filtered search's rows carry the bounded count on every row; the builder reads it by name wherever it
    is, builds the memories from the other columns, skips the LEFT JOIN's row of NULLs and refuses a result without
    the count column."""
    with psycopg.connect(pg_url) as conn:
        register(conn, ef_search=40)
        cur = raw_memory_columns(conn.cursor())
        rows = cur.execute(f"SELECT 7 AS filtered_rows, {_COLUMNS}, 0.25::float8 AS distance", binary=True).fetchall()
        n, found = counted_memories(cur, rows, "filtered_rows")
        assert n == 7 and [(m.content, m.similarity, m.embedding.tolist()) for m in found] == [
            ({"text": "hi"}, 0.75, [1.0, 2.0])
        ]
        nulls = 'NULL::uuid AS id, NULL AS type, NULL::timestamptz AS "createdAt", NULL::jsonb AS content, '
        nulls += 'NULL::vector AS embedding, NULL::uuid AS "userId", NULL::uuid AS "agentId", '
        nulls += 'NULL::uuid AS "roomId", NULL::bool AS is_unique, NULL::float8 AS distance, 3 AS filtered_rows'
        assert counted_memories(cur, cur.execute(f"SELECT {nulls}", binary=True).fetchall(), "filtered_rows") == (3, [])
        with pytest.raises(psycopg.ProgrammingError, match="needs the columns"):
            counted_memories(cur, cur.execute(f"SELECT {_COLUMNS}", binary=True).fetchall(), "filtered_rows")


def test_searches_on_one_connection_reuse_its_cursor_and_each_gets_its_own_rows(world) -> None:
    """The search cursor is kept per connection (its adaptation state is reused): consecutive searches on the pool's
    one connection, of different vectors and sizes, each return their own exact nearest rows, never a previous
    search's, and a search of more rows than ef_search (its own cursor, in a transaction) does not disturb it."""
    db, vectors, ids, _room, _agent = world
    with db.pool.connection() as conn:
        before = conn.__dict__.get("_okai_search_cursor")
    for n, k in ((0, 10), (1, 3), (2, 10), (3, 100), (4, 1)):
        q = vectors[n * 97]
        found = db.search_memories_by_embedding(q, table_name=TYPE, count=k)
        assert len(found) == k and found[0].id == ids[n * 97], "this query's own row first, not a previous one's"
        # every row's similarity is its own cosine to this query, nearest first
        cosines = [float(vectors[ids.index(m.id)] @ q) for m in found]
        assert [m.similarity for m in found] == pytest.approx(cosines, abs=1e-5)
        assert cosines == sorted(cosines, reverse=True)
    with db.pool.connection() as conn:
        cursor = conn.__dict__.get("_okai_search_cursor")
    assert cursor is not None and (before is None or cursor is before)
    assert db.search_memories_by_embedding(vectors[5], table_name=TYPE, count=1)[0].id == ids[5]
    with db.pool.connection() as conn:
        assert conn.__dict__.get("_okai_search_cursor") is cursor, "one cursor per connection"
