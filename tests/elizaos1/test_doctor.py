"""The doctor on ElizaOS 1.x (issue 14 items 2 and 6), on the fixture's real databases: the one plugin-sql wrote on
the embedded server and its PGlite directory served by :func:`okai_insight.pglite.serve`.

Before: the doctor reported the empty ``dim_*`` columns as NULL-vector problems, said zero vectors are "never
found", said nothing about ElizaOS's searches (no vector index, so nothing to check them against), raised
transaction-ID wraparound warnings from PGlite's fake ages and failed with ``DuplicatePreparedStatement`` on PGlite's
shared backend.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from okai_insight.diagnostics import health, maintenance
from okai_insight.pglite import serve
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint


@pytest.fixture(scope="module")
def pglite_url(elizaos1: ElizaOS1Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("doctor-pglite") / "copy"
    shutil.copytree(elizaos1.pglite_dir, data)  # the server checkpoints on close: keep the fixture pristine
    with serve(data, node_dir=tmp_path_factory.mktemp("doctor-pglite-node")) as url:
        yield url


def test_pglite_fake_xid_ages_raise_no_wraparound_finding(pglite_url: str) -> None:
    result = maintenance.database_xid_age(pglite_url)
    assert result.status == "ok"
    assert any(r["percent_towards_wraparound"] >= 100 for r in result.rows)  # the fake ages are there...
    assert [f.severity for f in result.findings] == ["info"]  # ...and said to be fake, not a warning
    assert "PGlite" in result.findings[0].message and "not real" in result.findings[0].message


def test_doctor_runs_twice_on_pglite_without_duplicate_prepared_statements(pglite_url: str) -> None:
    for _ in range(2):  # the second run's connection meets the first's session state in PGlite's one backend
        report = health(pglite_url)
        failed = {r.name: r.note for r in report.results if r.status == "error"}
        assert failed == {}
        assert not [f for f in report.findings if f.check == "database_xid_age" and f.severity != "info"]
