"""Large create_memories batches load without the vector index and build it once (okai_insight.adapters._bulk_load):
searches keep working, failures leave the table as it was, an interrupted build is reported and repaired."""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.copy import copy_database
from okai_insight.diagnostics.indexes import missing_vector_indexes
from okai_insight.errors import OkaiError
from okai_insight.models import Memory
from okai_insight.settings import Settings

DIM = 16
BASE = 1500
K = 10


def _vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def _index(url: str) -> tuple[int, bool] | None:
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute(
            "SELECT i.indexrelid::bigint, i.indisvalid FROM pg_index AS i "
            "WHERE i.indexrelid = to_regclass('idx_memories_embedding')"
        ).fetchone()
    return None if row is None else (int(row[0]), bool(row[1]))


def _count(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as c:
        row = c.execute("SELECT count(*) FROM memories").fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def setup(make_database):
    """A database holding BASE memories (loaded the ordinary way), and an adapter whose bulk threshold is lowered."""
    url = make_database("bulk")
    db = PostgresAdapter(
        url,
        settings=Settings.from_env(
            {}, pool_min_size=1, pool_max_size=4, bulk_load_min_rows=1000, bulk_load_min_fraction=0.5
        ),
        dimension=DIM,
    )
    db.init()
    room = db.create_room()
    rng = np.random.default_rng(3)
    base = _vectors(rng, BASE)
    ids = db.create_memories(
        [Memory(room_id=room, content={"i": i}, embedding=v) for i, v in enumerate(base)], "messages"
    )
    yield url, db, room, rng, base, ids
    db.close()


def _batch(room: uuid.UUID, vectors: np.ndarray) -> list[Memory]:
    return [Memory(room_id=room, content={"new": i}, embedding=v) for i, v in enumerate(vectors)]


def _recall(db: PostgresAdapter, queries: np.ndarray, all_ids: list[uuid.UUID], all_vecs: np.ndarray) -> float:
    hits = 0
    for q in queries:
        exact = {all_ids[j] for j in np.argsort(-(all_vecs @ q))[:K]}
        got = {m.id for m in db.search_memories_by_embedding(q, table_name="messages", count=K)}
        hits += len(exact & got)
    return hits / (K * len(queries))


def test_large_batch_rebuilds_the_index_once_and_keeps_recall(setup):
    url, db, room, rng, base, ids = setup
    queries = _vectors(rng, 20)
    before = _index(url)
    recall_before = _recall(db, queries, ids, base)

    small_vecs = _vectors(rng, 10)
    small = db.create_memories(_batch(room, small_vecs), "messages")
    assert _index(url) == before  # below the threshold: the ordinary path, same index

    new = _vectors(rng, 1000)  # >= 1000 rows and >= 0.5 x the table: the bulk path
    new_ids = db.create_memories(_batch(room, new), "messages")
    after = _index(url)
    assert after is not None and before is not None
    assert after[0] != before[0] and after[1]  # built again, valid
    assert _count(url) == BASE + 10 + 1000
    got = db.get_memories_by_ids(new_ids[:5], "messages")
    assert {m.id for m in got} == set(new_ids[:5])
    recall_after = _recall(db, queries, ids + small + new_ids, np.vstack([base, small_vecs, new]))
    assert recall_after >= recall_before - 0.02, (recall_before, recall_after)


def test_searches_keep_answering_during_the_load(setup):
    url, db, room, rng, base, ids = setup
    new = _vectors(rng, 3000)
    q = _vectors(rng, 1)[0]
    old_top = [ids[j] for j in np.argsort(-(base @ q))[:K]]
    done = threading.Event()
    result: dict[str, object] = {}

    def load() -> None:
        try:
            result["ids"] = db.create_memories(_batch(room, new), "messages")
        except BaseException as exc:
            result["error"] = exc
        finally:
            done.set()

    searcher = PostgresAdapter(url, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=1), dimension=DIM)
    searcher.init()
    t = threading.Thread(target=load)
    t.start()
    answers: list[list[uuid.UUID]] = []
    while not done.is_set():
        answers.append([m.id for m in searcher.search_memories_by_embedding(q, table_name="messages", count=K)])
        time.sleep(0.01)
    t.join()
    assert "error" not in result, result
    new_ids = result["ids"]
    assert isinstance(new_ids, list)
    all_vecs = np.vstack([base, new])
    new_top = [(ids + new_ids)[j] for j in np.argsort(-(all_vecs @ q))[:K]]
    assert len(answers) >= 3
    for a in answers:  # the old rows or all of them, never an error or a partial table
        assert max(len(set(a) & set(old_top)), len(set(a) & set(new_top))) >= K - 1, a
    final = [m.id for m in searcher.search_memories_by_embedding(q, table_name="messages", count=K)]
    assert len(set(final) & set(new_top)) >= K - 1
    searcher.close()


