"""The per-transaction hook the isolated and Supabase direct adapters share: every call's transaction acts as
the role with the subclass's settings, and nothing of it outlives the transaction (the pool's next user is clean)."""

from __future__ import annotations

import psycopg

from okai_insight.adapters._scoped import ScopedPostgresAdapter


class Tagged(ScopedPostgresAdapter):
    def __init__(self, url: str, role: str) -> None:
        super().__init__(url, dimension=8)
        self.role = role

    def _scope(self) -> dict[str, str]:
        return {"okai.test_tag": "tagged", "application_name": "okai-scoped-test"}


def _seen(conn: psycopg.Connection, _attempt: int) -> tuple[str, str, str]:
    row = conn.execute(
        "SELECT current_user::text, current_setting('okai.test_tag', true), current_setting('application_name')"
    ).fetchone()
    assert row is not None
    return row


def test_each_call_runs_as_the_role_with_its_settings_and_leaves_nothing_behind(pg_url):
    with psycopg.connect(pg_url) as conn:
        me = conn.execute("SELECT current_user::text").fetchone()[0]
        conn.execute("DROP ROLE IF EXISTS okai_scoped_reader")
        conn.execute("CREATE ROLE okai_scoped_reader")
        conn.execute(f'GRANT okai_scoped_reader TO "{me}"')
        conn.commit()
    db = Tagged(pg_url, "okai_scoped_reader")
    db.init()
    try:
        # A single-statement call too: the hook forces a transaction, or SET LOCAL would not reach it.
        assert db._run(_seen, atomic=False) == ("okai_scoped_reader", "tagged", "okai-scoped-test")
        assert db._run(_seen, read_only=True) == ("okai_scoped_reader", "tagged", "okai-scoped-test")
        with db.pool.connection() as conn:  # the same pool, outside the hook: transaction-local, so gone
            user, tag, _app = _seen(conn, 0)
        assert (user, tag or None) == (me, None)
    finally:
        db.close()
