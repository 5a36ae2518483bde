"""SQLite adapter specifics: drivers, true-nearest search under filters, the vec0 index in step, WAL, threads,
migrations. The contract itself runs in tests/contract/."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okai_insight
from okai_insight.adapters._sqlite_driver import open_connection, pick_driver
from okai_insight.adapters._sqlite_functions import levenshtein_within
from okai_insight.adapters.sqlite import SqliteAdapter, parse_sqlite_url
from okai_insight.errors import ConfigurationError, ConnectionFailed, NotFound, SchemaDimensionMismatch, SchemaError
from okai_insight.models import KnowledgeItem, Memory
from okai_insight.settings import Settings
from tests.adapters._data import brute_force, build_world

DIM = 16


def _open(path: Path, *, driver: str | None = None, dim: int | None = DIM, **overrides) -> SqliteAdapter:
    url = f"sqlite:///{path}" + (f"?driver={driver}" if driver else "")
    db = SqliteAdapter(url, settings=Settings.from_env({}, **overrides), dimension=dim)
    db.init()
    return db


def _raw(db: SqliteAdapter, sql: str, params=()):
    return db.pool.transaction(lambda c: c.query(sql, params))


# -- URLs and drivers -----------------------------------------------------------------------------------------
def test_url_forms():
    assert parse_sqlite_url("sqlite:///agent.db") == ("agent.db", None)
    assert parse_sqlite_url("sqlite:////tmp/x/agent.db?driver=apsw") == ("/tmp/x/agent.db", "apsw")
    for bad in ("sqlite://", "sqlite:///", "sqlite:///:memory:", "sqlite:///a.db?mode=ro", "mysql:///a.db"):
        with pytest.raises(ConfigurationError):
            parse_sqlite_url(bad)
    with pytest.raises(ConfigurationError, match="unknown SQLite driver"):
        pick_driver("pysqlite2")


def test_connect_dispatches_sqlite_scheme(tmp_path):
    with okai_insight.connect(f"sqlite:///{tmp_path / 'c.db'}", dimension=4) as db:
        assert isinstance(db, SqliteAdapter) and db.embedding_dimension == 4
        assert db.get_room(db.create_room()) is not None


def test_stdlib_sqlite3_here_cannot_load_extensions_so_it_is_skipped():
    import sqlite3

    usable = hasattr(sqlite3.Connection, "enable_load_extension")
    assert pick_driver().name == "sqlean"
    if not usable:
        with pytest.raises(ConfigurationError, match=r"okai-insight\[sqlite\]"):
            pick_driver("sqlite3")


@pytest.mark.parametrize("driver", ["sqlean", "apsw"])
def test_each_driver_runs_the_adapter(tmp_path, driver):
    db = _open(tmp_path / f"{driver}.db", driver=driver)
    try:
        assert db.driver_name == driver
        room = db.create_room()
        a = db.create_memory(Memory(room_id=room, content={"t": "a"}, embedding=np.eye(DIM)[0]), "messages")
        db.create_memory(Memory(room_id=room, content={"t": "b"}, embedding=np.eye(DIM)[1]), "messages")
        hits = db.search_memories_by_embedding(np.eye(DIM)[0], table_name="messages", room_id=room, count=2)
        assert [h.id for h in hits] == [a, *[h.id for h in hits[1:]]] and hits[0].similarity == pytest.approx(1.0)
        with pytest.raises(NotFound):  # deferred foreign keys surface at COMMIT on both drivers
            db.create_memory(Memory(room_id=uuid.uuid4(), content={}, embedding=np.eye(DIM)[0]), "messages")
        assert db.count_memories(room, unique=False, table_name="messages") == 2
    finally:
        db.close()


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )


def test_falls_back_to_apsw_without_sqlean(tmp_path):
    """A machine without sqlean.py: the adapter loads sqlite-vec through apsw."""
    result = _run_python(
        f"""
        import sys
        sys.modules["sqlean"] = None  # as if sqlean.py were not installed
        import okai_insight
        db = okai_insight.connect("sqlite:///{tmp_path / "fallback.db"}", dimension=3)
        db.create_memory(okai_insight.models.Memory(content={{}}, embedding=[1, 0, 0]), "messages")
        hits = db.search_memories_by_embedding([1, 0, 0], table_name="messages")
        print(db.driver_name, len(hits), round(hits[0].similarity, 6))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["apsw", "1", "1.0"]


