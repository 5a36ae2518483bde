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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from okai_insight import _json
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

# -- Limits every adapter enforces, so one input gets one answer everywhere (PostgreSQL, SQLite, in-memory,
# Supabase) and the answer is a typed refusal before anything is sent, never a driver error afterwards.

#: Deepest nesting of objects and arrays in stored JSON (the top-level object is level 1). Python's json module
#: recurses once a level and shares its recursion limit (1000 frames) with its caller's frames, so a value must
#: stay well below 1000 to be encoded and decoded from inside a deep call stack (web frameworks, async runtimes,
#: pytest: a few hundred frames); 512 leaves ~490 frames to the caller. PostgreSQL's jsonb goes to ~10,000
#: levels and SQLite's json_valid to 1,000 (2,000 before 3.45), both far above. Rows nested deeper that another
#: program wrote are still read (okai_insight._json decodes them without recursion).
MAX_CONTENT_DEPTH = 512

#: Largest stored JSON document, in bytes of its UTF-8 text. PostgreSQL's jsonb refuses a document whose binary
#: form exceeds 256 MB (268,435,455 bytes); that form can be 6x its text (measured on PostgreSQL 18: an array of
#: one-digit numbers, 2 text bytes an element, takes 12), so 32 MiB of any JSON text is at most 192 MB of jsonb
#: (measured: 32 MiB of ``[0,0,...]`` is 201,326,586 bytes of jsonb, accepted). SQLite's 1 GB string limit is
#: far above. Applies to memory and knowledge content, account details, goal objectives, log bodies and cache
#: values.
MAX_CONTENT_BYTES = 32 * 1024 * 1024

#: Longest cache key, account email and account username, in UTF-8 bytes. Each is in a btree index (the cache's
#: primary key ("key", "agentId"); UNIQUE on email and username in okai-insight's schema), and a btree index
#: row is at most 2,704 bytes on 8 kB pages. Text that does not compress (random tokens, hashes) fits up to
#: 2,692 bytes alone and 2,655 bytes next to a 36-character agent id (measured on PostgreSQL 18); 2,048 bytes
#: leaves room for the index row's headers on every profile, whatever the text.
MAX_INDEXED_TEXT_BYTES = 2048

#: Largest squared L2 norm of a stored or query embedding. pgvector computes cosine distance with float32
#: accumulators (``norma += a[i] * a[i]``), so a vector whose squared norm passes float32's maximum (3.4e38) has
#: an infinite norm: its similarity to everything is 0 or NaN, and it is stored but never found. 1e38 keeps a
#: margin for float32 rounding over 16,000 dimensions (relative error < 1e-3).
MAX_SQUARED_NORM = 1e38

#: Smallest squared L2 norm of a non-zero embedding: float32's smallest normal number. Below it, the squares
#: pgvector sums in float32 are subnormal or vanish (a component of 1e-23 squares to 0), and the cosine of a
#: non-zero vector divides by a zero or meaningless norm.
MIN_SQUARED_NORM = float(np.finfo(np.float32).tiny)


