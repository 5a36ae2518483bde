"""Adversarial SQL corpus (issue 12, item 1): every entry point that takes SQL text, against multi-statement
smuggling in every quoting form PostgreSQL has, statement kinds EXPLAIN must not take, writes in CTEs and
functions whose effects a rollback does not undo. After every case: a typed refusal or a harmless plan, and the
database's state (every user table's rows, relations, sequences, large objects, advisory locks, sessions, a
victim session still alive) unchanged.

Entry points: ``explain()`` on a URL and on a pooled adapter, the CLI's ``main()``, ``%okai explain``,
``%%okai_explain``, the Explain widget's handler, each with and without analyze; the issue's reproducers also
through the installed ``okai-insight`` executable.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from psycopg import sql

from okai_insight.adapters.postgres import PostgresAdapter
from okai_insight.cli import main
from okai_insight.diagnostics import explain as ex
from okai_insight.diagnostics._runner import Runner
from okai_insight.errors import InvalidInput, StatementRefused
from okai_insight.jupyter._explore import ExplainWidget
from okai_insight.jupyter._magics import OkaiMagics

from .conftest import _load_memories

VICTIM = "okai-victim"
LOCK_KEY = 4242
#: The two reproducers of issue 12, verbatim: both deleted every memory and exited 0.
REPRODUCERS = (
    "SELECT E'\\''; COMMIT; DELETE FROM memories; --'",
    "SELECT 1 AS _$a$; COMMIT; DELETE FROM memories; SELECT 1 AS _$a$",
)


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    #: "refused": refused with and without analyze; "analyze": refused with analyze (a plan without is harmless);
    #: "either": one statement that is harmless either way (a plan or an error from the server, nothing changes).
    expect: str


SMUGGLING = [
    Case("issue-E-string", REPRODUCERS[0], "refused"),
    Case("issue-dollar-in-identifier", REPRODUCERS[1], "refused"),
    Case("E-escaped-backslash", "SELECT E'\\\\'; COMMIT; DELETE FROM memories; --'", "refused"),
    Case("E-hex-quote", "SELECT E'\\x27'; DELETE FROM small; --'", "refused"),
    Case("E-unicode-quote", "SELECT E'\\u0027'; DELETE FROM small; --'", "refused"),
    Case("dollar-tag", "SELECT $q$ ; $q$; DELETE FROM small; SELECT $q$x$q$", "refused"),
    Case("dollar-tag-case", "SELECT $q$ $Q$; DELETE FROM small; --$q$", "either"),
    Case("dollar-empty-tag", "SELECT $$;$$; COMMIT; DELETE FROM small; SELECT $$", "refused"),
    Case("dollar-in-identifier-mid", "SELECT 1 AS a$b$; DELETE FROM small; SELECT 1 AS a$b$", "refused"),
    Case("dollar-param-lookalike", "SELECT $1$; DELETE FROM small; --$", "refused"),
    Case("U&-identifier", 'SELECT 1 AS U&"\\0022"; DELETE FROM small; --"', "refused"),
    Case("U&-identifier-uescape", 'SELECT 1 AS U&"!0022" UESCAPE \'!\'; DELETE FROM small; --"', "refused"),
    Case("U&-string-uescape", "SELECT U&'!0027' UESCAPE '!'; DELETE FROM small; --'", "refused"),
    Case("U&-string-backslash", "SELECT U&'\\0027'; DELETE FROM small; --'", "refused"),
    Case("nested-comment-hides", "SELECT 1 /* /* */ ; DELETE FROM small; /* */ */", "either"),
    Case("nested-comment-closes", "SELECT 1 /* /* */ */; DELETE FROM small", "refused"),
    Case("line-comment", "SELECT 1 -- ;\n; DELETE FROM small", "refused"),
    Case("line-comment-cr", "SELECT 1 -- x\r; DELETE FROM small", "refused"),
    Case("scs-backslash-quote", "SELECT 'a\\'; DELETE FROM small; --'", "refused"),
    Case("scs-hidden-in-string", "SELECT '\\''; DELETE FROM small; --'", "either"),
    Case("quoted-identifier-semicolon", 'SELECT 1 AS "a;"; DELETE FROM small', "refused"),
    Case("leading-comment", "/* x */ DELETE FROM small; SELECT 1", "refused"),
    Case("rollback-then-write", "SELECT 1; ROLLBACK; BEGIN READ WRITE; DELETE FROM small; COMMIT", "refused"),
    Case("nul-byte", "SELECT 1\x00; DELETE FROM small", "refused"),
    Case("trailing-semicolons", "SELECT count(*) FROM small;;; -- done", "either"),
]
KINDS = [
    Case("drop", "DROP TABLE small", "refused"),
    Case("truncate", "TRUNCATE small", "refused"),
    Case("copy-to-program", "COPY small TO PROGRAM 'touch /tmp/okai_pwned'", "refused"),
    Case("copy-query-to-program", "COPY (SELECT 1) TO PROGRAM 'touch /tmp/okai_pwned'", "refused"),
    Case("do-block", "DO $$ BEGIN DELETE FROM small; END $$", "refused"),
    Case("create-table-as", "CREATE TABLE pwned AS SELECT 1", "refused"),
    Case("select-into", "SELECT * INTO pwned FROM small", "analyze"),
    Case("set", "SET default_transaction_read_only = off", "refused"),
    Case("commit", "COMMIT", "refused"),
    Case("explain-inside", "EXPLAIN ANALYZE DELETE FROM small", "refused"),
    Case("prepare", "PREPARE p AS DELETE FROM small", "refused"),
    Case("declare", "DECLARE c CURSOR FOR SELECT 1", "refused"),
    Case("listen", "LISTEN pwned", "refused"),
    Case("alter-system", "ALTER SYSTEM SET work_mem = '1GB'", "refused"),
    Case("call", "CALL nothing()", "refused"),
    Case("vacuum", "VACUUM small", "refused"),
]
WRITES = [
    Case("delete", "DELETE FROM small", "analyze"),
    Case("cte-delete", "WITH d AS (DELETE FROM small RETURNING *) SELECT count(*) FROM d", "analyze"),
    Case("cte-update", "WITH u AS (UPDATE small SET note = 'x' RETURNING 1) SELECT 1", "analyze"),
    Case("cte-insert", "WITH i AS (INSERT INTO small VALUES (999, 'x') RETURNING 1) SELECT 1", "analyze"),
    Case(
        "cte-merge",
        "WITH m AS (MERGE INTO small s USING (SELECT 1 AS id) v ON s.id = v.id "
        "WHEN MATCHED THEN DELETE RETURNING 1) SELECT 1",
        "analyze",
    ),
    Case(
        "cte-nested",
        "WITH a AS (SELECT 1), b AS (DELETE FROM small WHERE id IN (SELECT 1 FROM a) RETURNING 1) SELECT 1",
        "analyze",
    ),
    Case("subquery-cte", "SELECT * FROM (WITH d AS (DELETE FROM small RETURNING 1) SELECT * FROM d) s", "analyze"),
    Case("for-update", "SELECT * FROM small FOR UPDATE", "analyze"),
    Case("update-from-memories", "UPDATE memories SET \"type\" = 'x'", "analyze"),
]
VICTIM_PIDS = f"SELECT pid FROM pg_stat_activity WHERE application_name = '{VICTIM}'"
SIDE_EFFECTS = [
    Case("terminate", f"SELECT pg_terminate_backend(pid) FROM ({VICTIM_PIDS}) v", "analyze"),
    Case("cancel", f"SELECT pg_cancel_backend(pid) FROM ({VICTIM_PIDS}) v", "analyze"),
    Case("advisory-lock", f"SELECT pg_advisory_lock({LOCK_KEY})", "analyze"),
    Case("advisory-lock-from", f"SELECT * FROM pg_advisory_lock_shared({LOCK_KEY})", "analyze"),
    Case("try-advisory-lock", f"SELECT pg_try_advisory_lock({LOCK_KEY})", "analyze"),
    Case("advisory-quoted", f'SELECT "pg_advisory_lock"({LOCK_KEY})', "analyze"),
    Case("advisory-qualified", f"SELECT pg_catalog.pg_advisory_lock({LOCK_KEY})", "analyze"),
    Case("advisory-U&", f'SELECT U&"pg\\005fadvisory\\005flock"({LOCK_KEY})', "analyze"),
    Case("advisory-upper", f"SELECT PG_ADVISORY_LOCK({LOCK_KEY})", "analyze"),
    Case("advisory-in-where", f"SELECT 1 FROM small WHERE pg_try_advisory_lock({LOCK_KEY} + id)", "analyze"),
    Case("set-config-session", "SELECT set_config('application_name', 'pwned', false)", "analyze"),
    Case(
        "dblink",
        "SELECT dblink_exec('host=' || current_setting('unix_socket_directories') || ' dbname=' || "
        "current_database(), 'DELETE FROM small')",
        "analyze",
    ),
    Case("lo-import", "SELECT lo_import('/etc/hostname')", "analyze"),
    Case("lo-from-bytea", "SELECT lo_from_bytea(0, 'x')", "analyze"),
    Case("lo-export", "SELECT lo_export(oid, '/tmp/okai_pwned') FROM pg_largeobject_metadata", "analyze"),
    Case("lo-unlink", "SELECT lo_unlink(oid) FROM pg_largeobject_metadata", "analyze"),
    Case("nextval", "SELECT nextval('counter')", "analyze"),
    Case("setval", "SELECT setval('counter', 100)", "analyze"),
    Case("notify", "SELECT pg_notify('pwned', 'x')", "analyze"),
    Case("txid", "SELECT txid_current()", "analyze"),
    Case("restore-point", "SELECT pg_create_restore_point('pwned')", "analyze"),
    Case("reload-conf", "SELECT pg_reload_conf()", "analyze"),
    Case("rotate-log", "SELECT pg_rotate_logfile()", "analyze"),
    Case("switch-wal", "SELECT pg_switch_wal()", "analyze"),
    Case("read-file", "SELECT pg_read_file('postgresql.conf')", "analyze"),
    Case("ls-dir", "SELECT * FROM pg_ls_dir('.')", "analyze"),
    Case("query-to-xml", f"SELECT query_to_xml('SELECT pg_advisory_lock({LOCK_KEY})', true, false, '')", "refused"),
    Case("table-to-xml", "SELECT table_to_xml('locking_view', true, false, '')", "refused"),
    Case("user-volatile", "SELECT bump()", "analyze"),
    Case("user-volatile-operator", "SELECT 1 ### 2", "analyze"),
    Case("view-hides-lock", "SELECT * FROM locking_view", "analyze"),
    Case("view-hides-terminate", "SELECT * FROM killer_view", "analyze"),
    Case("view-hides-set-config", "SELECT * FROM settings_view", "analyze"),
    Case("random-is-fine", "SELECT random() FROM small", "either"),
    Case("sleep-is-bounded", "SELECT pg_sleep(0.01)", "either"),
]
CORPUS = SMUGGLING + KINDS + WRITES + SIDE_EFFECTS


@dataclass
class Db:
    url: str
    adapter: PostgresAdapter
    victim: psycopg.Connection[Any]
    watch: psycopg.Connection[Any]
    #: The state the previous corpus case left (equal to the one before it, or that case failed).
    last: tuple[Any, ...] | None = None

    def revive(self) -> None:
        """Reconnect the victim if a case killed it, so one failure does not fail every case after it."""
        try:
            self.victim.execute("SELECT 1")
        except psycopg.OperationalError:
            self.victim = psycopg.connect(self.url, autocommit=True, application_name=VICTIM)
            self.last = None


@pytest.fixture(scope="module")
def db(pg_url: str) -> Iterator[Db]:
    adapter = PostgresAdapter(pg_url)
    adapter.init()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        _load_memories(conn, 20)
        conn.execute("CREATE EXTENSION IF NOT EXISTS dblink")
        conn.execute("CREATE TABLE small (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO small SELECT g, 'n' || g FROM generate_series(1, 50) AS g")
        conn.execute("CREATE SEQUENCE counter")
        conn.execute("SELECT lo_from_bytea(0, 'a large object')")
        conn.execute("CREATE FUNCTION bump() RETURNS int VOLATILE LANGUAGE sql AS 'SELECT 1'")
        conn.execute("CREATE FUNCTION bump2(int, int) RETURNS int VOLATILE LANGUAGE sql AS 'SELECT $1 + $2'")
        conn.execute("CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = bump2)")
        # functions hidden from the statement's text: only the plan shows them
        conn.execute(f"CREATE VIEW locking_view AS SELECT pg_advisory_lock({LOCK_KEY}) IS NULL AS l")
        conn.execute("CREATE VIEW settings_view AS SELECT set_config('application_name', 'pwned', false) AS s")
        conn.execute(f"CREATE VIEW killer_view AS SELECT pg_terminate_backend(pid) AS t FROM ({VICTIM_PIDS}) v")
        conn.execute("ANALYZE")
    victim = psycopg.connect(pg_url, autocommit=True, application_name=VICTIM)
    watch = psycopg.connect(pg_url, autocommit=True)
    yield Db(pg_url, adapter, victim, watch)
    victim.close()
    watch.close()
    adapter.close()


def state(db: Db) -> tuple[Any, ...]:
    """What no case may change, read in one round trip: every user table's rows (hashed; a table created or
    dropped changes the list), the sequence, large objects, advisory locks, sessions named 'pwned'; then the
    victim session alive, and no file written by COPY / lo_export."""
    tables = db.watch.execute(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_user_tables ORDER BY 1"
    ).fetchall()
    hashes = sql.SQL(", ").join(
        sql.SQL("(SELECT md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) FROM {} AS x)").format(sql.SQL(t))
        for (t,) in tables
    )
    row = db.watch.execute(
        sql.SQL(
            "SELECT ARRAY[{}], (SELECT array_agg(relname ORDER BY relname) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'), "
            "(SELECT last_value || ':' || is_called FROM counter), "
            "(SELECT array_agg(oid ORDER BY oid) FROM pg_largeobject_metadata), "
            "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'), "
            "(SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pwned')"
        ).format(hashes)
    ).fetchone()
    assert row is not None
    try:
        victim_alive = db.victim.execute("SELECT pg_backend_pid()").fetchone() == (db.victim.info.backend_pid,)
    except psycopg.OperationalError:
        victim_alive = False
    return (tables, *row, victim_alive, Path("/tmp/okai_pwned").exists())


# -- entry points: each returns "refused" (a typed refusal) or "plan"; anything else fails the test -------------
def _python(db: Db, query: str, analyze: bool) -> str:
    try:
        ex.explain(db.url, query, analyze=analyze)
    except InvalidInput:
        return "refused"
    return "plan"


def _pooled(db: Db, query: str, analyze: bool) -> str:
    try:
        ex.explain(db.adapter, query, analyze=analyze)
    except InvalidInput:
        return "refused"
    return "plan"


def _cli(db: Db, query: str, analyze: bool) -> str:
    code = main(["explain", db.url, "--query", query, *(["--analyze"] if analyze else [])])
    assert code in (0, 1, 2), code
    return "refused" if code == 2 else "plan"


def _magics(db: Db) -> OkaiMagics:
    return OkaiMagics(InteractiveShell.instance(), url=db.url)


def _typed_usage(exc: UsageError) -> str:
    # the magics turn an okai-insight error into "TypeName: message"; a refusal names InvalidInput or a subclass
    name = str(exc).split(":", 1)[0]
    assert name in ("InvalidInput", "StatementRefused"), str(exc)
    return "refused"


def _line_magic(db: Db, query: str, analyze: bool) -> str:
    try:
        _magics(db).okai(f"explain {'--analyze ' if analyze else ''}{query}")
    except UsageError as exc:
        return _typed_usage(exc)
    return "plan"


def _cell_magic(db: Db, query: str, analyze: bool) -> str:
    try:
        _magics(db).okai_explain("--analyze" if analyze else "", query)
    except UsageError as exc:
        return _typed_usage(exc)
    return "plan"


def _widget(db: Db, query: str, analyze: bool) -> str:
    w = ExplainWidget(db.url, query=query, background=False)
    w.analyze.value = analyze
    try:
        w.compute()  # the handler behind the Explain button
    except InvalidInput as exc:
        w.refresh()  # and what the button shows: the refusal as one line, no plan
        assert w.error == str(exc).splitlines()[0] and "Error: " in w.body.value
        return "refused"
    return "plan"


ENTRY_POINTS: dict[str, Callable[[Db, str, bool], str]] = {
    "python": _python,
    "pooled": _pooled,
    "cli": _cli,
    "line-magic": _line_magic,
    "cell-magic": _cell_magic,
    "widget": _widget,
}


def _params() -> list[Any]:
    out = []
    for entry in ENTRY_POINTS:
        for case in CORPUS:
            if entry == "line-magic" and ("\n" in case.sql or "\r" in case.sql):
                continue  # a line magic is one line: IPython never passes it a newline
            out.append(pytest.param(entry, case, id=f"{entry}-{case.id}"))
    return out


@pytest.mark.parametrize("analyze", [False, True], ids=["plain", "analyze"])
@pytest.mark.parametrize(("entry", "case"), _params())
def test_corpus(db: Db, entry: str, case: Case, analyze: bool) -> None:
    db.revive()
    before = db.last or state(db)  # read once: each case's "after" is the next one's "before"
    outcome = ENTRY_POINTS[entry](db, case.sql, analyze)
    db.last = after = state(db)
    if case.expect == "refused" or (case.expect == "analyze" and analyze):
        assert outcome == "refused", f"{case.sql!r} was not refused"
    assert after == before


def test_issue_reproducers_through_the_installed_cli(db: Db) -> None:
    exe = Path(sys.executable).with_name("okai-insight")
    before = state(db)
    for query in REPRODUCERS:
        for extra in ([], ["--analyze"]):
            done = subprocess.run(
                [str(exe), "explain", db.url, "--query", query, *extra],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert done.returncode == 2, (query, extra, done.stdout, done.stderr)
            assert "one statement at a time" in done.stderr
            assert state(db) == before


def test_the_server_refuses_a_second_statement_even_past_the_parser(db: Db) -> None:
    """The second wall: text that reaches the runner without the parser's check still runs as one statement."""
    before = state(db)
    with Runner(db.url) as run:
        for unbound in (False, True):
            with pytest.raises(psycopg.errors.SyntaxError, match="cannot insert multiple commands"):
                run.execute(sql.SQL("SELECT 1; COMMIT; DELETE FROM small"), unbound_params=unbound)
            assert run.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    assert state(db) == before


