"""The registry of diagnostics: a diagnostic is its SQL file, its function and its test. Defined with
``@diagnostic(...)`` and nothing else, a new one is picked up by doctor, the CLI, the ``%okai`` magics, the widgets
and the report's sections."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql

from okai_insight.cli import build_parser, main
from okai_insight.diagnostics import Finding, Runner, doctor, registry
from okai_insight.diagnostics._runner import Outcome, diagnostic
from okai_insight.errors import InvalidInput

NAME = "throwaway_index_check"
MESSAGE = "the throwaway check found its planted problem"


@pytest.fixture
def throwaway() -> Iterator[str]:
    @diagnostic("indexes", "Throwaway index check")
    def throwaway_index_check(run: Runner, *, min_rows: int = 7) -> Outcome:
        """A check defined only here: one row from the server, one warning."""
        rows = run.execute(sql.SQL("SELECT %(min_rows)s::int AS min_rows"), {"min_rows": min_rows}).rows
        return rows, [Finding("warning", MESSAGE, threshold=f"min_rows {min_rows}")]

    try:
        yield throwaway_index_check.__name__
    finally:
        registry.discard(NAME)


def test_doctor_runs_a_new_diagnostic(throwaway: str, healthy: str) -> None:
    health_module = importlib.import_module("okai_insight.diagnostics.doctor")
    assert throwaway in health_module.check_names()
    report = doctor(healthy, checks=[throwaway, "invalid_indexes"])
    result = report.result(throwaway)
    assert result.rows == [{"min_rows": 7}] and result.findings[0].message == MESSAGE
    assert report.counts()["warning"] == 1


def test_the_cli_offers_a_new_diagnostic(throwaway: str, healthy: str, capsys: pytest.CaptureFixture[str]) -> None:
    # the CLI spells commands with dashes; main() also takes the Python name (underscores)
    args = build_parser().parse_args([throwaway.replace("_", "-"), healthy, "--min-rows", "3", "--format", "json"])
    assert args.min_rows == 3
    assert main([throwaway, healthy, "--min-rows", "3", "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert '"min_rows": 3' in out and MESSAGE in out
    assert main(["doctor", healthy, "--check", throwaway]) == 0
    assert MESSAGE in capsys.readouterr().out


def test_the_magics_offer_a_new_diagnostic(throwaway: str, healthy: str) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from okai_insight.jupyter._magics import OkaiMagics

    magics = OkaiMagics(InteractiveShell.instance(), url=healthy)
    result: Any = magics.okai(throwaway)
    assert result.name == throwaway and result.findings[0].message == MESSAGE


def test_the_report_and_the_widget_of_its_concern_show_a_new_diagnostic(throwaway: str, healthy: str) -> None:
    from okai_insight.jupyter import IndexesWidget
    from okai_insight.report import indexes_section

    section = indexes_section(healthy, doctor(healthy))
    assert section.status == "ok" and MESSAGE in section.html
    widget = IndexesWidget(healthy, background=False)
    assert widget.error is None
    assert throwaway in [c.__name__ for c in widget.checks()]
    assert MESSAGE in widget.body.value


def test_a_name_is_one_diagnostic() -> None:
    with pytest.raises(InvalidInput, match="already registered"):

        @diagnostic("space", "Another database size")
        def database_size(run: Runner) -> Outcome:
            return [], []

    assert registry.get("database_size").title == "Database sizes"


def test_what_doctor_and_the_other_lists_select() -> None:
    """doctor runs the checks; the listings (running queries, wait events, top statements, index usage, table
    sizes) are offered on their own; the pool statistics need the caller's pool."""
    others = [e.name for e in registry.entries(doctor=False, exclude=("embeddings",))]
    assert sorted(others) == ["index_usage", "query_stats", "running_queries", "table_sizes", "wait_events"]
    assert registry.names(doctor=True)[0] == "server_features"
    assert [e.name for e in registry.entries() if e.adapter_only] == ["pool_stats"]
    assert registry.names(concern="indexes")[-2:] == ["vector_indexes", "vector_queries"]
    assert "vector_indexes" not in [e.name for e in registry.entries(concern="indexes", own=True)]


def test_the_embedding_checks_are_diagnostics_too() -> None:
    """The embedding checks go through the same decorator: registered, their own result classes; doctor runs
    embedding_quality (on a bounded sample, doctor.DOCTOR_OPTIONS), the others are analyses of their own."""
    from okai_insight import embeddings

    names = registry.names(concern="embeddings")
    assert sorted(names) == [
        "drift",
        "embedding_quality",
        "explore",
        "neighbours",
        "tune_index",
        "tune_recall",
        "tune_threshold",
    ]
    assert set(names) & set(registry.names(doctor=True)) == {"embedding_quality"}
    assert registry.get("embedding_quality").function is embeddings.embedding_quality
