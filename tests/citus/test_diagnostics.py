"""The Citus diagnostics (okai_insight/diagnostics/citus.py) and the embedding insight functions on a real local
cluster (coordinator + 2 workers, 4 shards): each finding proven by a defect planted for real (an index dropped on
one shard placement directly on its worker, an invalid one, a shard moved, an inactive node, an undistributed
memories table, a fan-out statement), quiet on the healthy cluster, and a plain PostgreSQL says "not a Citus
database" without failing doctor."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg import sql

from okai_insight.citus import CitusCluster
from okai_insight.diagnostics import citus, doctor
from okai_insight.diagnostics._runner import Runner
from okai_insight.embeddings import embedding_quality, tune_recall
from okai_insight.settings import Settings
from tests.embeddings._world import World, build

CHECKS = [
    citus.citus_nodes,
    citus.citus_shards,
    citus.citus_vector_indexes,
    citus.citus_fanout_queries,
    citus.citus_undistributed_tables,
]


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(url, autocommit=True, connect_timeout=10)


@pytest.fixture(scope="module")
def world(citus_url: str) -> World:
    """The embedding tests' planted world on the cluster, memories distributed by agent, plus 8 agents of random
    rows so that both workers hold memories."""
    w = build(citus_url)
    rng = np.random.default_rng(7)
    with _connect(citus_url) as conn:
        if (
            conn.execute("SELECT to_regclass('pg_dist_partition')").fetchone()
            and not conn.execute("SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'memories'::regclass").fetchone()
        ):
            pytest.fail("init on a Citus coordinator left memories undistributed")
        for _ in range(8):
            agent = uuid.uuid4()
            conn.execute('INSERT INTO accounts ("id", "name", "email") VALUES (%s, %s, %s)', (agent, "x", f"{agent}@x"))
            for _ in range(20):
                v = rng.normal(size=w.dim)
                conn.execute(
                    'INSERT INTO memories ("id", "type", "content", "embedding", "userId", "agentId", "roomId") '
                    "VALUES (%s, 'messages', '{\"text\": \"r\"}', %s::vector, %s, %s, %s)",
                    (uuid.uuid4(), "[" + ",".join(f"{x:.6f}" for x in v) + "]", agent, agent, w.rooms[0]),
                )
        conn.execute("ANALYZE memories")  # Citus analyses every shard
        (nodes,) = conn.execute(
            "SELECT count(DISTINCT nodeport) FROM citus_shards WHERE table_name = 'memories'::regclass "
            "AND shardid IN (SELECT DISTINCT get_shard_id_for_distribution_column('memories', \"agentId\") "
            "FROM memories)"
        ).fetchone() or (0,)
        assert nodes == 2  # memories on both workers: sampling and searches really cross shards
    return w


def _worker_url(cluster: CitusCluster, url: str, port: int) -> str:
    database = url.rsplit("/", 1)[1]
    return next(u for u in cluster.worker_urls if f":{port}/" in u).rsplit("/", 1)[0] + "/" + database


def test_a_plain_postgresql_is_not_a_citus_database(pg_url: str) -> None:
    for check in CHECKS:
        result = check(pg_url)
        assert (result.status, result.rows, result.findings) == ("ok", [], [])
        assert result.note == citus.NOT_CITUS
    report = doctor(pg_url, checks=[c.__name__ for c in CHECKS])
    assert report.counts() == {"critical": 0, "warning": 0, "info": 0}
    assert not any("not checked" in line for line in report.summary_lines())


def test_the_healthy_cluster_is_seen_and_quiet(citus_cluster: CitusCluster, citus_url: str, world: World) -> None:
    nodes = citus.citus_nodes(citus_url)
    assert [r["role"] for r in nodes.rows] == ["coordinator", "worker", "worker"]
    assert {r["node"].rsplit(":", 1)[1] for r in nodes.rows} == {str(n.port) for n in citus_cluster.nodes}
    assert all(r["is_active"] and r["reachable"] for r in nodes.rows)
    assert [r["shard_placements"] for r in nodes.rows][1:] == [2, 2]  # 4 shards of memories over 2 workers
    shards = citus.citus_shards(citus_url)
    assert {(r["table"], r["shards"]) for r in shards.rows} == {("memories", 2)}
    assert sum(r["size_bytes"] for r in shards.rows) > 0
    indexes = citus.citus_vector_indexes(citus_url)
    assert len(indexes.rows) == 4 and all(r["present"] and r["valid"] for r in indexes.rows)
    assert all(r["size_bytes"] >= 8192 for r in indexes.rows)  # each shard's own HNSW index, sized
    tables = {r["table"]: r for r in citus.citus_undistributed_tables(citus_url).rows}
    assert tables["memories"]["citus_table_type"] == "distributed"
    assert tables["memories"]["distribution_column"] == "agentId"
    assert tables["rooms"]["citus_table_type"] == "reference"
    report = doctor(
        citus_url, checks=["citus_nodes", "citus_shards", "citus_vector_indexes", "citus_undistributed_tables"]
    )
    assert report.counts() == {"critical": 0, "warning": 0, "info": 0}, report.to_text()


def test_an_index_missing_or_invalid_on_one_shard_is_critical(
    citus_cluster: CitusCluster, citus_url: str, world: World
) -> None:
    rows = citus.citus_vector_indexes(citus_url).rows
    dropped, broken = rows[0], next(r for r in rows[1:] if r["node"] != rows[0]["node"])
    for row, plant in (
        (dropped, "DROP INDEX {index}"),
        (broken, "UPDATE pg_index SET indisvalid = false WHERE indexrelid = '{index}'::regclass"),
    ):
        port = int(row["node"].rsplit(":", 1)[1])
        with _connect(_worker_url(citus_cluster, citus_url, port)) as worker:
            worker.execute("SET citus.enable_manual_changes_to_shards TO on")
            worker.execute(plant.format(index=f"{row['index']}_{row['shard_id']}"))
    result = citus.citus_vector_indexes(citus_url)
    findings = {f.subject: f for f in result.findings}
    assert len(findings) == 2 and {f.severity for f in findings.values()} == {"critical"}
    missing = findings[f"{dropped['index']} @ {dropped['shard']} ({dropped['node']})"]
    assert f"shard {dropped['shard']} on {dropped['node']} has no idx_memories_embedding" in missing.message
    invalid = findings[f"{broken['index']} @ {broken['shard']} ({broken['node']})"]
    assert "invalid" in invalid.message and broken["node"] in invalid.message
    for row, finding in ((dropped, missing), (broken, invalid)):  # each fix, run where it says, repairs its shard
        assert finding.fix_sql is not None and finding.fix_sql.startswith(f"-- on {row['node']}, this database:")
        port = int(row["node"].rsplit(":", 1)[1])
        with _connect(_worker_url(citus_cluster, citus_url, port)) as worker:
            for statement in finding.fix_sql.splitlines()[1:]:
                worker.execute(statement)
    result = citus.citus_vector_indexes(citus_url)
    assert result.findings == [] and all(r["present"] and r["valid"] for r in result.rows)


def test_an_unbalanced_placement_is_a_warning(citus_url: str, world: World) -> None:
    rows = citus.citus_shards(citus_url).rows
    source, target = rows[0]["node"], rows[1]["node"]
    with _connect(citus_url) as conn:
        (shard,) = conn.execute(
            "SELECT shardid FROM citus_shards WHERE table_name = 'memories'::regclass "
            "AND nodename || ':' || nodeport = %s ORDER BY shardid LIMIT 1",
            (source,),
        ).fetchone() or (None,)
        s_host, s_port = source.rsplit(":", 1)
        t_host, t_port = target.rsplit(":", 1)
        move = "SELECT citus_move_shard_placement(%s, %s, %s, %s, %s, shard_transfer_mode => 'block_writes')"
        conn.execute(move, (shard, s_host, int(s_port), t_host, int(t_port)))
        try:
            result = citus.citus_shards(citus_url)
            assert {r["node"]: r["shards"] for r in result.rows} == {source: 1, target: 3}
            (finding,) = result.findings
            assert finding.severity == "warning" and finding.subject == "memories"
            assert f"node {target} holds 3 shards" in finding.message
            assert finding.fix_sql == "SELECT citus_rebalance_start();"
        finally:
            conn.execute(move, (shard, t_host, int(t_port), s_host, int(s_port)))
    assert citus.citus_shards(citus_url).findings == []


def test_an_inactive_node_is_critical(citus_url: str, world: World) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    with _connect(citus_url) as conn:
        conn.execute("SELECT citus_add_inactive_node('127.0.0.1', %s)", (port,))
        try:
            result = citus.citus_nodes(citus_url, check_health=False)
            (finding,) = [f for f in result.findings if f.subject == f"127.0.0.1:{port}"]
            assert finding.severity == "critical" and "inactive" in finding.message
            assert finding.fix_sql == f"SELECT citus_activate_node('127.0.0.1', {port});"
        finally:
            conn.execute("SELECT citus_remove_node('127.0.0.1', %s)", (port,))
    assert citus.citus_nodes(citus_url).findings == []


def test_a_memories_table_left_on_the_coordinator_is_a_warning(citus_url: str, world: World) -> None:
    with _connect(citus_url) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS single_node")
        conn.execute('CREATE TABLE single_node.memories ("id" uuid PRIMARY KEY, "agentId" uuid, "roomId" uuid)')
        conn.execute('CREATE TABLE single_node.rooms ("id" uuid PRIMARY KEY)')
    try:
        result = citus.citus_undistributed_tables(citus_url)
        found = {f.subject: f for f in result.findings}
        assert set(found) == {"single_node.memories", "single_node.rooms"}
        assert found["single_node.memories"].severity == "warning"
        assert found["single_node.memories"].fix_sql == (
            "SELECT create_distributed_table('single_node.memories', 'agentId');"
        )
        assert found["single_node.rooms"].severity == "info"
    finally:
        with _connect(citus_url) as conn:
            conn.execute("DROP SCHEMA single_node CASCADE")


def test_a_filtered_statement_without_the_agent_fans_out(citus_url: str, world: World) -> None:
    agent, room = world.agents["clean"], world.rooms[1]
    with _connect(citus_url) as conn:
        conn.execute("SET citus.stat_statements_track = 'all'")  # Citus's own record of routed / multi-shard
        for _ in range(3):
            conn.execute('SELECT id FROM memories WHERE "roomId" = %s ORDER BY "createdAt" DESC LIMIT 5', (room,))
            conn.execute('SELECT id FROM memories WHERE "agentId" = %s AND "roomId" = %s LIMIT 5', (agent, room))
    result = citus.citus_fanout_queries(citus_url, limit=100)
    by_text = {r["query"]: r for r in result.rows}
    fan = by_text['SELECT id FROM memories WHERE "roomId" = $1 ORDER BY "createdAt" DESC LIMIT $2']
    routed = by_text['SELECT id FROM memories WHERE "agentId" = $1 AND "roomId" = $2 LIMIT $3']
    assert (fan["tracked"], fan["fans_out"], fan["calls"]) == (True, True, 3)
    assert (routed["tracked"], routed["fans_out"]) == (True, False)
    warned = {f.subject for f in result.findings if f.severity == "warning"}
    assert str(fan["queryid"]) in warned and str(routed["queryid"]) not in warned


@pytest.fixture
def runner(citus_url: str) -> Iterator[Runner]:
    with Runner(citus_url) as run:
        yield run


def test_search_settings_reach_the_shards(runner: Runner, citus_url: str, world: World) -> None:
    """hnsw.ef_search set by the runner reaches the shards' queries on the workers (the expression runs there)."""
    on_shards = sql.SQL("SELECT DISTINCT current_setting('hnsw.ef_search') AS ef FROM memories")
    default = str(Settings().hnsw_ef_search)  # the distributed database's default on every node (distribute_schema)
    assert runner.execute(on_shards).rows == [{"ef": default}]
    assert runner.execute(on_shards, local_settings={"hnsw.ef_search": "7"}).rows == [{"ef": "7"}]
    with _connect(citus_url) as conn, conn.transaction():  # what the runner did before: set_config() stays behind
        conn.execute("SELECT set_config('hnsw.ef_search', '7', true)")
        assert conn.execute(on_shards.as_string(conn)).fetchall() == [(default,)]


def test_the_embedding_insight_reads_every_shard(citus_url: str, world: World) -> None:
    full = embedding_quality(citus_url)
    assert full.status == "ok"
    assert full.summary["exact_duplicate_groups"] == len(world.exact_dup_pairs)
    assert full.summary["near_duplicate_pairs"] >= len(world.near_dup_pairs)
    with _connect(citus_url) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM memories").fetchone() or (0,)
    # the estimate comes from the shards (the coordinator's shell table says 0), so big tables are sampled
    assert full.summary["estimated_rows"] == rows
    sampled = embedding_quality(citus_url, sample_rows=200)  # TABLESAMPLE SYSTEM, pushed down to every shard
    assert sampled.status == "ok" and sampled.summary["sampled"] and sampled.summary["sample_percent"] < 100
    recall = tune_recall(citus_url, queries=10)
    assert recall.status == "ok"
    exact = [r for r in recall.rows if r["iterative_scan"] == "exact"]
    assert {r["scope"] for r in exact} == {"all", "room", "agent"}
    assert all(r["recall_at_k"] == 1.0 for r in exact)
