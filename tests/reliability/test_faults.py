"""Faults: the server stops (immediate mode, i.e. a crash) mid-ingest and mid-search, and the pool runs dry.

What must hold: every failure the caller sees is a typed okai-insight error; every acknowledged write is there
exactly once after the restart; nothing is duplicated by retries; a write that failed is all or nothing; the
adapter recovers by itself once the server is back; an exhausted pool fails within its timeout instead of hanging.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import numpy as np
import psycopg
import pytest

from okai_insight.embedded import EmbeddedServer
from okai_insight.errors import ConnectionFailed, PoolTimeout
from tests.reliability.conftest import make_adapter, memories, seed_room

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
