"""Are the embeddings sane? Dimensions, NULL / zero / NaN / non-unit vectors, norms, duplicates, mixed models.

One function, :func:`embedding_quality`, reads a table's vector column per group (agent, room or type), on a
TABLESAMPLE of big tables (it says so), and reports:

- the dimension histogram against the column's declared dimension;
- NULL vectors (never found by a search), zero vectors (never found under cosine distance), NaN / infinite
  vectors, and vectors whose norm is not 1;
- norm distributions (min, 5th percentile, median, 95th percentile, max, mean, sd);
- exact duplicates (identical vectors) and near duplicates (cosine similarity >= ``near_threshold``) found
  through the vector index: one ``ORDER BY embedding <op> probe LIMIT k`` per probe row (a LATERAL join), never an
  O(n^2) scan;
- signs of two embedding models in one group, with the rows concerned: two dimensions; two separated norm
  populations; two separated populations of similarity to the group's mean direction (vectors of an unrelated
  model are near-orthogonal to it); identical texts with far-apart vectors.

Example:
    >>> from okai_insight.embeddings import embedding_quality
    >>> q = embedding_quality(url, by="agent")                                      # doctest: +SKIP
    >>> q.summary["near_duplicate_pairs"], [f.severity for f in q.findings]  # doctest: +SKIP
    (12, ['warning', 'info'])
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from okai_insight.diagnostics import diagnostic
from okai_insight.embeddings._elizaos1 import resolve, zero_vector_ids
from okai_insight.embeddings._fetch import fetch, probe_neighbours
from okai_insight.embeddings._results import EmbeddingResult, new_axes
from okai_insight.embeddings._split import two_populations
from okai_insight.embeddings._store import source_rows
from okai_insight.embeddings._table import (
    GroupBy,
    VectorTable,
    check_group,
    row_security_findings,
    sample_percent,
)
from okai_insight.errors import InvalidInput
from okai_insight.results import Finding, Severity
from okai_insight.runner import Runner

SOURCE = "pgvector README"
ELIZA = "ElizaOS 0.1.9 (packages/adapter-postgres: 0.95 duplicate check before insert)"
#: Two norm populations count as two models when their halves are this many pooled sds apart ...
NORM_SEPARATION = 5.0
#: ... and their means differ by at least this ratio (float noise on unit vectors is far below it).
NORM_MIN_RATIO = 1.02
#: Two populations of similarity to the mean direction: this many sds apart and this far apart in cosine.
DIRECTION_SEPARATION = 5.0
DIRECTION_MIN_GAP = 0.15
#: ... in a group whose rows share a direction: the length of their mean unit vector is at least this many times the
#: 1/sqrt(n) that n unrelated random directions give (an embedding model's vectors share one: MiniLM's demo rows
#: average to about 0.3, far above 3/sqrt(n)).
DIRECTION_MIN_RESULTANT = 3.0
#: A population counts when it holds at least this many rows and this share of its group.
MIN_MINORITY_ROWS = 3
MIN_MINORITY_SHARE = 0.01
#: Identical texts whose vectors are less similar than this come from different models.
SAME_TEXT_MAX_SIMILARITY = 0.9


@dataclass
class QualityResult(EmbeddingResult):
    """Per-group rows (``rows``) plus side tables: ``exact_duplicates``, ``near_duplicates``, ``mixed_rows``
    (rows suspected of coming from another model, with the reason) and ``same_text_pairs``.

    Example:
        >>> QualityResult("embeddings", "embedding_quality", "Embedding quality").suspect_ids()
        set()
    """

    def suspect_ids(self) -> set[str]:
        """Ids of rows flagged as from another embedding model."""
        return {r["id"] for r in self.tables.get("mixed_rows") or []}

    def near_duplicate_pairs(self) -> set[frozenset[str]]:
        """Near-duplicate pairs (unordered id pairs) found among the probes."""
        return {frozenset((r["id_a"], r["id_b"])) for r in self.tables.get("near_duplicates") or []}

    def plot(self, ax: Any = None) -> Any:
        """Norm distribution per group (5th-95th percentile bar, median dot, min / max whiskers).

        Example:
            >>> embedding_quality(url).plot()                                      # doctest: +SKIP
            <Axes: ...>
        """
        ax = new_axes(ax)
        rows = [r for r in self.rows if r.get("norm_median") is not None]
        for i, r in enumerate(rows):
            ax.plot([i, i], [r["norm_min"], r["norm_max"]], color="0.6", lw=1)
            ax.plot([i, i], [r["norm_p05"], r["norm_p95"]], color="tab:blue", lw=6, solid_capstyle="butt")
            ax.plot([i], [r["norm_median"]], "o", color="white", mec="tab:blue")
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels([str(r["group"])[:8] for r in rows], rotation=45, ha="right")
        ax.set_ylabel("L2 norm")
        ax.set_title(f"Embedding norms by {self.summary.get('by') or 'table'}")
        return ax


@diagnostic("embeddings", "Embedding quality", result=QualityResult, stores=True)
def embedding_quality(
    run: Runner,
    table: str = "memories",
    by: GroupBy = "agent",
    *,
    column: str = "embedding",
    sample_rows: int = 50_000,
    near_threshold: float | None = None,
    probes: int = 1_000,
    neighbours: int = 10,
    unit_tolerance: float = 1e-3,
    seed: int = 0,
    max_listed: int = 200,
) -> dict[str, Any]:
    """Check a table's embeddings per ``by`` group (``"agent"``, ``"room"``, ``"type"``, ``"user"`` or None).

    ``sample_rows``: tables estimated above it are read through ``TABLESAMPLE SYSTEM`` (the summary's ``sampled``
    and an info finding say so). ``near_threshold``: cosine similarity at or above which two rows are near
    duplicates (default ``Settings.duplicate_threshold``, ElizaOS's 0.95). ``probes`` rows (a keyed sample) each
    look up their ``neighbours`` nearest rows through the vector index.

    ElizaOS 1.x: the defaults read every active ``embeddings.dim_N`` column joined to ``memories`` (memory ids;
    ``by`` also ``"world"`` or ``"entity"``), each column analysed on its own and never mixed: every row names its
    ``column``, and an info finding names the dimensions. ``column="dim_768"`` reads one (docs/elizaos1.md).

    Example:
        >>> q = embedding_quality(url, "memories", by="agent")                        # doctest: +SKIP
        >>> q.to_pandas()[["group", "sampled_rows", "zero_vectors", "norm_median"]]  # doctest: +SKIP
    """
    group = check_group(by)
    for name, value in (("sample_rows", sample_rows), ("probes", probes), ("neighbours", neighbours)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
    if near_threshold is not None and not -1.0 <= near_threshold <= 1.0:
        raise InvalidInput(f"near_threshold is a cosine similarity in [-1, 1], got {near_threshold}")
    threshold = near_threshold if near_threshold is not None else float(run.settings.duplicate_threshold)
    tables, notes = resolve(run, table, column, every_column=True)
    results = [
        _check(run, t, group, threshold, sample_rows, probes, neighbours, unit_tolerance, seed, max_listed)
        for t in tables
    ]
    return _merged(results, notes)


def _merged(results: list[dict[str, Any]], notes: list[Finding]) -> dict[str, Any]:
    """One result from each ElizaOS 1.x column's (or the one table's): rows, findings and tables one after the
    other (each row names its column and declared_dims), the summary of the fullest column with every column's."""
    if len(results) == 1:
        out = results[0]
        out["findings"] = notes + out["findings"]
        return out
    first = results[0]
    tables = {key: [row for r in results for row in r["tables"][key]] for key in first["tables"]}
    summary = {**first["summary"], "columns": {r["summary"]["column"]: r["summary"] for r in results}}
    return {
        "rows": [row for r in results for row in r["rows"]],
        "findings": notes + [f for r in results for f in r["findings"]],
        "tables": tables,
        "summary": summary,
    }


