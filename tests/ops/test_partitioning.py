"""``okai-insight partition``: memories hash-partitioned by agent, on real embedded PostgreSQL + pgvector.

One module-scoped database is filled through the adapter (16 agents, 1600 memories), fingerprinted, converted to 4
partitions and then searched, explained and diagnosed; the refusals use small databases of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector
from psycopg import sql

from okai_insight.adapters._pg_profile_sql import MemoryQueryShape
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.cli import main
from okai_insight.diagnostics import doctor, vectors
from okai_insight.errors import InvalidInput, SchemaError
from okai_insight.models import Account, Memory
from okai_insight.ops import security
from okai_insight.ops.partitioning import (
    PartitionResult,
    partition_memories,
    partitions_of,
    plan_partitioning,
)
from okai_insight.schema import migrate, read_profile
from okai_insight.settings import Settings
from tests.contract.elizaos_schema import create_elizaos_schema

DIM = 16
AGENTS = 16
PER_AGENT = 100
PARTITIONS = 4


def _settings(**overrides: Any) -> Settings:
    return Settings.from_env({}, pool_min_size=1, pool_max_size=2, **overrides)


@dataclass
class Converted:
    url: str
    agents: list[uuid.UUID]
    vectors: dict[uuid.UUID, np.ndarray]  # memory id -> embedding
    owner: dict[uuid.UUID, uuid.UUID]  # memory id -> agent
    before: dict[str, str]  # memory id -> md5 of its row (embedding included)
    result: PartitionResult


def _row_digests(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {str(i): d for i, d in conn.execute('SELECT "id", md5(m::text) FROM memories AS m')}


def _fill(
    url: str, *, agents: int, per_agent: int, seed: int = 0
) -> tuple[list[uuid.UUID], dict[Any, Any], dict[Any, Any]]:
    rng = np.random.default_rng(seed)
    db = PostgresAdapter(url, settings=_settings(), dimension=DIM)
    db.init()
    try:
        ids = [uuid.UUID(int=seed * 1000 + i + 1) for i in range(agents)]
        for a in ids:
            db.create_account(Account(id=a, name="agent", email=f"{a}@example.org"))
        room = db.create_room()
        vecs: dict[uuid.UUID, np.ndarray] = {}
        owner: dict[uuid.UUID, uuid.UUID] = {}
        for a in ids:
            batch = [
                Memory(
                    id=uuid.uuid4(),
                    agent_id=a,
                    user_id=a,
                    room_id=room,
                    content={"text": f"memory {i} of {a}"},
                    embedding=rng.standard_normal(DIM).astype(np.float32),
                )
                for i in range(per_agent)
            ]
            db.create_memories(batch, "messages")
            for m in batch:
                assert m.id is not None and m.embedding is not None
                vecs[m.id] = np.asarray(m.embedding, dtype=np.float32)
                owner[m.id] = a
    finally:
        db.close()
    return ids, vecs, owner


@pytest.fixture(scope="module")
def converted(make_database: Callable[[str], str]) -> Converted:
    url = make_database("partition")
    agents, vecs, owner = _fill(url, agents=AGENTS, per_agent=PER_AGENT)
    before = _row_digests(url)
    result = partition_memories(url, partitions=PARTITIONS)
    return Converted(url, agents, vecs, owner, before, result)


def _recall(found: list[list[uuid.UUID]], truth: list[list[uuid.UUID]]) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def _exact(c: Converted, q: np.ndarray, k: int, agent: uuid.UUID | None = None) -> list[uuid.UUID]:
    ids = [i for i in c.vectors if agent is None or c.owner[i] == agent]
    mat = np.stack([c.vectors[i] for i in ids])
    sims = mat @ q / (np.linalg.norm(mat, axis=1) * np.linalg.norm(q))
    return [ids[j] for j in np.argsort(-sims)[:k]]


# -- the conversion ---------------------------------------------------------------------------------------------
def test_conversion_keeps_every_row_and_embedding(converted: Converted) -> None:
    r = converted.result
    assert r.rows_copied == AGENTS * PER_AGENT and not r.plan.already
    assert converted.before == _row_digests(converted.url)  # every row, embeddings included, byte for byte
    assert sorted(r.partition_rows) == ["memories_p0", "memories_p1", "memories_p2", "memories_p3"]
    assert sum(r.partition_rows.values()) == AGENTS * PER_AGENT
    assert all(n % PER_AGENT == 0 for n in r.partition_rows.values())  # an agent's memories share one partition
    with psycopg.connect(converted.url) as conn:
        assert read_profile(conn).partition_key == "agentId"
        (strategy,) = conn.execute(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'memories'::regclass"
        ).fetchone() or (None,)
        assert strategy == "h"
        pk = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'memories'::regclass AND contype = 'p'"
        ).fetchone()
        assert pk == ('PRIMARY KEY ("agentId", id)',)
        (layout,) = conn.execute("SELECT value FROM okai_settings WHERE key = 'memories_partitioning'").fetchone() or (
            None,
        )
        assert layout == {"method": "hash", "by": "agent", "column": "agentId", "partitions": PARTITIONS}
        fks = {
            d
            for (d,) in conn.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'memories'::regclass "
                "AND contype = 'f'"
            )
        }
        assert fks == {
            'FOREIGN KEY ("userId") REFERENCES accounts(id)',
            'FOREIGN KEY ("agentId") REFERENCES accounts(id)',
            'FOREIGN KEY ("roomId") REFERENCES rooms(id)',
        }
        assert conn.execute("SELECT to_regclass('okai_memories_unpartitioned')").fetchone() == (None,)


def test_one_hnsw_index_per_partition(converted: Converted) -> None:
    with psycopg.connect(converted.url) as conn:
        parts = partitions_of(conn)
        assert [p.name for p in parts] == [f"memories_p{i}" for i in range(PARTITIONS)]
        assert all(p.bound.startswith(f"FOR VALUES WITH (modulus {PARTITIONS}") for p in parts)
        for p in parts:
            (definition,) = conn.execute("SELECT pg_get_indexdef(%s::regclass)", (p.vector_index,)).fetchone() or ("",)
            assert f"ON public.{p.name} USING hnsw (embedding vector_cosine_ops)" in definition
        indexes = {name for (name,) in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'memories'")}
    assert converted.result.vector_indexes == [p.vector_index for p in parts]
    # the ("agentId") index is not recreated: the primary key leads with it
    assert indexes == {
        "memories_pkey",
        "idx_memories_embedding",
        "idx_memories_id",
        "idx_memories_room",
        "idx_memories_type_room",
    }


def test_converting_again_is_a_no_op_and_another_layout_is_refused(converted: Converted) -> None:
    again = partition_memories(converted.url, partitions=PARTITIONS)
    assert again.plan.already and again.rows_copied == 0
    with pytest.raises(SchemaError, match="already partitioned"):
        partition_memories(converted.url, partitions=8)


# -- the adapter on it --------------------------------------------------------------------------------------------
def _explain(url: str, f: MemoryQueryShape, params: dict[str, Any], *, seqscan: bool = True) -> dict[str, Any]:
    db = PostgresAdapter(url, settings=_settings())
    db.init()
    try:
        query = db.profile_sql.search_index(f)
    finally:
        db.close()
    with psycopg.connect(url) as conn:
        register_vector(conn)
        if not seqscan:
            # At test size (a few hundred rows a partition) the planner rightly prefers reading and sorting them;
            # these settings show the plan it can pick, which large partitions get on cost alone.
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                conn.execute(sql.SQL("SET {} = off").format(sql.Identifier(setting)))
        (plan,) = conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + query, params).fetchone() or (None,)
        conn.rollback()
    return plan[0]["Plan"]  # type: ignore[no-any-return]


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = [plan]
    for child in plan.get("Plans", []):
        out += _nodes(child)
    return out


def test_agent_filtered_search_reads_one_partition_and_is_exact(converted: Converted) -> None:
    agent = converted.agents[3]
    q = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    params = {"q": q, "type": "messages", "agent_id": agent, "threshold": -1.0, "k": 10}
    plan = _explain(converted.url, MemoryQueryShape(agent=True), params, seqscan=False)
    scanned = {n["Relation Name"] for n in _nodes(plan) if "Relation Name" in n}
    assert len(scanned) == 1 and scanned <= {f"memories_p{i}" for i in range(PARTITIONS)}  # pruned to one
    assert not [n for n in _nodes(plan) if n["Node Type"] in ("Append", "Merge Append")]
    with PostgresAdapter(converted.url, settings=_settings()) as db:
        db.init()
        hits = db.search_memories_by_embedding(q, table_name="messages", agent_id=agent, count=10)
    assert [h.id for h in hits] == _exact(converted, q, 10, agent)  # 100 rows: searched exactly, recall 1.0
    assert {h.agent_id for h in hits} == {agent}


def test_agent_filtered_index_search_recall(converted: Converted) -> None:
    """Through the partition's HNSW index (exact search switched off): recall@10 against brute force."""
    rng = np.random.default_rng(6)
    found, truth = [], []
    with PostgresAdapter(converted.url, settings=_settings(exact_search_max_rows=0)) as db:
        db.init()
        for agent in converted.agents[:8]:
            q = rng.standard_normal(DIM).astype(np.float32)
            found.append([h.id for h in db.search_memories_by_embedding(q, table_name="messages", agent_id=agent)])
            truth.append(_exact(converted, q, 10, agent))
    assert _recall(found, truth) >= 0.95


