"""Read replicas and failover on real servers: an embedded primary and a streaming replica made by
``pg_basebackup -R`` (its own data directory and socket), synchronous so that acknowledged means replicated."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
import pytest

import okai_insight
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import ConfigurationError, ConnectionFailed, InvalidInput
from okai_insight.models import Memory
from okai_insight.ops.monitoring import health, metrics
from okai_insight.ops.replicas import ReplicaRouter, create_replica, failover_url, promote, replication_status
from tests.ops._data import DIM


@dataclass
class Pair:
    primary: EmbeddedServer
    standby: EmbeddedServer
    primary_url: str
    standby_url: str


def _wait(predicate, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    root = Path(tempfile.mkdtemp(prefix="okai-ha-"))  # see tests/ops/conftest.py server_dir: not under pytest's root
    primary = EmbeddedServer(root / "primary")
    standby: EmbeddedServer | None = None
    try:
        purl = primary.start()
        PostgresAdapter(purl, dimension=DIM).init()  # the schema, replicated with everything else
        standby = create_replica(purl, root / "standby", owner_like=root / "primary")
        surl = standby.url()
        assert surl is not None and surl != purl
        with psycopg.connect(purl, autocommit=True) as conn:  # synchronous: a commit returns once the standby has it
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
        _wait(lambda: [s["sync_state"] for s in replication_status(purl).standbys] == ["sync"])
        yield Pair(primary, standby, purl, surl)
    finally:
        if standby is not None:
            standby.stop(mode="immediate")
        primary.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


def _memory(room: uuid.UUID, text: str) -> Memory:
    emb = np.random.default_rng(abs(hash(text)) % 2**32).standard_normal(DIM).astype(np.float32)
    return Memory(id=uuid.uuid4(), room_id=room, content={"text": text}, embedding=emb)


def test_the_standby_is_a_streaming_replica(pair):
    status = replication_status(pair.primary_url)
    assert status.role == "primary" and status.standbys[0]["state"] == "streaming"
    standby = replication_status(pair.standby_url)
    assert standby.role == "standby" and standby.replay_lag_bytes is not None


def test_reads_go_to_the_replica_and_writes_to_the_primary(pair):
    db = okai_insight.connect(pair.primary_url, replica_urls=(pair.standby_url,))
    try:
        assert isinstance(db.router, ReplicaRouter)
        room = db.create_room()
        mid = db.create_memory(_memory(room, "hello"), "messages")
        _wait(lambda: db.get_memory_by_id(mid) is not None)  # replayed on the standby soon after the commit
        found = db.search_memories_by_embedding(_memory(room, "hello").embedding, table_name="messages", room_id=room)
        assert [m.id for m in found] == [mid]
        assert db.router.stats["replica_reads"] >= 2
        assert db.router.pools[0].get_stats()["requests_num"] >= 2
        snap = metrics(db, probe_searches=1)
        assert snap.get("okai_is_standby") == 0.0
        assert snap.get("okai_replica_replay_lag_bytes", standby="walreceiver") is not None
        assert snap.get("okai_replica_reads_total") >= 2
    finally:
        db.close()


def test_read_your_writes_skips_a_replica_that_has_not_replayed_them(pair):
    db = okai_insight.connect(pair.primary_url, replica_urls=(pair.standby_url,))
    with psycopg.connect(pair.standby_url, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            room = db.create_room()
            mid = db.create_memory(_memory(room, "fresh"), "messages")
            assert db.get_memory_by_id(mid) is None  # a plain read: the paused replica has not replayed it
            assert replication_status(pair.standby_url).replay_lag_bytes > 0  # the lag shows
            lagging = health(pair.standby_url, max_lag_ms=1)
            assert lagging.status == "warning" and "standby, replay lag" in lagging.checks[-1].detail
            with db.router.read_your_writes():
                mid2 = db.create_memory(_memory(room, "fresh2"), "messages")
                before = db.router.stats["primary_reads"]
                assert db.get_memory_by_id(mid2) is not None  # read from the primary
                assert db.router.stats["primary_reads"] == before + 1
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
            db.close()
    _wait(lambda: replication_status(pair.standby_url).replay_lag_bytes == 0)
    assert health(pair.standby_url).status == "ok"
    assert "1 standby(s)" in health(pair.primary_url).checks[-1].detail


def test_an_unreachable_replica_is_skipped_for_the_primary(pair, tmp_path):
    dead = f"postgresql://postgres@/okai?host={tmp_path}"
    db = okai_insight.connect(pair.primary_url, replica_urls=(dead,), connect_timeout_s=2)
    try:
        room = db.create_room()
        started = time.monotonic()
        assert db.get_room(room) == room  # the replica gives no connection: the primary answers
        first = time.monotonic() - started
        started = time.monotonic()
        assert db.get_room(room) == room  # marked down: straight to the primary
        assert time.monotonic() - started < 0.5 <= first + 0.5
        assert db.router.stats["replica_failures"] == 1 and db.router.stats["primary_reads"] == 2
    finally:
        db.close()


def test_bad_replica_settings_are_refused():
    with pytest.raises(ConfigurationError):
        ReplicaRouter([], open=False)
    with pytest.raises(ConfigurationError):
        ReplicaRouter(["postgresql://x@/db?bogus_option=1"], open=False)
    with pytest.raises(InvalidInput):
        failover_url("postgresql://u@h1/db")
    with pytest.raises(InvalidInput, match="dbname"):
        failover_url("postgresql://u@h1/db", "postgresql://u@h2/other")


def test_failover_loses_nothing_acknowledged(pair):
    url = failover_url(pair.primary_url, pair.standby_url)
    db = okai_insight.connect(url, replica_urls=(pair.standby_url,), retry_attempts=10, retry_base_delay_s=0.2)
    room = db.create_room()
    acknowledged: list[uuid.UUID] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            try:
                acknowledged.append(db.create_memory(_memory(room, f"w{i}"), "messages"))
            except ConnectionFailed as exc:  # not acknowledged: allowed, as long as the writer goes on
                failures.append(exc)
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        _wait(lambda: len(acknowledged) >= 20)
        pair.primary.stop(mode="immediate")  # a crash: no checkpoint, no goodbye to the standby
        at_failover = len(acknowledged)
        assert promote(pair.standby_url)
        _wait(lambda: len(acknowledged) >= at_failover + 20)  # the adapter reconnected to the new primary
    finally:
        stop.set()
        thread.join(30)
    with psycopg.connect(pair.standby_url) as conn:
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
        stored = {r[0] for r in conn.execute('SELECT "id" FROM memories WHERE "roomId" = %s', (room,))}
    assert set(acknowledged) <= stored
    assert db.count_memories(room, unique=False, table_name="messages") == len(stored)
    db.close()
    with pytest.raises(InvalidInput, match="not a standby"):
        promote(pair.standby_url)


def test_replica_urls_come_from_the_environment():
    from okai_insight.settings import Settings

    s = Settings.from_env({"OKAI_REPLICA_URLS": "postgresql://u@r1/db, postgresql://u@r2/db"})
    assert s.replica_urls == ("postgresql://u@r1/db", "postgresql://u@r2/db")
    assert Settings.from_env({}).replica_urls is None