def _check(
    run: Runner,
    t: VectorTable,
    group: GroupBy,
    threshold: float,
    sample_rows: int,
    probes: int,
    k: int,
    unit_tolerance: float,
    seed: int,
    max_listed: int,
) -> dict[str, Any]:
    percent = sample_percent(t.estimated_rows, sample_rows)
    sampled = percent < 100
    base = {"percent": percent, "seed": seed}
    findings: list[Finding] = []
    name = f"{t.qualified}.{t.column}"

    rows = source_rows(run, t, "group_stats", {**base, "unit_tolerance": unit_tolerance}, group)
    for r in rows:
        r["stored_dims"] = {int(k2): int(v) for k2, v in (r["stored_dims"] or {}).items()}
        r["declared_dims"] = t.declared_dims
        r["column"] = t.column
    if sampled:
        n = sum(r["sampled_rows"] for r in rows)
        findings.append(
            Finding(
                "info",
                f"{name}: sampled {percent:g} % of the table's pages (TABLESAMPLE SYSTEM, {n} of about "
                f"{t.estimated_rows} rows); counts are for the sample.",
                threshold=f"estimated rows > sample_rows {sample_rows}",
                subject=name,
            )
        )
    zero_ids: list[str] | None = None
    if t.source is not None and any(r["zero_vectors"] for r in rows):
        zero_ids = zero_vector_ids(run, t, max_listed)
    findings += _vector_findings(t, rows, name, zero_ids)
    findings += row_security_findings(t, sum(int(r["sampled_rows"]) for r in rows))

    # Rows concerned by a second model: dimensions and norms per row (no vectors), then direction from a sample.
    norms = source_rows(run, t, "row_norms", {**base, "limit": sample_rows}, group)
    mixed_rows: list[dict[str, Any]] = []
    mixed_rows += _mixed_dimensions(t, norms)
    # Per group (two models inside one agent), then across the table (an agent wholly on another model).
    mixed_rows += _mixed_norms(norms) + _mixed_norms(norms, whole_table=True)
    frame, X, _ = fetch(run, t, limit=probes, sample_rows=sample_rows, group=group, seed=seed, dims=_main_dims(t, rows))
    mixed_rows += _mixed_directions(frame, X) + _mixed_directions(frame, X, whole_table=True)

    # Exact duplicates (GROUP BY the vector's text) and near duplicates through the index.
    dup = source_rows(run, t, "exact_duplicates", {**base, "max_groups": max_listed}, group)
    dup_groups = int(dup[0]["duplicate_groups"]) if dup else 0
    dup_rows = int(dup[0]["duplicate_rows"]) if dup else 0
    probe_ids = frame["id"].tolist()
    if t.index is None and t.estimated_rows > 10_000:
        probe_ids = probe_ids[: max(10, 2_000_000 // max(t.estimated_rows, 1))]
    nn = probe_neighbours(run, t, probe_ids, k, group=group)
    near = _near_pairs(nn, threshold)
    probes_with_near = len({p["probe_id"] for p in nn if p["cosine_similarity"] >= threshold})

    same_text: list[dict[str, Any]] = []
    if t.has("content"):
        same_text = source_rows(
            run, t, "same_text_pairs", {**base, "max_similarity": SAME_TEXT_MAX_SIMILARITY, "limit": max_listed}, group
        )
    for p in same_text:
        mixed_rows.append(
            {
                "id": p["id_b"],
                "group": p["group_b"],
                "reason": "same_text_far_vector",
                "value": p["cosine_similarity"],
                "other_id": p["id_a"],
            }
        )

    findings += _duplicate_findings(name, dup_groups, dup_rows, near, probes_with_near, len(probe_ids), threshold, t, k)
    findings += _mixed_findings(name, mixed_rows, same_text, group)
    seen: set[tuple[str, str]] = set()
    unique_mixed = []
    for m in mixed_rows:
        key = (m["id"], m["reason"])
        if key not in seen:
            seen.add(key)
            unique_mixed.append(m)
    summary = {
        "table": t.qualified,
        "column": t.column,
        "by": group,
        "declared_dims": t.declared_dims,
        "estimated_rows": t.estimated_rows,
        "sampled": sampled,
        "sample_percent": percent,
        "index": t.index.name if t.index else None,
        "near_threshold": threshold,
        "probes": len(probe_ids),
        "probes_with_near_duplicate": probes_with_near,
        "near_duplicate_pairs": len(near),
        "exact_duplicate_groups": dup_groups,
        "exact_duplicate_rows": dup_rows,
        "suspect_rows": len({m["id"] for m in unique_mixed}),
    }
    return {
        "rows": rows,
        "findings": findings,
        "tables": {
            "exact_duplicates": dup,
            "near_duplicates": near,
            "mixed_rows": unique_mixed,
            "same_text_pairs": same_text,
            "norms": norms,
        },
        "summary": summary,
    }


def _main_dims(t: VectorTable, rows: list[dict[str, Any]]) -> int | None:
    if t.declared_dims is not None:
        return t.declared_dims
    total: dict[int, int] = defaultdict(int)
    for r in rows:
        for d, n in r["stored_dims"].items():
            total[d] += n
    return max(total, key=lambda d: total[d]) if total else None


def _vector_findings(
    t: VectorTable, rows: list[dict[str, Any]], name: str, zero_ids: list[str] | None = None
) -> list[Finding]:
    out: list[Finding] = []
    col = f'"{t.column}"'

    def total(key: str) -> int:
        return sum(int(r[key] or 0) for r in rows)

    n = total("sampled_rows")
    if total("nan_vectors"):
        out.append(
            Finding(
                "critical",
                f"{name}: {total('nan_vectors')} vectors hold NaN or infinite values; every "
                "distance to them is NaN, so they sort unpredictably. Re-embed them.",
                threshold="vector_norm = NaN or Infinity",
                source=SOURCE,
                subject=name,
            )
        )
    if total("null_vectors"):
        out.append(
            Finding(
                "warning",
                f"{name}: {total('null_vectors')} of {n} rows have a NULL embedding: no vector search ever returns them.",
                threshold="embedding IS NULL",
                source=f"{SOURCE} (NULL vectors are not indexed)",
                fix_sql=f"SELECT id FROM {t.qualified} WHERE {col} IS NULL;  -- re-embed these",
                subject=name,
            )
        )
    if total("zero_vectors") and zero_ids is not None:
        # ElizaOS 1.x turns a non-finite embedding into zeros and searches exactly: 1 - (zero <=> q) is NaN, which
        # passes every threshold and sorts first (PostgreSQL orders NaN above every number).
        out.append(
            Finding(
                "warning",
                f"{name}: {total('zero_vectors')} of {n} memories have a zero vector (a failed embedding, stored as "
                "zeros): ElizaOS 1.x returns them first in every search of their scope, with similarity NaN, and "
                f"counts them as near duplicates of every later memory. Memory ids: {', '.join(zero_ids)}.",
                threshold=f"vector_norm({t.column}) = 0",
                source="ElizaOS 1.x plugin-sql searchMemories (ORDER BY 1 - distance DESC, NaN first)",
                fix_sql=f"SELECT memory_id FROM {t.qualified} WHERE vector_norm({col}) = 0;  -- re-embed these",
                subject=name,
            )
        )
    elif total("zero_vectors"):
        out.append(
            Finding(
                "warning",
                f"{name}: {total('zero_vectors')} of {n} rows have a zero vector: cosine distance to it is undefined, "
                "so a cosine index never returns it (usually an embedding call that failed and stored zeros).",
                threshold="vector_norm(embedding) = 0",
                source=f"{SOURCE} (zero vectors are not indexed for cosine)",
                fix_sql=f"SELECT id FROM {t.qualified} WHERE vector_norm({col}) = 0;  -- re-embed these",
                subject=name,
            )
        )
    non_unit = total("non_unit_vectors")
    if non_unit:
        groups = [str(r["group"]) for r in rows if r["non_unit_vectors"]]
        unit_groups = [str(r["group"]) for r in rows if not r["non_unit_vectors"] and r["norm_median"]]
        sev: Severity = "warning" if unit_groups else "info"
        out.append(
            Finding(
                sev,
                f"{name}: {non_unit} of {n} vectors are not unit length (groups: {', '.join(groups[:5])}). Cosine "
                "similarity is unaffected, but ElizaOS's 1 - L2 distance and inner-product thresholds mean something "
                "else for them"
                + (
                    "; other groups are unit length, a sign of two embedding models."
                    if unit_groups
                    else "; normalise them, or convert thresholds (embeddings.conventions)."
                ),
                threshold="abs(vector_norm - 1) > unit_tolerance",
                subject=name,
            )
        )
    dims: dict[int, int] = defaultdict(int)
    for r in rows:
        for d, c in r["stored_dims"].items():
            dims[d] += c
    if len(dims) > 1 or (t.declared_dims is not None and dims and set(dims) != {t.declared_dims}):
        main = max(dims, key=lambda d: dims[d])
        others = ", ".join(f"{c} rows of {d}" for d, c in sorted(dims.items()) if d != main)
        out.append(
            Finding(
                "critical",
                f"{name} holds vectors of {len(dims)} dimensions ({dims[main]} rows of {main}; {others}): two embedding "
                "models wrote to it; distances between them are errors and searches skip or fail on them.",
                threshold="count(DISTINCT vector_dims) > 1",
                source=f"{SOURCE} (dimensions must match)",
                fix_sql=f"SELECT id FROM {t.qualified} WHERE vector_dims({col}) <> {main};  -- re-embed or delete",
                subject=name,
            )
        )
    return out


def _mixed_dimensions(t: VectorTable, norms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[int, int] = defaultdict(int)
    for r in norms:
        counts[int(r["dims"])] += 1
    if len(counts) < 2 and (t.declared_dims is None or set(counts) <= {t.declared_dims}):
        return []
    main = t.declared_dims if t.declared_dims in counts else max(counts, key=lambda d: counts[d])
    return [
        {"id": r["id"], "group": r["group"], "reason": "dimension", "value": float(r["dims"]), "other_id": None}
        for r in norms
        if int(r["dims"]) != main
    ]


def _by_group(items: list[Any], key: Any) -> dict[Any, list[int]]:
    out: dict[Any, list[int]] = defaultdict(list)
    for i, item in enumerate(items):
        out[key(item)].append(i)
    return out


def _is_minority(size: int, total: int) -> bool:
    return size >= MIN_MINORITY_ROWS and size >= MIN_MINORITY_SHARE * total


def _mixed_norms(norms: list[dict[str, Any]], *, whole_table: bool = False) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    key = (lambda r: ("*", r["dims"])) if whole_table else (lambda r: (r["group"], r["dims"]))
    for _grp_dims, idx in _by_group(norms, key).items():
        idx = [i for i in idx if norms[i]["norm"] and norms[i]["norm"] > 0]  # zero vectors are reported apart
        values = np.array([norms[i]["norm"] for i in idx], dtype=np.float64)
        split = two_populations(np.log(values))
        if split is None or not _is_minority(split.minority_size, len(idx)):
            continue
        if split.separation >= NORM_SEPARATION and split.high_mean - split.low_mean >= np.log(NORM_MIN_RATIO):
            out += [
                {
                    "id": norms[idx[j]]["id"],
                    "group": norms[idx[j]]["group"],
                    "reason": "norm",
                    "value": float(norms[idx[j]]["norm"]),
                    "other_id": None,
                }
                for j in split.minority
            ]
    return out


def _mixed_directions(frame: Any, X: np.ndarray, *, whole_table: bool = False) -> list[dict[str, Any]]:
    """Rows whose similarity to their group's (or the table's) mean direction forms a separate, lower population."""
    out: list[dict[str, Any]] = []
    if X.size == 0:
        return out
    unit = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    groups = frame["group"].tolist()
    for _grp, idx in _by_group(groups, lambda g: "*" if whole_table else g).items():
        if len(idx) < 2 * MIN_MINORITY_ROWS + 4:
            continue
        sub = unit[idx]
        # A robust mean direction: the mean of the rows, re-estimated on the rows most aligned with it.
        mean = sub.mean(axis=0)
        resultant = float(np.linalg.norm(mean))
        if resultant < DIRECTION_MIN_RESULTANT / np.sqrt(len(idx)):
            # No common direction beyond chance (unrelated random vectors average to length ~1/sqrt(n)): there is
            # nothing to be far from, and the re-estimated mean would only favour the rows it was built from.
            continue
        mean /= max(resultant, 1e-12)
        sims = sub @ mean
        core = sims >= np.median(sims)
        mean = sub[core].mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        sims = sub @ mean
        split = two_populations(sims)
        if split is None or not _is_minority(split.minority_size, len(idx)):
            continue
        low_is_minority = split.low_size <= split.high_size
        if (
            low_is_minority
            and split.separation >= DIRECTION_SEPARATION
            and split.high_mean - split.low_mean >= DIRECTION_MIN_GAP
        ):
            out += [
                {
                    "id": frame["id"].iat[idx[j]],
                    "group": groups[idx[j]],
                    "reason": "direction",
                    "value": float(sims[j]),
                    "other_id": None,
                }
                for j in split.minority
            ]
    return out


def _near_pairs(nn: list[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    pairs: dict[frozenset[str], dict[str, Any]] = {}
    for r in nn:
        if r["cosine_similarity"] is None or r["cosine_similarity"] < threshold:
            continue
        key = frozenset((r["probe_id"], r["neighbour_id"]))
        if key not in pairs:
            a, b = sorted(key) if len(key) == 2 else (r["probe_id"], r["neighbour_id"])
            ga = r["probe_group"] if a == r["probe_id"] else r["neighbour_group"]
            gb = r["neighbour_group"] if a == r["probe_id"] else r["probe_group"]
            pairs[key] = {
                "id_a": a,
                "id_b": b,
                "group_a": ga,
                "group_b": gb,
                "cosine_similarity": float(r["cosine_similarity"]),
                "exact": float(r["l2_distance"]) == 0.0,
            }
    return sorted(pairs.values(), key=lambda p: (-p["cosine_similarity"], p["id_a"], p["id_b"]))


def _duplicate_findings(
    name: str,
    groups: int,
    rows: int,
    near: list[dict[str, Any]],
    probes_with_near: int,
    probes: int,
    threshold: float,
    t: VectorTable,
    k: int,
) -> list[Finding]:
    out: list[Finding] = []
    col = f'"{t.column}"'
    if groups:
        out.append(
            Finding(
                "warning",
                f"{name}: {rows} rows share an identical vector with another row ({groups} groups): the same memory was "
                "stored more than once; searches return the copies side by side.",
                threshold="count(*) > 1 GROUP BY md5(embedding::text)",
                fix_sql=f"SELECT md5({col}::text), array_agg(id) FROM {t.qualified} GROUP BY 1 HAVING count(*) > 1;",
                subject=name,
            )
        )
    if near:
        share = probes_with_near / probes if probes else 0.0
        how = f"through index {t.index.name}" if t.index else "by exact scans (no vector index on the column)"
        if t.store is not None:
            how = f"by exact search (a {t.schema} store searches every vector)"
        out.append(
            Finding(
                "warning" if share >= 0.05 else "info",
                f"{name}: {probes_with_near} of {probes} probed rows ({share:.1%}) have a near duplicate "
                f"(cosine similarity >= {threshold:g} among their {k} nearest rows, found {how}); "
                f"{len(near)} pairs listed in tables['near_duplicates'].",
                threshold=f"cosine similarity >= {threshold:g}",
                source=ELIZA,
                subject=name,
            )
        )
    if t.index is None and t.store is None:  # a SQLite / in-memory store searches exactly by design
        out.append(
            Finding(
                "info",
                f"{name} has no cosine/L2/inner-product vector index: the near-duplicate probes were exact scans, so "
                "fewer rows were probed on a large table.",
                fix_sql=f"CREATE INDEX CONCURRENTLY ON {t.qualified} USING hnsw ({col} vector_cosine_ops);",
                subject=name,
            )
        )
    return out


def _mixed_findings(
    name: str, mixed: list[dict[str, Any]], same_text: list[dict[str, Any]], group: GroupBy
) -> list[Finding]:
    out: list[Finding] = []
    reasons = {
        "dimension": "another dimension than the column's main one",
        "norm": "a separate norm population",
        "direction": "a separate population far from their group's mean direction (an unrelated vector space)",
    }
    for reason, what in reasons.items():
        hits = [m for m in mixed if m["reason"] == reason]
        if not hits:
            continue
        groups = sorted({str(m["group"]) for m in hits})
        if reason == "dimension":
            continue  # the dimension finding above already names them (rows listed in tables['mixed_rows'])
        out.append(
            Finding(
                "warning",
                f"{name}: {len(hits)} sampled rows in {group or 'the table'} {', '.join(groups[:5])} form {what}: a sign "
                "of two embedding models in one group (rows listed in tables['mixed_rows']). Re-embed them with the "
                "group's model.",
                threshold=f"two populations >= {NORM_SEPARATION if reason == 'norm' else DIRECTION_SEPARATION:g} pooled "
                "sd apart, smaller one >= 1 % of the group",
                subject=name,
            )
        )
    if same_text:
        out.append(
            Finding(
                "warning",
                f"{name}: {len(same_text)} rows repeat an earlier row's exact text with a far-apart vector (cosine < "
                f"{SAME_TEXT_MAX_SIMILARITY:g} or another dimension): one model maps a text to one vector, so two models "
                "(or a changed model) wrote these (pairs in tables['same_text_pairs']).",
                threshold=f"same text, cosine similarity < {SAME_TEXT_MAX_SIMILARITY:g}",
                subject=name,
            )
        )
    return out
