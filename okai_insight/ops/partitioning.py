"""Hash partitioning of ``memories`` by agent: ``okai-insight partition --by agent --partitions N``.

pgvector's advice for many tenants is one HNSW index per tenant: one agent's vectors then never cost another's
recall, and a search filtered by agent walks one small graph. :func:`partition_memories` converts an okai-insight
``memories`` table into ``PARTITION BY HASH ("agentId")`` with ``N`` partitions, in one transaction:

1. refuse what cannot be converted (an ElizaOS schema, memories without an agent, views or foreign keys that
   point at ``memories``, unique indexes without ``"agentId"``), before anything is changed;
2. lock ``memories``, rename it aside, create the partitioned table (same columns, defaults and checks) and its
   ``N`` partitions, copy every row, and verify row count and a checksum of every row (embeddings included);
3. drop the old table, then recreate on the new one: the primary key ``("agentId", "id")``, every other index
   (the HNSW index becomes one HNSW index per partition), the foreign keys, triggers, row level security
   policies and grants the old table had; record the layout in ``okai_settings``; ANALYZE.

Anything failing rolls the whole transaction back: the old table is untouched. ``"agentId"`` becomes NOT NULL
(it is part of the primary key), and the single-column ``("agentId")`` index is not recreated: the primary key
leads with it. ``"id"`` cannot be unique across partitions (PostgreSQL has no global index): it stays a client-side
uuid4, ``ON CONFLICT`` targets ``("agentId", "id")``, and a plain index on ``"id"`` serves lookups by id.

Example:
    >>> from okai_insight.ops.partitioning import plan_partitioning, partition_memories
    >>> print(plan_partitioning(url, partitions=8).summary())              # doctest: +SKIP
    would partition memories (12000 rows, 40 agents) by hash of "agentId" into 8 partitions
    >>> partition_memories(url, partitions=8).rows_copied                  # doctest: +SKIP
    12000
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import InvalidInput, SchemaError
from okai_insight.ops._connection import connect
from okai_insight.schema import read_profile

#: What ``--by`` accepts, and the column each means.
PARTITION_COLUMNS = {"agent": "agentId"}
MAX_PARTITIONS = 1024
#: The key okai_settings records the layout under.
SETTINGS_KEY = "memories_partitioning"
#: Where the old table waits, inside the transaction, while its rows are copied and verified.
_OLD = "okai_memories_unpartitioned"
#: An order-independent checksum of every row: no sort, so it costs one pass over each table.
_CHECKSUM = "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0) FROM {} AS t"


@dataclass(frozen=True)
class Step:
    """One statement of the conversion and why it runs ("verify" steps compare the copy with its source)."""

    sql: str
    why: str
    verify: bool = False


@dataclass(frozen=True)
class PartitionPlan:
    """What :func:`partition_memories` would do on this database.

    Example:
        >>> PartitionPlan(4, "agentId", 10, 2, []).summary()
        'would partition memories (10 rows, 2 agents) by hash of "agentId" into 4 partitions'
    """

    partitions: int
    column: str
    rows: int
    agents: int
    steps: list[Step] = field(default_factory=list)
    already: bool = False

    def summary(self) -> str:
        if self.already:
            return f'memories is already partitioned by hash of "{self.column}" into {self.partitions} partitions'
        return (
            f"would partition memories ({self.rows} rows, {self.agents} agents) by hash of "
            f'"{self.column}" into {self.partitions} partitions'
        )


@dataclass(frozen=True)
class PartitionResult:
    """A finished conversion: rows copied (verified against the source), rows per partition, per-partition HNSW
    indexes, and how long the transaction took."""

    plan: PartitionPlan
    rows_copied: int
    checksum: int
    partition_rows: dict[str, int]
    vector_indexes: list[str]
    duration_ms: float


@dataclass(frozen=True)
class Partition:
    """One partition of ``memories``: its name, bound, estimated rows and its vector index (None: none)."""

    name: str
    bound: str
    estimated_rows: int
    vector_index: str | None


def _check_args(partitions: Any, by: Any) -> str:
    if by not in PARTITION_COLUMNS:
        raise InvalidInput(f"--by must be one of {', '.join(PARTITION_COLUMNS)}, got {by!r}")
    if isinstance(partitions, bool) or not isinstance(partitions, int) or not 2 <= partitions <= MAX_PARTITIONS:
        raise InvalidInput(f"partitions must be an integer from 2 to {MAX_PARTITIONS}, got {partitions!r}")
    return PARTITION_COLUMNS[by]


def partition_names(partitions: int) -> list[str]:
    """The partitions' table names: ``memories_p0`` ... (zero-padded to sort in order).

    Example:
        >>> partition_names(12)[:2], partition_names(12)[-1]
        (['memories_p00', 'memories_p01'], 'memories_p11')
    """
    width = len(str(partitions - 1))
    return [f"memories_p{i:0{width}d}" for i in range(partitions)]


def _refusals(conn: psycopg.Connection[Any], column: str) -> list[str]:
    """Why the table cannot be converted as it is (empty: it can)."""
    out = []
    (agentless,) = conn.execute(
        sql.SQL("SELECT count(*) FROM memories WHERE {} IS NULL").format(sql.Identifier(column))
    ).fetchone() or (0,)
    if agentless:
        out.append(
            f'{agentless} memories have no "{column}": a partition key cannot be NULL (it is part of the primary '
            f'key). Give them their agent (UPDATE memories SET "{column}" = ... WHERE "{column}" IS NULL) or delete '
            f'them (DELETE FROM memories WHERE "{column}" IS NULL), then run this again'
        )
    views = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT r.ev_class::regclass::text FROM pg_depend AS d JOIN pg_rewrite AS r ON r.oid = d.objid "
            "WHERE d.refobjid = 'memories'::regclass AND r.ev_class <> 'memories'::regclass"
        )
    ]
    if views:
        out.append(f"views depend on memories ({', '.join(views)}): drop them first and recreate them afterwards")
    referencing = [
        r[0]
        for r in conn.execute(
            "SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = 'memories'::regclass AND contype = 'f' AND conrelid <> 'memories'::regclass"
        )
    ]
    if referencing:
        out.append(
            f"foreign keys reference memories ({', '.join(referencing)}): on a partitioned table they would have "
            f'to reference ("{column}", "id"); drop them first'
        )
    for name, definition in conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
        "WHERE i.indrelid = 'memories'::regclass AND i.indisunique AND NOT i.indisprimary "
        "AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = i.indrelid AND a.attname = %s "
        "AND a.attnum = ANY (i.indkey))",
        (column,),
    ):
        out.append(
            f'unique index {name} does not include "{column}": a partitioned table can only enforce uniqueness '
            f"within the partition key ({definition}); drop it or add the column"
        )
    return out


def _captured(conn: psycopg.Connection[Any], column: str, names: list[str]) -> list[Step]:
    """What the new table must get back from the old one: indexes, foreign keys, triggers, policies, grants."""
    steps: list[Step] = []
    ident = sql.Identifier(column)
    steps.append(
        Step(
            sql.SQL('ALTER TABLE memories ADD CONSTRAINT memories_pkey PRIMARY KEY ({}, "id")')
            .format(ident)
            .as_string(conn),
            f'the primary key must include the partition key; "id" stays a client-side uuid4, unique per "{column}"',
        )
    )
    for name, definition, agent_only in conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid),
               i.indnatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL AND am.amname = 'btree'
               AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = i.indrelid AND attname = %s)
        FROM pg_index AS i
        JOIN pg_class AS c ON c.oid = i.indexrelid
        JOIN pg_am AS am ON am.oid = c.relam
        WHERE i.indrelid = 'memories'::regclass AND NOT i.indisprimary
        ORDER BY c.relname
        """,
        (column,),
    ):
        if agent_only:
            continue  # the primary key leads with the partition key and serves everything this index served
        hnsw = " USING hnsw " in definition or " USING ivfflat " in definition
        steps.append(Step(definition, "one vector index per partition" if hnsw else f"as {name} was"))
    steps.append(
        Step(
            'CREATE INDEX idx_memories_id ON memories ("id")',
            "lookups by id alone (get_memory_by_id, remove_memory): the primary key leads with the partition key",
        )
    )
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'memories'::regclass AND contype = 'f' ORDER BY conname"
    ):
        steps.append(
            Step(
                sql.SQL("ALTER TABLE memories ADD CONSTRAINT {} ").format(sql.Identifier(name)).as_string(conn)
                + definition,
                "foreign key, as before",
            )
        )
    for (definition,) in conn.execute(
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = 'memories'::regclass AND NOT tgisinternal "
        "ORDER BY tgname"
    ):
        steps.append(Step(definition, "trigger, as before"))
    rls, force = conn.execute(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'memories'::regclass"
    ).fetchone() or (False, False)
    if rls:
        steps.append(Step("ALTER TABLE memories ENABLE ROW LEVEL SECURITY", "row level security, as before"))
    if force:
        steps.append(Step("ALTER TABLE memories FORCE ROW LEVEL SECURITY", "row level security, as before"))
    for name, permissive, roles, cmd, qual, check in conn.execute(
        "SELECT policyname, permissive, roles, cmd, qual, with_check FROM pg_policies "
        "WHERE schemaname = current_schema() AND tablename = 'memories' ORDER BY policyname"
    ):
        to = sql.SQL(", ").join(sql.SQL("PUBLIC") if r == "public" else sql.Identifier(r) for r in roles)
        text = (
            sql.SQL("CREATE POLICY {} ON memories AS {} FOR {} TO {}")
            .format(sql.Identifier(name), sql.SQL(permissive), sql.SQL(cmd), to)
            .as_string(conn)
        )
        text += f" USING ({qual})" if qual is not None else ""
        text += f" WITH CHECK ({check})" if check is not None else ""
        steps.append(Step(text, "row level security policy, as before"))
    owner_row = conn.execute(
        "SELECT pg_get_userbyid(relowner), current_user FROM pg_class WHERE oid = 'memories'::regclass"
    ).fetchone()
    owner = str(owner_row[0]) if owner_row else None
    for grantee, privilege, grantable in conn.execute(
        "SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, "
        "a.is_grantable FROM pg_class AS c, aclexplode(c.relacl) AS a WHERE c.oid = 'memories'::regclass "
        "AND a.grantee <> c.relowner ORDER BY 1, 2"
    ):
        grantee_sql: sql.Composable = sql.SQL("PUBLIC") if grantee is None else sql.Identifier(grantee)
        text = sql.SQL("GRANT {} ON memories TO {}").format(sql.SQL(privilege), grantee_sql).as_string(conn)
        steps.append(Step(text + (" WITH GRANT OPTION" if grantable else ""), "privilege, as before"))
    if owner_row and owner != owner_row[1]:
        for table in ["memories", *names]:
            steps.append(
                Step(
                    sql.SQL("ALTER TABLE {} OWNER TO {}")
                    .format(sql.Identifier(table), sql.Identifier(owner or ""))
                    .as_string(conn),
                    "owner, as before",
                )
            )
    return steps


