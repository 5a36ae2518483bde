"""The embedding checks on the real demo dataset (all-MiniLM-L6-v2), against its labels."""

from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

import okai_insight
from okai_insight.data import demo_dataset
from okai_insight.demo import load
from okai_insight.embeddings import embedding_quality, tune_recall, tune_threshold


@pytest.fixture(scope="module")
def demo(pg_url):
    with okai_insight.connect(pg_url, dimension=384) as db:
        load(db, progress=False)
    return demo_dataset()


@pytest.fixture(scope="module")
def quality(demo, pg_url):
    return embedding_quality(pg_url, by="agent", probes=2000, max_listed=1000)


def test_defect_counts(quality, demo):
    rows = quality.rows
    assert sum(r["zero_vectors"] for r in rows) == len(demo.defects.zero_vector_ids)
    assert sum(r["null_vectors"] for r in rows) == len(demo.defects.null_embedding_ids)
    assert quality.summary["sampled"] is False


def test_second_model_found_with_its_rows(quality, demo):
    norm_rows = {r["id"] for r in quality.table("mixed_rows") if r["reason"] == "norm"}
    assert norm_rows == {str(i) for i in demo.defects.second_model_ids}
    assert any("two embedding models" in f.message for f in quality.findings)


def test_planted_duplicates_found(quality, demo):
    exact_labels = {frozenset((str(p.a), str(p.b))) for p in demo.pairs if p.kind == "exact"}
    exact_found = set()
    for g in quality.table("exact_duplicates"):
        ids = g["ids"]
        exact_found |= {frozenset((a, b)) for a in ids for b in ids if a < b}
    assert exact_labels <= exact_found
    near_labels = {frozenset((str(p.a), str(p.b))) for p in demo.pairs if p.kind == "near"}
    found = quality.near_duplicate_pairs()
    # Every probed row of a planted near pair finds its partner through the index.
    probed_pairs = {p for p in near_labels if p & {r["id"] for r in quality.table("norms")}}
    assert probed_pairs and len(found & near_labels) >= 0.9 * len(near_labels)


def test_best_f1_on_the_labelled_paraphrases(demo, pg_url):
    rng = np.random.default_rng(0)
    model = [i for i, m in enumerate(demo.embedding_models) if m == "model"]
    rows = [(str(p.a), str(p.b), True) for p in demo.pairs if p.kind == "paraphrase"]
    rows += [(str(demo.ids[a]), str(demo.ids[b]), False) for a, b in rng.choice(model, size=(200, 2)) if a != b]
    pairs = pd.DataFrame(rows, columns=["query", "memory", "relevant"])
    res = tune_threshold(pg_url, pairs, queries=30)
    E = demo.embeddings.astype(np.float64)

    def cos(a: str, b: str) -> float:
        va, vb = E[demo.index(uuid.UUID(a))], E[demo.index(uuid.UUID(b))]
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))

    s = np.array([cos(q, m) for q, m in zip(pairs["query"], pairs["memory"], strict=True)])
    y = pairs["relevant"].to_numpy(bool)
    f1 = {float(t): 2 * ((s >= t) & y).sum() / (((s >= t) | y).sum() + ((s >= t) & y).sum()) for t in np.unique(s)}
    best = max(f1.values())
    assert res.summary["best_f1"] == pytest.approx(best, abs=1e-6)
    assert f1[min(f1, key=lambda t: abs(t - res.summary["best_threshold"]))] == pytest.approx(best, abs=1e-6)


def test_recall_matches_numpy_on_the_demo(demo, pg_url):
    res = tune_recall(pg_url, ef_search=(10, 40), queries=30, scopes=("all",))
    keep = [i for i in range(len(demo)) if demo.has_embedding[i] and np.linalg.norm(demo.embeddings[i]) > 0]
    E = demo.embeddings[keep].astype(np.float64)
    ids = [str(demo.ids[i]) for i in keep]
    pos = {m: j for j, m in enumerate(ids)}
    for row in res.table("exact"):
        q = E[pos[row["query_id"]]]
        sims = E @ q / (np.linalg.norm(E, axis=1) * np.linalg.norm(q))
        # The query row is its own nearest neighbour: an agent searching with a stored embedding gets it back.
        order = [ids[j] for j in np.argsort(-sims, kind="stable")]
        # Exact ties (planted duplicates) may come in either order: compare the similarity profile.
        assert row["ids"][:10] == order[:10] or np.allclose(
            sorted(sims[[pos[i] for i in row["ids"]]], reverse=True),
            sorted(sims[[pos[i] for i in order[:10]]], reverse=True),
            atol=1e-6,
        )
    # More of the graph is read at 40, so recall does not fall, give or take ties: of two planted exact
    # duplicates either may fill the last place, which moves one query's recall by 1/k (0.1 / 30 queries).
    assert 0 < res.recall("all", 10) <= res.recall("all", 40) + 0.1 / 30 * 2 + 1e-9
    assert res.recall("all", 40) <= 1
