"""Placing the rows UMAP did not fit: the cell search finds the same neighbours as an exhaustive one, and a placed
row lands among its fitted neighbours on the map."""

from __future__ import annotations

import numpy as np

from okai_insight.embeddings._project import _nearest, place, project


def _exhaustive(Z: np.ndarray, rest: np.ndarray, Zfit: np.ndarray, Yfit: np.ndarray, k: int) -> np.ndarray:
    """Brute force, in float64: every placed row against every fitted row."""
    D = np.sqrt(((Z[rest][:, None, :].astype(np.float64) - Zfit[None, :, :]) ** 2).sum(axis=2))
    idx = np.argsort(D, axis=1)[:, :k]
    w = 1.0 / np.maximum(np.take_along_axis(D, idx, axis=1), 1e-6)
    w /= w.sum(axis=1, keepdims=True)
    return np.einsum("ij,ijk->ik", w, Yfit[idx])


def _clustered(n: int, dim: int = 12, centres: int = 10, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    C = rng.normal(size=(centres, dim)) * 4
    return (C[rng.integers(0, centres, n)] + rng.normal(size=(n, dim))).astype(np.float32)


def test_nearest_equals_brute_force():
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=(300, 7)).astype(np.float32), rng.normal(size=(90, 7)).astype(np.float32)
    dist, idx = _nearest(A, B, 4)
    D = np.sqrt(((A[:, None, :].astype(np.float64) - B[None]) ** 2).sum(axis=2))
    expected = np.argsort(D, axis=1)[:, :4]
    got = np.take_along_axis(idx, np.argsort(dist, axis=1), axis=1)
    assert (got == expected).mean() > 0.999  # float32 ranking may swap near-equal rows
    assert np.allclose(np.sort(dist, axis=1), np.take_along_axis(D, expected, axis=1), atol=1e-4)
    assert (_nearest(A, B, 1)[1][:, 0] == expected[:, 0]).mean() > 0.999


def test_cell_search_places_rows_where_the_exhaustive_search_does():
    Z = _clustered(12_000)
    rng = np.random.default_rng(1)
    fit = np.sort(rng.choice(len(Z), 3_000, replace=False))  # above PLACE_EXHAUSTIVE: the cells are used
    rest = np.setdiff1d(np.arange(len(Z)), fit)
    Yfit = rng.normal(size=(len(fit), 2)).astype(np.float32)
    Y = np.full((len(Z), 2), np.nan, dtype=np.float32)
    place(Z, rest, Z[fit], Yfit, Y, k=5)
    expected = _exhaustive(Z, rest, Z[fit], Yfit, 5)
    assert np.isfinite(Y[rest]).all() and np.isnan(Y[fit]).all()  # only the rest is written
    same = np.linalg.norm(Y[rest] - expected, axis=1) < 1e-3
    assert same.mean() > 0.97, same.mean()


def test_a_placed_row_lands_near_its_fitted_neighbours():
    X = _clustered(6_000, dim=24)
    Y = project(X, fit_rows=2_500, n_epochs=50, progress=False, cache=False)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    rng = np.random.default_rng(2)
    for i in rng.choice(len(X), 40, replace=False):
        sims = Xn @ Xn[i]
        sims[i] = -2
        near = np.argsort(-sims)[:10]  # its nearest rows in the original space, fitted or placed
        far = rng.choice(len(X), 200, replace=False)
        d_near = np.median(np.linalg.norm(Y[near] - Y[i], axis=1))
        d_far = np.median(np.linalg.norm(Y[far] - Y[i], axis=1))
        assert d_near < 0.5 * d_far


def test_clusters_of_a_big_map_fit_a_sample_and_label_every_point(monkeypatch):
    import pandas as pd

    from okai_insight.embeddings import explorer
    from okai_insight.embeddings.explorer import Projection

    rng = np.random.default_rng(4)
    centres = np.array([[0.0, 0.0], [30.0, 0.0], [0.0, 30.0]])
    blob = rng.integers(0, 3, 6_000)
    xy = centres[blob] + rng.normal(size=(6_000, 2))
    frame = pd.DataFrame(
        {
            "x": xy[:, 0],
            "y": xy[:, 1],
            "room_id": [f"room{b}" for b in blob],
            "agent_id": "a",
            "type": "messages",
            "text_preview": [f"{('alpha', 'bravo', 'charlie')[b]} words" for b in blob],
        }
    )
    monkeypatch.setattr(explorer, "CLUSTER_FIT_ROWS", 1_500)
    monkeypatch.setattr(explorer, "CLUSTER_WORD_TEXTS", 300)
    p = Projection("embeddings", "explore", "map", frame=frame)
    result = p.clusters()
    assert result.summary["fitted_points"] == 1_500 and result.summary["clusters"] == 3
    labels = p.frame["cluster"].to_numpy()
    for b in range(3):  # each blob one cluster, every point labelled (the sample's labels propagated)
        assert len(set(labels[blob == b].tolist()) - {-1}) == 1
        assert (labels[blob == b] != -1).mean() > 0.95
    assert sum(r["size"] for r in result.rows) == 6_000
    assert {r["top_words"].split()[0] for r in result.rows if r["cluster"] != -1} == {"alpha", "bravo", "charlie"}


def test_nearest_first_for_any_k():
    """Small k by repeated argmin, larger k by argpartition: both exact and nearest first."""
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(200, 9)).astype(np.float32), rng.normal(size=(60, 9)).astype(np.float32)
    D = np.sqrt(((A[:, None, :].astype(np.float64) - B[None]) ** 2).sum(axis=2))
    for k in (1, 3, 8, 12, 60, 80):
        dist, idx = _nearest(A, B, k)
        kk = min(k, len(B))
        assert dist.shape == idx.shape == (len(A), kk)
        assert np.all(np.diff(dist, axis=1) >= -1e-5)  # nearest first
        assert np.allclose(dist, np.sort(D, axis=1)[:, :kk], atol=1e-4)
        assert np.allclose(np.take_along_axis(D, idx, axis=1), dist, atol=1e-4)


def test_placement_does_not_depend_on_the_threads(monkeypatch):
    from okai_insight.embeddings import _project

    Z = _clustered(9_000, dim=16)
    rng = np.random.default_rng(6)
    fit = np.sort(rng.choice(len(Z), 2_500, replace=False))
    rest = np.setdiff1d(np.arange(len(Z)), fit)
    Yfit = rng.normal(size=(len(fit), 2)).astype(np.float32)
    out = []
    for workers in (1, 3):
        monkeypatch.setattr(_project, "_workers", lambda w=workers: w)
        Y = np.zeros((len(Z), 2), dtype=np.float32)
        place(Z, rest, Z[fit], Yfit, Y, k=5)
        out.append(Y)
    assert np.array_equal(out[0], out[1])
