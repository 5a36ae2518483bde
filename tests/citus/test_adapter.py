"""The PostgreSQL adapter on Citus (issue 18 item 3): a search filtered by agent is routed to one shard, an unfiltered
one fans out and merges per-shard top-k into the global top-k (recall measured against exact), a room-filtered
search keeps recall 1.0, create_memories goes through Citus's distributed COPY, and the near-duplicate check's
per-room lock holds across shards. Real cluster (coordinator + 2 workers, 4 shards), real vectors."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from okai_insight.adapters._pg_profile_sql import MemoryQueryShape
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.citus import CitusCluster
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

DIM = 16
AGENTS = 12
PER_AGENT = 150


@pytest.fixture(scope="module")
def loaded(
    citus_url: str, citus_cluster: CitusCluster
) -> Iterator[tuple[PostgresAdapter, np.ndarray, list[uuid.UUID], list[uuid.UUID], uuid.UUID]]:
    """1,800 memories of 12 agents spread over 4 shards; a small room holds 2 of each agent's rows. The workers'
    statement statistics start empty, so the COPY count below is this load's. In two parallel runs (pytest-xdist),
    reading a worker's pg_stat_statements after other modules had used the cluster failed on a query text holding
    a NUL byte (CharacterNotInRepertoire); the cause was not found, and no ordering of the Citus and contract tests
    reproduced it in one process."""
    database = citus_url.rsplit("/", 1)[-1]
    for node in citus_cluster.nodes[1:]:
        with psycopg.connect(node.url(database), connect_timeout=10, autocommit=True) as conn:
            conn.execute("SELECT pg_stat_statements_reset()")
    db = PostgresAdapter(citus_url, dimension=DIM)
    db.init()
    rng = np.random.default_rng(18)
    vectors = rng.normal(size=(AGENTS * PER_AGENT, DIM)).astype(np.float32)
    agents = [uuid.uuid4() for _ in range(AGENTS)]
    big, small = db.create_room(), db.create_room()
    memories = []
    for a, agent in enumerate(agents):
        db.create_account(Account(id=agent, name=f"agent{a}", username=f"agent{a}", email=f"agent{a}@example.org"))
        for i in range(PER_AGENT):
            row = a * PER_AGENT + i
            room = small if i < 2 else big
            memories.append(
                Memory(agent_id=agent, user_id=agent, room_id=room, content={"text": str(row)}, embedding=vectors[row])
            )
    ids = db.create_memories(memories, "messages")
    yield db, vectors, ids, agents, small
    db.close()


def _explain(url: str, query: str, params: dict[str, object]) -> str:
    from pgvector.psycopg import register_vector

    with psycopg.connect(url, connect_timeout=10) as conn:
        register_vector(conn)
        return "\n".join(str(r[0]) for r in conn.execute("EXPLAIN " + query, params))


def _params(q: np.ndarray, **filters: object) -> dict[str, object]:
    return {"q": q, "type": "messages", "room_id": None, "agent_id": None, "threshold": -1.0, "k": 10, **filters}


def test_an_agent_filtered_search_runs_on_one_shard_and_an_unfiltered_one_on_all(loaded, citus_url: str) -> None:
    db, vectors, _, agents, _ = loaded
    st = db.profile_sql
    routed = _explain(
        citus_url, st.text("search_index", MemoryQueryShape(agent=True)), _params(vectors[0], agent_id=agents[0])
    )
    assert "Task Count: 1" in routed, routed
    fanned = _explain(citus_url, st.text("search_index", MemoryQueryShape()), _params(vectors[0]))
    assert "Task Count: 4" in fanned, fanned
    # each shard answers its own top-k from its own HNSW index; the coordinator merges them
    assert "Index Scan using idx_memories_embedding" in fanned or "hnsw" in fanned.lower() or "Limit" in fanned


def _recall(got: list[list[uuid.UUID]], exact: list[list[uuid.UUID]]) -> float:
    return sum(len(set(g) & set(e)) for g, e in zip(got, exact, strict=True)) / sum(len(e) for e in exact)


def _exact(vectors: np.ndarray, ids: list[uuid.UUID], q: np.ndarray, rows: np.ndarray, k: int = 10) -> list[uuid.UUID]:
    unit = vectors[rows] / np.linalg.norm(vectors[rows], axis=1, keepdims=True)
    order = np.argsort(-(unit @ (q / np.linalg.norm(q))), kind="stable")[:k]
    return [ids[int(rows[i])] for i in order]


def test_an_unfiltered_search_merges_the_shards_top_k_into_the_global_one(loaded) -> None:
    db, vectors, ids, _, _ = loaded
    rng = np.random.default_rng(5)
    queries = rng.normal(size=(30, DIM)).astype(np.float32)
    everything = np.arange(len(ids))
    got, exact = [], []
    for q in queries:
        found = db.search_memories_by_embedding(q, table_name="messages", count=10)
        sims = [m.similarity for m in found]
        assert sims == sorted(sims, reverse=True)  # merged nearest first
        got.append([m.id for m in found])
        exact.append(_exact(vectors, ids, q, everything))
    assert _recall(got, exact) >= 0.9  # HNSW per shard, ef_search 40, 450 rows a shard


def test_a_room_filtered_search_keeps_recall(loaded) -> None:
    db, vectors, ids, _, small = loaded
    rng = np.random.default_rng(6)
    in_room = np.array([a * PER_AGENT + i for a in range(AGENTS) for i in range(2)])
    got, exact = [], []
    for q in rng.normal(size=(20, DIM)).astype(np.float32):
        got.append([m.id for m in db.search_memories_by_embedding(q, table_name="messages", room_id=small, count=10)])
        exact.append(_exact(vectors, ids, q, in_room))
    assert _recall(got, exact) == 1.0  # the room spans every shard; each keeps its rows of it


def test_an_agent_filtered_search_is_exact_for_the_agent(loaded) -> None:
    db, vectors, ids, agents, _ = loaded
    rows = np.arange(3 * PER_AGENT, 4 * PER_AGENT)
    q = np.random.default_rng(9).normal(size=DIM).astype(np.float32)
    found = db.search_memories_by_embedding(q, table_name="messages", agent_id=agents[3], count=10)
    assert [m.id for m in found] == _exact(vectors, ids, q, rows)


def test_create_memories_goes_through_citus_distributed_copy(
    loaded, citus_cluster: CitusCluster, citus_url: str
) -> None:
    db, _, ids, _, _ = loaded
    database = citus_url.rsplit("/", 1)[-1]
    per_worker, copies = [], 0
    for node in citus_cluster.nodes[1:]:
        with psycopg.connect(node.url(database), connect_timeout=10) as conn:
            conn.execute("SET citus.show_shards_for_app_name_prefixes = '*'")
            shards = [
                r[0]
                for r in conn.execute(
                    "SELECT relname FROM pg_class WHERE relname ~ '^memories_[0-9]+$' AND relkind = 'r'"
                )
            ]
            per_worker.append(sum(int(conn.execute(f'SELECT count(*) FROM "{s}"').fetchone()[0]) for s in shards))
            (n,) = conn.execute(
                "SELECT count(*) FROM pg_stat_statements WHERE query ~* '^COPY [a-z_.]*memories_[0-9]+'"
            ).fetchone() or (0,)
            copies += int(n)
    assert sum(per_worker) == len(ids) and all(per_worker)  # every row in a shard, both workers hold some
    assert copies >= 2  # the shards were written by COPY, one per shard the batch touched
    with psycopg.connect(citus_url, connect_timeout=10) as conn:
        # nothing in the coordinator's own (shell) table
        assert conn.execute("SELECT pg_relation_size('memories')").fetchone() == (0,)


def test_the_near_duplicate_lock_holds_across_shards(citus_url: str) -> None:
    """Two agents (on different shards) store the same message in one room at the same moment, 6 times over:
    the check and the insert run under the room's lock on the coordinator, so exactly one of each pair is unique."""
    db = PostgresAdapter(citus_url, dimension=DIM)
    db.init()
    try:
        agents = [uuid.uuid4(), uuid.uuid4()]
        with psycopg.connect(citus_url, connect_timeout=10) as conn:
            shard_of = [
                conn.execute("SELECT get_shard_id_for_distribution_column('memories', %s)", (a,)).fetchone()
                for a in agents
            ]
        while shard_of[0] == shard_of[1]:  # put them on different shards
            agents[1] = uuid.uuid4()
            with psycopg.connect(citus_url, connect_timeout=10) as conn:
                shard_of[1] = conn.execute(
                    "SELECT get_shard_id_for_distribution_column('memories', %s)", (agents[1],)
                ).fetchone()
        for a, agent in enumerate(agents):
            db.create_account(
                Account(id=agent, name=f"dup{a}", username=f"dup{a}", email=f"dup{a}-{agent}@example.org")
            )
        room = db.create_room()
        rng = np.random.default_rng(3)
        for _ in range(6):
            emb = rng.normal(size=DIM).astype(np.float32)
            barrier = threading.Barrier(2)
            errors: list[BaseException] = []

            def write(
                agent: uuid.UUID, emb: np.ndarray, barrier: threading.Barrier, errors: list[BaseException]
            ) -> None:
                try:
                    barrier.wait(timeout=30)
                    db.create_memory(
                        Memory(agent_id=agent, user_id=agent, room_id=room, content={"text": "same"}, embedding=emb),
                        "messages",
                        unique=True,
                    )
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=write, args=(agent, emb, barrier, errors)) for agent in agents]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert not errors
        with psycopg.connect(citus_url, connect_timeout=10) as conn:
            flags = conn.execute(
                'SELECT count(*) FILTER (WHERE "isUnique"), count(*) FROM memories WHERE "roomId" = %s', (room,)
            ).fetchone()
        assert flags == (6, 12)
    finally:
        db.close()