def test_unfiltered_search_merges_partition_index_scans(converted: Converted) -> None:
    q = np.random.default_rng(7).standard_normal(DIM).astype(np.float32)
    params = {"q": q, "type": "messages", "threshold": -1.0, "k": 10}
    plan = _explain(converted.url, MemoryQueryShape(), params, seqscan=False)
    nodes = _nodes(plan)
    merge = [n for n in nodes if n["Node Type"] == "Merge Append"]
    assert merge, [n["Node Type"] for n in nodes]
    scans = {n["Index Name"] for n in _nodes(merge[0]) if n["Node Type"] == "Index Scan"}
    assert scans == {f"memories_p{i}_embedding_idx" for i in range(PARTITIONS)}
    rng = np.random.default_rng(8)
    found, truth = [], []
    with PostgresAdapter(converted.url, settings=_settings()) as db:
        db.init()
        for _ in range(20):
            q = rng.standard_normal(DIM).astype(np.float32)
            found.append([h.id for h in db.search_memories_by_embedding(q, table_name="messages", count=10)])
            truth.append(_exact(converted, q, 10))
    assert _recall(found, truth) >= 0.95


def test_adapter_writes_and_refuses_agentless_memories(converted: Converted) -> None:
    with PostgresAdapter(converted.url, settings=_settings()) as db:
        db.init()
        assert db.profile is not None and db.profile.partitioned
        agent = converted.agents[0]
        room = db.create_room()
        with pytest.raises(InvalidInput, match="agent_id is required"):
            db.create_memory(Memory(room_id=room, content={"text": "nobody's"}), "messages")
        with pytest.raises(InvalidInput, match="partitioned by agent"):
            db.create_memories(
                [
                    Memory(room_id=room, agent_id=agent, content={"text": "a"}),
                    Memory(room_id=room, content={"text": "b"}),
                ],
                "messages",
            )
        assert db.count_memories(room, unique=False, table_name="messages") == 0
        mid = db.create_memory(Memory(room_id=room, agent_id=agent, content={"text": "mine"}), "messages")
        got = db.get_memory_by_id(mid)
        assert got is not None and got.agent_id == agent
        assert db.remove_memory(mid, "messages")


