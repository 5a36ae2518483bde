"""verify-isolation on the Supabase profile: passes on the migration as shipped, and names every planted leak.

Each test plants one defect the red-team pass found verify-isolation missing (a permissive UPDATE policy, a
permissive DELETE policy, a backdoor policy for one literal user id), or row level security switched off on one
table, then asserts the verifier fails and names it; the defect is removed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from okai_insight.ops.security import verify_isolation
from tests.supabase.world import World, build_world

BACKDOOR = "0b5e55ed-0000-4000-8000-00000000d00r".replace("r", "0")


@pytest.fixture(scope="module")
def populated(supabase_url: str) -> Iterator[str]:
    worlds: list[World] = [build_world(supabase_url, "alice", 0), build_world(supabase_url, "bob", 4)]
    yield supabase_url
    for w in worlds:
        w.db.close()


def _planted(url: str, plant: str, undo: str) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(plant.encode())
    try:
        report = verify_isolation(url)
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(undo.encode())
    assert not report.ok
    return report.problems


def test_the_shipped_profile_passes(populated: str) -> None:
    report = verify_isolation(populated)
    assert report.ok, report.problems
    assert report.mode == "supabase" and len(report.users) == 4  # two users, a stranger, no user id
    tables = {c["table"] for c in report.checks}
    assert tables == {"accounts", "rooms", "participants", "memories", "goals", "logs", "relationships",
                      "knowledge", "cache"}  # fmt: skip
    assert all(c[cmd] == "isolated" for c in report.checks for cmd in ("select", "insert", "update", "delete"))


def test_a_permissive_update_policy_is_named(populated: str) -> None:
    problems = _planted(
        populated,
        'CREATE POLICY "leak_update" ON memories FOR UPDATE USING (true)',
        'DROP POLICY "leak_update" ON memories',
    )
    assert any('"leak_update"' in p and "not one of the expected" in p for p in problems)
    assert any("can UPDATE" in p and "memories" in p for p in problems)  # and a user actually did


def test_a_permissive_delete_policy_is_named(populated: str) -> None:
    problems = _planted(
        populated,
        'CREATE POLICY "leak_delete" ON goals FOR DELETE USING (true)',
        'DROP POLICY "leak_delete" ON goals',
    )
    assert any('"leak_delete"' in p for p in problems)
    assert any("can DELETE" in p and "goals" in p for p in problems)


def test_a_backdoor_for_one_user_id_is_named(populated: str) -> None:
    problems = _planted(
        populated,
        f"CREATE POLICY \"support\" ON memories FOR SELECT USING ((SELECT auth.uid()) = '{BACKDOOR}'::uuid)",
        'DROP POLICY "support" ON memories',
    )
    assert any('"support"' in p and "literal id" in p and BACKDOOR in p for p in problems)
    assert any(f"user {BACKDOOR} sees" in p for p in problems)  # the named id was impersonated, and it sees


def test_a_backdoor_hidden_in_an_expected_policy_is_named(populated: str) -> None:
    problems = _planted(
        populated,
        'ALTER POLICY "cache_select" ON cache USING '
        f'("agentId" = ((SELECT auth.uid()))::text OR "agentId" <> \'{BACKDOOR}\')',
        'ALTER POLICY "cache_select" ON cache USING ("agentId" = ((SELECT auth.uid()))::text)',
    )
    assert any('"cache_select"' in p and "literal id" in p for p in problems)
    assert any("sees" in p and "cache" in p for p in problems)


def test_row_level_security_off_on_one_table_is_named(populated: str) -> None:
    problems = _planted(
        populated, "ALTER TABLE logs DISABLE ROW LEVEL SECURITY", "ALTER TABLE logs ENABLE ROW LEVEL SECURITY"
    )
    assert any("row level security is off on logs" in p for p in problems)
    assert any("sees" in p and "logs" in p for p in problems)


def test_grants_to_anon_are_named(populated: str) -> None:
    problems = _planted(populated, "GRANT SELECT ON knowledge TO anon", "REVOKE SELECT ON knowledge FROM anon")
    assert any("anon holds privileges on knowledge" in p for p in problems)
