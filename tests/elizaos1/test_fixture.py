"""The fixture is what ElizaOS 1.x writes: the facts docs/elizaos1.md states, measured on the plugin's own output."""

from __future__ import annotations

import psycopg

from tests.elizaos1.conftest import ElizaOS1Databases

DIM_COLUMNS = ["dim_384", "dim_512", "dim_768", "dim_1024", "dim_1536", "dim_3072"]


def test_the_plugin_created_its_schema_and_bookkeeping(elizaos1: ElizaOS1Databases) -> None:
    with psycopg.connect(elizaos1.url) as conn:
        public = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        bookkeeping = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'migrations'")}
        dims = [
            r[0]
            for r in conn.execute(
                "SELECT attname FROM pg_attribute WHERE attrelid = 'embeddings'::regclass AND attname LIKE 'dim%%'"
                " AND NOT attisdropped ORDER BY attnum"
            )
        ]
        vector_indexes = conn.execute(
            "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam"
            " WHERE a.amname IN ('hnsw', 'ivfflat')"
        ).fetchone()
    assert {
        "agents",
        "entities",
        "worlds",
        "rooms",
        "participants",
        "memories",
        "embeddings",
        "cache",
        "logs",
    } <= public
    assert {"_migrations", "_journal", "_snapshots"} <= bookkeeping
    assert dims == DIM_COLUMNS
    assert vector_indexes == (0,)


def test_each_agent_fills_only_its_own_dim_column(elizaos1: ElizaOS1Databases) -> None:
    with psycopg.connect(elizaos1.url) as conn:
        rows = conn.execute(
            "SELECT m.agent_id::text, count(e.dim_384), count(e.dim_768), count(*)"
            " FROM embeddings e JOIN memories m ON m.id = e.memory_id GROUP BY 1 ORDER BY 1"
        ).fetchall()
        zeros = conn.execute("SELECT count(*) FROM embeddings WHERE dim_384 IS NOT NULL AND vector_norm(dim_384) = 0")
        zero_count = zeros.fetchone()
    agents = {a["agentId"]: a for a in elizaos1.postgres_summary["agents"]}
    by_agent = {agent_id: (n384, n768, n) for agent_id, n384, n768, n in rows}
    ada, grace = elizaos1.postgres_summary["agents"]
    assert by_agent[ada["agentId"]] == (300 + 12, 0, 300 + 12)  # messages and knowledge fragments have vectors
    assert by_agent[grace["agentId"]] == (0, 12, 12)
    assert set(by_agent) == set(agents)
    assert zero_count == (len(ada["zeroVectorMemoryIds"]),)
    assert len(ada["zeroVectorMemoryIds"]) >= ada["written"]["zeros"] + ada["written"]["nonFinite"]


def test_elizaos_search_returns_zero_vectors_first_with_nan_similarity(elizaos1: ElizaOS1Databases) -> None:
    for summary in (elizaos1.postgres_summary, elizaos1.pglite_summary):
        ada = summary["agents"][0]
        zero_ids = set(ada["zeroVectorMemoryIds"])
        for search in ada["searches"]:
            # Every search (even at threshold 0.95) starts with the zero vectors: NaN passes every threshold.
            nans = [i for i, s in enumerate(search["similarity"]) if s == "NaN"]
            assert nans and nans == list(range(len(nans))), search["label"]
            if search["label"] != "zero-query":  # a zero query makes every similarity NaN
                assert set(search["ids"][: len(nans)]) <= zero_ids, search["label"]


def test_the_pglite_directory_holds_a_cluster(elizaos1: ElizaOS1Databases) -> None:
    assert (elizaos1.pglite_dir / "PG_VERSION").read_text().strip() == "17"
    assert elizaos1.pglite_summary["agents"][0]["counts"]["messagesByRoom"] == [150, 150]
