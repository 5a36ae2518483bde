"""The SQL library: every file is used by a diagnostic, has its header, and is packaged into the wheel."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from okai_insight.query_files import all_queries, load_sql, queries_dir

ROOT = Path(__file__).resolve().parents[2]


DIAGNOSTIC_CONCERNS = {
    "activity",
    "connections",
    "explain",
    "statements",
    "indexes",
    "space",
    "maintenance",
    "replication",
    "settings",
    "vectors",
}


def test_every_query_is_used():
    """Every diagnostics query file is run by a diagnostic (other concerns test their own files)."""
    source = "\n".join(p.read_text() for p in (ROOT / "okai_insight").rglob("*.py"))
    used = set(re.findall(r'query\(\s*"(\w+)",\s*"(\w+)"', source))
    assert {q for q in all_queries() if q[0] in DIAGNOSTIC_CONCERNS} == {q for q in used if q[0] in DIAGNOSTIC_CONCERNS}


def test_headers_and_style():
    for concern, name in all_queries():
        if concern not in DIAGNOSTIC_CONCERNS:
            continue
        text = load_sql(concern, name)
        assert text.startswith(f"-- {name}:"), (concern, name)
        assert "-- Parameters:" in text or "-- Placeholders:" in text, (concern, name)
        for line in text.splitlines():
            if line.lstrip().startswith("--"):
                assert "%" not in line, (name, line)  # psycopg would read it as a placeholder
        assert "SELECT" in text and "select " not in text


def test_queries_ship_in_the_wheel():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert conf["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]["queries"] == "okai_insight/queries"
    assert queries_dir() == ROOT / "queries"
