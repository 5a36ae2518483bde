"""Health checks with Nagios exit codes, and the metrics snapshot in Prometheus text format."""

from __future__ import annotations

import re

import psycopg
import pytest

import okai_insight
from okai_insight.errors import InvalidInput
from okai_insight.ops.monitoring import health, metrics, to_prometheus

_SAMPLE = re.compile(r'^okai_[a-z0-9_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+$')


def test_a_healthy_database_is_ok(filled):
    report = health(filled.url)
    assert report.status == "ok" and report.exit_code == 0 and report.healthy
    by_name = {c.name: c for c in report.checks}
    assert list(by_name) == ["reachable", "extension", "schema", "replication"]
    assert by_name["extension"].detail.startswith("vector 0.8")
    assert "schema version 2" in by_name["schema"].detail
    assert by_name["replication"].detail == "primary, no standbys"


def test_an_unreachable_database_is_critical():
    report = health("postgresql://nobody@/none?host=/nonexistent-okai")
    assert report.status == "critical" and report.exit_code == 2 and not report.healthy
    assert [c.name for c in report.checks] == ["reachable"]


def test_missing_extension_and_schema_are_critical_and_an_old_schema_warns(make_database, filled):
    empty = health(make_database("empty"))
    statuses = {c.name: c.status for c in empty.checks}
    assert statuses == {"reachable": "ok", "extension": "critical", "schema": "critical", "replication": "ok"}
    with psycopg.connect(filled.url, autocommit=True) as conn:
        conn.execute("UPDATE okai_schema_version SET version = -2 WHERE version = 2")
        try:
            old = health(filled.url)
            assert old.status == "warning" and old.exit_code == 1
            assert "latest is 2" in next(c.detail for c in old.checks if c.name == "schema")
        finally:
            conn.execute("UPDATE okai_schema_version SET version = 2 WHERE version = -2")
    assert health(filled.url).status == "ok"
    with pytest.raises(InvalidInput):
        health(filled.url, max_lag_ms=0)


def test_metrics_snapshot_and_prometheus_text(filled):
    db = okai_insight.connect(filled.url, pool_max_size=4)
    try:
        snap = metrics(db, probe_searches=3)
        assert snap.get("okai_pool_max") == 4.0
        assert 0.0 <= snap.get("okai_pool_utilisation_ratio") <= 1.0
        assert snap.get("okai_database_size_bytes") > 1_000_000
        assert snap.get("okai_vector_search_latency_ms", quantile="0.5") > 0
        assert snap.get("okai_setting_shared_buffers_bytes") >= 8 * 1024**2
        assert snap.get("okai_process_resident_memory_bytes") > 0
        assert snap.get("okai_statements_calls_total") is None  # the extension is not created: degrades to absent
        with psycopg.connect(filled.url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")  # preloaded on the embedded server
        snap = metrics(db, probe_searches=3)
        assert snap.get("okai_statements_calls_total") > 0
        text = to_prometheus(snap)
        samples = [line for line in text.splitlines() if not line.startswith("#")]
        assert samples and all(_SAMPLE.match(line) for line in samples), samples
        assert text.count("# TYPE okai_vector_search_latency_ms gauge") == 1
        assert 'okai_vector_search_latency_ms{quantile="0.95"}' in text
        with pytest.raises(InvalidInput):
            metrics(db, probe_searches=-1)
    finally:
        db.close()
