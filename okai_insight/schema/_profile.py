"""What a memory database looks like: okai-insight's own schema, an ElizaOS 0.1.9 one or an ElizaOS 1.x one.

The adapter composes its SQL from a :class:`SchemaProfile`, so it reads and writes okai's and 0.1.9's shapes
without altering them: ``"isUnique"`` vs ElizaOS's ``"unique"``, ``"joinedAt"`` vs ``"createdAt"`` on
participants, any dimension. ElizaOS 1.x (``@elizaos/plugin-sql``: snake_case tables, vectors in ``embeddings``
with one ``dim_N`` column per dimension) is recognised so that nothing treats it as 0.1.9: okai-insight never
writes to it (docs/elizaos1.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.schema._citus import distribution_column

_TYPE_RE = re.compile(r"^(vector|halfvec)(?:\((\d+)\))?$")
_DIM_COLUMN_RE = re.compile(r"^dim_(\d+)$")

#: The flavor of an ElizaOS 1.x database, and the name errors give it.
ELIZAOS1 = "elizaos1"
ELIZAOS1_NAME = "ElizaOS 1.x (@elizaos/plugin-sql)"


@dataclass(frozen=True)
class SchemaProfile:
    """The shape of one database's memory schema.

    Example:
        >>> SchemaProfile(flavor="okai", dimension=384).unique_column
        'isUnique'
    """

    flavor: str  # "okai", "elizaos" (0.1.9, attached as it is), "elizaos1" (never written) or "empty"
    dimension: int | None = None
    vector_type: str = "vector"
    unique_column: str = "isUnique"
    participant_time_column: str | None = "joinedAt"
    has_user_state: bool = True
    has_last_message_read: bool = True
    has_cache: bool = True
    has_knowledge: bool = True
    has_logs: bool = True
    knowledge_dimension: int | None = None
    schema_version: int | None = None
    #: The column ``memories`` is hash-partitioned by (``"agentId"`` after ``okai-insight partition``), else None.
    #: Its primary key is then (partition_key, "id"), so ON CONFLICT targets both and every memory needs the key.
    partition_key: str | None = None
    #: Whether ``memories`` is a Citus distributed table (by ``partition_key``): statements Citus cannot route, such as
    #: an INSERT with a subquery in VALUES, are written its way (okai_insight/schema/_citus.py).
    distributed: bool = False
    #: ElizaOS 1.x only: the ``dim_N`` columns ``embeddings`` declares, and the dimensions whose column holds
    #: vectors, per agent (``(agent_id, dimension)`` pairs, from the data: the dimension is set per agent at start).
    declared_dimensions: tuple[int, ...] = ()
    agent_dimensions: tuple[tuple[str, int], ...] = ()
    #: ElizaOS 1.x only: whether its migrator's bookkeeping schema (``migrations._migrations``) is there.
    has_migrator_bookkeeping: bool = False

    @property
    def dimensions(self) -> tuple[int, ...]:
        """The dimensions a 1.x database's vectors have (sorted), or this schema's one dimension.

        Example:
            >>> SchemaProfile(flavor="elizaos1", agent_dimensions=(("a", 768), ("b", 384), ("c", 384))).dimensions
            (384, 768)
            >>> SchemaProfile(flavor="okai", dimension=384).dimensions
            (384,)
        """
        if self.flavor == ELIZAOS1:
            return tuple(sorted({dim for _, dim in self.agent_dimensions}))
        return () if self.dimension is None else (self.dimension,)

    @property
    def writable(self) -> bool:
        """Whether okai-insight may write to (and migrate) this schema: not an ElizaOS 1.x database.

        Example:
            >>> SchemaProfile(flavor="elizaos1").writable, SchemaProfile(flavor="elizaos").writable
            (False, True)
        """
        return self.flavor != ELIZAOS1

    @property
    def display_name(self) -> str:
        """What errors and reports call this schema.

        Example:
            >>> SchemaProfile(flavor="elizaos1").display_name
            'ElizaOS 1.x (@elizaos/plugin-sql)'
        """
        names = {"okai": "okai-insight", "elizaos": "ElizaOS 0.1.9", ELIZAOS1: ELIZAOS1_NAME, "empty": "empty"}
        return names.get(self.flavor, self.flavor)

    @property
    def partitioned(self) -> bool:
        """Whether ``memories`` is a partitioned table.

        Example:
            >>> SchemaProfile(flavor="okai", partition_key="agentId").partitioned
            True
        """
        return self.partition_key is not None


def _partition_key(conn: psycopg.Connection[Any]) -> str | None:
    row = conn.execute(
        """
        SELECT a.attname
        FROM pg_partitioned_table AS p
        JOIN pg_attribute AS a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
        WHERE p.partrelid = to_regclass('memories')
        """
    ).fetchone()
    return None if row is None else str(row[0])


def _columns(conn: psycopg.Connection[Any], table: str) -> dict[str, str]:
    rows = conn.execute(
        """
        SELECT a.attname, format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute AS a
        WHERE a.attrelid = to_regclass(%(t)s)
          AND a.attnum > 0
          AND NOT a.attisdropped
        ORDER BY a.attnum
        """,
        {"t": table},
    ).fetchall()
    return {name: typ for name, typ in rows}


def _vector_column(columns: dict[str, str]) -> tuple[str, int | None]:
    typ = columns.get("embedding", "")
    match = _TYPE_RE.match(typ)
    if not match:
        return "vector", None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def _is_elizaos1(conn: psycopg.Connection[Any], memories: dict[str, str], embeddings: dict[str, str]) -> bool:
    """ElizaOS 1.x's shape: snake_case ``memories``, vectors in ``embeddings.dim_N``, ``agents`` and ``entities``."""
    snake_memories = {"agent_id", "room_id", "entity_id", "type"} <= memories.keys()
    dim_columns = "memory_id" in embeddings and any(_DIM_COLUMN_RE.match(name) for name in embeddings)
    return snake_memories and dim_columns and bool(_columns(conn, "agents")) and bool(_columns(conn, "entities"))


