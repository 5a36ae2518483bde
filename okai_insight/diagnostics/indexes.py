"""Indexes: unused, duplicate and invalid indexes, foreign keys without an index, tables read mostly by
sequential scans, and every index's size and use.

Example:
    >>> from okai_insight.diagnostics import indexes
    >>> [f.fix_sql for f in indexes.duplicate_indexes(url).findings]  # doctest: +SKIP
    ['DROP INDEX CONCURRENTLY public.idx_memories_type;']
"""

from __future__ import annotations

from okai_insight.diagnostics._fmt import MB, human_bytes
from okai_insight.diagnostics._result import Finding
from okai_insight.diagnostics._runner import Findings, Outcome, Runner, diagnostic

PGHERO_INDEXES = "PgHero lib/pghero/methods/indexes.rb"
#: PgHero's missing_indexes: tables of at least 10,000 rows using an index less than 95 % of the time.
MIN_ROWS = 10_000
MIN_PERCENT_INDEX_USED = 95.0


#: PgHero's unused_indexes thresholds (``max_scans: 50``, any size): ``unused_indexes(url, **PGHERO_UNUSED)``, or
#: ``okai-insight unused_indexes --min-size-bytes 0 --max-scans 50``.
PGHERO_UNUSED = {"min_size_bytes": 0, "max_scans": 50}


