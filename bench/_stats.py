"""Small measuring helpers: a timer, percentiles and recall.

Example:
    >>> summarise([1.0, 2.0, 3.0, 4.0]).p50_ms
    2.5
    >>> recall_at_k([[1, 2], [3, 4]], [[2, 9], [3, 4]])
    0.75
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    """Latency percentiles of one series, in milliseconds."""

    n: int
    p50_ms: float
    p95_ms: float
    mean_ms: float


def summarise(samples_ms: Sequence[float]) -> Latency:
    """Percentiles of a list of latencies in milliseconds.

    Example:
        >>> summarise([10.0] * 5).p95_ms
        10.0
    """
    a = np.asarray(samples_ms, dtype=np.float64)
    return Latency(
        n=len(a),
        p50_ms=float(np.percentile(a, 50)),
        p95_ms=float(np.percentile(a, 95)),
        mean_ms=float(a.mean()),
    )


def recall_at_k(truth: Iterable[Sequence[object]], found: Iterable[Sequence[object]]) -> float:
    """Mean fraction of each true top-k that the search returned.

    Example:
        >>> recall_at_k([["a", "b"]], [["b"]])
        0.5
    """
    scores = []
    for t, f in zip(truth, found, strict=True):
        expected = set(t)
        scores.append(len(expected & set(f)) / max(1, len(expected)))
    return float(np.mean(scores)) if scores else 0.0


class Timer:
    """Wall-clock seconds of a ``with`` block (``perf_counter``).

    Example:
        >>> with Timer() as t:
        ...     pass
        >>> t.seconds >= 0
        True
    """

    seconds: float = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start