def test_clear_error_when_no_driver_can_load_extensions(tmp_path):
    result = _run_python(
        f"""
        import sys
        sys.modules["sqlean"] = None
        sys.modules["apsw"] = None
        import sqlite3
        if hasattr(sqlite3.Connection, "enable_load_extension"):
            sys.modules["sqlite3"] = None  # a Python whose sqlite3 could load them: hide it too
        import okai_insight
        from okai_insight.errors import ConfigurationError
        try:
            okai_insight.connect("sqlite:///{tmp_path / "none.db"}")
        except ConfigurationError as exc:
            print(exc)
        """
    )
    assert result.returncode == 0, result.stderr
    assert 'pip install "okai-insight[sqlite]"' in result.stdout
    assert not (tmp_path / "none.db").exists()


# -- search returns the true nearest rows ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def world_db(tmp_path_factory):
    db = _open(tmp_path_factory.mktemp("world") / "world.db", exact_search_max_rows=50)
    world = build_world(db, 3000, DIM, seed=7)
    yield db, world
    db.close()


@pytest.mark.parametrize("exact_cap", [0, 50, 100_000], ids=["vec0-knn", "mixed", "exact-scan"])
def test_true_nearest_under_filters_matches_numpy(world_db, exact_cap):
    """Every filter combination, on both search paths, returns exactly numpy's nearest rows, nearest first."""
    db, w = world_db
    db.settings = db.settings.replace(exact_search_max_rows=exact_cap)
    rng = np.random.default_rng(exact_cap)
    small_room = w.rooms[0]  # ~1 % of the rows
    cases = [
        {},
        {"room": small_room},
        {"room": w.rooms[1]},
        {"agent": w.agents[0]},
        {"room": small_room, "agent": w.agents[1]},
        {"room": w.rooms[2], "unique": True},
        {"room": w.rooms[1], "agent": w.agents[2], "unique": True},
        {"unique": True, "type": "facts"},
    ]
    for case in cases:
        for k in (1, 10, 40):
            q = rng.normal(size=DIM).astype(np.float32)
            expected = brute_force(w, q, k=k, **case)
            hits = db.search_memories_by_embedding(
                q,
                table_name=case.get("type", "messages"),
                count=k,
                room_id=case.get("room"),
                agent_id=case.get("agent"),
                unique=case.get("unique", False),
            )
            assert [h.id for h in hits] == expected, (case, k)
            sims = [h.similarity for h in hits]
            assert sims == sorted(sims, reverse=True)


def test_threshold_on_filtered_search_matches_numpy(world_db):
    db, w = world_db
    q = w.vectors[5]
    for threshold in (0.9, 0.3, 0.0):
        expected = brute_force(w, q, k=100, room=w.room_of[5], threshold=threshold, type=w.types[5])
        hits = db.search_memories_by_embedding(
            q, table_name=w.types[5], room_id=w.room_of[5], count=100, match_threshold=threshold
        )
        assert [h.id for h in hits] == expected
        assert all(h.similarity >= threshold for h in hits)


def test_k_above_vec0_limit_is_served_exactly(tmp_path):
    db = _open(tmp_path / "big.db", dim=4)
    try:
        w = build_world(db, 5000, 4, seed=3, rooms=2)
        q = np.array([1, 2, 3, 4], np.float32)
        hits = db.search_memories_by_embedding(q, table_name="messages", count=4200)
        assert [h.id for h in hits] == brute_force(w, q, k=4200)
    finally:
        db.close()


