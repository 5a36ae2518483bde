"""Threshold conventions: exact round trips, agreement with scores computed from real vectors, refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from okai_insight.embeddings import CONVENTIONS, convert_threshold, from_cosine, scores, to_cosine
from okai_insight.errors import InvalidInput


def _pairs_with_cosines(cos: np.ndarray, na: float, nb: float, dim: int = 16, seed: int = 0):
    """Vector pairs with exactly the given cosines and norms."""
    rng = np.random.default_rng(seed)
    a, b = [], []
    for c in cos:
        u = rng.normal(size=dim)
        u /= np.linalg.norm(u)
        w = rng.normal(size=dim)
        w -= (w @ u) * u
        w /= np.linalg.norm(w)
        a.append(na * u)
        b.append(nb * (c * u + np.sqrt(max(0.0, 1 - c * c)) * w))
    return np.array(a), np.array(b)


@pytest.mark.parametrize(("na", "nb"), [(1.0, 1.0), (2.0, 0.5), (7.0, 7.0)])
def test_conversions_match_scores_of_real_vectors(na, nb):
    cos = np.linspace(-0.99, 0.99, 23)
    a, b = _pairs_with_cosines(cos, na, nb)
    for conv in CONVENTIONS:
        measured = scores(a, b, conv)
        assert np.allclose(from_cosine(cos, conv, norm_a=na, norm_b=nb), measured, atol=1e-9), conv
        assert np.allclose(to_cosine(measured, conv, norm_a=na, norm_b=nb), cos, atol=1e-9), conv


@pytest.mark.parametrize(("na", "nb"), [(1.0, 1.0), (3.0, 1.5)])
def test_round_trips_between_every_pair(na, nb):
    cos = np.linspace(-1.0, 1.0, 41)
    for src, dst in itertools.product(CONVENTIONS, CONVENTIONS):
        v = from_cosine(cos, src, norm_a=na, norm_b=nb)
        there = convert_threshold(v, src, dst, norm_a=na, norm_b=nb)
        back = convert_threshold(there, dst, src, norm_a=na, norm_b=nb)
        assert np.allclose(back, v, atol=1e-9), (src, dst)


def test_unit_vector_identities():
    cos = np.linspace(-1, 1, 11)
    l2 = from_cosine(cos, "l2_distance")
    assert np.allclose(l2**2, 2 - 2 * cos)
    assert np.allclose(from_cosine(cos, "inner_product"), cos)
    assert convert_threshold(0.8, "cosine", "eliza") == pytest.approx(1 - np.sqrt(0.4))
    assert convert_threshold(0.95, "cosine", "l2_distance") == pytest.approx(np.sqrt(0.1))
    assert convert_threshold(0.0, "eliza", "cosine") == pytest.approx(0.5)  # L2 = 1 <=> cos = 0.5


def test_scalar_in_scalar_out_and_monotone():
    assert isinstance(convert_threshold(0.5, "cosine", "eliza"), float)
    t = np.linspace(-0.9, 0.9, 19)
    assert np.all(np.diff(convert_threshold(t, "cosine", "eliza")) > 0)
    assert np.all(np.diff(convert_threshold(t, "cosine", "l2_distance")) < 0)


def test_impossible_values_and_bad_names_are_refused():
    with pytest.raises(InvalidInput, match="not a possible"):
        to_cosine(2.5, "l2_distance")  # unit vectors are at most 2 apart
    with pytest.raises(InvalidInput):
        to_cosine(1.5, "cosine")
    with pytest.raises(InvalidInput, match="not a possible"):
        to_cosine(5.0, "inner_product", norm_a=1.0, norm_b=2.0)
    with pytest.raises(InvalidInput, match="unknown similarity convention"):
        convert_threshold(0.5, "cosine", "dot")
    with pytest.raises(InvalidInput):
        from_cosine(0.5, "eliza", norm_a=0.0)
    with pytest.raises(InvalidInput):
        scores(np.ones((2, 3)), np.ones((3, 3)))
