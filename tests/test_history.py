"""History (issue 15 item 5): two snapshots with writes between them show the delta; the user's database is
unchanged by a snapshot (schema and row checksums); the store holds no password and lives outside the database
unless a schema is asked for."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from okai_insight.cli import main
from okai_insight.history import history, snapshot

PASSWORD = "s3cret-history-pw"


@pytest.fixture(scope="module")
def db(make_database: Callable[[str], str]) -> tuple[str, str]:
    """A database with a table, an HNSW index and a role with a password: (superuser URL, password URL)."""
    url = make_database("hist")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body text, v vector(3))")
        conn.execute("CREATE INDEX notes_v ON notes USING hnsw (v vector_cosine_ops)")
        conn.execute("INSERT INTO notes (body, v) SELECT 'n' || g, '[1,2,3]' FROM generate_series(1, 50) g")
        conn.execute("DROP ROLE IF EXISTS hist_user")
        conn.execute(f"CREATE ROLE hist_user LOGIN SUPERUSER PASSWORD '{PASSWORD}'")
    with_password = url.replace("postgresql://postgres:@", f"postgresql://hist_user:{PASSWORD}@")
    return url, with_password


def _fingerprint(url: str) -> str:
    """The schema (every column of every user table and index definitions) and a checksum of every row."""
    with psycopg.connect(url, autocommit=True) as conn:
        parts = conn.execute(
            "SELECT table_schema, table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2, 3"
        ).fetchall()
        parts += conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1").fetchall()
        parts += conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall()
        parts += conn.execute("SELECT md5(string_agg(n::text, ',' ORDER BY id)) FROM notes AS n").fetchall()
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def test_two_snapshots_show_the_delta_and_leave_the_database_unchanged(db: tuple[str, str], tmp_path: Path) -> None:
    url, _ = db
    before = _fingerprint(url)
    first = snapshot(url, store_dir=tmp_path)
    assert _fingerprint(url) == before, "a snapshot changed the user's database"
    assert first.relations >= 3 and first.vector_indexes == 1
    assert history(url, store_dir=tmp_path).since_last() == [], "one snapshot: nothing to compare yet"

    with psycopg.connect(url, autocommit=True) as conn:  # the application's work between the two snapshots
        conn.execute("INSERT INTO notes (body, v) SELECT 'more ' || g, '[3,2,1]' FROM generate_series(1, 5000) g")
        for _ in range(7):
            conn.execute("SET enable_seqscan = off")
            conn.execute("SELECT id FROM notes ORDER BY v <=> '[1,1,1]' LIMIT 3").fetchall()
    snapshot(url, store_dir=tmp_path)

    h = history(url, store_dir=tmp_path)
    assert len(h.snapshots) == 2
    changes = h.since_last()
    grown = {r["name"]: r["bytes"] for r in changes if r["kind"] == "table"}
    assert grown.get("public.notes", 0) > 0, changes
    searches = [r for r in changes if r["kind"] == "statement" and "<=>" in r["name"]]
    assert len(searches) == 1 and searches[0]["calls"] == 7, searches
    assert not [r for r in changes if "okai-insight" in str(r["name"])], "okai-insight's own statements left out"
    scanned = {r["name"]: r["scans"] for r in changes if r["kind"] == "vector index"}
    assert scanned == {"public.notes_v": 7}
    space = h.space()
    assert space[-1]["growth_bytes"] == space[-1]["tables_bytes"] - space[0]["tables_bytes"] > 0
    assert h.plot().get_ylabel() == "MB" and h.plot_statements().get_title() == "Top statements over time"
    assert "Since the last snapshot" in h.to_text()


def test_the_store_is_keyed_by_a_hash_and_holds_no_password(db: tuple[str, str], tmp_path: Path) -> None:
    _, with_password = db
    s = snapshot(with_password, store_dir=tmp_path)
    files = list(tmp_path.iterdir())
    assert [f.name for f in files] == [f"{s.key}.sqlite3"] and len(s.key) == 16
    raw = files[0].read_bytes()
    # the fixture's CREATE ROLE ... PASSWORD '...' is in pg_stat_statements verbatim: stored masked
    assert PASSWORD.encode() not in raw and b"postgresql://" not in raw
    with sqlite3.connect(files[0]) as conn:
        dump = "\n".join(conn.iterdump())
    assert PASSWORD not in dump and "postgresql://" not in dump


def test_cli_snapshot_and_history(db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, with_password = db
    assert main(["snapshot", with_password, "--store-dir", str(tmp_path)]) == 0
    assert main(["snapshot", with_password, "--store-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "snapshot 2 of" in out and PASSWORD not in out
    assert main(["history", url, "--store-dir", str(tmp_path), "--format", "json"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    assert main(["history", url, "--store-dir", str(tmp_path)]) == 0
    assert "2 snapshots" in capsys.readouterr().out


def test_into_schema_only_on_request(db: tuple[str, str], tmp_path: Path) -> None:
    url, _ = db
    s = snapshot(url, store_dir=tmp_path, into_schema="okai_history")
    assert not list(tmp_path.iterdir()), "nothing written locally when a schema is asked for"
    with psycopg.connect(url) as conn:
        n = conn.execute("SELECT count(*) FROM okai_history.snapshots WHERE id = %s", (s.id,)).fetchone()
    assert n == (1,)
    assert len(history(url, into_schema="okai_history").snapshots) >= 1


def test_report_history_section_without_snapshots_says_how_to_take_one(db: tuple[str, str], tmp_path: Path) -> None:
    from okai_insight.report import history_section

    url, _ = db
    store = tmp_path / "history"
    section = history_section(url, store_dir=store)
    assert section.status == "ok" and section.text == "no snapshots yet: run okai-insight snapshot"
    assert "okai-insight snapshot" in section.html
    assert not store.exists(), "reading history creates no store"
    assert history(url, store_dir=store).snapshots == [] and not store.exists()


def test_report_history_section_shows_trends_with_plots(db: tuple[str, str], tmp_path: Path) -> None:
    from okai_insight.report import history_section

    url, _ = db
    snapshot(url, store_dir=tmp_path)
    one = history_section(url, store_dir=tmp_path)
    assert one.status == "ok" and "One snapshot so far" in one.html and "<img" in one.html
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO notes (body, v) SELECT 'trend ' || g, '[1,0,1]' FROM generate_series(1, 3000) g")
        for _ in range(4):
            conn.execute("SELECT count(*) FROM notes WHERE body LIKE 'trend%'").fetchall()
    snapshot(url, store_dir=tmp_path)
    section = history_section(url, store_dir=tmp_path)
    assert section.status == "ok", section.text
    html = section.html
    assert html.count("<img") == 1 and "space and top statements" in html  # one figure, two plots
    assert "Since the last snapshot" in html and "Tables that grew most" in html and "public.notes" in html
    assert "LIKE" in html  # the statement that ran between the snapshots, with its calls
    h = history(url, store_dir=tmp_path)
    s = h.summary()
    assert s["snapshots"] == 2 and s["growth_since_last_bytes"] > 0
    assert s["growth_since_first_bytes"] == s["tables_bytes"] - h.space()[0]["tables_bytes"]
    top = h.growth_by_table()
    assert top[0]["table"] == "public.notes" and top[0]["growth_bytes"] == top[0]["last_bytes"] - top[0]["first_bytes"]


def test_the_report_notebook_has_the_history_section() -> None:
    notebook = json.loads((Path(__file__).parents[1] / "notebooks" / "report.ipynb").read_text())
    sources = ["".join(c["source"]) for c in notebook["cells"]]
    assert any("rep.history_section(target.url)" in s for s in sources)
    assert any(s.startswith("## History") for s in sources)
