"""The checks and actions not covered by the planted-defects tests: cancel / terminate, table sizes and growth,
index usage, wait events, key settings; and doctor on an ElizaOS 0.1.9 database and on the demo dataset."""

from __future__ import annotations

import threading
import time

import numpy as np
import psycopg
import pytest

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.diagnostics import activity, doctor, indexes, server_settings, space, vectors
from okai_insight.errors import InvalidInput
from tests.contract.elizaos_schema import create_elizaos_schema


def _long_query(url: str, seconds: int = 30) -> tuple[int, threading.Thread, list[BaseException]]:
    conn = psycopg.connect(url, autocommit=True, application_name="okai-test-long")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            conn.execute(f"SELECT pg_sleep({seconds})")
        except psycopg.Error as exc:
            errors.append(exc)
        finally:
            conn.close()

    pid = conn.info.backend_pid
    t = threading.Thread(target=run, daemon=True)
    t.start()
    with psycopg.connect(url, autocommit=True) as admin:
        for _ in range(200):
            row = admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
            if row and row[0] == "active":
                break
            time.sleep(0.05)
    return pid, t, errors


def test_cancel_query_cancels_a_real_long_query(healthy):
    pid, thread, errors = _long_query(healthy)
    running = activity.running_queries(healthy)
    assert pid in [r["pid"] for r in running.rows]
    assert activity.cancel_query(healthy, pid) is True
    thread.join(10)
    assert not thread.is_alive() and isinstance(errors[0], psycopg.errors.QueryCanceled)
    pid, thread, errors = _long_query(healthy)
    assert activity.cancel_query(healthy, pid, terminate=True) is True
    thread.join(10)
    assert not thread.is_alive() and isinstance(errors[0], psycopg.OperationalError)  # the session is gone
    with pytest.raises(InvalidInput, match="positive integer"):
        activity.cancel_query(healthy, 0)
    assert activity.cancel_query(healthy, 2**31 - 1) is False  # no such backend: the server says no (a warning)