def _plan(conn: psycopg.Connection[Any], partitions: int, column: str) -> PartitionPlan:
    profile = read_profile(conn)
    if profile.flavor in ("elizaos", "elizaos1"):  # both ElizaOS generations own their schema
        raise SchemaError(
            "this is an ElizaOS database: okai-insight never alters a schema ElizaOS owns (its own migrations expect "
            "a plain memories table). Copy it into an okai-insight database (okai-insight copy) and partition that"
        )
    if profile.flavor == "empty":
        raise SchemaError("this database has no memories table: run okai-insight init first")
    if profile.partition_key is not None:
        layout = conn.execute("SELECT value FROM okai_settings WHERE key = %s", (SETTINGS_KEY,)).fetchone()
        count = int(layout[0]["partitions"]) if layout else None
        if profile.partition_key == column and count == partitions:
            return PartitionPlan(partitions, column, 0, 0, [], already=True)
        raise SchemaError(
            f'memories is already partitioned (by "{profile.partition_key}", {count or "?"} partitions); '
            "repartitioning is not supported: restore a backup taken before, or copy into a new database"
        )
    problems = _refusals(conn, column)
    if problems:
        raise SchemaError("memories cannot be partitioned: " + "; ".join(problems))
    ident = sql.Identifier(column)
    rows, agents = conn.execute(
        sql.SQL("SELECT count(*), count(DISTINCT {}) FROM memories").format(ident)
    ).fetchone() or (0, 0)
    names = partition_names(partitions)
    old = sql.Identifier(_OLD)
    s = [
        Step("SET LOCAL lock_timeout = '10s'", "wait at most 10 s for running transactions on memories"),
        Step("LOCK TABLE memories IN ACCESS EXCLUSIVE MODE", "no reads or writes while the table is swapped"),
        Step(sql.SQL("ALTER TABLE memories RENAME TO {}").format(old).as_string(conn), "the old table, aside"),
        Step(
            sql.SQL(
                "CREATE TABLE memories (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
                "INCLUDING COMMENTS INCLUDING GENERATED INCLUDING IDENTITY) PARTITION BY HASH ({})"
            )
            .format(old, ident)
            .as_string(conn),
            "same columns in the same order, defaults and checks",
        ),
        Step(
            sql.SQL("ALTER TABLE memories ALTER COLUMN {} SET NOT NULL").format(ident).as_string(conn),
            "the partition key is part of the primary key",
        ),
    ]
    for i, name in enumerate(names):
        s.append(
            Step(
                sql.SQL("CREATE TABLE {} PARTITION OF memories FOR VALUES WITH (MODULUS {}, REMAINDER {})")
                .format(sql.Identifier(name), sql.Literal(partitions), sql.Literal(i))
                .as_string(conn),
                f"partition {i + 1} of {partitions}",
            )
        )
    s.append(
        Step(
            sql.SQL("INSERT INTO memories SELECT * FROM {}").format(old).as_string(conn),
            f"copy {rows} rows before building indexes (a bulk HNSW build is faster than row by row)",
        )
    )
    check = sql.SQL(_CHECKSUM).format(sql.Identifier("memories")).as_string(conn)
    s.append(Step(f"-- verify: {check} equals the same on {_OLD}", "every row copied, embeddings included", True))
    captured = _captured(conn, column, names)  # read before the old table is dropped (and its names freed)
    s.append(Step(sql.SQL("DROP TABLE {}").format(old).as_string(conn), "the source, verified copied"))
    s += captured
    layout = json.dumps({"method": "hash", "by": "agent", "column": column, "partitions": partitions})
    s.append(
        Step(
            sql.SQL(
                "INSERT INTO okai_settings (key, value) VALUES ({}, {}::jsonb) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
            )
            .format(sql.Literal(SETTINGS_KEY), sql.Literal(layout))
            .as_string(conn),
            "record the layout",
        )
    )
    s.append(Step("ANALYZE memories", "statistics for the parent and every partition (autovacuum skips parents)"))
    return PartitionPlan(partitions, column, int(rows), int(agents), s)


