"""bench/adapters_lite.py: exact search gives recall 1.0, and recording touches only its own section."""

from __future__ import annotations

from bench._data import make_dataset
from bench.adapters_lite import HEADING, record, render, run_one


def test_small_run_is_exact_on_both_adapters(tmp_path):
    data = make_dataset(rows=600, dim=16, queries=8, rooms=4, seed=3)
    results = [run_one(name, data, str(tmp_path)) for name in ("sqlite", "memory")]
    for r in results:
        assert r.rows == 600 and r.ingest_rows_per_s > 0
        assert r.recall == 1.0 and r.room_recall == 1.0
        assert 0 < r.search.p50_ms <= r.search.p95_ms
    text = render(results, command="python -m bench.adapters_lite --rows 600", data=data)
    assert text.startswith(HEADING) and "| SQLite file" in text and "| in-memory" in text


def test_record_replaces_only_its_section(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Bulk ingest\n\nkeep me\n", encoding="utf-8")
    record(f"{HEADING}\n\nfirst\n", doc)  # appended between its markers
    text = doc.read_text(encoding="utf-8")
    assert text.index("keep me") < text.index("<!-- bench.adapters_lite:start -->") < text.index("first")
    # a later section right after it, with its own start marker, which a heading-based rewrite once swallowed
    doc.write_text(text + "\n<!-- other:start -->\n## Per-row writes\n\nme too\n<!-- other:end -->\n", encoding="utf-8")
    record(f"{HEADING}\n\nsecond\n", doc)  # replaced in place, the sections around it kept
    text = doc.read_text(encoding="utf-8")
    assert text.count(HEADING) == 1 and "first" not in text
    assert text.index("keep me") < text.index("second") < text.index("<!-- other:start -->") < text.index("me too")