def test_table_sizes_and_growth(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE grows (id int, pad text)")
        conn.execute("CREATE TABLE stays (id int)")
        conn.execute("INSERT INTO stays SELECT generate_series(1, 100)")
    before = space.table_sizes(pg_url)
    assert {r["table"] for r in before.rows} >= {"grows", "stays"}
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO grows SELECT g, (SELECT string_agg(md5(random()::text || i), '') FROM "
            "generate_series(1, 100) AS i WHERE g > 0) FROM generate_series(1, 2000) AS g"
        )
        conn.execute("ANALYZE grows")
    after = space.table_sizes(pg_url)
    sizes = [r["total_bytes"] for r in after.rows]
    assert sizes == sorted(sizes, reverse=True)
    grows = next(r for r in after.rows if r["table"] == "grows")
    assert grows["live_rows"] == 2000 and grows["toast_bytes"] > 0  # 3 kB values go to TOAST
    g = space.growth(before, after)
    assert g.rows[0]["table"] == "grows" and g.rows[0]["growth_bytes"] > 1_000_000
    assert next(r for r in g.rows if r["table"] == "stays")["growth_bytes"] == 0
    assert space.table_sizes(pg_url, limit=1).rows == after.rows[:1]
    with pytest.raises(InvalidInput, match="two table_sizes results"):
        space.growth(before, g)


def test_index_usage_wait_events_and_key_settings(planted):
    usage = indexes.index_usage(planted.url)
    pk = next(r for r in usage.rows if r["index"] == "planted_parent_pkey")
    assert usage.status == "ok", usage.note
    assert pk["primary"] and pk["unique"] and pk["size_bytes"] > 0
    assert pk["definition"] is None  # its table is locked: pg_get_indexdef would wait, so it is left out
    unused = next(r for r in usage.rows if r["index"] == "planted_unused_pad")
    assert unused["index_scans"] == 0 and unused["size_bytes"] > 10 * 1024 * 1024
    waits = activity.wait_events(planted.url)
    lock = [r for r in waits.rows if r["wait_event_type"] == "Lock"]
    assert lock and lock[0]["sessions"] >= 1  # the planted blocked query
    assert sum(r["sessions"] for r in waits.rows) >= 2  # and the long query (pg_sleep: a Timeout wait)
    ks = server_settings.key_settings(planted.url)
    by_name = {r["name"]: r for r in ks.rows}
    assert {"shared_buffers", "work_mem", "maintenance_work_mem", "max_connections"} <= set(by_name)
    assert by_name["shared_buffers"]["value_bytes"] >= 8 * 1024 * 1024
    assert [f for f in ks.findings if f.severity != "info"] == []


ELIZA_SEARCH = (
    'SELECT *, 1 - (embedding <-> %(q)s::vector) AS similarity FROM memories WHERE type = %(t)s AND "roomId" = %(r)s '
    "ORDER BY embedding <-> %(q)s::vector LIMIT %(k)s"
)


def test_doctor_on_an_elizaos_0_1_9_database(make_database):
    url = make_database("eliza")
    rng = np.random.default_rng(3)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        create_elizaos_schema(conn)
        conn.execute("INSERT INTO accounts (id, email) VALUES (gen_random_uuid(), 'agent@x')")
        conn.execute("INSERT INTO rooms (id) VALUES (gen_random_uuid())")
        conn.execute(
            'INSERT INTO memories (id, type, content, embedding, "userId", "agentId", "roomId", "unique") '
            "SELECT gen_random_uuid(), 'messages', '{}'::jsonb, "
            "(SELECT array_agg(random() - 0.5 + 0 * d + 0 * g) FROM generate_series(1, 384) AS d)::vector, "
            "(SELECT id FROM accounts), (SELECT id FROM accounts), (SELECT id FROM rooms), true "
            "FROM generate_series(1, 300) AS g"
        )
        conn.execute("ANALYZE")
        room = conn.execute("SELECT id FROM rooms").fetchone()[0]
        for _ in range(3):  # what the ElizaOS adapter runs: searchMemoriesByEmbedding
            q = "[" + ",".join(f"{x:.4f}" for x in rng.standard_normal(384)) + "]"
            conn.execute(ELIZA_SEARCH, {"q": q, "t": "messages", "r": room, "k": 5}).fetchall()
    report = doctor(url)
    assert [r.name for r in report.results if r.status == "error"] == []
    crit = report.result("vector_queries").findings[0]
    assert crit.severity == "critical" and "<-> (L2 distance)" in crit.message
    assert crit.subject == "public.idx_memories_embedding" and "vector_l2_ops" in crit.fix_sql
    ivf = [f for f in report.result("vector_indexes").findings if f.subject == "public.idx_knowledge_embedding"]
    assert ivf and "IVFFlat" in ivf[0].message and ivf[0].fix_sql.startswith("REINDEX INDEX CONCURRENTLY")
    fks = indexes.foreign_keys_without_index(url, min_rows=0)
    missing = {(f.subject, f.fix_sql) for f in fks.findings}
    assert ("public.memories", 'CREATE INDEX CONCURRENTLY ON public.memories ("agentId");') in missing
    assert report.exit_code == 1
    columns = vectors.vector_columns(url)
    assert {(r["table"], r["declared_dims"]) for r in columns.rows} == {("memories", 384), ("knowledge", 384)}


def test_doctor_on_the_demo_dataset(make_database, capsys):
    from okai_insight.cli import main
    from okai_insight.demo import load

    url = make_database("demo")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    with PostgresAdapter(url) as db:
        db.init()
        loaded = load(db)
        assert loaded.created["memories"] > 1000
        q = np.random.default_rng(5).standard_normal(384).astype(np.float32)
        for _ in range(3):
            db.search_memories_by_embedding(q, table_name="messages", count=5)
    code = main(["doctor", url])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith(f"okai-insight doctor: {url.split('/')[3].split('?')[0]} (PostgreSQL 18")
    assert "critical: 0" in out and "not checked" not in out
    report = doctor(url)
    assert report.result("vector_queries").rows, "the adapter's searches were checked against the index"
    assert report.result("vector_columns").rows[0]["stored_dims"] == {"384": loaded.created["memories"]} or any(
        r["table"] == "memories" and r["declared_dims"] == 384 for r in report.result("vector_columns").rows
    )
