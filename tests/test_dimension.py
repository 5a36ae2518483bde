"""Explicit dimension requests (issue 19 item 2): a request that disagrees with the stored dimension is refused
naming both, on every adapter; impossible dimensions are refused up front with the limits; no request adopts the
stored dimension as before. Every refusal leaves the database as it was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

import okai_insight
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.adapters.sqlite import SqliteAdapter
from okai_insight.adapters.supabase import SupabaseDirectAdapter
from okai_insight.cli import main
from okai_insight.errors import DimensionMismatch, InvalidDimension, InvalidInput, SchemaDimensionMismatch, SchemaError
from okai_insight.schema.supabase import apply
from okai_insight.settings import Settings
from tests.supabase.replay import Replay, load, serve
from tests.supabase.supabase_auth import prepare_supabase_database

BAD = [0, -5, 20000, 2.5, True]


def _catalog(url: str) -> list[tuple[str, str]]:
    """Every relation and every embedding column's type: what a refused request must leave unchanged."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, coalesce(format_type(a.atttypid, a.atttypmod), '')
            FROM pg_class AS c
            JOIN pg_namespace AS n ON n.oid = c.relnamespace
            LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = 'embedding' AND NOT a.attisdropped
            WHERE n.nspname = 'public'
            ORDER BY 1
            """
        ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


@pytest.fixture(scope="module")
def wide_url(make_database: Callable[[str], str]) -> str:
    """A database created with 1536 dimensions."""
    url = make_database("dim1536")
    okai_insight.connect(url, dimension=1536).close()
    return url


# -- PostgreSQL ---------------------------------------------------------------------------------------------------
def test_connect_refuses_a_dimension_that_disagrees_and_changes_nothing(wide_url: str) -> None:
    before = _catalog(wide_url)
    with pytest.raises(SchemaDimensionMismatch) as info:
        okai_insight.connect(wide_url, dimension=768)
    assert "768" in str(info.value) and "1536" in str(info.value)
    assert (info.value.expected, info.value.got) == (1536, 768)
    assert isinstance(info.value, DimensionMismatch) and isinstance(info.value, InvalidInput)
    assert _catalog(wide_url) == before
    assert ("memories", "vector(1536)") in before


def test_the_adapter_itself_refuses_it_too(wide_url: str) -> None:
    db = PostgresAdapter(wide_url, dimension=384)
    with pytest.raises(SchemaDimensionMismatch, match=r"384 was requested.*1536"):
        db.init()
    db.close()


def test_no_request_adopts_the_stored_dimension_and_a_matching_one_is_fine(wide_url: str) -> None:
    with okai_insight.connect(wide_url) as db:
        assert db.embedding_dimension == 1536
    with okai_insight.connect(wide_url, dimension=1536) as db:
        assert db.embedding_dimension == 1536
    # Settings.embedding_dimension (OKAI_EMBEDDING_DIMENSION) is the default for new schemas, not a request
    with okai_insight.connect(wide_url, settings=Settings(embedding_dimension=768)) as db:
        assert db.embedding_dimension == 1536


@pytest.mark.parametrize("bad", BAD)
def test_impossible_dimensions_are_refused_before_anything_is_created(
    make_database: Callable[[str], str], bad: object
) -> None:
    url = make_database("dimbad")
    with pytest.raises(InvalidDimension, match="from 1 to 16000") as info:
        okai_insight.connect(url, dimension=bad)  # type: ignore[arg-type]
    assert isinstance(info.value, SchemaError)  # what vector_type_for raised before
    assert "HNSW" in str(info.value) and "2000" in str(info.value) and "4000" in str(info.value)
    assert _catalog(url) == []
    with pytest.raises(InvalidDimension):
        PostgresAdapter(url, dimension=bad)  # type: ignore[arg-type]


def test_a_bad_dimension_starts_no_embedded_server(tmp_path: Path) -> None:
    with pytest.raises(InvalidDimension):
        okai_insight.connect(settings=Settings(data_dir=str(tmp_path), database_url=None), dimension=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("dimension", "column", "indexed"),
    [(2000, "vector(2000)", True), (3072, "halfvec(3072)", True), (4001, "vector(4001)", False)],
)
def test_what_each_range_of_dimensions_gets(
    make_database: Callable[[str], str], dimension: int, column: str, indexed: bool
) -> None:
    url = make_database("dimrange")
    with okai_insight.connect(url, dimension=dimension) as db:
        assert db.embedding_dimension == dimension
    assert ("memories", column) in _catalog(url)
    with psycopg.connect(url) as conn:
        hnsw = conn.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'memories' AND indexdef LIKE '%USING hnsw%'"
        ).fetchone()
    assert (hnsw is not None and hnsw[0] > 0) == indexed


def test_an_elizaos_database_is_checked_as_well(make_database: Callable[[str], str]) -> None:
    url = make_database("dimeliza")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute('CREATE TABLE memories ("id" uuid PRIMARY KEY, "embedding" vector(768), "unique" boolean)')
    before = _catalog(url)
    with pytest.raises(SchemaDimensionMismatch, match=r"384 was requested.*768"):
        okai_insight.connect(url, dimension=384)
    assert _catalog(url) == before


# -- SQLite and memory:// -----------------------------------------------------------------------------------------
def _sqlite_state(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return (
            conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
            + conn.execute("SELECT key, value FROM okai_settings ORDER BY key").fetchall()
        )


def test_sqlite_refuses_a_dimension_that_disagrees(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    okai_insight.connect(f"sqlite:///{path}", dimension=8).close()
    before = _sqlite_state(path)
    with pytest.raises(SchemaDimensionMismatch, match=r"16 was requested.*8-dimension"):
        okai_insight.connect(f"sqlite:///{path}", dimension=16)
    with pytest.raises(SchemaDimensionMismatch):
        SqliteAdapter(f"sqlite:///{path}", dimension=16).init()
    assert _sqlite_state(path) == before
    with okai_insight.connect(f"sqlite:///{path}") as db:
        assert db.embedding_dimension == 8


@pytest.mark.parametrize("bad", [*BAD, 8193])
def test_sqlite_and_memory_refuse_impossible_dimensions_before_creating_a_file(tmp_path: Path, bad: object) -> None:
    path = tmp_path / "b.db"
    with pytest.raises(InvalidDimension, match="from 1 to 8192"):
        okai_insight.connect(f"sqlite:///{path}", dimension=bad)  # type: ignore[arg-type]
    assert not path.exists()
    with pytest.raises(InvalidDimension, match="from 1 to 8192"):
        okai_insight.connect("memory://", dimension=bad)  # type: ignore[arg-type]


def test_memory_refuses_a_dimension_that_disagrees() -> None:
    with okai_insight.connect("memory://dimcheck", dimension=4) as keeper:
        with pytest.raises(SchemaDimensionMismatch, match=r"5 was requested.*4-dimension"):
            okai_insight.connect("memory://dimcheck", dimension=5)
        with okai_insight.connect("memory://dimcheck") as same:
            assert same.embedding_dimension == keeper.embedding_dimension == 4


# -- Supabase -----------------------------------------------------------------------------------------------------
def test_supabase_direct_refuses_a_dimension_that_disagrees(make_database: Callable[[str], str]) -> None:
    url = make_database("dimsupa")
    prepare_supabase_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        apply(conn, dimension=8)
    before = _catalog(url)
    with pytest.raises(SchemaDimensionMismatch, match=r"16 was requested.*8-dimension"):
        SupabaseDirectAdapter(url, role="service_role", dimension=16).init()
    assert _catalog(url) == before
    with pytest.raises(InvalidDimension):
        SupabaseDirectAdapter(url, role="service_role", dimension=0)


def test_supabase_rest_refuses_a_dimension_that_disagrees() -> None:
    # only the settings read: the adapter must stop right after it
    replay = Replay(load("rest_session.json").exchanges[:1])
    server, base = serve(replay)
    key = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiJ9.YW5vbi1rZXk"
    try:
        with pytest.raises(SchemaDimensionMismatch, match=r"16 was requested.*8-dimension"):
            okai_insight.connect(f"supabase://{base.removeprefix('http://')}?scheme=http&key={key}", dimension=16)
        replay.verify()
        with pytest.raises(InvalidDimension):
            okai_insight.connect(f"supabase://{base.removeprefix('http://')}?scheme=http&key={key}", dimension=-1)
    finally:
        server.shutdown()
        server.server_close()


# -- the CLI ------------------------------------------------------------------------------------------------------
def test_cli_init_refuses_a_dimension_that_disagrees(wide_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _catalog(wide_url)
    assert main(["init", wide_url, "--dimension", "768"]) == 2
    err = capsys.readouterr().err
    assert "SchemaDimensionMismatch" in err and "768" in err and "1536" in err
    assert _catalog(wide_url) == before
    assert main(["init", wide_url, "--dimension", "1536"]) == 0
    assert "embedding dimension 1536" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["0", "-5", "20000"])
def test_cli_init_refuses_impossible_dimensions(
    make_database: Callable[[str], str], capsys: pytest.CaptureFixture[str], bad: str
) -> None:
    url = make_database("dimcli")
    assert main(["init", url, f"--dimension={bad}"]) == 2
    err = capsys.readouterr().err
    assert "InvalidDimension" in err and "from 1 to 16000" in err and "halfvec" in err
    assert _catalog(url) == []
