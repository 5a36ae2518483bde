"""Advice verified before it is printed (issue 15 item 3) and PgHero's unused_indexes mode (item 5).

Planted databases of their own: a small table with a small, rarely scanned index (PgHero lists it; the doctor's
default floor does not), and the spec's own diagnostic query (a distance threshold with LIMIT and no ORDER BY),
whose suggested correction must be one EXPLAIN shows on the HNSW index.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from okai_insight.cli import build_parser, main
from okai_insight.diagnostics import indexes


@pytest.fixture(scope="module")
def small(make_database: Callable[[str], str]) -> str:
    """A 500-row table: a non-unique index scanned 3 times, a unique one never scanned, both far below 10 MB."""
    url = make_database("advice_small")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (id int PRIMARY KEY, code text, kind int)")
        conn.execute("INSERT INTO notes SELECT g, 'c' || g, g % 7 FROM generate_series(1, 500) AS g")
        conn.execute("CREATE INDEX notes_kind ON notes (kind)")
        conn.execute("CREATE UNIQUE INDEX notes_code ON notes (code)")
        conn.execute("ANALYZE notes")
        conn.execute("SET enable_seqscan = off")
        for _ in range(3):
            conn.execute("SELECT count(*) FROM notes WHERE kind = 3").fetchone()
        conn.execute("SELECT pg_stat_force_next_flush()")
    return url


def _scans(url: str, index: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", (index,)).fetchone()
    assert row is not None
    return int(row[0])


def test_pghero_mode_lists_small_rarely_used_indexes(small: str) -> None:
    assert _scans(small, "notes_kind") == 3
    default = indexes.unused_indexes(small)
    assert default.rows == [] and default.findings == []  # the doctor's floor: 10 MB, never scanned
    pghero = indexes.unused_indexes(small, **indexes.PGHERO_UNUSED)
    listed = {r["index"] for r in pghero.rows}
    assert listed == {"notes_kind"}  # non-unique, <= 50 scans, any size; the unique and primary keys are not
    (finding,) = pghero.findings
    assert finding.subject == "public.notes_kind" and "scanned 3 times" in finding.message
    assert finding.fix_sql.startswith("DROP INDEX CONCURRENTLY public.notes_kind;")


def _command(name: str) -> str:
    """The command's current spelling (issue 16 moves the CLI to dashes)."""
    try:
        build_parser().parse_args([name.replace("_", "-"), "--help"])
    except SystemExit as exc:
        return name.replace("_", "-") if exc.code == 0 else name
    return name


def test_pghero_mode_from_the_cli(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    command = _command("unused_indexes")
    capsys.readouterr()
    assert main([command, small, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == []
    assert main([command, small, "--min-size-bytes", "0", "--max-scans", "50", "--format", "json"]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["rows"]
    assert [r["index"] for r in rows] == ["notes_kind"]
