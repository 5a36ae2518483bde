"""docs/diagnostics.md (issue 19 item 7): every ``sql`` block of the page runs on the embedded PostgreSQL 18 with
okai-insight's schema; blocks marked ``-- fails with <Error>`` fail with exactly that error. The SQL is read from
the page itself, so the page and this test cannot drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
import pytest
from pgvector.psycopg import register_vector

import okai_insight
from okai_insight.models import Memory

DOC = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"
DIM = 8
_BLOCK = re.compile(r"```sql\n(.*?)```", re.S)
_FAILS = re.compile(r"^-- fails with (\w+)")


def blocks() -> list[str]:
    return [b.strip() for b in _BLOCK.findall(DOC.read_text(encoding="utf-8"))]


@pytest.fixture(scope="module")
def url(make_database: Callable[[str], str]) -> str:
    """okai-insight's schema with a few hundred memories and their HNSW cosine index."""
    target = make_database("docspec")
    rng = np.random.default_rng(7)
    with okai_insight.connect(target, dimension=DIM) as db:
        room = db.create_room()
        for v in rng.normal(size=(300, DIM)).astype(np.float32):
            db.create_memory(Memory(room_id=room, content={"text": "x"}, embedding=v), "messages")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("ANALYZE memories")
    return target


def _run(url: str, text: str, *settings: str) -> list[tuple[object, ...]]:
    """One block in a READ ONLY transaction, rolled back; ``$1`` bound to a query vector (RawCursor: $n style)."""
    with psycopg.connect(url) as conn:
        register_vector(conn)
        conn.read_only = True
        for s in settings:
            conn.execute(s)
        cur = psycopg.RawCursor(conn)
        params = [np.linspace(-1, 1, DIM).astype(np.float32)] if "$1" in text else None
        cur.execute(text.rstrip().rstrip(";"), params)
        rows = cur.fetchall() if cur.description else []
        conn.rollback()
    return rows


def test_the_page_has_the_spec_queries() -> None:
    found = blocks()
    assert len(found) >= 7
    assert any("tablename, indexname" in b and _FAILS.match(b) for b in found)  # the spec's own, marked failing
    assert any("indexrelname AS indexname" in b for b in found)
    assert sum(b.startswith("EXPLAIN ANALYZE") for b in found) == 2


def test_the_server_is_postgresql_18(url: str) -> None:
    with psycopg.connect(url) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()
    assert version is not None and int(version[0]) >= 180000


@pytest.mark.parametrize("index", range(len(blocks())))
def test_every_block_runs_or_fails_as_the_page_says(url: str, index: int) -> None:
    text = blocks()[index]
    marked = _FAILS.match(text)
    if marked:
        error = getattr(psycopg.errors, marked.group(1))
        with pytest.raises(error):
            _run(url, text)
    else:
        _run(url, text)


def test_the_recommended_search_uses_the_vector_index_and_the_spec_form_cannot(url: str) -> None:
    explains = [b for b in blocks() if b.startswith("EXPLAIN ANALYZE")]
    spec, fixed = explains
    # with sequential scans priced out, a plan that still avoids the index is one that cannot use it
    off = "SET enable_seqscan = off"
    spec_plan = "\n".join(str(r[0]) for r in _run(url, spec, off))
    fixed_plan = "\n".join(str(r[0]) for r in _run(url, fixed, off))
    assert "idx_memories_embedding" not in spec_plan
    assert "Index Scan using idx_memories_embedding" in fixed_plan


def test_index_usage_lists_the_vector_index(url: str) -> None:
    usage = next(b for b in blocks() if "indexrelname AS indexname" in b)
    with psycopg.connect(url) as conn:
        names = [d.name for d in psycopg.RawCursor(conn).execute(usage).description or []]
    assert names[:4] == ["schemaname", "tablename", "indexname", "idx_scan"]
    assert any(r[2] == "idx_memories_embedding" for r in _run(url, usage))
