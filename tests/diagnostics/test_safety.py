"""Safety and reach: doctor changes nothing, works for pg_monitor + SELECT, degrades one check at a time."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.diagnostics import Runner, doctor, indexes
from okai_insight.diagnostics._runner import CheckUnavailable
from okai_insight.errors import InvalidInput
from okai_insight.settings import Settings


def _fingerprint(url: str) -> dict:
    """Every user table's rows (hashed), every relation and index definition, and the extensions."""
    out: dict = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables "
            "WHERE relname <> 'planted_parent' ORDER BY 1"
        ).fetchall()
        for (t,) in tables:
            out[t] = conn.execute(
                sql.SQL("SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {} AS x").format(
                    sql.SQL(t)
                )
            ).fetchone()[0]
        out["relations"] = conn.execute(
            "SELECT array_agg(relname || ':' || relkind::text ORDER BY relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
        ).fetchone()[0]
        out["indexes"] = conn.execute(
            "SELECT array_agg(indexdef ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public' AND tablename <> 'planted_parent'"
        ).fetchone()[0]
        out["extensions"] = conn.execute("SELECT array_agg(extname ORDER BY extname) FROM pg_extension").fetchone()[0]
    return out


def test_doctor_changes_nothing(planted, healthy):
    for url in (planted.url, healthy):
        before = _fingerprint(url)
        report = doctor(url)
        assert all(r.status != "error" for r in report.results), [r.note for r in report.results if r.status == "error"]
        assert _fingerprint(url) == before


def test_runner_refuses_writes_and_rolls_back(healthy):
    with Runner(healthy) as run:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            run.execute(sql.SQL("CREATE TABLE should_not_exist (id int)"))
        assert run.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert run.execute(sql.SQL("SELECT current_setting('transaction_read_only') AS ro")).rows == [{"ro": "on"}]
        # timeouts are SET LOCAL: they do not leak into the session
        assert run.execute(sql.SQL("SHOW statement_timeout")).rows[0]["statement_timeout"] == "5s"
        assert run.connection.execute("SHOW statement_timeout").fetchone()[0] == "0"
    with psycopg.connect(healthy) as conn:
        assert conn.execute("SELECT to_regclass('should_not_exist')").fetchone()[0] is None


def test_statement_timeout_degrades_one_check(healthy):
    with Runner(healthy, settings=Settings(statement_timeout_ms=50)) as run:
        with pytest.raises(CheckUnavailable, match="statement_timeout 50 ms"):
            run.execute(sql.SQL("SELECT pg_sleep(1)"))
        assert run.execute(sql.SQL("SELECT 1 AS one")).rows == [{"one": 1}]  # the session goes on


def test_targets_connection_adapter_and_errors(healthy):
    with psycopg.connect(healthy) as conn:  # not autocommit: left as it was found
        assert indexes.invalid_indexes(conn).status == "ok"
        assert conn.autocommit is False and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        conn.execute("SELECT 1")  # now inside a transaction
        with pytest.raises(InvalidInput, match="inside a transaction"):
            indexes.invalid_indexes(conn)
    with PostgresAdapter(healthy) as db:
        db.init()
        from okai_insight.diagnostics import connections

        pool = connections.pool_stats(db)
        assert pool.status == "ok" and pool.rows[0]["pool_max"] == 20
        assert indexes.duplicate_indexes(db).status == "ok"
    with pytest.raises(InvalidInput, match="URL, a psycopg connection or an adapter"):
        indexes.invalid_indexes(42)


def test_features_are_cached_per_runner(healthy):
    with Runner(healthy) as run:
        first = run.features
        assert run.features is first
        assert first.has_extension("vector") and first.has_extension("pg_stat_statements")
        assert first.server_version_num >= 130000


def test_pg_monitor_role_with_select_only(planted, admin_url):
    role = f"okai_monitor_{uuid.uuid4().hex[:8]}"
    dbname = planted.url.split("/")[3].split("?")[0]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT pg_monitor TO {}").format(sql.Identifier(role)))
    with psycopg.connect(planted.url, autocommit=True) as conn:
        # every table but planted_parent, which the planted blocker holds ACCESS EXCLUSIVE (GRANT would wait)
        tables = conn.execute(
            "SELECT quote_ident(relname) FROM pg_stat_user_tables WHERE relname <> 'planted_parent'"
        ).fetchall()
        for (t,) in tables:
            conn.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(sql.SQL(t), sql.Identifier(role)))
    url = planted.url.replace("postgres:@", f"{role}@", 1)
    try:
        report = doctor(url)
        assert {r.name: r.status for r in report.results if r.status != "ok"} == {}
        assert report.result("vector_queries").findings[0].severity == "critical"
        assert report.result("invalid_indexes").findings
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0] is False
    finally:
        with psycopg.connect(planted.url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert dbname.startswith("planted_")


def test_bare_database_degrades_checks_not_the_report(bare):
    report = doctor(bare)
    status = {r.name: r.status for r in report.results}
    assert status["slow_queries"] == "unavailable" and status["vector_columns"] == "unavailable"
    assert status["invalid_indexes"] == "ok" and "error" not in status.values()
    assert report.exit_code == 0
    assert "not checked: " in report.to_text()


def test_report_renderings(planted):
    report = doctor(planted.url, checks=["invalid_indexes", "duplicate_indexes"])
    assert [r.name for r in report.results] == ["invalid_indexes", "duplicate_indexes"]
    assert report.exit_code == 1 and report.counts() == {"critical": 1, "warning": 1, "info": 0}
    d = report.to_dict()
    assert d["findings"][0]["severity"] == "critical" and d["findings"][0]["check"] == "invalid_indexes"
    assert "<li><b style='color:#b00020'>critical</b>" in report._repr_html_()
    r = report.result("duplicate_indexes")
    assert list(r.to_pandas().columns) == list(r.columns)
    assert r.to_polars().shape == (1, len(r.columns))
    assert "[warning] index public.planted_dup_type" in r.to_text()
    with pytest.raises(InvalidInput, match="unknown check"):
        doctor(planted.url, checks=["nope"])
