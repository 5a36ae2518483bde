"""The embedding checks on SQLite and in-memory stores (issue 15 item 7): the planted world of
tests/embeddings/_world.py (exact and near duplicates, zero and NULL vectors, a second-model population, same texts
with far-apart vectors) is loaded into PostgreSQL and, through the adapters, into a real sqlite-vec file and a
memory:// store; each check finds the same things on all three.

Before this change every check refused the stores (UnsupportedDatabase: "diagnostics needs PostgreSQL").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import okai_insight
from okai_insight.embeddings import embedding_quality, explore, neighbours, tune_recall, tune_threshold
from okai_insight.errors import InvalidInput, NotFound
from okai_insight.models import Account, Memory
from tests.embeddings._world import World

_SUMMARY_KEYS = (
    "exact_duplicate_groups",
    "exact_duplicate_rows",
    "near_duplicate_pairs",
    "probes",
    "probes_with_near_duplicate",
    "suspect_rows",
)


def _load(db, world: World) -> None:
    """The world's rows, ids, times and vectors written through the adapter (as an agent would write them)."""
    for name, aid in world.agents.items():
        db.create_account(Account(id=aid, name=name, email=f"{aid}@x.org"))
    for rid in world.rooms:
        db.create_room(rid)
    memories = [
        Memory(
            id=mid,
            created_at=world.created[i],
            content={"text": world.texts[i]},
            embedding=world.vectors[i],
            user_id=world.agents[world.agent_of[i]],
            agent_id=world.agents[world.agent_of[i]],
            room_id=world.rooms[world.room_of[i]],
        )
        for i, mid in enumerate(world.ids)
    ]
    db.create_memories(memories, "messages")


@pytest.fixture(scope="module")
def sqlite_url(world: World, tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('stores') / 'world.db'}"
    with okai_insight.connect(url, dimension=world.dim) as db:
        _load(db, world)
    return url


@pytest.fixture(scope="module")
def memory_store(world: World) -> Iterator[object]:
    with okai_insight.connect("memory://", dimension=world.dim) as db:
        _load(db, world)
        yield db


@pytest.fixture(scope="module")
def pg_quality(world: World, pg_url: str):
    return embedding_quality(pg_url, "memories", by="agent", near_threshold=0.95, probes=2000)


def _same(q, pg_q) -> None:
    assert q.status == "ok", q.findings
    for key in _SUMMARY_KEYS:
        assert q.summary[key] == pg_q.summary[key], key
    rows = {str(r["group"]): r for r in q.rows}
    for r in pg_q.rows:
        mine = rows[str(r["group"])]
        for key in ("sampled_rows", "null_vectors", "zero_vectors", "nan_vectors", "non_unit_vectors", "stored_dims"):
            assert mine[key] == r[key], (r["group"], key)
        assert mine["norm_median"] == pytest.approx(r["norm_median"], rel=1e-5)
    assert q.suspect_ids() == pg_q.suspect_ids()
    assert q.near_duplicate_pairs() == pg_q.near_duplicate_pairs()

    def gist(findings) -> list[tuple[str, str]]:  # severity and message without the table's name
        return sorted((f.severity, f.message.split(" ", 1)[1][:60]) for f in findings)

    assert gist(q.findings) == gist(pg_q.findings)


def test_quality_on_sqlite_agrees_with_postgres(sqlite_url, pg_quality, world):
    q = embedding_quality(sqlite_url, "memories", by="agent", near_threshold=0.95, probes=2000)
    _same(q, pg_quality)
    # The planted defects themselves, not only agreement.
    assert q.summary["exact_duplicate_groups"] >= 6
    assert {str(i) for p in world.exact_dup_pairs for i in p} <= {i for p in q.near_duplicate_pairs() for i in p}
    assert world.second_model_ids <= q.suspect_ids()
    assert any(f.severity == "warning" and "zero vector" in f.message for f in q.findings)


def test_quality_on_memory_store_and_adapter(memory_store, sqlite_url, pg_quality):
    _same(embedding_quality(memory_store, "memories", by="agent", near_threshold=0.95, probes=2000), pg_quality)
    with okai_insight.connect(sqlite_url) as db:
        _same(embedding_quality(db, "memories", by="agent", near_threshold=0.95, probes=2000), pg_quality)


def test_the_store_file_is_not_written(sqlite_url):
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    embedding_quality(sqlite_url, "memories", by=None)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_missing_file_and_unknown_table_are_typed_errors(tmp_path, sqlite_url):
    from okai_insight.errors import InvalidInput, UnknownTable

    with pytest.raises(InvalidInput, match="no SQLite file"):
        embedding_quality(f"sqlite:///{tmp_path / 'none.db'}")
    assert not (tmp_path / "none.db").exists()
    with pytest.raises(UnknownTable):
        embedding_quality(sqlite_url, "accounts")


def test_the_postgresql_only_hint_names_what_works_on_sqlite() -> None:
    """A PostgreSQL-only command given a SQLite URL points at what does read SQLite (issue 15 item 7): the doctor's
    SQLite health check and the embedding insight, not only init, demo and copy."""
    from okai_insight.errors import UnsupportedDatabase

    message = str(UnsupportedDatabase("sqlite:///agent.db").for_command("metrics"))
    assert message.startswith("metrics needs PostgreSQL; sqlite:///agent.db is a SQLite store")
    for name in ("doctor", "embedding-quality", "copy"):
        assert name in message, name


