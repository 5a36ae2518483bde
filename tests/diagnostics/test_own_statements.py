"""okai-insight never measures itself (issue 15 item 2): after every widget, an EXPLAIN ANALYZE and both tuners
ran on a healthy database, its statements are absent from the statistics checks (which say how many they left
out), the scan counters of the user's tables have not moved, and doctor still exits 0."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.cli import main
from okai_insight.diagnostics.explain import explain
from okai_insight.diagnostics.statements import query_stats, slow_queries, statements_info
from okai_insight.diagnostics.vectors import vector_queries
from okai_insight.embeddings import tune_recall, tune_threshold
from okai_insight.jupyter import PANELS, ExplainWidget
from okai_insight.runner import TAG
from tests.diagnostics.conftest import _load_memories

#: Text only okai-insight's runner sends (its per-transaction timeouts), and the EXPLAIN the Explain widget sends.
OWN_MARKERS = (TAG, "set_config('statement_timeout'", "EXPLAIN (")


def _scan_counts(url: str) -> dict[str, tuple[int, int]]:
    time.sleep(1.2)  # backends flush their table counters at most once a second (PGSTAT_MIN_INTERVAL)
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT relname, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


@pytest.fixture(scope="module")
def healthy_db(make_database: Callable[[str], str]) -> str:
    url = make_database("ownstmts")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    rng = np.random.default_rng(5)
    with PostgresAdapter(url) as db:
        db.init()
        with psycopg.connect(url, autocommit=True) as conn:
            _load_memories(conn, 300)
            # 150 paraphrases (a near copy with other text): what tune_threshold measures a threshold on
            conn.execute(
                """
                INSERT INTO memories ("type", "content", "embedding")
                SELECT m.type, jsonb_build_object('text', (m.content ->> 'text') || ' again'),
                    m.embedding + (SELECT array_agg((random() - 0.5) * 0.02 + 0 * d) FROM generate_series(1, 384) AS d)::vector
                FROM (SELECT * FROM memories ORDER BY id LIMIT 150) AS m
                """
            )
            conn.execute("ANALYZE")
        for _ in range(5):  # the application's own vector searches: these must stay visible
            db.search_memories_by_embedding(rng.standard_normal(384).astype(np.float32), table_name="messages", count=5)
    return url


def _own(rows: list[dict[str, Any]]) -> list[str]:
    return [str(r["query"]) for r in rows if any(m in str(r["query"]) for m in OWN_MARKERS)]


def test_every_widget_explain_and_tuner_leave_no_trace_in_the_statistics(healthy_db: str) -> None:
    url = healthy_db
    before = _scan_counts(url)
    for panel in PANELS:
        small = {"queries": 15} if "queries" in panel.__init__.__code__.co_varnames else {}
        widget = panel(url, background=False, **small)
        if isinstance(widget, ExplainWidget):  # the one Explain click of the issue, with ANALYZE (its default)
            widget.query.value = (
                "SELECT id FROM memories ORDER BY embedding <=> (SELECT embedding FROM memories LIMIT 1) LIMIT 5"
            )
        widget.refresh()
        assert widget.error is None, (panel.__name__, widget.error)
    plan = explain(url, "SELECT count(*) FROM memories WHERE type = 'messages'", analyze=True)
    assert plan.execution_ms is not None
    assert tune_recall(url, queries=15).rows and tune_threshold(url, queries=15).rows

    # the scans of the tuners (exact searches: sequential scans) and of EXPLAIN ANALYZE counted nowhere
    assert _scan_counts(url) == before

    top = query_stats(url, limit=100)
    assert top.rows, "the application's statements are still listed"
    assert _own(top.rows) == []
    assert top.note is not None and "left out okai-insight's own statements" in top.note
    slow = slow_queries(url, min_mean_ms=0, min_calls=1)
    assert slow.rows and _own(slow.rows) == [] and slow.note is not None and "left out" in slow.note
    vq = vector_queries(url)
    assert vq.rows, "the application's vector searches are still checked"
    assert _own(vq.rows) == [] and vq.note is not None
    info = statements_info(url).rows[0]
    assert info["own_statements"] > 0
    assert "left out" in top.to_text()

    assert main(["doctor", url]) == 0
