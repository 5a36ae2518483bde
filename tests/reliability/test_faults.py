"""Faults: the server stops (immediate mode, i.e. a crash) mid-ingest and mid-search, freezes (SIGSTOP), is down
or refuses the login, a lock is held, and the pool runs dry.

What must hold: every failure the caller sees is a typed okai-insight error, raised within the configured timeout
(never a hang); every acknowledged write is there exactly once after the restart; nothing is duplicated by
retries; a write that failed is all or nothing; the adapter recovers by itself once the server is back; an
exhausted pool is told apart from an unreachable database, and an unreachable one says why.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import psutil
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import ConnectionFailed, DatabaseUnavailable, LockTimeout, PoolTimeout, QueryTimeout
from okai_insight.models import Goal
from okai_insight.settings import Settings
from tests.reliability.conftest import DIM, make_adapter, memories, seed_room

BATCH = 500


def _texts(url: str) -> Counter[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("""SELECT "content" ->> 'text' FROM memories WHERE "type" = 'messages'""").fetchall()
    return Counter(r[0] for r in rows)


def test_immediate_stop_during_bulk_ingest_keeps_every_acknowledged_row_once(
    own_server: EmbeddedServer, own_db_url: str
) -> None:
    # Retries long enough to span part of a restart; the memories carry no ids, so a retry that re-created ids
    # would duplicate rows, which the text check below would see.
    db = make_adapter(own_db_url, retry_attempts=4, retry_base_delay_s=0.5, connect_timeout_s=2.0)
    agent, room = seed_room(db)
    rng = np.random.default_rng(7)
    acked: dict[int, list[uuid.UUID]] = {}
    failed: dict[int, BaseException] = {}
    seconds: list[float] = []
    done = threading.Event()
    unexpected: list[BaseException] = []

    def writer() -> None:
        n = 0
        while not done.is_set():
            batch = memories(agent, room, BATCH, rng, tag=f"b{n}", with_ids=False)
            start = time.monotonic()
            try:
                acked[n] = db.create_memories(batch, "messages")
            except ConnectionFailed as exc:
                failed[n] = exc
            except BaseException as exc:  # anything untyped is a failure of the test
                unexpected.append(exc)
                return
            finally:
                seconds.append(time.monotonic() - start)
            n += 1

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while len(acked) < 3 and time.monotonic() < deadline and not unexpected:
            time.sleep(0.01)
        assert len(acked) >= 3, "the ingest did not start"
        own_server.stop(mode="immediate")  # a crash, in the middle of a COPY with high probability
        time.sleep(0.5)
        own_server.start()
        after_restart = len(acked) + len(failed)
        deadline = time.monotonic() + 60
        while len(acked) + len(failed) < after_restart + 3 and time.monotonic() < deadline and not unexpected:
            time.sleep(0.01)
    finally:
        done.set()
        thread.join(60)
    assert not thread.is_alive(), "the writer hung"
    assert not unexpected, f"untyped error: {unexpected[0]!r}"
    # the writer met the outage (the server was down >= 0.5 s): a batch failed, or one waited it out in retries
    assert failed or max(seconds) >= 0.5, "the crash missed the ingest"
    texts = _texts(own_db_url)
    assert max(texts.values()) == 1, "a row was written twice"
    for n, ids in acked.items():
        assert all(texts[f"b{n}-{i}"] == 1 for i in range(BATCH)), f"acknowledged batch {n} lost rows"
        assert len(set(ids)) == BATCH
    for n in failed:
        present = sum(texts[f"b{n}-{i}"] for i in range(BATCH))
        assert present in (0, BATCH), f"failed batch {n} is half written ({present} rows)"
    attempted = {f"b{n}-{i}" for n in (*acked, *failed) for i in range(BATCH)}
    assert set(texts) <= attempted
    # and the adapter works again after the restart
    assert db.count_memories(room, unique=False, table_name="messages") == len(texts)
    db.close()


def test_pool_exhaustion_raises_pool_timeout_within_the_connect_timeout(own_db_url: str) -> None:
    db = make_adapter(own_db_url, pool_min_size=1, pool_max_size=2, connect_timeout_s=1.0)
    _, room = seed_room(db)
    held = [db.pool.getconn() for _ in range(2)]
    outcome: dict[str, object] = {}

    def call() -> None:
        start = time.monotonic()
        try:
            db.get_room(room)
        except BaseException as exc:
            outcome["error"] = exc
        outcome["elapsed_s"] = time.monotonic() - start

    try:
        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        thread.join(10)
        assert not thread.is_alive(), "the call hung on an exhausted pool"
    finally:
        for conn in held:
            db.pool.putconn(conn)
    assert isinstance(outcome.get("error"), PoolTimeout), outcome
    elapsed = outcome["elapsed_s"]
    assert isinstance(elapsed, float)
    assert 0.9 <= elapsed <= 2.5, f"PoolTimeout after {elapsed:.2f} s, the configured timeout is 1 s"
    assert db.get_room(room) == room  # connections returned: the pool serves again
    db.close()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_search_during_a_restart_recovers_after_it(own_server: EmbeddedServer, own_db_url: str, mode: str) -> None:
    db = make_adapter(own_db_url, retry_attempts=2, retry_base_delay_s=0.1, connect_timeout_s=1.0)
    agent, room = seed_room(db)
    rows = memories(agent, room, 50, np.random.default_rng(3))
    db.create_memories(rows, "messages")
    query = rows[17].embedding
    assert query is not None

    def search() -> uuid.UUID | None:
        return db.search_memories_by_embedding(query, table_name="messages", count=3)[0].id

    assert search() == rows[17].id
    outcomes: list[tuple[float, object]] = []
    done = threading.Event()

    slowest = [0.0]

    def searcher() -> None:
        while not done.is_set():
            start = time.monotonic()
            try:
                outcomes.append((time.monotonic(), search()))
            except BaseException as exc:
                outcomes.append((time.monotonic(), exc))
            slowest[0] = max(slowest[0], time.monotonic() - start)
            time.sleep(0.02)

    thread = threading.Thread(target=searcher, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)
        own_server.stop(mode=mode)
        time.sleep(0.5)
        own_server.start()
        restarted = time.monotonic()
        deadline = restarted + 30
        while time.monotonic() < deadline:
            after = [o for t, o in outcomes if t > restarted]
            if len(after) >= 20:
                break
            time.sleep(0.05)
    finally:
        done.set()
        thread.join(30)
    assert not thread.is_alive(), "a search hung"
    errors = [o for _, o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(e, ConnectionFailed) for e in errors), [repr(e) for e in errors[:3]]
    assert errors or slowest[0] >= 0.5, "no search met the outage"
    assert slowest[0] < 15, f"a search took {slowest[0]:.1f} s during the outage"
    after = [o for t, o in outcomes if t > restarted]
    assert len(after) >= 20, "searches stopped coming back after the restart"
    first_ok = next(i for i, o in enumerate(after) if o == rows[17].id)
    # once one search succeeds, the pool has shed its dead connections: every later search succeeds
    assert all(o == rows[17].id for o in after[first_ok:]), after[first_ok:]
    db.close()


# -- hangs: a frozen server, a held lock -------------------------------------------------------------------------
#: What the fault tests below configure: the server cancels a statement after 1 s; the client, when the server
#: cannot (frozen), drops the call after statement timeout + connect timeout = 2 s.
FAST = {"adapter_statement_timeout_ms": 1000, "adapter_lock_timeout_ms": 500, "connect_timeout_s": 1.0}
CALL_BOUND_S = 2.0


def _timed(call: Callable[[], Any], *, limit_s: float) -> tuple[BaseException | None, float]:
    """Run ``call`` in a thread; its error (None if it returned) and how long it took. Fails after ``limit_s``
    instead of hanging the suite (before the timeouts existed such a call waited for as long as the fault)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        start = time.monotonic()
        try:
            call()
        except BaseException as exc:
            outcome["error"] = exc
        outcome["elapsed_s"] = time.monotonic() - start

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit_s)
    assert not thread.is_alive(), f"the call still hangs after {limit_s} s"
    return outcome.get("error"), float(outcome["elapsed_s"])


