"""Shared fixtures: one embedded PostgreSQL (PostgreSQL 18 + pgvector) for the whole session.

Each test module that needs a database gets its own (``pg_url``), created from template0 on that server, so
modules never see each other's rows. Nothing here is mocked: every test talks to the real server.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from okai_insight.embedded import EmbeddedServer


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """The session's embedded server, stopped at the end."""
    root = Path(os.environ.get("OKAI_TEST_PGDATA_ROOT") or tmp_path_factory.mktemp("pg"))
    server = EmbeddedServer(root / "pgdata")
    server.start()
    yield server
    server.stop(mode="immediate")


@pytest.fixture(scope="session")
def admin_url(pg_server: EmbeddedServer) -> str:
    """A superuser URL to the server's ``postgres`` database."""
    url = pg_server.url()
    assert url is not None
    return url.replace("/okai?", "/postgres?")


@pytest.fixture(scope="session")
def make_database(admin_url: str) -> Callable[..., str]:
    """Create an empty database (or a copy of ``template``) and return its URL: ``make_database("prefix")``."""

    def make(prefix: str = "t", template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            # A file-level copy of a prepared database: much cheaper than running its migrations again.
            create = create + sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(create)
        return admin_url.replace("/postgres?", f"/{name}?")

    return make


@pytest.fixture(scope="module")
def pg_url(make_database: Callable[[str], str], request: pytest.FixtureRequest) -> str:
    """A database of this test module's own."""
    return make_database(request.module.__name__.rsplit(".", 1)[-1][:20])
