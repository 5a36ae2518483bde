"""The demo dataset and ``okai-insight demo``: loads through the adapter contract into real PostgreSQL,
idempotently, and its planted labels hold in the database's own search."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import okai_insight
from okai_insight import cli
from okai_insight.data import DemoDataset, demo_dataset
from okai_insight.demo import demo_counts, load, load_wide, run_demo
from okai_insight.errors import DimensionMismatch, InvalidInput

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ds() -> DemoDataset:
    return demo_dataset()


@pytest.fixture(scope="module")
def loaded(make_database: Callable[[str], str], ds: DemoDataset) -> str:
    """A database holding the whole demo dataset (loaded once for the module)."""
    url = make_database("demo")
    with okai_insight.connect(url) as db:
        report = load(db, progress=False)
    assert report.created["memories"] == len(ds)
    return url


# -- the packaged file -------------------------------------------------------------------------------------------
def test_dataset_shape_and_labels(ds: DemoDataset) -> None:
    assert ds.model_name == "sentence-transformers/all-MiniLM-L6-v2" and ds.dimension == 384
    assert 1800 <= len(ds) <= 2200
    types = Counter(ds.types)
    assert set(types) == {"messages", "facts", "documents", "fragments"}
    assert types["messages"] > 0.8 * len(ds)
    assert len(ds.agents) >= 4 and len(ds.accounts) - len(ds.agents) == 10
    topics = {r.topic for r in ds.rooms if not r.is_agent_room}
    assert len(topics) == 12
    span = max(ds.created_at) - min(ds.created_at)
    assert 80 <= span.days <= 90
    assert list(ds.created_at) == sorted(ds.created_at)
    assert len(ds.texts) == len(ds.ids) == ds.embeddings.shape[0] == len(set(ds.ids))
    # Real MiniLM output: unit vectors, except the planted defects.
    norms = np.linalg.norm(ds.embeddings, axis=1)
    second = {ds.index(i) for i in ds.defects.second_model_ids}
    zero = {ds.index(i) for i in ds.defects.zero_vector_ids}
    null = {ds.index(i) for i in ds.defects.null_embedding_ids}
    normal = [i for i in range(len(ds)) if i not in second | zero | null]
    assert np.allclose(norms[normal], 1.0, atol=2e-3)
    assert np.all(norms[sorted(zero)] == 0) and not ds.has_embedding[sorted(null)].any()
    assert np.all((norms[sorted(second)] > 3.1) & (norms[sorted(second)] < 4.9))
    assert {ds.types[i] for i in zero} == {"documents", "messages"}
    assert len(ds.defects.zero_document_ids) == Counter(ds.types)["documents"]
    kinds = Counter(p.kind for p in ds.pairs)
    assert kinds["exact"] >= 20 and kinds["near"] >= 20 and kinds["paraphrase"] >= 20
    for p in ds.pairs:
        a, b = ds.index(p.a), ds.index(p.b)
        if p.kind == "exact":
            assert ds.texts[a] == ds.texts[b] and np.array_equal(ds.embeddings[a], ds.embeddings[b])
        else:
            assert ds.texts[a] != ds.texts[b]
    assert ds.goals and all(g.objectives for g in ds.goals)
    assert ds.relationships and ds.logs and ds.knowledge
    assert any(r.states for r in ds.rooms)


def test_second_model_is_unrelated_to_minilm(ds: DemoDataset) -> None:
    """The second model's vectors sit apart: a MiniLM query about their topic scores near zero on them."""
    second = np.array([ds.index(i) for i in ds.defects.second_model_ids])
    diy = next(q for q in ds.queries if q.topic == "home_diy")
    unit = ds.embeddings[second] / np.linalg.norm(ds.embeddings[second], axis=1, keepdims=True)
    assert float(np.max(unit @ diy.embedding)) < 0.35
    cooking = next(q for q in ds.queries if q.topic == "cooking")
    first = [i for i, m in enumerate(ds.embedding_models) if m == "model" and ds.types[i] == "messages"]
    assert float(np.max(ds.embeddings[first] @ cooking.embedding)) > 0.6


def test_packaged_file_loads_without_torch() -> None:
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['sentence_transformers'] = None\n"
        "from okai_insight.data import demo_dataset\n"
        "ds = demo_dataset(); print(len(ds), ds.embeddings.dtype)\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == [str(len(demo_dataset())), "float32"]