@contextmanager
def _frozen(pids: list[int]) -> Iterator[None]:
    """SIGSTOP these processes for the block; SIGCONT always follows."""
    stopped = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def _backend_pid(db: PostgresAdapter) -> int:
    with db.pool.connection() as conn:
        return int(conn.info.backend_pid)


def _server_pids(server: EmbeddedServer) -> list[int]:
    pid = server.status().pid
    assert pid is not None
    return [pid, *(p.pid for p in psutil.Process(pid).children())]


def test_a_frozen_backend_gives_a_typed_error_within_the_call_timeout(own_db_url: str) -> None:
    db = make_adapter(own_db_url, pool_min_size=1, pool_max_size=1, retry_attempts=0, **FAST)
    agent, room = seed_room(db)
    kept = memories(agent, room, 5, np.random.default_rng(11))
    db.create_memories(kept, "messages")
    try:
        with _frozen([_backend_pid(db)]):
            error, elapsed = _timed(lambda: db.get_memories(room, "messages", count=10), limit_s=10)
        assert isinstance(error, DatabaseUnavailable) and error.reason == "timeout", repr(error)
        assert CALL_BOUND_S - 0.2 <= elapsed <= CALL_BOUND_S + 1.5, f"raised after {elapsed:.2f} s"
        # the dropped connection is not handed out again: the next call gets a fresh one, and nothing was lost
        assert {m.id for m in db.get_memories(room, "messages", count=10)} == {m.id for m in kept}
    finally:
        db.close()


