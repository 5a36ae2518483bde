"""The one loader of the SQL library: ``queries/<concern>/<name>.sql``.

In an installed wheel the files live at ``okai_insight/queries/`` (hatch force-include); in a source checkout
they are at the repository's ``queries/``. Both are searched, the package first.

Example:
    >>> from okai_insight.diagnostics._sql import load_sql
    >>> "SELECT" in load_sql("indexes", "invalid_indexes")
    True
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from okai_insight.errors import InvalidInput

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def queries_dir() -> Path:
    """The directory holding the SQL library (packaged copy first, then the source checkout's).

    Example:
        >>> queries_dir().name
        'queries'
    """
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "queries", package.parent / "queries"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"okai-insight's queries/ directory is missing (looked in {package} and its parent)")


@functools.cache
def load_sql(concern: str, name: str) -> str:
    """The text of ``queries/<concern>/<name>.sql``.

    Example:
        >>> load_sql("activity", "running_queries").lstrip().startswith("--")
        True
    """
    if not (_NAME.match(concern) and _NAME.match(name)):
        raise InvalidInput(f"not a query name: {concern!r}/{name!r} (lowercase snake_case expected)")
    path = queries_dir() / concern / f"{name}.sql"
    if not path.is_file():
        raise InvalidInput(f"no query {concern}/{name} in {queries_dir()}")
    return path.read_text(encoding="utf-8")


def all_queries() -> list[tuple[str, str]]:
    """Every ``(concern, name)`` in the SQL library, sorted.

    Example:
        >>> ("indexes", "unused_indexes") in all_queries()
        True
    """
    root = queries_dir()
    return sorted((p.parent.name, p.stem) for p in root.glob("*/*.sql"))
