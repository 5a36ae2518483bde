"""search_memories is served by the HNSW index: the plan of the statement inside the RPC, on a table big enough
for the planner to choose by itself (auto_explain logs nested statements' plans; log_level notice sends them to
the client)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from pgvector import Vector
from pgvector.psycopg import register_vector

from tests.supabase.conftest import DIM
from tests.supabase.world import World, build_world, unit

ROWS = 3000


@pytest.fixture(scope="module")
def world(supabase_url: str) -> Iterator[World]:
    w = build_world(supabase_url, "alice", 0)
    bulk_room = w.db.create_room()
    # Loaded by the superuser with the HNSW index rebuilt afterwards (the fast way to load; the same index).
    with psycopg.connect(supabase_url, autocommit=True) as conn:
        (definition,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'idx_memories_embedding'"
        ).fetchone() or ("",)
        conn.execute("DROP INDEX idx_memories_embedding")
        conn.execute(
            'INSERT INTO memories ("type", "content", "embedding", "userId", "agentId", "roomId") '
            "SELECT 'messages', jsonb_build_object('text', 'bulk ' || i), "
            f"(SELECT array_agg(random() - 0.5) FROM generate_series(1, {DIM}) WHERE i > 0)::vector, "
            "%(a)s, %(a)s, %(r)s FROM generate_series(1, %(n)s) AS i",
            {"a": w.agent, "r": bulk_room, "n": ROWS},
        )
        conn.execute(definition)
        conn.execute("ANALYZE memories")
    yield w
    w.db.close()


def plans_of(url: str, user: uuid.UUID, sql: str, args: dict[str, object]) -> tuple[list[tuple], list[str]]:
    plans: list[str] = []
    with psycopg.connect(url) as conn:
        register_vector(conn)
        conn.add_notice_handler(lambda diag: plans.append(diag.message_primary or ""))
        conn.execute("LOAD 'auto_explain'")
        for setting, value in (("log_min_duration", "0"), ("log_nested_statements", "on"), ("log_level", "notice")):
            conn.execute(f"SET auto_explain.{setting} = '{value}'")
        conn.execute(
            "SELECT set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
            (json.dumps({"sub": str(user), "role": "authenticated"}),),
        )
        rows = conn.execute(sql, args).fetchall()
    return rows, plans


def test_unfiltered_search_uses_the_hnsw_index(world: World, supabase_url: str) -> None:
    rows, plans = plans_of(
        supabase_url,
        world.agent,
        "SELECT * FROM search_memories(query_table_name := %(t)s, query_embedding := %(q)s, query_match_count := 5)",
        {"t": "messages", "q": Vector(unit(0))},
    )
    assert len(rows) == 5 and rows[0][0] == world.memory
    inner = [p for p in plans if 'ORDER BY m."embedding" <=> $4 LIMIT $5' in p]
    assert len(inner) == 1, plans
    assert "Index Scan using idx_memories_embedding" in inner[0], inner[0]
    assert "Order By: (embedding <=> " in inner[0]


def test_a_large_filtered_set_uses_the_index_too(world: World, supabase_url: str) -> None:
    """Above query_exact_max_rows the room-filtered search goes through the index (iterative scan)."""
    rows, plans = plans_of(
        supabase_url,
        world.agent,
        "SELECT * FROM search_memories(query_table_name := %(t)s, query_embedding := %(q)s, "
        'query_match_count := 5, "query_agentId" := %(a)s, query_exact_max_rows := 100)',
        {"t": "messages", "q": Vector(unit(3)), "a": world.agent},
    )
    assert len(rows) == 5
    inner = [p for p in plans if 'ORDER BY m."embedding" <=> $4 LIMIT $5' in p]
    assert inner and "Index Scan using idx_memories_embedding" in inner[0], plans
