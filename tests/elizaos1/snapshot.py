"""A fingerprint of a whole database, to prove a command changed nothing: its schema and every table's rows."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

_SCHEMAS = ("public", "migrations")


def schema_dump(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Tables, columns, constraints and indexes of the ElizaOS schemas (and every extension), sorted."""
    columns = conn.execute(
        """
        SELECT n.nspname, c.relname, c.relkind::text, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
               a.attnotnull, pg_get_expr(d.adbin, d.adrelid)
        FROM pg_class AS c
        JOIN pg_namespace AS n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef AS d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE n.nspname = ANY(%(schemas)s)
        ORDER BY 1, 2, 4
        """,
        {"schemas": list(_SCHEMAS)},
    ).fetchall()
    constraints = conn.execute(
        """
        SELECT n.nspname, k.conrelid::regclass::text, k.conname, pg_get_constraintdef(k.oid)
        FROM pg_constraint AS k
        JOIN pg_namespace AS n ON n.oid = k.connamespace
        WHERE n.nspname = ANY(%(schemas)s)
        ORDER BY 1, 2, 3
        """,
        {"schemas": list(_SCHEMAS)},
    ).fetchall()
    indexes = conn.execute(
        "SELECT schemaname, indexname, indexdef FROM pg_indexes WHERE schemaname = ANY(%(schemas)s) ORDER BY 1, 2",
        {"schemas": list(_SCHEMAS)},
    ).fetchall()
    extensions = conn.execute("SELECT extname, extversion FROM pg_extension ORDER BY 1").fetchall()
    return [*columns, *constraints, *indexes, *extensions]


def row_checksums(conn: psycopg.Connection[Any]) -> dict[str, tuple[int, str | None]]:
    """Row count and an order-independent md5 of every table's rows, by qualified table name."""
    tables = conn.execute(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%(schemas)s) ORDER BY 1, 2",
        {"schemas": list(_SCHEMAS)},
    ).fetchall()
    sums: dict[str, tuple[int, str | None]] = {}
    for schema, table in tables:
        query = sql.SQL("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {} AS t").format(
            sql.Identifier(schema, table)
        )
        row = conn.execute(query).fetchone()
        assert row is not None
        sums[f"{schema}.{table}"] = (int(row[0]), row[1])
    return sums


def fingerprint(url: str) -> tuple[list[tuple[Any, ...]], dict[str, tuple[int, str | None]]]:
    """Schema dump and row checksums of the database at ``url``."""
    with psycopg.connect(url) as conn:
        return schema_dump(conn), row_checksums(conn)