def test_knowledge_search_merges_own_and_shared_exactly(tmp_path):
    db = _open(tmp_path / "k.db")
    try:
        rng = np.random.default_rng(2)
        agent, other = uuid.uuid4(), uuid.uuid4()
        for a in (agent, other):
            db.create_account(okai_insight.models.Account(id=a, email=f"{a}@x"))
        owners = [agent, other, None]
        items = []
        for i in range(300):
            owner = owners[i % 3]
            item = KnowledgeItem(
                id=uuid.uuid4(),
                agent_id=owner,
                is_shared=owner is None,
                content={"i": i},
                embedding=rng.normal(size=DIM).astype(np.float32),
            )
            db.create_knowledge(item)
            items.append(item)
        q = rng.normal(size=DIM).astype(np.float32)
        visible = [it for it in items if it.agent_id in (agent, None)]
        m = np.stack([it.embedding for it in visible]).astype(np.float64)
        sims = m @ q / (np.linalg.norm(m, axis=1) * np.linalg.norm(q))
        expected = [visible[i].id for i in np.argsort(-sims)[:15]]
        hits = db.search_knowledge(agent_id=agent, embedding=q, match_threshold=-1, match_count=15)
        assert [h.id for h in hits] == expected
    finally:
        db.close()


# -- the vec0 index stays in step with the tables ---------------------------------------------------------------
def _index_counts(db: SqliteAdapter) -> tuple[int, int, int, int]:
    (vm,), (m,), (vk,), (k,) = (
        _raw(db, "SELECT count(*) FROM vec_memories")[0],
        _raw(
            db, "SELECT count(*) FROM memories WHERE embedding IS NOT NULL AND embedding != zeroblob(length(embedding))"
        )[0],
        _raw(db, "SELECT count(*) FROM vec_knowledge")[0],
        _raw(db, "SELECT count(*) FROM knowledge WHERE embedding IS NOT NULL")[0],
    )
    return vm, m, vk, k


def test_vec0_index_kept_in_step_and_rolled_back_with_the_row(tmp_path):
    db = _open(tmp_path / "step.db")
    try:
        room, other = db.create_room(), db.create_room()
        e = np.eye(DIM, dtype=np.float32)
        ids = db.create_memories([Memory(room_id=room, content={}, embedding=e[i]) for i in range(5)], "messages")
        db.create_memory(Memory(room_id=room, content={}, embedding=np.zeros(DIM)), "messages")  # not indexed
        db.create_memory(Memory(room_id=other, content={}, embedding=e[6]), "messages")
        db.create_memory(Memory(room_id=room, content={}), "messages")  # no embedding
        assert _index_counts(db)[:2] == (6, 6)
        db.remove_memory(ids[0], "messages")
        assert _index_counts(db)[:2] == (5, 5)
        with pytest.raises(NotFound):  # the row and its index entry are rolled back together
            db.create_memory(Memory(room_id=uuid.uuid4(), content={}, embedding=e[7]), "messages")
        assert _index_counts(db)[:2] == (5, 5)
        db.remove_room(room)
        assert _index_counts(db)[:2] == (1, 1)
        agent = uuid.uuid4()
        db.create_account(okai_insight.models.Account(id=agent, email="a@x"))
        main = KnowledgeItem(id=uuid.uuid4(), agent_id=agent, content={}, embedding=e[0])
        db.create_knowledge(main)
        db.create_knowledge(
            KnowledgeItem(id=uuid.uuid4(), agent_id=agent, content={}, embedding=e[1], original_id=main.id)
        )
        assert _index_counts(db)[2:] == (2, 2)
        db.remove_knowledge(main.id)
        assert _index_counts(db)[2:] == (0, 0)
    finally:
        db.close()


