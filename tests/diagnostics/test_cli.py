"""``okai-insight doctor`` and the per-diagnostic subcommands."""

from __future__ import annotations

import json

import pytest

from okai_insight.cli import main
from okai_insight.diagnostics import activity


def test_doctor_exit_status_and_formats(planted, healthy, capsys):
    assert main(["doctor", healthy]) == 0
    out = capsys.readouterr().out
    assert "critical: 0" in out and "warning: 0" in out
    assert main(["doctor", planted.url, "--format", "json", "--check", "invalid_indexes"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["critical"] == 1 and report["findings"][0]["subject"] == "public.planted_invalid"


def test_single_diagnostic_subcommand(planted, capsys):
    assert main(["duplicate_indexes", planted.url, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("schema,table,index,qualified_index,covered_by")
    assert "planted_dup_type" in out


def test_activity_thresholds_on_the_cli(planted, capsys):
    """long_running_queries and idle_in_transaction take their thresholds from the CLI (issue 19 item 8); the
    defaults are the functions' own (60 s), so the planted 1-second-old sessions stay quiet without them."""

    def run(*argv: str) -> dict:
        assert main([*argv, planted.url, "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    assert run("long_running_queries")["findings"] == []
    found = run("long_running_queries", "--min-duration-ms", "1000")["findings"]
    assert f"pid {planted.long_pid}" in [f["subject"] for f in found]  # (and the planted blocked query)
    assert {f["threshold"] for f in found} == {"duration_ms >= 1000"}
    assert run("idle_in_transaction")["findings"] == []
    idle = run("idle_in_transaction", "--min-idle-ms", "500")["findings"]
    assert f"pid {planted.blocker_pid}" in [f["subject"] for f in idle]
    assert main(["idle_in_transaction", planted.url, "--min-idle-ms", "-1"]) == 2
    assert "InvalidInput: --min-idle-ms takes a number >= 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["long_running_queries", "--help"])
    assert f"(default {activity.LONG_RUNNING_MS}, long_running_queries's own)" in " ".join(
        capsys.readouterr().out.split()
    )


def test_explain_binds_dollar_params_from_the_cli(planted, capsys):
    """``explain --param`` gives $1.. their values (issue 19 item 8): ANALYZE runs with them bound, a value is
    only ever a value (a smuggled statement in it changes nothing), and a count that does not match is refused."""
    import psycopg

    def memories() -> int:
        with psycopg.connect(planted.url) as conn:
            return conn.execute("SELECT count(*) FROM memories").fetchone()[0]

    before = memories()
    query = "SELECT count(*) FROM memories WHERE type = $1 AND type <> $2 AND '$1' <> '%'"
    argv = ["explain", planted.url, "--query", query, "--analyze", "--format", "json"]
    assert main([*argv, "--param", "messages", "--param", "x'; DELETE FROM memories; --"]) in (0, 1)
    plan = json.loads(capsys.readouterr().out)
    assert plan["analyze"] is True and plan["execution_ms"] is not None
    assert memories() == before
    assert main([*argv, "--param", "messages"]) == 2
    assert "the statement uses $2 but 1 value was given" in capsys.readouterr().err
    assert main(["explain", planted.url, "--query", "SELECT 1", "--param", "a"]) == 2
    assert "has no $n parameters but 1 value was given" in capsys.readouterr().err
