"""The Supabase migration: what it creates, on a database prepared like a Supabase project."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from okai_insight.errors import FeatureNotAvailable, SchemaError
from okai_insight.schema import read_profile
from okai_insight.schema.supabase import apply, render
from tests.supabase.conftest import DIM

TABLES = (
    "accounts",
    "cache",
    "goals",
    "knowledge",
    "logs",
    "memories",
    "okai_schema_version",
    "okai_settings",
    "participants",
    "relationships",
    "rooms",
)
RPCS = (
    "check_similarity_and_insert",
    "count_memories",
    "create_room",
    "get_embedding_list",
    "remove_memories",
    "search_knowledge",
    "search_memories",
)


def test_every_table_has_row_level_security(supabase_url: str) -> None:
    with psycopg.connect(supabase_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname"
        ).fetchall()
    assert rows == [(t, True) for t in TABLES]


def test_one_policy_per_table_and_command(supabase_url: str) -> None:
    """Every memory table has exactly one permissive policy for each of SELECT, INSERT, UPDATE, DELETE (or none,
    which refuses the command): no FOR ALL policy widens a command it was not written for."""
    with psycopg.connect(supabase_url) as conn:
        rows = conn.execute("SELECT tablename, cmd, permissive, qual, with_check FROM pg_policies").fetchall()
    commands: dict[str, list[str]] = {}
    for table, cmd, permissive, _qual, _check in rows:
        assert permissive == "PERMISSIVE" and cmd != "ALL"
        commands.setdefault(table, []).append(cmd)
    assert set(commands) == set(TABLES)
    assert all(len(cmds) == len(set(cmds)) for cmds in commands.values())
    assert sorted(commands["relationships"]) == ["DELETE", "INSERT", "SELECT"]
    assert sorted(commands["logs"]) == ["DELETE", "INSERT", "SELECT"]
    assert sorted(commands["memories"]) == ["DELETE", "INSERT", "SELECT", "UPDATE"]
    memories = {cmd: (qual, check) for table, cmd, _p, qual, check in rows if table == "memories"}
    # The spec's memories_isolation (the user or the agent), tied to a room the caller can access.
    insert_check = memories["INSERT"][1]
    assert '"userId"' in insert_check and '"agentId"' in insert_check and "auth.uid()" in insert_check
    assert 'can_access_room("roomId")' in insert_check


def test_rpcs_are_security_invoker_and_not_for_anon(supabase_url: str) -> None:
    with psycopg.connect(supabase_url) as conn:
        rows = conn.execute(
            "SELECT p.proname, p.prosecdef, has_function_privilege('anon', p.oid, 'EXECUTE'), "
            "has_function_privilege('authenticated', p.oid, 'EXECUTE') "
            "FROM pg_proc AS p WHERE p.pronamespace = 'public'::regnamespace AND p.proname = ANY(%s) "
            "ORDER BY p.proname",
            (list(RPCS),),
        ).fetchall()
    assert rows == [(name, False, False, True) for name in RPCS]
    with psycopg.connect(supabase_url) as conn:
        actors = conn.execute(
            "SELECT p.prosecdef, has_function_privilege('anon', p.oid, 'EXECUTE') FROM pg_proc AS p "
            "WHERE p.oid = 'public.get_actor_details(uuid)'::regprocedure"
        ).fetchone()
    assert actors == (True, False)  # definer: it answers only for rooms the caller can access (test_isolation)


def test_role_grants(supabase_url: str) -> None:
    with psycopg.connect(supabase_url) as conn:

        def can(role: str, table: str, privilege: str) -> bool:
            row = conn.execute("SELECT has_table_privilege(%s, %s, %s)", (role, table, privilege)).fetchone()
            return bool(row and row[0])

        # The spec's role: SELECT and INSERT on memories, usage on the schema, nothing else.
        assert can("app_user", "memories", "SELECT") and can("app_user", "memories", "INSERT")
        assert not can("app_user", "memories", "DELETE") and not can("app_user", "accounts", "SELECT")
        (usage,) = conn.execute("SELECT has_schema_privilege('app_user', 'public', 'USAGE')").fetchone() or (False,)
        assert usage
        # anon: nothing at all; authenticated: what the adapter uses; logs are append-only for it.
        assert not any(can("anon", t, p) for t in TABLES for p in ("SELECT", "INSERT", "UPDATE", "DELETE"))
        assert can("authenticated", "memories", "DELETE") and not can("authenticated", "logs", "UPDATE")
        assert not can("authenticated", "okai_settings", "INSERT")
        assert all(can("service_role", t, "DELETE") for t in TABLES)
        bypass = conn.execute(
            "SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role') "
            "ORDER BY rolname"
        ).fetchall()
        assert bypass == [("anon", False), ("authenticated", False), ("service_role", True)]


def test_schema_is_read_as_okai_current_with_its_dimension(supabase_url: str) -> None:
    with psycopg.connect(supabase_url) as conn:
        profile = read_profile(conn)
    assert profile.flavor == "okai" and profile.dimension == DIM and profile.schema_version == 2


def test_hnsw_indexes_use_the_cosine_operator_class(supabase_url: str) -> None:
    with psycopg.connect(supabase_url) as conn:
        defs = [d for (d,) in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE '%%_embedding'")]
    assert len(defs) == 2 and all("hnsw" in d and "vector_cosine_ops" in d for d in defs)


def test_apply_twice_is_refused_and_leaves_the_schema(supabase_url: str) -> None:
    with psycopg.connect(supabase_url, autocommit=True) as conn:
        with pytest.raises(SchemaError, match="already has"):
            apply(conn, dimension=DIM)
        assert read_profile(conn).flavor == "okai"


def test_a_plain_postgres_database_is_refused_with_the_reason(make_database: Callable[[str], str]) -> None:
    url = make_database("plain")
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(FeatureNotAvailable, match=r"auth\.uid\(\)"):
            apply(conn, dimension=DIM)
        assert read_profile(conn).flavor == "empty"


def test_render_large_dimensions() -> None:
    assert '"embedding" halfvec(3072)' in render(3072) and "halfvec_cosine_ops" in render(3072)
    big = render(5000)
    assert "USING hnsw" not in big and "INSERT INTO okai_schema_version (version, name) VALUES (2," in big
