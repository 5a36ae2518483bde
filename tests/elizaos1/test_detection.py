"""ElizaOS 1.x is recognised (issue 14 item 1): its own profile, dimensions from the data, and no write path.

Before: ``read_profile`` called the plugin's database "elizaos" (0.1.9), ``connect()`` attached silently with a
default dimension of 384 and ``init`` printed "schema ready"; every later call failed with ``UndefinedColumn``.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

import okai_insight
from okai_insight.cli import main
from okai_insight.errors import ReadOnlySchema, SchemaError
from okai_insight.ops.partitioning import partition_memories
from okai_insight.schema import read_profile
from tests.contract.elizaos_schema import create_elizaos_schema
from tests.elizaos1.conftest import ElizaOS1Databases
from tests.elizaos1.snapshot import fingerprint

NAME = "ElizaOS 1.x (@elizaos/plugin-sql)"


def test_profile_recognises_elizaos1_and_reads_dimensions_per_agent(elizaos1: ElizaOS1Databases) -> None:
    with psycopg.connect(elizaos1.url) as conn:
        profile = read_profile(conn)
    ada, grace = elizaos1.postgres_summary["agents"]
    assert profile.flavor == "elizaos1" and profile.display_name == NAME and not profile.writable
    assert profile.declared_dimensions == (384, 512, 768, 1024, 1536, 3072)
    assert set(profile.agent_dimensions) == {(ada["agentId"], 384), (grace["agentId"], 768)}
    assert profile.dimensions == (384, 768)
    assert profile.dimension is None  # two agents, two dimensions: no single one, and never a default
    assert profile.has_migrator_bookkeeping


def test_one_agent_one_dimension(elizaos1: ElizaOS1Databases, make_database: Callable[..., str]) -> None:
    url = make_database("e1one", template=conninfo_to_dict(elizaos1.url)["dbname"])
    grace = elizaos1.postgres_summary["agents"][1]["agentId"]
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM agents WHERE id = %s", (grace,))  # cascades to its memories and embeddings
        profile = read_profile(conn)
    assert profile.flavor == "elizaos1" and profile.dimension == 384 and profile.dimensions == (384,)


def test_okai_and_elizaos_0_1_9_are_not_mistaken_for_1x(make_database: Callable[..., str]) -> None:
    eliza019 = make_database("e019")
    with psycopg.connect(eliza019, autocommit=True) as conn:
        create_elizaos_schema(conn, dimension=384)
        assert read_profile(conn).flavor == "elizaos"
    okai = make_database("eokai")
    okai_insight.connect(okai).close()
    with psycopg.connect(okai) as conn:
        profile = read_profile(conn)
        assert profile.flavor == "okai" and profile.writable and profile.agent_dimensions == ()


def test_connect_and_init_refuse_and_change_nothing(
    elizaos1: ElizaOS1Databases, capsys: pytest.CaptureFixture[str]
) -> None:
    before = fingerprint(elizaos1.url)
    for dimension in (None, 384):
        # connect() gives the read-only handle (tests/elizaos1/test_readonly.py); its writes are refused.
        with okai_insight.connect(elizaos1.url, dimension=dimension) as db:
            with pytest.raises(
                ReadOnlySchema, match=r"ElizaOS 1\.x \(@elizaos/plugin-sql\).*nothing was changed"
            ) as err:
                db.create_room()
        assert err.value.schema == NAME and isinstance(err.value, SchemaError)
    assert main(["init", elizaos1.url]) == 1
    out = capsys.readouterr()
    assert "schema ready" not in out.out
    assert out.err.startswith("okai-insight: error: ReadOnlySchema: ") and NAME in out.err
    with pytest.raises(SchemaError, match="ElizaOS"):
        partition_memories(elizaos1.url, partitions=4)
    assert fingerprint(elizaos1.url) == before
