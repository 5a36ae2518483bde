"""okai-insight's schema on Citus (okai_insight/schema/_citus.py): init distributes memories by agent with an HNSW
index on every shard and reference tables for the rest; an existing single-node database is converted with a
verified move; what cannot be moved is refused before anything changes. Real cluster, real rows."""

from __future__ import annotations

import json
import uuid

import numpy as np
import psycopg
import pytest
from psycopg import sql

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.citus import CitusCluster
from okai_insight.errors import SchemaError
from okai_insight.models import Account, Memory
from okai_insight.schema._citus import REFERENCE, distribute_schema, distribution_column

DIM = 8


def _tables(url: str) -> dict[str, tuple[str, str]]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        return {
            str(t): (str(kind), str(col))
            for t, kind, col in conn.execute(
                "SELECT table_name::text, citus_table_type, distribution_column FROM citus_tables"
            )
        }


def _hnsw_shard_indexes(cluster: CitusCluster, database: str) -> int:
    """HNSW indexes on memories' shards, counted on the workers themselves."""
    total = 0
    for node in cluster.nodes[1:]:
        with psycopg.connect(node.url(database), connect_timeout=10) as conn:
            conn.execute("SET citus.show_shards_for_app_name_prefixes = '*'")  # shards are hidden by default
            (n,) = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename ~ '^memories_[0-9]+$' AND indexdef LIKE '%USING hnsw%'"
            ).fetchone() or (0,)
            total += int(n)
    return total


def test_init_distributes_memories_by_agent_with_an_hnsw_index_per_shard(
    citus_cluster: CitusCluster, citus_url: str
) -> None:
    db = PostgresAdapter(citus_url, dimension=DIM)
    db.init()
    try:
        assert db.profile is not None
        assert (db.profile.partition_key, db.profile.distributed) == ("agentId", True)
    finally:
        db.close()
    tables = _tables(citus_url)
    assert tables["memories"] == ("distributed", "agentId")
    assert {t for t, (kind, _) in tables.items() if kind == "reference"} == set(REFERENCE)
    assert "cache" not in tables  # a plain table on the coordinator (its upsert is not allowed distributed)
    with psycopg.connect(citus_url, connect_timeout=10) as conn:
        key = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'memories'::regclass AND contype = 'p'"
        ).fetchone()
        assert key == ('PRIMARY KEY ("agentId", id)',)
        (shards,) = conn.execute("SELECT count(*) FROM citus_shards WHERE table_name = 'memories'::regclass").fetchone()
        mode = conn.execute("SHOW citus.multi_shard_modify_mode").fetchone()
    assert mode == ("sequential",)
    assert shards == 4
    assert _hnsw_shard_indexes(citus_cluster, citus_url.rsplit("/", 1)[-1]) == 4
    # init again: the fast path, nothing redistributed
    again = PostgresAdapter(citus_url, dimension=DIM)
    again.init()
    again.close()
    assert _tables(citus_url)["memories"] == ("distributed", "agentId")


