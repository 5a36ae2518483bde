"""JSON without a recursion limit, for values nested deeper than Python's ``json`` module can follow.

``json.loads`` and ``json.dumps`` recurse once per level of nesting and raise ``RecursionError`` near Python's
recursion limit (1000 frames, shared with the caller's own). PostgreSQL accepts jsonb nested about 10,000 levels
deep (its limit is its stack, ``max_stack_depth``), and SQLite's ``json_valid`` 1,000 to 2,000 levels by version, so
one row written by another program could make a whole room unreadable. :func:`loads` and :func:`dumps` take the
``json`` module's C fast path and, only when it runs out of recursion, redo the work with an explicit stack: the hot
path costs one extra function call, the slow path is taken only by rows no ordinary writer produces.

Example:
    >>> import warnings
    >>> deep = "[" * 5000 + "]" * 5000
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     value = loads(deep)
    >>> dumps(value) == deep.replace("][", "], [")
    True
    >>> caught[0].category.__name__
    'DeepContentWarning'
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator
from json.decoder import JSONDecodeError, scanstring  # type: ignore[attr-defined]  # the C scanner
from json.encoder import encode_basestring, encode_basestring_ascii
from json.scanner import NUMBER_RE
from typing import Any

from okai_insight.errors import DeepContentWarning

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_CONSTANTS: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    "NaN": float("nan"),
    "Infinity": float("inf"),
    "-Infinity": float("-inf"),
}


def loads(data: str | bytes | bytearray | memoryview) -> Any:
    """``json.loads``, but a value nested too deep for it is decoded without recursion (with a
    :class:`~okai_insight.errors.DeepContentWarning`) instead of raising ``RecursionError``.

    It is psycopg's loader for json and jsonb on okai-insight's connections and the SQLite adapter's decoder.

    Example:
        >>> loads(b'{"text": "hi", "n": [1, 2.5]}')
        {'text': 'hi', 'n': [1, 2.5]}
    """
    if isinstance(data, memoryview):
        data = bytes(data)
    try:
        return json.loads(data)
    except RecursionError:
        pass
    text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    value, depth = _loads_iteratively(text)
    warnings.warn(
        f"a stored JSON value is nested {depth} levels deep, deeper than Python's json module can follow: it was "
        "decoded without recursion, but recursive tools (json.dumps, ==, repr, copy.deepcopy) may fail on it",
        DeepContentWarning,
        stacklevel=2,
    )
    return value


def dumps(value: Any, *, ensure_ascii: bool = True, allow_nan: bool = True) -> str:
    """``json.dumps(value)`` with its default separators, for values of any depth (as :func:`loads` returns them).

    Example:
        >>> dumps({"a": [1, None, "é"]})
        '{"a": [1, null, "\\\\u00e9"]}'
    """
    try:
        return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=allow_nan)
    except RecursionError:
        return _dumps_iteratively(value, ensure_ascii=ensure_ascii, allow_nan=allow_nan)


def _skip(text: str, pos: int) -> int:
    return _WHITESPACE.match(text, pos).end()  # type: ignore[union-attr]  # the pattern matches the empty string


def _key(text: str, pos: int) -> tuple[str, int]:
    """An object's key at ``pos`` and the position of its value (after the ``:``)."""
    if text[pos] != '"':
        raise JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
    key, pos = scanstring(text, pos + 1)
    pos = _skip(text, int(pos))
    if text[pos] != ":":
        raise JSONDecodeError("Expecting ':' delimiter", text, pos)
    return key, _skip(text, pos + 1)


def _scalar(text: str, pos: int) -> tuple[Any, int]:
    if text[pos] == '"':
        string, end = scanstring(text, pos + 1)
        return string, end
    number = NUMBER_RE.match(text, pos)
    if number is not None:
        integer, fraction, exponent = number.groups()
        if fraction or exponent:
            return float(integer + (fraction or "") + (exponent or "")), number.end()
        return int(integer), number.end()
    for word, constant in _CONSTANTS.items():
        if text.startswith(word, pos):
            return constant, pos + len(word)
    raise JSONDecodeError("Expecting value", text, pos)


def _loads_iteratively(text: str) -> tuple[Any, int]:
    """Decode ``text`` as ``json.loads`` does, with an explicit stack; also return the deepest nesting seen.

    Each stack entry is ``[container, pending key]`` (the key is None for arrays).
    """
    stack: list[list[Any]] = []
    deepest = 0
    try:
        pos = _skip(text, 0)
        while True:
            # one value at pos: an opening bracket pushes a container and goes on with its first member
            char = text[pos]
            if char in "{[":
                pos = _skip(text, pos + 1)
                closing = "}" if char == "{" else "]"
                if text[pos] == closing:
                    value: Any = {} if char == "{" else []
                    pos += 1
                else:
                    key: str | None = None
                    if char == "{":
                        key, pos = _key(text, pos)
                    stack.append([{} if char == "{" else [], key])
                    deepest = max(deepest, len(stack))
                    continue
            else:
                value, pos = _scalar(text, pos)
            # the value is complete: add it to its container, closing every container it completes
            while True:
                if not stack:
                    if _skip(text, pos) != len(text):
                        raise JSONDecodeError("Extra data", text, pos)
                    return value, deepest
                frame = stack[-1]
                container = frame[0]
                if type(container) is list:
                    container.append(value)
                else:
                    container[frame[1]] = value
                pos = _skip(text, pos)
                char = text[pos]
                if char == ",":
                    pos = _skip(text, pos + 1)
                    if type(container) is dict:
                        frame[1], pos = _key(text, pos)
                    break
                if char != ("]" if type(container) is list else "}"):
                    raise JSONDecodeError("Expecting ',' delimiter", text, pos)
                pos += 1
                value = stack.pop()[0]
    except IndexError:
        raise JSONDecodeError("Unexpected end of JSON input", text, len(text)) from None


def _dumps_iteratively(value: Any, *, ensure_ascii: bool, allow_nan: bool) -> str:
    """``json.dumps(value)`` (default separators, ASCII output) with an explicit stack of iterators."""
    parts: list[str] = []
    stack: list[tuple[Iterator[Any], str, bool]] = []  # the open containers: members left, closing, is an object
    pending: Any = value
    while True:
        if isinstance(pending, dict):
            parts.append("{")
            stack.append((iter(pending.items()), "}", True))
        elif isinstance(pending, list | tuple):
            parts.append("[")
            stack.append((iter(pending), "]", False))
        else:
            # a scalar (or a value json refuses): the json module's own spelling and errors
            parts.append(json.dumps(pending, ensure_ascii=ensure_ascii, allow_nan=allow_nan))
        while stack:
            members, closing, is_object = stack[-1]
            item: Any = next(members, _END)
            if item is _END:
                stack.pop()
                parts.append(closing)
                continue
            if parts[-1] not in ("{", "["):
                parts.append(", ")
            if is_object:
                key, pending = item
                if not isinstance(key, str):
                    raise TypeError(f"keys must be str, not {type(key).__name__}")
                parts.append((encode_basestring_ascii if ensure_ascii else encode_basestring)(key) + ": ")
            else:
                pending = item
            break
        else:
            return "".join(parts)


_END = object()
