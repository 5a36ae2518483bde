"""Embedding insight on ElizaOS 1.x (issue 14 item 3), on the fixture's database written by plugin-sql 1.7.2.

Before: ``embedding_quality`` and ``explore`` failed with their defaults (no ``memories.embedding`` column), and
pointed at ``embeddings.dim_384`` they could neither group nor filter by agent, room or type, had no text and
reported ``embeddings.id`` instead of memory ids. The fixture has two agents: Ada (384 dimensions, two rooms,
zero vectors) and Grace (768, one room); every check reads one ``dim_N`` column at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from okai_insight.embeddings import drift, embedding_quality, explore, neighbours, tune_recall, tune_threshold
from okai_insight.embeddings._fetch import Filters
from okai_insight.errors import InvalidInput
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

FAST_MAP: dict[str, Any] = {"limit": 200, "n_neighbors": 5, "n_epochs": 10, "pca_components": 10, "progress": False}


@pytest.fixture(scope="module")
def before(elizaos1: ElizaOS1Databases) -> Any:
    """The database's fingerprint before any check of this module ran (compared by the last test)."""
    return fingerprint(elizaos1.url)


@pytest.fixture(scope="module")
def memory_ids(elizaos1: ElizaOS1Databases, before: Any) -> set[str]:
    with psycopg.connect(elizaos1.url) as conn:
        return {str(r[0]) for r in conn.execute("SELECT id FROM memories")}


def _raw(url: str, query: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, args).fetchall()  # type: ignore[arg-type]


def _agents(elizaos1: ElizaOS1Databases) -> tuple[dict[str, Any], dict[str, Any]]:
    ada, grace = elizaos1.postgres_summary["agents"]
    return ada, grace


def test_the_six_checks_run_with_their_defaults_and_report_memory_ids(
    elizaos1: ElizaOS1Databases, memory_ids: set[str], tmp_path: Path
) -> None:
    url = elizaos1.url
    embedding_ids = {str(r[0]) for r in _raw(url, "SELECT id FROM embeddings")}
    assert not embedding_ids & memory_ids  # so reporting embeddings.id would be caught below

    q = embedding_quality(url, probes=40, neighbours=5)
    ids = {i for g in q.tables["exact_duplicates"] for i in g["ids"]}
    ids |= {p[k] for p in q.tables["near_duplicates"] for k in ("id_a", "id_b")}
    ids |= {m["id"] for m in q.tables["mixed_rows"]}
    assert q.tables["exact_duplicates"] and q.tables["near_duplicates"]  # the fixture writes duplicates
    assert ids and ids <= memory_ids

    p = explore(url, cache_dir=tmp_path, **FAST_MAP)
    assert len(p.frame) > 0 and set(p.frame["id"]) <= memory_ids
    assert p.frame["text_preview"].notna().all() and p.frame["room_id"].notna().all()

    some = next(iter(sorted(set(p.frame["id"]))))
    n = neighbours(url, some, k=5)
    assert len(n.rows) == 5 and {r["id"] for r in n.rows} <= memory_ids and some not in {r["id"] for r in n.rows}
    assert all(r["text_preview"] for r in n.rows)

    d = drift(url)
    assert d.rows and {r["group"] for r in d.rows} == {a["agentId"] for a in _agents(elizaos1)}

    t = tune_threshold(url, queries=20, random_pairs=60)
    pair_ids = {r[k] for r in t.tables["pairs"] for k in ("query", "memory")}
    assert t.rows and pair_ids <= memory_ids

    r = tune_recall(url, queries=8, k=5)
    assert {row["scope"] for row in r.rows} == {"all", "room", "agent"}
    assert all(row["recall_at_k"] == 1.0 and row["ef_search"] is None for row in r.rows)
    found = {i for row in r.tables["exact"] for i in row["ids"]} | {row["query_id"] for row in r.tables["exact"]}
    assert found and found <= memory_ids
    assert any("no vector index" in f.message for f in r.findings)


def test_quality_by_room_counts_each_room_from_its_own_column(elizaos1: ElizaOS1Databases) -> None:
    url = elizaos1.url
    expected = {
        (f"dim_{dim}", str(room)): n
        for dim in (384, 768)
        for room, n in _raw(
            url,
            f"SELECT m.room_id, count(*) FROM embeddings e JOIN memories m ON m.id = e.memory_id "
            f"WHERE e.dim_{dim} IS NOT NULL GROUP BY m.room_id",
        )
    }
    q = embedding_quality(url, by="room", probes=20, neighbours=3)
    got = {(r["column"], r["group"]): r["sampled_rows"] for r in q.rows}
    assert got == expected
    ada, grace = _agents(elizaos1)
    assert {g for c, g in got if c == "dim_384"} == set(ada["rooms"])  # Ada's two rooms
    assert {g for c, g in got if c == "dim_768"} == set(grace["rooms"])

    only = embedding_quality(url, by="room", column="dim_384", probes=20, neighbours=3)
    assert {r["group"]: r["sampled_rows"] for r in only.rows} == {
        g: n for (c, g), n in expected.items() if c == "dim_384"
    }


