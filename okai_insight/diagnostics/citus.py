"""Citus: the cluster as the coordinator sees it. Its nodes, shard placement and balance, each vector index judged
on every shard, the tables that should be distributed and are not, and the statements that fan out to every shard
where a filter on the distribution column would route them to one.

Every check runs only where the ``citus`` extension is installed; anywhere else it answers with no rows and the
note "not a Citus database" (status ``ok``: a single-node database is not a degraded one), so doctor stays quiet.
Point them at the coordinator (the URL the application uses). The checks read the coordinator's metadata
(``pg_dist_node``, ``pg_dist_partition``, ``citus_shards``); ``citus_vector_indexes`` also reads each shard
placement's catalog on its worker (``run_command_on_placements``, a SELECT), and ``citus_nodes`` asks every node to
connect to every other (``citus_check_cluster_node_health``). Nothing is written anywhere.

Example:
    >>> from okai_insight.diagnostics import citus
    >>> [f.message for f in citus.citus_vector_indexes(url).findings]          # doctest: +SKIP
    ['shard memories_102017 on 127.0.0.1:9701 has no idx_memories_embedding ...']
"""

from __future__ import annotations

from typing import Any

from okai_insight.diagnostics._fmt import human_bytes, human_ms
from okai_insight.diagnostics._result import Finding, Result
from okai_insight.diagnostics._runner import Fields, Findings, Rows, Runner, diagnostic

#: The note of every check on a database without the citus extension.
NOT_CITUS = "not a Citus database (the citus extension is not installed here): nothing to check"
CITUS_DOCS = "Citus docs"
#: Tables okai-insight distributes by agent on a Citus coordinator, and those it makes reference tables
#: (okai_insight/schema/_citus.py, which init and the conversion follow).
DISTRIBUTE_BY_AGENT = ("memories",)
REFERENCE_TABLES = ("accounts", "rooms", "participants", "relationships", "goals", "logs", "knowledge")
SCHEMA_LAYOUT = "okai_insight/schema/_citus.py (memories by agent; accounts, rooms ... as reference tables)"
#: At most this many statements are listed by citus_fanout_queries.
FANOUT_LIMIT = 20


def _not_citus(run: Runner) -> Fields | None:
    """The answer of a check on a database without Citus, or None where Citus is installed."""
    if run.features.has_extension("citus"):
        return None
    return {"rows": [], "findings": [], "note": NOT_CITUS}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _on_worker(row: dict[str, Any], statement: str) -> str:
    """A fix to run on the shard's own node: Citus refuses DDL on a shard unless the session allows it."""
    return f"-- on {row['node']}, this database:\nSET citus.enable_manual_changes_to_shards TO on;\n{statement}"


def _host_port(node: str) -> tuple[str, str]:
    host, _, port = node.rpartition(":")
    return host, port


