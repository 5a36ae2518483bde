"""Which ``hnsw.ef_search``? Recall@k and latency of HNSW searches against exact ones, unfiltered and filtered.

:func:`tune_recall` samples query rows (a keyed sample), finds each one's exact top-k with index scans disabled
(``SET LOCAL enable_indexscan = off`` in a rolled-back READ ONLY transaction), then its HNSW top-k at each
``hnsw.ef_search`` (``SET LOCAL`` in its own rolled-back transaction), and reports recall@k, client-observed
latency (mean, p95) and the rows returned. It does the same for searches filtered by the query row's own room or
agent, with ``hnsw.iterative_scan`` off and ``relaxed_order`` (pgvector >= 0.8): filters apply after the index
scan, so without iterative scans a selective filter leaves few rows.

What is measured is exactly what is fetched: both searches fetch ``k`` rows (``LIMIT k``, as an agent's search
does; the query row is a stored row, its own nearest neighbour at distance 0, and counts like any other). Fetching
more than ``ef_search`` rows would cut the HNSW list at ``ef_search`` and report a loss the application never sees.
Recall is tie-aware: an approximate result at a distance no greater than the exact k-th neighbour's is a hit, so
equal-distance rows (exact duplicates) the exact scan happened to order differently are not counted as misses.

Each setting's recall comes with a 95 % Wilson interval over the sampled queries (per-query recall lies in [0, 1],
so its variance is at most p(1 - p) and the binomial interval over ``queries`` is conservative). A setting
*reaches* ``target_recall`` only when the interval's lower bound does, so the headline does not flip with the
sample; the sample is a keyed one with a fixed ``seed``, so two runs with the same arguments say the same thing.
The report, the widget and the CLI call this function with its own ``queries`` default, :data:`DEFAULT_QUERIES`.

It names the smallest ``ef_search`` reaching ``target_recall`` for each kind of search and the ``SET`` statements
that apply it (none when the current setting already does), and warns when the planner abandons the HNSW index for
a scan at some setting.

Example:
    >>> r = tune_recall(url, k=10, target_recall=0.95)                                    # doctest: +SKIP
    >>> r.summary["set_statements"]  # doctest: +SKIP
    ['SET hnsw.ef_search = 80;', 'SET hnsw.iterative_scan = relaxed_order;']
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from okai_insight.diagnostics import diagnostic
from okai_insight.embeddings import _truth as truth
from okai_insight.embeddings._citus import uses_citus
from okai_insight.embeddings._elizaos1 import resolve
from okai_insight.embeddings._fetch import Filters, fetch
from okai_insight.embeddings._results import EmbeddingResult, new_axes
from okai_insight.embeddings._table import VectorTable, row_security_note
from okai_insight.errors import InvalidInput
from okai_insight.results import Finding
from okai_insight.runner import CheckUnavailable, Runner, Transaction

DEFAULT_EF_SEARCH = (10, 20, 40, 80, 100, 200, 400)
#: Sampled queries: enough that a recall of 1.0 has a 95 % lower bound above 0.98 (Wilson, n = 200).
DEFAULT_QUERIES = 200
#: The normal quantile of the two-sided 95 % interval.
Z95 = 1.959964
#: Distances closer than this to the exact k-th distance are ties (float4 arithmetic on the server).
TIE_TOLERANCE = 1e-6
SOURCE = "pgvector README (Query options; Iterative index scans)"
#: Filtered searches are run for these scopes when the table has the column.
SCOPES = ("all", "room", "agent")
_EXACT = {"enable_indexscan": "off", "enable_indexonlyscan": "off"}
#: From this many rows, unfiltered exact top-k lists come from one streamed read of the table
#: (:mod:`okai_insight.embeddings._truth`) instead of one sequential scan per query: at 1M x 384, 200 scans
#: read the table 200 times.
STREAMED_TRUTH_ROWS = 20_000
#: ... and the exact searches' latency is then timed on this many queries only.
TIMED_EXACT = 10


@dataclass
class RecallResult(EmbeddingResult):
    """``rows``: scope (all / room / agent), iterative_scan, ef_search, recall_at_k, mean_ms, p95_ms,
    mean_returned, index_share (the share of queries whose plan used the HNSW index, from EXPLAIN), uses_index
    (all did), recall_low / recall_high (the 95 % Wilson interval over the queries); exact searches have
    ``ef_search`` None. ``tables['exact']``: each query's exact ids.

    Example:
        >>> RecallResult("embeddings", "tune_recall", "Recall").recall("all", 40) is None
        True
    """

    @property
    def nothing_to_tune(self) -> bool:
        """True for an exact store (SQLite / in-memory): every search is exact, recall is 1.0 by construction.

        Example:
            >>> RecallResult("embeddings", "tune_recall", "R", summary={"exact_store": True}).nothing_to_tune
            True
        """
        return bool(self.summary.get("exact_store"))

    def recall(self, scope: str, ef_search: int, iterative_scan: str = "off") -> float | None:
        """The measured recall@k for one setting, or None."""
        for r in self.rows:
            if (r["scope"], r["ef_search"], r["iterative_scan"]) == (scope, ef_search, iterative_scan):
                return float(r["recall_at_k"])
        return None

    def plot(self, ax: Any = None) -> Any:
        """Recall@k against ``hnsw.ef_search`` (log scale), one line per scope and iterative-scan mode.

        Example:
            >>> tune_recall(url).plot()                                            # doctest: +SKIP
        """
        ax = new_axes(ax)
        lines: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for r in self.rows:
            if r["ef_search"] is not None:
                lines.setdefault((r["scope"], r["iterative_scan"]), []).append((r["ef_search"], r["recall_at_k"]))
        # Lines often coincide (every mode at recall 1.0): distinct line styles and hollow markers of shrinking
        # size keep each one visible on top of the others.
        styles = [("o", "-", 11), ("s", "--", 9), ("^", "-.", 7), ("D", ":", 5.5), ("v", (0, (5, 1)), 4)]
        for i, ((scope, mode), pts) in enumerate(sorted(lines.items())):
            pts.sort()
            marker, linestyle, size = styles[i % len(styles)]
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker=marker,
                linestyle=linestyle,
                markersize=size,
                markerfacecolor="none",
                markeredgewidth=1.5,
                label=scope if mode == "off" else f"{scope}, iterative {mode}",
            )
        target = self.summary.get("target_recall")
        if target is not None:
            ax.axhline(target, color="0.4", ls="--", lw=1, label=f"target {target:g}")
        ax.set_xscale("log")
        ax.set_xlabel("hnsw.ef_search (candidates kept per search, log scale)")
        ax.set_ylabel(f"recall@{self.summary.get('k', 'k')} (fraction of true neighbours found)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="lower right")
        ax.set_title("HNSW recall")
        return ax


@diagnostic("embeddings", "HNSW recall tuning", result=RecallResult, doctor=False, stores=True)
def tune_recall(
    run: Runner,
    *,
    table: str = "memories",
    column: str = "embedding",
    k: int = 10,
    ef_search: tuple[int, ...] | list[int] = DEFAULT_EF_SEARCH,
    queries: int = DEFAULT_QUERIES,
    target_recall: float = 0.95,
    scopes: tuple[str, ...] | list[str] = SCOPES,
    iterative_scan: tuple[str, ...] | list[str] = ("off", "relaxed_order"),
    filters: Filters | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Measure recall@k and latency of the table's HNSW index at each ``ef_search`` (see the module docstring).

    ``scopes``: ``all`` (unfiltered), ``room`` and ``agent`` (each query filtered by its own row's room / agent).
    ``iterative_scan``: the modes tried on filtered scopes (``off``, ``relaxed_order``, ``strict_order``).
    ``filters`` restricts which rows are sampled as queries.


    ElizaOS 1.x: reads one ``embeddings.dim_N`` column joined to ``memories`` (memory ids, agent, room, entity,
    world, type, text); with several active dimensions, the column of ``column=`` or ``filters.agent_id``, else
    the fullest, and an info finding naming the others (docs/elizaos1.md).
    1.x builds no vector index: its searches are exact (recall 1.0), so only their latency is measured
    per scope.

    Example:
        >>> tune_recall(url, ef_search=(20, 40, 100), queries=100).to_pandas()        # doctest: +SKIP
    """
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 1000:
        raise InvalidInput(f"k must be an integer from 1 to 1000, got {k!r}")
    if not isinstance(queries, int) or isinstance(queries, bool) or queries <= 0:
        raise InvalidInput(f"queries must be a positive integer, got {queries!r}")
    efs = sorted({int(e) for e in ef_search})
    if not efs or any(not 1 <= e <= 1000 for e in efs):
        raise InvalidInput(f"ef_search values must lie in 1..1000 (pgvector's range), got {list(ef_search)}")
    if not 0 < target_recall <= 1:
        raise InvalidInput(f"target_recall must lie in (0, 1], got {target_recall}")
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise InvalidInput(f"scopes must be some of {SCOPES}, got {list(scopes)}")
    modes = list(dict.fromkeys(iterative_scan))
    if not modes or any(m not in ("off", "relaxed_order", "strict_order") for m in modes):
        raise InvalidInput(f"iterative_scan modes are off, relaxed_order, strict_order; got {list(iterative_scan)}")
    tables, notes = resolve(run, table, column, agent_id=filters.agent_id if filters else None)
    t = tables[0]
    if t.store is not None:
        return exact_store(t, k)
    if t.source is not None and t.index is None:
        # ElizaOS 1.x builds no vector index: its searches are exact (recall 1.0). Measure what they cost.
        out = _tune(run, t, k, [], queries, target_recall, list(scopes), ["off"], filters, seed)
        out["findings"] = notes + out["findings"]
        return out
    if t.index is None or t.index.method != "hnsw":
        raise CheckUnavailable(
            f"{t.qualified}.{t.column} has no HNSW index: searches are exact (or IVFFlat), nothing to tune here",
            fix_sql=f'CREATE INDEX CONCURRENTLY ON {t.qualified} USING hnsw ("{t.column}" vector_cosine_ops);',
        )
    return _tune(run, t, k, efs, queries, target_recall, list(scopes), modes, filters, seed)


