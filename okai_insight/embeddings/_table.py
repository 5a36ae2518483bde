"""The table an embedding check reads: its vector column, metadata columns, size and vector index.

ElizaOS and okai-insight memory tables share the column names (``"agentId"``, ``"roomId"``, ``"userId"``,
``"type"``, ``"createdAt"``, ``"content"``); a table without one of them (``knowledge`` has no room) reads NULL in
its place, so every check runs on any table with an ``id`` and a vector column.

Example:
    >>> t = VectorTable("public", "memories", "embedding", "vector", 384, frozenset({"id", "roomId"}), 10, None)
    >>> t.has("room"), t.has("agent"), t.qualified
    (True, False, 'public.memories')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from psycopg import sql

from okai_insight.errors import InvalidInput, UnknownTable
from okai_insight.results import Finding
from okai_insight.runner import CheckUnavailable, Runner

#: Logical metadata name -> the column ElizaOS and okai-insight use for it.
META_COLUMNS = {
    "agent": "agentId",
    "room": "roomId",
    "user": "userId",
    "world": "worldId",
    "type": "type",
    "created_at": "createdAt",
    "content": "content",
}
#: Distance operator of each pgvector index operator class, and the SQL that turns it into cosine similarity.
_OPERATOR_OF = {"cosine_ops": "<=>", "l2_ops": "<->", "ip_ops": "<#>"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
GroupBy = Literal["agent", "room", "type", "user", "world", "entity"] | None
#: Other names accepted for a group: ElizaOS 1.x calls the user an entity.
_GROUP_ALIASES = {"entity": "user"}


@dataclass(frozen=True)
class VectorIndexInfo:
    """One pgvector index on the column: name, method (hnsw / ivfflat), operator class and its ORDER BY operator."""

    name: str
    method: str
    opclass: str
    operator: str


@dataclass(frozen=True)
class VectorTable:
    """A table with a vector column, as the embedding checks see it.

    Example:
        >>> VectorTable("s", "t", "e", "vector", None, frozenset({"id"}), 0, None).operator
        '<=>'
    """

    schema: str
    table: str
    column: str
    type_name: str
    declared_dims: int | None
    columns: frozenset[str]
    estimated_rows: int
    index: VectorIndexInfo | None
    #: Row level security filters what this role reads (it sees only the rows its policies allow).
    row_security: bool = False
    #: The role the check ran as (named in the row level security finding).
    role: str = ""
    #: ElizaOS 1.x: a derived table joining ``embeddings.dim_N`` to ``memories`` stands for the table (whole, and
    #: sampled on ``embeddings``), see :mod:`okai_insight.embeddings._elizaos1`; None for an ordinary table.
    source: sql.Composable | None = None
    sampled_source: sql.Composable | None = None
    #: A SQLite / in-memory store: its rows, read once (:mod:`okai_insight.embeddings._store`); None on PostgreSQL.
    store: Any = None

    @property
    def qualified(self) -> str:
        """``schema.table`` (for messages)."""
        return f"{self.schema}.{self.table}"

    @property
    def operator(self) -> str:
        """The distance operator searches should ORDER BY: the index's, else cosine distance ``<=>``."""
        return self.index.operator if self.index else "<=>"

    def has(self, logical: str) -> bool:
        """Whether the table has the metadata column (``agent``, ``room``, ``user``, ``type``, ``created_at``)."""
        return META_COLUMNS[logical] in self.columns

    def identifiers(self, group: GroupBy = None) -> dict[str, sql.Composable]:
        """The ``{placeholders}`` every SQL file of ``queries/embeddings`` uses, composed safely.

        Example:
            >>> t = VectorTable("s", "t", "e", "vector", 3, frozenset({"id", "roomId"}), 0, None)
            >>> t.identifiers("room")["group"].as_string(None)
            '"roomId"::text'
        """
        table: sql.Composable = self.source if self.source is not None else sql.Identifier(self.schema, self.table)
        sample = sql.SQL("TABLESAMPLE SYSTEM (%(percent)s) REPEATABLE (%(seed)s)")
        ids: dict[str, sql.Composable] = {
            "table": table,
            "sampled": self.sampled_source if self.sampled_source is not None else sql.SQL(" ").join([table, sample]),
            "column": sql.Identifier(self.column),
            "op": sql.SQL(self.operator),
            "vtype": sql.SQL("halfvec" if self.type_name == "halfvec" else "vector"),
        }
        casts = {
            "agent": "uuid",
            "room": "uuid",
            "user": "uuid",
            "world": "uuid",
            "type": "text",
            "created_at": "timestamptz",
        }
        for logical, cast in casts.items():
            col = META_COLUMNS[logical]
            ids[logical] = (
                sql.SQL("{}::{}").format(sql.Identifier(col), sql.SQL(cast))
                if col in self.columns
                else sql.SQL("NULL::{}").format(sql.SQL(cast))
            )
        if "content" in self.columns:
            ids["text"] = sql.SQL("({}->>'text')").format(sql.Identifier("content"))
        else:
            ids["text"] = sql.SQL("NULL::text")
        if group is None:
            ids["group"] = sql.SQL("'all'::text")
        else:
            col = META_COLUMNS[group]
            ids["group"] = (
                sql.SQL("{}::text").format(sql.Identifier(col)) if col in self.columns else sql.SQL("'all'::text")
            )
        return ids


