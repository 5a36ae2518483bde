"""Which vector index? Full-precision HNSW, halfvec HNSW or binary quantization, measured on the user's own data.

:func:`tune_index` copies a keyed sample of the table's vectors (binary ``COPY`` out of a READ ONLY, rolled-back
transaction: the user's database is only read) into a throwaway embedded PostgreSQL on a temporary data directory
(:mod:`okai_insight.tuning._scratch`), and there, one candidate at a time, builds the index, measures its size and
build time, and runs sampled searches against it at each ``hnsw.ef_search``:

- full precision: ``hnsw (embedding vector_cosine_ops)`` at a few ``m`` / ``ef_construction``;
- half precision: ``hnsw ((embedding::halfvec(n)) halfvec_cosine_ops)`` (pgvector 0.7+), half the size;
- binary quantization: ``hnsw ((binary_quantize(embedding)::bit(n)) bit_hamming_ops)`` (pgvector 0.7+), one bit
  a dimension, searched by Hamming distance for ``k x over-fetch`` candidates and re-ranked by exact cosine.

Recall@k is measured against the exact top-k (the same search before any index exists: a sequential scan) and is
tie-aware (:func:`okai_insight.embeddings.recall.tie_aware_recall`: a row as close as the exact k-th neighbour is a
hit); a candidate *reaches* ``target_recall`` when the 95 % Wilson lower bound over the sampled queries does, as
``tune_recall`` decides. The advice is the candidate reaching it with the smallest index, then the fastest search,
then the fastest build; it comes with the DDL and the query shape to apply, and is verified: the suggested query
was EXPLAINed on the scratch copy while its index existed, and the plan used that index.

Sizes and build times are those of the sample (``size_bytes``); ``projected_size_bytes`` scales the size linearly to
the table's estimated row count (HNSW stores one graph node per row). Recall on a sample is an optimistic estimate
for a larger table: HNSW recall falls slowly as the graph grows.

Example:
    >>> r = tune_index(url, target_recall=0.95)                                          # doctest: +SKIP
    >>> print(r.summary["advice"]["ddl"])                                                # doctest: +SKIP
    CREATE INDEX CONCURRENTLY memories_embedding_halfvec_m16_idx ON public.memories USING hnsw ...
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import psycopg
from psycopg import sql

from okai_insight.diagnostics import diagnostic
from okai_insight.embeddings._elizaos1 import resolve
from okai_insight.embeddings._fetch import to_matrix
from okai_insight.embeddings._results import EmbeddingResult, new_axes
from okai_insight.embeddings._table import VectorTable, sample_percent
from okai_insight.embeddings.recall import DEFAULT_QUERIES, tie_aware_recall, wilson_interval
from okai_insight.errors import InvalidInput, translate_pg_errors
from okai_insight.query_files import load_sql
from okai_insight.results import Finding
from okai_insight.runner import CheckUnavailable, Runner, tagged
from okai_insight.tuning._scratch import scratch_server

Kind = Literal["vector", "halfvec", "bit"]
KINDS: tuple[Kind, ...] = ("vector", "halfvec", "bit")
#: (m, ef_construction) of the full-precision candidates: pgvector's default (16, 64), a smaller and a larger graph.
DEFAULT_HNSW = ((8, 32), (16, 64), (32, 128))
#: (m, ef_construction) of the quantized candidates: pgvector's defaults.
QUANTIZED_HNSW = (16, 64)
#: Rows fetched by Hamming distance per row returned, before the exact re-rank.
DEFAULT_OVERFETCH = (2, 4, 8)
#: hnsw.ef_search values tried on every index (40 is pgvector's default).
DEFAULT_EF_SEARCH = (40, 100)
#: Rows copied into the scratch server by default: large enough that HNSW builds a real graph, small enough that
#: five builds take about a minute on two cores (bench/quantization.py).
DEFAULT_SAMPLE_ROWS = 20_000
#: The most dimensions an HNSW index takes per type (pgvector README, "HNSW": vector 2,000, halfvec 4,000, bit 64,000).
MAX_DIMS: dict[str, int] = {"vector": 2000, "halfvec": 4000, "bit": 64000}
#: pgvector version that brought halfvec and binary_quantize (pgvector CHANGELOG 0.7.0).
MIN_VERSION: dict[str, tuple[int, int]] = {"vector": (0, 5), "halfvec": (0, 7), "bit": (0, 7)}
#: Below this many dimensions a binary code has too few bits: Hamming distance takes at most dims + 1 values, so
#: most candidates tie and the re-rank degenerates into an exact scan of the over-fetched rows. Our rule (pgvector
#: describes binary quantization for high-dimensional embeddings); 64 keeps every common model (384 and up) in.
BIT_MIN_DIMS = 64
#: Searches run untimed before each setting's timed ones, so the first timings do not pay for cold caches.
WARMUP_QUERIES = 10
#: The columns of the terminal table (the rest are in ``rows``, ``to_pandas()`` and the HTML).
TEXT_COLUMNS = (
    "candidate",
    "ef_search",
    "overfetch",
    "recall_at_k",
    "recall_low",
    "mean_ms",
    "p95_ms",
    "size_bytes",
    "projected_size_bytes",
    "build_ms",
    "uses_index",
    "reaches_target",
)
SOURCE = "pgvector README (HNSW; Half-precision indexing; Binary quantization)"
_DEFAULT_COPY_TIMEOUT_MS = 600_000
_DEFAULT_BUILD_TIMEOUT_MS = 3_600_000


@dataclass(frozen=True)
class Candidate:
    """One index to build: its kind (full-precision ``vector``, ``halfvec`` or ``bit``) and HNSW build parameters.

    Example:
        >>> Candidate("halfvec", 16, 64).label
        'halfvec hnsw m=16 ef_construction=64'
    """

    kind: Kind
    m: int
    ef_construction: int

    @property
    def label(self) -> str:
        """What the rows and messages call it."""
        return f"{self.kind} hnsw m={self.m} ef_construction={self.ef_construction}"

    def index_name(self, table: str, column: str) -> str:
        """The index's name: table, column, kind and m (at most 63 bytes, PostgreSQL's limit).

        Example:
            >>> Candidate("bit", 16, 64).index_name("memories", "embedding")
            'memories_embedding_bit_m16_idx'
        """
        return f"{table}_{column}_{self.kind}_m{self.m}_idx"[:63]

    def ddl(self, t: VectorTable, key: str, dims: int, *, concurrently: bool = True) -> sql.Composed:
        """``CREATE INDEX`` of this candidate on ``t`` (the user's table, or its scratch copy of the same name).

        Example:
            >>> t = VectorTable("public", "memories", "embedding", "vector", 3, frozenset({"id"}), 0, None)
            >>> Candidate("bit", 16, 64).ddl(t, "id", 3).as_string(None)  # doctest: +NORMALIZE_WHITESPACE
            'CREATE INDEX CONCURRENTLY "memories_embedding_bit_m16_idx" ON "public"."memories" USING hnsw
            ((binary_quantize("embedding")::bit(3)) bit_hamming_ops) WITH (m = 16, ef_construction = 64)'
        """
        column = sql.Identifier(self.column_of(t))
        n = sql.Literal(dims)
        expr = {
            "vector": sql.SQL("{} vector_cosine_ops").format(column),
            "halfvec": sql.SQL("({}::halfvec({})) halfvec_cosine_ops").format(column, n),
            "bit": sql.SQL("(binary_quantize({})::bit({})) bit_hamming_ops").format(column, n),
        }[self.kind]
        return sql.SQL("CREATE INDEX {}{} ON {} USING hnsw ({}) WITH (m = {}, ef_construction = {})").format(
            sql.SQL("CONCURRENTLY " if concurrently else ""),
            sql.Identifier(self.index_name(t.table, t.column)),
            sql.Identifier(t.schema, t.table),
            expr,
            sql.Literal(self.m),
            sql.Literal(self.ef_construction),
        )

    @staticmethod
    def column_of(t: VectorTable) -> str:
        """The vector column's name in the table the index goes on."""
        return t.column


def refusal(kind: str, dims: int, version: tuple[int, ...]) -> str | None:
    """Why a kind of index cannot serve this column on the user's server (its pgvector ``version``), or None.

    Example:
        >>> refusal("bit", 384, (0, 6))
        'bit (binary_quantize(...)::bit(n), bit_hamming_ops) needs pgvector 0.7 or later; this server has 0.6'
        >>> refusal("bit", 32, (0, 8)) is not None, refusal("vector", 3072, (0, 8)) is not None
        (True, True)
        >>> refusal("halfvec", 3072, (0, 8)) is None
        True
    """
    what = {
        "vector": "full-precision HNSW (vector_cosine_ops)",
        "halfvec": "halfvec HNSW (embedding::halfvec(n), halfvec_cosine_ops)",
        "bit": "bit (binary_quantize(...)::bit(n), bit_hamming_ops)",
    }[kind]
    need = MIN_VERSION[kind]
    if tuple(version[:2]) < need:
        have = ".".join(map(str, version[:2])) or "none"
        return f"{what} needs pgvector {need[0]}.{need[1]} or later; this server has {have}"
    if dims > MAX_DIMS[kind]:
        return f"{what} indexes at most {MAX_DIMS[kind]:,} dimensions (pgvector); this column has {dims:,}"
    if kind == "bit" and dims < BIT_MIN_DIMS:
        return (
            f"{what} needs at least {BIT_MIN_DIMS} dimensions to be worth it: a {dims}-bit code has only {dims + 1} "
            "Hamming distances, so the re-rank would read most of the over-fetched rows exactly"
        )
    return None


@dataclass
class TuneIndexResult(EmbeddingResult):
    """``rows``: one per index candidate and search setting: candidate, kind (exact / vector / halfvec / bit), m,
    ef_construction, ef_search, overfetch (bit: rows fetched by Hamming distance per row returned), recall_at_k,
    recall_low / recall_high (95 % Wilson interval over the queries), mean_ms / p50_ms / p95_ms (client-observed
    search latency on the scratch copy), size_bytes (the index on the sample), projected_size_bytes (scaled to the
    table's rows), build_ms, uses_index (EXPLAIN of the search used the candidate's index), reaches_target.
    ``summary['advice']``: the chosen candidate with ``ddl``, ``settings`` and ``query``; ``tables['queries']`` the
    sampled query ids and ``tables['results']`` each setting's returned ids per query.

    Example:
        >>> TuneIndexResult("embeddings", "tune_index", "Index tuning").advice is None
        True
    """

    @property
    def advice(self) -> dict[str, Any] | None:
        """The chosen candidate (row fields plus ``ddl``, ``settings``, ``query``), or None when none reached."""
        advice = self.summary.get("advice")
        return advice if isinstance(advice, dict) else None

    def apply_text(self) -> str:
        """The statements to apply, as one block of SQL (empty when no candidate reached the target).

        Example:
            >>> TuneIndexResult("embeddings", "tune_index", "Index tuning").apply_text()
            ''
        """
        a = self.advice
        if a is None:
            return ""
        return "\n".join(
            [*a["settings_before_build"], a["ddl"] + ";", "", "-- then search with:", *a["settings"], a["query"] + ";"]
        )

    def to_text(self, *, max_rows: int = 40, max_width: int = 40) -> str:
        """The terminal rendering: what was measured, the findings, the candidates (the columns a person compares)
        and the SQL to apply."""
        from okai_insight.presentation import human_bytes, human_duration
        from okai_insight.results import Result, text_table

        head = Result.to_text(replace(self, rows=[]), max_rows=max_rows, max_width=max_width)
        s = self.summary
        if self.status != "ok" or not s:
            return head
        first, _, rest = head.partition("\n")
        first = first.replace(": 0 rows,", f": {len(self.rows)} rows,", 1)  # the head was built without the table
        measured = (
            f"{s['table']}.{s['column']}: {s['dims']} dimensions, ~{s['table_rows']:,} rows; sample of "
            f"{s['sample_rows']:,} rows ({human_bytes(s['table_size_bytes'])}, copied in {human_duration(s['copy_ms'])}), "
            f"{s['queries']} queries, target recall@{s['k']} {s['target_recall']:g}"
        )
        table = text_table(self.rows[:max_rows], TEXT_COLUMNS, max_width=max_width)
        text = "\n".join(p for p in (first, measured, rest, table) if p)
        block = self.apply_text()
        return f"{text}\n\nto apply:\n{_indent(block)}" if block else text

    def _repr_html_(self) -> str:
        import html

        from okai_insight.results import result_html

        block = self.apply_text()
        extra = f"<p><b>to apply</b></p><pre>{html.escape(block)}</pre>" if block else ""
        return result_html(self) + extra

    def plot(self, ax: Any = None) -> Any:
        """Index size (log scale) against recall@k, one marker per candidate and setting, the target as a line and
        the advice circled.

        Example:
            >>> tune_index(url).plot()                                               # doctest: +SKIP
        """
        ax = new_axes(ax)
        markers = {"vector": "o", "halfvec": "s", "bit": "^"}
        for kind, marker in markers.items():
            pts = [r for r in self.rows if r["kind"] == kind]
            if pts:
                ax.scatter(
                    [r["size_bytes"] / 2**20 for r in pts],
                    [r["recall_at_k"] for r in pts],
                    marker=marker,
                    s=50,
                    alpha=0.8,
                    label=kind if kind != "bit" else "bit + re-rank",
                )
        a = self.advice
        if a is not None:
            ax.scatter(
                [a["size_bytes"] / 2**20], [a["recall_at_k"]], s=260, facecolors="none", edgecolors="k", label="advice"
            )
        target = self.summary.get("target_recall")
        if target is not None:
            ax.axhline(target, color="0.4", ls="--", lw=1, label=f"target {target:g}")
        ax.set_xscale("log")
        ax.set_xlabel(f"index size on the {self.summary.get('sample_rows', '?'):,} sampled rows (MiB, log scale)")
        ax.set_ylabel(f"recall@{self.summary.get('k', 'k')}")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right")
        ax.set_title("Index size against recall")
        return ax


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.splitlines())


