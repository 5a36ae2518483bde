"""The embedding checks on SQLite and in-memory stores (issue 15 item 7): the planted world of
tests/embeddings/_world.py (exact and near duplicates, zero and NULL vectors, a second-model population, same texts
with far-apart vectors) is loaded into PostgreSQL and, through the adapters, into a real sqlite-vec file and a
memory:// store; each check finds the same things on all three.

Before this change every check refused the stores (UnsupportedDatabase: "diagnostics needs PostgreSQL").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import okai_insight
from okai_insight.embeddings import embedding_quality
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