# --- explore, neighbours, tune_threshold and tune_recall on the stores (issue 15 item 7) ------------------------


def _exact_top(world: World, mid: str, k: int) -> list[str]:
    ids, X = world.matrix()
    q = X[ids.index(mid)].astype(np.float64)
    cos = (X @ q) / (np.linalg.norm(X, axis=1) * np.linalg.norm(q))
    order = [ids[i] for i in np.argsort(-cos, kind="stable") if ids[i] != mid]
    return order[:k]


@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_neighbours_on_stores_are_the_exact_ones(where, sqlite_url, memory_store, world):
    target = sqlite_url if where == "sqlite" else memory_store
    ids, _ = world.matrix()
    mid = ids[7]
    res = neighbours(target, mid, k=5)
    assert res.status == "ok"
    got = [r["id"] for r in res.rows]
    assert got == _exact_top(world, mid, 5)
    assert [r["rank"] for r in res.rows] == [1, 2, 3, 4, 5]
    assert all(r["cosine_similarity"] == pytest.approx(1 - r["distance"]) for r in res.rows)
    assert res.summary["index"] is None
    by_vector = neighbours(target, vector=world.vectors[world.ids.index(mid)], k=6)
    assert by_vector.rows[0]["id"] == mid  # the memory itself is the nearest to its own vector
    with pytest.raises(InvalidInput, match="zero vector"):
        neighbours(target, sorted(world.zero_ids)[0])
    with pytest.raises(NotFound):
        neighbours(target, "00000000-0000-0000-0000-000000000001")


@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_explore_on_stores(where, sqlite_url, memory_store, world):
    target = sqlite_url if where == "sqlite" else memory_store
    p = explore(target, limit=None, progress=False, n_epochs=20)
    assert p.status == "ok"
    ids, _ = world.matrix()
    assert sorted(p.frame["id"]) == sorted(ids)  # zero and NULL vectors are left out, every other row placed
    assert np.isfinite(p.frame[["x", "y"]].to_numpy()).all()
    assert set(p.frame["agent_name"]) == set(world.agents)  # names read from the store's accounts
    room = str(world.rooms[2])
    one_room = explore(target, room_id=room, limit=None, progress=False, n_epochs=20)
    assert set(one_room.frame["room_id"]) == {room}
    assert one_room.clusters(min_cluster_size=5).summary["clusters"] >= 1


def test_explore_on_sqlite_matches_postgres_sample(sqlite_url, pg_url, world):
    """Keyed samples pick the same rows on every backend (md5(id || seed))."""
    a = explore(sqlite_url, limit=100, progress=False, n_epochs=10)
    b = explore(pg_url, limit=100, progress=False, n_epochs=10)
    assert sorted(a.frame["id"]) == sorted(b.frame["id"])


@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_tune_threshold_on_stores(where, sqlite_url, memory_store, world):
    target = sqlite_url if where == "sqlite" else memory_store
    res = tune_threshold(target, random_pairs=500)
    assert res.status == "ok" and res.summary["labels"].startswith("pseudo")
    positives = {frozenset((p["query"], p["memory"])) for p in res.table("pairs") if p["relevant"]}
    assert positives & (world.near_dup_pairs | world.exact_dup_pairs)
    assert res.summary["best_f1"] > 0.8
    assert res.summary["best_threshold_low"] <= res.summary["best_threshold"] <= res.summary["best_threshold_high"]
    assert res.summary["mean_results_at_best"] >= 0
    # labelled pairs read their vectors from the store
    a, b = sorted(next(iter(world.near_dup_pairs)))
    c = next(i for i in world.matrix()[0] if i not in (a, b))
    labelled = pd.DataFrame({"query": [a, a], "memory": [b, c], "relevant": [True, False]})
    lab = tune_threshold(target, labelled, queries=10)
    assert lab.summary["pairs"] == 2 and lab.summary["best_f1"] == 1.0


@pytest.mark.parametrize("where", ["sqlite", "memory"])
def test_tune_recall_on_an_exact_store_has_nothing_to_tune(where, sqlite_url, memory_store):
    target = sqlite_url if where == "sqlite" else memory_store
    res = tune_recall(target)
    assert res.status == "ok" and res.nothing_to_tune
    assert res.rows == []  # nothing measured, so no table pretending it was
    assert res.summary["recall_at_k"] == 1.0 and res.summary["set_statements"] == []
    assert [f.severity for f in res.findings] == ["info"]
    assert res.findings[0].message.startswith("exact store: recall 1.0, nothing to tune")


def test_cli_reads_sqlite_stores(sqlite_url, world, capsys, tmp_path):
    from okai_insight import cli

    path = Path(sqlite_url.removeprefix("sqlite:///"))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert cli.main(["tune-recall", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert "exact store: recall 1.0, nothing to tune" in out and "to apply" not in out
    ids, _ = world.matrix()
    assert cli.main(["neighbours", sqlite_url, "--id", ids[7], "--k", "3", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert [line.split(",")[1] for line in out.strip().splitlines()[1:]] == _exact_top(world, ids[7], 3)
    assert cli.main(["tune-threshold", sqlite_url, "--format", "json"]) == 0
    assert '"best_threshold_low"' in capsys.readouterr().out
    png = tmp_path / "map.png"
    assert cli.main(["explore", sqlite_url, "--quiet", "--output", str(png), "--limit", "300"]) == 0
    assert png.stat().st_size > 1000 and "map of 300 memories" in capsys.readouterr().out
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before  # read-only
