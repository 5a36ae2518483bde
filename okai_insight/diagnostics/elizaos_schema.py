"""ElizaOS schemas: what the doctor must say because the database is ElizaOS's (issue 14 items 2 and 6).

On an ElizaOS 1.x database (``@elizaos/plugin-sql``): foreign keys declared twice, ``memories``' foreign keys without
an index, tables without a primary key (``logs``). On an ElizaOS 0.1.9 or okai-insight database: that ElizaOS 1.x must
never be pointed at it (its migrator renames columns and drops the HNSW indexes, then refuses to start).

Example:
    >>> from okai_insight.diagnostics import elizaos_schema
    >>> elizaos_schema.elizaos_schema(url).findings[0].severity       # doctest: +SKIP
    'warning'
"""

from __future__ import annotations

from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import Findings, Outcome, Runner, diagnostic
from okai_insight.errors import OkaiError
from okai_insight.schema import read_profile

DOCS = "docs/elizaos1.md"
UPGRADE = (
    "Do not point ElizaOS 1.x at this database: its migrator (run at every agent start) renames columns "
    '("roomId" -> room_id, ...) and drops indexes, the HNSW vector indexes among them, then refuses to start, '
    "leaving a database neither can use. Give ElizaOS 1.x a new, empty database and export these memories with "
    "okai-insight copy; never share one database between them."
)


@diagnostic("indexes", "ElizaOS schema")
def elizaos_schema(run: Runner) -> Outcome:
    """What the schema's ElizaOS flavour means: on 1.x its key and index defects (duplicated foreign keys,
    ``memories``' foreign keys without an index, tables without a primary key); on 0.1.9 and okai's own schema the
    upgrade warning (an info finding with the safe path). Nothing on other databases.

    Example:
        >>> elizaos_schema(url).rows[0]["flavor"]                     # doctest: +SKIP
        'elizaos1'
    """
    try:
        with run.transaction() as tx:
            profile = read_profile(tx.cursor.connection)
    except OkaiError:
        return [], []
    rows = [{"flavor": profile.flavor, "kind": None, "qualified_table": None, "constraints": None, "definition": None}]
    findings: Findings = []
    if profile.flavor in ("elizaos", "okai"):
        shape = "ElizaOS 0.1.9" if profile.flavor == "elizaos" else "okai-insight"
        findings.append(
            Finding(
                "info",
                f"this is an {shape} database. {UPGRADE}",
                threshold=f"schema profile {profile.flavor!r}",
                source=f"{DOCS} (upgrade warning); @elizaos/plugin-sql 1.7.x migrator",
                fix_sql="-- okai-insight copy --from <this database> --to <a new database>  (then point ElizaOS 1.x "
                "at a new, empty database of its own)",
                subject="upgrade to ElizaOS 1.x",
            )
        )
    if profile.flavor != "elizaos1":
        return rows, findings
    rows = [{"flavor": profile.flavor, **r} for r in run.query("indexes", "elizaos_schema_keys").rows]
    for r in rows:
        table, names = r["qualified_table"], list(r["constraints"] or ())
        if r["kind"] == "duplicate_foreign_key":
            findings.append(
                Finding(
                    "info",
                    f"{table} declares the same foreign key {len(names)} times ({', '.join(names)}: "
                    f"{r['definition']}): every write checks it {len(names)} times. ElizaOS's migrator owns the "
                    "schema, so report it upstream rather than dropping one.",
                    threshold="count(*) > 1 of foreign keys with the same columns and referenced table",
                    source=f"{DOCS} (measured on plugin-sql 1.7.2)",
                    subject=table,
                )
            )
        elif r["kind"] == "memories_foreign_key_without_index":
            cols = str(r["definition"]).split("(", 1)[1].split(")", 1)[0]
            findings.append(
                Finding(
                    "warning",
                    f"{table}'s foreign key {names[0]} ({cols}) has no index: ElizaOS filters every search and "
                    "lookup by it, and a delete of the referenced row scans all memories.",
                    threshold="foreign key of memories with no index starting with its columns",
                    source="PostgreSQL docs, ddl-constraints-fk; " + DOCS,
                    fix_sql=f"CREATE INDEX CONCURRENTLY ON {table} ({cols});  -- ElizaOS's migrator may drop what "
                    "it did not create",
                    subject=f"{table}.{names[0]}",
                )
            )
        elif r["kind"] == "no_primary_key":
            findings.append(
                Finding(
                    "info",
                    f"{table} has no primary key: its rows cannot be told apart, and logical replication cannot "
                    "publish its updates and deletes.",
                    threshold="no PRIMARY KEY constraint",
                    source="PostgreSQL docs, logical-replication-publication (REPLICA IDENTITY); " + DOCS,
                    subject=table,
                )
            )
    return rows, findings, ("flavor", "kind", "qualified_table", "constraints", "definition")
