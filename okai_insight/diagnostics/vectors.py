"""pgvector: the extension, every vector column (declared against stored dimensions, NULL and zero vectors),
every vector index (method, operator class, build options, size against memory), and whether the vector
indexes can serve the statements actually run against them.

Example:
    >>> from okai_insight.diagnostics import vectors
    >>> [f.message for f in vectors.vector_queries(url).findings]    # doctest: +SKIP
    ['... uses <-> (L2 distance) but index idx_memories_embedding (vector_cosine_ops) serves only <=> ...']
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.diagnostics._fmt import MB, human_bytes
from okai_insight.diagnostics._result import Finding, Result, Severity
from okai_insight.diagnostics._runner import CheckUnavailable, Fields, Findings, Outcome, Rows, Runner, diagnostic
from okai_insight.diagnostics._vector_query_analysis import (
    OPCLASS_FOR,
    OPERATORS,
    Problem,
    VectorIndex,
    analyse,
    mentions,
    operators_used,
)
from okai_insight.diagnostics.statements import own_statements_note
from okai_insight.errors import OkaiError
from okai_insight.schema import SchemaProfile, read_profile

README = "pgvector README"
#: A vector column with at least this many rows and no vector index is searched exactly (a full scan a search).
MIN_ROWS_FOR_INDEX = 10_000
#: vector_columns reads at most about this many rows of each column (TABLESAMPLE SYSTEM above it).
SAMPLE_ROWS = 100_000
#: pgvector's default hnsw.ef_search.
DEFAULT_EF_SEARCH = 40


def _require_vector(run: Runner) -> None:
    if not run.features.has_extension("vector"):
        raise CheckUnavailable(
            "pgvector (the vector extension) is not installed in this database: there are no vector columns or "
            "indexes to check",
            fix_sql="CREATE EXTENSION IF NOT EXISTS vector;",
        )


#: pgvector's largest indexable dimensions (HNSW and IVFFlat): vector up to 2,000, halfvec up to 4,000.
MAX_VECTOR_INDEX_DIMS = 2_000
MAX_HALFVEC_INDEX_DIMS = 4_000
#: At most this many memory ids are named in an ElizaOS 1.x zero-vector finding.
MAX_NAMED_IDS = 50
PLUGIN_SQL = "@elizaos/plugin-sql 1.7.x (searchMemories, createMemory); docs/elizaos1.md"


#: pgvector's largest indexable bit length (HNSW and IVFFlat).
MAX_BIT_INDEX_DIMS = 64_000


def index_sql(
    qualified_table: str,
    column: str,
    dims: int | None,
    *,
    opclass: str = "cosine_ops",
    column_type: str = "vector",
    method: str = "hnsw",
) -> str | None:
    """The CREATE INDEX that pgvector can build for a ``column_type(dims)`` column, or None when none can be.
    Every index okai-insight suggests goes through here, so it never suggests one PostgreSQL would refuse.

    ``vector``: up to 2,000 dimensions an index on the column; up to 4,000 (HNSW) an expression index on its
    ``halfvec`` cast (searches must then order by the same cast); above that none. ``halfvec`` up to 4,000,
    ``bit`` up to 64,000, ``sparsevec`` HNSW only (up to 1,000 non-zero elements, not checked here). No
    dimension (no typmod) means no index at all: pgvector refuses "column does not have dimensions".

    Example:
        >>> index_sql("public.embeddings", "dim_384", 384)
        'CREATE INDEX CONCURRENTLY ON public.embeddings USING hnsw (dim_384 vector_cosine_ops);'
        >>> index_sql("public.embeddings", "dim_3072", 3072)
        'CREATE INDEX CONCURRENTLY ON public.embeddings USING hnsw ((dim_3072::halfvec(3072)) halfvec_cosine_ops);'
        >>> index_sql("public.embeddings", "dim_8192", 8192) is None
        True
        >>> index_sql("t", "h", 3000, column_type="halfvec", method="ivfflat", opclass="l2_ops")
        'CREATE INDEX CONCURRENTLY ON t USING ivfflat (h halfvec_l2_ops);'
    """
    if dims is None or method not in ("hnsw", "ivfflat"):
        return None

    def create(expression: str, prefix: str) -> str:
        return f"CREATE INDEX CONCURRENTLY ON {qualified_table} USING {method} ({expression} {prefix}_{opclass});"

    if column_type == "vector":
        if dims <= MAX_VECTOR_INDEX_DIMS:
            return create(column, "vector")
        if dims <= MAX_HALFVEC_INDEX_DIMS and method == "hnsw":
            return create(f"({column}::halfvec({dims}))", "halfvec")
        return None
    limit = {"halfvec": MAX_HALFVEC_INDEX_DIMS, "bit": MAX_BIT_INDEX_DIMS}.get(column_type)
    if column_type == "sparsevec":
        return create(column, "sparsevec") if method == "hnsw" else None
    return create(column, column_type) if limit is not None and dims <= limit else None


def column_of(columns: Sequence[Mapping[str, Any]], table: str | None, column: str | None) -> Mapping[str, Any] | None:
    """The ``vector_columns.sql`` row of ``table.column`` (unqualified or qualified names), or None.

    Example:
        >>> column_of([{"table": "m", "qualified_table": "public.m", "column": "e"}], "public.m", "e")["column"]
        'e'
    """
    for c in columns:
        if table in (c["table"], c["qualified_table"]) and column is not None and column.strip('"') == c["column"]:
            return c
    return None


def elizaos1_profile(run: Runner) -> SchemaProfile | None:
    """The database's ElizaOS 1.x profile (dimensions in use, per agent, from the data), or None for any other
    schema. Read in the runner's READ ONLY transaction.

    Example:
        >>> elizaos1_profile(run).dimensions                       # doctest: +SKIP
        (384, 768)
    """
    try:
        with run.transaction() as tx:
            profile = read_profile(tx.cursor.connection)
    except (OkaiError, psycopg.Error):  # an unreadable catalog or table: judge the columns as generic ones
        return None
    return profile if profile.flavor == "elizaos1" else None


def _dim_of(column: str) -> int | None:
    return int(column[4:]) if column.startswith("dim_") and column[4:].isdigit() else None


def _version(v: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (v or "0").split(".") if p.isdigit())


@diagnostic("vectors", "pgvector")
def vector_extension(run: Runner) -> Outcome:
    """pgvector's installed and available versions and this session's search settings; info when it can be
    updated, or is missing while the server has it.

    Example:
        >>> vector_extension(url).rows[0]["installed_version"]     # doctest: +SKIP
        '0.8.1'
    """
    res = run.query("vectors", "vector_extension")
    r = res.rows[0]
    findings: Findings = []
    if r["installed_version"] is None and r["available_version"] is not None:
        findings.append(
            Finding(
                "info",
                f"pgvector {r['available_version']} is available on this server but not installed in this database.",
                threshold="vector not in pg_extension",
                source=README,
                fix_sql="CREATE EXTENSION IF NOT EXISTS vector;",
                subject="vector",
            )
        )
    elif r["installed_version"] and _version(r["installed_version"]) < _version(r["available_version"]):
        findings.append(
            Finding(
                "info",
                f"pgvector {r['installed_version']} is installed but {r['available_version']} is available: the "
                "database still uses the old version's SQL objects.",
                threshold="installed_version < available_version",
                source=f"{README} (Upgrading)",
                fix_sql="ALTER EXTENSION vector UPDATE;",
                subject="vector",
            )
        )
    return res.rows, findings, res.columns


@diagnostic("vectors", "Vector columns")
def vector_columns(run: Runner, *, sample_rows: int = SAMPLE_ROWS) -> Outcome:
    """Every vector column: declared dimension against the dimensions stored (mixed dimensions are critical:
    searches fail on them), NULL vectors (never found), zero vectors (never found under cosine), and large
    columns without a vector index. Large tables are sampled (about ``sample_rows`` rows). A partitioned table
    is read and judged once, in its own row (rows summed over its partitions; a warning when partitions lack a
    vector index); its partitions are listed with ``partition_of`` and not read again.

    Example:
        >>> vector_columns(url).rows[0]["stored_dims"]             # doctest: +SKIP
        {'384': 2000}
    """
    _require_vector(run)
    columns = run.query("vectors", "vector_columns").rows
    indexes = run.query("vectors", "vector_indexes").rows
    eliza1 = elizaos1_profile(run)
    rows: Rows = []
    findings: Findings = []
    for c in columns:
        row: dict[str, Any] = {k: c[k] for k in ("schema", "table", "column", "type", "declared_dims")}
        row.update(
            estimated_rows=c["estimated_rows"],
            stored_dims=None,
            sampled_rows=None,
            null_vectors=None,
            zero_vectors=None,
            vector_indexes=c["vector_indexes"] or [],
            note=None,
            partition_of=c["partition_of"],
            partitions=c["partitions"],
            partitions_without_vector_index=c["partitions_without_vector_index"],
        )
        rows.append(row)
        if c["partition_of"]:
            # A partition's vectors are read, and judged, in its partitioned table's row (no double reading).
            row["note"] = f"partition of {c['partition_of']}: counted in its row"
            continue
        if not c["readable"]:
            row["note"] = "not readable by this role (SELECT privilege needed)"
            continue
        dim = _dim_of(c["column"]) if eliza1 is not None and c["table"] == "embeddings" else None
        if eliza1 is not None and dim is not None and dim not in eliza1.dimensions:
            row["note"] = (
                "unused by design: ElizaOS 1.x declares a dim_N column for every dimension it supports and fills only "
                "the column of each agent's embedding model; no agent here uses this one"
            )
            continue
        est = int(c["estimated_rows"] or 0)
        percent = 100.0 if est <= sample_rows else max(0.01, round(100.0 * sample_rows / est, 2))
        try:
            stats = run.query(
                "vectors",
                "vector_column_stats",
                {"percent": percent},
                identifiers={"table": sql.Identifier(c["schema"], c["table"]), "column": sql.Identifier(c["column"])},
            ).rows[0]
        except CheckUnavailable as exc:  # one locked or slow table: skip its column, keep the others
            row["note"] = str(exc)
            continue
        row.update(
            stored_dims=stats["stored_dims"] or {},
            sampled_rows=stats["sampled_rows"],
            null_vectors=stats["null_vectors"],
            zero_vectors=stats["zero_vectors"],
        )
        if percent < 100:
            row["note"] = f"sampled {percent:g} % of pages"
        column_indexes = [
            i for i in indexes if i["qualified_table"] == c["qualified_table"] and i["column"] == c["column"]
        ]
        if eliza1 is not None and dim is not None:
            # 1.x: a NULL here is a row of an agent with another dimension (by design), and a zero vector is not
            # "never found" but found first: its own finding, naming the memories.
            row["note"] = (
                f"ElizaOS 1.x column of the agents with {dim}-dimensional embeddings; its NULL rows belong to agents "
                "using another dim_N column (by design)"
            )
            findings += _column_findings(c, {**row, "null_vectors": 0, "zero_vectors": 0}, column_indexes)
            if int(row["zero_vectors"] or 0):
                findings.append(_elizaos1_zero_vectors(run, c, dim))
            continue
        findings += _column_findings(c, row, column_indexes)
    return rows, findings


def _elizaos1_zero_vectors(run: Runner, c: dict[str, Any], dim: int) -> Finding:
    """What zero vectors do under ElizaOS 1.x's search, naming the memories that hold them."""
    name = f"{c['qualified_table']}.{c['column']}"
    zeros = run.query(
        "vectors",
        "elizaos1_zero_vectors",
        {"limit": MAX_NAMED_IDS},
        identifiers={"column": sql.Identifier(c["column"])},
    ).rows
    ids = [str(z["memory_id"]) for z in zeros]
    agents = sorted({str(z["agent_id"]) for z in zeros})
    poisoned = max(int(z["later_not_unique"] or 0) for z in zeros)  # later rows of one scope: not a sum
    more = f" (the first {MAX_NAMED_IDS} shown)" if len(zeros) >= MAX_NAMED_IDS else ""
    return Finding(
        "warning",
        f"{name} holds {len(zeros)} zero vector(s){more}: ElizaOS 1.x stores a failed or non-finite embedding as "
        "zeros, and 1 - (zero <=> q) is NaN, which passes every match_threshold and sorts first, so these "
        "memories come first in every search of their agent's scope (agent "
        f"{', '.join(agents)}), with similarity NaN; the near-duplicate search before each insert matches them "
        f"too, so later memories of the same entity and room are marked not unique ({poisoned} after one of them). "
        f"Memory ids: {', '.join(ids)}. Re-embed them (or delete them) with the agent stopped.",
        threshold=f"vector_norm({c['quoted_column']}) = 0 on ElizaOS 1.x",
        source=f"{PLUGIN_SQL}; {README} (cosine distance of a zero vector)",
        fix_sql="SELECT id, content->>'text' AS text FROM memories WHERE id IN ('"
        + "', '".join(ids)
        + "');  -- re-embed these texts through the agent (with it stopped: never two writers)",
        subject=name,
    )


