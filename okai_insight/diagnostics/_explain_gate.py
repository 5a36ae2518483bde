"""What kind of statement is this? The safety gate in front of EXPLAIN, read by PostgreSQL's own parser.

The text is parsed with libpg_query (``pglast``), the server's grammar and lexer compiled as a library, so every
quoting form PostgreSQL has (``E''`` strings with ``\\'``, dollar quotes and ``$`` inside identifiers, ``U&""``
identifiers, ``U&''`` strings with ``UESCAPE``, nested ``/* */`` comments) is read exactly as the server reads
it; a hand lexer got ``E'\\''`` and ``_$a$`` wrong and let ``; COMMIT; DELETE ...`` through. The gate then
checks, on the tree: exactly one statement, of a kind EXPLAIN takes, whether it writes anywhere (a data-modifying
``WITH``, ``SELECT INTO``; ``FOR UPDATE`` locks, it does not write), whether it holds ``$1`` parameters, and
which functions and operators it calls (for :mod:`._side_effects`).

This is the first of three walls: the runner sends the statement over the extended protocol, where the server
itself refuses a second statement, and runs it READ ONLY (unless the caller opted in to writes) and rolled back.

Example:
    >>> s = classify("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x")
    >>> s.keyword, s.writes
    ('WITH', True)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pglast import parser as pg_parser

from okai_insight.errors import InvalidInput, StatementRefused

#: Statements EXPLAIN accepts that only read, by their first keyword.
READING = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
#: Statements EXPLAIN accepts that write, by their first keyword.
WRITING = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
#: Parse-tree nodes of the statements EXPLAIN accepts (``VALUES`` and ``TABLE t`` parse as SelectStmt).
_ALLOWED_NODES = frozenset({"SelectStmt", "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})
#: Nodes that write wherever they appear (top level, or a data-modifying CTE).
_WRITE_NODES = frozenset({"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt"})


@dataclass(frozen=True)
class Statement:
    """A classified statement: its text without a trailing ``;``, first keyword, and what it does.

    ``functions`` are the names of every function called anywhere in the text (lower case, without schema),
    ``operators`` every operator's name; both feed the side-effect check before EXPLAIN ANALYZE.

    Example:
        >>> classify("select 1;").text
        'select 1'
        >>> classify("SELECT pg_catalog.now(), 1 + 2").functions
        frozenset({'now'})
    """

    text: str
    keyword: str
    writes: bool
    dollar_params: bool
    functions: frozenset[str] = field(default=frozenset())
    operators: frozenset[str] = field(default=frozenset())


def classify(query: str, params: Mapping[str, Any] | Sequence[Any] | None = None) -> Statement:
    """Classify one statement; more than one statement is a :class:`StatementRefused` saying how many, none or
    text that is not SQL an :class:`InvalidInput`.

    With ``params`` the text holds psycopg placeholders (``%s``, ``%(name)s``, ``%%``): it is parsed as psycopg
    will send it (placeholders as ``$1``...), so what is checked is what the server receives.

    Example:
        >>> classify("UPDATE t SET x = 1").writes
        True
        >>> classify("SELECT E'\\\\''; COMMIT; DELETE FROM memories; --'")
        Traceback (most recent call last):
        ...
        okai_insight.errors.StatementRefused: EXPLAIN takes one statement at a time; this text holds 3 (split it at ';')
    """
    if not isinstance(query, str):
        raise InvalidInput(f"the query must be SQL text, got {type(query).__name__}")
    if "\x00" in query:
        raise InvalidInput("the query holds a NUL character, which PostgreSQL does not accept in SQL text")
    parsed = _as_sent(query, params)
    try:
        tree = json.loads(pg_parser.parse_sql_json(parsed))
    except pg_parser.ParseError as exc:
        raise InvalidInput(f"the statement is not valid SQL: {exc}") from exc
    stmts = tree.get("stmts") or []
    if not stmts:
        raise InvalidInput("the query is empty")
    if len(stmts) > 1:
        raise StatementRefused(f"EXPLAIN takes one statement at a time; this text holds {len(stmts)} (split it at ';')")
    ((node_type, _),) = stmts[0]["stmt"].items()
    keyword = _first_keyword(parsed)
    if node_type == "ExplainStmt":
        raise StatementRefused("give the statement without EXPLAIN: explain() adds EXPLAIN and its options itself")
    if node_type not in _ALLOWED_NODES:
        raise StatementRefused(
            f"EXPLAIN analysis takes SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE, not {keyword or '?'}"
        )
    writes = node_type in _WRITE_NODES
    functions: set[str] = set()
    operators: set[str] = set()
    dollar_params = False
    for name, node in _walk(stmts[0]["stmt"]):
        if name in _WRITE_NODES or (name == "SelectStmt" and node.get("intoClause")):  # SELECT INTO creates a table
            writes = True
        elif name == "FuncCall":
            functions.add(_last_name(node.get("funcname")))
        elif name == "A_Expr":
            operators.add(_last_name(node.get("name")))
        elif name == "SubLink" and node.get("operName"):
            operators.add(_last_name(node["operName"]))
        elif name == "SortBy" and node.get("useOp"):
            operators.add(_last_name(node["useOp"]))
        elif name == "ParamRef":
            dollar_params = True
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    if params is not None:  # the $n came from psycopg's placeholders, not from the user's text
        dollar_params = "$" in query and _has_dollar_params(query)
    return Statement(text, keyword, writes, dollar_params, frozenset(functions - {""}), frozenset(operators - {""}))


def bind_dollar_params(query: str, values: Sequence[str]) -> tuple[str, list[str]]:
    """Turn a statement's ``$1``-style parameters into psycopg placeholders bound to ``values`` (``$1`` is
    ``values[0]``): the text with ``%s`` where each ``$n`` stood and every other ``%`` doubled, and the values in
    the order the placeholders appear. The ``$n`` are found by PostgreSQL's own scanner, so a ``$1`` inside a
    string literal, a dollar quote or an identifier is left alone. The values travel as bound parameters (typed
    by the server from their context), never as SQL text.

    Example:
        >>> bind_dollar_params("SELECT $2 || '%' || $1 || '$1'", ["a", "b"])
        ("SELECT %s || '%%' || %s || '$1'", ['b', 'a'])
        >>> bind_dollar_params("SELECT $2", ["a"])
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: the statement uses $2 but 1 value was given (--param once for each of $1..$2)
    """
    try:
        tokens = [t for t in pg_parser.scan(query) if t.name == "PARAM"]
    except pg_parser.ParseError as exc:
        raise InvalidInput(f"the statement is not valid SQL: {exc}") from exc
    numbers = [int(query[t.start + 1 : t.end + 1]) for t in tokens]  # pglast gives inclusive character offsets
    highest = max(numbers, default=0)
    if highest != len(values):
        given = f"{len(values)} value{' was' if len(values) == 1 else 's were'} given"
        if highest > len(values):
            raise InvalidInput(f"the statement uses ${highest} but {given} (--param once for each of $1..${highest})")
        uses = f"uses $1..${highest}" if highest else "has no $n parameters"
        raise InvalidInput(f"the statement {uses} but {given}")
    pieces: list[str] = []
    done = 0
    for token in tokens:
        pieces.append(query[done : token.start].replace("%", "%%"))
        pieces.append("%s")
        done = token.end + 1
    pieces.append(query[done:].replace("%", "%%"))
    return "".join(pieces), [values[n - 1] for n in numbers]


def _as_sent(query: str, params: Mapping[str, Any] | Sequence[Any] | None) -> str:
    """The text as psycopg sends it: with params, placeholders become ``$n`` and ``%%`` becomes ``%``."""
    if params is None:
        return query
    from psycopg import ProgrammingError
    from psycopg._queries import PostgresQuery  # the conversion psycopg itself applies before sending
    from psycopg.adapt import Transformer

    pgq = PostgresQuery(Transformer())
    try:
        pgq.convert(query, params)
    except (ProgrammingError, TypeError, KeyError) as exc:
        raise InvalidInput(f"the query's placeholders do not match its params: {exc}") from exc
    return pgq.query.decode("utf-8")


def _has_dollar_params(query: str) -> bool:
    # parsed without psycopg's conversion: a text with %s placeholders is not SQL, so look for $n tokens
    try:
        return any(t.name == "PARAM" for t in pg_parser.scan(query))
    except pg_parser.ParseError:
        return False


def _first_keyword(query: str) -> str:
    """The statement's first word, skipping opening parentheses (``(SELECT 1)`` -> ``SELECT``)."""
    try:
        tokens = pg_parser.scan(query)
    except pg_parser.ParseError:
        return ""
    for token in tokens:
        if token.name == "ASCII_40":  # "("
            continue
        if token.kind != "NO_KEYWORD":
            return str(token.name).upper()
        return query[token.start : token.end + 1].upper()  # pglast gives character offsets
    return ""


def _last_name(names: Any) -> str:
    """``[{"String": {"sval": "pg_catalog"}}, {"String": {"sval": "f"}}]`` -> ``"f"`` (lower case)."""
    for item in reversed(names or []):
        if isinstance(item, dict) and "String" in item:
            return str(item["String"].get("sval", "")).lower()
    return ""


def _walk(node: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every ``(node type, fields)`` in a libpg_query JSON tree, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, dict) and key[:1].isupper():
                    yield key, value
                if isinstance(value, dict | list):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
