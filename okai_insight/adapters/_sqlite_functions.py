"""Pure-Python helpers of the SQLite adapter: bounded Levenshtein distance (SQLite has no fuzzystrmatch), the
cosine similarity the PostgreSQL adapter reports, and the adapter's text forms of ids and timestamps.

Example:
    >>> from okai_insight.adapters._sqlite_functions import levenshtein_within
    >>> levenshtein_within("hello world", "hello word", 2), levenshtein_within("abc", "xyz", 1)
    (1, None)
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import numpy as np
import numpy.typing as npt

from okai_insight.models import Embedding


def levenshtein_within(a: Any, b: Any, limit: Any) -> int | None:
    """fuzzystrmatch's ``levenshtein(a, b)`` (unit costs, per character) when it is at most ``limit``, else None.

    Only a band of ``2 * limit + 1`` cells per row is computed, so a small limit stays cheap on long texts.

    Example:
        >>> levenshtein_within("kitten", "sitting", 3), levenshtein_within("kitten", "sitting", 2)
        (3, None)
    """
    if a is None or b is None or limit is None:
        return None
    s, t, k = str(a), str(b), int(limit)
    if abs(len(s) - len(t)) > k:
        return None
    if len(s) > len(t):
        s, t = t, s
    big = k + 1
    previous = [j if j <= k else big for j in range(len(t) + 1)]
    for i in range(1, len(s) + 1):
        lo, hi = max(1, i - k), min(len(t), i + k)
        current = [big] * (len(t) + 1)
        current[0] = i if i <= k else big
        best = current[0]
        ch = s[i - 1]
        for j in range(lo, hi + 1):
            cost = previous[j - 1] + (ch != t[j - 1])
            cost = min(cost, previous[j] + 1, current[j - 1] + 1)
            current[j] = cost if cost <= k else big
            best = min(best, current[j])
        if best > k:
            return None
        previous = current
    result = previous[len(t)]
    return result if result <= k else None


def cosine_similarity(query: Embedding, rows: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """``1 - cosine distance`` of each row to the query in double precision, clamped to [-1, 1] as pgvector does.

    Rows with a zero norm give NaN (no direction), which callers drop.

    Example:
        >>> cosine_similarity(np.array([1, 0], np.float32), np.array([[1, 0], [0, 2]], np.float32)).tolist()
        [1.0, 0.0]
    """
    q = query.astype(np.float64)
    m = np.atleast_2d(rows).astype(np.float64)
    dots = m @ q
    norms = np.sqrt(np.einsum("ij,ij->i", m, m) * float(q @ q))
    with np.errstate(invalid="ignore", divide="ignore"):
        sims = dots / norms
    clipped: npt.NDArray[np.float64] = np.clip(sims, -1.0, 1.0)  # NaN stays NaN
    return clipped


def id_text(value: uuid.UUID | None) -> str | None:
    """A UUID as stored: canonical lower-case text (None stays None).

    Example:
        >>> id_text(uuid.UUID(int=1))
        '00000000-0000-0000-0000-000000000001'
    """
    return None if value is None else str(value)


def to_uuid(value: Any) -> uuid.UUID | None:
    """A stored id back to a UUID.

    Example:
        >>> to_uuid("00000000-0000-0000-0000-000000000001")
        UUID('00000000-0000-0000-0000-000000000001')
    """
    return None if value is None else uuid.UUID(str(value))


def ts_text(value: dt.datetime) -> str:
    """A datetime as stored: UTC, fixed width ``YYYY-MM-DD HH:MM:SS.ffffff`` (text order is time order).

    Naive datetimes are taken as UTC, like the PostgreSQL adapter does.

    Example:
        >>> ts_text(dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
        '2026-01-02 03:04:05.000000'
    """
    aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def to_datetime(value: Any) -> dt.datetime | None:
    """A stored timestamp back to an aware UTC datetime (reads SQLite's own ``CURRENT_TIMESTAMP`` form too).

    Example:
        >>> to_datetime("2026-01-02 03:04:05.000000")
        datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    """
    if value is None:
        return None
    parsed = dt.datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def now_text() -> str:
    """The current time as stored.

    Example:
        >>> len(now_text())
        26
    """
    return ts_text(dt.datetime.now(dt.UTC))


def blob(embedding: Embedding | None) -> bytes | None:
    """An embedding as stored: little-endian float32 bytes (``-0.0`` becomes ``0.0`` so zero vectors look zero).

    Example:
        >>> blob(np.array([1.0], np.float32))
        b'\\x00\\x00\\x80?'
    """
    if embedding is None:
        return None
    return (np.asarray(embedding, dtype="<f4") + np.float32(0.0)).tobytes()


def from_blob(value: Any) -> Embedding | None:
    """A stored embedding back to a float32 array.

    Example:
        >>> from_blob(b'\\x00\\x00\\x80?').tolist()
        [1.0]
    """
    if value is None:
        return None
    return np.frombuffer(bytes(value), dtype="<f4").astype(np.float32)


__all__ = [
    "blob",
    "cosine_similarity",
    "from_blob",
    "id_text",
    "levenshtein_within",
    "now_text",
    "to_datetime",
    "to_uuid",
    "ts_text",
]