def _single_node_database(cluster: CitusCluster, name: str) -> str:
    """A database made on the coordinator before Citus was in it: okai's plain schema, as a user's server has it."""
    with psycopg.connect(cluster.nodes[0].url("postgres"), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = cluster.nodes[0].url(name)
    db = PostgresAdapter(url, dimension=DIM)
    db.init()
    db.close()
    return url


def _fill(url: str, agents: int = 5, per_agent: int = 40) -> tuple[list[uuid.UUID], uuid.UUID]:
    db = PostgresAdapter(url, dimension=DIM)
    db.init()
    rng = np.random.default_rng(7)
    ids = []
    try:
        room = db.create_room()
        for a in range(agents):
            agent_id = uuid.uuid4()
            db.create_account(Account(id=agent_id, name=f"agent{a}", username=f"agent{a}", email=f"a{a}@example.org"))
            batch = [
                Memory(
                    agent_id=agent_id,
                    user_id=agent_id,
                    room_id=room,
                    content={"text": f"{a}-{i}"},
                    embedding=rng.normal(size=DIM).astype(np.float32),
                )
                for i in range(per_agent)
            ]
            ids += db.create_memories(batch, "messages")
    finally:
        db.close()
    return ids, room


def _checksum(url: str) -> tuple[int, int]:
    with psycopg.connect(url, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*), sum(('x' || left(md5(m::text), 15))::bit(60)::bigint) FROM memories AS m"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def test_an_existing_single_node_database_is_moved_and_verified(citus_cluster: CitusCluster) -> None:
    name = f"convert_{uuid.uuid4().hex[:8]}"
    url = _single_node_database(citus_cluster, name)
    ids, room = _fill(url)
    before = _checksum(url)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        with pytest.raises(SchemaError, match="not a Citus coordinator"):
            distribute_schema(conn)  # no citus in this database yet
    citus_cluster.create_database(name)  # CREATE EXTENSION citus on every node, workers registered
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        done = distribute_schema(conn)
        assert done.rows["memories"] == len(ids) == 200
        assert done.rows["accounts"] == 5
        assert done.distributed == {"memories": "agentId"}
        assert distribution_column(conn) == "agentId"
        # The coordinator's local copy is emptied by Citus: every row now lives in a shard on a worker.
        local = {
            t: conn.execute("SELECT pg_relation_size(%s)", (t,)).fetchone() for t in ("memories", "accounts", "rooms")
        }
        placed = conn.execute(
            "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'memories'::regclass"
        ).fetchone()
        again = distribute_schema(conn)
    assert placed == (2,)
    assert local == {"memories": (0,), "accounts": (0,), "rooms": (0,)}  # no stale local copy left behind
    assert _checksum(url) == before  # the same rows, embeddings included, read back through the coordinator
    assert again.already
    db = PostgresAdapter(url)
    db.init()
    try:
        assert db.profile is not None and db.profile.distributed
        assert db.count_memories(room, unique=False, table_name="messages") == 200
        got = db.get_memories_by_ids(ids[:3], table_name="messages")
        assert {m.id for m in got} == set(ids[:3])
    finally:
        db.close()


def test_memories_without_an_agent_are_refused_and_nothing_changes(citus_cluster: CitusCluster) -> None:
    name = f"agentless_{uuid.uuid4().hex[:8]}"
    url = _single_node_database(citus_cluster, name)
    _fill(url, agents=1, per_agent=3)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute("UPDATE memories SET \"agentId\" = NULL WHERE \"content\"->>'text' = '0-0'")
    before = _checksum(url)
    citus_cluster.create_database(name)
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        with pytest.raises(SchemaError, match='1 memories have no "agentId"'):
            distribute_schema(conn)
        assert distribution_column(conn) is None
        assert conn.execute("SELECT count(*) FROM pg_dist_partition").fetchone() == (0,)
        key = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'memories'::regclass AND contype = 'p'"
        ).fetchone()
    assert key == ("PRIMARY KEY (id)",)  # the rolled-back transaction left the key as it was
    assert _checksum(url) == before


def test_copy_into_a_citus_database_lands_in_the_shards_and_verifies(citus_cluster: CitusCluster) -> None:
    """okai-insight copy from a single-node database into a new database on the coordinator: init distributes the
    empty target, the rows go in through Citus's COPY in one transaction, and copy's own verification (row counts and
    embedding checksums on both sides) passes."""
    from okai_insight.copy import copy_database

    source = _single_node_database(citus_cluster, f"copysrc_{uuid.uuid4().hex[:8]}")
    ids, room = _fill(source, agents=4, per_agent=25)
    target = citus_cluster.create_database(f"copydst_{uuid.uuid4().hex[:8]}")
    report = copy_database(source, target, progress=False)
    assert report.rows["memories"] == len(ids) == 100
    assert report.rows["accounts"] == 4
    assert _tables(target)["memories"] == ("distributed", "agentId")
    assert _checksum(target) == _checksum(source)
    with psycopg.connect(target, connect_timeout=10) as conn:
        assert conn.execute("SELECT pg_relation_size('memories')").fetchone() == (0,)  # all of it in the shards


def test_the_distribute_command_converts_a_database_and_says_what_it_verified(
    citus_cluster: CitusCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """``okai-insight distribute``: refused (exit 1, nothing changed) before the database is on the cluster, then
    converts it with every table verified, then says it is already distributed."""
    from okai_insight import cli

    name = f"cli_{uuid.uuid4().hex[:8]}"
    url = _single_node_database(citus_cluster, name)
    ids, _ = _fill(url, agents=2, per_agent=10)
    before = _checksum(url)
    assert cli.main(["distribute", url]) == 1
    assert "not a Citus coordinator" in capsys.readouterr().err
    citus_cluster.create_database(name)
    assert cli.main(["distribute", url, "--format", "json"]) == 0
    summary, _, rows = capsys.readouterr().out.partition("\n")
    assert 'memories distributed by "agentId"' in summary
    assert {r["table"]: r["rows_verified"] for r in json.loads(rows)}["memories"] == 20
    assert _tables(url)["memories"] == ("distributed", "agentId")
    assert _checksum(url) == before and len(ids) == 20
    assert cli.main(["distribute", url]) == 0
    assert capsys.readouterr().out.startswith("already distributed")