def _build_index_fix(c: dict[str, Any], col: str) -> str:
    """The index to build for a large unindexed column; never one pgvector refuses (see :func:`index_sql`)."""
    dims = c["declared_dims"]
    opclass = "hamming_ops" if c["type"] == "bit" else "cosine_ops"
    create = index_sql(c["qualified_table"], col, dims, column_type=c["type"], opclass=opclass)
    if create is None:
        if dims is None:
            return (
                f"-- no vector index is possible on a {c['type']} column without declared dimensions: declare them "
                f"(ALTER TABLE {c['qualified_table']} ALTER COLUMN {col} TYPE {c['type']}(<dims>)) or search exactly"
            )
        return (
            f"-- no HNSW or IVFFlat index is possible on {dims} dimensions (pgvector indexes vector up to "
            f"{MAX_VECTOR_INDEX_DIMS}, halfvec up to {MAX_HALFVEC_INDEX_DIMS}): reduce the dimensions "
            "(a smaller embedding model, or a shortened one) or search exactly"
        )
    return f"SET maintenance_work_mem = '1GB';\n{create}  -- <=>; use _l2_ops for <->, _ip_ops for <#>"


def _column_findings(c: dict[str, Any], row: dict[str, Any], indexes: list[dict[str, Any]]) -> Findings:
    name = f"{c['qualified_table']}.{c['column']}"
    col = c["quoted_column"]
    dims = {int(k): int(v) for k, v in (row["stored_dims"] or {}).items()}
    out: Findings = []
    if len(dims) > 1:
        main = max(dims, key=lambda d: dims[d])
        others = ", ".join(f"{n} rows of {d}" for d, n in sorted(dims.items()) if d != main)
        out.append(
            Finding(
                "critical",
                f"{name} holds vectors of {len(dims)} dimensions ({main} mostly; {others}): a distance between "
                "vectors of different dimensions is an error, so searches fail or must filter by dimension, and no "
                "HNSW index can be built on a column without a declared dimension. Re-embed or delete the odd rows, "
                "then declare the dimension.",
                threshold="count(DISTINCT vector_dims(column)) > 1",
                source=f"{README} (vector type: dimensions must match)",
                fix_sql=f"-- look first: SELECT vector_dims({col}), count(*) FROM {c['qualified_table']} GROUP BY 1;\n"
                f"DELETE FROM {c['qualified_table']} WHERE vector_dims({col}) <> {main};  -- or re-embed them\n"
                f"ALTER TABLE {c['qualified_table']} ALTER COLUMN {col} TYPE {c['type']}({main});",
                subject=name,
            )
        )
    elif c["declared_dims"] is None and dims:
        (only,) = dims
        out.append(
            Finding(
                "warning",
                f"{name} declares no dimension ({c['type']} without (n)): any length is accepted, and pgvector "
                "cannot build an HNSW or IVFFlat index on it. All its rows have "
                f"{only} dimensions; declare it.",
                threshold="atttypmod = -1",
                source=f"{README} (Indexing: 'column does not have dimensions')",
                fix_sql=f"ALTER TABLE {c['qualified_table']} ALTER COLUMN {col} TYPE {c['type']}({only});",
                subject=name,
            )
        )
    zero = int(row["zero_vectors"] or 0)
    cosine = [i for i in indexes if str(i["opclass"]).endswith("cosine_ops")]
    if zero:
        out.append(
            Finding(
                "warning" if cosine else "info",
                f"{name} has {zero} zero vector(s) in the rows read: their cosine distance is undefined (NaN), "
                + (f"the cosine index {cosine[0]['index']} does not hold them, and " if cosine else "")
                + "no search finds them. They usually come from a failed embedding call; re-embed them.",
                threshold="vector_norm(column) = 0",
                source=f"{README} ('zero vectors are not indexed for cosine distance')",
                fix_sql=f"SELECT * FROM {c['qualified_table']} WHERE vector_norm({col}::vector) = 0;  -- re-embed these",
                subject=name,
            )
        )
    nulls = int(row["null_vectors"] or 0)
    if nulls:
        out.append(
            Finding(
                "info",
                f"{name} has {nulls} NULL vector(s) in the rows read: they are never returned by a similarity "
                "search (not indexed, no distance).",
                threshold=f"{col} IS NULL",
                source=f"{README} ('NULL vectors are not indexed')",
                fix_sql=f"SELECT count(*) FROM {c['qualified_table']} WHERE {col} IS NULL;",
                subject=name,
            )
        )
    unindexed = int(c["partitions_without_vector_index"] or 0)
    if c["partitions"] is not None and unindexed and int(c["estimated_rows"] or 0) >= MIN_ROWS_FOR_INDEX:
        out.append(
            Finding(
                "warning",
                f"{name} is partitioned ({c['partitions']} partitions, about {c['estimated_rows']} rows) and "
                f"{unindexed} of its partitions have no vector index: a search reading those partitions reads "
                "all their rows. An index on the partitioned table builds one per partition (and for new ones).",
                threshold=f"partitions without an hnsw/ivfflat index and estimated_rows >= {MIN_ROWS_FOR_INDEX}",
                source=f"{README} (Indexing; Filtering: partitioning)",
                fix_sql=f"SET maintenance_work_mem = '1GB';\nCREATE INDEX ON {c['qualified_table']} "
                f"USING hnsw ({col} {c['type']}_cosine_ops);  -- one index per partition (no CONCURRENTLY on a "
                "partitioned table: or build each partition's CONCURRENTLY and ATTACH it)",
                subject=name,
            )
        )
    elif (
        not indexes
        and c["partitions"] is None
        and int(c["estimated_rows"] or 0) >= MIN_ROWS_FOR_INDEX
        and c["declared_dims"]
    ):
        out.append(
            Finding(
                "warning",
                f"{name} has about {c['estimated_rows']} rows and no vector index: every similarity search reads "
                "all of them. Build an HNSW index with the operator class of the operator your searches use.",
                threshold=f"no hnsw/ivfflat index and estimated_rows >= {MIN_ROWS_FOR_INDEX}",
                source=f"{README} (Indexing)",
                fix_sql=_build_index_fix(c, col),
                subject=name,
            )
        )
    return out