@diagnostic("embeddings", "Index tuning (HNSW, halfvec, binary quantization)", result=TuneIndexResult, doctor=False)
def tune_index(
    run: Runner,
    *,
    table: str = "memories",
    column: str = "embedding",
    k: int = 10,
    target_recall: float = 0.95,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    queries: int = DEFAULT_QUERIES,
    kinds: tuple[str, ...] | list[str] = KINDS,
    hnsw: tuple[tuple[int, int], ...] | list[tuple[int, int]] = DEFAULT_HNSW,
    ef_search: tuple[int, ...] | list[int] = DEFAULT_EF_SEARCH,
    overfetch: tuple[int, ...] | list[int] = DEFAULT_OVERFETCH,
    seed: int = 0,
    progress: bool = True,
    copy_timeout_ms: int = _DEFAULT_COPY_TIMEOUT_MS,
    build_timeout_ms: int = _DEFAULT_BUILD_TIMEOUT_MS,
    scratch_dir: str | None = None,
) -> dict[str, Any]:
    """Measure index candidates on a copy of a sample of the table and say which reaches ``target_recall`` with the
    least memory, then time (see the module docstring). The user's database is only read.

    ``kinds``: some of ``vector`` (full-precision HNSW at each ``hnsw`` (m, ef_construction)), ``halfvec`` and
    ``bit`` (both at pgvector's default m 16, ef_construction 64; bit re-ranked at each ``overfetch`` factor).
    ``sample_rows``: rows copied (a keyed sample); ``queries``: sampled query rows (stored rows, each its own
    nearest neighbour); ``ef_search``: the ``hnsw.ef_search`` values tried (bit: at least k x over-fetch).
    ``scratch_dir``: where the temporary server's data directory goes (default the system's temp dir).

    ElizaOS 1.x: reads one ``embeddings.dim_N`` column (as ``tune_recall`` picks it); the DDL targets that column.

    Example:
        >>> r = tune_index(url, kinds=("vector", "halfvec"), sample_rows=5_000)           # doctest: +SKIP
        >>> r.to_pandas()[["candidate", "ef_search", "recall_at_k", "size_bytes"]]        # doctest: +SKIP
    """
    _check_int("k", k, 1, 1000)
    _check_int("sample_rows", sample_rows, 10, 10_000_000)
    _check_int("queries", queries, 1, 100_000)
    _check_int("copy_timeout_ms", copy_timeout_ms, 1, 86_400_000)
    _check_int("build_timeout_ms", build_timeout_ms, 1, 86_400_000)
    if isinstance(target_recall, bool) or not isinstance(target_recall, int | float) or not 0 < target_recall <= 1:
        raise InvalidInput(f"target_recall must lie in (0, 1], got {target_recall!r}")
    wanted = list(dict.fromkeys(kinds))
    if not wanted or any(kd not in KINDS for kd in wanted):
        raise InvalidInput(f"kinds must be some of {', '.join(KINDS)}; got {list(kinds)}")
    efs = sorted({_check_int("ef_search", e, 1, 1000) for e in ef_search})
    factors = sorted({_check_int("overfetch", f, 1, 1000) for f in overfetch})
    params = sorted({(_check_int("m", m, 2, 100), _check_int("ef_construction", c, 4, 1000)) for m, c in hnsw})
    if not efs or not factors or ("vector" in wanted and not params):
        raise InvalidInput("ef_search, overfetch and hnsw need at least one value each")
    for m, c in params:
        if c < 2 * m:
            raise InvalidInput(f"ef_construction must be at least 2 x m (pgvector), got m={m}, ef_construction={c}")

    tables, notes = resolve(run, table, column)
    t = tables[0]
    if t.type_name != "vector":
        raise CheckUnavailable(
            f"{t.qualified}.{t.column} is {t.type_name}: already half precision; tune_index compares indexes of "
            "vector columns"
        )
    key = "memory_id" if t.source is not None else "id"  # ElizaOS 1.x: the embeddings table's key
    version = _version(run.features.installed.get("vector", ""))
    dims = t.declared_dims or _dominant_dims(run, t, seed)
    findings: list[Finding] = list(notes)
    name = f"{t.qualified}.{t.column}"
    candidates: list[Candidate] = []
    for kind in wanted:
        why = refusal(kind, dims, version)
        if why is not None:
            findings.append(Finding("info", f"{name}: not measured: {why}.", source=SOURCE, subject=name))
            continue
        if kind == "vector":
            candidates += [Candidate("vector", m, c) for m, c in params]
        else:
            candidates.append(Candidate(kind, *QUANTIZED_HNSW))  # type: ignore[arg-type]
    if not candidates:
        raise CheckUnavailable(
            f"{name}: no index candidate can serve this column: " + "; ".join(f.message for f in findings)
        )
    return _measure(
        run, t, key, dims, candidates, k, target_recall, sample_rows, queries, efs, factors, seed, progress,
        copy_timeout_ms, build_timeout_ms, scratch_dir, findings, version,
    )  # fmt: skip