def test_a_frozen_server_gives_typed_errors_within_the_timeouts_and_loses_nothing(
    own_server: EmbeddedServer, own_db_url: str
) -> None:
    db = make_adapter(own_db_url, pool_min_size=1, pool_max_size=2, retry_attempts=0, **FAST)
    agent, room = seed_room(db)
    acked = [db.create_memory(m, "messages") for m in memories(agent, room, 5, np.random.default_rng(5))]
    in_flight = memories(agent, room, 1, np.random.default_rng(6), tag="in-flight")[0]
    errors: list[tuple[BaseException | None, float]] = []
    try:
        with _frozen(_server_pids(own_server)):  # postmaster and every backend: nothing answers, nothing cancels
            errors.append(_timed(lambda: db.create_memory(in_flight, "messages"), limit_s=15))
            # the pool's other connection, or a new one (which the frozen postmaster never answers)
            errors.append(_timed(lambda: db.get_room(room), limit_s=15))
            errors.append(_timed(lambda: db.count_memories(room, unique=False, table_name="messages"), limit_s=15))
        for error, elapsed in errors:
            assert isinstance(error, DatabaseUnavailable) and error.reason == "timeout", repr(error)
            assert elapsed <= CALL_BOUND_S + 2.5, f"{error!r} after {elapsed:.2f} s"
        # thawed: the adapter serves again, every acknowledged write is there, the one in flight all or nothing
        deadline = time.monotonic() + 20
        while True:
            try:
                stored = {m.id for m in db.get_memories(room, "messages", count=100)}
                break
            except ConnectionFailed:
                assert time.monotonic() < deadline, "the adapter did not recover after SIGCONT"
                time.sleep(0.2)
        assert set(acked) <= stored and stored - set(acked) <= {in_flight.id}
    finally:
        db.close()


def test_a_held_lock_gives_lock_timeout_and_a_slow_statement_query_timeout(own_db_url: str) -> None:
    db = make_adapter(own_db_url, retry_attempts=0, **FAST)
    agent, room = seed_room(db)
    goal = Goal(room_id=room, user_id=agent, name="g")
    gid = db.create_goal(goal)
    mid = db.create_memory(memories(agent, room, 1, np.random.default_rng(2))[0], "messages")
    with psycopg.connect(own_db_url) as holder:
        holder.execute('SELECT 1 FROM goals WHERE "id" = %s FOR UPDATE', (gid,))
        error, elapsed = _timed(lambda: db.update_goal_status(gid, "DONE"), limit_s=10)
        assert isinstance(error, LockTimeout), repr(error)
        assert 0.4 <= elapsed <= 1.5, f"LockTimeout after {elapsed:.2f} s, lock_timeout is 0.5 s"
        error, _ = _timed(lambda: db.remove_room(room), limit_s=10)
        assert isinstance(error, LockTimeout), repr(error)
        holder.rollback()
        # a lock wait longer than the statement timeout (lock timeout off) is cut by the statement timeout
        slow = make_adapter(own_db_url, retry_attempts=0, **{**FAST, "adapter_lock_timeout_ms": 0})
        try:
            holder.execute("LOCK TABLE memories IN ACCESS EXCLUSIVE MODE")
            error, elapsed = _timed(lambda: slow.get_memory_by_id(mid), limit_s=10)
            assert type(error) is QueryTimeout, repr(error)
            assert 0.9 <= elapsed <= 2.0, f"QueryTimeout after {elapsed:.2f} s, statement_timeout is 1 s"
        finally:
            holder.rollback()
            slow.close()
    # nothing was changed by the refused calls
    assert db.get_goals(room)[0].status.value == "IN_PROGRESS"
    assert db.get_memory_by_id(mid) is not None
    db.close()


