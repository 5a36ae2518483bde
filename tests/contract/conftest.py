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
    make_database: Callable[..., str]
    tmp_path: Path
    settings: Settings
    request: pytest.FixtureRequest | None = None


#: kind -> name of a database prepared once per session; each test gets a file-level copy of it.
_TEMPLATES: dict[str, str] = {}


def _database(ctx: FactoryContext, kind: str, prepare: Callable[[str], None]) -> str:
    """A fresh database of ``kind``: ``prepare`` runs once per session on a template, tests get copies."""
    template = _TEMPLATES.get(kind)
    if template is None:
        url = ctx.make_database(f"tmpl_{kind}")
        prepare(url)  # must leave no connection open: CREATE DATABASE ... TEMPLATE needs the template idle
        template = _TEMPLATES[kind] = url.split("?")[0].rsplit("/", 1)[-1]
    return ctx.make_database(kind, template)


def _migrated(url: str) -> None:
    from okai_insight.schema import migrate

    with psycopg.connect(url, autocommit=True) as conn:
        migrate(conn, dimension=DIM)


def _postgres(ctx: FactoryContext) -> DatabaseAdapter:
    db = PostgresAdapter(_database(ctx, "contract", _migrated), settings=ctx.settings, dimension=DIM)
    db.init()
    return db


def _partitioned(ctx: FactoryContext) -> DatabaseAdapter:
    """okai-insight's schema with memories hash-partitioned by agent (okai-insight partition), 4 partitions."""
    from okai_insight.ops.partitioning import partition_memories

    def prepare(url: str) -> None:
        _migrated(url)
        partition_memories(url, partitions=4)

    db = PostgresAdapter(_database(ctx, "partitioned", prepare), settings=ctx.settings)
    db.init()
    return db


def _elizaos(ctx: FactoryContext) -> DatabaseAdapter:
    """An ElizaOS 0.1.9 database as ElizaOS creates it, attached as it is."""

    def prepare(url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            create_elizaos_schema(conn, dimension=DIM)

    db = PostgresAdapter(_database(ctx, "eliza", prepare), settings=ctx.settings)
    db.init()
    return db


#: The Citus factory's one database (URL), created on first use.
_CITUS_DB: dict[str, str] = {}
_CITUS_TABLES = "memories, cache, knowledge, logs, goals, participants, relationships, rooms, accounts"


def _citus(ctx: FactoryContext) -> DatabaseAdapter:
    """okai-insight's schema on the session's local Citus cluster (coordinator + 2 workers, tests/citus/_shared.py):
    init distributes memories by agent, the other tables become reference tables (cache stays on the coordinator).
    One database for the session, emptied for each test: a new Citus database costs its extensions and node
    registration on every node."""
    from tests.citus._shared import session_cluster

    assert ctx.request is not None
    url = _CITUS_DB.get("url")
    if url is None:
        url = _CITUS_DB["url"] = session_cluster(ctx.request).create_database("contract_citus")
    else:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
            conn.execute("SET lock_timeout = '30s'")
            conn.execute(f"TRUNCATE {_CITUS_TABLES}")
    db = PostgresAdapter(url, settings=ctx.settings, dimension=DIM)
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

    def prepare(url: str) -> None:
        prepare_supabase_database(url)
        migrator = SupabaseDirectAdapter(url, role="service_role", settings=ctx.settings, dimension=DIM)
        migrator.init()  # applies the Supabase migration once, into the template
        migrator.close()

    url = _database(ctx, "supabase", prepare)
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


def _isolated(ctx: FactoryContext) -> DatabaseAdapter:
    """Plain PostgreSQL after ``okai-insight secure --roles --isolation on``: the isolated adapter acts as
    ``app_user`` for one user (``okai.user_id``) in every transaction, so every statement passes the room-tied
    policies; rows of other identities through their own adapters, setup beyond any user through the owner."""
    from okai_insight.adapters.isolated import IsolatedPostgresAdapter
    from okai_insight.ops.security import create_roles, enable_isolation

    def prepare(url: str) -> None:
        _migrated(url)
        create_roles(url)
        enable_isolation(url)

    url = _database(ctx, "isolated", prepare)

    def open_as(uid: uuid.UUID) -> DatabaseAdapter:
        other = IsolatedPostgresAdapter(url, user_id=uid, settings=ctx.settings, dimension=DIM)
        other.init()
        return other

    def open_admin() -> DatabaseAdapter:
        owner = PostgresAdapter(url, settings=ctx.settings, dimension=DIM)
        owner.init()
        return owner

    acting = uuid.uuid4()
    db = open_as(acting)
    IDENTITIES[id(db)] = Identity(acting, open_as, open_admin)
    return db


ADAPTER_FACTORIES: dict[str, Callable[[FactoryContext], DatabaseAdapter]] = {
    "postgres": _postgres,
    "elizaos": _elizaos,
    "partitioned": _partitioned,
    "citus": _citus,
    "sqlite": _sqlite,
    "memory": _memory,
    "supabase": _supabase,
    "isolated": _isolated,
}


@pytest.fixture(
    # the first citus test may build Citus and start the cluster (tests/citus/conftest.py CLUSTER_TIMEOUT_S)
    params=[
        pytest.param(n, marks=(pytest.mark.citus, pytest.mark.timeout(1200))) if n == "citus" else n
        for n in sorted(ADAPTER_FACTORIES)
    ]
)
def db(request: pytest.FixtureRequest, make_database: Callable[..., str], tmp_path: Path) -> Iterator[DatabaseAdapter]:
    """A fresh, empty database behind each registered adapter."""
    ctx = FactoryContext(make_database, tmp_path, Settings.from_env({}, pool_max_size=4, pool_min_size=1), request)
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