def test_standard_conforming_strings_off_cannot_hide_a_call(db: Db, make_database: Callable[..., str]) -> None:
    """Under standard_conforming_strings = off the server reads '\\'' as a closed string: the text below would
    show it a pg_advisory_lock call that the parser (standard strings) reads as part of a string constant."""
    hidden = f"SELECT '\\'' , pg_advisory_lock({LOCK_KEY}) --'"
    db.last = None
    before = state(db)
    with pytest.raises(StatementRefused, match="standard_conforming_strings"):
        ex.explain(db.url, hidden, analyze=True, settings={"standard_conforming_strings": "off"})
    # a database whose default is off: the runner sets it on for the statement, so the server reads it as we did
    url = make_database("scs_off")
    name = url.split("/")[3].split("?")[0]
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET standard_conforming_strings = off").format(sql.Identifier(name)))
    plan = ex.explain(url, hidden, analyze=True)
    assert plan.root.node_type == "Result"
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SHOW standard_conforming_strings").fetchone() == ("off",)
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone() == (0,)
    assert state(db) == before


def test_session_state_of_explain_analyze_dies_with_its_connection(db: Db) -> None:
    """What no name check sees (a trigger of a statement run with allow_writes) runs on a throwaway connection:
    the session-level advisory lock it takes vanishes with it, on the caller's own connection and on a pool."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION grab() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"PERFORM pg_advisory_lock({LOCK_KEY}); RETURN NEW; END $$"
        )
        conn.execute("CREATE TABLE trapped (id int)")
        conn.execute("CREATE TRIGGER grab BEFORE INSERT ON trapped FOR EACH ROW EXECUTE FUNCTION grab()")
    db.last = None  # tables change here
    try:
        before = state(db)
        with psycopg.connect(db.url) as caller:  # a notebook's own connection, left as it was found
            for target in (caller, db.adapter):
                plan = ex.explain(target, "INSERT INTO trapped VALUES (1)", analyze=True, allow_writes=True)
                assert plan.root.node_type == "ModifyTable" and plan.nodes[0].actual_rows == 0
                assert state(db) == before  # no lock held by anyone, the row rolled back
            assert caller.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    finally:
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute("DROP TABLE trapped")
            conn.execute("DROP FUNCTION grab()")


def test_okai_sql_values_stay_literals(db: Db) -> None:
    """``%okai sql`` takes values, not SQL: each is quoted as a literal (backslashes and quotes included)."""
    from okai_insight.query_files import jupysql_text

    before = state(db)
    for value in ("0'; DELETE FROM small; --", "0\\'; DELETE FROM small; --", "$$; DELETE FROM small; --"):
        text = jupysql_text("indexes", "unused_indexes", min_size_bytes=value)
        with psycopg.connect(db.url, autocommit=True) as conn:
            # the simple protocol, as jupysql sends it: one statement, whose value fails its cast
            with pytest.raises(psycopg.errors.InvalidTextRepresentation):
                conn.execute(text.encode(), prepare=False)
    assert state(db) == before
