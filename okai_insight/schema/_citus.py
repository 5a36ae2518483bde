"""okai-insight's schema on a Citus coordinator: memories distributed by agent, the rest where its queries need it.

On a coordinator (``citus`` installed and ``citus_is_coordinator()``), :func:`distribute_schema` lays the tables
out as follows, each choice following the adapter's queries:

- ``memories``: hash-distributed by ``"agentId"``. Every search and read filtered by agent is routed to the one
  shard holding the agent; unfiltered and room-filtered searches fan out to every shard, each shard answers its
  top-k from its own HNSW index (one per shard, created by Citus from the table's index) and the coordinator merges
  them. The primary key becomes ``("agentId", "id")``: Citus, like a partitioned table, can only enforce
  uniqueness within the distribution column, so ``"agentId"`` is NOT NULL and the adapter's ``ON CONFLICT`` targets
  both columns (it reads the key from the schema profile, as for ``okai-insight partition``). A plain index on
  ``"id"`` serves lookups by id alone.
- ``cache`` stays a plain table on the coordinator. Distributed, its upsert (``ON CONFLICT ... DO UPDATE SET
  "createdAt" = CURRENT_TIMESTAMP``) is refused (Citus allows only IMMUTABLE functions there), and its ``"agentId"``
  is text, not uuid, so it could not be co-located with ``memories`` anyway; it is small and read by key.
- ``accounts``, ``rooms``, ``participants``, ``relationships``, ``goals``, ``logs``, ``knowledge``: reference
  tables (a full copy on every node). ``memories`` has foreign keys to accounts and rooms, which Citus allows from a
  distributed table only to reference tables; goals and logs have no agent column to distribute by; shared
  knowledge rows have no agent (NULL), which a distribution column cannot be, and its ``"originalId"`` foreign key
  points at its own ``"id"``. Each reference copy keeps its indexes, HNSW included.
- ``okai_schema_version`` and ``okai_settings`` stay on the coordinator: only okai-insight reads them there.
- The database's ``citus.multi_shard_modify_mode`` becomes ``sequential`` (one connection per node for a
  multi-shard write): removing a room deletes its memories on every shard and then its participants and the room
  in the same transaction, and Citus refuses a reference table write after a parallel multi-shard one. Its
  ``hnsw.iterative_scan`` becomes ``relaxed_order`` and ``hnsw.ef_search`` okai's default on every node: the
  adapter sets them with ``set_config`` in its own sessions, which Citus does not carry to the shards.

The near-duplicate check's per-room advisory lock is taken on the coordinator, where every write arrives; it
serialises writers of one room across shards. (Writers connected straight to workers, Citus's "query from any
node", would take it on different nodes: send memory writes to the coordinator.)

``init`` distributes an okai schema it has just created on a coordinator (:func:`distribute_new_schema`, empty
tables only). An existing single-node database is converted with :func:`distribute_schema` on the server once it is
a coordinator with workers: one transaction, every row of every table counted and checksummed before and after the
move, rolled back on any difference.

Example:
    >>> from okai_insight.schema import distribute_schema
    >>> distribute_schema(conn).distributed                     # doctest: +SKIP
    {'memories': 'agentId'}
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.errors import SchemaError
from okai_insight.settings import Settings

#: Distributed tables and their distribution column.
DISTRIBUTED = {"memories": "agentId"}
#: Reference tables, in foreign-key order (a reference table may only point at reference tables).
REFERENCE = ("accounts", "rooms", "participants", "relationships", "goals", "logs", "knowledge")
#: Database defaults the distributed schema needs (Citus propagates ALTER DATABASE ... SET to the workers):
#: room removal writes reference tables after a multi-shard delete, which Citus allows in sequential mode only; and
#: the adapter's per-session and per-statement pgvector settings (set_config) never reach the shards' sessions, so
#: the iterative scan (a filtered or k > ef_search search reading on until it has k rows) is the database's default.
_DATABASE_SETTINGS = (
    "citus.multi_shard_modify_mode TO 'sequential'",
    "hnsw.iterative_scan TO 'relaxed_order'",
    # okai's default ef_search (Settings.hnsw_ef_search), not pgvector's 40: the shards search with what okai's
    # measurements chose; an adapter asking for another value gets it on the coordinator only (docs/scaling.md).
    f"hnsw.ef_search TO {int(Settings().hnsw_ef_search or 40)}",
)
#: An order-independent checksum of every row (as okai_insight/ops/partitioning.py verifies its move).
_CHECKSUM = "SELECT count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0) FROM {} AS t"


@dataclass(frozen=True)
class Distribution:
    """The outcome of :func:`distribute_schema`: distributed tables (and their column), reference tables, the
    rows each table held (verified identical after the move), and how long it took.

    Example:
        >>> Distribution({"memories": "agentId"}, ["accounts"], {"memories": 3}).summary()
        'memories distributed by "agentId", 1 reference tables, 3 rows verified'
    """

    distributed: dict[str, str]
    reference: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    duration_ms: float = 0.0
    already: bool = False

    def summary(self) -> str:
        if self.already:
            return "already distributed: " + ", ".join(f'{t} by "{c}"' for t, c in self.distributed.items())
        by = ", ".join(f'{t} distributed by "{c}"' for t, c in self.distributed.items() if t == "memories")
        return f"{by}, {len(self.reference)} reference tables, {sum(self.rows.values())} rows verified"


def is_citus_coordinator(conn: psycopg.Connection[Any]) -> bool:
    """Whether the connection's database has the citus extension and this node is its coordinator.

    Example:
        >>> is_citus_coordinator(conn)                              # doctest: +SKIP
        True
    """
    row = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'").fetchone()
    if row is None:
        return False
    return conn.execute("SELECT citus_is_coordinator()").fetchone() == (True,)


def distribution_column(conn: psycopg.Connection[Any], table: str = "memories") -> str | None:
    """The column Citus hash-distributes ``table`` by, or None (no Citus, or not a hash-distributed table).

    Example:
        >>> distribution_column(conn)                               # doctest: +SKIP
        'agentId'
    """
    if conn.execute("SELECT to_regclass('pg_catalog.pg_dist_partition')").fetchone() == (None,):
        return None
    row = conn.execute(
        "SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition "
        "WHERE logicalrelid = to_regclass(%s) AND partmethod = 'h'",
        (table,),
    ).fetchone()
    return None if row is None else str(row[0])


def _citus_tables(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Tables already in Citus's metadata and their kind ('distributed', 'reference', 'local')."""
    rows = conn.execute(
        "SELECT logicalrelid::regclass::text, CASE WHEN partmethod = 'h' THEN 'distributed' "
        "WHEN repmodel = 't' THEN 'reference' ELSE 'local' END FROM pg_dist_partition"
    ).fetchall()
    return {str(name).strip('"'): str(kind) for name, kind in rows}


