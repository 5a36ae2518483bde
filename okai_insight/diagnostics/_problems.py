"""One line per problem for doctor's summary: the findings of every check, with those that describe the same problem
on the same column merged (``vector_columns`` and ``embedding_quality`` both count zero vectors), one severity each
(the most severe of the checks that saw it), and the rows each problem affects, read from the checks' own rows.

Two checks seeing one problem is normal: ``vector_columns`` reads every vector column of the database,
``embedding_quality`` reads the agent memory table in more depth. Which findings are "the same problem" is decided
by the threshold each finding names (the one rule per problem in :data:`RULES`): a finding whose wording changes
upstream falls back to a problem of its own, never to a wrong merge.

Example:
    >>> from okai_insight.results import Finding, Result
    >>> a = Result("vectors", "vector_columns", "Vector columns", findings=[Finding("info", "6 NULL",
    ...     threshold="embedding IS NULL", subject="public.memories.embedding", check="vector_columns")])
    >>> b = Result("embeddings", "embedding_quality", "Embedding quality", findings=[Finding("warning", "6 NULL",
    ...     threshold="embedding IS NULL", subject="public.memories.embedding", check="embedding_quality")])
    >>> [(p.problem, p.severity, p.checks) for p in problems([a, b])]
    [('NULL vectors', 'warning', ('embedding_quality', 'vector_columns'))]
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from okai_insight.results import SEVERITIES, Finding, Result, Severity

_RANK = {s: i for i, s in enumerate(SEVERITIES)}
#: The checks whose findings about a vector column can describe the same problem.
VECTOR_CHECKS = ("embedding_quality", "vector_columns")


@dataclass(frozen=True)
class Problem:
    """One problem on one subject: its severity (one, whichever check saw it), how many rows it affects out of how
    many examined (``rows_examined`` is the sample when the check sampled), the checks that saw it and the findings
    that say so (``finding`` is the one to show: the most severe, and the most detailed on a tie).

    Example:
        >>> p = Problem("exact duplicates", "warning", "t.c", Finding("warning", "m"), 5, 10)
        >>> p.rows_text
        '5 of 10 (50 %)'
    """

    problem: str
    severity: Severity
    subject: str | None
    finding: Finding
    rows_affected: int | None = None
    rows_examined: int | None = None
    examined_what: str = ""
    checks: tuple[str, ...] = ()
    evidence: tuple[Finding, ...] = ()

    @property
    def rows_text(self) -> str:
        """``N of M (p %)``, ``N`` or empty, for tables.

        Example:
            >>> Problem("x", "info", None, Finding("info", "m"), 3, 200, "probed").rows_text
            '3 of 200 probed (2 %)'
        """
        if self.rows_affected is None:
            return ""
        if not self.rows_examined:
            return str(self.rows_affected)
        what = f" {self.examined_what}" if self.examined_what else ""
        share = 100.0 * self.rows_affected / self.rows_examined
        return f"{self.rows_affected} of {self.rows_examined}{what} ({share:.0f} %)"

    def to_row(self) -> dict[str, Any]:
        """A flat row for tables and data frames.

        Example:
            >>> Problem("x", "info", "s", Finding("info", "m", check="c"), checks=("c",)).to_row()["check"]
            'c'
        """
        f = self.finding
        return {
            "severity": self.severity,
            "problem": self.problem,
            "subject": self.subject,
            "rows_affected": self.rows_affected,
            "rows_examined": self.rows_examined,
            "check": ", ".join(self.checks) or f.check,
            "message": f.message,
            "threshold": f.threshold,
            "source": f.source,
            "fix_sql": f.fix_sql,
        }


#: A rule: which findings are one problem (by the check and the threshold it names), and how many rows it affects,
#: read from the check's result (``None``: not counted). Order matters: the first rule that matches wins.
@dataclass(frozen=True)
class Rule:
    problem: str
    matches: Callable[[Finding], bool]
    rows: Callable[[Result, Finding], tuple[int | None, int | None, str]]


def _threshold(pattern: str) -> Callable[[Finding], bool]:
    rx = re.compile(pattern)
    return lambda f: f.check in VECTOR_CHECKS and bool(rx.search(f.threshold or ""))


def _quality_only(pattern: str, *, message: str | None = None) -> Callable[[Finding], bool]:
    rx = re.compile(pattern)
    return lambda f: (
        f.check == "embedding_quality"
        and bool(rx.search(f.threshold or ""))
        and (message is None or message in f.message)
    )


def _column_rows(result: Result, finding: Finding) -> list[dict[str, Any]]:
    """The result's rows about the finding's column (all of them for a one-column result)."""
    subject = finding.subject or ""
    if result.name == "vector_columns":
        return [r for r in result.rows if f"{r.get('schema')}.{r.get('table')}.{r.get('column')}" == subject]
    column = subject.rsplit(".", 1)[-1]
    own = [r for r in result.rows if r.get("column") == column]
    return own or result.rows


def _summary(result: Result, finding: Finding) -> dict[str, Any]:
    summary: dict[str, Any] = getattr(result, "summary", None) or {}
    column = (finding.subject or "").rsplit(".", 1)[-1]
    per_column: dict[str, Any] = (summary.get("columns") or {}).get(column) or {}
    return per_column or summary


def _count(key: str) -> Callable[[Result, Finding], tuple[int | None, int | None, str]]:
    def rows(result: Result, finding: Finding) -> tuple[int | None, int | None, str]:
        mine = _column_rows(result, finding)
        if not mine or key not in mine[0]:
            return None, None, ""
        return sum(int(r.get(key) or 0) for r in mine), sum(int(r.get("sampled_rows") or 0) for r in mine), ""

    return rows


def _other_dimensions(result: Result, finding: Finding) -> tuple[int | None, int | None, str]:
    dims: dict[int, int] = {}
    for r in _column_rows(result, finding):
        for d, n in (r.get("stored_dims") or {}).items():
            dims[int(d)] = dims.get(int(d), 0) + int(n)
    if not dims:
        return None, None, ""
    total = sum(dims.values())
    return total - max(dims.values()), total, ""


def _exact_duplicates(result: Result, finding: Finding) -> tuple[int | None, int | None, str]:
    s = _summary(result, finding)
    examined = sum(int(r.get("sampled_rows") or 0) for r in _column_rows(result, finding)) or None
    return s.get("exact_duplicate_rows"), examined, "sampled" if s.get("sampled") else ""


def _near_duplicates(result: Result, finding: Finding) -> tuple[int | None, int | None, str]:
    s = _summary(result, finding)
    return s.get("probes_with_near_duplicate"), s.get("probes"), "probed"


def _second_model(result: Result, finding: Finding) -> tuple[int | None, int | None, str]:
    tables: dict[str, list[dict[str, Any]]] = getattr(result, "tables", None) or {}
    mixed = tables.get("mixed_rows") or []
    population = {r["id"] for r in mixed if r.get("reason") in ("norm", "direction")}
    ids = population or {r["id"] for r in mixed if r.get("reason") == "same_text_far_vector"}
    examined = sum(int(r.get("sampled_rows") or 0) for r in _column_rows(result, finding)) or None
    return (len(ids) if ids else None), examined, ""


RULES: tuple[Rule, ...] = (
    Rule("dimension mix", _threshold(r"^count\(DISTINCT vector_dims"), _other_dimensions),
    Rule("NaN / infinite vectors", _threshold(r"^vector_norm = NaN"), _count("nan_vectors")),
    Rule("zero vectors", _threshold(r"^vector_norm\(.*\) = 0$"), _count("zero_vectors")),
    Rule("NULL vectors", _threshold(r" IS NULL$"), _count("null_vectors")),
    Rule("exact duplicates", _quality_only(r"^count\(\*\) > 1 GROUP BY md5"), _exact_duplicates),
    Rule("near duplicates", _quality_only(r"^cosine similarity >="), _near_duplicates),
    # Every sign of a second embedding model in one table is one problem: the rows it wrote.
    Rule("second embedding model", _quality_only(r"^two populations"), _second_model),
    Rule("second embedding model", _quality_only(r"^same text"), _second_model),
    Rule(
        "second embedding model",
        _quality_only(r"^abs\(vector_norm - 1\)", message="two embedding models"),
        _second_model,
    ),
    Rule("non-unit vectors", _quality_only(r"^abs\(vector_norm - 1\)"), _count("non_unit_vectors")),
)


def _detail(f: Finding) -> int:
    # On a tie in severity, show the finding that says "N of M" (it counts against what was read).
    return 0 if re.search(r"\d+ of \d+", f.message) else 1


def problems(results: Sequence[Result]) -> list[Problem]:
    """Every finding of ``results`` as problems: findings matching one rule on one subject merged, the others one
    problem each; most severe first, then most rows affected, then report order.

    Example:
        >>> problems([Result("a", "b", "c", findings=[Finding("info", "x", check="b")])])[0].problem
        'b'
    """
    merged: dict[tuple[str, str | None], list[tuple[Result, Finding, Rule]]] = {}
    order: list[tuple[str, str | None]] = []
    singles = 0
    for result in results:
        for f in result.findings:
            rule = next((r for r in RULES if r.matches(f)), None)
            if rule is None:
                key: tuple[str, str | None] = (f"#{singles}", None)
                singles += 1
            else:
                key = (rule.problem, f.subject)
            if key not in merged:
                merged[key] = []
                order.append(key)
            merged[key].append((result, f, rule) if rule else (result, f, _no_rule(f.check or result.name)))
    out = []
    for key in order:
        seen = merged[key]
        evidence = tuple(f for _, f, _ in seen)
        severity = min((f.severity for f in evidence), key=_RANK.__getitem__)
        # Shown: the most severe; then the first rule's (a second model's population before its other signs); then
        # the one that counts against what was read.
        result, shown, rule = min(seen, key=lambda x: (_RANK[x[1].severity], _rule_index(x[2]), _detail(x[1])))
        affected, examined, what = rule.rows(result, shown)
        if affected is None:  # the shown finding's check did not count them; another one may have
            for res, f, rl in seen:
                affected, examined, what = rl.rows(res, f)
                if affected is not None:
                    break
        checks = tuple(sorted({f.check or res.name for res, f, _ in seen}))
        out.append(
            Problem(
                rule.problem,
                severity,
                shown.subject,
                replace(shown, severity=severity),
                affected,
                examined,
                what,
                checks,
                evidence,
            )
        )
    ranked = sorted(
        enumerate(out), key=lambda x: (_RANK[x[1].severity], -(x[1].rows_affected or -1), x[0])
    )  # stable: report order among equals
    return [p for _, p in ranked]


def _rule_index(rule: Rule) -> int:
    return RULES.index(rule) if rule in RULES else len(RULES)


def _no_rule(check: str) -> Rule:
    return Rule(check, lambda _: True, lambda _r, _f: (None, None, ""))


def align_severities(results: Sequence[Result], found: Sequence[Problem]) -> None:
    """Give every finding in ``results`` its problem's severity, so each rendering of the report (the summary, a
    check's own table, the report's sections) shows one severity per problem.

    Example:
        >>> r = Result("a", "b", "c", findings=[Finding("info", "x", check="b")])
        >>> p = Problem("b", "warning", None, Finding("warning", "x"), evidence=(r.findings[0],))
        >>> align_severities([r], [p]); r.findings[0].severity
        'warning'
    """
    severity = {id(f): p.severity for p in found for f in p.evidence}
    for r in results:
        if any(severity.get(id(f), f.severity) != f.severity for f in r.findings):
            r.findings = [replace(f, severity=severity.get(id(f), f.severity)) for f in r.findings]
            r.findings.sort(key=lambda f: _RANK[f.severity])