# -- file behaviour: WAL, migrations, foreign files, closing ---------------------------------------------------
def test_wal_mode_and_foreign_keys(tmp_path):
    db = _open(tmp_path / "wal.db")
    try:
        db.create_room()
        assert _raw(db, "PRAGMA journal_mode")[0][0] == "wal"
        assert _raw(db, "PRAGMA foreign_keys")[0][0] == 1
        assert (tmp_path / "wal.db-wal").exists()
        conn = open_connection(str(tmp_path / "wal.db"))  # another connection sees WAL: it is persistent
        assert conn.query("PRAGMA journal_mode")[0][0] == "wal"
        conn.close()
    finally:
        db.close()


def test_migrations_are_recorded_once_and_dimension_kept(tmp_path):
    path = tmp_path / "mig.db"
    dbs = []
    errors: list[BaseException] = []

    def init() -> None:
        try:
            dbs.append(_open(path, dim=DIM))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=init) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with pytest.raises(SchemaDimensionMismatch):  # an explicit request must match the recorded one (issue 19)
        _open(path, dim=DIM * 2)
    again = _open(path, dim=None)  # no request: the recorded dimension is adopted
    try:
        assert again.embedding_dimension == DIM
        assert _raw(again, "SELECT version, name FROM okai_schema_version ORDER BY version") == [
            (1, "core"),
            (2, "vector_indexes"),
            (3, "vector_index_keys"),
        ]
        assert _raw(again, "SELECT value FROM okai_settings WHERE key = 'embedding_dimension'") == [(str(DIM),)]
    finally:
        for db in [*dbs, again]:
            db.close()


def test_index_migration_backfills_existing_rows(tmp_path):
    """A database at version 1 (rows, no vec0 tables) gets its vectors indexed by versions 2 and 3."""
    path = tmp_path / "v1.db"
    db = _open(path)
    room = db.create_room()
    e = np.eye(DIM, dtype=np.float32)
    ids = db.create_memories([Memory(room_id=room, content={}, embedding=e[i]) for i in range(3)], "messages")

    def downgrade(c):
        for name in ("vec_memories", "vec_knowledge"):
            c.run(f"DROP TABLE {name}")
            for action in ("insert", "delete", "update"):
                c.run(f"DROP TRIGGER {name}_{action}")
        c.run("DROP TABLE okai_vec_keys")
        c.run("DELETE FROM okai_schema_version WHERE version >= 2")

    db.pool.transaction(downgrade, write=True)
    db.close()
    db = _open(path)
    try:
        assert _index_counts(db)[:2] == (3, 3)
        assert db.search_memories_by_embedding(e[2], table_name="messages", count=1)[0].id == ids[2]
    finally:
        db.close()


def test_refuses_a_sqlite_file_it_did_not_create(tmp_path):
    path = tmp_path / "eliza.db"
    conn = open_connection(str(path))
    conn.run("CREATE TABLE memories (id TEXT PRIMARY KEY, content TEXT)")
    conn.close()
    with pytest.raises(SchemaError, match="not created by okai-insight"):
        _open(path)


def test_refuses_a_dimension_vec0_cannot_index(tmp_path):
    with pytest.raises(SchemaError):
        _open(tmp_path / "huge.db", dim=9000)


def test_closed_adapter_refuses_calls(tmp_path):
    db = _open(tmp_path / "closed.db")
    db.close()
    db.close()  # idempotent
    with pytest.raises(ConnectionFailed):
        db.create_room()


def test_json_is_checked_by_the_schema(tmp_path):
    db = _open(tmp_path / "json.db")
    try:
        with pytest.raises(okai_insight.errors.InvalidInput):
            db.pool.transaction(
                lambda c: (
                    c.run("INSERT INTO rooms (id) VALUES ('r')")
                    + c.run("INSERT INTO memories (id, type, content, roomId) VALUES ('m', 't', '{not json', 'r')")
                ),
                write=True,
            )
        with pytest.raises(okai_insight.errors.InvalidInput):
            db.pool.transaction(
                lambda c: c.run("INSERT INTO memories (id, type, content, embedding) VALUES ('m', 't', '{}', x'00')"),
                write=True,
            )
    finally:
        db.close()


