"""Which ``match_threshold``? Score distributions, precision / recall / F1 against the threshold, and what a
threshold means in practice.

:func:`tune_threshold` scores pairs of memories in any similarity convention (``cosine``, ElizaOS's ``eliza``
= 1 - L2 distance, ``inner_product``, or the pgvector distances; see :mod:`okai_insight.embeddings.conventions`):

- labelled pairs the user gives (a DataFrame with columns ``query``, ``memory``, ``relevant``; ``query`` is a
  memory id or a vector, ``memory`` a memory id), or, without labels,
- pseudo-labelled pairs: for a keyed sample of ``probes`` rows (:data:`DEFAULT_PROBES`), their nearest rows
  through the vector index whose text is the same or overlaps strongly (token Jaccard >= ``paraphrase_jaccard``)
  are positives (duplicates and paraphrases); random pairs of rows (from different rooms where the table has
  rooms) are negatives, except pairs that are duplicates themselves (equal vectors, or the same or overlapping
  text): a copy of a memory is never evidence of what an irrelevant memory scores. Labels come from the texts,
  scores from the vectors.

The advice is stable: the labelled sample depends on ``probes``, ``random_pairs`` and ``seed`` only (keyed, so
the same on every run), never on ``queries``, which each front end sets for its own practice columns; and the
best threshold comes with a 95 % bootstrap interval over the pairs (``best_threshold_low`` / ``_high``). A
current threshold inside that interval is as good as the best: only one outside it, and clearly worse in F1, is
warned about.

It returns precision, recall and F1 at every threshold of a grid (``rows``), the best-F1 threshold (searched
over every distinct score, ties going to the strictest), and, for sampled query rows searched through the
index, how many of the top ``limit`` memories pass each threshold on average and how many queries get none.

Example:
    >>> t = tune_threshold(url, pairs=labelled, convention="eliza")                       # doctest: +SKIP
    >>> t.summary["best_threshold"], t.summary["best_f1"]  # doctest: +SKIP
    (0.42, 0.91)
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from okai_insight.diagnostics import diagnostic
from okai_insight.embeddings._elizaos1 import resolve
from okai_insight.embeddings._fetch import Filters, fetch, probe_neighbours, to_matrix
from okai_insight.embeddings._results import EmbeddingResult, new_axes
from okai_insight.embeddings._store import source_rows
from okai_insight.embeddings._table import VectorTable, row_security_note
from okai_insight.embeddings.conventions import CONVENTIONS, SIMILARITIES, from_cosine, scores
from okai_insight.errors import InvalidInput
from okai_insight.results import Finding
from okai_insight.runner import Runner

_WORD = re.compile(r"[a-z0-9]+")
#: Rows whose nearest neighbours are pseudo-labelled (the label sample; independent of ``queries``).
DEFAULT_PROBES = 500
#: Sampled searches for the practice columns: what the CLI, the report, the notebook and the widget pass.
DEFAULT_QUERIES = 200
#: Bootstrap resamples of the pairs behind the best threshold's interval.
BOOTSTRAP = 200
#: Cosine similarity at or above which two vectors are the same vector (float4 rounding).
SAME_VECTOR = 1 - 1e-6


@dataclass(frozen=True)
class BestThreshold:
    """The best-F1 threshold and the counts behind it."""

    threshold: float
    f1: float
    precision: float
    recall: float


@dataclass
class ThresholdResult(EmbeddingResult):
    """``rows``: threshold, precision, recall, f1, mean_results, queries_without_results (one row a grid point).
    ``tables['pairs']``: every scored pair (query, memory, relevant, score).

    Example:
        >>> ThresholdResult("embeddings", "tune_threshold", "T").summary
        {}
    """

    def plot(self, ax: Any = None) -> Any:
        """Precision, recall and F1 against the threshold, with the best-F1 threshold marked.

        Example:
            >>> tune_threshold(url).plot()                                       # doctest: +SKIP
        """
        ax = new_axes(ax)
        t = [r["threshold"] for r in self.rows]
        for key, colour in (("precision", "tab:blue"), ("recall", "tab:orange"), ("f1", "tab:green")):
            ax.plot(t, [r[key] for r in self.rows], label=key, color=colour)
        best = self.summary.get("best_threshold")
        if best is not None:
            ax.axvline(best, color="0.3", ls="--", lw=1, label=f"best F1 at {best:.3g}")
        ax.set_xlabel(f"threshold ({self.summary.get('convention', 'cosine')})")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(loc="best")
        ax.set_title("Threshold tuning")
        return ax

    def plot_scores(self, ax: Any = None, *, bins: int = 40) -> Any:
        """Histograms of the scores of relevant and irrelevant pairs.

        Example:
            >>> tune_threshold(url).plot_scores()                                # doctest: +SKIP
        """
        ax = new_axes(ax)
        pairs = self.tables.get("pairs") or []
        pos = [p["score"] for p in pairs if p["relevant"]]
        neg = [p["score"] for p in pairs if not p["relevant"]]
        ax.hist(neg, bins=bins, alpha=0.6, label=f"irrelevant ({len(neg)})", color="tab:red")
        ax.hist(pos, bins=bins, alpha=0.6, label=f"relevant ({len(pos)})", color="tab:green")
        ax.set_xlabel(f"score ({self.summary.get('convention', 'cosine')})")
        ax.set_ylabel("pairs")
        ax.legend(loc="best")
        return ax


def best_f1(score: np.ndarray, relevant: np.ndarray, *, higher_is_closer: bool = True) -> BestThreshold:
    """The threshold maximising F1 over every distinct score (a pair passes when ``score >= t``, or ``<= t`` for a
    distance); ties go to the strictest threshold.

    Example:
        >>> b = best_f1(np.array([0.9, 0.8, 0.3, 0.2]), np.array([True, True, False, True]))
        >>> b.threshold, round(b.f1, 3)
        (0.2, 0.857)
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(relevant, dtype=bool)
    if s.shape != y.shape or s.size == 0:
        raise InvalidInput("best_f1 needs as many labels as scores, and at least one pair")
    if not y.any():
        raise InvalidInput("no relevant pair among the labels: F1 is undefined")
    close = s if higher_is_closer else -s
    order = np.argsort(-close, kind="stable")
    c, yy = close[order], y[order]
    tp = np.cumsum(yy)
    fp = np.cumsum(~yy)
    last = np.r_[c[1:] != c[:-1], True]  # the last position of each distinct score: everything >= it passes
    tp, fp, c = tp[last], fp[last], c[last]
    positives = int(y.sum())
    f1 = 2 * tp / (2 * tp + fp + (positives - tp))
    k = int(np.argmax(f1))  # first maximum = highest closeness = strictest threshold
    t = float(c[k] if higher_is_closer else -c[k])
    return BestThreshold(t, float(f1[k]), float(tp[k] / (tp[k] + fp[k])), float(tp[k] / positives))