# -- diagnostics --------------------------------------------------------------------------------------------------
def test_doctor_is_clean_and_lists_per_partition_indexes(converted: Converted) -> None:
    report = doctor(converted.url)
    assert [f for f in report.findings if f.severity in ("critical", "warning")] == []
    idx = {r["index"]: r for r in report.result("vector_indexes").rows}
    parent = idx["idx_memories_embedding"]
    assert parent["partitions"] == PARTITIONS and parent["table_rows"] == AGENTS * PER_AGENT
    per = [r for r in idx.values() if r["partition_of"] == "public.idx_memories_embedding"]
    assert sorted(r["table"] for r in per) == [f"memories_p{i}" for i in range(PARTITIONS)]
    assert parent["size_bytes"] == sum(r["size_bytes"] for r in per) > 0
    cols = {r["table"]: r for r in report.result("vector_columns").rows}
    assert cols["memories"]["partitions"] == PARTITIONS and cols["memories"]["partitions_without_vector_index"] == 0
    assert cols["memories"]["stored_dims"] == {str(DIM): AGENTS * PER_AGENT}  # read once, in the parent's row
    assert cols["memories_p0"]["partition_of"] == "public.memories" and cols["memories_p0"]["stored_dims"] is None


def test_partitions_without_a_vector_index_are_reported_on_the_parent(make_database: Callable[[str], str]) -> None:
    url = make_database("partnoidx")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE TABLE docs (tenant int NOT NULL, e vector(3)) PARTITION BY HASH (tenant)")
        for i in range(2):
            conn.execute(f"CREATE TABLE docs_{i} PARTITION OF docs FOR VALUES WITH (MODULUS 2, REMAINDER {i})")
        conn.execute("CREATE INDEX ON docs_0 USING hnsw (e vector_cosine_ops)")  # docs_1 has none
        conn.execute("INSERT INTO docs SELECT g, '[1,2,3]' FROM generate_series(1, 12000) AS g")
        conn.execute("ANALYZE docs")
    r = vectors.vector_columns(url)
    found = [f for f in r.findings if f.subject == "public.docs.e"]
    assert len(found) == 1 and "1 of its partitions have no vector index" in found[0].message
    assert not [f for f in r.findings if f.subject and f.subject.startswith("public.docs_")]
    assert {row["table"]: row["partitions_without_vector_index"] for row in r.rows}["docs"] == 1