def _check_int(what: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= int(value) <= high:
        raise InvalidInput(f"{what} must be an integer from {low:,} to {high:,}, got {value!r}")
    return int(value)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in str(text).split(".")[:3] if p.isdigit())


def _dominant_dims(run: Runner, t: VectorTable, seed: int) -> int:
    """The most frequent dimension of a column declared without one (read from a sample of pages)."""
    percent = sample_percent(t.estimated_rows, 10_000)
    rows = run.query("tuning", "dominant_dims", {"percent": percent, "seed": seed}, identifiers=t.identifiers()).rows
    if not rows:
        raise InvalidInput(f"{t.qualified}.{t.column} holds no vector to tune an index for")
    return int(rows[0]["dims"])


def _composed(name: str, t: VectorTable, key: str, dims: int) -> sql.Composed:
    text = "\n".join(line for line in load_sql("tuning", name).splitlines() if not line.lstrip().startswith("--"))
    ids = {
        "table": sql.Identifier(t.schema, t.table),
        "key": sql.Identifier(key),
        "column": sql.Identifier(t.column),
        "dims": sql.Literal(dims),
    }
    return sql.SQL(text.strip()).format(**ids)  # type: ignore[arg-type]  # our SQL file, not user input


@dataclass(frozen=True)
class _Setting:
    candidate: Candidate | None  # None: exact
    ef_search: int | None
    overfetch: int | None

    @property
    def search(self) -> str:
        kind = "vector" if self.candidate is None else self.candidate.kind
        return {"vector": "search_vector", "halfvec": "search_halfvec", "bit": "search_bit"}[kind]