def test_a_search_for_more_rows_than_ef_search_gets_them_from_every_shard(
    loaded, citus_cluster: CitusCluster, citus_url: str
) -> None:
    """The adapter's pgvector settings (set_config in its sessions) do not reach the workers' sessions, so the
    iterative scan and okai's ef_search are the database's defaults on every node (distribute_schema; Citus propagates
    ALTER DATABASE SET).
    At this size a shard's planner may sort its 450 rows exactly anyway, so the setting is checked on the workers."""
    db, vectors, ids, _, _ = loaded
    database = citus_url.rsplit("/", 1)[-1]
    for node in citus_cluster.nodes[1:]:
        with psycopg.connect(node.url(database), connect_timeout=10) as conn:
            assert conn.execute("SHOW hnsw.iterative_scan").fetchone() == ("relaxed_order",)
            assert conn.execute("SHOW hnsw.ef_search").fetchone() == (str(Settings().hnsw_ef_search),)
    q = np.random.default_rng(11).normal(size=DIM).astype(np.float32)
    found = db.search_memories_by_embedding(q, table_name="messages", count=200)
    assert len(found) == 200
    exact = set(_exact(vectors, ids, q, np.arange(len(ids)), k=200))
    assert len({m.id for m in found} & exact) / 200 >= 0.9