def _search(
    tx: Transaction, t: VectorTable, q: np.ndarray, k: int, room: Any, agent: Any
) -> tuple[list[str], list[float], float]:
    """The k rows the search returns (ids and distances) and its latency: exactly what an agent would get."""
    params = {"q": q, "k": k, "room_id": room, "agent_id": agent}
    rows = tx.query("embeddings", "knn_search", params, identifiers=t.identifiers()).rows
    return [r["id"] for r in rows], [float(r["distance"]) for r in rows], tx.last_ms


def tie_aware_recall(exact: list[float], approximate: list[float], tolerance: float = TIE_TOLERANCE) -> float:
    """Recall of one search given the exact top-k distances and the approximate result's distances (same k):
    an approximate row as close as the exact k-th neighbour (within ``tolerance``) is a hit, so a row tied with
    the k-th at equal distance counts. Nothing to find (no exact row) is recall 1.0.

    Example:
        >>> tie_aware_recall([0.0, 0.1, 0.2, 0.2], [0.0, 0.1, 0.2, 0.2])   # the last two may be other duplicates
        1.0
        >>> tie_aware_recall([0.0, 0.1, 0.2, 0.3], [0.0, 0.1, 0.2, 0.5])
        0.75
    """
    if not exact:
        return 1.0
    kth = max(exact)
    hits = sum(1 for d in approximate if d <= kth + tolerance)
    return min(hits, len(exact)) / len(exact)


