"""The doctor on ElizaOS 1.x (issue 14 items 2 and 6), on the fixture's real databases: the one plugin-sql wrote on
the embedded server and its PGlite directory served by :func:`okai_insight.pglite.serve`.

Before: the doctor reported the empty ``dim_*`` columns as NULL-vector problems, said zero vectors are "never
found", said nothing about ElizaOS's searches (no vector index, so nothing to check them against), raised
transaction-ID wraparound warnings from PGlite's fake ages and failed with ``DuplicatePreparedStatement`` on PGlite's
shared backend.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

import okai_insight
from okai_insight.diagnostics import doctor, elizaos_schema, maintenance, vectors
from okai_insight.diagnostics.doctor import DoctorReport
from okai_insight.pglite import serve
from tests.contract.elizaos_schema import create_elizaos_schema
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

UNUSED = "unused by design"


@dataclass(frozen=True)
class Doctored:
    report: DoctorReport
    before: Any
    after: Any


@pytest.fixture(scope="module")
def doctored(elizaos1: ElizaOS1Databases) -> Iterator[Doctored]:
    """The doctor's report on the 1.x database, with its fingerprint before and after.

    pg_stat_statements is preloaded on the embedded server (so the seed's searches and inserts were recorded), but
    its view exists only in a database that ran CREATE EXTENSION: the test enables it there, as a user would,
    before the first fingerprint, and removes it at the end.
    """
    with psycopg.connect(elizaos1.url, autocommit=True) as conn:
        had = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    before = fingerprint(elizaos1.url)
    report = doctor(elizaos1.url)
    yield Doctored(report, before, fingerprint(elizaos1.url))
    if had is None:
        with psycopg.connect(elizaos1.url, autocommit=True) as conn:
            conn.execute("DROP EXTENSION pg_stat_statements")


def _findings(report: DoctorReport, check: str) -> list[Any]:
    return [f for f in report.findings if f.check == check]


def test_doctor_changes_nothing_in_the_1x_database(doctored: Doctored) -> None:
    assert doctored.report.results  # it ran every check...
    assert doctored.after == doctored.before  # ...and the schema dump and every table's rows are identical


def test_empty_dim_columns_are_unused_by_design_not_null_findings(doctored: Doctored) -> None:
    rows = {r["column"]: r for r in doctored.report.result("vector_columns").rows}
    for unused in ("dim_512", "dim_1024", "dim_1536", "dim_3072"):
        assert UNUSED in rows[unused]["note"]
    for active in ("dim_384", "dim_768"):  # their NULL rows are the other agent's: by design too
        assert UNUSED not in rows[active]["note"] and "by design" in rows[active]["note"]
    assert not [f for f in _findings(doctored.report, "vector_columns") if "NULL" in f.message]


def test_zero_vectors_are_a_warning_naming_the_memories(doctored: Doctored, elizaos1: ElizaOS1Databases) -> None:
    zero = {f.subject: f for f in _findings(doctored.report, "vector_columns") if "zero vector" in f.message}
    assert set(zero) == {"public.embeddings.dim_384", "public.embeddings.dim_768"}
    ada, grace = elizaos1.postgres_summary["agents"]
    for agent, column in ((ada, "dim_384"), (grace, "dim_768")):
        f = zero[f"public.embeddings.{column}"]
        assert f.severity == "warning"
        assert "first in every search" in f.message and "NaN" in f.message and "not unique" in f.message
        assert agent["zeroVectorMemoryIds"] and all(i in f.message for i in agent["zeroVectorMemoryIds"])
        assert "never found" not in f.message and "no search finds them" not in f.message


def test_okai_database_has_no_1x_notes(make_database: Callable[..., str]) -> None:
    okai = make_database("dokai")
    okai_insight.connect(okai).close()
    result = vectors.vector_columns(okai)
    assert result.rows and not [r for r in result.rows if UNUSED in (r["note"] or "")]
    assert not [f for f in result.findings if "ElizaOS 1.x" in f.message]


def test_index_suggestions_can_be_built(elizaos1: ElizaOS1Databases) -> None:
    """What index_sql suggests for each dim_N column builds (in a rolled-back transaction: the fixture is the
    user's data); above 4,000 dimensions it suggests nothing."""
    before = fingerprint(elizaos1.url)
    with psycopg.connect(elizaos1.url) as conn:
        for dim in (384, 768, 3072):
            create = vectors.index_sql("public.embeddings", f"dim_{dim}", dim)
            assert create is not None
            with conn.transaction(force_rollback=True):
                conn.execute(create.replace(" CONCURRENTLY", ""))  # CONCURRENTLY cannot run in a transaction
        with conn.transaction(force_rollback=True), pytest.raises(psycopg.errors.ProgramLimitExceeded):
            conn.execute("CREATE INDEX ON public.embeddings USING hnsw (dim_3072 vector_cosine_ops)")
    assert "halfvec(3072)" in (vectors.index_sql("public.embeddings", "dim_3072", 3072) or "")
    assert vectors.index_sql("public.embeddings", "dim_4096", 4096) is None
    assert fingerprint(elizaos1.url) == before


def _searches(doctored: Doctored) -> dict[str, Any]:
    return {
        f.subject: f
        for f in _findings(doctored.report, "vector_queries")
        if f.subject and "has no vector index" in f.message
    }


def test_searches_without_a_vector_index_are_analysed(doctored: Doctored) -> None:
    found = _searches(doctored)
    assert set(found) == {"public.embeddings.dim_384", "public.embeddings.dim_768"}
    f = found["public.embeddings.dim_384"]
    assert "no pgvector index can ever serve" in f.message and "ORDER BY 1 - distance DESC" in f.message
    assert "near-duplicate search plugin-sql runs before every insert" in f.message
    share = int(f.message.split("calls (")[1].split(" %")[0])
    assert share > 90  # the seed's 300 inserts against a handful of searches
    assert "hnsw.iterative_scan" in f.message and "Measured: the largest scope searched" in f.message
    assert f.severity == "info"  # a few hundred vectors: exact search is the plan to keep, and it says so
    assert "exact search, what runs now, is the plan to keep" in f.message
    assert "btree indexes and an exact sort" in f.message  # measured below with EXPLAIN


def test_corrected_statement_keeps_filters_and_the_plan_shows_the_index(
    doctored: Doctored, elizaos1: ElizaOS1Databases
) -> None:
    """The corrected statement is checked with EXPLAIN (GENERIC_PLAN) against the fixture, with the suggested index
    created in a rolled-back transaction: the plan reads the index; ElizaOS's own statement cannot, even with
    sequential scans disabled."""
    f = _searches(doctored)["public.embeddings.dim_384"]
    assert f.fix_sql is not None
    lines = f.fix_sql.splitlines()
    corrected = lines[lines.index("-- corrected query (same filters, ascending distance, LIMIT):") + 1]
    for kept in ('"memories"."type" = $2', '"memories"."agent_id" = $3', '"memories"."room_id" = $4', ">= $8"):
        assert kept in corrected
    assert "ORDER BY dim_384 <=> $1 limit $10" in corrected
    create = next(line for line in lines if line.startswith("CREATE INDEX"))
    original = corrected.replace("ORDER BY dim_384 <=> $1", 'order by $13 - ("embeddings"."dim_384" <=> $9) desc')
    before = fingerprint(elizaos1.url)
    probe = create.replace(" CONCURRENTLY", "").replace("ON public.embeddings", "dim384_probe ON public.embeddings")

    def explain(conn: psycopg.Connection[Any], statement: str) -> str:
        return "\n".join(r[0] for r in conn.execute(f"EXPLAIN (GENERIC_PLAN) {statement}"))

    with psycopg.connect(elizaos1.url) as conn, conn.transaction(force_rollback=True):
        conn.execute(probe)
        narrow = explain(conn, corrected)  # default settings: what the finding says about narrow scopes
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_sort = off")
        served, old_plan = explain(conn, corrected), explain(conn, original)
    assert "dim384_probe" not in narrow and "Sort" in narrow  # room + world + entity: btree and an exact sort
    assert "Index Scan using dim384_probe" in served  # the corrected order is one the index serves...
    assert "dim384_probe" not in old_plan and "Sort" in old_plan  # ...ElizaOS's never is, whatever the settings
    assert fingerprint(elizaos1.url) == before


def test_the_real_schema_findings_stay(doctored: Doctored) -> None:
    mine = _findings(doctored.report, "elizaos_schema")
    fk = [f for f in mine if "has no index" in f.message]
    assert {c for f in fk for c in ("agent_id", "entity_id") if f"({c})" in f.message} == {"agent_id", "entity_id"}
    assert any("same foreign key" in f.message for f in mine)
    assert any(f.subject == "logs" and "no primary key" in f.message for f in mine)
    assert not [f for f in mine if "Do not point ElizaOS 1.x" in f.message]  # it IS 1.x
    dup = _findings(doctored.report, "duplicate_indexes")  # the redundant relationships index
    assert any(f.subject == "public.idx_relationships_users" for f in dup)


def test_upgrade_warning_on_0_1_9_and_okai_databases(make_database: Callable[..., str]) -> None:
    eliza019 = make_database("d019")
    with psycopg.connect(eliza019, autocommit=True) as conn:
        create_elizaos_schema(conn, dimension=384)
    okai = make_database("dokai2")
    okai_insight.connect(okai).close()
    for url, shape in ((eliza019, "ElizaOS 0.1.9"), (okai, "okai-insight")):
        result = elizaos_schema.elizaos_schema(url)
        (f,) = result.findings
        assert f.severity == "info" and shape in f.message
        assert "Do not point ElizaOS 1.x" in f.message and "okai-insight copy" in f.message
        assert "never share one database" in f.message


@pytest.fixture
def pglite_url(elizaos1: ElizaOS1Databases, pglite_node_dir: Path, tmp_path: Path) -> Iterator[str]:
    """The fixture's PGlite directory, served for one test."""
    data = tmp_path / "copy"
    shutil.copytree(elizaos1.pglite_dir, data)  # the server checkpoints on close: keep the fixture pristine
    with serve(data, node_dir=pglite_node_dir) as url:
        yield url


def test_pglite_fake_xid_ages_raise_no_wraparound_finding(pglite_url: str) -> None:
    result = maintenance.database_xid_age(pglite_url)
    assert result.status == "ok"
    assert any(r["percent_towards_wraparound"] >= 100 for r in result.rows)  # the fake ages are there...
    assert [f.severity for f in result.findings] == ["info"]  # ...and said to be fake, not a warning
    assert "PGlite" in result.findings[0].message and "not real" in result.findings[0].message


def test_doctor_on_pglite_runs_every_check_without_wraparound_findings(pglite_url: str) -> None:
    report = doctor(pglite_url)
    assert {r.name: r.note for r in report.results if r.status == "error"} == {}
    assert [f.severity for f in report.findings if f.check == "database_xid_age"] == ["info"]
    rows = {r["column"]: r for r in report.result("vector_columns").rows}
    assert UNUSED in rows["dim_768"]["note"] and UNUSED not in rows["dim_384"]["note"]  # one agent, 384
