"""Repository-wide pytest configuration: docstring examples run as tests (``--doctest-modules``).

Most examples need a live database or a notebook and are marked ``# doctest: +SKIP`` in their docstrings:
they document, they are not tests. A docstring whose every example is marked so is deselected rather than
reported as a skipped test; every other example runs, and a wrong one fails the suite.
"""

from __future__ import annotations

import doctest

import pytest
from _pytest.doctest import DoctestItem


def _documentation_only(item: pytest.Item) -> bool:
    if not isinstance(item, DoctestItem) or item.dtest is None:
        return False
    examples = item.dtest.examples
    return bool(examples) and all(e.options.get(doctest.SKIP, False) for e in examples)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect docstrings whose examples are all ``+SKIP``."""
    dropped = [item for item in items if _documentation_only(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not _documentation_only(item)]