def test_data_file_is_small_and_ships_in_the_wheel(tmp_path: Path) -> None:
    data = ROOT / "okai_insight" / "data" / "demo.npz"
    assert data.stat().st_size < 3_000_000
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    (wheel,) = tmp_path.glob("okai_insight-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "okai_insight/data/demo.npz" in names and "okai_insight/demo.py" in names


# -- loading into PostgreSQL -----------------------------------------------------------------------------------
def test_counts_match_the_dataset(loaded: str, ds: DemoDataset) -> None:
    with okai_insight.connect(loaded) as db:
        counts = demo_counts(db)
    assert counts["accounts"] == len(ds.accounts)
    assert counts["rooms"] == len(ds.rooms)
    assert counts["participants"] == sum(len(r.member_ids) for r in ds.rooms)
    for kind, n in Counter(ds.types).items():
        assert counts[f"memories:{kind}"] == n
    assert counts["goals"] == len(ds.goals)
    assert counts["relationships"] == len(ds.relationships)
    assert counts["knowledge"] == len(ds.knowledge)


def test_rows_round_trip(loaded: str, ds: DemoDataset) -> None:
    with okai_insight.connect(loaded) as db:
        i = next(k for k, t in enumerate(ds.types) if t == "messages" and ds.parents[k] >= 0)
        m = db.get_memory_by_id(ds.ids[i])
        assert m is not None and m.content["text"] == ds.texts[i]
        assert m.content["inReplyTo"] == str(ds.ids[ds.parents[i]])
        assert m.created_at == ds.created_at[i] and m.room_id == ds.room_ids[i]
        assert m.embedding is not None and np.allclose(m.embedding, ds.embeddings[i])
        z = db.get_memory_by_id(ds.defects.zero_outage_ids[0])
        assert z is not None and z.embedding is not None and not z.embedding.any()
        n = db.get_memory_by_id(ds.defects.null_embedding_ids[0])
        assert n is not None and n.embedding is None
        room = next(r for r in ds.rooms if r.states)
        for member, state in room.states.items():
            assert db.get_participant_user_state(room.id, member) == state
        goal = ds.goals[0]
        (got,) = [g for g in db.get_goals(goal.room_id, only_in_progress=False, count=100) if g.id == goal.id]
        assert got.objectives == goal.objectives and got.status == goal.status
        assert db.get_relationship(*reversed(ds.relationships[0])) is not None


def test_loading_twice_is_idempotent(loaded: str, ds: DemoDataset) -> None:
    with okai_insight.connect(loaded) as db:
        before = demo_counts(db)
        again = load(db, progress=False)
        assert again.skipped and not again.created
        assert demo_counts(db) == before


def test_reload_without_marker_writes_nothing_new(make_database: Callable[[str], str], ds: DemoDataset) -> None:
    """A partial load (rows=150) then a larger one adds only what is missing, then nothing at all."""
    url = make_database("demo_part")
    with okai_insight.connect(url) as db:
        first = load(db, rows=150, progress=False)
        assert first.created["memories"] == 150
        assert sum(demo_counts(db)[f"memories:{k}"] for k in set(ds.types)) == 150
        db.delete_cache(key="okai-insight/demo", agent_id=ds.agents[0].id)  # force the row-by-row path
        second = load(db, rows=300, progress=False)
        assert second.created["memories"] == 150 and second.already_there["memories"] == 150
        assert "accounts" not in second.created and "rooms" not in second.created
        assert second.already_there["goals"] == len(ds.goals)
        assert sum(demo_counts(db)[f"memories:{k}"] for k in set(ds.types)) == 300


def test_paraphrase_partner_found_at_rank_1(loaded: str, ds: DemoDataset) -> None:
    pairs = [p for p in ds.pairs if p.kind == "paraphrase" and p.rank == 1]
    assert len(pairs) >= 20
    with okai_insight.connect(loaded) as db:
        for p in pairs:
            q = ds.embeddings[ds.index(p.a)]
            hits = db.search_memories_by_embedding(q, table_name="messages", count=2)
            assert hits[0].id == p.a  # the query itself
            assert hits[1].id == p.b, (ds.texts[ds.index(p.a)], hits[1].content["text"])
            assert hits[1].similarity == pytest.approx(p.similarity, abs=2e-3)


def test_query_texts_find_their_topic(loaded: str, ds: DemoDataset) -> None:
    with okai_insight.connect(loaded) as db:
        for q in ds.queries:
            (top,) = db.search_memories_by_embedding(q.embedding, table_name="messages", count=1)
            room = next(r for r in ds.rooms if r.id == top.room_id)
            if q.topic == "home_diy":  # a second-model room: invisible to a MiniLM query
                assert room.topic != "home_diy"
            else:
                assert room.topic == q.topic, (q.text, top.content["text"])


def test_bad_input_is_refused(make_database: Callable[[str], str]) -> None:
    url = make_database("demo_wide")
    with okai_insight.connect(url, dimension=768) as db:
        with pytest.raises(DimensionMismatch, match="384"):
            load(db, progress=False)
        with pytest.raises(InvalidInput):
            load(db, rows=-1)
        assert load_wide(db) == len(demo_dataset().wide_ids) == 150
        assert load_wide(db) == 0
        hits = db.search_memories_by_embedding(demo_dataset().wide_embeddings[3], table_name="messages", count=1)
        assert hits[0].id == demo_dataset().wide_ids[3]


# -- the command -----------------------------------------------------------------------------------------------
def test_cli_demo_prints_summary(loaded: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["demo", loaded, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "already loaded" in out
    assert "memories:messages" in out and "relationships" in out
    assert "steak" in out and "okai-insight doctor" in out
    assert "embedded by another model" in out
    assert "Done in" in out


def test_run_demo_on_a_fresh_database(make_database: Callable[[str], str], ds: DemoDataset) -> None:
    import io

    url = make_database("demo_run")
    buf = io.StringIO()
    summary = run_demo(url, rows=400, out=buf, progress=False)
    text = buf.getvalue()
    assert summary.load.created["memories"] == 400
    assert "Loaded the demo dataset (all-MiniLM-L6-v2, 384 dimensions): 400 new memories" in text
    assert len(summary.searches) == 3 and all(len(h) <= 3 for _, h in summary.searches)
    assert "password" not in text or "***" in text


# -- other adapters ---------------------------------------------------------------------------------------------
def _other_adapter(name: str, make_database: Callable[[str], str], tmp_path: Path) -> okai_insight.DatabaseAdapter:
    if name == "elizaos":
        import psycopg

        from okai_insight.adapters.postgres import PostgresAdapter
        from tests.contract.elizaos_schema import create_elizaos_schema

        url = make_database("demo_eliza")
        with psycopg.connect(url, autocommit=True) as conn:
            create_elizaos_schema(conn, dimension=384)
        db: okai_insight.DatabaseAdapter = PostgresAdapter(url)
    elif name == "sqlite":
        from okai_insight.adapters.sqlite import SqliteAdapter

        db = SqliteAdapter(f"sqlite:///{tmp_path / 'demo.db'}", dimension=384)
    else:
        from okai_insight.adapters.memory import MemoryAdapter

        db = MemoryAdapter("memory://", dimension=384)
    db.init()
    return db


@pytest.mark.parametrize("name", ["elizaos", "sqlite", "memory"])
def test_load_into_other_adapters(name: str, make_database: Callable[[str], str], tmp_path: Path) -> None:
    ds = demo_dataset()
    db = _other_adapter(name, make_database, tmp_path)
    try:
        report = load(db, rows=200, progress=False)
        assert report.created["memories"] == 200
        counts = demo_counts(db)
        for kind, n in ds.type_counts(rows=200).items():
            assert counts[f"memories:{kind}"] == n
        assert counts["accounts"] == len(ds.accounts) and counts["goals"] == len(ds.goals)
        again = load(db, rows=200, progress=False)
        assert not again.created.get("memories") and demo_counts(db) == counts
        i = next(k for k in range(200) if ds.types[k] == "messages" and ds.embedding_models[k] == "model")
        (hit,) = db.search_memories_by_embedding(ds.embeddings[i], table_name="messages", count=1)
        assert ds.texts[ds.index(hit.id)] == ds.texts[i] and hit.similarity == pytest.approx(1.0, abs=1e-3)
    finally:
        db.close()
