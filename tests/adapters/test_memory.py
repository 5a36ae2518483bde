"""In-memory adapter specifics: private and named databases, nothing on disk, threads, both drivers."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

import okai_insight
from okai_insight.adapters.memory import MemoryAdapter, parse_memory_url
from okai_insight.errors import ConfigurationError
from okai_insight.models import Memory
from tests.adapters._data import brute_force, build_world

DIM = 8


def _open(url: str = "memory://") -> MemoryAdapter:
    db = okai_insight.connect(url, dimension=DIM)
    assert isinstance(db, MemoryAdapter)
    return db


def test_url_forms():
    assert parse_memory_url("memory://") == (None, None)
    assert parse_memory_url("memory://agent-1") == ("agent-1", None)
    assert parse_memory_url("memory://x?driver=apsw") == ("x", "apsw")
    for bad in ("memory:", "memory://a b", "memory://../x", "memory://x?cache=shared", "memory://" + "a" * 101):
        with pytest.raises(ConfigurationError):
            parse_memory_url(bad)


def test_each_connect_gets_a_private_database():
    a, b = _open(), _open()
    try:
        room = a.create_room()
        assert a.get_room(room) == room
        assert b.get_room(room) is None
    finally:
        a.close()
        b.close()


def test_named_database_is_shared_while_open_and_gone_after():
    a = _open("memory://shared-test")
    b = _open("memory://shared-test")
    try:
        room = a.create_room()
        mid = b.create_memory(Memory(room_id=room, content={"x": 1}, embedding=np.eye(DIM)[1]), "messages")
        assert a.get_memory_by_id(mid).content == {"x": 1}
        assert a.search_memories_by_embedding(np.eye(DIM)[1], table_name="messages")[0].id == mid
        other = _open("memory://another-name")
        assert other.get_room(room) is None
        other.close()
    finally:
        a.close()
    assert b.get_room(room) == room  # alive while one adapter holds it
    b.close()
    c = _open("memory://shared-test")
    try:
        assert c.get_room(room) is None  # the last one closed: the database went with it
        assert c.embedding_dimension == DIM
    finally:
        c.close()


def test_nothing_is_written_to_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    db = _open("memory://disk-check")
    try:
        build_world(db, 200, DIM, seed=1, rooms=2)
        assert db.pool.transaction(lambda c: c.query("PRAGMA journal_mode"))[0][0] == "memory"
        assert db.pool.transaction(lambda c: c.query("PRAGMA database_list"))[0][2] in ("", "/okai-memory-disk-check")
    finally:
        db.close()
    assert set(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("driver", ["sqlean", "apsw"])
def test_true_nearest_with_filters_on_each_driver(driver):
    db = MemoryAdapter(f"memory://?driver={driver}", dimension=DIM)
    db.init()
    try:
        assert db.driver_name == driver
        w = build_world(db, 600, DIM, seed=4, rooms=3)
        rng = np.random.default_rng(5)
        for case in ({}, {"room": w.rooms[0]}, {"room": w.rooms[1], "agent": w.agents[0]}, {"unique": True}):
            q = rng.normal(size=DIM).astype(np.float32)
            hits = db.search_memories_by_embedding(
                q,
                table_name="messages",
                count=12,
                room_id=case.get("room"),
                agent_id=case.get("agent"),
                unique=case.get("unique", False),
            )
            assert [h.id for h in hits] == brute_force(w, q, k=12, **case)
    finally:
        db.close()


def test_threads_share_one_memory_database():
    db = _open("memory://threads")
    try:
        room = db.create_room()
        errors: list[BaseException] = []
        vecs = np.random.default_rng(0).normal(size=(5, 30, DIM)).astype(np.float32)

        def work(t: int) -> None:
            try:
                for i in range(30):
                    db.create_memory(Memory(room_id=room, content={"t": t, "i": i}, embedding=vecs[t, i]), "messages")
                    hit = db.search_memories_by_embedding(vecs[t, i], table_name="messages", room_id=room, count=1)
                    assert hit[0].content == {"t": t, "i": i}
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(t,)) for t in range(5)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        assert db.count_memories(room, unique=False, table_name="messages") == 150
    finally:
        db.close()
