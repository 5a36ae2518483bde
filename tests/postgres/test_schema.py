"""Schema creation, dimensions, migrations under concurrency, and attaching to ElizaOS databases untouched."""

from __future__ import annotations

import multiprocessing
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.errors import DimensionMismatch, SchemaDimensionMismatch, SchemaError
from okai_insight.models import Account, Memory
from okai_insight.schema import migrate, migrations, vector_type_for
from tests.contract.elizaos_schema import create_elizaos_schema


def _column_type(url: str, table: str = "memories") -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = %s::regclass AND attname = 'embedding'",
            (table,),
        ).fetchone()[0]


def _indexes(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'").fetchall())


@pytest.mark.parametrize(
    ("dimension", "column", "opclass"),
    [
        (384, "vector(384)", "vector_cosine_ops"),
        (1536, "vector(1536)", "vector_cosine_ops"),
        (3072, "halfvec(3072)", "halfvec_cosine_ops"),
        (5000, "vector(5000)", None),
    ],
)
def test_dimension_chosen_at_creation(make_database, dimension, column, opclass):
    url = make_database("dim")
    db = PostgresAdapter(url, dimension=dimension)
    db.init()
    try:
        assert db.embedding_dimension == dimension
        assert _column_type(url) == column
        idx = _indexes(url)
        if opclass:
            assert "hnsw" in idx["idx_memories_embedding"] and opclass in idx["idx_memories_embedding"]
        else:
            assert "idx_memories_embedding" not in idx
        room = db.create_room()
        v = np.random.default_rng(0).normal(size=dimension)
        mid = db.create_memory(Memory(room_id=room, content={"t": 1}, embedding=v), "messages")
        db.create_memories([Memory(room_id=room, content={"t": 2}, embedding=-v)], "messages")
        hits = db.search_memories_by_embedding(v, table_name="messages", count=2)
        assert hits[0].id == mid and hits[0].similarity == pytest.approx(1.0, abs=1e-3)
        with pytest.raises(DimensionMismatch):
            db.create_memory(Memory(room_id=room, content={}, embedding=v[:-1]), "messages")
    finally:
        db.close()


def test_recorded_dimension_is_adopted_and_a_disagreeing_request_refused(make_database):
    url = make_database("dim")
    PostgresAdapter(url, dimension=768).init()
    db = PostgresAdapter(url)  # no request: the recorded dimension is adopted
    db.init()
    assert db.embedding_dimension == 768
    db.close()
    with pytest.raises(SchemaDimensionMismatch, match=r"384 was requested.*768"):  # issue 19 item 2: was adopted
        PostgresAdapter(url, dimension=384).init()


@pytest.mark.parametrize("bad", [0, -1, 16001, 2.5, True])
def test_bad_dimensions_are_refused(bad):
    with pytest.raises(SchemaError):
        vector_type_for(bad)


def _init_in_process(url: str) -> int:
    db = PostgresAdapter(url, dimension=384)
    db.init()
    version = db.profile.schema_version
    db.close()
    return int(version)


def test_concurrent_init_applies_each_migration_once(make_database):
    url = make_database("race")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        versions = pool.map(_init_in_process, [url] * 4)
    latest = migrations()[-1].version
    assert versions == [latest] * 4
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT version, count(*) FROM okai_schema_version GROUP BY version ORDER BY 1").fetchall()
    assert rows == [(m.version, 1) for m in migrations()]


def test_second_start_runs_no_ddl(make_database):
    url = make_database("fast")
    used = []
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn)
        # Transaction ids are the server's, shared with every other database: an autovacuum ANALYZE elsewhere
        # takes some too (seen once in the parallel suite). A migrate that wrote anything would take one on every
        # attempt, so one clean attempt of five proves the fast path writes nothing.
        for _ in range(5):
            xid_before = conn.execute("SELECT txid_current()").fetchone()[0]
            migrate(conn)
            migrate(conn)
            xid_after = conn.execute("SELECT txid_current()").fetchone()[0]
            used.append(xid_after - xid_before - 1)  # each txid_current() call takes one id itself
            if used[-1] == 0:
                break
    assert used[-1] == 0, f"transaction ids taken by two fast-path migrates, per attempt: {used}"


def _catalog_snapshot(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            "WHERE n.nspname = 'public' ORDER BY 1, 3"
        ).fetchall()


def test_elizaos_database_is_read_and_written_but_never_altered(make_database):
    url = make_database("eliza")
    with psycopg.connect(url, autocommit=True) as conn:
        create_elizaos_schema(conn, dimension=1536)
        agent = uuid.uuid4()
        room = uuid.uuid4()
        conn.execute("INSERT INTO accounts (id, name, email) VALUES (%s, 'Eliza', 'e@x')", (agent,))
        conn.execute("INSERT INTO rooms (id) VALUES (%s)", (room,))
        vec = "[" + ",".join(["0.1"] * 1536) + "]"
        conn.execute(
            'INSERT INTO memories (id, type, content, embedding, "agentId", "roomId", "unique") '
            "VALUES (%s, 'messages', '{\"text\": \"written by ElizaOS\"}', %s::vector, %s, %s, false)",
            (uuid.uuid4(), vec, agent, room),
        )
    before = _catalog_snapshot(url)
    db = PostgresAdapter(url)
    db.init()
    try:
        assert db.profile.flavor == "elizaos" and db.embedding_dimension == 1536
        assert db.profile.unique_column == "unique"
        old = db.get_memories(room, "messages")
        assert [m.content["text"] for m in old] == ["written by ElizaOS"] and old[0].unique is False
        new = db.create_memory(
            Memory(room_id=room, agent_id=agent, content={"text": "by okai"}, embedding=np.ones(1536)),
            "messages",
            unique=True,
        )
        assert db.get_memory_by_id(new).unique is False  # same direction as ElizaOS's row: a near-duplicate
        hits = db.search_memories_by_embedding(np.ones(1536), table_name="messages", count=5)
        assert len(hits) == 2
        assert db.create_account(Account(id=uuid.uuid4(), name="Sam", email="s@x"))
    finally:
        db.close()
    assert _catalog_snapshot(url) == before
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('okai_schema_version')").fetchone()[0] is None
