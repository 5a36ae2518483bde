"""Ordered, recorded migrations for PostgreSQL, applied once each under an advisory lock.

The fast path (schema already current) reads one row and takes no lock, so starting an agent never re-runs DDL.
When migrations are pending, the first process takes ``pg_advisory_xact_lock`` and applies them in one
transaction; processes that start at the same moment wait on the lock and then find nothing left to do.

Example:
    >>> from okai_insight.schema import migrate
    >>> migrate(conn, dimension=384)                    # doctest: +SKIP
    SchemaProfile(flavor='okai', dimension=384, ...)
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import FeatureNotAvailable, InvalidDimension, ReadOnlySchema, SchemaDimensionMismatch
from okai_insight.schema._citus import distribute_new_schema
from okai_insight.schema._profile import SchemaProfile, read_profile

#: pgvector's HNSW limits: 2000 dimensions for vector, 4000 for halfvec; its vector type holds up to 16000.
HNSW_MAX_VECTOR_DIM = 2000
HNSW_MAX_HALFVEC_DIM = 4000
PGVECTOR_MAX_DIM = 16000
#: What a schema gets for each range of dimensions; every refusal quotes it.
DIMENSION_LIMITS = (
    f"1-{HNSW_MAX_VECTOR_DIM}: vector with an HNSW index; {HNSW_MAX_VECTOR_DIM + 1}-{HNSW_MAX_HALFVEC_DIM}: halfvec "
    f"with an HNSW index; {HNSW_MAX_HALFVEC_DIM + 1}-{PGVECTOR_MAX_DIM}: vector without an index (exact search only)"
)
#: Arbitrary, fixed key: every okai-insight process migrating one database serialises on it.
_LOCK_KEY = 0x6F6B6169  # "okai"


@dataclass(frozen=True)
class Migration:
    """One schema step: its version, name and SQL template."""

    version: int
    name: str
    template: str


def migrations() -> list[Migration]:
    """The migrations shipped with the package, in order.

    Example:
        >>> [m.version for m in migrations()][:2]
        [1, 2]
    """
    found = []
    folder = importlib.resources.files("okai_insight.schema") / "migrations"
    for entry in folder.iterdir():
        match = re.match(r"^(\d{4})_(\w+)\.sql$", entry.name)
        if match:
            found.append(Migration(int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


def check_dimension(dimension: object) -> int:
    """Refuse a dimension PostgreSQL's schema cannot hold (raises :class:`InvalidDimension` quoting the limits).

    Example:
        >>> check_dimension(1536)
        1536
        >>> check_dimension(20000)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        okai_insight.errors.InvalidDimension: embedding dimension must be an integer from 1 to 16000 (1-2000: ...
    """
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= PGVECTOR_MAX_DIM:
        raise InvalidDimension(
            f"embedding dimension must be an integer from 1 to {PGVECTOR_MAX_DIM} ({DIMENSION_LIMITS}), "
            f"got {dimension!r}"
        )
    return dimension


def vector_type_for(dimension: int) -> tuple[str, str | None]:
    """The column type and HNSW operator class for a dimension (None: no HNSW index possible).

    Example:
        >>> vector_type_for(384), vector_type_for(3072), vector_type_for(6000)
        (('vector', 'vector_cosine_ops'), ('halfvec', 'halfvec_cosine_ops'), ('vector', None))
    """
    check_dimension(dimension)
    if dimension <= HNSW_MAX_VECTOR_DIM:
        return "vector", "vector_cosine_ops"
    if dimension <= HNSW_MAX_HALFVEC_DIM:
        return "halfvec", "halfvec_cosine_ops"
    return "vector", None


def ensure_extensions(conn: psycopg.Connection[Any]) -> None:
    """Create vector and fuzzystrmatch (and pgcrypto where the server has it) if missing.

    Example:
        >>> ensure_extensions(conn)                      # doctest: +SKIP
    """
    available = {
        name
        for (name,) in conn.execute(
            "SELECT name FROM pg_available_extensions WHERE name IN ('vector', 'fuzzystrmatch', 'pgcrypto')"
        )
    }
    for required in ("vector", "fuzzystrmatch"):
        if required not in available:
            raise FeatureNotAvailable(
                f"the server has no {required} extension; install it (pgvector: https://github.com/pgvector/pgvector)"
            )
    installed = {name for (name,) in conn.execute("SELECT extname FROM pg_extension")}
    for name in ("vector", "fuzzystrmatch", "pgcrypto"):
        if name in available and name not in installed:
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(name)))
            except psycopg.errors.InsufficientPrivilege as exc:
                if name != "pgcrypto":
                    raise FeatureNotAvailable(
                        f"extension {name} is not installed and this role may not create it: "
                        f"ask an administrator to run CREATE EXTENSION {name}"
                    ) from exc
            except psycopg.errors.UniqueViolation:
                pass  # a concurrent process created it first


def _check_request(requested: int | None, stored: int | None) -> None:
    if requested is not None and stored is not None and requested != stored:
        raise SchemaDimensionMismatch(requested=requested, stored=stored)


def migrate(
    conn: psycopg.Connection[Any], *, dimension: int | None = None, default_dimension: int = 384
) -> SchemaProfile:
    """Bring the connection's database to the latest okai-insight schema; attach to ElizaOS schemas untouched.

    ``dimension`` is an explicit request: a new schema is created with it, and an existing schema (okai's or
    ElizaOS's) whose dimension differs is refused with :class:`SchemaDimensionMismatch` before anything is
    written. ``None`` adopts the stored dimension, or creates the schema with ``default_dimension``. Dimensions
    outside pgvector's limits raise :class:`InvalidDimension` (see ``DIMENSION_LIMITS``).
    ``conn`` must be in autocommit mode (each step manages its own transaction).

    Example:
        >>> migrate(conn, dimension=768).dimension        # doctest: +SKIP
        768
        >>> migrate(conn, dimension=1536)                 # doctest: +SKIP
        Traceback (most recent call last):
        okai_insight.errors.SchemaDimensionMismatch: dimension 1536 was requested, but this database stores ...
    """
    if dimension is not None:
        check_dimension(dimension)  # refuse a bad request before reading or touching anything
    latest = migrations()[-1].version
    profile = read_profile(conn)
    if not profile.writable:
        # ElizaOS 1.x: its own migrator owns the schema and okai's SQL does not fit it; refuse before any write.
        raise ReadOnlySchema(
            profile.display_name,
            "attaching okai-insight's read-write adapter (connect/init)",
            hint="diagnostics read it as it is; see docs/elizaos1.md for what works on ElizaOS 1.x today",
        )
    _check_request(dimension, profile.dimension)
    if profile.flavor == "elizaos":
        return profile  # attach as it is: never alter a database ElizaOS owns
    if profile.flavor == "okai" and profile.schema_version == latest:
        return profile  # fast path: no lock, no DDL
    chosen = default_dimension if dimension is None else dimension
    check_dimension(chosen)  # the default comes from Settings / OKAI_EMBEDDING_DIMENSION: refuse it as well
    ensure_extensions(conn)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS okai_schema_version (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """
        )
        conn.execute("CREATE TABLE IF NOT EXISTS okai_settings (key TEXT PRIMARY KEY, value JSONB NOT NULL)")
        applied = {v for (v,) in conn.execute("SELECT version FROM okai_schema_version")}
        row = conn.execute("SELECT value FROM okai_settings WHERE key = 'embedding_dimension'").fetchone()
        if row is not None:
            # a half-migrated schema (or one a concurrent process just created) has its dimension recorded
            _check_request(dimension, int(row[0]))
            chosen = int(row[0])
        else:
            conn.execute(
                "INSERT INTO okai_settings (key, value) VALUES ('embedding_dimension', %s::jsonb)", (str(chosen),)
            )
        column_type, ops = vector_type_for(chosen)
        params = {
            "embedding_type": sql.SQL("{}({})").format(sql.SQL(column_type), sql.Literal(chosen)),
            "vector_ops": sql.SQL(ops or "vector_cosine_ops"),
        }
        for step in migrations():
            if step.version in applied:
                continue
            if step.name == "vector_indexes" and ops is None:
                pass  # above pgvector's HNSW limits: record the step, build nothing
            else:
                conn.execute(sql.SQL(step.template).format(**params))  # type: ignore[arg-type]
            conn.execute("INSERT INTO okai_schema_version (version, name) VALUES (%s, %s)", (step.version, step.name))
    distribute_new_schema(conn)  # on a Citus coordinator: memories by agent, the rest as reference tables
    return read_profile(conn)
