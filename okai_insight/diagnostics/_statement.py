"""What kind of statement is this? The safety gate in front of EXPLAIN.

A small lexer (comments, string literals, quoted identifiers and dollar quotes skipped) finds the statement's
first keyword, whether there is more than one statement, whether it holds ``$1``-style parameters, and whether it
writes (``INSERT`` / ``UPDATE`` / ``DELETE`` / ``MERGE``, also inside a ``WITH``). The READ ONLY transaction
EXPLAIN runs in stays the backstop for what text cannot show (a function that writes).

Example:
    >>> s = classify("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x")
    >>> s.keyword, s.writes
    ('WITH', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from okai_insight.errors import InvalidInput

#: Statements EXPLAIN accepts that only read.
READING = frozenset({"SELECT", "WITH", "VALUES", "TABLE"})
#: Statements EXPLAIN accepts that write.
WRITING = frozenset({"INSERT", "UPDATE", "DELETE", "MERGE"})
_WRITE_WORD = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_DOLLAR_PARAM = re.compile(r"\$\d+")
_DOLLAR_QUOTE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Statement:
    """A classified statement: its text without a trailing ``;``, first keyword, and what it does.

    Example:
        >>> classify("select 1;").text
        'select 1'
    """

    text: str
    keyword: str
    writes: bool
    dollar_params: bool


def code_only(query: str) -> str:
    """The statement with comments removed and literals / quoted identifiers blanked (kept as ``''`` / ``""``).

    Example:
        >>> code_only("SELECT 'a;b', \\"x;y\\" /* z; */ FROM t -- c;").split()
        ['SELECT', "'',", '""', 'FROM', 't']
    """
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        two = query[i : i + 2]
        if two == "--":
            j = query.find("\n", i)
            i = n if j < 0 else j
        elif two == "/*":
            depth, j = 1, i + 2
            while j < n and depth:
                if query.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif query.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if depth:
                raise InvalidInput("the statement has an unterminated /* comment")
            out.append(" ")
            i = j
        elif ch in "'\"":
            j = i + 1
            while True:
                j = query.find(ch, j)
                if j < 0:
                    raise InvalidInput(f"the statement has an unterminated {ch} quote")
                if query.startswith(ch * 2, j):
                    j += 2
                    continue
                break
            out.append(ch * 2)
            i = j + 1
        elif ch == "$" and (m := _DOLLAR_QUOTE.match(query, i)) and not (i and (query[i - 1].isalnum())):
            tag = m.group(0)
            j = query.find(tag, m.end())
            if j < 0:
                raise InvalidInput(f"the statement has an unterminated {tag} quote")
            out.append("''")
            i = j + len(tag)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def classify(query: str) -> Statement:
    """Classify one statement; more than one statement, or none, is an :class:`InvalidInput`.

    Example:
        >>> classify("UPDATE t SET x = 1").writes
        True
        >>> classify("SELECT 1; SELECT 2")
        Traceback (most recent call last):
        ...
        okai_insight.errors.InvalidInput: EXPLAIN takes one statement at a time; this text holds 2 (split it at ';')
    """
    if not isinstance(query, str):
        raise InvalidInput(f"the query must be SQL text, got {type(query).__name__}")
    code = code_only(query)
    parts = [p for p in code.split(";") if p.strip()]
    if not parts:
        raise InvalidInput("the query is empty")
    if len(parts) > 1:
        raise InvalidInput(f"EXPLAIN takes one statement at a time; this text holds {len(parts)} (split it at ';')")
    text = query.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    word = re.match(r"\s*\(*\s*([A-Za-z]+)", code)
    keyword = word.group(1).upper() if word else ""
    if keyword == "EXPLAIN":
        raise InvalidInput("give the statement without EXPLAIN: explain() adds EXPLAIN and its options itself")
    if keyword not in READING | WRITING:
        raise InvalidInput(
            f"EXPLAIN analysis takes SELECT, WITH, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE, not {keyword or '?'}"
        )
    locking = re.sub(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", " ", code, flags=re.IGNORECASE)
    writes = keyword in WRITING or (keyword == "WITH" and _WRITE_WORD.search(locking) is not None)
    return Statement(text, keyword, writes, _DOLLAR_PARAM.search(code) is not None)