def _settings_for(c: Candidate, efs: list[int], factors: list[int], k: int) -> list[_Setting]:
    if c.kind != "bit":
        return [_Setting(c, ef, None) for ef in efs]
    # The inner LIMIT k x over-fetch returns at most hnsw.ef_search rows: ef_search is raised to cover it.
    out = {(max(ef, k * f), f) for ef in efs for f in factors}
    return [_Setting(c, ef, f) for ef, f in sorted(out, key=lambda x: (x[1], x[0]))]


def _measure(
    run: Runner,
    t: VectorTable,
    key: str,
    dims: int,
    candidates: list[Candidate],
    k: int,
    target: float,
    sample_rows: int,
    queries: int,
    efs: list[int],
    factors: list[int],
    seed: int,
    progress: bool,
    copy_timeout_ms: int,
    build_timeout_ms: int,
    scratch_dir: str | None,
    findings: list[Finding],
    version: tuple[int, ...],
) -> dict[str, Any]:
    from pgvector.psycopg import register_vector
    from tqdm.auto import tqdm

    plan = [(c, _settings_for(c, efs, factors, k)) for c in candidates]
    steps = 3 + sum(1 + len(s) for _, s in plan)
    bar = tqdm(total=steps, desc="index tuning", unit="step", leave=False, disable=not progress)
    name = f"{t.qualified}.{t.column}"
    rows: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    try:
        bar.set_postfix_str("starting a scratch server")
        with scratch_server(scratch_dir) as url, translate_pg_errors(), psycopg.connect(url, autocommit=True) as conn:
            conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{build_timeout_ms}ms")))
            # The graph must fit in maintenance_work_mem or the build slows down (pgvector README, "Index Build
            # Time"); one parallel worker: these machines have two cores.
            conn.execute("SET maintenance_work_mem = '1GB'")
            conn.execute("SET max_parallel_maintenance_workers = 1")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            register_vector(conn)
            server = {
                "postgres": str(_scalar(conn, sql.SQL("SHOW server_version"))),
                "pgvector": str(_scalar(conn, sql.SQL("SELECT extversion FROM pg_extension WHERE extname = 'vector'"))),
            }
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(t.schema)))
            conn.execute(
                sql.SQL("CREATE TABLE {} ({} text NOT NULL, {} vector({}) NOT NULL)").format(
                    sql.Identifier(t.schema, t.table), sql.Identifier(key), sql.Identifier(t.column), sql.Literal(dims)
                )
            )
            bar.update()
            bar.set_postfix_str("copying the sample")
            started = time.perf_counter()
            n = _copy_sample(run, conn, t, key, dims, sample_rows, seed, copy_timeout_ms)
            copy_ms = (time.perf_counter() - started) * 1000
            if n == 0:
                raise InvalidInput(f"{name} has no non-zero vectors of {dims} dimensions to sample")
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(t.schema, t.table)))
            heap = int(
                _scalar(conn, sql.SQL("SELECT pg_table_size({})").format(sql.Literal(f'"{t.schema}"."{t.table}"')))
            )
            qids, Q = _queries(conn, t, key, queries, seed)
            bar.update()

            bar.set_postfix_str("exact searches")
            exact = _searches(conn, _composed("search_vector", t, key, dims), Q, k, None, None)
            exact_d = [d for _, d, _ in exact]
            rows.append(_row(_Setting(None, None, None), [1.0] * len(Q), [ms for *_, ms in exact], 0, 0.0, None, n, t))
            results += _result_rows("exact", None, None, qids, exact)
            bar.update()

            verified_sql: dict[_Setting, str] = {}
            for cand, settings in plan:
                bar.set_postfix_str(f"building {cand.label}")
                started = time.perf_counter()
                conn.execute(cand.ddl(t, key, dims, concurrently=False))
                build_ms = (time.perf_counter() - started) * 1000
                index = cand.index_name(t.table, t.column)
                size = int(
                    _scalar(conn, sql.SQL("SELECT pg_relation_size({})").format(sql.Literal(f'"{t.schema}"."{index}"')))
                )
                bar.update()
                for s in settings:
                    bar.set_postfix_str(
                        f"{cand.kind} ef_search {s.ef_search}" + (f" x{s.overfetch}" if s.overfetch else "")
                    )
                    statement = _composed(s.search, t, key, dims)
                    found = _searches(conn, statement, Q, k, s.ef_search, s.overfetch)
                    recalls = [tie_aware_recall(exact_d[i], d) for i, (_, d, _) in enumerate(found)]
                    uses = _uses_index(conn, statement, Q[0], k, s, index)
                    rows.append(_row(s, recalls, [ms for *_, ms in found], size, build_ms, uses, n, t))
                    results += _result_rows(cand.label, s.ef_search, s.overfetch, qids, found)
                    verified_sql[s] = _query_text(statement, conn, k, s)
                    bar.update()
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(t.schema, index)))
            for r in rows:
                r["reaches_target"] = r["kind"] != "exact" and bool(r["uses_index"]) and r["recall_low"] >= target
            advice = _advise(rows, plan, t, key, dims, k, conn, verified_sql)
    finally:
        bar.close()

    scratch = (
        f"measured on a copy of {n:,} rows in a scratch server (PostgreSQL {server['postgres']}, pgvector "
        f"{server['pgvector']}, removed afterwards); {name} was only read"
    )
    findings.append(_advice_finding(advice, rows, name, k, target, len(Q), n, t, scratch))
    summary = {
        "table": t.qualified,
        "column": t.column,
        "dims": dims,
        "table_rows": t.estimated_rows,
        "sample_rows": n,
        "queries": len(Q),
        "k": k,
        "target_recall": target,
        "current_index": t.index.name if t.index else None,
        "copy_ms": copy_ms,
        "table_size_bytes": heap,
        "pgvector": ".".join(map(str, version)),
        "advice": advice,
    }
    return {
        "rows": rows,
        "findings": findings,
        "summary": summary,
        "note": scratch,
        "tables": {"queries": [{"query_id": q} for q in qids], "results": results},
    }