def check_group(by: Any) -> GroupBy:
    """Validate a ``by=`` argument.

    Example:
        >>> check_group("agent")
        'agent'
    """
    by = _GROUP_ALIASES.get(by, by) if isinstance(by, str) else by
    if by is None or by in ("agent", "room", "type", "user", "world"):
        return by  # type: ignore[no-any-return]
    raise InvalidInput(f"by must be 'agent', 'room', 'type', 'user' (or 'entity'), 'world' or None, got {by!r}")


def read_table(run: Runner, table: str, column: str = "embedding", *, count_cap: int = 1_000_000) -> VectorTable:
    """Introspect ``table`` (optionally ``schema.table``) and its vector column ``column``.

    Raises :class:`UnknownTable` when the table is missing, :class:`InvalidInput` when the column is not a pgvector
    column, and :class:`CheckUnavailable` when this role may not read it.

    Example:
        >>> read_table(run, "memories").declared_dims                    # doctest: +SKIP
        384
    """
    if not isinstance(table, str) or not _NAME.match(table):
        raise UnknownTable(f"not a table name: {table!r} (expected name or schema.name)")
    if not isinstance(column, str) or not column:
        raise InvalidInput(f"not a column name: {column!r}")
    from okai_insight._store_runner import StoreRunner

    if isinstance(run, StoreRunner):
        return _store_table(run, table, column)
    if not run.features.has_extension("vector"):
        raise CheckUnavailable(
            "embedding checks need pgvector (the vector extension), which is not installed in this database",
            fix_sql="CREATE EXTENSION IF NOT EXISTS vector;",
        )
    # to_regclass folds unquoted names to lower case: quote each part so "Memories" and memories stay distinct.
    quoted = ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))
    rows = run.query("embeddings", "table_info", {"table": quoted, "column": column}).rows
    if not rows:
        raise UnknownTable(f"table {table} does not exist (or is not on the search_path)")
    r = rows[0]
    if r["column"] is None:
        raise InvalidInput(f"table {r['schema']}.{r['table']} has no column {column!r}")
    if r["type_name"] not in ("vector", "halfvec"):
        raise InvalidInput(f"{r['schema']}.{r['table']}.{column} is {r['type_name']}, not a pgvector vector/halfvec")
    if not r["readable"]:
        raise CheckUnavailable(
            f"this role may not read {r['schema']}.{r['table']} (SELECT privilege needed)",
            fix_sql=f"GRANT SELECT ON {r['schema']}.{r['table']} TO {run.features.user};",
        )
    columns = frozenset(r["columns"] or ())
    if "id" not in columns:
        raise InvalidInput(f"{r['schema']}.{r['table']} has no id column; embedding checks identify rows by id")
    est = r["estimated_rows"]
    if run.features.has_extension("citus"):  # a distributed table's coordinator shell has no rows: ask its shards
        qualified = sql.Identifier(r["schema"], r["table"]).as_string(None)
        shards = run.query("citus", "shard_row_estimate", {"table": qualified}).rows[0]
        est = shards["estimated_rows"] if shards["shards"] else est
    if est is None:
        ident = {"table": sql.Identifier(r["schema"], r["table"])}
        est = run.query("embeddings", "count_rows_capped", {"cap": count_cap}, identifiers=ident).rows[0]["rows"]
    index = None
    for i in run.query("vectors", "vector_indexes").rows:
        if i["schema"] == r["schema"] and i["table"] == r["table"] and i["column"] == column and i["valid"]:
            suffix = next((s for s in _OPERATOR_OF if str(i["opclass"]).endswith(s)), None)
            if suffix is None:
                continue
            candidate = VectorIndexInfo(i["index"], i["method"], i["opclass"], _OPERATOR_OF[suffix])
            # Prefer an HNSW cosine index: the one ElizaOS and okai-insight build.
            if index is None or (candidate.method == "hnsw" and candidate.operator == "<=>"):
                index = candidate
    return VectorTable(
        schema=r["schema"],
        table=r["table"],
        column=column,
        type_name=r["type_name"],
        declared_dims=r["declared_dims"],
        columns=columns,
        estimated_rows=int(est),
        index=index,
        row_security=bool(r.get("row_security")),
        role=str(run.features.user),
    )


