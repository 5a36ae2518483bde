"""Similarity conventions, and how to port a threshold from one to another.

Adapters and frameworks disagree on what "similarity" means. For two vectors a and b with norms ``|a|``, ``|b|``
and cosine similarity ``cos``:

==========================  ======================  ==========================================================
convention                  pgvector                value
==========================  ======================  ==========================================================
``cosine``                  ``1 - (a <=> b)``       cos
``cosine_distance``         ``a <=> b``             1 - cos
``l2_distance``             ``a <-> b``             ``L2 = sqrt(|a|^2 + |b|^2 - 2 |a| |b| cos)``
``eliza``                   ``1 - (a <-> b)``       1 - L2 (ElizaOS 0.1.9's PostgreSQL adapter calls this similarity)
``inner_product``           ``-(a <#> b)``          ``|a| |b| cos``
``negative_inner_product``  ``a <#> b``             ``-|a| |b| cos``
==========================  ======================  ==========================================================

For unit vectors ``L2^2 = 2 - 2 cos``: cosine 0.8 is L2 0.632, so ElizaOS's "similarity" 0.368, and the inner
product equals the cosine. Every convention is a monotone function of the cosine once the norms are fixed, so a
threshold converts exactly (a similarity ``>= t`` becomes a distance ``<= d``). For non-unit vectors the result
depends on the norms: pass the typical ``norm_a`` (query) and ``norm_b`` (memory), e.g. the medians from
:func:`okai_insight.embeddings.embedding_quality`; the conversion is then exact for vectors of those norms only.

Example:
    >>> round(convert_threshold(0.8, "cosine", "eliza"), 4)
    0.3675
    >>> round(convert_threshold(0.3675444679663241, "eliza", "cosine"), 6)
    0.8
    >>> round(convert_threshold(0.8, "cosine", "inner_product", norm_a=2.0, norm_b=3.0), 6)
    4.8
"""

from __future__ import annotations

from typing import Any, Literal, overload

import numpy as np

from okai_insight.errors import InvalidInput

Convention = Literal["cosine", "cosine_distance", "l2_distance", "eliza", "inner_product", "negative_inner_product"]
CONVENTIONS: tuple[Convention, ...] = (
    "cosine",
    "cosine_distance",
    "l2_distance",
    "eliza",
    "inner_product",
    "negative_inner_product",
)
#: Conventions where larger means closer (a threshold is a minimum); the others are distances (a maximum).
SIMILARITIES = frozenset({"cosine", "eliza", "inner_product"})
_TOLERANCE = 1e-9


def _check(convention: str) -> None:
    if convention not in CONVENTIONS:
        raise InvalidInput(f"unknown similarity convention {convention!r}; use one of {', '.join(CONVENTIONS)}")


def _norms(norm_a: float, norm_b: float) -> tuple[float, float]:
    for name, n in (("norm_a", norm_a), ("norm_b", norm_b)):
        if not np.isfinite(n) or n <= 0:
            raise InvalidInput(f"{name} must be a positive finite number, got {n}")
    return float(norm_a), float(norm_b)


def to_cosine(value: Any, convention: str, *, norm_a: float = 1.0, norm_b: float = 1.0) -> Any:
    """The cosine similarity a value of ``convention`` stands for, for vectors of norms ``norm_a`` and ``norm_b``.

    Raises :class:`InvalidInput` for values no pair of such vectors can have.

    Example:
        >>> float(to_cosine(0.0, "l2_distance"))
        1.0
    """
    _check(convention)
    na, nb = _norms(norm_a, norm_b)
    v = np.asarray(value, dtype=np.float64)
    if convention == "cosine":
        cos = v
    elif convention == "cosine_distance":
        cos = 1.0 - v
    elif convention in ("l2_distance", "eliza"):
        l2 = v if convention == "l2_distance" else 1.0 - v
        if np.any(l2 < -_TOLERANCE):
            raise InvalidInput(f"{value} is not a possible {convention} value (the L2 distance would be negative)")
        cos = (na * na + nb * nb - l2 * l2) / (2.0 * na * nb)
    else:
        ip = v if convention == "inner_product" else -v
        cos = ip / (na * nb)
    if np.any(np.abs(cos) > 1.0 + 1e-7) or np.any(~np.isfinite(cos)):
        raise InvalidInput(
            f"{value} is not a possible {convention} value for vectors of norms {na:g} and {nb:g} "
            f"(range: {describe_range(convention, norm_a=na, norm_b=nb)})"
        )
    return np.clip(cos, -1.0, 1.0)


