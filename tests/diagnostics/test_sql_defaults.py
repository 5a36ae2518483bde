"""Each default is stated once, in the diagnostic's Python signature: the SQL header's ``-- Defaults:`` line (what
``%okai sql`` and ``jupysql_text`` fill in) must say the same, and the ``-- Parameters:`` line does not repeat it."""

from __future__ import annotations

import inspect
import re
from decimal import Decimal

import pytest

from okai_insight.diagnostics import registry
from okai_insight.query_files import all_queries, defaults, load_sql

FILES = set(all_queries())
#: (concern, name) of every registered diagnostic that has a query file of its own name. The embedding checks'
#: files are templates the module composes, with no defaults to state, and so are the Citus checks' (they run only
#: where the citus extension exists, so no default makes them runnable by hand elsewhere: queries/README.md).
WITH_FILES = [
    (e.concern, e.name) for e in registry.entries(exclude=("embeddings", "citus")) if (e.concern, e.name) in FILES
]


def _header(concern: str, name: str) -> list[str]:
    lines = []
    for line in load_sql(concern, name).splitlines():
        if not line.startswith("--"):
            break
        lines.append(line)
    return lines


def _same(python: object, literal: str) -> bool:
    """Whether a Python default and a SQL literal of the header denote the same value."""
    if isinstance(python, bool) or python is None:
        return literal.upper() == str(python).upper().replace("NONE", "NULL")
    if isinstance(python, int | float):
        return re.fullmatch(r"-?\d+(\.\d+)?", literal) is not None and Decimal(literal) == Decimal(str(python))
    if isinstance(python, str):
        return literal == "'" + python.replace("'", "''") + "'"
    return False


def test_every_diagnostic_with_parameters_is_checked() -> None:
    with_defaults = [(c, n) for c, n in WITH_FILES if defaults(c, n)]
    assert ("indexes", "unused_indexes") in with_defaults and ("statements", "query_stats") in with_defaults
    assert len(with_defaults) >= 7


@pytest.mark.parametrize(("concern", "name"), WITH_FILES, ids=[f"{c}/{n}" for c, n in WITH_FILES])
def test_the_sql_header_agrees_with_the_signature(concern: str, name: str) -> None:
    signature = inspect.signature(registry.get(name).function).parameters
    documented = {k: v for k, v in defaults(concern, name).items() if not k.startswith("{")}
    text = load_sql(concern, name)
    for parameter in re.findall(r"%\((\w+)\)s", text):
        if parameter in signature:
            assert parameter in documented, f"{concern}/{name}: no -- Defaults: entry for {parameter}"
    for key, literal in documented.items():
        assert key in signature, f"{concern}/{name}: -- Defaults: names {key}, which {name}() does not take"
        python = signature[key].default
        assert _same(python, literal), f"{concern}/{name}: header says {key} = {literal}, {name}() says {python!r}"
    for line in _header(concern, name):
        if line.startswith("-- Parameters:"):
            repeated = re.search(r"\bdefault\s+[-\d'A-Z]", line, re.IGNORECASE)
            assert repeated is None, f"{concern}/{name}: the Parameters line repeats a default: {line}"
