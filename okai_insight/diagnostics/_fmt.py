"""Human-readable numbers for finding messages (rows keep the raw numbers).

Example:
    >>> human_bytes(10 * 1024 * 1024), human_ms(1_500)
    ('10.0 MB', '1.5 s')
"""

from __future__ import annotations

MB = 1024 * 1024


def human_bytes(n: float | None) -> str:
    """``1536`` -> ``'1.5 kB'``.

    Example:
        >>> human_bytes(1536)
        '1.5 kB'
    """
    if n is None:
        return "?"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def human_ms(ms: float | None) -> str:
    """``1500`` -> ``'1.5 s'``; below a second stays in ms.

    Example:
        >>> human_ms(12.5), human_ms(90_000)
        ('12.5 ms', '1.5 min')
    """
    if ms is None:
        return "?"
    if ms < 1000:
        return f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    if ms < 3_600_000:
        return f"{ms / 60_000:.1f} min"
    return f"{ms / 3_600_000:.1f} h"
