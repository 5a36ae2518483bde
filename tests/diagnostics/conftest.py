"""Fixture databases for the diagnostics: one with planted defects, one healthy, one bare.

The planted database (pghero's test schema, for agent memory) holds: a duplicate index, a 12 MB unused index, an
invalid index, a foreign key without an index on a 12k-row table read by sequential scans, a cosine HNSW index
searched with ``<->`` (ElizaOS 0.1.9), ``ORDER BY similarity DESC`` and distance-only-in-WHERE searches, an
untyped vector column with mixed dimensions, zero and NULL vectors, a table with autovacuum off and 15k dead
rows, a long-running query, an idle-in-transaction session holding a lock and a query blocked on it.
The healthy database is the okai schema with data and the adapter's own searches; the bare one has no
extensions (pg_stat_statements missing).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter

ELIZA_SEARCH = (
    "SELECT *, 1 - (embedding <-> '{v}'::vector(384)) AS similarity FROM memories "
    "WHERE type = 'messages' AND 1 - (embedding <-> '{v}'::vector) >= 0.1 "
    "ORDER BY embedding <-> '{v}'::vector LIMIT 5"
)
SIMILARITY_DESC = (
    "SELECT id, 1 - (embedding <=> '{v}'::vector) AS similarity FROM memories ORDER BY similarity DESC LIMIT 5"
)
WHERE_ONLY = "SELECT id FROM memories WHERE embedding <=> '{v}'::vector < 0.5"


def _vec(rng: np.random.Generator, dim: int = 384) -> str:
    return "[" + ",".join(f"{x:.4f}" for x in rng.standard_normal(dim)) + "]"


def _load_memories(conn: psycopg.Connection[Any], n: int) -> None:
    conn.execute(
        """
        INSERT INTO memories ("type", "content", "embedding")
        SELECT 'messages', jsonb_build_object('text', 'memory ' || g),
            (SELECT array_agg(random() - 0.5 + 0 * d + 0 * g) FROM generate_series(1, 384) AS d)::vector
        FROM generate_series(1, %s) AS g
        """,
        (n,),
    )


@dataclass
class Planted:
    url: str
    long_pid: int
    blocker_pid: int
    blocked_pid: int


def _wait_for(conn: psycopg.Connection[Any], query: str, params: tuple[Any, ...], timeout_s: float = 10) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(query, params).fetchone()
        if row is not None:
            return row[0]
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {query} {params}")


@pytest.fixture(scope="package")
def planted(make_database: Callable[[str], str]) -> Iterator[Planted]:
    url = make_database("planted")
    PostgresAdapter(url).init()
    rng = np.random.default_rng(7)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        _load_memories(conn, 300)
        conn.execute(
            'INSERT INTO memories ("type", "content", "embedding") '
            "SELECT 'messages', '{}'::jsonb, array_fill(0, ARRAY[384])::vector FROM generate_series(1, 3)"
        )
        conn.execute("INSERT INTO memories (\"type\", \"content\") VALUES ('messages', '{}'::jsonb)")
        # duplicate: ("type") is a prefix of idx_memories_type_room ("type", "roomId", "createdAt")
        conn.execute('CREATE INDEX planted_dup_type ON memories ("type")')
        # unused and large (> 10 MB): 12k keys of 1000 bytes
        conn.execute("CREATE TABLE planted_pad (id int, pad text)")
        conn.execute(
            "INSERT INTO planted_pad SELECT g, (SELECT string_agg(md5(g::text || i), '') FROM generate_series(1, 30) AS i) "
            "FROM generate_series(1, 12000) AS g"
        )
        conn.execute("CREATE INDEX planted_unused_pad ON planted_pad (pad)")
        # invalid: a concurrent unique build that fails on duplicates leaves the index behind, invalid
        conn.execute("CREATE TABLE planted_dupvals (v int)")
        conn.execute("INSERT INTO planted_dupvals VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY planted_invalid ON planted_dupvals (v)")
        # a foreign key without an index, on a table read by sequential scans
        conn.execute("CREATE TABLE planted_parent (id int PRIMARY KEY)")
        conn.execute("INSERT INTO planted_parent SELECT generate_series(1, 100)")
        conn.execute("CREATE TABLE planted_child (parent_id int REFERENCES planted_parent (id), note text)")
        conn.execute("INSERT INTO planted_child SELECT 1 + g % 100, 'n' FROM generate_series(1, 12000) g")
        # mixed dimensions in an untyped vector column, plus a NULL and a zero vector
        conn.execute("CREATE TABLE planted_vectors (id int, embedding vector)")
        conn.execute(
            "INSERT INTO planted_vectors VALUES (1, '[1,2,3]'), (2, '[1,2,3]'), (3, '[1,2,3,4]'), (4, NULL), "
            "(5, '[0,0,0]')"
        )
        # dead rows with autovacuum off
        conn.execute("CREATE TABLE planted_dead (id int) WITH (autovacuum_enabled = false)")
        conn.execute("INSERT INTO planted_dead SELECT generate_series(1, 20000)")
        conn.execute("DELETE FROM planted_dead WHERE id > 5000")
        conn.execute("ANALYZE")
        for _ in range(20):
            conn.execute("SELECT count(*) FROM planted_child WHERE parent_id = 5").fetchone()
        # searches the cosine HNSW index cannot serve
        for _ in range(3):
            v = _vec(rng)
            conn.execute(ELIZA_SEARCH.format(v=v)).fetchall()
            conn.execute(SIMILARITY_DESC.format(v=v)).fetchall()
            conn.execute(WHERE_ONLY.format(v=v)).fetchall()

    long_conn = psycopg.connect(url, autocommit=True, application_name="planted-long")
    blocker = psycopg.connect(url, application_name="planted-blocker")
    blocked_conn = psycopg.connect(url, autocommit=True, application_name="planted-blocked")
    long_pid, blocker_pid, blocked_pid = (
        long_conn.info.backend_pid,
        blocker.info.backend_pid,
        blocked_conn.info.backend_pid,
    )

    def run_long() -> None:
        try:
            long_conn.execute("SELECT pg_sleep(120)")
        except psycopg.errors.QueryCanceled:
            pass

    def run_blocked() -> None:
        blocked_conn.execute("SELECT count(*) FROM planted_parent").fetchone()

    blocker.execute("LOCK TABLE planted_parent IN ACCESS EXCLUSIVE MODE")  # and stays idle in transaction
    threads = [threading.Thread(target=run_long, daemon=True), threading.Thread(target=run_blocked, daemon=True)]
    for t in threads:
        t.start()
    admin = psycopg.connect(url, autocommit=True)
    try:
        _wait_for(admin, "SELECT pid FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (blocked_pid,))
        _wait_for(admin, "SELECT pid FROM pg_stat_activity WHERE pid = %s AND state = 'active'", (long_pid,))
        time.sleep(1.1)  # the long query is now older than 1 s; the blocker idle in transaction as long
        yield Planted(url, long_pid, blocker_pid, blocked_pid)
    finally:
        blocker.rollback()
        admin.execute("SELECT pg_cancel_backend(%s)", (long_pid,))
        for t in threads:
            t.join(timeout=10)
        for c in (long_conn, blocker, blocked_conn, admin):
            c.close()


@pytest.fixture(scope="package")
def healthy(make_database: Callable[[str], str]) -> str:
    url = make_database("healthy")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    rng = np.random.default_rng(11)
    with PostgresAdapter(url) as db:
        db.init()
        with psycopg.connect(url, autocommit=True) as conn:
            _load_memories(conn, 300)
            conn.execute("ANALYZE")
        room = db.create_room()
        for _ in range(5):
            q = rng.standard_normal(384).astype(np.float32)
            db.search_memories_by_embedding(q, table_name="messages", count=5)
            db.search_memories_by_embedding(q, table_name="messages", count=5, room_id=room)
    return url


@pytest.fixture(scope="package")
def bare(make_database: Callable[[str], str]) -> str:
    return make_database("bare")