@diagnostic("citus", "Citus nodes", result=Result)
def citus_nodes(run: Runner, *, check_health: bool = True) -> Fields:
    """The nodes of the Citus cluster (``pg_dist_node``): role, active, metadata synced, shard placements held,
    and (``check_health``) whether every other node can connect to each. Critical: an inactive node (its shards
    are not queried) or one another node cannot reach; warning: a worker without synced metadata, or one that
    should not hold shards but does (draining); info: no worker at all (every shard on the coordinator).

    Example:
        >>> [r["node"] for r in citus_nodes(url).rows]                  # doctest: +SKIP
        ['127.0.0.1:9700', '127.0.0.1:9701', '127.0.0.1:9702']
    """
    skip = _not_citus(run)
    if skip is not None:
        return skip
    res = run.query("citus", "citus_nodes", {"check_health": check_health})
    findings: Findings = []
    source = f"{CITUS_DOCS}, cluster management (pg_dist_node, citus_check_cluster_node_health)"
    workers = [r for r in res.rows if r["role"] == "worker" and r["node_role"] == "primary"]
    for r in res.rows:
        node, role = r["node"], r["role"]
        host, port = _host_port(node)
        if not r["is_active"]:
            findings.append(
                Finding(
                    "critical",
                    f"{role} {node} is inactive: Citus sends no query to it, so the shards placed there "
                    f"({r['shard_placements']}) are not read and writes to them fail.",
                    threshold="isactive = false",
                    source=source,
                    fix_sql=f"SELECT citus_activate_node({_quote(host)}, {port});",
                    subject=node,
                )
            )
        elif r["reachable"] is False:
            findings.append(
                Finding(
                    "critical",
                    f"{role} {node} cannot be reached from {r['unreachable_from']}: queries needing its shards fail.",
                    threshold="citus_check_cluster_node_health().result = false",
                    source=source,
                    subject=node,
                )
            )
        if role == "worker" and r["is_active"] and not (r["has_metadata"] and r["metadata_synced"]):
            findings.append(
                Finding(
                    "warning",
                    f"worker {node}'s copy of the cluster metadata is not synced: queries sent to it (Citus's "
                    "query from any node) and its maintenance see an old cluster.",
                    threshold="hasmetadata and metadatasynced",
                    source=source,
                    fix_sql=f"SELECT citus_activate_node({_quote(host)}, {port});",
                    subject=node,
                )
            )
        if role == "worker" and not r["should_have_shards"] and r["shard_placements"]:
            findings.append(
                Finding(
                    "warning",
                    f"worker {node} should not hold shards (shouldhaveshards = false, a node being drained?) but "
                    f"holds {r['shard_placements']} placements.",
                    threshold="shouldhaveshards = false and placements > 0",
                    source=source,
                    fix_sql=f"SELECT citus_drain_node({_quote(host)}, {port});",
                    subject=node,
                )
            )
    if not workers:
        findings.append(
            Finding(
                "info",
                "no worker is registered: every shard lives on the coordinator, which is a single node with Citus's "
                "overhead. Add workers to spread the shards.",
                threshold="no active primary worker in pg_dist_node",
                source=source,
                fix_sql="SELECT citus_add_node('worker-host', 5432);",
            )
        )
    return {"rows": res.rows, "findings": findings, "columns": res.columns}


@diagnostic("citus", "Citus shard balance", result=Result)
def citus_shards(run: Runner, *, table: str | None = None, base_cost_bytes: int | None = None) -> Fields:
    """Shard placement and balance of each hash-distributed table, one row a table and node: shards, size, and the
    rebalancer's cost (size plus ``citus.rebalancer_by_disk_size_base_cost``, 100 MB, a shard; ``base_cost_bytes``
    overrides it). Warning: a node that should hold shards holds none of a table, or one node's cost exceeds the
    mean by more than the ``by_disk_size`` strategy's threshold (10 %), with ``citus_rebalance_start()`` as the fix.
    One agent much larger than the others (a tenant too big for its shard) shows the same way.

    Example:
        >>> citus_shards(url, table="memories").rows[0]["shards"]        # doctest: +SKIP
        2
    """
    skip = _not_citus(run)
    if skip is not None:
        return skip
    res = run.query("citus", "citus_shards", {"table": table, "base_cost_bytes": base_cost_bytes})
    findings: Findings = []
    source = f"{CITUS_DOCS}, shard rebalancing (pg_dist_rebalance_strategy 'by_disk_size', default_threshold)"
    by_table: dict[str, list[dict[str, Any]]] = {}
    for r in res.rows:
        by_table.setdefault(r["table"], []).append(r)
    for name, rows in by_table.items():
        if len(rows) < 2:
            continue  # one node holds everything by design: nothing to balance
        empty = [r for r in rows if r["should_have_shards"] and not r["shards"]]
        for r in empty:
            findings.append(
                Finding(
                    "warning",
                    f"node {r['node']} holds no shard of {name}: it takes no part in that table's queries (added "
                    "after the table was distributed, and not rebalanced?).",
                    threshold="shouldhaveshards and shards = 0",
                    source=source,
                    fix_sql="SELECT citus_rebalance_start();",
                    subject=f"{name} @ {r['node']}",
                )
            )
        worst = max(rows, key=lambda r: r["imbalance"] or 0.0)
        if not empty and (worst["imbalance"] or 0.0) > worst["threshold"]:
            findings.append(
                Finding(
                    "warning",
                    f"{name} is unbalanced: node {worst['node']} holds {worst['shards']} shards, "
                    f"{human_bytes(worst['size_bytes'])}, a cost {worst['imbalance']:.0%} above the mean over "
                    f"{len(rows)} nodes (size + {human_bytes(worst['base_cost_bytes'])} a shard). It does more of "
                    "every fan-out query's work; one agent much larger than the rest shows the same way.",
                    threshold=f"cost / mean cost - 1 > {worst['threshold']:g}",
                    source=f"{source}; citus.rebalancer_by_disk_size_base_cost",
                    fix_sql="SELECT citus_rebalance_start();",
                    subject=name,
                )
            )
    return {"rows": res.rows, "findings": findings, "columns": res.columns}