def test_a_retry_does_not_hang_on_a_frozen_idle_connection(own_db_url: str) -> None:
    """A lost connection is retried after the pool checks its idle ones; that check pings each, and a ping to a
    frozen backend waited forever (Unix socket: no keepalive). Now it is bounded like a call: the frozen one is
    dropped and the retry gets a fresh connection."""
    db = make_adapter(own_db_url, pool_min_size=2, pool_max_size=2, retry_attempts=2, **FAST)
    _, room = seed_room(db)
    try:
        db.pool.wait(10)
        lost, frozen = db.pool.getconn(), db.pool.getconn()
        lost_pid, frozen_pid = lost.info.backend_pid, frozen.info.backend_pid
        db.pool.putconn(frozen)
        db.pool.putconn(lost)  # lent first: the pool hands out the most recently returned connection
        with psycopg.connect(own_db_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (lost_pid,))
        with _frozen([frozen_pid]):
            error, elapsed = _timed(lambda: db.get_room(room), limit_s=15)
        assert error is None, repr(error)
        assert elapsed <= CALL_BOUND_S + 2.5, f"{elapsed:.2f} s"
    finally:
        db.close()


# -- an outage is not pool exhaustion ----------------------------------------------------------------------------
def test_a_stopped_server_is_reported_unreachable_refused_without_the_password(
    own_server: EmbeddedServer, own_db_url: str
) -> None:
    url = own_db_url.replace("postgres:@", "postgres:s3cret-pw@")  # trust auth ignores it; messages must not show it
    db = PostgresAdapter(url, settings=Settings(embedding_dimension=DIM, retry_attempts=1, **FAST))  # type: ignore[arg-type]
    db.init()
    _, room = seed_room(db)
    own_server.stop(mode="fast")
    try:
        for call in (lambda: db.get_room(room), lambda: db.create_room()):
            error, elapsed = _timed(call, limit_s=20)
            assert isinstance(error, DatabaseUnavailable), repr(error)
            assert not isinstance(error, PoolTimeout)
            assert error.reason == "refused" and str(error).startswith("database unreachable (refused)"), str(error)
            assert "s3cret-pw" not in str(error) and "s3cret-pw" not in repr(error.__cause__)
            assert elapsed <= 2 * (1.0 + 0.5) + 1.5, f"{elapsed:.2f} s"  # two pool waits and a backoff
        fresh = PostgresAdapter(url, settings=Settings(embedding_dimension=DIM, retry_attempts=0))
        with pytest.raises(DatabaseUnavailable, match=r"^database unreachable \(refused\)") as caught:
            fresh.init()
        assert "s3cret-pw" not in str(caught.value)
    finally:
        own_server.start()
    _recovered(lambda: db.get_room(room) == room, within_s=10)  # and it recovers by itself, soon
    db.close()


def _recovered(check: Callable[[], bool], *, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            if check():
                return
        except ConnectionFailed:
            pass
        assert time.monotonic() < deadline, f"not recovered {within_s} s after the server came back"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("change", "reason"),
    [(("postgres:@", "no_such_role:@"), "authentication"), (("/rel_", "/no_such_db_"), "no such database")],
)
def test_a_refused_login_says_so_and_is_not_retried(own_db_url: str, change: tuple[str, str], reason: str) -> None:
    db = PostgresAdapter(own_db_url.replace(*change), settings=Settings(embedding_dimension=DIM, retry_attempts=5))
    error, elapsed = _timed(db.init, limit_s=20)
    assert isinstance(error, DatabaseUnavailable) and error.reason == reason, repr(error)
    assert elapsed < 5, f"{elapsed:.1f} s"


def test_a_frozen_postmaster_is_unreachable_timeout_for_a_new_connection(
    own_server: EmbeddedServer, own_db_url: str
) -> None:
    db = make_adapter(own_db_url, pool_min_size=1, pool_max_size=1, retry_attempts=0, **FAST)
    _, room = seed_room(db)
    try:
        with db.pool.connection():  # the pool's one connection is busy: the call needs a new one
            db.pool.resize(1, 2)
            postmaster = own_server.status().pid
            assert postmaster is not None
            with _frozen([postmaster]):
                error, elapsed = _timed(lambda: db.get_room(room), limit_s=15)
        assert isinstance(error, DatabaseUnavailable) and error.reason == "timeout", repr(error)
        assert elapsed <= 3.5, f"{elapsed:.2f} s"
        assert db.get_room(room) == room
    finally:
        db.close()


