"""Can a vector index serve this statement? A small SQL-text analyser for pgvector searches.

pgvector uses an HNSW / IVFFlat index only for ``ORDER BY column <op> query LIMIT k`` (ascending), where ``<op>``
is the operator of the index's operator class. This module reads a statement's text (as pg_stat_statements or
pg_stat_activity hold it) and reports, for one index, what keeps it from being used: another operator, the
distance only in WHERE / the select list, ``ORDER BY similarity DESC``, no LIMIT, or a LIMIT above
``hnsw.ef_search``. It is a heuristic over text (no SQL parser): it errs towards saying nothing.

Example:
    >>> q = 'SELECT *, 1 - (embedding <-> $1) AS similarity FROM memories WHERE type = $2 ORDER BY embedding <-> $1 LIMIT $3'
    >>> [p.code for p in analyse(q, VectorIndex("memories", "embedding", "idx", "hnsw", "vector_cosine_ops", "<=>"))]
    ['operator_mismatch']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: pgvector's distance operators and what they compute.
OPERATORS = {
    "<->": "L2 distance",
    "<=>": "cosine distance",
    "<#>": "negative inner product",
    "<+>": "L1 distance",
    "<~>": "Hamming distance",
    "<%>": "Jaccard distance",
}
#: The operator class to build for an operator (vector columns; halfvec / bit use their own prefixes).
OPCLASS_FOR = {
    "<->": "l2_ops",
    "<=>": "cosine_ops",
    "<#>": "ip_ops",
    "<+>": "l1_ops",
    "<~>": "hamming_ops",
    "<%>": "jaccard_ops",
}
_OP_RE = re.compile("|".join(re.escape(op) for op in OPERATORS))
_STOP = re.compile(r"\b(LIMIT|OFFSET|FETCH|UNION|INTERSECT|EXCEPT|FOR)\b|;", re.IGNORECASE)
_ALIAS = re.compile(r'\bAS\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
_LIMIT = re.compile(r"^\s*LIMIT\s+(\d+|\$\d+|%\(\w+\)s|\?|ALL)", re.IGNORECASE)


@dataclass(frozen=True)
class VectorIndex:
    """What the analyser needs to know about one vector index.

    Example:
        >>> VectorIndex("memories", "embedding", "idx", "hnsw", "vector_cosine_ops", "<=>").operator
        '<=>'
    """

    table: str
    column: str
    index: str
    method: str
    opclass: str
    operator: str | None


@dataclass(frozen=True)
class Problem:
    """One reason the index cannot serve the statement, with a corrected statement when one can be derived.

    Example:
        >>> Problem("missing_limit", "no LIMIT").code
        'missing_limit'
    """

    code: str
    message: str
    corrected: str | None = None


def mentions(query: str, name: str) -> bool:
    """Whether the statement names this table or column (as a word, quoted or not).

    Example:
        >>> mentions('SELECT 1 FROM "memories" AS m', "memories"), mentions("SELECT memories_x", "memories")
        (True, False)
    """
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", query, re.IGNORECASE) is not None


def operators_used(query: str) -> list[str]:
    """pgvector distance operators in the statement, in order of first use.

    Example:
        >>> operators_used("SELECT a <-> b, a <=> b, a <-> c")
        ['<->', '<=>']
    """
    seen: list[str] = []
    for m in _OP_RE.finditer(query):
        if m.group(0) not in seen:
            seen.append(m.group(0))
    return seen


@dataclass(frozen=True)
class OrderBy:
    """One ORDER BY clause: its first sort item, whether it sorts descending, and the LIMIT right after it."""

    first_item: str
    descending: bool
    limit: str | None


def order_by_clauses(query: str) -> list[OrderBy]:
    """Every ORDER BY clause of the statement (subqueries included), with the LIMIT that follows it.

    Example:
        >>> [(o.first_item, o.descending, o.limit) for o in order_by_clauses("SELECT * FROM (SELECT x FROM t "
        ...     "ORDER BY d LIMIT 5) s ORDER BY sim DESC, id")]
        [('d', False, '5'), ('sim', True, None)]
    """
    out: list[OrderBy] = []
    for m in re.finditer(r"\bORDER\s+BY\b", query, re.IGNORECASE):
        i, depth, start = m.end(), 0, m.end()
        end = len(query)
        while i < len(query):
            ch = query[i]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    end = i
                    break
                depth -= 1
            elif depth == 0:
                stop = _STOP.match(query, i)
                if stop and (i == 0 or not (query[i - 1].isalnum() or query[i - 1] == "_")):
                    end = i
                    break
            i += 1
        clause = query[start:end]
        first = _split_top(clause)[0].strip()
        descending = re.search(r"\bDESC\b", first, re.IGNORECASE) is not None
        first = re.sub(r"\s+(ASC|DESC)\b.*$", "", first, flags=re.IGNORECASE | re.DOTALL).strip()
        lim = _LIMIT.match(query[end:])
        out.append(OrderBy(first, descending, lim.group(1) if lim else None))
    return out


def distance_aliases(query: str) -> dict[str, bool]:
    """Select-list aliases of expressions using a distance operator -> whether the alias is a *similarity*
    (``1 - distance``, a negation) rather than a distance.

    Example:
        >>> distance_aliases("SELECT *, 1 - (e <=> $1) AS similarity, e <=> $1 AS distance FROM t")
        {'similarity': True, 'distance': False}
    """
    out: dict[str, bool] = {}
    for m in _ALIAS.finditer(query):
        expr = _expression_before(query, m.start())
        if _OP_RE.search(expr):
            compact = re.sub(r"\s+", "", expr)
            out[m.group(1).lower()] = bool(re.match(r"^\(?(1(\.0*)?-|-)", compact)) or "*-1" in compact
    return out


def analyse(query: str, index: VectorIndex, *, ef_search: int = 40, iterative_scan: bool = False) -> list[Problem]:
    """Why ``index`` cannot serve ``query`` (an empty list when it can, or when the query does not concern it).

    Example:
        >>> idx = VectorIndex("memories", "embedding", "idx", "hnsw", "vector_cosine_ops", "<=>")
        >>> [p.code for p in analyse("SELECT * FROM memories ORDER BY embedding <=> $1", idx)]
        ['missing_limit']
    """
    text = " ".join(query.split())
    used = operators_used(text)
    if not used or index.operator is None:
        return []
    if not (mentions(text, index.table) and mentions(text, index.column)):
        return []
    if index.operator not in used:
        corrected = text
        for op in used:
            corrected = corrected.replace(op, index.operator)
        wrong = ", ".join(f"{op} ({OPERATORS[op]})" for op in used)
        message = (
            f"uses {wrong} but index {index.index} ({index.opclass}) serves only {index.operator} "
            f"({OPERATORS.get(index.operator, '?')}): every such search reads the whole table"
        )
        # The right operator alone is not enough when the statement's shape keeps the index out too (a distance
        # threshold without ORDER BY distance LIMIT k): offer the whole correction, or none.
        rest = analyse(corrected, index, ef_search=ef_search, iterative_scan=iterative_scan)
        if rest:
            message += f"; with {index.operator} it still {rest[0].message}"
        return [Problem("operator_mismatch", message, rest[0].corrected if rest else corrected)]
    aliases = distance_aliases(text)
    clauses = order_by_clauses(text)

    def refers(item: str) -> tuple[bool, bool]:
        """(refers to the distance, is a similarity)"""
        if index.operator and index.operator in item:
            compact = re.sub(r"\s+", "", item)
            return True, bool(re.match(r"^\(?(1(\.0*)?-|-)", compact))
        for alias, similarity in aliases.items():
            # the alias alone or qualified by its subquery's name: ORDER BY s.distance
            if re.fullmatch(rf'(?:"?\w+"?\s*\.\s*)?"?{re.escape(alias)}"?', item.strip(), re.IGNORECASE):
                return True, similarity
        return False, False

    serving: list[OrderBy] = []
    backwards: list[OrderBy] = []
    for c in clauses:
        is_distance, similarity = refers(c.first_item)
        if is_distance:
            (backwards if c.descending or similarity else serving).append(c)
    bounded = [c for c in serving if c.limit is not None]
    problems: list[Problem] = []
    if bounded:  # one level sorts ascending by distance with a LIMIT: the index can serve it (outer re-sorts are fine)
        for c in bounded:
            if (
                c.limit
                and c.limit.isdigit()
                and index.method == "hnsw"
                and not iterative_scan
                and int(c.limit) > ef_search
            ):
                problems.append(
                    Problem(
                        "limit_above_ef_search",
                        f"asks for LIMIT {c.limit} but hnsw.ef_search is {ef_search}: an HNSW scan returns at most "
                        f"{ef_search} rows; SET hnsw.ef_search = {c.limit} (or hnsw.iterative_scan = relaxed_order)",
                        f"SET hnsw.ef_search = {int(c.limit)}; {text}",
                    )
                )
        return problems
    for c in backwards:
        expr = f"{index.column} {index.operator} <query vector>"
        problems.append(
            Problem(
                "order_by_similarity",
                f"sorts by {c.first_item}{' DESC' if c.descending else ''}: the index only serves an ascending "
                f"distance; ORDER BY {expr} gives the same order and uses it",
                _replace_order(text, c, f"{index.column} {index.operator} $1"),
            )
        )
    if serving:
        problems.append(
            Problem(
                "missing_limit",
                "sorts by distance without LIMIT: the index serves only ORDER BY distance LIMIT k (an unbounded sort "
                "reads every row)",
                None,
            )
        )
    elif not backwards:
        problems.append(
            Problem(
                "distance_not_in_order_by",
                f"uses {index.operator} only in WHERE or the select list: it needs ORDER BY {index.column} "
                f"{index.operator} <query vector> LIMIT k to use the index; a distance threshold alone cannot",
            )
        )
    return problems


def _replace_order(text: str, clause: OrderBy, expr: str) -> str:
    pattern = re.compile(rf"ORDER\s+BY\s+{re.escape(clause.first_item)}(\s+(ASC|DESC))?", re.IGNORECASE)
    return pattern.sub(f"ORDER BY {expr}", text, count=1)


def _split_top(clause: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in clause:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _expression_before(query: str, pos: int) -> str:
    """The select-list expression that ends at ``pos`` (back to a comma at its depth, or SELECT)."""
    depth = 0
    i = pos - 1
    while i >= 0:
        ch = query[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif ch == "," and depth == 0:
            break
        elif depth == 0 and re.match(r"(?i)select\b", query[i : i + 7]) and (i == 0 or not query[i - 1].isalnum()):
            i += 6
            break
        i -= 1
    return query[i + 1 : pos]