def plan_partitioning(url: str, *, partitions: int, by: str = "agent") -> PartitionPlan:
    """The dry run of :func:`partition_memories`: every statement it would run and why; raises what it would
    refuse (:class:`~okai_insight.errors.SchemaError` naming each reason). Changes nothing.

    Example:
        >>> [s.sql for s in plan_partitioning(url, partitions=4).steps][5]      # doctest: +SKIP
        'CREATE TABLE "memories_p0" PARTITION OF memories FOR VALUES WITH (MODULUS 4, REMAINDER 0)'
    """
    column = _check_args(partitions, by)
    with connect(url) as conn:
        conn.read_only = True
        try:
            return _plan(conn, partitions, column)
        finally:
            conn.rollback()


def partition_memories(url: str, *, partitions: int, by: str = "agent") -> PartitionResult:
    """Convert ``memories`` to hash partitions by agent in one transaction (see the module docstring); a
    database already partitioned the same way is left as it is (``plan.already``).

    Example:
        >>> done = partition_memories(url, partitions=4)                        # doctest: +SKIP
        >>> sorted(done.partition_rows)                                          # doctest: +SKIP
        ['memories_p0', 'memories_p1', 'memories_p2', 'memories_p3']
    """
    column = _check_args(partitions, by)
    start = time.perf_counter()
    with connect(url) as conn:
        with conn.transaction():
            if _has_memories(conn):  # lock first, so nothing changes between the checks and the copy
                conn.execute("SET LOCAL lock_timeout = '10s'")
                conn.execute("LOCK TABLE memories IN ACCESS EXCLUSIVE MODE")
            plan = _plan(conn, partitions, column)
            copied, checksum = 0, 0
            for step in plan.steps:
                if step.verify:
                    source = conn.execute(sql.SQL(_CHECKSUM).format(sql.Identifier(_OLD))).fetchone() or (0, 0)
                    copy = conn.execute(sql.SQL(_CHECKSUM).format(sql.Identifier("memories"))).fetchone()
                    if tuple(source) != tuple(copy or ()):
                        raise SchemaError(
                            f"the partitioned copy differs from memories (rows, checksum: {copy} against {source}); "
                            "nothing was changed"
                        )
                    copied, checksum = int(source[0]), int(source[1])
                else:
                    conn.execute(step.sql)  # type: ignore[arg-type]
            rows = {
                str(name): int(n)
                for name, n in conn.execute("SELECT tableoid::regclass::text, count(*) FROM memories GROUP BY 1")
            }
            parts = partitions_of(conn)
    return PartitionResult(
        plan,
        copied,
        checksum,
        {p.name: rows.get(p.name, 0) for p in parts},
        [p.vector_index for p in parts if p.vector_index],
        (time.perf_counter() - start) * 1000,
    )


def _has_memories(conn: psycopg.Connection[Any]) -> bool:
    return conn.execute("SELECT to_regclass('memories') IS NOT NULL").fetchone() == (True,)


def partitions_of(conn: psycopg.Connection[Any], table: str = "memories") -> list[Partition]:
    """The partitions of ``table`` (empty when it is not partitioned), each with its bound and vector index.

    Example:
        >>> [p.vector_index for p in partitions_of(conn)][:1]                   # doctest: +SKIP
        ['memories_p0_embedding_idx']
    """
    rows = conn.execute(
        """
        SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), greatest(c.reltuples, 0)::bigint,
               (SELECT min(ic.relname) FROM pg_index AS i JOIN pg_class AS ic ON ic.oid = i.indexrelid
                JOIN pg_am AS am ON am.oid = ic.relam
                WHERE i.indrelid = c.oid AND am.amname IN ('hnsw', 'ivfflat'))
        FROM pg_inherits AS h
        JOIN pg_class AS c ON c.oid = h.inhrelid
        WHERE h.inhparent = to_regclass(%s)
        ORDER BY c.relname
        """,
        (table,),
    ).fetchall()
    return [Partition(str(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]