def test_a_failed_load_leaves_rows_and_index_as_they_were(setup):
    url, db, room, rng, base, ids = setup
    before = _index(url)
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.content ? 'poison' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$"
        )
        c.execute("CREATE TRIGGER refuse BEFORE INSERT ON memories FOR EACH ROW EXECUTE FUNCTION refuse()")
    batch = _batch(room, _vectors(rng, 1500))
    batch[-1] = Memory(room_id=room, content={"poison": True}, embedding=batch[-1].embedding)
    with pytest.raises(psycopg.errors.RaiseException):  # the trigger's own error, as on the ordinary path
        db.create_memories(batch, "messages")  # refused while inserting, after the index was dropped
    after = _index(url)
    assert after is not None and after[1]  # rebuilt as it was
    assert _count(url) == BASE
    assert _recall(db, _vectors(rng, 10), ids, base) >= 0.9

    # A row refused while staging: nothing touched at all, the index is the same one.
    bad = _batch(room, _vectors(rng, 1500))
    bad[700] = Memory(id=ids[0], room_id=room, content={}, embedding=bad[700].embedding)  # an id already stored
    with pytest.raises(OkaiError):
        db.create_memories(bad, "messages")
    assert _index(url) == after
    assert _count(url) == BASE
    assert before is not None


def test_an_interrupted_build_is_reported_and_the_next_load_repairs_it(setup):
    url, db, room, rng, base, ids = setup
    # The test terminates the loading backend while pg_stat_progress_create_index shows its build, as a killed
    # process or a dropped connection would.
    errors: list[BaseException] = []

    def load() -> None:
        try:
            db.create_memories(_batch(room, _vectors(rng, 3000)), "messages")
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=load)
    t.start()
    with psycopg.connect(url, autocommit=True) as admin:
        pid = None
        deadline = time.monotonic() + 60
        while pid is None and time.monotonic() < deadline and t.is_alive():
            row = admin.execute(
                "SELECT pid FROM pg_stat_progress_create_index WHERE relid = to_regclass('memories')"
            ).fetchone()
            pid = row[0] if row else None
            time.sleep(0.002)
        assert pid is not None, "the load never reached its index build"
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        t.join(timeout=60)
    assert errors and isinstance(errors[0], OkaiError), errors
    assert _count(url) == BASE  # the rows were rolled back with the connection
    assert _index(url) is None
    findings = missing_vector_indexes(url).findings
    assert [f.subject for f in findings] == ["public.memories"] and findings[0].severity == "critical"

    db.create_memories(_batch(room, _vectors(rng, 3)), "messages")  # a small batch: repairs anyway
    repaired = _index(url)
    assert repaired is not None and repaired[1]
    assert missing_vector_indexes(url).findings == []
    assert _count(url) == BASE + 3


def test_copy_builds_the_target_index_once_after_its_rows(setup, make_database):
    url, db, room, rng, base, ids = setup
    target = make_database("bulkcopy")
    t = PostgresAdapter(target, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=2), dimension=DIM)
    t.init()
    before = _index(target)
    copy_database(url, target)
    after = _index(target)
    assert before is not None and after is not None
    assert after[0] != before[0] and after[1]  # dropped before the rows, built once in the copy's transaction
    assert _count(target) == BASE
    hit = t.search_memories_by_embedding(base[42], table_name="messages", count=1)
    assert [m.id for m in hit] == [ids[42]]
    t.close()


def test_bulk_load_off_is_one_plain_copy_and_leaves_a_dropped_index_dropped(setup) -> None:
    """Settings.bulk_load=False (OKAI_BULK_LOAD=off): a large batch into a table whose index was dropped on purpose
    is one COPY; nothing builds an index the owner removed (what bench/adapter.py's no-index ingest measures)."""
    url, _db, room, rng, _base, _ids = setup
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("DROP INDEX idx_memories_embedding")
    settings = Settings.from_env({"OKAI_BULK_LOAD": "off"}, pool_min_size=1, pool_max_size=2)
    assert settings.bulk_load is False
    with PostgresAdapter(url, settings=settings, dimension=DIM) as plain:
        plain.init()
        plain.create_memories(_batch(room, _vectors(rng, 3 * BASE)), "messages")
        assert not plain.bulk_load_possible
    assert _index(url) is None and _count(url) == 4 * BASE
    with pytest.raises(Exception, match="OKAI_BULK_LOAD='maybe'"):
        Settings.from_env({"OKAI_BULK_LOAD": "maybe"})