@diagnostic("vectors", "Vector indexes", shown_with=("indexes",))
def vector_indexes(run: Runner) -> Outcome:
    """Every HNSW / IVFFlat index: column, operator class and the operator it serves, m / ef_construction or
    lists, size against shared_buffers (a warning when larger: searches read from disk) and
    maintenance_work_mem (info: rebuilds are slow), IVFFlat lists against pgvector's advice. On a partitioned
    table each partition's index is a row of its own (``partition_of``), judged alone; the partitioned index's
    row rolls them up (``partitions``, summed size and rows).

    Example:
        >>> vector_indexes(url).rows[0]["operator"]                # doctest: +SKIP
        '<=>'
    """
    _require_vector(run)
    res = run.query("vectors", "vector_indexes")
    findings: Findings = []
    for r in res.rows:
        name = r["qualified_index"]
        if r["partitions"] is not None:
            continue  # a partitioned index: its rows roll up its partitions' indexes, each judged in its own row
        size, sb, mwm = int(r["size_bytes"]), int(r["shared_buffers_bytes"]), int(r["maintenance_work_mem_bytes"])
        if size > sb:
            findings.append(
                Finding(
                    "warning",
                    f"vector index {name} ({human_bytes(size)}) is larger than shared_buffers ({human_bytes(sb)}): "
                    "searches walk a graph that cannot stay cached and read pages from disk or the OS cache.",
                    threshold="size_bytes > shared_buffers",
                    source=f"{README} (Performance: tuning; shared_buffers ~25 % of memory)",
                    fix_sql=f"ALTER SYSTEM SET shared_buffers = '{-(-size * 2 // MB)}MB';  -- then restart "
                    "(about 25 % of RAM at most); or store halfvec / fewer dimensions",
                    subject=name,
                )
            )
        if size > mwm and r["method"] == "hnsw":
            findings.append(
                Finding(
                    "info",
                    f"vector index {name} ({human_bytes(size)}) is larger than maintenance_work_mem "
                    f"({human_bytes(mwm)}): rebuilding it (REINDEX, restore) will be much slower than it needs to be.",
                    threshold="size_bytes > maintenance_work_mem",
                    source=f"{README} (HNSW: index build time, 'graph no longer fits into maintenance_work_mem')",
                    fix_sql=f"SET maintenance_work_mem = '{max(1, -(-size * 2 // (1024**3)))}GB';\n"
                    f"REINDEX INDEX CONCURRENTLY {name};",
                    subject=name,
                )
            )
        rows_n = int(r["table_rows"] or 0)
        if r["method"] == "ivfflat" and r["lists"] and rows_n < int(r["lists"]):
            findings.append(
                Finding(
                    "info",
                    f"IVFFlat index {name} has {r['lists']} lists but its table holds about {rows_n} rows: IVFFlat "
                    "learns its lists (k-means centroids) from the rows present when it is built, so an index built "
                    "on an empty or small table partitions later rows badly and recall suffers. Rebuild it once the "
                    "table has data (or use HNSW, which needs no training).",
                    threshold="ivfflat and table_rows < lists",
                    source=f"{README} (IVFFlat: 'create the index after the table has some data')",
                    fix_sql=f"REINDEX INDEX CONCURRENTLY {name};  -- after loading; or DROP it and "
                    f"CREATE INDEX ... USING hnsw",
                    subject=name,
                )
            )
        if r["method"] == "ivfflat" and rows_n >= MIN_ROWS_FOR_INDEX and r["lists"]:
            advised = max(1, rows_n // 1000) if rows_n <= 1_000_000 else int(rows_n**0.5)
            if not advised / 4 <= int(r["lists"]) <= advised * 4:
                findings.append(
                    Finding(
                        "info",
                        f"IVFFlat index {name} has {r['lists']} lists for about {rows_n} rows; pgvector advises "
                        f"about {advised} (rows / 1000 up to 1M rows, sqrt(rows) above). Too few lists make searches "
                        "slow, too many make recall poor at the same probes.",
                        threshold="lists outside [advised / 4, advised * 4]",
                        source=f"{README} (IVFFlat: choosing lists)",
                        fix_sql=f"-- rebuild with: {r['definition'].split(' WITH ')[0]} WITH (lists = {advised});",
                        subject=name,
                    )
                )
    return res.rows, findings, res.columns


@diagnostic("vectors", "Vector queries against indexes", result=Result, shown_with=("indexes",))
def vector_queries(run: Runner) -> Fields:
    """Whether the vector indexes can serve the statements actually run (pg_stat_statements, and the sessions
    running now): operator not matching the operator class (critical: every search reads the table), distance
    only in WHERE, ``ORDER BY similarity DESC``, no LIMIT, LIMIT above ``hnsw.ef_search``. Each finding carries
    the corrected statement; for an operator mismatch also the index that would serve the statement as it is.

    Example:
        >>> vector_queries(url).findings[0].fix_sql.splitlines()[0]  # doctest: +SKIP
        '-- corrected query: SELECT ... ORDER BY embedding <=> $1::vector LIMIT $5'
    """
    _require_vector(run)
    ext = run.query("vectors", "vector_extension").rows[0]
    ef_search = int(ext["ef_search_setting"]) if str(ext["ef_search_setting"] or "").isdigit() else DEFAULT_EF_SEARCH
    iterative = (ext["iterative_scan_setting"] or "off") != "off"
    index_rows = [r for r in run.query("vectors", "vector_indexes").rows if r["operator"] and r["column"]]
    vector_cols = run.query("vectors", "vector_columns").rows
    indexes = [
        (r, VectorIndex(r["table"], r["column"], r["index"], r["method"], r["opclass"], r["operator"]))
        for r in index_rows
    ]
    statements: list[dict[str, Any]] = []
    note = own = None
    try:
        run.require_extension("pg_stat_statements", why="checking past vector searches", preload=True)
        own = own_statements_note(run)  # okai-insight's own, which vector_statements leaves out
        for s in run.query("vectors", "vector_statements").rows:
            statements.append(
                {
                    "source": "pg_stat_statements",
                    "id": s["queryid"],
                    "calls": s["calls"],
                    "mean_ms": s["mean_ms"],
                    "rows_per_call": s["rows_per_call"],
                    "query": s["query"],
                }
            )
    except CheckUnavailable as exc:
        note = str(exc)
    for a in run.query("vectors", "vector_activity").rows:
        statements.append(
            {
                "source": "pg_stat_activity",
                "id": a["pid"],
                "calls": None,
                "mean_ms": a["duration_ms"],
                "rows_per_call": None,
                "query": a["query"],
            }
        )
    rows: Rows = []
    findings: Findings = []
    seen: set[tuple[str, str, str]] = set()
    for st in statements:
        for r, idx in indexes:
            problems = analyse(st["query"], idx, ef_search=ef_search, iterative_scan=iterative)
            if not problems and not _concerns(st["query"], idx):
                continue
            rows.append(
                {
                    **{k: st[k] for k in ("source", "id", "calls", "mean_ms", "rows_per_call")},
                    "index": r["qualified_index"],
                    "operator": idx.operator,
                    "problems": [p.code for p in problems],
                    "query": st["query"],
                }
            )
            for p in problems:
                key = (p.code, r["qualified_index"], " ".join(st["query"].split()))
                if key in seen:
                    continue
                seen.add(key)
                verified = plan_uses(run, p.corrected, idx.index)
                dims = (column_of(vector_cols, r["qualified_table"], r["column"]) or {}).get("declared_dims")
                findings.append(_query_finding(p, st, r, idx, ef_search, verified, dims))
    findings += _unindexed_searches(run, [st for st in statements if st["source"] == "pg_stat_statements"])
    if note:
        findings.append(
            Finding(
                "info",
                f"only running sessions were checked: {note}",
                subject="pg_stat_statements",
                fix_sql="CREATE EXTENSION IF NOT EXISTS pg_stat_statements;",
            )
        )
    columns = ("source", "id", "calls", "mean_ms", "rows_per_call", "index", "operator", "problems", "query")
    return {"rows": rows, "findings": findings, "columns": columns, "note": own}


def _concerns(query: str, idx: VectorIndex) -> bool:
    from okai_insight.diagnostics._vector_query_analysis import mentions, operators_used

    text = " ".join(query.split())
    return bool(operators_used(text)) and mentions(text, idx.table) and mentions(text, idx.column)


def plan_uses(run: Runner, corrected: str | None, index: str, params: Any = None) -> bool | None:
    """Whether EXPLAIN of a corrected statement scans ``index``: a correction is offered only when its plan does.
    Without ``params`` the plan is the generic one (``$n`` placeholders stay unbound, PostgreSQL 16+); with them
    (a sample vector) the plan for those values. None when there is no statement or the server cannot plan it
    generically (before 16). Leading ``SET name = value;`` become the transaction's local settings.

    Example:
        >>> plan_uses(run, "SELECT id FROM memories ORDER BY embedding <=> $1 LIMIT 10", "idx")  # doctest: +SKIP
        True
    """
    if not corrected:
        return None
    settings: dict[str, str] = {}
    text = corrected.strip()
    while (m := re.match(r"(?is)^SET\s+([\w.]+)\s*(?:=|TO)\s*([\w.]+)\s*;\s*", text)) is not None:
        settings[m.group(1)] = m.group(2)
        text = text[m.end() :]
    if ";" in text.rstrip().rstrip(";"):
        return False  # one statement only
    if params is None and run.features.server_version_num < 160000:
        return None
    options = "EXPLAIN (FORMAT JSON) " if params is not None else "EXPLAIN (GENERIC_PLAN, FORMAT JSON) "
    try:
        plan = run.execute(
            sql.SQL(options) + sql.SQL(text.rstrip().rstrip(";")),  # type: ignore[arg-type]
            params,
            label="verify correction",
            local_settings=settings or None,
            unbound_params=params is None,
        ).rows
    except (CheckUnavailable, OkaiError):
        return False
    return f'"Index Name": "{index}"' in json.dumps(plan[0]["QUERY PLAN"], default=str) if plan else False


def verified_fix(p: Problem, index: str, verified: bool | None) -> tuple[Problem, str | None]:
    """The problem as printed and its corrected statement, given what EXPLAIN of the correction showed
    (:func:`plan_uses`): a correction whose plan does not scan ``index`` is withdrawn and the message says so;
    one that could not be planned is labelled "not verified by EXPLAIN".

    Example:
        >>> p = Problem("order_by_similarity", "sorts by similarity DESC", "SELECT ... ORDER BY e <=> $1 LIMIT 5")
        >>> verified_fix(p, "idx", True)[1].splitlines()[0]
        '-- corrected query (EXPLAIN uses idx):'
        >>> shown, fix = verified_fix(p, "idx", False); fix is None, shown.message
        (True, 'sorts by similarity DESC (no correction offered: EXPLAIN of it did not use idx)')
    """
    if p.corrected and verified is False:
        # EXPLAIN of the correction did not show the index: offering it would be advice the tool itself refutes.
        p = Problem(p.code, p.message + f" (no correction offered: EXPLAIN of it did not use {index})", None)
    shown = f"EXPLAIN uses {index}" if verified else "not verified by EXPLAIN"
    return p, (f"-- corrected query ({shown}):\n{p.corrected}" if p.corrected else None)


def operator_indexes(r: Mapping[str, Any], operators: Sequence[str], dims: int | None) -> str | None:
    """CREATE INDEX statements (through :func:`index_sql`) serving ``operators`` on the column of the vector index
    ``r`` (a ``vector_indexes.sql`` row) with the same method and type; None when pgvector can build none.

    Example:
        >>> r = {"qualified_table": "public.m", "quoted_column": "e", "opclass": "vector_cosine_ops", "method": "hnsw"}
        >>> operator_indexes(r, ["<->"], 384)
        'CREATE INDEX CONCURRENTLY ON public.m USING hnsw (e vector_l2_ops);'
        >>> operator_indexes(r, ["<->"], 5000) is None
        True
    """
    prefix = str(r["opclass"]).split("_", 1)[0]
    made = [
        index_sql(
            r["qualified_table"],
            r["quoted_column"],
            dims,
            opclass=OPCLASS_FOR[op],
            column_type=prefix,
            method=str(r["method"]),
        )
        for op in operators
        if op in OPCLASS_FOR
    ]
    found = [m for m in made if m is not None]
    return "\n".join(found) if found else None


def _query_finding(
    p: Any,
    st: dict[str, Any],
    r: dict[str, Any],
    idx: VectorIndex,
    ef_search: int,
    verified: bool | None,
    dims: int | None = None,
) -> Finding:
    where = f"{st['source']} {'query' if st['source'] == 'pg_stat_statements' else 'pid'} {st['id']}"
    calls = f", {st['calls']} calls averaging {st['mean_ms']} ms" if st["calls"] else ""
    p, fix = verified_fix(p, idx.index, verified)
    severity: Severity = "warning"
    threshold = p.code
    if p.code == "operator_mismatch":
        severity = "critical"
        alt = operator_indexes(r, [op for op in OPERATORS if op in st["query"]], dims)
        if alt is not None:
            fix = (
                (f"{fix}\n" if fix else "")
                + "-- or, if the application cannot change (ElizaOS 0.1.9 searches with <->), an index for its "
                f"operator (for unit-length embeddings L2 order equals cosine order):\n{alt}"
            )
        threshold = f"operator not served by {idx.opclass}"
    elif p.code == "limit_above_ef_search":
        threshold = f"LIMIT > hnsw.ef_search ({ef_search}) and hnsw.iterative_scan = off"
    return Finding(
        severity,
        f"{where}{calls}: {p.message}. Statement: {' '.join(st['query'].split())[:300]}",
        threshold=threshold,
        source=f"{README} (Querying: 'ORDER BY distance LIMIT k', operator classes; Iterative index scans)",
        fix_sql=fix,
        subject=r["qualified_index"],
    )


def _unindexed_searches(run: Runner, statements: list[dict[str, Any]]) -> Findings:
    """Searches recorded in pg_stat_statements on a vector column that has no vector index (ElizaOS 1.x creates
    none): one finding a column, with the load, the statement that dominates it, whether an index could ever serve
    it, the corrected statement (same filters) and, measured from the data, what keeps its recall."""
    eliza1 = elizaos1_profile(run) if statements else None
    out: Findings = []
    for c in run.query("vectors", "vector_columns").rows:
        if c["vector_indexes"] or c["partition_of"] or c["type"] != "vector":
            continue
        mine = [
            st
            for st in statements
            if operators_used(st["query"]) and mentions(st["query"], c["table"]) and mentions(st["query"], c["column"])
        ]
        if not mine:
            continue
        out.append(_unindexed_finding(run, c, mine, eliza1))
    return out


def _unindexed_finding(
    run: Runner, c: dict[str, Any], mine: list[dict[str, Any]], eliza1: SchemaProfile | None
) -> Finding:
    name = f"{c['qualified_table']}.{c['column']}"
    dims = c["declared_dims"]
    total_calls = sum(int(st["calls"] or 0) for st in mine)
    total_ms = sum(float(st["mean_ms"] or 0) * int(st["calls"] or 0) for st in mine)
    top = max(mine, key=lambda st: (int(st["calls"] or 0), float(st["mean_ms"] or 0)))
    top_calls = int(top["calls"] or 0)
    top_ms = float(top["mean_ms"] or 0) * top_calls
    hypothetical = VectorIndex(c["table"], c["column"], "(none)", "hnsw", "vector_cosine_ops", "<=>")
    problems = analyse(top["query"], hypothetical)
    backwards = [p for p in problems if p.code == "order_by_similarity"]
    text = " ".join(top["query"].split())
    dedupe = ""
    if eliza1 is not None and mentions(text, "entity_id") and mentions(text, "room_id"):
        dedupe = (
            " On ElizaOS 1.x this is the near-duplicate search plugin-sql runs before every insert (same room, world "
            "and entity, threshold 0.95): writing, not answering, drives the search load. Its scope is that "
            "narrow, so PostgreSQL plans it with the btree indexes and an exact sort even when an HNSW index exists "
            "(EXPLAIN on plugin-sql's schema): exact and complete, and cheap while the room is small."
        )
    parts = [
        f"{len(mine)} statement(s) searched {name} ({total_calls} calls, {total_ms:.1f} ms in all) and it has no "
        "vector index: every search reads every vector of its scope (exact search).",
        f"The most frequent, {top_calls} of {total_calls} calls ({100 * top_calls / max(total_calls, 1):.0f} %, "
        f"{100 * top_ms / max(total_ms, 1e-9):.0f} % of the time), is queryid {top['id']}.{dedupe}",
    ]
    if backwards:
        parts.append(
            "It sorts by ORDER BY 1 - distance DESC, which no pgvector index can ever serve: an index serves only "
            f"ORDER BY {c['column']} <=> query LIMIT k (ascending distance), the same order."
        )
    create = index_sql(c["qualified_table"], c["quoted_column"], dims)
    scope_note = ""
    severity: Severity = "info"
    if eliza1 is not None:
        scope = run.query("vectors", "elizaos1_largest_scope", identifiers={"column": sql.Identifier(c["column"])})
        if scope.rows:
            s = scope.rows[0]
            n, whole = int(s["vectors"]), int(s["column_vectors"])
            scope_note = (
                f" Measured: the largest scope searched (agent {s['agent_id']}, type {s['type']}) holds {n} of the "
                f"column's {whole} vectors ({100 * n / max(whole, 1):.0f} %)."
            )
            big = whole >= MIN_ROWS_FOR_INDEX
            severity = "warning" if big else severity
            if not big:
                scope_note += (
                    f" Below {MIN_ROWS_FOR_INDEX} vectors exact search, what runs now, is the plan to keep (recall 1); "
                    "an index starts to pay as the column grows."
                )
    else:
        big = int(c["estimated_rows"] or 0) >= MIN_ROWS_FOR_INDEX
        severity = "warning" if big else severity
    parts.append(
        "With an HNSW index the filters (type, agent, room...) apply after the index scan, which returns at most "
        "hnsw.ef_search (40) candidates: keep recall with SET hnsw.iterative_scan = relaxed_order (pgvector 0.8) and "
        "a larger hnsw.ef_search, or search exactly (no index) for small scopes." + scope_note
    )
    fix = [f"-- corrected query (same filters, ascending distance, LIMIT):\n{p.corrected}" for p in backwards][:1]
    if create is None:
        fix.append(
            f"-- no HNSW index is possible on {dims} dimensions (pgvector: vector up to {MAX_VECTOR_INDEX_DIMS}, "
            f"halfvec up to {MAX_HALFVEC_INDEX_DIMS}): keep exact search"
        )
    else:
        fix.append(
            "-- when the column grows (the application owns its schema: ElizaOS's migrator may drop what it did not "
            f"create):\nSET maintenance_work_mem = '1GB';\n{create}\n"
            "-- then, per search session: SET hnsw.iterative_scan = relaxed_order; SET hnsw.ef_search = 100;"
        )
    return Finding(
        severity,
        " ".join(parts),
        threshold=f"vector statements in pg_stat_statements and no hnsw/ivfflat index on the column; "
        f"warning from {MIN_ROWS_FOR_INDEX} vectors",
        source=f"{README} (Querying; Filtering; Iterative index scans)"
        + (f"; {PLUGIN_SQL}" if eliza1 is not None else ""),
        fix_sql="\n".join(fix),
        subject=name,
    )
