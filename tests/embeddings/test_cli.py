"""The embedding subcommands: output, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest

from okai_insight.cli import main
from tests.embeddings._world import World


def test_convert_threshold(capsys):
    assert main(["convert_threshold", "0.8", "--from", "cosine", "--to", "eliza"]) == 0
    assert float(capsys.readouterr().out) == pytest.approx(0.367544, abs=1e-6)
    assert (
        main(
            [
                "convert_threshold",
                "0.8",
                "--from",
                "cosine",
                "--to",
                "inner_product",
                "--norm-a",
                "2",
                "--norm-b",
                "3",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)[0]["converted"] == pytest.approx(4.8)
    assert main(["convert_threshold", "3", "--from", "l2_distance", "--to", "cosine"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("okai-insight: error: InvalidInput") and "\n" not in err


def test_embedding_quality_text_and_json(world: World, pg_url, capsys):
    assert main(["embedding_quality", pg_url, "--by", "agent"]) == 0  # warnings only: exit 0
    out = capsys.readouterr().out
    assert "Embedding quality" in out and "zero vector" in out
    assert main(["embedding_quality", pg_url, "--format", "json", "--probes", "50"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["summary"]["table"] == "public.memories" and len(data["rows"]) == 3


def test_neighbours_and_drift(world: World, pg_url, capsys):
    a, b = sorted(next(iter(world.near_dup_pairs)))
    assert main(["neighbours", pg_url, "--id", a, "--k", "3", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("rank,id,cosine_similarity") and lines[1].split(",")[1] == b
    assert main(["drift", pg_url, "--window", "week"]) == 0
    assert "Embedding drift" in capsys.readouterr().out


def test_tune_commands(world: World, pg_url, capsys):
    assert main(["tune_recall", pg_url, "--ef-search", "10,40", "--queries", "20", "--scopes", "all"]) == 0
    out = capsys.readouterr().out
    assert "HNSW recall tuning" in out and "to apply:" in out
    assert main(["tune_threshold", pg_url, "--queries", "100", "--format", "json"]) == 0
    assert "best_threshold" in json.loads(capsys.readouterr().out)["summary"]


def test_errors_are_one_line(pg_url, world, capsys):
    assert main(["embedding_quality", pg_url, "--table", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("okai-insight: error: UnknownTable") and "\n" not in err
    assert main(["tune_recall", pg_url, "--ef-search", "ten"]) == 2
