"""Input checks shared by every adapter: embeddings, ids, table names and JSON content.

Each check raises a typed :class:`~okai_insight.errors.InvalidInput` before anything is sent to a database.

Example:
    >>> from okai_insight.validation import check_embedding
    >>> check_embedding([1, 0, 0], 3).dtype
    dtype('float32')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from okai_insight.errors import (
    DimensionMismatch,
    InvalidContent,
    InvalidEmbedding,
    InvalidId,
    InvalidInput,
    UnknownTable,
)
from okai_insight.models import Embedding, GoalStatus, UserState

#: A memory table name (the stored ``type``): letters, digits, ``_`` and ``-``, at most 63 characters.
TABLE_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,62}$")


def check_embedding(value: Any, dimension: int | None, *, allow_zero: bool = True) -> Embedding:
    """Return ``value`` as a 1-D float32 array after checking its length and values.

    Raises :class:`DimensionMismatch` when the length differs from ``dimension`` and :class:`InvalidEmbedding`
    for empty, non-numeric, multi-dimensional, NaN or infinite input, or an all-zero query when ``allow_zero``
    is False (a zero vector has no cosine direction).

    Example:
        >>> check_embedding([0.5, float("nan")], 2)
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidEmbedding: embedding holds NaN or infinite values (or values beyond float32's range)
    """
    if type(value) is np.ndarray and value.dtype == np.float32 and value.ndim == 1 and value.size == dimension:
        # The common case (an encoder's output), checked with one sum: in float64 it cannot overflow on float32
        # values, so it is finite exactly when every value is. A zero sum (a zero vector, or one whose values
        # cancel) goes to the full check when zero vectors are refused.
        total = float(value.sum(dtype=np.float64))
        if math.isfinite(total) and (allow_zero or total != 0.0):
            return value
    if value is None:
        raise InvalidEmbedding("embedding is missing")
    if isinstance(value, str | bytes):
        raise InvalidEmbedding("embedding must be a sequence of numbers, not a string")
    try:
        # One conversion, straight to the stored precision; values beyond float32's range become inf and are
        # refused with NaN below (numpy would warn about the overflow: the refusal is the message).
        with np.errstate(over="ignore", invalid="ignore"):
            arr = np.asarray(value, dtype=np.float32)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidEmbedding(f"embedding must be a sequence of numbers: {exc}") from None
    if arr.ndim != 1:
        raise InvalidEmbedding(f"embedding must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise InvalidEmbedding("embedding is empty")
    if dimension is not None and arr.size != dimension:
        raise DimensionMismatch(expected=dimension, got=int(arr.size))
    if not np.isfinite(arr).all():
        raise InvalidEmbedding("embedding holds NaN or infinite values (or values beyond float32's range)")
    if not allow_zero and not arr.any():
        raise InvalidEmbedding("a zero vector has no direction: cosine similarity to it is undefined")
    return arr


def check_id(value: Any, name: str = "id") -> uuid.UUID:
    """Return ``value`` as a UUID; raise :class:`InvalidId` naming the parameter otherwise.

    Example:
        >>> check_id("00000000-0000-0000-0000-000000000001")
        UUID('00000000-0000-0000-0000-000000000001')
    """
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise InvalidId(f"{name} must be a UUID, got {shown}")


def check_optional_id(value: Any, name: str) -> uuid.UUID | None:
    """Like :func:`check_id`, but None passes through.

    Example:
        >>> check_optional_id(None, "agent_id") is None
        True
    """
    return None if value is None else check_id(value, name)


def check_ids(values: Iterable[Any], name: str = "ids") -> list[uuid.UUID]:
    """Check a list of ids; a single string is refused (it would iterate per character).

    Example:
        >>> check_ids([])
        []
    """
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise InvalidId(f"{name} must be a list of UUIDs")
    return [check_id(v, name) for v in values]


def check_table_name(value: Any, allowed: Sequence[str] | None = None) -> str:
    """Check a memory table name (stored as the memory ``type``); it is always bound, never pasted into SQL.

    Example:
        >>> check_table_name("messages")
        'messages'
        >>> check_table_name("messages; DROP TABLE memories")
        Traceback (most recent call last):
        ...
        okai_insight.errors.UnknownTable: table_name 'messages; DROP TABLE memories' is not a valid memory table name
    """
    if not isinstance(value, str) or not value:
        raise UnknownTable("table_name is required (the memory type, e.g. 'messages')")
    if not TABLE_NAME_PATTERN.match(value):
        raise UnknownTable(f"table_name {value[:80]!r} is not a valid memory table name")
    if allowed is not None and value not in allowed:
        raise UnknownTable(f"table_name {value!r} is not one of {', '.join(allowed)}")
    return value


def check_content(content: Any, what: str = "content") -> dict[str, Any]:
    """Check that content is a JSON object PostgreSQL's jsonb and SQLite's JSON will both accept.

    NUL characters and unpaired surrogates (text that was invalid UTF-8) are refused: jsonb rejects ``\\u0000``,
    a failure ElizaOS users meet with scraped text.

    Example:
        >>> check_content({"text": "a\\x00b"})
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidContent: content.text holds a NUL character, which JSON columns cannot store
    """
    return json.loads(content_json(content, what))  # type: ignore[no-any-return]


def content_json(content: Any, what: str = "content") -> str:
    """Check content like :func:`check_content` and return it serialised as JSON text, in one pass.

    Adapters store this text directly, so a row is serialised once, not once to check and again to store.

    Example:
        >>> content_json({"text": "hi"})
        '{"text": "hi"}'
    """
    if not isinstance(content, Mapping):
        raise InvalidContent(f"{what} must be a JSON object (dict), got {type(content).__name__}")
    _check_keys(content, what)
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        _walk(content, what)  # name the offending field when we can
        raise InvalidContent(f"{what} is not JSON-serialisable: {exc}") from None
    # json.dumps escapes NUL as \u0000 and leaves unpaired surrogates raw; only then walk the value to say where.
    if "\\u0000" in text:
        _walk(content, what)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _walk(content, what)
        raise InvalidContent(f"{what} holds invalid UTF-8 text") from None
    return text


def _check_keys(value: Any, path: str) -> None:
    # json.dumps would turn {1: "x"} into {"1": "x"} silently; a stored row must read back as it was written.
    if type(value) is dict and all(type(k) is str and type(v) in _FLAT for k, v in value.items()):
        return  # the common flat dict of strings and numbers, without the per-item ABC checks below
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidContent(f"{path} has a non-string key {key!r}")
            if isinstance(item, Mapping | list | tuple):
                _check_keys(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            if isinstance(item, Mapping | list | tuple):
                _check_keys(item, f"{path}[{i}]")


#: Value types that hold no keys to check (``_check_keys``'s fast path).
_FLAT = frozenset({str, int, float, bool, type(None)})


def _walk(value: Any, path: str) -> None:
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidContent(f"{path} has a non-string key {key!r}")
            _check_text(key, f"{path} key")
            _walk(item, f"{path}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidContent(f"{path} is {value}, which JSON cannot represent")


def _check_text(text: str, path: str) -> None:
    if "\x00" in text:
        raise InvalidContent(f"{path} holds a NUL character, which JSON columns cannot store")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidContent(f"{path} holds an unpaired surrogate (invalid UTF-8 text)") from None


def check_text(value: Any, name: str, *, max_chars: int | None = None, optional: bool = False) -> str | None:
    """Check a free-text parameter (bound as a value, never pasted into SQL).

    Example:
        >>> check_text("key-1", "key")
        'key-1'
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be a string, got {type(value).__name__}")
    _check_text(value, name)
    if max_chars is not None and len(value) > max_chars:
        raise InvalidInput(f"{name} is longer than {max_chars} characters")
    return value


def check_count(value: Any, name: str = "count", *, minimum: int = 0, maximum: int = 100_000) -> int:
    """Check a row count or limit.

    Example:
        >>> check_count(10)
        10
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidInput(f"{name} must be an integer, got {value!r}")
    if not minimum <= int(value) <= maximum:
        raise InvalidInput(f"{name} must be between {minimum} and {maximum}, got {value}")
    return int(value)


def check_threshold(value: Any, name: str = "match_threshold") -> float:
    """Check a similarity threshold (cosine similarity lies in [-1, 1]).

    Example:
        >>> check_threshold(0.8)
        0.8
    """
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise InvalidInput(f"{name} must be a number, got {value!r}")
    f = float(value)
    if not math.isfinite(f) or not -1.0 <= f <= 1.0:
        raise InvalidInput(f"{name} must lie between -1 and 1, got {value}")
    return f


def check_timestamp(value: Any, name: str) -> dt.datetime | None:
    """A point in time as an aware UTC datetime: a datetime (naive ones are UTC) or epoch milliseconds, as
    ElizaOS passes them; ``None`` stays ``None``.

    Example:
        >>> check_timestamp(1_700_000_000_000, "start")
        datetime.datetime(2023, 11, 14, 22, 13, 20, tzinfo=datetime.timezone.utc)
        >>> check_timestamp("yesterday", "start")
        Traceback (most recent call last):
        okai_insight.errors.InvalidInput: start must be a datetime or epoch milliseconds, got 'yesterday'
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            pass
    raise InvalidInput(f"{name} must be a datetime or epoch milliseconds, got {value!r}")


def check_goal_status(value: Any) -> GoalStatus:
    """A goal status, from the enum or its text.

    Example:
        >>> check_goal_status("DONE")
        <GoalStatus.DONE: 'DONE'>
    """
    try:
        return GoalStatus(value)
    except ValueError:
        raise InvalidInput(
            f"goal status must be one of {', '.join(s.value for s in GoalStatus)}, got {value!r}"
        ) from None


def check_user_state(value: Any) -> str | None:
    """A participant's user state as stored: ``"FOLLOWED"``, ``"MUTED"`` or ``None``.

    Example:
        >>> check_user_state("MUTED")
        'MUTED'
    """
    if value is None:
        return None
    try:
        return UserState(value).value
    except ValueError:
        raise InvalidInput(f"user state must be FOLLOWED, MUTED or None, got {value!r}") from None
