"""``okai-insight doctor`` and the per-diagnostic subcommands."""

from __future__ import annotations

import json

from okai_insight.cli import main


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