def wilson_interval(p: float, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``p`` measured on ``n`` trials (here: mean recall over ``n``
    queries; conservative, since a per-query recall in [0, 1] varies at most as much as a coin with mean p).

    Example:
        >>> [round(x, 3) for x in wilson_interval(1.0, 200)]
        [0.981, 1.0]
    """
    if n <= 0:
        return 0.0, 1.0
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * float(np.sqrt(max(p * (1 - p), 0.0) / n + z * z / (4 * n * n))) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _uses_index(tx: Transaction, t: VectorTable, q: np.ndarray, k: int, room: Any, agent: Any) -> bool:
    from okai_insight.query_files import load_sql

    text = load_sql("embeddings", "knn_search")
    body: sql.Composable = sql.SQL(text).format(**t.identifiers())  # type: ignore[arg-type]
    params: dict[str, Any] | None = {"q": q, "k": k, "room_id": room, "agent_id": agent}
    if uses_citus(tx.run):
        # Citus sends an EXPLAIN's bound parameters on to the shards untyped ("could not determine data type of
        # parameter $1" on the worker, which aborts the transaction): the values go in as literals there
        values = {"q": "[" + ",".join(f"{float(x):.9g}" for x in q) + "]", "k": k, "room_id": room, "agent_id": agent}
        body = sql.SQL(psycopg.ClientCursor(tx.cursor.connection).mogrify(body, values))  # type: ignore[arg-type]
        params = None
    plan = tx.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + body, params).rows
    assert t.index is not None
    found = json.dumps(plan[0]["QUERY PLAN"])
    # a shard's copy of the index is <index>_<shardid> (Citus)
    return f'"Index Name": "{t.index.name}"' in found or f'"Index Name": "{t.index.name}_' in found


def _tune(
    run: Runner,
    t: VectorTable,
    k: int,
    efs: list[int],
    queries: int,
    target: float,
    scopes: list[str],
    modes: list[str],
    filters: Filters | None,
    seed: int,
) -> dict[str, Any]:
    from tqdm.auto import tqdm

    frame, X, _ = fetch(run, t, filters, limit=queries, seed=seed)
    if not len(frame):
        raise InvalidInput(f"{t.qualified} has no embedded rows to sample queries from{row_security_note(t)}")
    qids = frame["id"].tolist()
    findings: list[Finding] = []
    version = tuple(int(p) for p in str(run.features.installed.get("vector", "0")).split(".")[:2] if p.isdigit())
    if version < (0, 8):
        if any(m != "off" for m in modes):
            findings.append(
                Finding(
                    "info",
                    f"pgvector {'.'.join(map(str, version))} has no hnsw.iterative_scan "
                    "(0.8+): filtered searches were measured without it.",
                    fix_sql="ALTER EXTENSION vector UPDATE;",
                    source=SOURCE,
                )
            )
        modes = ["off"]
    active = [s for s in scopes if s == "all" or t.has(s)]
    name = f"{t.qualified}.{t.column}"

    def filt(scope: str, i: int) -> tuple[Any, Any]:
        room = frame["room_id"].iat[i] if scope == "room" else None
        agent = frame["agent_id"].iat[i] if scope == "agent" else None
        return room, agent

    rows: list[dict[str, Any]] = []
    streamed_truth = False
    exact: dict[str, list[list[str]]] = {}
    exact_distances: dict[str, list[list[float]]] = {}
    configs = [(s, "off", e) for s in active for e in efs]
    configs += [(s, m, e) for s in active if s != "all" for m in modes if m != "off" for e in efs]
    bar = tqdm(total=len(active) + len(configs), desc="recall tuning", unit="setting", leave=False)
    try:
        for scope in active:
            with run.transaction(settings=_EXACT, vectors=True) as tx:
                lists: list[list[str]] = []
                dists: list[list[float]] = []
                times: list[float] = []
                streamed = scope == "all" and t.estimated_rows >= STREAMED_TRUTH_ROWS and truth.supported(tx, t)
                if streamed:  # one pass over the table for every query, not one sequential scan each
                    lists, dists = truth.streamed_topk(tx, t, X[: len(qids)], k)
                    streamed_truth = True
                for i in range(min(len(qids), TIMED_EXACT) if streamed else len(qids)):
                    ids, distances, ms = _search(tx, t, X[i], k, *filt(scope, i))
                    if not streamed:
                        lists.append(ids)
                        dists.append(distances)
                    times.append(ms)  # streamed: the exact searches' latency, from a few of them
            exact[scope] = lists
            exact_distances[scope] = dists
            rows.append(_row(scope, "exact", None, [1.0] * len(qids), times, lists, None))
            bar.update()
        for scope, mode, ef in configs:
            settings = {"hnsw.ef_search": str(ef)}
            if version >= (0, 8):
                settings["hnsw.iterative_scan"] = mode
            with run.transaction(settings=settings, vectors=True) as tx:
                recalls, times, lists, planned = [], [], [], []
                for i in range(len(qids)):
                    planned.append(_uses_index(tx, t, X[i], k, *filt(scope, i)))
                    ids, distances, ms = _search(tx, t, X[i], k, *filt(scope, i))
                    recalls.append(tie_aware_recall(exact_distances[scope][i], distances))
                    times.append(ms)
                    lists.append(ids)
            rows.append(_row(scope, mode, ef, recalls, times, lists, float(np.mean(planned))))
            bar.update()
    finally:
        bar.close()

    if not efs:
        return _exact_only(t, rows, exact, qids, k, name)
    best: dict[str, int | None] = {}
    statements: list[str] = []
    for scope in active:
        for mode in ["off"] if scope == "all" else ["off", *[m for m in modes if m != "off"]]:
            hits = [r for r in rows if r["scope"] == scope and r["iterative_scan"] == mode and r["ef_search"]]
            reach = [r for r in hits if r["recall_low"] >= target and r["uses_index"]]
            label = scope if mode == "off" else f"{scope}+{mode}"
            best[label] = min((r["ef_search"] for r in reach), default=None)
            abandoned = [r["ef_search"] for r in hits if not r["uses_index"]]
            if abandoned:
                findings.append(
                    Finding(
                        "warning",
                        f"{name}: at hnsw.ef_search {', '.join(map(str, abandoned))} the planner did not use index "
                        f"{t.index.name if t.index else ''} for {scope} searches (iterative_scan {mode}): they ran "
                        "as exact scans (slower; recall 1.0).",
                        threshold="EXPLAIN shows no Index Scan on the HNSW index",
                        source=SOURCE,
                        subject=name,
                    )
                )
    all_best = best.get("all")
    current = _current_ef_search(run)
    if "all" in active:
        if all_best is not None:
            r = next(x for x in rows if x["scope"] == "all" and x["ef_search"] == all_best)
            measured = (
                f"{len(qids)} sampled queries ({r['recall_at_k']:.3f}, 95 % interval {r['recall_low']:.3f}-"
                f"{r['recall_high']:.3f})"  # latency stays in the rows: the headline must not vary between runs
            )
            if current is not None and current >= all_best:
                findings.append(
                    Finding(
                        "info",
                        f"{name}: the current hnsw.ef_search {current} already reaches recall@{k} {target:g} "
                        f"(the smallest tried that does is {all_best}, on {measured}); nothing to change.",
                        threshold=f"95 % lower bound of recall@{k} >= {target:g}",
                        source=SOURCE,
                        subject=name,
                    )
                )
            else:
                statements.append(f"SET hnsw.ef_search = {all_best};")
                findings.append(
                    Finding(
                        "info",
                        f"{name}: hnsw.ef_search {all_best} is the smallest tried that reaches recall@{k} {target:g} "
                        f"on {measured}" + (f"; the current setting is {current}." if current is not None else "."),
                        threshold=f"95 % lower bound of recall@{k} >= {target:g}",
                        source=SOURCE,
                        fix_sql=f"SET hnsw.ef_search = {all_best};  -- or for every session:\n"
                        f"ALTER DATABASE {run.features.database} SET hnsw.ef_search = {all_best};",
                        subject=name,
                    )
                )
        else:
            findings.append(_not_reached(rows, name, k, target, len(qids)))
    for scope in [s for s in active if s != "all"]:
        plain = best.get(scope)
        iterative = {m: best.get(f"{scope}+{m}") for m in modes if m != "off"}
        reached = {m: e for m, e in iterative.items() if e is not None}
        if plain is not None:
            findings.append(
                Finding(
                    "info",
                    f"{name}: {scope}-filtered searches reach recall@{k} {target:g} at "
                    f"hnsw.ef_search {plain} without iterative scans.",
                    source=SOURCE,
                    subject=name,
                )
            )
            continue
        if reached:
            mode, ef = min(reached.items(), key=lambda kv: kv[1])
            stmt = [f"SET hnsw.iterative_scan = {mode};"]
            if all_best is None or ef > all_best:
                stmt.insert(0, f"SET hnsw.ef_search = {ef};")
            statements += [s for s in stmt if s not in statements and not s.startswith("SET hnsw.ef_search")]
            if stmt[0].startswith("SET hnsw.ef_search") and stmt[0] not in statements:
                statements.insert(0, stmt[0])
            plain_row = max(
                (x for x in rows if x["scope"] == scope and x["iterative_scan"] == "off" and x["ef_search"]),
                key=lambda x: x["recall_at_k"],
            )
            findings.append(
                Finding(
                    "warning",
                    f"{name}: {scope}-filtered searches never reach recall@{k} {target:g} without iterative scans (best "
                    f"{plain_row['recall_at_k']:.3f}, {plain_row['mean_returned']:.1f} rows returned of {k}); with "
                    f"hnsw.iterative_scan = {mode} they do at ef_search {ef}.",
                    threshold=f"95 % lower bound of recall@{k} >= {target:g}",
                    source=SOURCE,
                    fix_sql="\n".join(stmt),
                    subject=name,
                )
            )
        else:
            top = max(
                (x for x in rows if x["scope"] == scope and x["ef_search"] and x["uses_index"] is not False),
                key=lambda x: x["recall_at_k"],
                default=None,
            )
            seen = (
                f" (best {top['recall_at_k']:.3f}, 95 % interval {top['recall_low']:.3f}-{top['recall_high']:.3f}, "
                f"at ef_search {top['ef_search']})"
                if top
                else ""
            )
            unclear = top is not None and top["recall_high"] >= target
            findings.append(
                Finding(
                    "info" if unclear else "warning",
                    f"{name}: {scope}-filtered searches are not shown to reach recall@{k} {target:g} at any setting "
                    f"tried{seen}; "
                    + (
                        "the sample cannot tell it from the target: measure with more queries."
                        if unclear
                        else "search small scopes exactly (okai-insight's adapter does below "
                        "Settings.exact_search_max_rows) or raise hnsw.max_scan_tuples."
                    ),
                    threshold=f"95 % lower bound of recall@{k} >= {target:g}",
                    source=SOURCE,
                    subject=name,
                )
            )
    summary = {
        "table": t.qualified,
        "index": t.index.name if t.index else None,
        "k": k,
        "queries": len(qids),
        "target_recall": target,
        "smallest_ef_search": best,
        "set_statements": statements,
        "exact_from_stream": streamed_truth,
    }
    exact_rows = [
        {"scope": s, "query_id": q, "ids": ids}
        for s, lists in exact.items()
        for q, ids in zip(qids, lists, strict=True)
    ]
    return {"rows": rows, "findings": findings, "summary": summary, "tables": {"exact": exact_rows}}


def _current_ef_search(run: Runner) -> int | None:
    """The session's hnsw.ef_search (what a connection gets from the server's and database's settings)."""
    with run.transaction(vectors=True) as tx:
        # The vector literal loads pgvector, which defines hnsw.ef_search when no setting named it yet.
        rows = tx.execute(
            sql.SQL("SELECT '[1]'::vector IS NOT NULL AS loaded, current_setting('hnsw.ef_search', true) AS v")
        ).rows
    value = rows[0]["v"] if rows else None
    return int(value) if value and str(value).isdigit() else None


def _not_reached(rows: list[dict[str, Any]], name: str, k: int, target: float, n: int) -> Finding:
    """No setting's interval clears the target: a rebuild only when even the upper bound misses it, otherwise the
    sample is too small to tell, and a best that only an exact scan reached is named as such."""
    measured = [x for x in rows if x["scope"] == "all" and x["ef_search"]]
    on_index = [x for x in measured if x["uses_index"]] or measured
    top = max(on_index, key=lambda x: (x["recall_at_k"], -x["ef_search"]))
    best = (
        f"best {top['recall_at_k']:.3f} at ef_search {top['ef_search']}, 95 % interval {top['recall_low']:.3f}-"
        f"{top['recall_high']:.3f} over {n} queries"
    )
    threshold = f"95 % lower bound of recall@{k} >= {target:g}"
    if top["recall_high"] < target:
        return Finding(
            "warning",
            f"{name}: no hnsw.ef_search tried that uses the index reaches recall@{k} {target:g} ({best}); rebuild "
            "the index with larger m / ef_construction, or try larger ef_search values.",
            threshold=threshold,
            source=SOURCE,
            subject=name,
        )
    return Finding(
        "info",
        f"{name}: recall@{k} {target:g} is not established at any hnsw.ef_search tried ({best}): the sample cannot "
        "tell it from the target. Measure with more queries before changing anything.",
        threshold=threshold,
        source=SOURCE,
        subject=name,
    )


def _row(
    scope: str,
    mode: str,
    ef: int | None,
    recalls: list[float],
    times: list[float],
    lists: list[list[str]],
    index_share: float | None,
) -> dict[str, Any]:
    recall = float(np.mean(recalls)) if recalls else 1.0
    # Exact searches are the truth itself: no sampling error to state.
    low, high = (1.0, 1.0) if ef is None else wilson_interval(recall, len(recalls))
    return {
        "scope": scope,
        "iterative_scan": mode,
        "ef_search": ef,
        "recall_at_k": recall,
        "recall_low": low,
        "recall_high": high,
        "mean_ms": float(np.mean(times)) if times else 0.0,
        "p95_ms": float(np.percentile(times, 95)) if times else 0.0,
        "mean_returned": float(np.mean([len(x) for x in lists])) if lists else 0.0,
        "index_share": index_share,
        "uses_index": None if index_share is None else index_share == 1.0,
    }


#: The one line an exact store's recall tuning says (the CLI prints it as is).
EXACT_STORE = "exact store: recall 1.0, nothing to tune"


def exact_store(t: VectorTable, k: int) -> dict[str, Any]:
    """The answer for a SQLite / in-memory store: its searches compare the query with every stored vector
    (sqlite-vec's vec0 scan, the in-memory store's brute force), so recall@k is 1.0 by construction and there is
    no ``ef_search`` or index to tune. No rows: nothing was measured, and a table of 1.0s would pretend it was.

    Example:
        >>> from okai_insight.embeddings._table import VectorTable
        >>> t = VectorTable("SQLite", "memories", "embedding", "vector", 3, frozenset({"id"}), 10, None)
        >>> exact_store(t, 10)["findings"][0].message
        'exact store: recall 1.0, nothing to tune (SQLite memories.embedding is searched by brute force: every query is compared with all 10 stored vectors)'
    """
    name = f"{t.qualified}.{t.column}"
    return {
        "rows": [],
        "findings": [
            Finding(
                "info",
                f"{EXACT_STORE} ({t.schema} {t.table}.{t.column} is searched by brute force: every query is compared "
                f"with all {t.estimated_rows} stored vectors)",
                threshold="exact search: no approximate index",
                subject=name,
            )
        ],
        "summary": {
            "table": t.qualified,
            "column": t.column,
            "index": None,
            "k": k,
            "exact_store": True,
            "recall_at_k": 1.0,
            "queries": 0,
            "target_recall": None,
            "smallest_ef_search": {},
            "set_statements": [],
        },
        "tables": {"exact": []},
    }


def _exact_only(
    t: VectorTable, rows: list[dict[str, Any]], exact: dict[str, list[list[str]]], qids: list[str], k: int, name: str
) -> dict[str, Any]:
    """The result for a column without a vector index (ElizaOS 1.x): exact searches only, recall 1.0."""
    costs = ", ".join(f"{r['scope']} {r['mean_ms']:.2f} ms (p95 {r['p95_ms']:.2f})" for r in rows)
    findings = [
        Finding(
            "info",
            f"{name} has no vector index (ElizaOS 1.x creates none): every search scans the column exactly, so "
            f"recall@{k} is 1.0 and there is no ef_search to tune. Mean latency of {len(qids)} sampled searches: "
            f"{costs}. An HNSW index would not serve ElizaOS's ORDER BY 1 - distance DESC either.",
            threshold="no hnsw index on the column",
            source=SOURCE,
            subject=name,
        )
    ]
    summary: dict[str, Any] = {
        "table": t.qualified,
        "column": t.column,
        "index": None,
        "k": k,
        "queries": len(qids),
        "target_recall": None,
        "smallest_ef_search": {},
        "set_statements": [],
    }
    exact_rows = [
        {"scope": s, "query_id": q, "ids": ids}
        for s, lists in exact.items()
        for q, ids in zip(qids, lists, strict=True)
    ]
    return {"rows": rows, "findings": findings, "summary": summary, "tables": {"exact": exact_rows}}