def _agent_dimensions(conn: psycopg.Connection[Any], declared: list[int]) -> tuple[tuple[str, int], ...]:
    """Which ``dim_N`` columns hold vectors, per agent: one pass over ``embeddings`` joined to ``memories``."""
    if not declared:
        return ()
    counts = sql.SQL(", ").join(sql.SQL("count({})").format(sql.Identifier("e", f"dim_{dim}")) for dim in declared)
    query = sql.SQL(
        "SELECT m.agent_id::text, {counts} FROM embeddings AS e JOIN memories AS m ON m.id = e.memory_id "
        "GROUP BY m.agent_id ORDER BY m.agent_id"
    ).format(counts=counts)
    pairs: list[tuple[str, int]] = []
    for agent_id, *filled in conn.execute(query).fetchall():
        pairs.extend((str(agent_id), dim) for dim, n in zip(declared, filled, strict=True) if n)
    return tuple(pairs)


def _elizaos1_profile(conn: psycopg.Connection[Any], embeddings: dict[str, str]) -> SchemaProfile:
    declared = sorted(int(m.group(1)) for name in embeddings if (m := _DIM_COLUMN_RE.match(name)))
    agent_dimensions = _agent_dimensions(conn, declared)
    active = sorted({dim for _, dim in agent_dimensions})
    bookkeeping = conn.execute("SELECT to_regclass('migrations._migrations') IS NOT NULL").fetchone()
    return SchemaProfile(
        flavor=ELIZAOS1,
        dimension=active[0] if len(active) == 1 else None,  # several (or none): no single dimension
        unique_column="unique",
        participant_time_column="created_at",
        has_user_state=True,
        has_last_message_read=False,
        has_cache=bool(_columns(conn, "cache")),
        has_knowledge=False,  # 1.x keeps knowledge as memories of type "documents"/"knowledge"
        has_logs=bool(_columns(conn, "logs")),
        declared_dimensions=tuple(declared),
        agent_dimensions=agent_dimensions,
        has_migrator_bookkeeping=bool(bookkeeping and bookkeeping[0]),
    )


def read_profile(conn: psycopg.Connection[Any]) -> SchemaProfile:
    """Introspect the connection's current schema. Only reads (on ElizaOS 1.x, one pass over ``embeddings``).

    Example:
        >>> read_profile(conn).flavor                    # doctest: +SKIP
        'elizaos'
    """
    memories = _columns(conn, "memories")
    if not memories:
        return SchemaProfile(flavor="empty")
    embeddings = _columns(conn, "embeddings")
    if embeddings and _is_elizaos1(conn, memories, embeddings):
        return _elizaos1_profile(conn, embeddings)
    version_row = None
    if conn.execute("SELECT to_regclass('okai_schema_version')").fetchone() != (None,):
        version_row = conn.execute("SELECT max(version) FROM okai_schema_version").fetchone()
    vector_type, dimension = _vector_column(memories)
    citus_key = distribution_column(conn)
    participants = _columns(conn, "participants")
    knowledge = _columns(conn, "knowledge")
    if "joinedAt" in participants:
        time_column: str | None = "joinedAt"
    elif "createdAt" in participants:
        time_column = "createdAt"
    else:
        time_column = None
    return SchemaProfile(
        flavor="okai" if version_row is not None else "elizaos",
        dimension=dimension,
        vector_type=vector_type,
        unique_column="isUnique" if "isUnique" in memories else "unique",
        participant_time_column=time_column,
        has_user_state="userState" in participants,
        has_last_message_read="last_message_read" in participants,
        has_cache=bool(_columns(conn, "cache")),
        has_knowledge=bool(knowledge),
        has_logs=bool(_columns(conn, "logs")),
        knowledge_dimension=_vector_column(knowledge)[1] if knowledge else None,
        schema_version=version_row[0] if version_row else None,
        # Citus's distribution column acts as a partition key: the primary key holds it (docs/scaling.md).
        partition_key=_partition_key(conn) or citus_key,
        distributed=citus_key is not None,
    )
