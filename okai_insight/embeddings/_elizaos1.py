"""ElizaOS 1.x (``@elizaos/plugin-sql``): vectors in ``embeddings.dim_N``, metadata in ``memories``.

A 1.x database keeps one row per memory in ``embeddings`` (``memory_id`` -> ``memories.id``) with one column per
dimension (``dim_384`` ... ``dim_3072``); only the agent's active column is filled, and the dimension is set per
agent, so one database can hold several active columns. The embedding checks read ONE column at a time through a
derived table that joins it to ``memories`` and renames the snake_case columns to the names the SQL library uses
(``"agentId"``, ``"roomId"``, ``"userId"`` = ``entity_id``, ``"worldId"``, ``"createdAt"``, ``content``), with the
memory id as ``id``: every id a check reports is a memory id. Sampling applies ``TABLESAMPLE`` to ``embeddings``
before the join, so a sample reads that share of the pages of the big table only.

Several active columns (several dimensions): vectors of two dimensions share no space, so nothing mixes them.
``embedding_quality`` and ``drift`` analyse each active column in turn (with ``by="agent"``, each agent in its own
column) and tag every row with its ``dims``; ``explore``, ``neighbours``, ``tune_threshold`` and ``tune_recall``
work in one column: the one of ``column="dim_768"``, of ``dims=``, of the agent filtered on, of the memory asked
about or of the query vector's length, else the column holding the most vectors, with an info finding naming every
active dimension and its agents (docs/elizaos1.md).

Example:
    >>> c = ActiveColumn("dim_384", 384, 312, ("a1",))
    >>> pick((c, ActiveColumn("dim_768", 768, 12, ("a2",))), agent_id="a2").column
    'dim_768'
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from psycopg import sql

from okai_insight.embeddings._table import VectorTable, read_table
from okai_insight.errors import InvalidInput, NotFound
from okai_insight.results import Finding
from okai_insight.runner import CheckUnavailable

if TYPE_CHECKING:
    from okai_insight.runner import Runner

DIM_COLUMN = re.compile(r"^dim_(\d+)$")
#: The derived table's column names (the SQL library's) and the 1.x expression each one reads.
_RENAMES = (
    ("id", "m.id"),
    ("agentId", "m.agent_id"),
    ("roomId", "m.room_id"),
    ("userId", "m.entity_id"),
    ("worldId", "m.world_id"),
    ("type", "m.type"),
    ("createdAt", "m.created_at"),
    ("content", "m.content"),
)
#: What a finding calls the database.
NAME = "ElizaOS 1.x"


@dataclass(frozen=True)
class ActiveColumn:
    """One ``dim_N`` column that holds vectors: its dimension, how many rows fill it and the agents they belong to."""

    column: str
    dims: int
    rows: int
    agents: tuple[str, ...]


def schema_of(run: Runner, table: str, column: str) -> str | None:
    """The schema of the ElizaOS 1.x tables the caller means, or None when ``table`` / ``column`` name an ordinary
    vector table: ``memories`` without an ``embedding`` column next to an ``embeddings`` table with ``memory_id``
    and ``dim_N`` columns (or ``embeddings`` itself).

    Example:
        >>> schema_of(run, "memories", "embedding")                        # doctest: +SKIP
        'public'
    """
    parts = table.split(".")
    schema, name = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    if name not in ("memories", "embeddings"):
        return None
    if name == "memories" and column != "embedding" and not DIM_COLUMN.match(column):
        return None
    rows = run.query("embeddings", "elizaos1_tables", {"schema": schema}).rows
    for r in rows:
        if name == "memories" and column == "embedding" and r["memories_has_embedding"]:
            continue  # an okai / 0.1.9 memories table that happens to sit next to an embeddings table
        return str(r["schema"])
    return None


def active_columns(run: Runner, schema: str) -> tuple[ActiveColumn, ...]:
    """Every ``dim_N`` column of ``schema.embeddings`` that holds vectors, with its rows and agents: one pass over
    ``embeddings`` joined to ``memories`` (what the schema profile reads too), the fullest column first.

    Example:
        >>> [c.dims for c in active_columns(run, "public")]                # doctest: +SKIP
        [384, 768]
    """
    columns = run.query("embeddings", "table_info", {"table": f'"{schema}"."embeddings"', "column": "memory_id"})
    declared = sorted(
        (c for c in (columns.rows[0]["columns"] or ()) if DIM_COLUMN.match(c)) if columns.rows else (),
        key=lambda c: int(c[4:]),
    )
    if not declared:
        return ()
    counts = sql.SQL(", ").join(
        sql.SQL("count({}) AS {}").format(sql.Identifier("e", c), sql.Identifier(c)) for c in declared
    )
    ident = {
        "counts": counts,
        "embeddings": sql.Identifier(schema, "embeddings"),
        "memories": sql.Identifier(schema, "memories"),
    }
    per_agent = run.query("embeddings", "elizaos1_dimensions", identifiers=ident).rows
    out = []
    for c in declared:
        agents = tuple(sorted(str(r["agent_id"]) for r in per_agent if r[c]))
        rows = sum(int(r[c]) for r in per_agent)
        if rows:
            out.append(ActiveColumn(c, int(c[4:]), rows, agents))
    return tuple(sorted(out, key=lambda a: (-a.rows, a.dims)))


def pick(
    columns: tuple[ActiveColumn, ...],
    *,
    column: str | None = None,
    dims: int | None = None,
    agent_id: Any = None,
) -> ActiveColumn:
    """The one column a single-space analysis reads: ``column`` (``dim_N``), else ``dims``, else the agent's,
    else the fullest.

    Example:
        >>> pick((ActiveColumn("dim_384", 384, 3, ("a",)),), dims=384).column
        'dim_384'
    """
    if not columns:
        raise NotFound(f"no dim_N column of the {NAME} embeddings table holds a vector")
    active = ", ".join(f"{c.column} ({c.rows} rows)" for c in columns)
    if column is not None and column != "embedding":
        found = [c for c in columns if c.column == column]
        if not found:
            raise InvalidInput(f"{column} holds no vector in this {NAME} database; active columns: {active}")
        return found[0]
    if dims is not None:
        found = [c for c in columns if c.dims == dims]
        if not found:
            raise InvalidInput(f"no {NAME} vectors of {dims} dimensions; active columns: {active}")
        return found[0]
    if agent_id is not None:
        agent = str(uuid.UUID(str(agent_id))) if _is_uuid(agent_id) else str(agent_id)
        found = [c for c in columns if agent in c.agents]
        if not found:
            raise NotFound(f"agent {agent} has no embedded memory in this {NAME} database; active columns: {active}")
        return found[0]
    return columns[0]


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def dimensions_finding(columns: tuple[ActiveColumn, ...], chosen: ActiveColumn | None) -> list[Finding]:
    """An info finding when the database holds several active dimensions: which, whose, and which one was read.

    Example:
        >>> cols = (ActiveColumn("dim_384", 384, 3, ("a",)), ActiveColumn("dim_768", 768, 2, ("b",)))
        >>> print(dimensions_finding(cols, cols[0])[0].message)  # doctest: +ELLIPSIS
        ElizaOS 1.x: 2 active dimensions (dim_384: 3 vectors of agent a; dim_768: 2 vectors of agent b); read dim_384 ...
    """
    if len(columns) < 2:
        return []
    listed = "; ".join(f"{c.column}: {c.rows} vectors of agent {', '.join(c.agents)}" for c in columns)
    if chosen is None:
        how = "each column analysed on its own (rows carry their dims), never mixed"
    else:
        how = (
            f"read {chosen.column} only (vectors of two dimensions share no space); pass agent_id=, dims= or "
            "column='dim_N' for another"
        )
    return [
        Finding(
            "info",
            f"{NAME}: {len(columns)} active dimensions ({listed}); {how}.",
            threshold="more than one embeddings.dim_N column holds vectors",
            subject="embeddings",
        )
    ]


def joined_table(t: VectorTable, memories_columns: frozenset[str], estimated_rows: int) -> VectorTable:
    """``t`` (``embeddings.dim_N`` as :func:`read_table` found it) read through a join to ``memories``: the SQL
    library's ``{table}`` and ``{sampled}`` become derived tables exposing memory ids and metadata.

    Example:
        >>> from okai_insight.embeddings._table import VectorTable
        >>> e = VectorTable("public", "embeddings", "dim_384", "vector", 384, frozenset({"id", "dim_384"}), 9, None)
        >>> m = frozenset({"id", "agent_id", "room_id", "entity_id", "world_id", "type", "created_at", "content"})
        >>> joined_table(e, m, 9).has("agent")
        True
    """
    emb = sql.Identifier(t.schema, "embeddings")
    mem = sql.Identifier(t.schema, "memories")
    col = sql.Identifier("e", t.column)
    select = sql.SQL(", ").join(
        [sql.SQL("{} AS {}").format(sql.SQL(expr), sql.Identifier(name)) for name, expr in _RENAMES]
        + [sql.SQL("{} AS {}").format(col, sql.Identifier(t.column))]
    )

    def derived(sample: sql.Composable) -> sql.Composed:
        return sql.SQL(
            "(SELECT {select} FROM {emb} AS e {sample} JOIN {mem} AS m ON m.id = e.memory_id "
            "WHERE {col} IS NOT NULL) AS elizaos1_vectors"
        ).format(select=select, emb=emb, sample=sample, mem=mem, col=col)

    if not {"id", "agent_id", "room_id", "entity_id", "world_id", "type", "created_at", "content"} <= memories_columns:
        raise InvalidInput(f"{t.schema}.memories does not have the {NAME} columns (agent_id, room_id, entity_id, ...)")
    names = frozenset(name for name, _ in _RENAMES) | {t.column}
    return replace(
        t,
        columns=names,
        estimated_rows=estimated_rows,
        source=derived(sql.SQL("")),
        sampled_source=derived(sql.SQL("TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (%(seed)s)")),
    )


def resolve(
    run: Runner,
    table: str,
    column: str,
    *,
    dims: int | None = None,
    agent_id: Any = None,
    every_column: bool = False,
) -> tuple[list[VectorTable], list[Finding]]:
    """The table(s) a check reads for ``table`` / ``column``: an ordinary vector table as :func:`read_table` finds
    it, or on ElizaOS 1.x the active ``dim_N`` column(s) joined to ``memories``: every active column when
    ``every_column`` (and nothing picks one), else the one :func:`pick` chooses. The findings name the dimensions
    when there are several.

    Example:
        >>> tables, findings = resolve(run, "memories", "embedding", every_column=True)  # doctest: +SKIP
        >>> [t.column for t in tables]                                                   # doctest: +SKIP
        ['dim_384', 'dim_768']
    """
    from okai_insight._store_runner import StoreRunner

    # A SQLite / in-memory store has no ElizaOS 1.x layout: its table is read as it is.
    schema = None if isinstance(run, StoreRunner) else schema_of(run, table, column)
    if schema is None:
        return [read_table(run, table, column)], []
    columns = active_columns(run, schema)
    explicit = column != "embedding" or dims is not None or agent_id is not None
    if every_column and not explicit:
        if not columns:
            raise NotFound(f"no dim_N column of the {NAME} embeddings table holds a vector")
        chosen = list(columns)
    else:
        chosen = [pick(columns, column=column, dims=dims, agent_id=agent_id)]
    info = run.query("embeddings", "table_info", {"table": f'"{schema}"."memories"', "column": "content"}).rows
    if not info or not info[0]["readable"]:
        raise CheckUnavailable(
            f"this role may not read {schema}.memories (SELECT privilege needed)",
            fix_sql=f"GRANT SELECT ON {schema}.memories TO {run.features.user};",
        )
    memories_columns = frozenset(info[0]["columns"] or ())
    tables = [joined_table(read_table(run, f"{schema}.embeddings", c.column), memories_columns, c.rows) for c in chosen]
    return tables, dimensions_finding(columns, None if len(chosen) > 1 else chosen[0])


def column_of_memory(run: Runner, tables: list[VectorTable], memory_id: uuid.UUID) -> VectorTable | None:
    """The one of ``tables`` (1.x columns) holding ``memory_id``'s vector, or None.

    Example:
        >>> column_of_memory(run, tables, some_id).column                 # doctest: +SKIP
        'dim_768'
    """
    with run.transaction(vectors=True) as tx:
        for t in tables:
            if tx.query("embeddings", "fetch_by_ids", {"ids": [memory_id]}, identifiers=t.identifiers()).rows:
                return t
    return None


def zero_vector_ids(run: Runner, t: VectorTable, limit: int) -> list[str]:
    """Ids (memory ids on 1.x) of up to ``limit`` rows whose vector is all zeros, in id order.

    Example:
        >>> zero_vector_ids(run, t, 10)                                   # doctest: +SKIP
        ['0b1e...', ...]
    """
    rows = run.query("embeddings", "zero_vectors", {"limit": limit}, identifiers=t.identifiers()).rows
    return [str(r["id"]) for r in rows]
