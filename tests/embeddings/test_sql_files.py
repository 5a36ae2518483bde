"""queries/embeddings: every file is used by the embedding code, has its header, and keeps % out of comments."""

from __future__ import annotations

import re
from pathlib import Path

from okai_insight.query_files import all_queries, load_sql

ROOT = Path(__file__).resolve().parents[2]


def test_every_embeddings_query_is_used():
    source = "\n".join(p.read_text() for p in (ROOT / "okai_insight").rglob("*.py"))
    used = set(re.findall(r'query\(\s*"embeddings",\s*"(\w+)"', source))
    used |= set(re.findall(r'load_sql\(\s*"embeddings",\s*"(\w+)"', source))
    used |= set(re.findall(r'source_rows\(\s*run,\s*\w+,\s*"(\w+)"', source))  # PostgreSQL, or a store's answer
    files = {name for concern, name in all_queries() if concern == "embeddings"}
    assert files and files == used


def test_headers_and_style():
    for concern, name in all_queries():
        if concern != "embeddings":
            continue
        text = load_sql(concern, name)
        assert text.startswith(f"-- {name}:"), name
        assert "-- Parameters:" in text, name
        for line in text.splitlines():
            if line.lstrip().startswith("--"):
                assert "%" not in line, (name, line)  # psycopg would read it as a placeholder
        assert "SELECT" in text and "select " not in text
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
        assert ";" not in body, name  # one statement a file
