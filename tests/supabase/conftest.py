"""Fixtures: a fresh Supabase-like database on the embedded server with the okai-insight migration applied.

``users`` are two Supabase Auth users, A and B; ``as_user(uid)`` opens a direct connection that acts as one of
them exactly as PostgREST would (role authenticated, request.jwt.claims).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from pgvector.psycopg import register_vector

from okai_insight.schema.supabase import apply
from tests.supabase.supabase_auth import prepare_supabase_database

DIM = 8


@pytest.fixture(scope="module")
def supabase_url(make_database: Callable[[str], str]) -> str:
    """A database prepared like a Supabase project, with the migration applied (dimension 8)."""
    url = make_database("supa")
    prepare_supabase_database(url)
    with psycopg.connect(url, autocommit=True) as conn:
        apply(conn, dimension=DIM)
    return url


@pytest.fixture(scope="module")
def as_user(supabase_url: str) -> Callable[..., Any]:
    """``with as_user(uid) as conn:`` a transaction acting as that Supabase user (None: anon)."""

    @contextmanager
    def open_as(uid: uuid.UUID | None, role: str = "authenticated") -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(supabase_url) as conn:
            register_vector(conn)
            claims: dict[str, Any] = {"role": role}
            if uid is not None:
                claims["sub"] = str(uid)
            conn.execute(
                "SELECT set_config('role', %s, true), set_config('request.jwt.claims', %s, true)",
                (role, json.dumps(claims)),
            )
            yield conn

    return open_as