# -- failover under a writer -------------------------------------------------------------------------------------
def test_failover_under_a_writer_surfaces_no_pool_timeout_and_loses_nothing() -> None:
    """The primary crashes; the standby is promoted 2 s later. Before, the first write after the crash waited one
    pool timeout and surfaced PoolTimeout (not retried: "the pool is exhausted"); now the pool's failed connection
    attempts say the database is unreachable (refused), which is retried, so the writer rides through the
    failover, and anything that still fails says why. Every acknowledged write is on the new primary."""
    import shutil
    import tempfile
    from pathlib import Path

    from okai_insight.ops.replicas import create_replica, failover_url, promote, replication_role_and_lag

    root = Path(tempfile.mkdtemp(prefix="okai-failover-"))  # like tests/ops/test_replicas.py: the owner must reach it
    primary = EmbeddedServer(root / "primary")
    standby: EmbeddedServer | None = None
    db: PostgresAdapter | None = None
    try:
        purl = primary.start()
        make_adapter(purl).close()  # the schema, replicated with everything else
        standby = create_replica(purl, root / "standby", owner_like=root / "primary")
        surl = standby.url()
        assert surl is not None
        with psycopg.connect(purl, autocommit=True) as conn:  # synchronous: acknowledged means on the standby too
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
        _recovered(lambda: [s["sync_state"] for s in replication_role_and_lag(purl).standbys] == ["sync"], within_s=20)
        db = make_adapter(failover_url(purl, surl), retry_attempts=8, retry_base_delay_s=0.2, **FAST)
        agent, room = seed_room(db)
        acked: list[uuid.UUID] = []
        failures: list[BaseException] = []
        stop = threading.Event()
        rng = np.random.default_rng(9)

        def writer() -> None:
            while not stop.is_set():
                m = memories(agent, room, 1, rng, tag=f"w{len(acked)}-{len(failures)}")[0]
                try:
                    acked.append(db.create_memory(m, "messages"))
                except BaseException as exc:
                    failures.append(exc)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        try:
            _recovered(lambda: len(acked) >= 20, within_s=20)
            primary.stop(mode="immediate")  # a crash
            time.sleep(2.0)
            at_failover = len(acked)
            assert promote(surl)
            _recovered(lambda: len(acked) >= at_failover + 20, within_s=30)
        finally:
            stop.set()
            thread.join(60)
        assert not thread.is_alive(), "the writer hung"
        assert not [e for e in failures if isinstance(e, PoolTimeout)], [repr(e) for e in failures[:3]]
        assert all(isinstance(e, DatabaseUnavailable) for e in failures), [repr(e) for e in failures[:3]]
        with psycopg.connect(surl) as conn:
            stored = {r[0] for r in conn.execute('SELECT "id" FROM memories WHERE "roomId" = %s', (room,))}
        assert set(acked) <= stored
    finally:
        if db is not None:
            db.close()
        if standby is not None:
            standby.stop(mode="immediate")
        primary.stop(mode="immediate")
        shutil.rmtree(root, ignore_errors=True)


# -- SQLite: the same lock timeout -------------------------------------------------------------------------------
@pytest.mark.parametrize("holder", ["this process", "another process"])
def test_sqlite_a_held_write_lock_gives_lock_timeout_within_the_setting(tmp_path: Any, holder: str) -> None:
    """A writer of this process (the adapter's in-process write lock) or another process (``BEGIN IMMEDIATE``)
    holds the database: a write waits ``adapter_lock_timeout_ms`` and raises LockTimeout, as on PostgreSQL.
    Before, the first waited for as long as the holder held (no bound at all) and the second raised
    ConnectionFailed after a fixed 10 s."""
    import subprocess
    import sys

    import okai_insight

    path = tmp_path / "locked.db"
    db = okai_insight.connect(f"sqlite:///{path}", dimension=DIM, adapter_lock_timeout_ms=300)
    other = okai_insight.connect(f"sqlite:///{path}", dimension=DIM)
    release = threading.Event()
    held = threading.Event()
    proc: subprocess.Popen[str] | None = None
    thread: threading.Thread | None = None
    try:
        if holder == "this process":

            def hold(c: Any) -> None:
                held.set()
                release.wait(10)

            thread = threading.Thread(target=lambda: other.pool.transaction(hold, write=True), daemon=True)
            thread.start()
            assert held.wait(5)
        else:
            # Another process: SQLite's file locks are per process, so a connection of this one would not do.
            hold_lock = (
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
                " c.execute('BEGIN IMMEDIATE'); print('held', flush=True); sys.stdin.read()"
            )
            proc = subprocess.Popen(
                [sys.executable, "-c", hold_lock, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        error, elapsed = _timed(lambda: db.create_room(), limit_s=8)
        assert isinstance(error, LockTimeout), repr(error)
        assert 0.25 <= elapsed <= 1.5, f"LockTimeout after {elapsed:.2f} s, the setting is 0.3 s"
    finally:
        release.set()
        if thread is not None:
            thread.join(10)
        if proc is not None:
            proc.communicate(timeout=10)  # closing stdin ends it, and its transaction
    room = db.create_room()  # the lock is free again: writes go through, nothing was half written
    assert db.get_room(room) == room
    db.close()
    other.close()
