"""A categorical palette that stays distinct beyond 10 groups (glasbey-like: each colour the farthest, in CIELAB,
from those already chosen), for the static map and the interactive explorer alike.

Example:
    >>> cols = distinct_colours(15)
    >>> len(set(cols)), cols[0]
    (15, '#1f77b4')
"""

from __future__ import annotations

import functools

import numpy as np

#: The first colours are matplotlib's tab10 (familiar); the rest are chosen for distance.
_SEED = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _lab(rgb: np.ndarray) -> np.ndarray:
    c = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def _hex(rgb: np.ndarray) -> str:
    r, g, b = (int(np.rint(v * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"


@functools.cache
def _palette(n: int) -> tuple[str, ...]:
    grid = np.linspace(0.0, 1.0, 16)
    cand = np.array(np.meshgrid(grid, grid, grid, indexing="ij")).reshape(3, -1).T
    lab = _lab(cand)
    keep = (lab[:, 0] > 35) & (lab[:, 0] < 85)  # neither near-black nor near-white (the map's grey is "other")
    cand, lab = cand[keep], lab[keep]
    chosen = [np.array([int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)]) for h in _SEED[: min(n, len(_SEED))]]
    dist = np.min([np.linalg.norm(lab - _lab(c[None])[0], axis=1) for c in chosen], axis=0)
    while len(chosen) < n:
        i = int(np.argmax(dist))
        chosen.append(cand[i])
        dist = np.minimum(dist, np.linalg.norm(lab - lab[i], axis=1))
    return tuple(_hex(c) for c in chosen)


def distinct_colours(n: int) -> list[str]:
    """``n`` hex colours, pairwise distinct and far apart (up to a few hundred).

    Example:
        >>> len(distinct_colours(40))
        40
    """
    return list(_palette(max(0, int(n))))