@diagnostic("citus", "Citus vector indexes per shard", result=Result, shown_with=("vectors",))
def citus_vector_indexes(run: Runner, *, table: str | None = None) -> Fields:
    """Each vector index of a distributed table, judged on every shard placement (read from the placement's
    worker): critical when a shard's copy is missing or invalid (that shard answers its part of every search by a
    sequential scan), naming the shard and its node; warning when a node did not answer. Rows carry each shard's
    index size.

    Example:
        >>> {r["present"] for r in citus_vector_indexes(url).rows}      # doctest: +SKIP
        {True}
    """
    skip = _not_citus(run)
    if skip is not None:
        return skip
    res = run.query("citus", "citus_vector_indexes", {"table": table})
    findings: Findings = []
    source = (
        f"pgvector README; {CITUS_DOCS}, distributed DDL (CREATE INDEX on a distributed table creates "
        "<index>_<shardid> on every shard)"
    )
    for r in res.rows:
        where = f"shard {r['shard']} on {r['node']}"
        subject = f"{r['index']} @ {r['shard']} ({r['node']})"
        if not r["checked"]:
            error = str(r["error"] or "").strip().splitlines()[0] if r["error"] else "no answer"
            findings.append(
                Finding(
                    "warning",
                    f"could not read {r['index']} on {where}: {error}",
                    threshold="run_command_on_placements success = false",
                    source=source,
                    subject=subject,
                )
            )
        elif not r["present"]:
            findings.append(
                Finding(
                    "critical",
                    f"{where} has no {r['index']} ({r['method']}): that shard answers its part of every search on "
                    f"{r['table']} by a sequential scan, while the other shards use their index.",
                    threshold="shard index missing",
                    source=source,
                    # Not from the coordinator: DROP INDEX / REINDEX there fail on the shard that lacks it.
                    fix_sql=_on_worker(r, f"{r['shard_index_sql']};"),
                    subject=subject,
                )
            )
        elif not (r["valid"] and r["ready"]):
            findings.append(
                Finding(
                    "critical",
                    f"{where} has an invalid {r['index']} (a failed or interrupted build): the planner does not "
                    "use it, so that shard's part of every search is a sequential scan; writes still maintain it.",
                    threshold="indisvalid = false or indisready = false",
                    source=source,
                    fix_sql=_on_worker(r, f"REINDEX INDEX CONCURRENTLY {r['index']}_{r['shard_id']};"),
                    subject=subject,
                )
            )
    return {"rows": res.rows, "findings": findings, "columns": res.columns}