def _scalar(conn: psycopg.Connection[Any], statement: sql.SQL | sql.Composed) -> Any:
    """The first column of the first row of a scratch-server statement."""
    row = conn.execute(statement).fetchone()
    if row is None:
        raise AssertionError(f"no row from {statement!r}")
    return row[0]


def _copy_sample(
    run: Runner,
    conn: psycopg.Connection[Any],
    t: VectorTable,
    key: str,
    dims: int,
    limit: int,
    seed: int,
    timeout_ms: int,
) -> int:
    """Binary COPY of the sample from the user's database (READ ONLY, rolled back) straight into the scratch table,
    chunk by chunk: the vectors never become Python objects and never sit in memory whole."""
    # Read about twice the wanted rows' pages: TABLESAMPLE SYSTEM picks whole pages, so its row count varies.
    percent = sample_percent(t.estimated_rows, 2 * limit)
    params = {"percent": percent, "seed": seed, "dims": dims, "limit": limit}
    text = "\n".join(line for line in load_sql("tuning", "sample_rows").splitlines() if not line.startswith("--"))
    select = sql.SQL(text.strip()).format(**t.identifiers())  # type: ignore[arg-type]  # our SQL file
    out_sql = tagged(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(select))
    in_sql = sql.SQL("COPY {} ({}, {}) FROM STDIN (FORMAT BINARY)").format(
        sql.Identifier(t.schema, t.table), sql.Identifier(key), sql.Identifier(t.column)
    )
    with run.transaction(settings={"statement_timeout": f"{timeout_ms}ms"}) as tx:
        with translate_pg_errors(), tx.cursor.copy(out_sql, params) as source, conn.cursor().copy(in_sql) as sink:
            for chunk in source:
                sink.write(chunk)
    count = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t.schema, t.table))).fetchone()
    return int(count[0]) if count else 0


