"""Load, short version for CI: concurrent workers (threads sharing one adapter, and separate processes) create
and search memories for a bounded time on the embedded server. Zero errors, no lost or doubled rows, every write
readable at once by its writer; latency percentiles are reported as test properties.
"""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import psycopg
import pytest

from bench._load import WorkerReport, work
from tests.reliability.conftest import DIM, make_adapter, seed_room

SECONDS = 2.0


def _check(url: str, reports: list[WorkerReport], record_property: Callable[[str, object], None]) -> None:
    errors = [e for r in reports for e in r.errors]
    assert not errors, errors[:3]
    assert all(r.ids for r in reports), "a worker wrote nothing"
    assert sum(r.not_read_back for r in reports) == 0, "a write was not visible to its writer's next search"
    ids = [i for r in reports for i in r.ids]
    with psycopg.connect(url) as conn:
        stored = conn.execute(
            """SELECT "id"::text, count(*) FROM memories WHERE "id" = ANY(%s::uuid[]) GROUP BY 1""", (ids,)
        ).fetchall()
        total = conn.execute("SELECT count(*) FROM memories").fetchone()
    assert len(stored) == len(set(ids)) == len(ids), "an acknowledged row is missing"
    assert all(n == 1 for _, n in stored)
    assert total is not None and total[0] == len(ids), "rows nobody acknowledged were written"
    for name in ("create_ms", "search_ms"):
        samples = np.array([x for r in reports for x in getattr(r, name)])
        record_property(f"{name}_p50", round(float(np.percentile(samples, 50)), 2))
        record_property(f"{name}_p95", round(float(np.percentile(samples, 95)), 2))


@pytest.fixture
def fresh_url(make_database: Callable[[str], str]) -> str:
    return make_database("load")


def test_threads_sharing_one_adapter(fresh_url: str, record_property: Callable[[str, object], None]) -> None:
    db = make_adapter(fresh_url, pool_max_size=4)
    workers = 6  # more workers than pooled connections: they queue for the pool, none may fail
    rooms = [seed_room(db) for _ in range(workers)]
    with ThreadPoolExecutor(workers) as pool:
        futures = [
            pool.submit(work, fresh_url, dim=DIM, room_id=str(r), agent_id=str(a), seconds=SECONDS, seed=i, db=db)
            for i, (a, r) in enumerate(rooms)
        ]
        reports = [f.result(timeout=60) for f in futures]
    db.close()
    _check(fresh_url, reports, record_property)


def test_processes_with_their_own_adapters(fresh_url: str, record_property: Callable[[str, object], None]) -> None:
    db = make_adapter(fresh_url)
    rooms = [seed_room(db) for _ in range(3)]
    db.close()
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(rooms), mp_context=spawn) as pool:
        futures = [
            pool.submit(work, fresh_url, dim=DIM, room_id=str(r), agent_id=str(a), seconds=SECONDS, seed=10 + i)
            for i, (a, r) in enumerate(rooms)
        ]
        reports = [f.result(timeout=120) for f in futures]
    _check(fresh_url, reports, record_property)
    assert len({uuid.UUID(i) for r in reports for i in r.ids}) == sum(len(r.ids) for r in reports)
