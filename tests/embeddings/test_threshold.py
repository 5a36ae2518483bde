"""tune_threshold: labelled pairs against a brute-force best F1, conventions, pseudo-labels, practice numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from okai_insight.embeddings import best_f1, convert_threshold, tune_threshold
from okai_insight.errors import InvalidInput
from tests.embeddings._world import World


def _labelled(world: World, seed: int = 3) -> pd.DataFrame:
    """Planted near duplicates (relevant), same-room pairs (relevant with probability 0.5), random pairs."""
    rng = np.random.default_rng(seed)
    ids, _ = world.matrix()
    room = {m: world.room_of[world.ids.index(m)] for m in ids}
    rows = [(a, b, True) for a, b in (sorted(p) for p in world.near_dup_pairs)]
    for _ in range(150):
        a, b = rng.choice(ids, size=2, replace=False)
        relevant = bool(room[a] == room[b] and rng.random() < 0.5)
        rows.append((str(a), str(b), relevant))
    return pd.DataFrame(rows, columns=["query", "memory", "relevant"])


def _brute_force(s: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    best_t, best = None, -1.0
    for t in sorted(set(s.tolist()), reverse=True):  # strictest first: ties keep the highest threshold
        p = s >= t
        tp, fp, fn = (p & y).sum(), (p & ~y).sum(), (~p & y).sum()
        f1 = 2 * tp / (2 * tp + fp + fn)
        if f1 > best + 1e-15:
            best_t, best = t, f1
    return float(best_t), float(best)


def test_best_f1_on_labelled_pairs_equals_brute_force(world, pg_url):
    pairs = _labelled(world)
    res = tune_threshold(pg_url, pairs, convention="cosine", queries=50)
    assert res.status == "ok"
    vec = {m: v for m, v in zip(world.ids, world.vectors, strict=True)}
    s = np.array(
        [
            float(vec[q] @ vec[m] / (np.linalg.norm(vec[q]) * np.linalg.norm(vec[m])))
            for q, m in zip(pairs["query"], pairs["memory"], strict=True)
        ]
    )
    y = pairs["relevant"].to_numpy(bool)
    got = {(p["query"], p["memory"]): p["score"] for p in res.table("pairs")}
    assert np.allclose([got[(q, m)] for q, m in zip(pairs["query"], pairs["memory"], strict=True)], s, atol=1e-6)
    t, f1 = _brute_force(np.array([got[(q, m)] for q, m in zip(pairs["query"], pairs["memory"], strict=True)]), y)
    assert res.summary["best_threshold"] == pytest.approx(t, abs=1e-12)
    assert res.summary["best_f1"] == pytest.approx(f1)
    assert 0 < f1 < 1  # the labels are noisy on purpose: a real trade-off
    assert res.summary["relevant_pairs"] == int(y.sum())
    f1s = [r["f1"] for r in res.rows]
    assert max(f1s) <= f1 + 1e-12  # no grid point beats the exact search


def test_eliza_convention_gives_the_same_partition(world, pg_url):
    pairs = _labelled(world)
    cos = tune_threshold(pg_url, pairs, convention="cosine", queries=20)
    eliza = tune_threshold(pg_url, pairs, convention="eliza", queries=20)
    assert eliza.summary["best_f1"] == pytest.approx(cos.summary["best_f1"])
    expected = convert_threshold(cos.summary["best_threshold"], "cosine", "eliza")
    assert eliza.summary["best_threshold"] == pytest.approx(expected, abs=1e-5)
    dist = tune_threshold(pg_url, pairs, convention="l2_distance", queries=20)
    assert dist.summary["best_f1"] == pytest.approx(cos.summary["best_f1"])
    assert dist.summary["best_threshold"] == pytest.approx(np.sqrt(2 - 2 * cos.summary["best_threshold"]), abs=1e-5)


def test_practice_columns(world, pg_url):
    res = tune_threshold(pg_url, _labelled(world), queries=40, limit=10, thresholds=[-1.0, 0.5, 1.01])
    by_t = {r["threshold"]: r for r in res.rows}
    assert by_t[-1.0]["mean_results"] == pytest.approx(10.0)  # every top-10 memory passes the lowest threshold
    assert by_t[-1.0]["queries_without_results"] == 0
    assert by_t[1.01]["mean_results"] == 0.0 and by_t[1.01]["queries_without_results"] == 40
    assert 0 <= by_t[0.5]["mean_results"] <= 10
    assert res.summary["queries"] == 40


def test_current_threshold_is_compared(world, pg_url):
    res = tune_threshold(pg_url, _labelled(world), queries=20, current=0.999)
    assert res.summary["current_f1"] < res.summary["best_f1"]
    assert any(f.severity == "warning" and "current threshold 0.999" in f.message for f in res.findings)


def test_pseudo_labelled_pairs_find_the_planted_duplicates(world, pg_url):
    res = tune_threshold(pg_url, queries=400, random_pairs=500)
    assert res.status == "ok" and res.summary["labels"].startswith("pseudo")
    positives = {frozenset((p["query"], p["memory"])) for p in res.table("pairs") if p["relevant"]}
    assert positives & (world.near_dup_pairs | world.exact_dup_pairs)
    assert res.summary["best_f1"] > 0.8


def test_best_f1_helper_and_refusals(pg_url, world):
    b = best_f1(np.array([0.2, 0.4, 0.4, 0.9]), np.array([False, True, False, True]))
    assert (b.threshold, round(b.f1, 4)) == (0.4, 0.8)
    tie = best_f1(np.array([0.9, 0.6, 0.5]), np.array([True, False, True]))  # F1 0.8 at 0.5 only
    assert tie.threshold == 0.5
    even = best_f1(np.array([0.9, 0.8, 0.7]), np.array([True, False, False]))  # 1.0 at 0.9: strictest wins
    assert even.threshold == 0.9 and even.f1 == 1.0
    d = best_f1(np.array([0.1, 0.5]), np.array([True, False]), higher_is_closer=False)
    assert d.threshold == 0.1 and d.f1 == 1.0
    with pytest.raises(InvalidInput):
        best_f1(np.array([0.1]), np.array([False]))
    with pytest.raises(InvalidInput, match="missing"):
        tune_threshold(pg_url, pd.DataFrame({"query": ["x"]}))
    with pytest.raises(InvalidInput, match="UUID"):
        tune_threshold(pg_url, pd.DataFrame({"query": ["x"], "memory": ["y"], "relevant": [True]}))
    with pytest.raises(InvalidInput, match="convention"):
        tune_threshold(pg_url, convention="dot")


def test_plots(world, pg_url):
    import matplotlib

    matplotlib.use("Agg")
    res = tune_threshold(pg_url, _labelled(world), queries=10)
    ax = res.plot()
    assert [t.get_text() for t in ax.get_legend().get_texts()][:3] == ["precision", "recall", "f1"]
    ax2 = res.plot_scores()
    assert ax2.get_ylabel() == "pairs"