def _queries(
    conn: psycopg.Connection[Any], t: VectorTable, key: str, queries: int, seed: int
) -> tuple[list[str], np.ndarray]:
    """A keyed sample of the copied rows as query vectors (stored rows, as an agent searches for its memories)."""
    rows = conn.execute(
        sql.SQL("SELECT {key} AS id, {col} AS v FROM {t} ORDER BY md5({key} || %s) LIMIT %s").format(
            key=sql.Identifier(key), col=sql.Identifier(t.column), t=sql.Identifier(t.schema, t.table)
        ),
        (str(seed), queries),
    ).fetchall()
    return [r[0] for r in rows], to_matrix([r[1] for r in rows])


def _params(q: np.ndarray, k: int, overfetch: int | None) -> dict[str, Any]:
    return {"q": q, "k": k, "fetch": k * (overfetch or 1)}


def _searches(
    conn: psycopg.Connection[Any],
    statement: sql.Composed,
    Q: np.ndarray,
    k: int,
    ef_search: int | None,
    overfetch: int | None,
) -> list[tuple[list[str], list[float], float]]:
    """Each query's returned ids, their full-precision distances and its client-observed latency, in one
    transaction with ``hnsw.ef_search`` set; the first :data:`WARMUP_QUERIES` run once untimed first."""
    out = []
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        if ef_search is not None:
            cur.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(ef_search),))
            # Measure the index itself: on a small sample the planner may prefer a scan at a large ef_search, and
            # that is reported separately (uses_index, from EXPLAIN with the planner left alone).
            cur.execute("SELECT set_config('enable_seqscan', 'off', true)")
        for q in Q[:WARMUP_QUERIES]:
            cur.execute(statement, _params(q, k, overfetch), prepare=False)
            cur.fetchall()
        for q in Q:
            start = time.perf_counter()
            cur.execute(statement, _params(q, k, overfetch), prepare=False)
            got = cur.fetchall()
            ms = (time.perf_counter() - start) * 1000
            out.append(([r[0] for r in got], [float(r[1]) for r in got], ms))
    return out