def curve(
    score: np.ndarray, relevant: np.ndarray, thresholds: np.ndarray, *, higher_is_closer: bool = True
) -> list[dict[str, float]]:
    """Precision, recall and F1 at each threshold (precision 1.0 when nothing passes).

    Example:
        >>> curve(np.array([0.9, 0.1]), np.array([True, False]), np.array([0.5]))[0]["f1"]
        1.0
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(relevant, dtype=bool)
    out = []
    positives = int(y.sum())
    for t in thresholds:
        passed = s >= t if higher_is_closer else s <= t
        tp = int((passed & y).sum())
        fp = int((passed & ~y).sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / positives if positives else 0.0
        f1 = 2 * tp / (2 * tp + fp + positives - tp) if positives else 0.0
        out.append(
            {"threshold": float(t), "precision": precision, "recall": recall, "f1": f1, "passing_pairs": tp + fp}
        )
    return out


@diagnostic("embeddings", "Threshold tuning", result=ThresholdResult, doctor=False, stores=True)
def tune_threshold(
    run: Runner,
    pairs: Any = None,
    *,
    table: str = "memories",
    column: str = "embedding",
    convention: str = "cosine",
    queries: int = DEFAULT_QUERIES,
    limit: int = 10,
    thresholds: Any = None,
    probes: int = DEFAULT_PROBES,
    random_pairs: int = 2_000,
    paraphrase_jaccard: float = 0.5,
    current: float | None = None,
    filters: Filters | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Tune a similarity threshold on labelled pairs (``pairs``) or pseudo-labelled ones (``pairs=None``).

    ``convention``: the scale of scores and thresholds (``cosine``, ``eliza``, ``inner_product``, or a distance:
    ``cosine_distance``, ``l2_distance``, ``negative_inner_product``). ``queries`` sampled rows are searched
    through the index (top ``limit``, ElizaOS's ``match_count``) for the practical columns. ``current``: the
    threshold in use, compared with the best. ``thresholds``: the grid (default: 101 points over the scores).
    ``probes``: rows whose neighbours are pseudo-labelled (the labels do not depend on ``queries``).
    Works on SQLite and in-memory stores too (exact neighbours there).


    ElizaOS 1.x: reads one ``embeddings.dim_N`` column joined to ``memories`` (memory ids, agent, room, entity,
    world, type, text); with several active dimensions, the column of ``column=`` or ``filters.agent_id``, else
    the fullest, and an info finding naming the others (docs/elizaos1.md).

    Example:
        >>> import pandas as pd
        >>> labelled = pd.DataFrame({"query": [id1, id1], "memory": [id2, id3], "relevant": [True, False]})  # doctest: +SKIP
        >>> tune_threshold(url, labelled).summary["best_threshold"]              # doctest: +SKIP
        0.93
    """
    if convention not in CONVENTIONS:
        raise InvalidInput(f"unknown similarity convention {convention!r}; use one of {', '.join(CONVENTIONS)}")
    for name, value in (("queries", queries), ("limit", limit), ("probes", probes), ("random_pairs", random_pairs)):
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInput(f"{name} must be a positive integer, got {value!r}")
    labelled = _labelled_frame(pairs) if pairs is not None else None
    tables, notes = resolve(run, table, column, agent_id=filters.agent_id if filters else None)
    t = tables[0]
    if labelled is not None:
        q, m, y, qid, mid = _score_labelled(run, t, labelled)
        source = "labelled"
    else:
        q, m, y, qid, mid = _pseudo_labelled(run, t, filters, probes, random_pairs, paraphrase_jaccard, seed)
        source = "pseudo-labelled (same / overlapping text vs random pairs)"
    s = scores(q, m, convention)
    higher = convention in SIMILARITIES
    best = best_f1(s, y, higher_is_closer=higher)
    low, high = bootstrap_interval(s, y, higher_is_closer=higher, seed=seed)
    grid = np.asarray(thresholds, dtype=np.float64) if thresholds is not None else _grid(s)
    rows = curve(s, y, grid, higher_is_closer=higher)
    practice = _practice(run, t, filters, convention, queries, limit, seed)
    for r in rows:
        r.update(_practice_at(practice, r["threshold"], higher))
    at_best = _practice_at(practice, best.threshold, higher)
    summary: dict[str, Any] = {
        "convention": convention,
        "labels": source,
        "pairs": int(y.size),
        "relevant_pairs": int(y.sum()),
        "best_threshold": best.threshold,
        "best_threshold_low": low,
        "best_threshold_high": high,
        "best_f1": best.f1,
        "best_precision": best.precision,
        "best_recall": best.recall,
        "queries": int(practice.shape[0]),
        "limit": limit,
        "mean_results_at_best": at_best["mean_results"],
        "queries_without_results_at_best": at_best["queries_without_results"],
    }
    findings = [
        *notes,
        Finding(
            "info",
            f"Best-F1 threshold on {y.size} {source} pairs: {convention} {'>=' if higher else '<='} "
            f"{best.threshold:.4g} (95 % interval {low:.4g}-{high:.4g} over {BOOTSTRAP} resamples of the pairs; "
            f"F1 {best.f1:.3f}, precision {best.precision:.3f}, recall {best.recall:.3f}). "
            f"At it, {practice.shape[0]} sampled queries get {at_best['mean_results']:.2f} of their top {limit} "
            f"memories on average, and {at_best['queries_without_results']} get none.",
            threshold="max F1 over every distinct score; interval: bootstrap percentiles 2.5-97.5",
            subject=f"{t.qualified}.{t.column}",
        ),
    ]
    if current is not None:
        cur = curve(s, y, np.array([current]), higher_is_closer=higher)[0]
        cur_practice = _practice_at(practice, current, higher)
        summary["current_f1"] = cur["f1"]
        inside = low <= current <= high
        worse = best.f1 - cur["f1"] > 0.05 and not inside
        findings.append(
            Finding(
                "warning" if worse else "info",
                f"The current threshold {current:g} gives F1 {cur['f1']:.3f} (precision {cur['precision']:.3f}, "
                f"recall {cur['recall']:.3f}); {cur_practice['queries_without_results']} of {practice.shape[0]} "
                f"sampled queries get no memory at it"
                + (
                    f"; {best.threshold:.4g} does better."
                    if worse
                    else "; it lies inside the best threshold's interval: nothing to change."
                    if inside
                    else "."
                ),
                threshold="best F1 - current F1 > 0.05 and current outside the best threshold's 95 % interval",
                subject=f"{t.qualified}.{t.column}",
            )
        )
    pair_rows = [
        {"query": a, "memory": b, "relevant": bool(r), "score": float(x)}
        for a, b, r, x in zip(qid, mid, y, s, strict=True)
    ]
    return {"rows": rows, "findings": findings, "summary": summary, "tables": {"pairs": pair_rows}}