# -- refusals and the dry run ---------------------------------------------------------------------------------------
def test_dry_run_lists_the_statements_and_changes_nothing(make_database: Callable[[str], str]) -> None:
    url = make_database("partdry")
    _fill(url, agents=3, per_agent=5, seed=1)
    plan = plan_partitioning(url, partitions=2)
    assert plan.summary() == 'would partition memories (15 rows, 3 agents) by hash of "agentId" into 2 partitions'
    text = [s.sql for s in plan.steps]
    assert "LOCK TABLE memories IN ACCESS EXCLUSIVE MODE" in text
    assert any('PARTITION BY HASH ("agentId")' in t for t in text)
    assert any(t.startswith("CREATE INDEX idx_memories_embedding ON public.memories USING hnsw") for t in text)
    assert all(s.why for s in plan.steps)
    with psycopg.connect(url) as conn:
        assert read_profile(conn).partition_key is None
    assert main(["partition", url, "--partitions", "2", "--dry-run", "--format", "json"]) == 0


def test_refuses_agentless_rows_and_leaves_the_table(make_database: Callable[[str], str]) -> None:
    url = make_database("partnoagent")
    _fill(url, agents=2, per_agent=3, seed=2)
    with PostgresAdapter(url, settings=_settings()) as db:
        db.init()
        db.create_memory(Memory(room_id=db.create_room(), content={"text": "no agent"}), "messages")
    before = _row_digests(url)
    with pytest.raises(SchemaError, match=r"1 memories have no \"agentId\""):
        partition_memories(url, partitions=2)
    with pytest.raises(SchemaError, match='WHERE "agentId" IS NULL'):
        plan_partitioning(url, partitions=2)
    assert _row_digests(url) == before
    with psycopg.connect(url) as conn:
        assert read_profile(conn).partition_key is None


def test_refuses_elizaos_and_bad_arguments(make_database: Callable[[str], str]) -> None:
    url = make_database("parteliza")
    with psycopg.connect(url, autocommit=True) as conn:
        create_elizaos_schema(conn, dimension=DIM)
    with pytest.raises(SchemaError, match="ElizaOS database: okai-insight never alters"):
        partition_memories(url, partitions=4)
    with pytest.raises(SchemaError, match="no memories table"):
        partition_memories(make_database("partempty"), partitions=4)
    for bad in (1, 0, 1025, "4", True, 2.5):
        with pytest.raises(InvalidInput, match="partitions must be an integer"):
            partition_memories(url, partitions=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="--by must be one of agent"):
        plan_partitioning(url, partitions=4, by="room")


def test_security_settings_and_grants_survive(make_database: Callable[[str], str], capsys: Any) -> None:
    url = make_database("partsecure")
    _fill(url, agents=2, per_agent=3, seed=3)
    security.enable_isolation(url)
    security.enable_audit(url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("GRANT SELECT ON memories TO pg_monitor")
    assert main(["partition", url, "--by", "agent", "--partitions", "2"]) == 0
    assert "6 rows copied and verified, 2 vector indexes" in capsys.readouterr().out
    with psycopg.connect(url) as conn:
        rls = conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'memories'::regclass").fetchone()
        policies = conn.execute("SELECT policyname FROM pg_policies WHERE tablename = 'memories'").fetchall()
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'memories'::regclass AND NOT tgisinternal"
        ).fetchall()
        granted = conn.execute("SELECT has_table_privilege('pg_monitor', 'memories', 'SELECT')").fetchone()
    room_tied = [("memories_delete",), ("memories_insert",), ("memories_select",), ("memories_update",)]
    assert rls == (True,) and sorted(policies) == room_tied and triggers == [("okai_audit",)]
    assert granted == (True,)


def test_migration_recorded_before_migrate_runs_again(converted: Converted) -> None:
    """``migrate`` on a partitioned database takes the fast path: nothing is re-created."""
    with psycopg.connect(converted.url, autocommit=True) as conn:
        profile = migrate(conn)
        assert profile.partitioned and profile.dimension == DIM
        (value,) = conn.execute("SELECT value FROM okai_settings WHERE key = 'memories_partitioning'").fetchone() or (
            None,
        )
    assert value["partitions"] == PARTITIONS
