"""Fixtures of the reliability suite: a server of its own, because these tests stop and restart it.

The session's server (tests/conftest.py) is shared by every other test module and must never go down, so each
reliability module gets a dedicated embedded PostgreSQL in its own temporary directory.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from psycopg import sql

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.embedded import EmbeddedServer
from okai_insight.models import Account, Memory
from okai_insight.settings import Settings

#: Small on purpose: the suite is about behaviour under faults, not scale.
DIM = 8


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A dedicated embedded server for this module; tests may stop and start it."""
    server = EmbeddedServer(tmp_path_factory.mktemp("reliability") / "pgdata")
    server.start()
    yield server
    server.stop(mode="immediate")


@pytest.fixture
def own_db_url(own_server: EmbeddedServer) -> str:
    """A fresh database on the dedicated server (the server is started if a previous test left it down)."""
    url = own_server.start()
    name = f"rel_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.replace(f"/{own_server.database}?", f"/{name}?")


def make_adapter(url: str, **settings: object) -> PostgresAdapter:
    """An initialised adapter of dimension ``DIM`` with the given settings."""
    db = PostgresAdapter(url, settings=Settings(embedding_dimension=DIM, **settings))  # type: ignore[arg-type]
    db.init()
    return db


def seed_room(db: PostgresAdapter) -> tuple[uuid.UUID, uuid.UUID]:
    """An agent account and a room for memories; returns (agent_id, room_id)."""
    agent = uuid.uuid4()
    db.create_account(Account(id=agent, name="agent", email=f"{agent}@reliability.invalid"))
    return agent, db.create_room()


def memories(
    agent: uuid.UUID, room: uuid.UUID, n: int, rng: np.random.Generator, *, tag: str = "m", with_ids: bool = True
) -> list[Memory]:
    """``n`` memories with random unit embeddings and text ``<tag>-<i>``; without ids the adapter assigns them."""
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [
        Memory(
            id=uuid.uuid4() if with_ids else None,
            user_id=agent,
            agent_id=agent,
            room_id=room,
            content={"text": f"{tag}-{i}"},
            embedding=v,
        )
        for i, v in enumerate(vectors)
    ]


#: Counts every row written, updated or deleted (and every truncation) in the user tables, transactionally: a
#: write that is rolled back is rolled back here too. One read tells whether anything changed, however big the
#: tables grow, which checksumming them on every call could not (the bad-input sweeps make hundreds of thousands
#: of such checks).
_COUNTER_SQL = """
CREATE TABLE IF NOT EXISTS okai_test_changes (n bigint NOT NULL);
INSERT INTO okai_test_changes SELECT 0 WHERE NOT EXISTS (SELECT FROM okai_test_changes);
CREATE OR REPLACE FUNCTION okai_test_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE okai_test_changes SET n = n + 1;
    RETURN NULL;
END $$;
"""


def install_change_counter(conn: psycopg.Connection[object]) -> None:
    """Count every change to the tables of ``conn``'s public schema from now on (read with ``changes``).

    Example:
        >>> install_change_counter(conn); before = changes(conn)   # doctest: +SKIP
        >>> adapter.create_room(); changes(conn) > before          # doctest: +SKIP
        True
    """
    conn.execute(_COUNTER_SQL)
    tables = conn.execute(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> 'okai_test_changes'"
        " AND NOT c.relispartition"
    ).fetchall()
    assert tables, "no tables to watch: install the counter after the adapter's init()"
    for (table,) in tables:
        name = sql.Identifier(str(table))
        conn.execute(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER okai_test_rows AFTER INSERT OR UPDATE OR DELETE ON {}"
                " FOR EACH ROW EXECUTE FUNCTION okai_test_count_change()"
            ).format(name)
        )
        conn.execute(
            sql.SQL(
                "CREATE OR REPLACE TRIGGER okai_test_truncate AFTER TRUNCATE ON {}"
                " FOR EACH STATEMENT EXECUTE FUNCTION okai_test_count_change()"
            ).format(name)
        )


def changes(conn: psycopg.Connection[object]) -> int:
    """How many changes the counter of ``install_change_counter`` has seen (committed ones only).

    Example:
        >>> changes(conn)            # doctest: +SKIP
        0
    """
    row = conn.execute("SELECT n FROM okai_test_changes", prepare=True).fetchone()
    assert row is not None
    return int(row[0])
