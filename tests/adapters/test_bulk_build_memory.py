"""The bulk path's index build gets the memory its HNSW graph needs: the per-element estimate behind
``maintenance_work_mem_mb`` is checked against pgvector's own notice on a real build (a graph that does not fit
is built several times slower, on disk)."""

from __future__ import annotations

import logging
import math

import numpy as np
import psycopg
import pytest

from okai_insight.adapters import _bulk_load
from okai_insight.adapters._bulk_load import HNSW_BUILD_FIXED_BYTES, hnsw_element_bytes, maintenance_work_mem_mb
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.models import Memory

DIM = 384
ROWS = 3000
SPILL = "hnsw graph no longer fits into maintenance_work_mem"


@pytest.fixture(scope="module")
def vectors_url(make_database) -> str:
    url = make_database("bulk6_build_memory")
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        c.execute(f"CREATE TABLE v (id int, embedding vector({DIM}))")
        # One random vector a row (the WHERE ties the subquery to the row, so it is not computed once).
        c.execute(
            f"INSERT INTO v SELECT g, (SELECT array_agg(random() - 0.5) FROM generate_series(1, {DIM}) AS d "
            f"WHERE g > 0)::vector FROM generate_series(1, {ROWS}) AS g"
        )
    return url


def _build_notices(url: str, budget_kb: int) -> list[str]:
    notices: list[str] = []
    with psycopg.connect(url, autocommit=True) as c:
        c.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        c.execute("DROP INDEX IF EXISTS v_hnsw")
        c.execute(f"SET maintenance_work_mem = '{budget_kb}kB'")
        c.execute("SET max_parallel_maintenance_workers = 0")
        c.execute("CREATE INDEX v_hnsw ON v USING hnsw (embedding vector_cosine_ops)")
    return notices


def test_the_element_estimate_fits_a_real_build_without_slack(vectors_url):
    budget = math.ceil((HNSW_BUILD_FIXED_BYTES + ROWS * hnsw_element_bytes(DIM)) / 1024)
    assert not [n for n in _build_notices(vectors_url, budget) if SPILL in n]


def test_the_estimate_is_not_loose_a_build_with_70_percent_of_it_spills(vectors_url):
    """The check above could pass with any large estimate: 70 % of it is too little, so it is within 30 %."""
    budget = math.ceil(0.7 * (HNSW_BUILD_FIXED_BYTES + ROWS * hnsw_element_bytes(DIM)) / 1024)
    assert [n for n in _build_notices(vectors_url, budget) if SPILL in n]


def test_the_bulk_path_budget_has_slack_over_the_estimate():
    assert (
        maintenance_work_mem_mb(100_000, DIM) * 2**20
        >= 1.3 * 100_000 * hnsw_element_bytes(DIM) + HNSW_BUILD_FIXED_BYTES
    )
    assert maintenance_work_mem_mb(100_000, DIM, half=True) < maintenance_work_mem_mb(100_000, DIM)


def _load(url: str, rows: int) -> None:
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(rows, DIM)).astype(np.float32)
    with PostgresAdapter(url, dimension=DIM) as db:
        db.init()
        room = db.create_room()
        db.create_memories([Memory(room_id=room, content={"text": "x"}, embedding=v) for v in vectors], "messages")


def test_a_bulk_load_whose_graph_outgrows_its_memory_says_so(make_database, monkeypatch, caplog):
    """A spilled build is several times slower: pgvector's notice reaches the log as a warning, not silence."""
    monkeypatch.setattr(_bulk_load, "maintenance_work_mem_mb", lambda rows, dimension, half=False: 1)
    with caplog.at_level(logging.WARNING, logger=_bulk_load.__name__):
        _load(make_database("bulk6_spill"), ROWS)
    assert any(SPILL in r.getMessage() and "maintenance_work_mem_mb=1" in r.getMessage() for r in caplog.records)


def test_a_bulk_load_sized_by_the_estimate_does_not_spill(make_database, caplog):
    url = make_database("bulk6_no_spill")
    with caplog.at_level(logging.WARNING, logger=_bulk_load.__name__):
        _load(url, ROWS)
    assert not [r for r in caplog.records if SPILL in r.getMessage()]
    with psycopg.connect(url) as c:  # the bulk path ran: the index is there, valid, over every row
        assert c.execute("SELECT count(*) FROM memories").fetchone() == (ROWS,)
        assert c.execute(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('idx_memories_embedding')"
        ).fetchall() == [(True,)]
