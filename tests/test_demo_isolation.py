"""The demo and the report never write to a user's database (issue 15 item 6).

A throwaway embedded server of this module's own stands in for the user's: its default database ``okai`` holds
rows of the test's own (an okai schema with memories, and a table okai-insight knows nothing about). ``demo``,
``report`` with no URL, ``report URL`` and ``doctor URL`` then run through the CLI, and the database must be
byte-for-byte what it was: the same ``pg_dump --schema-only`` and the same checksum of every table's rows. The demo
lands in its own database, ``okai_demo``, on the same server.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from psycopg import sql

import okai_insight
from okai_insight import cli
from okai_insight.demo import DEMO_DATABASE, demo_counts
from okai_insight.embedded import EmbeddedServer, bin_dir
from okai_insight.models import Account, Memory


@pytest.fixture(scope="module")
def user_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """An embedded server in a data directory of this module's own; yields (OKAI_DATA_DIR, its ``okai`` URL)."""
    root = tmp_path_factory.mktemp("user-okai-data")
    server = EmbeddedServer(root / "pgdata")
    url = server.start()
    try:
        yield root, url
    finally:
        server.stop(mode="immediate")


@pytest.fixture(scope="module")
def user_url(user_server: tuple[Path, str]) -> str:
    """The server's default database with the user's own rows in it."""
    _root, url = user_server
    with okai_insight.connect(url) as db:
        agent = uuid.uuid4()
        db.create_account(Account(id=agent, name="Mine", username="mine", email="mine@example.org"))
        room = db.create_room()
        rng = np.random.default_rng(7)
        db.create_memories(
            [
                Memory(
                    user_id=agent,
                    agent_id=agent,
                    room_id=room,
                    content={"text": f"my note {i}"},
                    embedding=rng.standard_normal(384).astype(np.float32),
                )
                for i in range(40)
            ],
            "messages",
        )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE my_own (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO my_own SELECT g, 'row ' || g FROM generate_series(1, 25) g")
    return url


def _fingerprint(url: str) -> tuple[str, dict[str, tuple[int, str]]]:
    """The schema as pg_dump prints it, and (row count, md5 of the sorted rows) of every table."""
    dump = subprocess.run(
        [str(bin_dir() / "pg_dump"), "--schema-only", "--no-owner", "-d", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # pg_dump 18 brackets its output with a random \restrict key: not part of the schema
    schema = "\n".join(line for line in dump.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))
    rows: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2"
        ).fetchall()
        for schema_name, table in tables:
            count, digest = conn.execute(
                sql.SQL("SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t")
                .format(sql.Identifier(schema_name, table))
            ).fetchone() or (0, "")  # fmt: skip
            rows[f"{schema_name}.{table}"] = (count, digest)
    return schema, rows


def test_demo_and_report_leave_the_users_database_unchanged(
    user_server: tuple[Path, str],
    user_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, _ = user_server
    monkeypatch.setenv("OKAI_DATA_DIR", str(root))  # "no URL" means this server, as it would for the user
    monkeypatch.delenv("OKAI_DATABASE_URL", raising=False)
    assert okai_insight.resolve_url(None) == user_url, "the user's default database is the one under test"
    before = _fingerprint(user_url)
    assert before[1]["public.memories"][0] == 40 and before[1]["public.my_own"][0] == 25

    assert cli.main(["demo", "--no-progress"]) == 0
    assert _fingerprint(user_url) == before, "demo wrote to the user's database"
    assert f"database {DEMO_DATABASE}" in capsys.readouterr().out

    report = tmp_path / "report.html"
    assert cli.main(["report", "-o", str(report), "--sample", "100", "--queries", "2"]) == 0
    assert "Health summary" in report.read_text()
    assert _fingerprint(user_url) == before, "report without a URL wrote to the user's database"

    mine = tmp_path / "mine.html"
    assert cli.main(["report", user_url, "-o", str(mine), "--sample", "20", "--queries", "2"]) == 0
    assert cli.main(["doctor", user_url]) in (0, 1)
    assert _fingerprint(user_url) == before, "report URL or doctor URL wrote to the user's database"

    # The demo lives in its own database on the same server, whole.
    demo = user_url.replace("/okai?", f"/{DEMO_DATABASE}?")
    with okai_insight.connect(demo) as db:
        assert demo_counts(db)["memories:messages"] > 1000
