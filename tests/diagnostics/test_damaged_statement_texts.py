"""A damaged byte in pg_stat_statements' query-text file makes PostgreSQL refuse every read of the view with texts
(SQLSTATE 22021; seen on a Citus worker during this project's parallel tests). The statements checks then say what
is wrong and how to clear it, as unavailable checks, instead of blaming the caller's input; the other checks run.

A server of its own: the text file is shared by every database of a server.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from okai_insight.cli import main
from okai_insight.diagnostics.statements import query_stats, slow_queries, statements_info
from okai_insight.embedded import EmbeddedServer


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("pgss")
    server = EmbeddedServer(root / "pgdata")
    url = server.start()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
        for i in range(3):
            conn.execute("SELECT %s::int + 1", (i,))
        texts = Path(root / "pgdata" / "pg_stat_tmp" / "pgss_query_texts.stat")
        data = bytearray(texts.read_bytes())
        data[2] = 0  # inside the first stored text
        texts.write_bytes(bytes(data))
        with pytest.raises(psycopg.errors.CharacterNotInRepertoire):
            conn.execute("SELECT query FROM pg_stat_statements").fetchall()
    yield url
    server.stop(mode="immediate")


@pytest.mark.parametrize("check", [statements_info, slow_queries, query_stats])
def test_the_statements_checks_name_the_damaged_file_and_the_fix(damaged, check):
    result = check(damaged)
    assert result.status == "unavailable" and not result.rows
    (finding,) = result.findings
    assert "query-text file holds a damaged text" in finding.message and "0x00" in finding.message
    assert finding.fix_sql is not None and "pg_stat_statements_reset()" in finding.fix_sql


def test_doctor_reports_them_unavailable_and_runs_the_rest(damaged, capsys):
    code = main(["doctor", damaged])
    out = capsys.readouterr().out
    assert code in (0, 1)  # findings or none; not a crash (2) nor a lost connection (3)
    assert "query-text file holds a damaged text" in out and "InvalidInput" not in out
    assert "statements_info (unavailable)" in out and "slow_queries (unavailable)" in out


def test_a_reset_clears_it(damaged):
    with psycopg.connect(damaged, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    assert statements_info(damaged).rows
