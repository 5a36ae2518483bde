"""What a memory database looks like: okai-insight's own schema or an ElizaOS 0.1.9 one, read from the catalog.

The adapter composes its SQL from a :class:`SchemaProfile`, so it reads and writes either shape without altering
it: ``"isUnique"`` vs ElizaOS's ``"unique"``, ``"joinedAt"`` vs ``"createdAt"`` on participants, any dimension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

_TYPE_RE = re.compile(r"^(vector|halfvec)(?:\((\d+)\))?$")


@dataclass(frozen=True)
class SchemaProfile:
    """The shape of one database's memory schema.

    Example:
        >>> SchemaProfile(flavor="okai", dimension=384).unique_column
        'isUnique'
    """

    flavor: str  # "okai", "elizaos" (attached as it is) or "empty"
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


def read_profile(conn: psycopg.Connection[Any]) -> SchemaProfile:
    """Introspect the connection's current schema.

    Example:
        >>> read_profile(conn).flavor                    # doctest: +SKIP
        'elizaos'
    """
    memories = _columns(conn, "memories")
    if not memories:
        return SchemaProfile(flavor="empty")
    version_row = None
    if conn.execute("SELECT to_regclass('okai_schema_version')").fetchone() != (None,):
        version_row = conn.execute("SELECT max(version) FROM okai_schema_version").fetchone()
    vector_type, dimension = _vector_column(memories)
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
        partition_key=_partition_key(conn),
    )
