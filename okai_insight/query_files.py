"""The one loader of the SQL library: ``queries/<concern>/<name>.sql`` (public: diagnostics, embedding checks,
ops and notebooks all read the same files through it).

In an installed wheel the files live at ``okai_insight/queries/`` (hatch force-include); in a source checkout
they are at the repository's ``queries/``. Both are searched, the package first.

Example:
    >>> from okai_insight.query_files import load_sql
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
    package = Path(__file__).resolve().parent
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


_DEFAULT = re.compile(r"(\{?[a-z_][a-z0-9_]*\}?)\s*=\s*(.+?)(?=,\s*\{?[a-z_][a-z0-9_]*\}?\s*=|$)")


def defaults(concern: str, name: str) -> dict[str, str]:
    """The parameter defaults a query's header documents (``-- Defaults: limit = 20, order_by = 'total'``), as
    SQL text; ``{placeholder}`` keys name identifiers.

    Example:
        >>> defaults("statements", "query_stats")
        {'order_by': "'total'", 'limit': '20'}
    """
    for line in load_sql(concern, name).splitlines():
        if line.startswith("-- Defaults:"):
            return {m.group(1): m.group(2).strip() for m in _DEFAULT.finditer(line.split(":", 1)[1].strip())}
        if not line.startswith("--"):
            break
    return {}


def jupysql_text(concern: str, name: str, **values: object) -> str:
    """The query as plain SQL for jupysql (or psql): ``%(name)s`` replaced by the header's default or the value
    given (quoted as a SQL literal), ``{placeholder}`` by an identifier, ``%%`` by ``%``.

    jupysql does not bind psycopg's ``%(name)s`` parameters, so a file with parameters runs under ``%sql`` in this
    form (``%okai sql <concern>/<name> key=value`` shows it); files without parameters run as they are with
    ``%sql --file``.

    Example:
        >>> "LIMIT 5" in jupysql_text("space", "table_sizes", limit=5)
        True
    """
    from psycopg import sql

    text = load_sql(concern, name)
    documented = defaults(concern, name)
    unknown = set(values) - {k.strip("{}") for k in documented}
    if unknown:
        raise InvalidInput(f"{concern}/{name} takes no parameter(s) {', '.join(sorted(unknown))}")
    for key, default in documented.items():
        bare = key.strip("{}")
        if key.startswith("{"):
            value = values.get(bare, default)
            ident = sql.Identifier(*str(value).split(".")).as_string(None)
            text = text.replace(key, ident)
        else:
            literal = sql.Literal(values[bare]).as_string(None) if bare in values else default
            text = text.replace(f"%({bare})s", literal)
    if re.search(r"%\([a-z_]+\)s", text):
        raise InvalidInput(f"{concern}/{name} has a parameter its header gives no default for")
    return text.replace("%%", "%")
