"""Doctor's summary on the demo dataset tells the whole story: embedding quality's problems (duplicates, a second
model, zero and NULL vectors) are in it with the rows they affect, ranked by severity then rows, each problem once
with one severity; and the report renders as a table (text, pandas, polars) and as a findings-first HTML view."""

from __future__ import annotations

import numpy as np
import pytest

import okai_insight
from okai_insight.data import demo_dataset
from okai_insight.demo import load
from okai_insight.diagnostics import doctor
from okai_insight.diagnostics._problems import problems
from okai_insight.diagnostics.doctor import DOCTOR_OPTIONS, FINDING_COLUMNS

SUBJECT = "public.memories.embedding"
RANK = {"critical": 0, "warning": 1, "info": 2}


@pytest.fixture(scope="module")
def demo(pg_url):
    with okai_insight.connect(pg_url, dimension=384) as db:
        load(db, progress=False)
    return demo_dataset()


@pytest.fixture(scope="module")
def report(demo, pg_url):
    return doctor(pg_url)


def _problem(report, name):
    found = [p for p in report.problems if p.problem == name and p.subject == SUBJECT]
    assert len(found) == 1, [(p.problem, p.subject) for p in report.problems]
    return found[0]


def test_doctor_names_the_duplicates_and_the_second_model_with_their_rows(report, demo):
    vectors = demo.embeddings[np.asarray(demo.has_embedding, bool)]
    vectors = vectors[np.linalg.norm(vectors, axis=1) > 0]  # zero vectors are their own problem
    _, inverse, counts = np.unique(vectors, axis=0, return_inverse=True, return_counts=True)
    duplicated = int((counts[inverse.ravel()] > 1).sum())
    loaded = len(demo)

    exact = _problem(report, "exact duplicates")
    assert (exact.severity, exact.rows_affected, exact.rows_examined) == ("warning", duplicated, loaded)
    assert (
        "embedding_quality" in exact.checks and f"{duplicated} rows share an identical vector" in exact.finding.message
    )

    second = _problem(report, "second embedding model")
    assert second.rows_affected == len(demo.defects.second_model_ids)
    assert second.severity == "warning"

    near = _problem(report, "near duplicates")  # a bounded sample, and it says how big
    assert near.rows_examined == DOCTOR_OPTIONS["embedding_quality"]["probes"] and near.examined_what == "probed"
    assert (
        f"of {near.rows_examined} probed rows" in near.finding.message and near.rows_affected > 0.5 * near.rows_examined
    )

    zero = _problem(report, "zero vectors")
    assert zero.rows_affected == len(demo.defects.zero_vector_ids)
    null = _problem(report, "NULL vectors")
    assert null.rows_affected == len(demo.defects.null_embedding_ids)

    table = [" ".join(line.split()) for line in report.findings_table().splitlines()]  # column widths vary
    assert (
        f"warning exact duplicates {SUBJECT} {duplicated} of {loaded} ({100 * duplicated / loaded:.0f} %) "
        "embedding_quality" in table
    )
    second_line = f"warning second embedding model {SUBJECT} {len(demo.defects.second_model_ids)} of {loaded}"
    assert any(line.startswith(second_line) for line in table)


def test_each_problem_once_with_one_severity(report):
    keys = [(p.problem, p.subject) for p in report.problems if p.subject == SUBJECT]
    assert len(keys) == len(set(keys))
    # vector_columns and embedding_quality both count zero and NULL vectors: one problem each, one severity ...
    for name in ("zero vectors", "NULL vectors"):
        p = _problem(report, name)
        assert p.checks == ("embedding_quality", "vector_columns") and len(p.evidence) == 2
        # ... also in each check's own findings (vector_columns alone calls NULL vectors "info")
        mine = [
            f
            for r in report.results
            for f in r.findings
            if f.subject == SUBJECT and f.message in {e.message for e in p.evidence}
        ]
        assert {f.severity for f in mine} == {p.severity}
    assert _problem(report, "NULL vectors").severity == "warning"
    # the three signs of a second model (norm population, same text far apart, non-unit norms) are one problem
    assert len(_problem(report, "second embedding model").evidence) == 3
    assert report.counts() == {s: sum(p.severity == s for p in report.problems) for s in RANK}
    # recomputing from the aligned results gives the same problems (the summary is a function of the results)
    assert [(p.problem, p.severity) for p in problems(report.results)] == [
        (p.problem, p.severity) for p in report.problems
    ]


def test_ranked_by_severity_then_rows_affected(report):
    ranked = [(RANK[p.severity], -(p.rows_affected or -1)) for p in report.problems]
    assert ranked == sorted(ranked)
    warnings = [p.problem for p in report.problems if p.severity == "warning" and p.subject == SUBJECT]
    assert warnings[0] == "exact duplicates" and warnings[-1] == "NULL vectors"


def test_exit_status_still_means_critical(report, pg_url, capsys):
    from okai_insight.cli import main

    code = main(["doctor", pg_url])
    out = capsys.readouterr().out
    assert code == report.exit_code == (1 if report.counts()["critical"] else 0)
    assert "exact duplicates" in out and "second embedding model" in out and "rows affected" in out


def test_table_renderings(report):
    frame = report.to_pandas()
    assert tuple(frame.columns) == FINDING_COLUMNS and len(frame) == len(report.problems)
    row = frame[frame["problem"] == "exact duplicates"].iloc[0]
    assert row["subject"] == SUBJECT and row["rows_affected"] == _problem(report, "exact duplicates").rows_affected
    polars = report.to_polars()
    assert polars.shape == (len(report.problems), len(FINDING_COLUMNS))
    assert polars.filter(polars["problem"] == "zero vectors")["check"].to_list() == [
        "embedding_quality, vector_columns"
    ]

    text = repr(report)  # what a terminal or a REPL shows: the findings table, not an object dump
    assert text == str(report) and text.startswith("okai-insight doctor: ")
    assert "severity  problem" in text and "<" not in text.splitlines()[0]

    page = report._repr_html_()
    first = page.index("<details class='okai-problem'>")
    assert first < page.index("exact duplicates") < page.index("Every check's rows")
    assert page.count("<details class='okai-problem'>") == len(report.problems)
    assert "<details><summary>Every check's rows" in page  # every check's tables folded away


def test_report_first_screen_shows_the_same_problems(report):
    from okai_insight.report import health_summary, top_findings

    top = top_findings(report)
    assert "exact duplicates" in top.html and "rows affected: " in top.text
    assert top.text.index("identical vector") < top.text.index("NULL embedding")
    counts = report.counts()
    assert f"warning: {counts['warning']}" in health_summary(report).text
