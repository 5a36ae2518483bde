"""Issue 14 leftovers on the fixture's ElizaOS 1.x database: the health check's schema line, the Supabase adapter's
refusal, and the embedding commands' 1.x options (--by world|entity, --column dim_N, --world-id, --agent-id).

Before: ``health`` said "critical: no memory schema in this database (run okai-insight init)"; the Supabase
adapter's ``init`` raised its generic "memory tables without okai-insight's row level security" SchemaError; the
embedding commands refused ``--by world``, ``--by entity``, ``--world-id`` and ``--agent-id`` (argparse, exit 2).
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from okai_insight.cli import main
from okai_insight.errors import ReadOnlySchema
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

NAME = "ElizaOS 1.x (@elizaos/plugin-sql)"


def _json(capsys: pytest.CaptureFixture[str]) -> Any:
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def before(elizaos1: ElizaOS1Databases) -> Any:
    """The database's fingerprint before any command of this module ran (compared by the last test)."""
    return fingerprint(elizaos1.url)


def test_health_recognises_a_1x_schema(elizaos1: ElizaOS1Databases, before: Any) -> None:
    from okai_insight.ops.monitoring import health

    report = health(elizaos1.url)
    schema = next(c for c in report.checks if c.name == "schema")
    assert (schema.status, schema.detail) == ("ok", "ElizaOS 1.x schema (read-only for okai-insight)")
    assert report.status == "ok"


def test_the_supabase_adapter_refuses_a_1x_database_naming_its_schema(elizaos1: ElizaOS1Databases) -> None:
    from okai_insight.adapters._supabase_direct import SupabaseDirectAdapter

    before = fingerprint(elizaos1.url)
    adapter = SupabaseDirectAdapter(elizaos1.url, role="service_role")
    with pytest.raises(ReadOnlySchema, match="never writes to; nothing was changed") as caught:
        adapter.init()
    assert caught.value.schema == NAME and "Supabase adapter" in str(caught.value)
    assert fingerprint(elizaos1.url) == before


def _raw(url: str, query: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {str(k): n for k, n in conn.execute(query).fetchall()}


def test_embedding_quality_cli_by_world_and_entity_in_one_column(
    elizaos1: ElizaOS1Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    url = elizaos1.url
    args = ["--column", "dim_768", "--probes", "10", "--format", "json"]
    assert main(["embedding_quality", url, "--by", "world", *args]) in (0, 1)
    rows = _json(capsys)["rows"]
    expected = _raw(
        url,
        "SELECT m.world_id, count(*) FROM embeddings e JOIN memories m ON m.id = e.memory_id "
        "WHERE e.dim_768 IS NOT NULL GROUP BY m.world_id",
    )
    assert {r["group"]: r["sampled_rows"] for r in rows} == expected
    assert {r["column"] for r in rows} == {"dim_768"}
    assert set(expected) == {elizaos1.postgres_summary["agents"][1]["worldId"]}  # Grace's world only

    assert main(["embedding_quality", url, "--by", "entity", "--column", "dim_384", "--probes", "10",
                 "--format", "json"]) in (0, 1)  # fmt: skip
    rows = _json(capsys)["rows"]
    assert {r["group"]: r["sampled_rows"] for r in rows} == _raw(
        url,
        "SELECT m.entity_id, count(*) FROM embeddings e JOIN memories m ON m.id = e.memory_id "
        "WHERE e.dim_384 IS NOT NULL GROUP BY m.entity_id",
    )


def test_drift_cli_by_entity(elizaos1: ElizaOS1Databases, capsys: pytest.CaptureFixture[str]) -> None:
    url = elizaos1.url
    assert main(["drift", url, "--by", "entity", "--column", "dim_384", "--format", "json"]) in (0, 1)
    rows = _json(capsys)["rows"]
    entities = _raw(url, "SELECT DISTINCT m.entity_id, 1 FROM embeddings e JOIN memories m ON m.id = e.memory_id "
                    "WHERE vector_norm(e.dim_384) > 0")  # fmt: skip
    assert rows and {r["group"] for r in rows} == set(entities)


def test_tuners_cli_filter_by_world_and_agent(elizaos1: ElizaOS1Databases, capsys: pytest.CaptureFixture[str]) -> None:
    url = elizaos1.url
    ada, grace = elizaos1.postgres_summary["agents"]
    # --agent-id picks the agent's column: Grace's memories are in dim_768, not the larger dim_384
    args = ["--queries", "4", "--format", "json"]
    assert main(["tune_threshold", url, "--agent-id", grace["agentId"], "--world-id", grace["worldId"], *args]) in (
        0,
        1,
    )
    out = _json(capsys)
    assert out["summary"]["queries"] == 4 and out["findings"][-1]["subject"].endswith(".dim_768")
    # --world-id filters: Grace has no memory in Ada's world, so nothing is left to sample
    assert main(["tune_threshold", url, "--agent-id", grace["agentId"], "--world-id", ada["worldId"], *args]) == 2
    assert "too few embedded rows (0)" in capsys.readouterr().err

    assert main(["tune_recall", url, "--agent-id", grace["agentId"], "--k", "3", "--scopes", "all", *args]) in (0, 1)
    out = _json(capsys)
    assert out["summary"]["column"] == "dim_768" and out["summary"]["queries"] == 4


def test_the_database_is_unchanged(elizaos1: ElizaOS1Databases, before: Any) -> None:
    """Runs last: health and every command above only read the database (schema dump and row checksums)."""
    assert fingerprint(elizaos1.url) == before
