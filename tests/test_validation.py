"""check_embedding's fast path for float32 arrays (one float64 sum) decides exactly as its full check does."""

from __future__ import annotations

import numpy as np
import pytest

from okai_insight.errors import DimensionMismatch, InvalidEmbedding
from okai_insight.validation import check_embedding

DIM = 8


def _vec(*values: float) -> np.ndarray:
    out = np.full(DIM, 0.5, dtype=np.float32)
    out[: len(values)] = values
    return out


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
@pytest.mark.parametrize("where", [0, DIM - 1])
def test_nan_and_inf_anywhere_are_refused(bad, where):
    v = _vec()
    v[where] = bad
    with pytest.raises(InvalidEmbedding, match="NaN or infinite"):
        check_embedding(v, DIM)


def test_the_largest_finite_values_are_accepted_unchanged():
    v = _vec(3.4e38, 3.4e38, 3.4e38)  # finite float32 whose float32 sum (or squares) would overflow
    assert check_embedding(v, DIM) is v


def test_a_zero_query_is_refused_but_a_tiny_one_is_not():
    zero = np.zeros(DIM, dtype=np.float32)
    assert check_embedding(zero, DIM) is zero  # stored zero vectors are allowed (ElizaOS placeholders)
    with pytest.raises(InvalidEmbedding, match="no direction"):
        check_embedding(zero, DIM, allow_zero=False)
    cancelling = _vec(1.0, -1.0, 0, 0, 0, 0, 0, 0)  # sums to 0, yet has a direction
    assert check_embedding(cancelling, DIM, allow_zero=False) is cancelling


def test_wrong_length_and_other_dtypes_take_the_full_check():
    with pytest.raises(DimensionMismatch):
        check_embedding(np.ones(DIM + 1, dtype=np.float32), DIM)
    as64 = check_embedding(np.ones(DIM, dtype=np.float64), DIM)
    assert as64.dtype == np.float32 and as64.shape == (DIM,)
    swapped = check_embedding(np.ones(DIM, dtype=">f4"), DIM)
    assert swapped.dtype == np.float32 and float(swapped.sum()) == DIM
    with pytest.raises(InvalidEmbedding, match="one-dimensional"):
        check_embedding(np.ones((1, DIM), dtype=np.float32), DIM)