def _uses_index(
    conn: psycopg.Connection[Any], statement: sql.Composed, q: np.ndarray, k: int, s: _Setting, index: str
) -> bool:
    """Whether EXPLAIN of the search, with its setting, scans the candidate's index."""
    with conn.transaction(force_rollback=True), conn.cursor() as cur:
        cur.execute("SELECT set_config('hnsw.ef_search', %s, true)", (str(s.ef_search),))
        cur.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, _params(q, k, s.overfetch), prepare=False)
        row = cur.fetchone()
    plan = json.dumps(row[0] if row else [])
    return f'"Index Name": "{index}"' in plan


def _query_text(statement: sql.Composed, conn: psycopg.Connection[Any], k: int, s: _Setting) -> str:
    """The search as an application would send it: the query vector as ``$1``, k and the fetch size as numbers."""
    text = statement.as_string(conn)
    return text.replace("%(q)s", "$1").replace("%(k)s", str(k)).replace("%(fetch)s", str(k * (s.overfetch or 1)))


def _row(
    s: _Setting,
    recalls: list[float],
    times: list[float],
    size: int,
    build_ms: float,
    uses: bool | None,
    n: int,
    t: VectorTable,
) -> dict[str, Any]:
    c = s.candidate
    recall = float(np.mean(recalls)) if recalls else 1.0
    low, high = (1.0, 1.0) if c is None else wilson_interval(recall, len(recalls))
    scale = max(t.estimated_rows, n) / n if n else 1.0
    return {
        "candidate": "exact (no index)" if c is None else c.label,
        "kind": "exact" if c is None else c.kind,
        "m": None if c is None else c.m,
        "ef_construction": None if c is None else c.ef_construction,
        "ef_search": s.ef_search,
        "overfetch": s.overfetch,
        "recall_at_k": recall,
        "recall_low": low,
        "recall_high": high,
        "mean_ms": float(np.mean(times)) if times else 0.0,
        "p50_ms": float(np.percentile(times, 50)) if times else 0.0,
        "p95_ms": float(np.percentile(times, 95)) if times else 0.0,
        "size_bytes": size,
        "projected_size_bytes": int(size * scale),
        "build_ms": build_ms,
        "uses_index": uses,
        "reaches_target": False,
    }