def _exists(conn: psycopg.Connection[Any], table: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone() == (True,)


def _checksums(conn: psycopg.Connection[Any], tables: list[str]) -> dict[str, tuple[int, int]]:
    out = {}
    for table in tables:
        row = conn.execute(sql.SQL(_CHECKSUM).format(sql.Identifier(table))).fetchone() or (0, 0)
        out[table] = (int(row[0]), int(row[1]))
    return out


def _memories_key_steps(conn: psycopg.Connection[Any]) -> list[sql.SQL | sql.Composed]:
    """The primary key must hold the distribution column; the agent-only index becomes a prefix of it."""
    steps: list[sql.SQL | sql.Composed] = []
    (agentless,) = conn.execute('SELECT count(*) FROM memories WHERE "agentId" IS NULL').fetchone() or (0,)
    if agentless:
        raise SchemaError(
            f'{agentless} memories have no "agentId": Citus distributes memories by agent, and a distribution '
            'column cannot be NULL. Give them their agent (UPDATE memories SET "agentId" = ... WHERE "agentId" IS '
            "NULL) or delete them, then run this again"
        )
    referencing = [
        str(r[0])
        for r in conn.execute(
            "SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = 'memories'::regclass AND contype = 'f' AND conrelid <> 'memories'::regclass"
        )
    ]
    if referencing:
        raise SchemaError(
            f"foreign keys reference memories ({', '.join(referencing)}): on a distributed table they would have to "
            'reference ("agentId", "id") from a co-located table; drop them first'
        )
    pkey = conn.execute(
        "SELECT conname, array(SELECT attname FROM pg_attribute WHERE attrelid = conrelid AND attnum = ANY(conkey)) "
        "FROM pg_constraint WHERE conrelid = 'memories'::regclass AND contype = 'p'"
    ).fetchone()
    if pkey is not None and "agentId" in pkey[1]:
        return steps  # converted before (a partitioned table's key already leads with the agent)
    steps.append(sql.SQL('ALTER TABLE memories ALTER COLUMN "agentId" SET NOT NULL'))
    if pkey is not None:
        steps.append(sql.SQL("ALTER TABLE memories DROP CONSTRAINT {}").format(sql.Identifier(pkey[0])))
    steps.append(sql.SQL('ALTER TABLE memories ADD CONSTRAINT memories_pkey PRIMARY KEY ("agentId", "id")'))
    steps.append(sql.SQL('CREATE INDEX IF NOT EXISTS idx_memories_id ON memories ("id")'))
    steps.append(sql.SQL("DROP INDEX IF EXISTS idx_memories_agent"))
    return steps


def distribute_schema(conn: psycopg.Connection[Any]) -> Distribution:
    """Distribute okai-insight's schema on this Citus coordinator (see the module docstring), moving and
    verifying any rows it holds; a schema distributed before is left as it is (``already``). ``conn`` must be in
    autocommit mode: the move is one transaction of its own.

    Raises :class:`~okai_insight.errors.SchemaError` when the server is not a Citus coordinator, the database has no
    okai-insight schema, memories without an agent exist, or the moved rows differ from the source (rolled back).

    Example:
        >>> distribute_schema(conn).summary()                      # doctest: +SKIP
        'memories distributed by "agentId", 7 reference tables, 1200 rows verified'
    """
    from okai_insight.schema._profile import read_profile

    start = time.perf_counter()
    if not is_citus_coordinator(conn):
        raise SchemaError(
            "this server is not a Citus coordinator (CREATE EXTENSION citus, then citus_set_coordinator_host and "
            "citus_add_node for its workers; docs/scaling.md)"
        )
    profile = read_profile(conn)
    if profile.flavor != "okai":
        raise SchemaError(
            f"distributing needs okai-insight's own schema, this database is {profile.display_name}: run "
            "okai-insight init on an empty database (or copy this one into it) and distribute that"
        )
    if profile.partition_key is not None and distribution_column(conn) is None:
        raise SchemaError(
            "memories is hash-partitioned (okai-insight partition): Citus distributes plain tables; copy the data "
            "into a new okai-insight database on the coordinator instead"
        )
    present = [t for t in (*REFERENCE, *DISTRIBUTED) if _exists(conn, t)]
    known = _citus_tables(conn)
    if all(t in known for t in present):
        return Distribution(
            {t: c for t, c in DISTRIBUTED.items() if known.get(t) == "distributed"},
            [t for t in REFERENCE if known.get(t) == "reference"],
            already=True,
        )
    with conn.transaction():
        conn.execute("SET LOCAL lock_timeout = '10s'")
        for table in present:  # nothing may change between the checksums and the move
            conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
        before = _checksums(conn, present)
        for step in _memories_key_steps(conn) if "memories" not in known else []:
            conn.execute(step)
        # Each table is copied into its shards (or replicas) and its local rows removed by Citus in this
        # transaction; in a multi-statement transaction Citus must use one connection per node for all of it.
        conn.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        reference = [t for t in REFERENCE if t in present]
        for table in reference:
            if table not in known:
                conn.execute("SELECT create_reference_table(%s)", (table,))
        distributed = {t: c for t, c in DISTRIBUTED.items() if t in present}
        for table, column in distributed.items():
            if table not in known:
                conn.execute(
                    "SELECT create_distributed_table(%s, %s, colocate_with => 'none')"
                    if table != "memories"
                    else "SELECT create_distributed_table(%s, %s)",
                    (table, column),
                )
        for table in [*reference, *distributed]:
            if table not in known:
                # Citus copies a table's rows into its shards but leaves the coordinator's own copy in place
                # (unreachable through the table, still on disk): removed here, in the same transaction.
                conn.execute("SELECT truncate_local_data_after_distributing_table(%s)", (table,))
        after = _checksums(conn, present)
        if after != before:
            moved = {t: (before[t], after[t]) for t in present if before[t] != after[t]}
            raise SchemaError(f"the distributed copy differs from the source (before, after): {moved}; nothing changed")
    database = sql.Identifier(str((conn.execute("SELECT current_database()").fetchone() or ("",))[0]))
    for setting in _DATABASE_SETTINGS:
        try:
            conn.execute(sql.SQL("ALTER DATABASE {} SET ").format(database) + sql.SQL(setting))
        except psycopg.errors.InsufficientPrivilege:
            pass  # not the database's owner: the application's sessions need these settings themselves
    if distributed.get("memories") is not None:
        conn.execute("ANALYZE memories")
    return Distribution(
        distributed, reference, {t: n for t, (n, _) in before.items()}, (time.perf_counter() - start) * 1000
    )


def any_memory_exists(conn: psycopg.Connection[Any], ids: list[Any]) -> bool:
    """Whether a memory with one of ``ids`` is stored: how the adapter recognises a duplicate after Citus's
    distributed COPY failed, since Citus reports a shard's unique violation without its SQLSTATE (XX000).

    Example:
        >>> any_memory_exists(conn, [uuid.uuid4()])                 # doctest: +SKIP
        False
    """
    return conn.execute('SELECT EXISTS (SELECT 1 FROM memories WHERE "id" = ANY(%s))', (list(ids),)).fetchone() == (
        True,
    )


def distribute_new_schema(conn: psycopg.Connection[Any]) -> Distribution | None:
    """``init``'s step on a Citus coordinator: distribute okai's schema while its tables are still empty; None
    when this is not a coordinator, the schema is distributed already, or memories holds rows (moving data is
    :func:`distribute_schema`'s explicit, verified job, never a side effect of connecting).

    Example:
        >>> distribute_new_schema(conn) is None                     # doctest: +SKIP
        True
    """
    if not is_citus_coordinator(conn) or distribution_column(conn) is not None:
        return None
    if conn.execute("SELECT EXISTS (SELECT 1 FROM memories)").fetchone() == (True,):
        return None
    return distribute_schema(conn)