def check_embedding(value: Any, dimension: int | None, *, allow_zero: bool = True) -> Embedding:
    """Return ``value`` as a 1-D float32 array after checking its length and values.

    Raises :class:`DimensionMismatch` when the length differs from ``dimension`` and :class:`InvalidEmbedding`
    for empty, non-numeric (complex numbers and strings included), multi-dimensional, NaN or infinite input, a
    vector whose squared norm lies outside what pgvector's float32 cosine can use (:data:`MAX_SQUARED_NORM`,
    :data:`MIN_SQUARED_NORM`), or an all-zero query when ``allow_zero`` is False (a zero vector has no cosine
    direction).

    Example:
        >>> check_embedding([0.5, float("nan")], 2)
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidEmbedding: embedding holds NaN or infinite values (or values beyond float32's range)
        >>> check_embedding([1e20, 1e20], 2)
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidEmbedding: embedding's values are too large: its squared norm 2e+40 overflows float32, in which pgvector computes cosine distance (at most 1e+38)
    """
    if type(value) is np.ndarray and value.dtype == np.float32 and value.ndim == 1 and value.size == dimension:
        # The common case (an encoder's output), checked with one float64 dot product: float32 values cannot
        # overflow it, and it is NaN or infinite exactly when a value is, so it decides finiteness and the norm
        # at once. Anything it does not accept goes to the full check, which computes the same number. np.dot, not
        # the @ operator: matmul is a ufunc (dtype resolution, error-state checks), ~15 µs more per search when
        # it runs right after the previous search's round trip (py-spy, bench/adapter.py, 2026-12-05).
        wide = value.astype(np.float64)
        squared = float(np.dot(wide, wide))
        if MIN_SQUARED_NORM <= squared <= MAX_SQUARED_NORM or (squared == 0.0 and allow_zero):
            return value
    if value is None:
        raise InvalidEmbedding("embedding is missing")
    if isinstance(value, str | bytes):
        raise InvalidEmbedding("embedding must be a sequence of numbers, not a string")
    try:
        raw = value if isinstance(value, np.ndarray) else np.asarray(value)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidEmbedding(f"embedding must be a sequence of numbers: {exc}") from None
    if raw.dtype.kind not in _NUMERIC_KINDS:
        # complex: a cast would drop the imaginary part (numpy only warns); text: numpy would parse "1.5"
        raise InvalidEmbedding(f"embedding must hold real numbers, got {_KIND_NAMES.get(raw.dtype.kind, raw.dtype)}")
    try:
        # One conversion, straight to the stored precision; values beyond float32's range become inf and are
        # refused with NaN below (numpy would warn about the overflow: the refusal is the message).
        with np.errstate(over="ignore", invalid="ignore"):
            arr = raw.astype(np.float32, copy=raw.dtype != np.float32)
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
    wide = arr.astype(np.float64)
    squared = float(wide @ wide)
    if squared > MAX_SQUARED_NORM:
        raise InvalidEmbedding(
            f"embedding's values are too large: its squared norm {squared:.3g} overflows float32, in which "
            f"pgvector computes cosine distance (at most {MAX_SQUARED_NORM:.3g})"
        )
    if squared == 0.0 and not allow_zero:
        raise InvalidEmbedding("a zero vector has no direction: cosine similarity to it is undefined")
    if 0.0 < squared < MIN_SQUARED_NORM:
        raise InvalidEmbedding(
            f"embedding's values are too small: its squared norm {squared:.3g} underflows float32, in which "
            "pgvector computes cosine distance, so its direction is lost"
        )
    return arr


def norms_in_range(rows: npt.NDArray[Any]) -> bool:
    """Whether every row of a 2-D float array is a vector :func:`check_embedding` would store: a squared norm of
    zero or within [:data:`MIN_SQUARED_NORM`, :data:`MAX_SQUARED_NORM`]. For checking a batch in one pass; a
    batch that fails is checked row by row for the precise error.

    Example:
        >>> norms_in_range(np.array([[1.0, 0.0], [0.0, 0.0]])), norms_in_range(np.array([[1e20, 0.0]]))
        (True, False)
    """
    wide = rows.astype(np.float64)
    squared = np.einsum("ij,ij->i", wide, wide)
    return bool((((squared >= MIN_SQUARED_NORM) & (squared <= MAX_SQUARED_NORM)) | (squared == 0.0)).all())