# -- threads ---------------------------------------------------------------------------------------------------
def _hammer(db, threads: int = 6, per_thread: int = 40) -> None:
    room = db.create_room()
    errors: list[BaseException] = []
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(threads, per_thread, DIM)).astype(np.float32)

    def work(t: int) -> None:
        try:
            for i in range(per_thread):
                db.create_memory(Memory(room_id=room, content={"t": t, "i": i}, embedding=vecs[t, i]), "messages")
                if i % 5 == 0:
                    hits = db.search_memories_by_embedding(vecs[t, i], table_name="messages", room_id=room, count=1)
                    assert hits[0].content == {"t": t, "i": i}
                    db.get_memories(room, "messages", count=10)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    assert errors == []
    assert db.count_memories(room, unique=False, table_name="messages") == threads * per_thread


def test_threads_write_and_search_concurrently(tmp_path):
    db = _open(tmp_path / "threads.db")
    try:
        _hammer(db)
        assert _index_counts(db)[:2] == (240, 240)
    finally:
        db.close()


def test_two_adapters_on_one_file(tmp_path):
    a, b = _open(tmp_path / "two.db"), _open(tmp_path / "two.db")
    try:
        room = a.create_room()
        assert b.get_room(room) == room
        mid = b.create_memory(Memory(room_id=room, content={}, embedding=np.eye(DIM)[3]), "messages")
        assert a.search_memories_by_embedding(np.eye(DIM)[3], table_name="messages", count=1)[0].id == mid
    finally:
        a.close()
        b.close()


# -- Levenshtein (no fuzzystrmatch in SQLite) ------------------------------------------------------------------
def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcé🤖", max_size=12), st.text(alphabet="abcé🤖", max_size=12), st.integers(0, 6))
def test_bounded_levenshtein_matches_the_full_one(a, b, limit):
    full = _levenshtein(a, b)
    assert levenshtein_within(a, b, limit) == (full if full <= limit else None)


def test_version_3_migrates_a_version_2_index_and_filters_by_room_and_agent(tmp_path):
    """A file written with version 2's text-keyed index is re-indexed (type partitions, integer room and agent
    keys), and vec0's filtered KNN (exact cap 0, so never the btree path) still returns the true nearest."""
    from okai_insight.adapters._sqlite_schema import MIGRATIONS

    path = tmp_path / "v2.db"
    db = _open(path)
    world = build_world(db, 400, DIM, seed=3)

    def downgrade(c):
        for name in ("vec_memories", "vec_knowledge"):
            c.run(f"DROP TABLE {name}")
            for action in ("insert", "delete", "update"):
                c.run(f"DROP TRIGGER {name}_{action}")
        c.run("DROP TABLE okai_vec_keys")
        c.script(MIGRATIONS[1].template.format(dim=DIM, bytes=4 * DIM))
        c.run("DELETE FROM okai_schema_version WHERE version = 3")

    db.pool.transaction(downgrade, write=True)
    assert _raw(db, "SELECT count(*) FROM pragma_table_info('vec_memories') WHERE name = 'room_id'") == [(1,)]
    db.close()
    db = _open(path, exact_search_max_rows=0)
    try:
        assert _raw(db, "SELECT max(version) FROM okai_schema_version") == [(3,)]
        indexed, embedded, _, _ = _index_counts(db)
        assert indexed == embedded > 300
        q = np.random.default_rng(5).normal(size=DIM).astype(np.float32)
        for room in world.rooms[:2]:
            for agent in (None, world.agents[1]):
                hits = db.search_memories_by_embedding(q, table_name="messages", room_id=room, agent_id=agent, count=7)
                expected = brute_force(world, q, k=7, room=room, agent=agent, type="messages")
                assert [h.id for h in hits] == expected
        assert db.search_memories_by_embedding(q, table_name="messages", room_id=uuid.uuid4()) == []
    finally:
        db.close()
