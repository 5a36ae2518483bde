"""Is a 1-D sample two populations? The best two-way split (Otsu / 1-D 2-means) and how far apart its halves are.

Used for signs of two embedding models in one group: two separated norm populations, or two populations of
similarity to the group's mean direction. A unimodal sample split at its best point has halves about 2.6 pooled
standard deviations apart (a normal sample: means at +-0.8 sd, within-half sd 0.6); the checks ask for far more.

Example:
    >>> import numpy as np
    >>> s = two_populations(np.r_[np.full(50, 1.0), np.full(10, 5.0)] + np.linspace(0, 0.01, 60))
    >>> s.minority_size, round(s.low_mean, 2), round(s.high_mean, 2)
    (10, 1.0, 5.01)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Split:
    """The best two-way split of a sample: the cut, each half's mean and size, their separation in pooled sds."""

    cut: float
    low_mean: float
    high_mean: float
    low_size: int
    high_size: int
    separation: float
    #: Indices (into the input) of the smaller half.
    minority: np.ndarray

    @property
    def minority_size(self) -> int:
        """How many values fall in the smaller half."""
        return int(self.minority.size)


def two_populations(values: np.ndarray) -> Split | None:
    """The split of ``values`` into a low and a high half minimising within-half variance (None below 4 values).

    Example:
        >>> two_populations(np.arange(3.0)) is None
        True
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 4:
        return None
    order = np.argsort(x, kind="stable")
    s = x[order]
    csum = np.cumsum(s)
    csq = np.cumsum(s * s)
    i = np.arange(1, n)  # the low half holds s[:i]
    lo_mean = csum[:-1] / i
    hi_mean = (csum[-1] - csum[:-1]) / (n - i)
    lo_ss = csq[:-1] - i * lo_mean**2
    hi_ss = (csq[-1] - csq[:-1]) - (n - i) * hi_mean**2
    within = np.maximum(lo_ss + hi_ss, 0.0)
    k = int(np.argmin(within))
    cut_at = k + 1
    pooled_sd = float(np.sqrt(within[k] / max(n - 2, 1)))
    gap = float(hi_mean[k] - lo_mean[k])
    separation = gap / pooled_sd if pooled_sd > 0 else (np.inf if gap > 0 else 0.0)
    low_idx, high_idx = order[:cut_at], order[cut_at:]
    minority = low_idx if low_idx.size <= high_idx.size else high_idx
    return Split(
        cut=float((s[cut_at - 1] + s[cut_at]) / 2),
        low_mean=float(lo_mean[k]),
        high_mean=float(hi_mean[k]),
        low_size=int(low_idx.size),
        high_size=int(high_idx.size),
        separation=float(separation),
        minority=np.sort(minority),
    )
