"""Rows built by column NAME at the cost of a tuple: a psycopg row factory for the adapter's row builders.

psycopg's ``kwargs_row(func)`` matches columns to ``func``'s parameters by name, so a reordered or added column
cannot shift values into the wrong field; but it builds a dict and a keyword call per row, which cost ~2 µs a row
(~25 µs a top-10 search; bench/adapter.py). :func:`by_name` matches the names ONCE per result (per cursor
description) and then calls the builder positionally, so the hot search path keeps name safety at tuple speed.

Example:
    >>> def point(x, y, label=None):
    ...     return (x, y, label)
    >>> make = _maker(point, ["y", "x"])
    >>> make((2, 1))
    (1, 2, None)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from psycopg import ProgrammingError
from psycopg.rows import RowFactory

T = TypeVar("T")


def _maker(func: Callable[..., T], columns: Sequence[str]) -> Callable[[Sequence[Any]], T]:
    """A positional call of ``func`` with the values of ``columns`` put in its parameters' order. A column that
    is not a parameter, or a parameter without a default and no column, is an error; parameters without a
    column must come last (they keep their defaults).

    Example:
        >>> _maker(lambda a, b: a, ["b", "c"])
        Traceback (most recent call last):
        ...
        psycopg.ProgrammingError: column 'c' has no parameter in <lambda>
    """
    params = list(inspect.signature(func).parameters.values())
    names = [p.name for p in params]
    for column in columns:
        if column not in names:
            raise ProgrammingError(f"column {column!r} has no parameter in {func.__name__}")
    present = [n for n in names if n in columns]
    absent = params[len(present) :]
    if [p.name for p in params[: len(present)]] != present or any(p.default is p.empty for p in absent):
        raise ProgrammingError(f"{func.__name__} needs the columns {names}, got {list(columns)}")
    order = [list(columns).index(n) for n in present]
    if order == list(range(len(columns))):
        return lambda values: func(*values)
    return lambda values: func(*[values[i] for i in order])


def by_name(func: Callable[..., T]) -> RowFactory[T]:
    """A psycopg row factory calling ``func`` with each row's values matched to its parameters by column name;
    the match is made once per distinct column list and kept (inspecting a signature costs ~80 µs).

    Example:
        >>> factory = by_name(lambda id, name: (id, name))      # cursor.execute(..., row_factory=factory)
    """
    makers: dict[tuple[bytes | None, ...], Callable[[Sequence[Any]], T]] = {}

    def factory(cursor: Any) -> Callable[[Sequence[Any]], T]:
        # The names straight from the result: cursor.description builds a Column object per column (~50 µs for a
        # memory's ten), more than the rows themselves cost.
        result = cursor.pgresult
        if result is None or not result.nfields:  # no result (a command): psycopg never calls the row maker
            return lambda values: func(*values)
        # Keyed by the raw names, read in one C-level pass (a generator decoding each name cost ~5 µs a query).
        key = tuple(map(result.fname, range(result.nfields)))
        maker = makers.get(key)
        if maker is None:
            maker = makers[key] = _maker(func, [(name or b"").decode() for name in key])
        return maker

    return factory
