"""``%load_ext okai_insight`` in a real IPython shell: jupysql on the same database, ``%okai`` and
``%%okai_explain``, and every diagnostics query file run under jupysql."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from okai_insight.diagnostics import DoctorReport, Result
from okai_insight.diagnostics.explain import ExplainResult
from okai_insight.query_files import all_queries, defaults, jupysql_text, queries_dir

from .test_sql_library import DIAGNOSTIC_CONCERNS


@pytest.fixture
def ip(planted, monkeypatch):
    monkeypatch.setenv("PLOOMBER_STATS_ENABLED", "false")
    monkeypatch.setenv("OKAI_DATABASE_URL", planted.url)
    shell = InteractiveShell.instance()
    if "okai_insight" in shell.extension_manager.loaded:  # one shell per process: register afresh
        import okai_insight

        okai_insight.load_ipython_extension(shell)
    else:
        shell.run_line_magic("load_ext", "okai_insight")
    yield shell
    from sql.connection import ConnectionManager

    ConnectionManager.close_all()


def test_load_ext_hands_the_database_to_jupysql(ip, planted):
    with psycopg.connect(planted.url) as conn:
        expected = conn.execute("SELECT count(*) FROM memories").fetchone()[0]
        database = conn.execute("SELECT current_database()").fetchone()[0]
    result = ip.run_line_magic("sql", "SELECT count(*) AS n, current_database() AS db FROM memories")
    assert list(result.dict().items()) == [("n", (expected,)), ("db", (database,))]
    cell = ip.run_cell_magic("sql", "", "SELECT count(*) AS n FROM planted_dead")
    assert cell.dict()["n"] == (5000,)


def test_okai_doctor_and_single_diagnostics(ip, planted):
    report = ip.run_line_magic("okai", "doctor --check invalid_indexes --check duplicate_indexes")
    assert isinstance(report, DoctorReport) and report.database == planted.url.split("/")[3].split("?")[0]
    assert report.counts() == {"critical": 1, "warning": 1, "info": 0}
    html = report._repr_html_()
    assert "<b style='color:#b00020'>critical</b>" in html and "planted_invalid" in html
    dup = ip.run_line_magic("okai", "duplicate_indexes")
    assert isinstance(dup, Result) and dup.findings[0].subject == "public.planted_dup_type"
    assert "<table" in dup._repr_html_() and "</table>" in dup._repr_html_()
    with pytest.raises(UsageError, match="unknown %okai command 'nope'"):
        ip.run_line_magic("okai", "nope")


def test_okai_explain_line_and_cell(ip):
    ip.user_ns["params"] = {"t": "messages"}
    plan = ip.run_line_magic("okai", "explain --analyze SELECT id FROM memories WHERE type = 'messages' LIMIT 3")
    assert isinstance(plan, ExplainResult) and plan.analyze and plan.root.node_type == "Limit"
    assert plan.query == "SELECT id FROM memories WHERE type = 'messages' LIMIT 3"
    cell = ip.run_cell_magic(
        "okai_explain",
        "--analyze --params params",
        "SELECT count(*) FROM planted_child WHERE parent_id = 5 AND note = %(t)s",
    )
    assert isinstance(cell, ExplainResult) and cell.execution_ms is not None
    filt = [f for f in cell.findings if f.threshold.startswith("rows removed by filter")]
    assert filt and filt[0].severity == "warning"  # 12k rows read to keep none: highlighted
    assert "background:#fff4e0" in cell._repr_html_()
    diff = ip.run_cell_magic("okai_explain", "--compare enable_seqscan=off", "SELECT * FROM memories LIMIT 1")
    assert next(r for r in diff.rows if r["metric"] == "settings")["after"] == "enable_seqscan=off"
    with pytest.raises(UsageError, match="writes to the database"):
        ip.run_line_magic("okai", "explain --analyze DELETE FROM memories")
    with pytest.raises(UsageError, match="no such variable"):
        ip.run_cell_magic("okai_explain", "--params nothing_here", "SELECT 1")


def test_okai_explain_takes_the_sql_as_typed(ip):
    """The statement after ``%okai explain`` is SQL, not shell words: E'\'' was an unbalanced shell quote
    (ValueError with a traceback), and smuggled statements are a typed refusal."""
    plan = ip.run_line_magic("okai", "explain SELECT E'\\'' AS quote")
    assert isinstance(plan, ExplainResult) and plan.query == "SELECT E'\\'' AS quote"
    with pytest.raises(UsageError, match="StatementRefused: EXPLAIN takes one statement at a time; this text holds 3"):
        ip.run_line_magic("okai", "explain SELECT E'\\''; COMMIT; DELETE FROM memories; --'")
    with pytest.raises(UsageError, match="cannot split the line"):
        ip.run_line_magic("okai", "doctor --check 'unbalanced")


def test_every_diagnostics_query_runs_under_jupysql(ip, tmp_path, healthy):
    """Files without parameters run as they are (``%sql --file``); files with parameters run with the defaults
    their header documents (``-- Defaults:``) substituted, which is the supported way (jupysql does not bind
    psycopg's ``%(name)s``). On the healthy database: jupysql's session has no lock_timeout, and the planted
    one holds a table locked."""
    ip.run_line_magic("okai", f"connect {healthy}")
    ip.run_line_magic("sql", "SET lock_timeout = '2s'")
    ran = []
    for concern, name in all_queries():
        if concern not in DIAGNOSTIC_CONCERNS:
            continue
        path = queries_dir() / concern / f"{name}.sql"
        text = path.read_text()
        body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
        if "%(" in body or re.search(r"\{[a-z_]+\}", body):
            if not defaults(concern, name):
                continue  # a template its module composes (queries/README.md): not run by hand
            path = tmp_path / f"{concern}_{name}.sql"
            path.write_text(jupysql_text(concern, name))
        result = ip.run_line_magic("sql", f"--file {path}")
        assert result is not None and result.keys, (concern, name)
        ran.append(name)
    assert len(ran) >= 30 and "relation_rows" in ran and "vector_column_stats" in ran


def test_okai_sql_runs_a_library_file_with_values(ip):
    result = ip.run_line_magic("okai", "sql indexes/unused_indexes min_size_bytes=0")
    assert "planted_unused_pad" in result.dict()["index"]
    with pytest.raises(UsageError, match="takes no parameter"):
        ip.run_line_magic("okai", "sql indexes/unused_indexes nope=1")


def test_okai_connect_switches_jupysql_too(ip, healthy):
    ip.run_line_magic("okai", f"connect {healthy}")
    db = ip.run_line_magic("sql", "SELECT current_database() AS db").dict()["db"][0]
    assert healthy.split("/")[3].startswith(db)
    assert Path(queries_dir()).is_dir()
