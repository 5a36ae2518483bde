"""The contract suite's adapter registry: every adapter listed here runs every test in tests/contract/.

To plug in an adapter, add one factory to ``ADAPTER_FACTORIES``: it gets a :class:`FactoryContext` and returns an
initialised adapter with an empty database of the contract's dimension (``DIM``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.settings import Settings
from tests.contract._helpers import IDENTITIES, Identity
from tests.contract.elizaos_schema import create_elizaos_schema

#: Small on purpose: the contract is about behaviour, not scale.
DIM = 8


@dataclass
class FactoryContext:
    make_database: Callable[[str], str]
    tmp_path: Path
    settings: Settings


def _postgres(ctx: FactoryContext) -> DatabaseAdapter:
    db = PostgresAdapter(ctx.make_database("contract"), settings=ctx.settings, dimension=DIM)
    db.init()
    return db


def _partitioned(ctx: FactoryContext) -> DatabaseAdapter:
    """okai-insight's schema with memories hash-partitioned by agent (okai-insight partition), 4 partitions."""
    from okai_insight.ops.partitioning import partition_memories
    from okai_insight.schema import migrate

    url = ctx.make_database("partitioned")
    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, dimension=DIM)
    partition_memories(url, partitions=4)
    db = PostgresAdapter(url, settings=ctx.settings)
    db.init()
    return db


def _elizaos(ctx: FactoryContext) -> DatabaseAdapter:
    """An ElizaOS 0.1.9 database as ElizaOS creates it, attached as it is."""
    url = ctx.make_database("eliza")
    with psycopg.connect(url, autocommit=True) as conn:
        create_elizaos_schema(conn, dimension=DIM)
    db = PostgresAdapter(url, settings=ctx.settings)
    db.init()
    return db


def _sqlite(ctx: FactoryContext) -> DatabaseAdapter:
    from okai_insight.adapters.sqlite import SqliteAdapter

    db = SqliteAdapter(f"sqlite:///{ctx.tmp_path / 'contract.db'}", settings=ctx.settings, dimension=DIM)
    db.init()
    return db


def _memory(ctx: FactoryContext) -> DatabaseAdapter:
    from okai_insight.adapters.memory import MemoryAdapter

    db = MemoryAdapter("memory://", settings=ctx.settings, dimension=DIM)
    db.init()
    return db


def _supabase(ctx: FactoryContext) -> DatabaseAdapter:
    """The Supabase adapter's direct transport on a database with the Supabase migration, acting as one
    ``authenticated`` user, so every statement passes the row level security policies (the spec's
    ``memories_isolation`` and the rest). Rows of other identities are written through their own adapters
    (tests/contract/_helpers.py); shared knowledge through ``service_role``, as on Supabase."""
    from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter
    from tests.supabase.supabase_auth import prepare_supabase_database

    url = ctx.make_database("supabase")
    prepare_supabase_database(url)
    acting = uuid.uuid4()
    db = SupabaseDirectAdapter(url, user_id=acting, settings=ctx.settings, dimension=DIM)
    db.init()

    def open_as(uid: uuid.UUID) -> DatabaseAdapter:
        other = SupabaseDirectAdapter(url, user_id=uid, settings=ctx.settings, dimension=DIM)
        other.init()
        return other

    def open_admin() -> DatabaseAdapter:
        root = SupabaseDirectAdapter(url, role="service_role", settings=ctx.settings, dimension=DIM)
        root.init()
        return root

    IDENTITIES[id(db)] = Identity(acting, open_as, open_admin)
    return db


ADAPTER_FACTORIES: dict[str, Callable[[FactoryContext], DatabaseAdapter]] = {
    "postgres": _postgres,
    "elizaos": _elizaos,
    "partitioned": _partitioned,
    "sqlite": _sqlite,
    "memory": _memory,
    "supabase": _supabase,
}


@pytest.fixture(params=sorted(ADAPTER_FACTORIES))
def db(
    request: pytest.FixtureRequest, make_database: Callable[[str], str], tmp_path: Path
) -> Iterator[DatabaseAdapter]:
    """A fresh, empty database behind each registered adapter."""
    ctx = FactoryContext(make_database, tmp_path, Settings.from_env({}, pool_max_size=4, pool_min_size=1))
    adapter = ADAPTER_FACTORIES[request.param](ctx)
    try:
        yield adapter
    finally:
        who = IDENTITIES.pop(id(adapter), None)
        if who is not None:
            who.close()
        adapter.close()


@pytest.fixture
def adapter_name(db: DatabaseAdapter, request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["db"])


def new_id() -> uuid.UUID:
    return uuid.uuid4()