@diagnostic("citus", "Citus fan-out queries", result=Result)
def citus_fanout_queries(run: Runner, *, limit: int = FANOUT_LIMIT) -> Fields:
    """The statements on distributed tables (``pg_stat_statements`` on the coordinator), fan-outs first: Citus's
    own ``citus_stat_statements`` decides where it tracks (``citus.stat_statements_track = 'all'``), the text
    elsewhere (no mention of the distribution column: every shard). Warning: a filtered statement that does not
    filter by the distribution column (``"agentId"``) runs on every shard where it could run on one; info: the
    unfiltered ones (a search over every agent fans out by design).

    Example:
        >>> [r["fans_out"] for r in citus_fanout_queries(url).rows][:1]   # doctest: +SKIP
        [True]
    """
    skip = _not_citus(run)
    if skip is not None:
        return skip
    run.require_extension("pg_stat_statements", why="the fan-out check", preload=True)
    res = run.query("citus", "citus_fanout_queries", {"limit": limit})
    findings: Findings = []
    source = f"{CITUS_DOCS}, query processing (router vs multi-shard queries); citus_stat_statements (partition_key)"
    unfiltered: Rows = []
    for r in res.rows:
        if not r["fans_out"]:
            continue
        if not r["filtered"]:
            unfiltered.append(r)
            continue
        how = "Citus recorded it as multi-shard" if r["tracked"] else "its text does not name the column"
        findings.append(
            Finding(
                "warning",
                f"statement {r['queryid']} filters {r['table']} without {r['distribution_column']!r} ({how}): each "
                f"of its {r['calls']} calls (mean {human_ms(r['mean_ms'])}) runs on every shard and the coordinator "
                f"merges them. Add {r['distribution_column']!r} = <agent> to the filter where the agent is known, "
                f"and Citus routes it to one shard. {str(r['query'])[:160]}",
                threshold="multi-shard statement with a WHERE clause",
                source=source,
                subject=str(r["queryid"]),
            )
        )
    if unfiltered:
        calls = sum(int(r["calls"]) for r in unfiltered)
        findings.append(
            Finding(
                "info",
                f"{len(unfiltered)} unfiltered statement(s) on distributed tables ({calls} calls) run on every shard: "
                "expected for a search over every agent, each call costs one query a shard plus the merge.",
                threshold="multi-shard statement without a WHERE clause",
                source=source,
                subject=", ".join(str(r["queryid"]) for r in unfiltered[:5]),
            )
        )
    return {"rows": res.rows, "findings": findings, "columns": res.columns}


@diagnostic("citus", "Citus undistributed tables", result=Result)
def citus_undistributed_tables(run: Runner) -> Fields:
    """How Citus holds the agent-memory tables: warning when ``memories`` is not hash-distributed by its agent
    column (it lives on the coordinator alone, or is distributed by something an agent's searches do not filter
    by); info for a table okai-insight makes a reference table that is still local to the coordinator.

    Example:
        >>> citus_undistributed_tables(url).rows[0]["citus_table_type"]  # doctest: +SKIP
        'reference'
    """
    skip = _not_citus(run)
    if skip is not None:
        return skip
    tables = [*DISTRIBUTE_BY_AGENT, *REFERENCE_TABLES]
    res = run.query("citus", "citus_undistributed_tables", {"tables": tables})
    findings: Findings = []
    source = f"{SCHEMA_LAYOUT}; {CITUS_DOCS}, choosing a distribution column (multi-tenant)"
    for r in res.rows:
        name = str(r["table"]).rsplit(".", 1)[-1].strip('"')
        kind, agent = r["citus_table_type"], r["agent_column"]
        if name in DISTRIBUTE_BY_AGENT and kind != "distributed":
            where = "on the coordinator alone" if kind in ("none", "local") else "copied to every node"
            findings.append(
                Finding(
                    "warning",
                    f"{r['table']} ({r['estimated_rows']} rows, {human_bytes(r['size_bytes'])}) is a {kind} table "
                    f"{where} in a Citus database: every search runs on one node and the workers hold none of it. "
                    f"Distribute it by {agent or 'its agent column'!r} (docs/scaling.md: the verified conversion).",
                    threshold="memories not hash-distributed",
                    source=source,
                    fix_sql=(
                        f"SELECT create_distributed_table({_quote(str(r['table']))}, {_quote(agent)});"
                        if agent and kind == "none"
                        else None
                    ),
                    subject=str(r["table"]),
                )
            )
        elif name in DISTRIBUTE_BY_AGENT and agent and r["distribution_column"] != agent:
            findings.append(
                Finding(
                    "warning",
                    f"{r['table']} is distributed by {r['distribution_column']!r}, not by its agent column "
                    f"{agent!r}: an agent's searches, which filter by agent, run on every shard.",
                    threshold="distribution column is not the agent column",
                    source=source,
                    subject=str(r["table"]),
                )
            )
        elif name in REFERENCE_TABLES and kind in ("none", "local"):
            findings.append(
                Finding(
                    "info",
                    f"{r['table']} is local to the coordinator: a distributed memories table can neither keep its "
                    "foreign key to it nor join it on the workers. Make it a reference table.",
                    threshold="reference table candidate left local",
                    source=source,
                    fix_sql=f"SELECT create_reference_table({_quote(str(r['table']))});",
                    subject=str(r["table"]),
                )
            )
    return {"rows": res.rows, "findings": findings, "columns": res.columns}