def _result_rows(
    label: str,
    ef: int | None,
    overfetch: int | None,
    qids: list[str],
    found: list[tuple[list[str], list[float], float]],
) -> list[dict[str, Any]]:
    return [
        {"candidate": label, "ef_search": ef, "overfetch": overfetch, "query_id": q, "ids": ids, "distances": d}
        for q, (ids, d, _) in zip(qids, found, strict=True)
    ]


def _advise(
    rows: list[dict[str, Any]],
    plan: list[tuple[Candidate, list[_Setting]]],
    t: VectorTable,
    key: str,
    dims: int,
    k: int,
    conn: psycopg.Connection[Any],
    verified_sql: dict[_Setting, str],
) -> dict[str, Any] | None:
    """The candidate reaching the target with the smallest index, then the fastest search, then the fastest
    build; with its DDL (for the user's table, CONCURRENTLY), settings and verified query shape."""
    reach = [r for r in rows if r["reaches_target"]]
    if not reach:
        return None
    best = min(reach, key=lambda r: (r["size_bytes"], r["mean_ms"], r["build_ms"]))
    cand, setting = next(
        (c, s)
        for c, settings in plan
        for s in settings
        if c.label == best["candidate"] and s.ef_search == best["ef_search"] and s.overfetch == best["overfetch"]
    )
    # The graph should fit in maintenance_work_mem during the build (pgvector README): the projected size plus a
    # quarter, in whole MB, at least PostgreSQL's default 64MB.
    mem_mb = max(64, math.ceil(best["projected_size_bytes"] * 1.25 / 2**20))
    return {
        **best,
        "ddl": cand.ddl(t, key, dims).as_string(conn),
        "settings_before_build": [f"SET maintenance_work_mem = '{mem_mb}MB';"],
        "settings": [f"SET hnsw.ef_search = {setting.ef_search};"],
        "query": verified_sql[setting],
        "verified": bool(best["uses_index"]),
    }


def _advice_finding(
    advice: dict[str, Any] | None,
    rows: list[dict[str, Any]],
    name: str,
    k: int,
    target: float,
    queries: int,
    n: int,
    t: VectorTable,
    scratch: str,
) -> Finding:
    from okai_insight.presentation import human_bytes, human_duration

    threshold = f"95 % lower bound of recall@{k} >= {target:g} over {queries} sampled queries, smallest index first"
    if advice is None:
        measured = [r for r in rows if r["kind"] != "exact"]
        top = max(measured, key=lambda r: r["recall_at_k"]) if measured else None
        best = (
            f" (best: {top['candidate']} at ef_search {top['ef_search']}, recall {top['recall_at_k']:.3f}, 95 % "
            f"interval {top['recall_low']:.3f}-{top['recall_high']:.3f})"
            if top
            else ""
        )
        scanned = [r["candidate"] for r in measured if r["recall_low"] >= target and not r["uses_index"]]
        why = (
            f"; {scanned[0]} reached it, but the planner chose a sequential scan over the index on this {n:,}-row "
            "copy (exact search is cheaper on a small table; the index pays as the table grows)"
            if scanned
            else "; try larger ef_search or m, or more queries if the interval straddles the target"
        )
        return Finding(
            "warning",
            f"{name}: no candidate reaches recall@{k} {target:g} through its index{best}{why}. {scratch}.",
            threshold=threshold,
            source=SOURCE,
            subject=name,
        )
    how = f"hnsw.ef_search {advice['ef_search']}" + (
        f", over-fetch x{advice['overfetch']} re-ranked by exact cosine" if advice["overfetch"] else ""
    )
    full = [r for r in rows if r["kind"] == "vector" and r["m"] == 16]
    versus = (
        f"; full precision at m=16 takes {human_bytes(full[0]['size_bytes'])}"
        if full and advice["kind"] != "vector"
        else ""
    )
    est = (
        f" (about {human_bytes(advice['projected_size_bytes'])} at the table's ~{t.estimated_rows:,} rows)"
        if t.estimated_rows > n
        else ""
    )
    return Finding(
        "info",
        f"{name}: {advice['candidate']} at {how} reaches recall@{k} {target:g} with the smallest index: recall "
        f"{advice['recall_at_k']:.3f} (95 % interval {advice['recall_low']:.3f}-{advice['recall_high']:.3f}), "
        f"{human_bytes(advice['size_bytes'])} for {n:,} rows{est}{versus}, built in "
        f"{human_duration(advice['build_ms'])}, search {human_duration(advice['mean_ms'])} mean; EXPLAIN on the "
        f"copy {'used' if advice['verified'] else 'did NOT use'} the index. {scratch}.",
        threshold=threshold,
        source=SOURCE,
        fix_sql="\n".join(
            [*advice["settings_before_build"], advice["ddl"] + ";", *advice["settings"], advice["query"] + ";"]
        ),
        subject=name,
    )