def test_zero_vectors_are_reported_by_memory_id_and_crash_nothing(elizaos1: ElizaOS1Databases, tmp_path: Path) -> None:
    url = elizaos1.url
    ada, _ = _agents(elizaos1)
    zeros = ada["zeroVectorMemoryIds"]
    assert zeros
    q = embedding_quality(url, column="dim_384", probes=20, neighbours=3)
    assert sum(r["zero_vectors"] for r in q.rows) == len(zeros)
    finding = next(f for f in q.findings if "zero vector" in f.message)
    assert "ElizaOS 1.x returns them first" in finding.message and all(z in finding.message for z in zeros)
    p = explore(url, agent_id=ada["agentId"], cache_dir=tmp_path, **{**FAST_MAP, "limit": None})
    assert not set(zeros) & set(p.frame["id"])  # no direction: left out of the map, not a crash
    with pytest.raises(InvalidInput, match="zero vector"):
        neighbours(url, zeros[0], k=3)


def test_filtering_by_agent_room_entity_world_and_type(elizaos1: ElizaOS1Databases, tmp_path: Path) -> None:
    url = elizaos1.url
    ada, grace = _agents(elizaos1)
    for agent in (ada, grace):
        p = explore(url, agent_id=agent["agentId"], cache_dir=tmp_path, **{**FAST_MAP, "limit": None})
        (n,) = _raw(
            url,
            f"SELECT count(*) FROM embeddings e JOIN memories m ON m.id = e.memory_id "
            f"WHERE m.agent_id = %s AND vector_norm(e.{agent['column']}) > 0",
            agent["agentId"],
        )[0]
        assert set(p.frame["agent_id"].astype(str)) == {agent["agentId"]} and len(p.frame) == n
        assert p.vectors.shape[1] == agent["dimension"] and p.summary["column"] == agent["column"]
    room = ada["rooms"][1]
    user = ada["users"][1]
    p = explore(
        url,
        room_id=room,
        user_id=user,
        world_id=ada["worldId"],
        type="messages",
        cache_dir=tmp_path,
        **{**FAST_MAP, "limit": None, "n_neighbors": 3},
    )
    (n,) = _raw(
        url,
        "SELECT count(*) FROM embeddings e JOIN memories m ON m.id = e.memory_id WHERE m.room_id = %s "
        "AND m.entity_id = %s AND m.world_id = %s AND m.type = 'messages' AND vector_norm(e.dim_384) > 0",
        room,
        user,
        ada["worldId"],
    )[0]
    assert len(p.frame) == n > 0
    assert set(p.frame["room_id"].astype(str)) == {room} and set(p.frame["user_id"].astype(str)) == {user}
    by_entity = embedding_quality(url, by="entity", column="dim_384", probes=10, neighbours=3)
    assert {r["group"] for r in by_entity.rows} == {
        str(e)
        for (e,) in _raw(
            url,
            "SELECT DISTINCT m.entity_id FROM embeddings e JOIN memories m ON m.id = "
            "e.memory_id WHERE e.dim_384 IS NOT NULL",
        )
    }
    t = tune_threshold(url, queries=10, random_pairs=30, filters=Filters(agent_id=ada["agentId"]))
    assert t.summary["pairs"] > 0


def test_the_two_dimensions_are_never_mixed(elizaos1: ElizaOS1Databases, tmp_path: Path) -> None:
    url = elizaos1.url
    ada, grace = _agents(elizaos1)
    q = embedding_quality(url, probes=20, neighbours=3)
    for r in q.rows:  # by agent: each agent's row comes from its own column, with one dimension only
        agent = ada if r["group"] == ada["agentId"] else grace
        assert r["column"] == agent["column"] and set(r["stored_dims"]) == {agent["dimension"]}
    assert any("384" in f.message and "768" in f.message and "active dimensions" in f.message for f in q.findings)
    p = explore(url, cache_dir=tmp_path, **FAST_MAP)  # default: the fullest column, Ada's, and a finding
    assert p.vectors.shape[1] == 384 and set(p.frame["agent_id"].astype(str)) == {ada["agentId"]}
    assert any("dim_768" in f.message for f in p.findings)
    grace_memory = _raw(url, "SELECT memory_id::text FROM embeddings WHERE dim_768 IS NOT NULL ORDER BY 1 LIMIT 1")
    n = neighbours(url, grace_memory[0][0], k=5)
    assert n.summary["column"] == "dim_768" and {str(r["agent_id"]) for r in n.rows} == {grace["agentId"]}
    d = drift(url, by="room")
    assert {(r["group"], r["dims"]) for r in d.rows} == {
        *((room, 384) for room in ada["rooms"]),
        *((room, 768) for room in grace["rooms"]),
    }


def test_the_database_is_unchanged(elizaos1: ElizaOS1Databases, before: Any) -> None:
    """Runs last: every check above only read the database (schema dump and row checksums identical)."""
    assert fingerprint(elizaos1.url) == before


def test_on_a_pglite_directory(
    elizaos1: ElizaOS1Databases, pglite_node_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """ElizaOS 1.x's default store: the checks run through one PGlite backend (one agent, 384 dimensions)."""
    from okai_insight.pglite import serve
    from okai_insight.runner import using

    ada = elizaos1.pglite_summary["agents"][0]
    with serve(elizaos1.pglite_dir, node_dir=pglite_node_dir) as url, using(url) as run:
        q = embedding_quality(run, by="room", probes=10, neighbours=3)
        p = explore(run, cache_dir=tmp_path_factory.mktemp("map"), **FAST_MAP)
    assert {r["group"] for r in q.rows} == set(ada["rooms"]) and {r["column"] for r in q.rows} == {"dim_384"}
    assert p.vectors.shape[1] == 384 and not set(ada["zeroVectorMemoryIds"]) & set(p.frame["id"])
