"""``okai-insight copy --from <ElizaOS 1.x>`` (issue 14 item 4): 1.x mapped into okai-insight's schema on PostgreSQL
and SQLite, verified (counts, embedding checksum), the dimension from the data, mixed dimensions refused before
anything is created, and the 1.x database unchanged.

Before: connect() refused the 1.x source (ReadOnlySchema), and earlier still the copy failed with
``relation "accounts" does not exist`` after creating an empty target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import okai_insight
from okai_insight.cli import main
from okai_insight.copy import copy_database
from okai_insight.errors import MixedDimensions
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

KNOWLEDGE = ("documents", "knowledge", "fragments")


def _one(url: str, query: str, *params: Any) -> Any:
    with psycopg.connect(url) as conn:
        row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def expected_counts(url: str, agent: str | None = None) -> dict[str, int]:
    """What each okai-insight table should hold, counted with raw SQL on the 1.x tables."""
    a = agent
    return {
        "accounts": _one(url, "SELECT count(*) FROM entities WHERE %s::uuid IS NULL OR agent_id = %s::uuid", a, a)
        + _one(
            url,
            "SELECT count(*) FROM agents g WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = g.id) "
            "AND (%s::uuid IS NULL OR g.id = %s::uuid)",
            a,
            a,
        ),
        "rooms": _one(url, "SELECT count(*) FROM rooms WHERE %s::uuid IS NULL OR agent_id = %s::uuid", a, a),
        "memories": _one(
            url,
            "SELECT count(*) FROM memories WHERE type <> ALL(%s) AND (%s::uuid IS NULL OR agent_id = %s::uuid)",
            list(KNOWLEDGE),
            a,
            a,
        ),
        "goals": 0,
        "participants": _one(
            url, "SELECT count(*) FROM participants WHERE %s::uuid IS NULL OR agent_id = %s::uuid", a, a
        ),
        "relationships": _one(
            url, "SELECT count(*) FROM relationships WHERE %s::uuid IS NULL OR agent_id = %s::uuid", a, a
        ),
        "logs": _one(
            url,
            "SELECT count(*) FROM logs WHERE %s::uuid IS NULL OR room_id IN (SELECT id FROM rooms WHERE agent_id = %s)",
            a,
            a,
        ),
        "cache": _one(url, "SELECT count(*) FROM cache WHERE %s::uuid IS NULL OR agent_id = %s::uuid", a, a),
        "knowledge": _one(
            url,
            "SELECT count(*) FROM memories WHERE type = ANY(%s) AND (%s::uuid IS NULL OR agent_id = %s::uuid)",
            list(KNOWLEDGE),
            a,
            a,
        ),
    }


@pytest.fixture(scope="module")
def one_agent(elizaos1: ElizaOS1Databases, make_database: Callable[..., str]) -> str:
    """A copy of the fixture with only its first agent (384 dimensions): ElizaOS's own cascade removes the other."""
    url = make_database("e1copy", template=conninfo_to_dict(elizaos1.url)["dbname"])
    grace = elizaos1.postgres_summary["agents"][1]["agentId"]
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM agents WHERE id = %s", (grace,))
    return url


def _target_counts(url: str) -> dict[str, int]:
    with okai_insight.connect(url) as db:
        from okai_insight.copy import TABLES, _endpoint

        end = _endpoint(db)
        return {t.name: end.count(t) for t in TABLES}


def test_copy_one_agent_to_postgres_and_sqlite_verified(
    one_agent: str, make_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(one_agent)
    expected = expected_counts(one_agent)
    assert expected["memories"] > 250 and expected["knowledge"] == 15 and expected["logs"] and expected["cache"]

    pg_target = make_database("e1to")
    report = copy_database(one_agent, pg_target, batch_size=64, progress=False)
    assert report.dimension == 384 and report.rows == expected
    assert report.checksums["memories"] and report.checksums["knowledge"]
    assert report.not_copied["worlds"] == 1 and "tasks" in report.not_copied
    assert _target_counts(pg_target) == expected

    sqlite_target = tmp_path / "ada.db"
    assert main(["copy", "--from", one_agent, "--to", f"sqlite:///{sqlite_target}", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "copied and verified" in out and "dimension 384" in out and "not copied" in out and "worlds 1" in out
    assert _target_counts(f"sqlite:///{sqlite_target}") == expected

    # Values, not just counts: a memory's vector, its author and a knowledge fragment's document.
    with psycopg.connect(one_agent) as conn:
        row = conn.execute(
            "SELECT m.id, e.dim_384::real[], m.entity_id FROM memories m JOIN embeddings e ON e.memory_id = m.id "
            "WHERE m.type = 'messages' AND vector_norm(e.dim_384) > 0 ORDER BY m.id LIMIT 1"
        ).fetchone()
    assert row is not None
    mid, vec, entity = row
    for url in (pg_target, f"sqlite:///{sqlite_target}"):
        with okai_insight.connect(url) as db:
            got = db.get_memory_by_id(mid)
            assert got is not None and got.user_id == entity and got.embedding is not None
            assert np.allclose(got.embedding, vec)
            hits = db.search_memories_by_embedding(vec, table_name="messages", count=1)
            assert hits[0].id == mid
    fragments = _one(
        pg_target, 'SELECT count(*) FROM knowledge WHERE "originalId" IS NOT NULL AND "chunkIndex" IS NOT NULL'
    )
    assert fragments == 12
    assert fingerprint(one_agent) == before  # the 1.x database is unchanged


def test_mixed_dimensions_refused_before_anything_is_created(
    elizaos1: ElizaOS1Databases, make_database: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(elizaos1.url)
    target = tmp_path / "mixed.db"
    with pytest.raises(MixedDimensions, match="384 and 768"):
        copy_database(elizaos1.url, f"sqlite:///{target}", progress=False)
    assert not target.exists() and not list(tmp_path.iterdir())
    pg_target = make_database("e1mix")
    assert main(["copy", "--from", elizaos1.url, "--to", pg_target, "--no-progress"]) == 2
    assert "MixedDimensions" in capsys.readouterr().err and "--agent" in str(MixedDimensions((1, 2), "x", "--agent"))
    assert _one(pg_target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0
    assert fingerprint(elizaos1.url) == before


def test_agent_picks_one_agent_and_its_dimension(elizaos1: ElizaOS1Databases, tmp_path: Path) -> None:
    before = fingerprint(elizaos1.url)
    grace = elizaos1.postgres_summary["agents"][1]["agentId"]
    target = f"sqlite:///{tmp_path / 'grace.db'}"
    report = copy_database(elizaos1.url, target, agent_id=grace, progress=False)
    assert report.dimension == 768 and report.rows == expected_counts(elizaos1.url, grace)
    assert report.rows["memories"] > 0
    assert _target_counts(target) == report.rows
    assert fingerprint(elizaos1.url) == before
