"""Thin adapters to the insight library for the parts the report and widgets call by name.

Some library functions arrive in later versions (the embedding explorer and tuners, EXPLAIN analysis). The
presentation layer asks for them here: :func:`library_function` returns the function, or raises
:class:`~okai_insight.errors.FeatureNotAvailable` saying it is not available yet, so one section of a report or
one tab of the dashboard says so and the rest still works.

Example:
    >>> library_function("embeddings", "embedding_quality").__name__
    'embedding_quality'
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from okai_insight.errors import FeatureNotAvailable

#: Modules (under the package) that may hold a function before the package exports it.
MODULES = {
    "explore": ("explorer", "explore"),
    "tune_threshold": ("threshold",),
    "tune_recall": ("recall",),
    "explain": ("explain",),
    "compare_plans": ("explain",),
}


def library_function(package: str, name: str) -> Callable[..., Any]:
    """``okai_insight.<package>.<name>``, looked up in the package and then in a module of that name.

    Raises :class:`FeatureNotAvailable` (with a one-line reason) when this version does not have it yet.

    Example:
        >>> library_function("embeddings", "no_such_thing")
        Traceback (most recent call last):
        ...
        okai_insight.errors.FeatureNotAvailable: okai_insight.embeddings.no_such_thing is not available yet in this version of okai-insight
    """
    candidates = [f"okai_insight.{package}", *(f"okai_insight.{package}.{m}" for m in MODULES.get(name, (name,)))]
    for module_name in candidates:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue
            raise
        fn = getattr(module, name, None)
        if callable(fn):
            return fn  # type: ignore[no-any-return]
    raise FeatureNotAvailable(f"okai_insight.{package}.{name} is not available yet in this version of okai-insight")


def has_function(package: str, name: str) -> bool:
    """Whether :func:`library_function` would find it.

    Example:
        >>> has_function("embeddings", "embedding_quality")
        True
    """
    try:
        library_function(package, name)
    except FeatureNotAvailable:
        return False
    return True


def table_rows(result: Any, *names: str) -> list[dict[str, Any]]:
    """The first side table of ``result`` found under one of ``names`` (``result.tables[name]`` or an attribute
    holding rows or a DataFrame), as a list of dicts; ``[]`` when none.

    Example:
        >>> class R: tables = {"curve": [{"threshold": 0.5}]}
        >>> table_rows(R(), "points", "curve")
        [{'threshold': 0.5}]
    """
    tables = getattr(result, "tables", None) or {}
    for name in names:
        value = tables.get(name) if isinstance(tables, dict) else None
        if value is None:
            value = getattr(result, name, None)
        if value is None:
            continue
        if hasattr(value, "to_dict"):
            return list(value.to_dict("records"))
        if isinstance(value, list):
            return [dict(v) for v in value]
    return []


def call_quietly(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a library function with its own progress bar off (``progress=False``) when it has one: reports and
    widgets show progress their own way.

    Example:
        >>> def f(x, progress=True):
        ...     return progress
        >>> call_quietly(f, 1)
        False
    """
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    if "progress" in params and "progress" not in kwargs:
        kwargs["progress"] = False
    return fn(*args, **kwargs)