#: numpy dtype kinds an embedding may arrive as: bool, signed and unsigned integers, floats, and objects (a list
#: of Decimals, say; an object that is not a real number fails the float32 conversion).
_NUMERIC_KINDS = frozenset("biufO")
_KIND_NAMES = {"c": "complex numbers", "U": "text", "S": "bytes", "M": "datetimes", "m": "timedeltas"}


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
    a failure ElizaOS users meet with scraped text. So are values nested deeper than :data:`MAX_CONTENT_DEPTH`,
    values that contain themselves, and documents larger than :data:`MAX_CONTENT_BYTES`.

    Example:
        >>> check_content({"text": "a\\x00b"})
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidContent: content.text holds a NUL character, which JSON columns cannot store
    """
    return _json.loads(content_json(content, what))  # type: ignore[no-any-return]


def content_json(content: Any, what: str = "content") -> str:
    """Check content like :func:`check_content` and return it serialised as JSON text, in one pass.

    Adapters store this text directly, so a row is serialised once, not once to check and again to store.

    Example:
        >>> content_json({"text": "hi"})
        '{"text": "hi"}'
        >>> deep: dict = {}
        >>> for _ in range(MAX_CONTENT_DEPTH): deep = {"a": deep}
        >>> content_json(deep)
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidContent: content is nested more than 512 levels deep (at content.a.a.a.a.a.a...)
    """
    if not isinstance(content, Mapping):
        raise InvalidContent(f"{what} must be a JSON object (dict), got {type(content).__name__}")
    _check_structure(content, what)
    try:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False)
    except RecursionError:
        # within MAX_CONTENT_DEPTH, but the caller's own stack is deep: encode without recursion (scalars are
        # still checked by json.dumps, which raises TypeError or ValueError for them like the call above)
        try:
            text = _json.dumps(content, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InvalidContent(f"{what} is not JSON-serialisable: {exc}") from None
    except (TypeError, ValueError) as exc:
        _walk(content, what)  # name the offending field when we can
        raise InvalidContent(f"{what} is not JSON-serialisable: {exc}") from None
    # json.dumps escapes NUL as \u0000 and leaves unpaired surrogates raw; only then walk the value to say where.
    if "\\u0000" in text:
        _walk(content, what)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        _walk(content, what)
        raise InvalidContent(f"{what} holds invalid UTF-8 text") from None
    if size > MAX_CONTENT_BYTES:
        raise InvalidContent(
            f"{what} is {size:,} bytes as JSON, more than the {MAX_CONTENT_BYTES:,} every adapter stores "
            "(PostgreSQL's jsonb refuses documents past 256 MB of its binary form)"
        )
    return text


def _check_structure(root: Any, path: str) -> None:
    """Refuse non-string keys (json.dumps would turn ``{1: "x"}`` into ``{"1": "x"}`` silently: a stored row must
    read back as it was written), nesting deeper than :data:`MAX_CONTENT_DEPTH` and values that contain
    themselves. Iterative, so no input can exhaust Python's recursion limit here."""
    if type(root) is dict and all(type(k) is str and type(v) in _FLAT for k, v in root.items()):
        return  # the common flat dict of strings and numbers, without the per-item ABC checks below
    # One frame per open container: its remaining members, its path, whether it is a mapping, its id.
    frames: list[tuple[Iterator[Any], str, bool, int]] = [(_members(root), path, True, id(root))]
    open_ids = {id(root)}
    while frames:
        members, where, is_mapping, ident = frames[-1]
        for key, item in members:
            if is_mapping and not isinstance(key, str):
                raise InvalidContent(f"{where} has a non-string key {key!r}")
            if isinstance(item, Mapping | list | tuple):
                inner = f"{where}.{key}" if is_mapping else f"{where}[{key}]"
                if id(item) in open_ids:
                    raise InvalidContent(f"{inner} contains itself, which JSON cannot represent")
                if len(frames) >= MAX_CONTENT_DEPTH:
                    shown = inner if len(inner) <= 60 else inner[:57] + "..."
                    raise InvalidContent(f"{path} is nested more than {MAX_CONTENT_DEPTH} levels deep (at {shown})")
                frames.append((_members(item), inner, isinstance(item, Mapping), id(item)))
                open_ids.add(id(item))
                break
        else:
            frames.pop()
            open_ids.discard(ident)


def _members(value: Any) -> Iterator[tuple[Any, Any]]:
    return iter(value.items()) if isinstance(value, Mapping) else enumerate(value)


#: Value types that hold no keys to check (``_check_structure``'s fast path).
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


def check_indexed_text(value: Any, name: str, *, optional: bool = False) -> str | None:
    """Check a text parameter that a btree index holds (a cache key, an account's email or username): at most
    :data:`MAX_INDEXED_TEXT_BYTES` bytes of UTF-8, on every adapter, so SQLite and the in-memory adapter refuse
    what PostgreSQL's index could not store.

    Example:
        >>> check_indexed_text("agent-7/last-summary", "key")
        'agent-7/last-summary'
        >>> check_indexed_text("é" * 1500, "account.email")
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: account.email is 3000 bytes of UTF-8, more than the 2048 an indexed column holds
    """
    text = check_text(value, name, optional=optional)
    if text is not None and len(text) * 4 > MAX_INDEXED_TEXT_BYTES:  # shorter text fits whatever its characters
        size = len(text.encode("utf-8"))
        if size > MAX_INDEXED_TEXT_BYTES:
            raise InvalidInput(
                f"{name} is {size} bytes of UTF-8, more than the {MAX_INDEXED_TEXT_BYTES} an indexed column holds"
            )
    return text


def check_cache_value(value: Any) -> str:
    """Check a cache value (a string, stored as a JSON string): no larger than :data:`MAX_CONTENT_BYTES` as JSON.

    Example:
        >>> check_cache_value('{"summary": "..."}')
        '{"summary": "..."}'
    """
    text = check_text(value, "value") or ""
    if len(text) * 6 + 2 > MAX_CONTENT_BYTES:  # as a JSON string a character takes at most 6 bytes (\\u001f)
        size = len(json.dumps(text, ensure_ascii=False).encode("utf-8"))
        if size > MAX_CONTENT_BYTES:
            raise InvalidContent(
                f"value is {size:,} bytes as JSON, more than the {MAX_CONTENT_BYTES:,} every adapter stores"
            )
    return text


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