def _store_table(run: Any, table: str, column: str) -> VectorTable:
    """A SQLite / in-memory store's table, its rows read once; exact search, so no vector index to name."""
    from okai_insight.embeddings._store import load_rows, store_table_columns

    columns = store_table_columns(table)
    rows = load_rows(run, table, column)
    dims = {r["vec"].shape[0] for r in rows.rows if r["vec"] is not None}
    declared = getattr(run.target, "embedding_dimension", None) or (dims.pop() if len(dims) == 1 else None)
    return VectorTable(
        schema=run.kind,
        table=table,
        column=column,
        type_name="vector",
        declared_dims=declared,
        columns=columns,
        estimated_rows=len(rows.rows),
        index=None,
        store=rows,
    )


def row_security_note(t: VectorTable) -> str:
    """What to add to an "no rows" error when row level security filtered the rows (empty otherwise), so an
    analyst role under isolation is told why the table looks empty.

    Example:
        >>> t = VectorTable("public", "memories", "embedding", "vector", 3, frozenset({"id"}), 50, None, True, "okai_analyst")
        >>> print(row_security_note(t))  # doctest: +ELLIPSIS
        : row level security on public.memories filters what okai_analyst reads (about 50 rows in the table); ...
    """
    if not t.row_security:
        return ""
    return (
        f": row level security on {t.qualified} filters what {t.role or 'this role'} reads (about {t.estimated_rows} "
        "rows in the table); run it as the table's owner or a role with BYPASSRLS"
    )


def row_security_findings(t: VectorTable, rows_read: int) -> list[Finding]:
    """A warning when row level security filtered what the check read, so an empty or partial table is not
    mistaken for the table's contents (an analyst role under the spec's ``memories_isolation`` sees no row).

    Example:
        >>> t = VectorTable("public", "memories", "embedding", "vector", 3, frozenset({"id"}), 50, None, True, "okai_analyst")
        >>> print(row_security_findings(t, 0)[0].message)  # doctest: +ELLIPSIS
        row level security on public.memories filters what okai_analyst reads: 0 rows read of about 50 ...
    """
    if not t.row_security:
        return []
    return [
        Finding(
            "warning",
            f"row level security on {t.qualified} filters what {t.role or 'this role'} reads: {rows_read} rows read "
            f"of about {t.estimated_rows} in the table, so every count here describes only the rows its policies "
            "let it see. Run the check as the table's owner or a role with BYPASSRLS to see the whole table.",
            threshold="pg_class.relrowsecurity on, and this role neither superuser, BYPASSRLS nor an unforced owner",
            subject=t.qualified,
        )
    ]


def sample_percent(estimated_rows: int, sample_rows: int) -> float:
    """The TABLESAMPLE percentage that reads about ``sample_rows`` rows (100 = the whole table).

    Example:
        >>> sample_percent(1_000, 5_000), sample_percent(1_000_000, 10_000)
        (100.0, 1.0)
    """
    if sample_rows <= 0:
        raise InvalidInput(f"sample_rows must be positive, got {sample_rows}")
    if estimated_rows <= sample_rows:
        return 100.0
    return max(0.01, round(100.0 * sample_rows / estimated_rows, 4))
