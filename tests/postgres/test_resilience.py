"""Retries on lost connections, pool timeouts, and translation of driver errors."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.errors import NotFound, PoolTimeout
from okai_insight.models import Memory
from okai_insight.settings import Settings


def _terminate_backends(admin_url: str, dbname: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        return len(
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
        )


def test_killed_connections_are_retried_transparently(make_database, admin_url):
    url = make_database("retry")
    db = PostgresAdapter(url, settings=Settings.from_env({}, pool_min_size=2, pool_max_size=2))
    db.init()
    try:
        room = db.create_room()
        db.pool.wait()
        assert _terminate_backends(admin_url, url.split("?")[0].rsplit("/", 1)[-1]) >= 1
        # The pool's check detects dead connections; any that slips through is retried with backoff.
        assert db.get_room(room) == room
        mid = db.create_memory(Memory(room_id=room, content={"text": "after"}), "messages")
        assert db.count_memories(room, unique=False, table_name="messages") == 1
        assert db.get_memory_by_id(mid) is not None
    finally:
        db.close()


def test_pool_exhaustion_raises_pool_timeout_within_the_connect_timeout(make_database):
    url = make_database("pool")
    db = PostgresAdapter(url, settings=Settings.from_env({}, pool_min_size=1, pool_max_size=1, connect_timeout_s=0.5))
    db.init()
    release = threading.Event()
    held = threading.Event()

    def hold() -> None:
        with db.pool.connection():
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        assert held.wait(5)
        start = time.monotonic()
        with pytest.raises(PoolTimeout):
            db.create_room()
        assert time.monotonic() - start < 2.0
    finally:
        release.set()
        t.join()
        db.close()


def test_foreign_key_violation_is_not_found_and_not_retried(make_database):
    url = make_database("fk")
    db = PostgresAdapter(url)
    db.init()
    try:
        start = time.monotonic()
        with pytest.raises(NotFound):
            db.create_memory(Memory(room_id=uuid.uuid4(), content={"text": "orphan"}), "messages")
        assert time.monotonic() - start < 1.0
    finally:
        db.close()


def test_concurrent_near_duplicates_get_one_unique(make_database):
    """The near-duplicate check and the insert are atomic per room: of N writers storing the same message at the
    same moment, exactly one is marked unique."""
    import numpy as np

    url = make_database("uniq")
    db = PostgresAdapter(url, settings=Settings.from_env({}, pool_min_size=4, pool_max_size=8), dimension=8)
    db.init()
    try:
        room = db.create_room()
        vec = np.ones(8, dtype=np.float32)
        barrier = threading.Barrier(6)
        ids: list = []

        def writer() -> None:
            barrier.wait()
            ids.append(
                db.create_memory(Memory(room_id=room, content={"text": "hi"}, embedding=vec), "messages", unique=True)
            )

        threads = [threading.Thread(target=writer) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        flags = [db.get_memory_by_id(i).unique for i in ids]
        assert len(ids) == 6 and sorted(flags) == [False] * 5 + [True]
    finally:
        db.close()


@pytest.mark.parametrize("kind", ["postgres", "sqlite", "memory"])
def test_remove_room_while_memories_arrive_is_atomic(kind, make_database, tmp_path):
    """Inserts into a room that is being removed either land before (and are removed with it) or fail with
    NotFound; remove_room itself never says NotFound while the room exists, and leaves nothing of the room behind.
    Before the room was locked, PostgreSQL's remove_room failed this way in most trials: a memory inserted between
    its DELETE FROM memories and DELETE FROM rooms made the last statement a foreign key error, read as NotFound."""
    import okai_insight

    url = {"postgres": None, "sqlite": f"sqlite:///{tmp_path}/race.db", "memory": "memory://"}[kind]
    db = okai_insight.connect(url or make_database("race"), dimension=8)
    try:
        for trial in range(10):
            room = db.create_room()
            writing = threading.Event()
            errors: list[BaseException] = []
            refused: list[NotFound] = []

            def writer(room: uuid.UUID = room, writing=writing, errors=errors, refused=refused) -> None:
                for i in range(100_000):
                    try:
                        db.create_memory(Memory(room_id=room, content={"text": f"t{i}"}), "messages")
                    except NotFound as exc:  # the room is gone: the typed answer, and the writer's cue to stop
                        refused.append(exc)
                        return
                    except BaseException as exc:
                        errors.append(exc)
                        return
                    if i == 3:
                        writing.set()

            thread = threading.Thread(target=writer)
            thread.start()
            assert writing.wait(10)
            db.remove_room(room)  # the room exists: it must go, whatever arrives meanwhile
            thread.join(30)
            assert not thread.is_alive()
            assert not errors, f"trial {trial}: {errors[0]!r}"
            assert refused, f"trial {trial}: the writer never saw the room go"
            assert db.get_room(room) is None
            assert db.count_memories(room, unique=False, table_name="messages") == 0, f"trial {trial}"
    finally:
        db.close()