def bootstrap_interval(
    score: np.ndarray,
    relevant: np.ndarray,
    *,
    higher_is_closer: bool = True,
    resamples: int = BOOTSTRAP,
    seed: int = 0,
) -> tuple[float, float]:
    """The 95 % percentile bootstrap interval of the best-F1 threshold: the pairs resampled with replacement
    ``resamples`` times (a fixed ``seed``, so the same pairs give the same interval), the best threshold of each.

    Example:
        >>> s = np.r_[np.linspace(0.8, 1.0, 50), np.linspace(0.0, 0.5, 50)]
        >>> y = np.r_[np.ones(50, bool), np.zeros(50, bool)]
        >>> lo, hi = bootstrap_interval(s, y)
        >>> 0.8 <= lo <= hi <= 0.9
        True
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(relevant, dtype=bool)
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(resamples):
        pick = rng.integers(0, s.size, size=s.size)
        if y[pick].any():
            found.append(best_f1(s[pick], y[pick], higher_is_closer=higher_is_closer).threshold)
    if not found:
        t = best_f1(s, y, higher_is_closer=higher_is_closer).threshold
        return t, t
    return float(np.percentile(found, 2.5)), float(np.percentile(found, 97.5))


def _grid(s: np.ndarray) -> np.ndarray:
    lo, hi = float(np.min(s)), float(np.max(s))
    if hi - lo < 1e-9:
        return np.array([lo])
    return np.linspace(lo, hi, 101)


def _labelled_frame(pairs: Any) -> Any:
    import pandas as pd

    frame = pairs if isinstance(pairs, pd.DataFrame) else pd.DataFrame(pairs)
    missing = {"query", "memory", "relevant"} - set(frame.columns)
    if missing:
        raise InvalidInput(f"labelled pairs need columns query, memory and relevant; missing {sorted(missing)}")
    if frame.empty:
        raise InvalidInput("no labelled pairs given")
    return frame


def _as_id(value: Any, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise InvalidInput(f"{what} must be a memory id (UUID) or a vector, got {value!r}") from exc


def _vectors_by_id(run: Runner, t: VectorTable, ids: set[str]) -> dict[str, Any]:
    if not ids:
        return {}
    if t.store is not None:
        return {r["id"]: r for r in source_rows(run, t, "fetch_by_ids", {"ids": sorted(ids)})}
    with run.transaction(vectors=True) as tx:
        got = tx.query("embeddings", "fetch_by_ids", {"ids": sorted(ids)}, identifiers=t.identifiers()).rows
    return {r["id"]: r for r in got}


def _score_labelled(run: Runner, t: VectorTable, frame: Any) -> tuple[np.ndarray, ...]:
    queries = list(frame["query"])
    is_vector = [not isinstance(x, str | uuid.UUID) for x in queries]
    need = {_as_id(m, "memory") for m in frame["memory"]}
    need |= {_as_id(x, "query") for x, vec in zip(queries, is_vector, strict=True) if not vec}
    found = _vectors_by_id(run, t, need)
    missing = need - set(found)
    if missing:
        raise InvalidInput(f"{len(missing)} labelled ids are not in {t.qualified} (e.g. {sorted(missing)[0]})")
    qv, mv, qid = [], [], []
    for x, vec, m in zip(queries, is_vector, frame["memory"], strict=True):
        if vec:
            qv.append(np.asarray(x, dtype=np.float32))
            qid.append("<vector>")
        else:
            row = found[_as_id(x, "query")]
            qv.append(row["embedding"])
            qid.append(row["id"])
        mv.append(found[_as_id(m, "memory")]["embedding"])
    Q, M = to_matrix(qv), to_matrix(mv)
    if Q.shape != M.shape:
        raise InvalidInput(f"query vectors have {Q.shape[1]} dimensions, memories {M.shape[1]}")
    y = np.asarray([bool(v) for v in frame["relevant"]])
    return Q, M, y, np.array(qid), np.array([found[_as_id(m, "memory")]["id"] for m in frame["memory"]])


def _tokens(text: str | None) -> frozenset[str]:
    return frozenset(_WORD.findall((text or "").lower()))


def _pseudo_labelled(
    run: Runner, t: VectorTable, filters: Filters | None, probes: int, random_pairs: int, jaccard: float, seed: int
) -> tuple[np.ndarray, ...]:
    frame, X, _ = fetch(
        run, t, filters, limit=max(probes, 2 * int(np.sqrt(random_pairs)) + 2), seed=seed, preview_chars=10_000
    )
    if len(frame) < 4:
        raise InvalidInput(
            f"{t.qualified} has too few embedded rows ({len(frame)}) to pseudo-label pairs{row_security_note(t)}"
        )
    probe_ids = frame["id"].tolist()[:probes]
    nn = probe_neighbours(run, t, probe_ids, 10)
    texts = dict(zip(frame["id"], frame["text_preview"], strict=True))
    vectors = {i: X[j] for j, i in enumerate(frame["id"])}
    extra = _vectors_by_id(run, t, {r["neighbour_id"] for r in nn} - set(vectors))
    for i, r in extra.items():
        texts[i] = r["text"]
        vectors[i] = np.asarray(r["embedding"].to_numpy() if hasattr(r["embedding"], "to_numpy") else r["embedding"])
    pos: list[tuple[str, str]] = []
    seen: set[frozenset[str]] = set()
    for r in nn:
        a, b = r["probe_id"], r["neighbour_id"]
        key = frozenset((a, b))
        if key in seen:
            continue
        ta, tb = _tokens(texts.get(a)), _tokens(texts.get(b))
        if ta and tb and len(ta & tb) / len(ta | tb) >= jaccard:
            seen.add(key)
            pos.append((a, b))
    if not pos:
        raise InvalidInput(
            f"no duplicate or paraphrase pairs found among the nearest neighbours of {len(probe_ids)} sampled rows: "
            "pass labelled pairs (a DataFrame of query / memory / relevant)"
        )
    rng = np.random.default_rng(seed)
    rooms = frame["room_id"].tolist()
    ids = frame["id"].tolist()
    units = X.astype(np.float64) / np.linalg.norm(X.astype(np.float64), axis=1, keepdims=True)
    tokens = [_tokens(texts.get(i)) for i in ids]
    neg: list[tuple[str, str]] = []
    for _ in range(random_pairs * 3):
        if len(neg) >= random_pairs:
            break
        i, j = rng.integers(0, len(ids), size=2)
        if i == j or (rooms[i] is not None and rooms[i] == rooms[j]) or frozenset((ids[i], ids[j])) in seen:
            continue
        if _duplicates(units[i], units[j], tokens[i], tokens[j], jaccard):
            continue  # a copy is no irrelevant pair: counting it as one would push the threshold above 1.0's ties
        neg.append((ids[i], ids[j]))
    all_pairs = pos + neg
    Q = np.vstack([vectors[a] for a, _ in all_pairs]).astype(np.float32)
    M = np.vstack([vectors[b] for _, b in all_pairs]).astype(np.float32)
    y = np.r_[np.ones(len(pos), dtype=bool), np.zeros(len(neg), dtype=bool)]
    return Q, M, y, np.array([a for a, _ in all_pairs]), np.array([b for _, b in all_pairs])


def _duplicates(a: np.ndarray, b: np.ndarray, ta: frozenset[str], tb: frozenset[str], jaccard: float) -> bool:
    """Whether two rows are the same memory twice: equal vectors (unit vectors' cosine within float4 rounding of
    1), or the same or strongly overlapping text (what makes a positive pair).

    Example:
        >>> v = np.array([0.6, 0.8])
        >>> _duplicates(v, v, frozenset({"a"}), frozenset({"b"}), 0.5)
        True
        >>> _duplicates(v, np.array([0.8, 0.6]), frozenset({"rain", "today"}), frozenset({"rain", "today"}), 0.5)
        True
        >>> _duplicates(v, np.array([0.8, 0.6]), frozenset({"rain"}), frozenset({"goal"}), 0.5)
        False
    """
    if float(a @ b) >= SAME_VECTOR:
        return True
    return bool(ta and tb and len(ta & tb) / len(ta | tb) >= jaccard)


def _practice(
    run: Runner, t: VectorTable, filters: Filters | None, convention: str, queries: int, limit: int, seed: int
) -> np.ndarray:
    """Scores (queries x limit, NaN-padded) of each sampled query's top ``limit`` memories through the index."""
    frame, _, _ = fetch(run, t, filters, limit=queries, seed=seed + 1)
    ids = frame["id"].tolist()
    nn = probe_neighbours(run, t, ids, limit)
    out = np.full((len(ids), limit), np.nan)
    fill = {i: 0 for i in ids}
    pos = {i: n for n, i in enumerate(ids)}
    for r in nn:
        p = r["probe_id"]
        if convention in ("cosine", "cosine_distance"):
            v = (
                from_cosine(r["cosine_similarity"], convention)
                if convention == "cosine_distance"
                else r["cosine_similarity"]
            )
        elif convention in ("l2_distance", "eliza"):
            v = r["l2_distance"] if convention == "l2_distance" else 1.0 - r["l2_distance"]
        else:
            v = r["inner_product"] if convention == "inner_product" else -r["inner_product"]
        if fill[p] < limit:
            out[pos[p], fill[p]] = float(v)
            fill[p] += 1
    return out


def _practice_at(practice: np.ndarray, threshold: float, higher: bool) -> dict[str, Any]:
    if practice.size == 0:
        return {"mean_results": 0.0, "queries_without_results": 0}
    with np.errstate(invalid="ignore"):
        passed = practice >= threshold if higher else practice <= threshold
    counts = np.nansum(np.where(np.isnan(practice), False, passed), axis=1)
    return {"mean_results": float(counts.mean()), "queries_without_results": int((counts == 0).sum())}