@diagnostic("indexes", "Unused indexes")
def unused_indexes(run: Runner, *, min_size_bytes: int = 10 * MB, max_scans: int = 0) -> Outcome:
    """Indexes scanned at most ``max_scans`` times since statistics were reset, of at least ``min_size_bytes``,
    that enforce no constraint: a warning each with the DROP. Check replicas before dropping: their scans are not
    counted here.

    Two modes, by the two thresholds (the CLI offers both as ``--min-size-bytes`` and ``--max-scans``):

    - the default (10 MB, never scanned) is what ``doctor`` warns about: an index that costs real space and write
      work and has served no read at all. Small indexes are left out because dropping them saves next to nothing,
      and on a young or small database "rarely scanned" is not yet evidence of "not needed".
    - PgHero's mode (:data:`PGHERO_UNUSED`: any size, at most 50 scans, non-unique) lists what PgHero lists, so on
      a small database it finds the same candidates PgHero shows.

    Example:
        >>> unused_indexes(url, **PGHERO_UNUSED).rows[0]["index"]    # doctest: +SKIP
        'idx_planted_unused'
    """
    res = run.query("indexes", "unused_indexes", {"min_size_bytes": min_size_bytes, "max_scans": max_scans})
    findings = [
        Finding(
            "warning",
            f"index {r['qualified_index']} on {r['table']} ({human_bytes(r['size_bytes'])}) was scanned "
            f"{r['index_scans']} times since statistics were reset ({r['stats_reset'] or 'never reset'}); every "
            "write still updates it. Drop it if no replica or rare job uses it.",
            threshold=f"index_scans <= {max_scans} and size_bytes >= {min_size_bytes}",
            source=f"{PGHERO_INDEXES} (unused_indexes)",
            fix_sql=f"DROP INDEX CONCURRENTLY {r['qualified_index']};\n-- to restore: {r['definition']};",
            subject=r["qualified_index"],
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("indexes", "Duplicate indexes")
def duplicate_indexes(run: Runner) -> Outcome:
    """Indexes whose columns lead another index of the same method and predicate: the other serves every query
    they serve. A warning each with the DROP.

    Example:
        >>> duplicate_indexes(url).rows[0]["covered_by"]              # doctest: +SKIP
        'idx_memories_type_room'
    """
    res = run.query("indexes", "duplicate_indexes")
    findings = [
        Finding(
            "warning",
            f"index {r['qualified_index']} ({human_bytes(r['size_bytes'])}) is covered by {r['covered_by']} "
            f"on {r['table']}: {r['definition']} is redundant next to {r['covering_definition']}.",
            threshold="columns are a leading prefix of another index with the same method, operator classes and "
            "predicate",
            source=f"{PGHERO_INDEXES} (duplicate_indexes)",
            fix_sql=f"DROP INDEX CONCURRENTLY {r['qualified_index']};",
            subject=r["qualified_index"],
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("indexes", "Invalid indexes")
def invalid_indexes(run: Runner) -> Outcome:
    """Indexes a failed concurrent build left invalid: never used for reads, still maintained on writes. A
    critical finding each with the rebuild.

    Example:
        >>> invalid_indexes(url).findings[0].fix_sql                  # doctest: +SKIP
        'REINDEX INDEX CONCURRENTLY public.idx_bad;'
    """
    res = run.query("indexes", "invalid_indexes")
    findings = [
        Finding(
            "critical",
            f"index {r['qualified_index']} on {r['table']} is invalid (a CREATE/REINDEX CONCURRENTLY failed): the "
            f"planner ignores it but every write maintains it. If it is UNIQUE, uniqueness is not enforced as "
            "intended. Rebuild it (fix the duplicates first if the build failed on them) or drop it.",
            threshold="pg_index.indisvalid = false",
            source=f"{PGHERO_INDEXES} (invalid_indexes)",
            fix_sql=f"REINDEX INDEX CONCURRENTLY {r['qualified_index']};\n-- or: DROP INDEX CONCURRENTLY "
            f"{r['qualified_index']};",
            subject=r["qualified_index"],
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("indexes", "Missing vector indexes")
def missing_vector_indexes(run: Runner) -> Outcome:
    """Memories tables whose embedding column has no valid HNSW / IVFFlat index though its dimension allows one,
    as an interrupted bulk load leaves them: a critical finding each with the CREATE INDEX (the next okai-insight
    load, ``create_memories`` or ``copy``, also builds it).

    Example:
        >>> missing_vector_indexes(url).findings[0].subject     # doctest: +SKIP
        'public.memories'
    """
    res = run.query("indexes", "missing_vector_indexes")
    findings = [
        Finding(
            "critical",
            f"{r['qualified_table']}.{r['column']} ({r['vector_type']}({r['dims']}), ~{r['live_rows']} rows) has no "
            "valid vector index"
            + (f" ({r['invalid_indexes']} invalid)" if r["invalid_indexes"] else "")
            + ": every similarity search reads the whole table. An interrupted bulk load leaves this; the next "
            "okai-insight load rebuilds it, or build it now.",
            threshold="no valid hnsw/ivfflat index on the embedding column",
            source="pgvector README (Indexing); okai_insight.adapters._bulk_load",
            fix_sql=f"SET maintenance_work_mem = '1GB';\nCREATE INDEX CONCURRENTLY idx_memories_embedding ON "
            f"{r['qualified_table']} USING hnsw ({r['column']} {r['vector_type']}_cosine_ops);",
            subject=r["qualified_table"],
        )
        for r in res.rows
    ]
    return res.rows, findings, res.columns


@diagnostic("indexes", "Foreign keys without an index")
def foreign_keys_without_index(run: Runner, *, min_rows: int = MIN_ROWS) -> Outcome:
    """Foreign keys whose columns lead no index: every delete or key update on the referenced table scans the
    referencing one. Rows list all; a warning for tables of at least ``min_rows`` rows (10,000).

    Example:
        >>> foreign_keys_without_index(url).findings[0].fix_sql       # doctest: +SKIP
        'CREATE INDEX CONCURRENTLY ON public.child ("parentId");'
    """
    res = run.query("indexes", "foreign_keys_without_index")
    findings: Findings = []
    for r in res.rows:
        if (r["table_rows"] or 0) < min_rows:
            continue
        cols = r["columns_sql"]
        findings.append(
            Finding(
                "warning",
                f"foreign key {r['constraint']} on {r['qualified_table']} ({cols}) -> {r['referenced_table']} has "
                f"no index on its columns ({r['table_rows']} rows): deleting or updating a "
                f"{r['referenced_table']} row scans all of {r['table']}.",
                threshold=f"no index leads with the key's columns and table_rows >= {min_rows}",
                source="PostgreSQL docs, ddl-constraints-fk; row floor as PgHero lib/pghero/methods/indexes.rb",
                fix_sql=f"CREATE INDEX CONCURRENTLY ON {r['qualified_table']} ({cols});",
                subject=r["qualified_table"],
            )
        )
    return res.rows, findings, res.columns


@diagnostic("indexes", "Sequential scans")
def sequential_scans(
    run: Runner, *, min_rows: int = MIN_ROWS, max_percent_index_used: float = MIN_PERCENT_INDEX_USED
) -> Outcome:
    """Index use per table; a warning for tables of at least ``min_rows`` rows read by an index less than
    ``max_percent_index_used`` % of the time (PgHero's missing_indexes).

    Example:
        >>> sequential_scans(url).findings[0].subject                 # doctest: +SKIP
        'public.events'
    """
    res = run.query("indexes", "sequential_scans")
    findings: Findings = []
    for r in res.rows:
        pct = r["percent_index_used"]
        if pct is None or (r["live_rows"] or 0) < min_rows or pct >= max_percent_index_used:
            continue
        if r["seq_scans"] < 10:
            continue  # a handful of scans (a dump, a one-off report) is not a pattern
        findings.append(
            Finding(
                "warning",
                f"table {r['qualified_table']} ({r['live_rows']} rows) was read by an index only {pct:g} % of "
                f"the time ({r['seq_scans']} sequential scans reading {r['seq_rows_read']} rows): a frequent "
                "query probably lacks an index. Find it in statements.query_stats and EXPLAIN it.",
                threshold=f"percent_index_used < {max_percent_index_used:g} and live_rows >= {min_rows}",
                source=f"{PGHERO_INDEXES} (missing_indexes)",
                fix_sql="-- find the statements reading it:\nSELECT query, calls, mean_exec_time FROM "
                f"pg_stat_statements WHERE query ILIKE '%{r['table']}%' ORDER BY total_exec_time DESC LIMIT 5;",
                subject=r["qualified_table"],
            )
        )
    return res.rows, findings, res.columns


@diagnostic("indexes", "Index usage", doctor=False)
def index_usage(run: Runner) -> Outcome:
    """Every index with its method, size, scans and rows read, largest first; no findings (a listing).

    Example:
        >>> index_usage(url).to_pandas()["size_bytes"].sum() > 0      # doctest: +SKIP
        True
    """
    res = run.query("indexes", "index_usage")
    return res.rows, [], res.columns