def from_cosine(cos: Any, convention: str, *, norm_a: float = 1.0, norm_b: float = 1.0) -> Any:
    """The value of ``convention`` for a cosine similarity, for vectors of norms ``norm_a`` and ``norm_b``.

    Example:
        >>> round(float(from_cosine(0.5, "l2_distance")), 6)
        1.0
    """
    _check(convention)
    na, nb = _norms(norm_a, norm_b)
    c = np.asarray(cos, dtype=np.float64)
    if np.any(np.abs(c) > 1.0 + 1e-7):
        raise InvalidInput(f"a cosine similarity lies in [-1, 1], got {cos}")
    c = np.clip(c, -1.0, 1.0)
    if convention == "cosine":
        return c
    if convention == "cosine_distance":
        return 1.0 - c
    if convention in ("l2_distance", "eliza"):
        l2 = np.sqrt(np.maximum(na * na + nb * nb - 2.0 * na * nb * c, 0.0))
        return l2 if convention == "l2_distance" else 1.0 - l2
    ip = na * nb * c
    return ip if convention == "inner_product" else -ip


@overload
def convert_threshold(value: float, source: str, target: str, *, norm_a: float = ..., norm_b: float = ...) -> float: ...
@overload
def convert_threshold(
    value: np.ndarray, source: str, target: str, *, norm_a: float = ..., norm_b: float = ...
) -> np.ndarray: ...
def convert_threshold(value: Any, source: str, target: str, *, norm_a: float = 1.0, norm_b: float = 1.0) -> Any:
    """Port a threshold between conventions (scalars or arrays); see the module docstring for the math.

    Example:
        >>> round(convert_threshold(0.95, "cosine", "l2_distance"), 4)   # ElizaOS's duplicate check, as a distance
        0.3162
    """
    out = from_cosine(to_cosine(value, source, norm_a=norm_a, norm_b=norm_b), target, norm_a=norm_a, norm_b=norm_b)
    return float(out) if np.ndim(out) == 0 else out


def describe_range(convention: str, *, norm_a: float = 1.0, norm_b: float = 1.0) -> str:
    """The interval a convention's values live in for vectors of the given norms.

    Example:
        >>> describe_range("eliza")
        '[-1, 1]'
    """
    lo, hi = sorted(float(from_cosine(c, convention, norm_a=norm_a, norm_b=norm_b)) for c in (-1.0, 1.0))
    return f"[{lo:g}, {hi:g}]"


def scores(a: np.ndarray, b: np.ndarray, convention: str = "cosine") -> np.ndarray:
    """Row-wise scores of pairs ``(a[i], b[i])`` in a convention, computed from the vectors themselves.

    Example:
        >>> scores(np.array([[1.0, 0.0]]), np.array([[0.0, 2.0]]), "l2_distance").round(4).tolist()
        [2.2361]
    """
    _check(convention)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2:
        raise InvalidInput(f"scores needs two matrices of the same shape, got {a.shape} and {b.shape}")
    ip = np.einsum("ij,ij->i", a, b)
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    out: np.ndarray
    if convention in ("inner_product", "negative_inner_product"):
        out = ip if convention == "inner_product" else -ip
    elif convention in ("l2_distance", "eliza"):
        l2 = np.linalg.norm(a - b, axis=1)
        out = l2 if convention == "l2_distance" else 1.0 - l2
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = ip / (na * nb)
        out = cos if convention == "cosine" else 1.0 - cos
    return out
