"""The registry of diagnostics: each ``@diagnostic(...)`` function is recorded here once, when its module is
imported, and everything that lists diagnostics selects from it (``health`` / ``doctor``, the CLI's subcommands,
the ``%okai`` magics, the widgets and the report's sections), like PgHero's ``database.rb`` assembling
``methods/*.rb``. Adding a diagnostic is its SQL file, its function and its test: no list to extend.

Order is the order of :data:`CONCERNS` (what a reader wants first: where am I, what runs now, ...), then the order
in which a concern's module defines its diagnostics. A concern not named there comes last.

Example:
    >>> from okai_insight.diagnostics import registry
    >>> entry = registry.get("duplicate_indexes")
    >>> entry.concern, entry.doctor
    ('indexes', True)
    >>> "duplicate_indexes" in registry.names(doctor=True)
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from okai_insight.errors import InvalidInput

#: The concerns in report order; within a concern, diagnostics keep their module's order.
CONCERNS = (
    "settings",
    "activity",
    "connections",
    "statements",
    "indexes",
    "maintenance",
    "replication",
    "citus",
    "space",
    "vectors",
    "embeddings",
)


@dataclass(frozen=True)
class Entry:
    """One registered diagnostic: the public function and what the presentation layer needs to select it.

    ``doctor``: part of ``doctor()`` / ``okai-insight doctor``. ``adapter_only``: doctor runs it only when given
    an adapter (pool statistics exist only for the caller's pool). ``shown_with``: other concerns whose panel or
    report section also shows it (the vector indexes appear with the indexes).

    Example:
        >>> Entry(len, "len", "demo", "Length").name
        'len'
    """

    function: Callable[..., Any]
    name: str
    concern: str
    title: str
    doctor: bool = True
    adapter_only: bool = False
    shown_with: tuple[str, ...] = ()

    def belongs_to(self, concern: str) -> bool:
        """Whether the entry is shown under ``concern`` (its own or one of ``shown_with``).

        Example:
            >>> Entry(len, "len", "a", "A", shown_with=("b",)).belongs_to("b")
            True
        """
        return concern == self.concern or concern in self.shown_with


_ENTRIES: dict[str, Entry] = {}


def record(entry: Entry) -> None:
    """Record a diagnostic (the ``@diagnostic`` decorator calls this). A name is one diagnostic: a second function
    under a name already taken is refused, since the CLI subcommand and the magic would silently pick one; the
    same function recorded again (a module reloaded) replaces its entry.

    Example:
        >>> record(Entry(len, "duplicate_indexes", "demo", "Clash"))
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: a diagnostic named 'duplicate_indexes' is already registered (okai_insight.diagnostics.indexes)
    """
    old = _ENTRIES.get(entry.name)
    if old is not None and _origin(old.function) != _origin(entry.function):
        raise InvalidInput(
            f"a diagnostic named {entry.name!r} is already registered ({getattr(old.function, '__module__', '?')})"
        )
    _ENTRIES[entry.name] = entry


def _origin(fn: Callable[..., Any]) -> tuple[str, str]:
    return getattr(fn, "__module__", "?"), getattr(fn, "__qualname__", repr(fn))


def discard(name: str) -> None:
    """Forget a diagnostic (for tests that register a throwaway one).

    Example:
        >>> discard("no_such_diagnostic")
    """
    _ENTRIES.pop(name, None)


def _rank(entry: Entry) -> int:
    return CONCERNS.index(entry.concern) if entry.concern in CONCERNS else len(CONCERNS)


def entries(
    *, concern: str | None = None, own: bool = False, doctor: bool | None = None, exclude: Iterable[str] = ()
) -> list[Entry]:
    """The registered diagnostics in report order, optionally only those shown under ``concern`` (``own``: only
    those of that concern itself, not those ``shown_with`` it), only those in (``doctor=True``) or out of
    (``False``) the doctor report, and none of the concerns in ``exclude``.

    Example:
        >>> [e.name for e in entries(concern="space")]
        ['database_size', 'table_sizes']
    """
    _load()
    skip = set(exclude)
    chosen = [
        e
        for e in _ENTRIES.values()
        if (concern is None or (e.concern == concern if own else e.belongs_to(concern)))
        and (doctor is None or e.doctor == doctor)
        and e.concern not in skip
    ]
    return sorted(chosen, key=_rank)  # stable: module order within a concern


def functions(*, concern: str | None = None, doctor: bool | None = None) -> list[Callable[..., Any]]:
    """The public functions of :func:`entries`.

    Example:
        >>> [f.__name__ for f in functions(concern="replication")]
        ['replication_status', 'replication_slots']
    """
    return [e.function for e in entries(concern=concern, doctor=doctor)]


def names(*, concern: str | None = None, doctor: bool | None = None) -> list[str]:
    """The names of :func:`entries`.

    Example:
        >>> names(doctor=True)[0]
        'server_features'
    """
    return [e.name for e in entries(concern=concern, doctor=doctor)]


def get(name: str) -> Entry:
    """The entry of one diagnostic by name (a clear error listing the known names otherwise).

    Example:
        >>> get("table_sizes").title
        'Table sizes'
    """
    _load()
    try:
        return _ENTRIES[name]
    except KeyError:
        raise InvalidInput(f"no diagnostic named {name!r} (known: {', '.join(names())})") from None


def _load() -> None:
    # The package imports every concern module, whose decorators fill the registry: reading the registry from
    # anywhere (a widget, the CLI) sees every diagnostic, whatever was imported first.
    import okai_insight.diagnostics
    import okai_insight.embeddings
    import okai_insight.tuning  # noqa: F401
