"""Read replicas and failover on real servers: an embedded primary and a streaming replica made by
``pg_basebackup -R`` (its own data directory and socket), synchronous so that acknowledged means replicated."""

from __future__ import annotations

import ast
import inspect
import re
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
from okai_insight.diagnostics.replication import MAX_LAG_MS
from okai_insight.diagnostics.replication import replication_status as diagnostic_replication_status
from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import ConfigurationError, ConnectionFailed, InvalidInput
from okai_insight.models import Memory
from okai_insight.ops.monitoring import health, metrics
from okai_insight.ops.replicas import ReplicaRouter, create_replica, failover_url, promote, replication_role_and_lag
from okai_insight.query_files import load_sql
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
        _wait(lambda: [s["sync_state"] for s in replication_role_and_lag(purl).standbys] == ["sync"])
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
    status = replication_role_and_lag(pair.primary_url)
    assert status.role == "primary" and status.standbys[0]["state"] == "streaming"
    standby = replication_role_and_lag(pair.standby_url)
    assert standby.role == "standby" and standby.replay_lag_bytes is not None


def _lag_seen_by_all(url: str, max_lag_ms: float) -> tuple[list[float], list[int], list[str]]:
    """The standby's replay lag (ms, bytes) and verdict from the diagnostic, ops health and the replica status,
    in that order."""
    found = diagnostic_replication_status(url, max_lag_ms=max_lag_ms)
    checked = health(url, max_lag_ms=max_lag_ms).checks[-1]
    status = replication_role_and_lag(url, max_lag_ms=max_lag_ms)
    row = found.rows[0]
    assert row["role"] == "standby" and status.role == "standby"
    shown = re.search(r"standby, replay lag (\d+) ms", checked.detail)
    assert shown is not None, checked.detail
    verdicts = ["warning" if found.findings else "ok", checked.status, status.status]
    lags_ms = [float(row["replay_lag_ms"]), float(shown.group(1)), float(status.replay_lag_ms or 0)]
    return lags_ms, [int(row["replay_lag_bytes"]), int(status.replay_lag_bytes or 0)], verdicts


def test_one_lag_and_one_verdict_for_a_real_replica(pair):
    """The diagnostic, ops health and the replica status read one query (queries/replication/replication_status.sql)
    with one threshold: the same lag and the same verdict for the same standby, lagging and caught up."""
    with psycopg.connect(pair.primary_url, autocommit=True) as primary:
        primary.execute("CREATE TABLE IF NOT EXISTS lag_probe (x int)")  # a replayed commit: its time is known
    _wait(lambda: replication_role_and_lag(pair.standby_url).replay_lag_bytes == 0)
    with psycopg.connect(pair.standby_url, autocommit=True) as standby:
        standby.execute("SELECT pg_wal_replay_pause()")
        try:
            with psycopg.connect(pair.primary_url, autocommit=True) as primary:
                primary.execute("INSERT INTO lag_probe VALUES (1)")
            _wait(lambda: (replication_role_and_lag(pair.standby_url).replay_lag_bytes or 0) > 0)
            _wait(lambda: (replication_role_and_lag(pair.standby_url).replay_lag_ms or 0) > 0)
            started = time.monotonic()
            lags_ms, lags_bytes, verdicts = _lag_seen_by_all(pair.standby_url, max_lag_ms=1)
            elapsed_ms = (time.monotonic() - started) * 1000
            assert verdicts == ["warning"] * 3
            assert lags_bytes[0] == lags_bytes[1] > 0  # nothing replays while paused: the same WAL behind
            # the time lag grows with the clock while replay is paused: later readers see at most the time between
            # the calls more (health rounds to whole ms)
            assert lags_ms[0] > 1
            assert lags_ms[0] - 1 <= lags_ms[1] <= lags_ms[2] + 1 <= lags_ms[0] + elapsed_ms + 2
            assert _lag_seen_by_all(pair.standby_url, max_lag_ms=1e12)[2] == ["ok"] * 3
        finally:
            standby.execute("SELECT pg_wal_replay_resume()")
    _wait(lambda: replication_role_and_lag(pair.standby_url).replay_lag_bytes == 0)
    lags_ms, lags_bytes, verdicts = _lag_seen_by_all(pair.standby_url, max_lag_ms=MAX_LAG_MS)
    assert (lags_ms, lags_bytes, verdicts) == ([0.0] * 3, [0, 0], ["ok"] * 3)


def test_one_lag_threshold_everywhere():
    """PgHero's 5 s, stated once (the diagnostic's signature default): ops health, the replica status and the
    CLI's health --max-lag-ms take it from there."""
    from okai_insight.cli import build_parser

    def default(func) -> float:
        return inspect.signature(func).parameters["max_lag_ms"].default

    assert default(diagnostic_replication_status) == MAX_LAG_MS == 5_000.0
    assert default(health) == default(replication_role_and_lag) == MAX_LAG_MS
    assert build_parser().parse_args(["health"]).max_lag_ms == MAX_LAG_MS


#: SQL that reads replication lag. Only queries/replication/replication_status.sql may hold it.
_LAG_SQL = re.compile(
    r"pg_last_xact_replay_timestamp|pg_last_wal_re(ceive|play)_lsn|pg_stat_replication|pg_stat_wal_receiver"
    r"|\breplay_lag\b|\breplay_lsn\b"
)


@pytest.mark.parametrize("module", ["diagnostics/replication.py", "ops/monitoring.py", "ops/replicas.py"])
def test_no_other_lag_sql(module):
    """The three readers of replication lag hold no SQL of their own: every string in the module (docstrings
    aside) is free of the lag functions and views."""
    path = Path(okai_insight.__file__).parent / module
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    strings = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]
    assert [(line, text) for line, text in strings if _LAG_SQL.search(text)] == []
    assert _LAG_SQL.search(load_sql("replication", "replication_status"))  # the one place it lives


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
            assert replication_role_and_lag(pair.standby_url).replay_lag_bytes > 0  # the lag shows
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
    _wait(lambda: replication_role_and_lag(pair.standby_url).replay_lag_bytes == 0)
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
