"""The one error table (errors.translate_pg_errors) and the one way to print an error (errors.first_line), against
real server errors: every SQLSTATE the table maps is raised by the embedded PostgreSQL itself where it can be."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from okai_insight.errors import (
    PG_ERROR_TABLE,
    ConnectionFailed,
    DuplicateId,
    FeatureNotAvailable,
    InvalidInput,
    LockTimeout,
    NotFound,
    OkaiError,
    PermissionDenied,
    QueryTimeout,
    first_line,
    translate_pg_errors,
)

Conn = psycopg.Connection[Any]


@pytest.fixture(scope="module")
def conn(pg_url: str) -> Iterator[Conn]:
    with psycopg.connect(pg_url, autocommit=True) as c:
        c.execute("CREATE TABLE IF NOT EXISTS parent (id int PRIMARY KEY)")
        c.execute(
            "CREATE TABLE IF NOT EXISTS child (id int PRIMARY KEY, parent int REFERENCES parent, "
            "n int NOT NULL CHECK (n > 0))"
        )
        c.execute("INSERT INTO parent VALUES (1) ON CONFLICT DO NOTHING")
        c.execute("CREATE SEQUENCE IF NOT EXISTS never_used")
        c.execute("DROP ROLE IF EXISTS okai_no_rights")
        c.execute("CREATE ROLE okai_no_rights")
        yield c


def _raised(conn: Conn, statement: str) -> tuple[OkaiError, psycopg.Error]:
    with pytest.raises(OkaiError) as info, translate_pg_errors():
        conn.execute(statement)
    assert isinstance(info.value.__cause__, psycopg.Error)
    return info.value, info.value.__cause__


# (SQLSTATE the server raises, statement that makes it raise it, okai error expected)
SERVER_ERRORS: list[tuple[str, str, type[OkaiError]]] = [
    ("57014", "SET statement_timeout = '50ms'; SELECT pg_sleep(2)", QueryTimeout),
    ("23503", "INSERT INTO child VALUES (1, 999, 1)", NotFound),
    ("23505", "INSERT INTO parent VALUES (1)", DuplicateId),
    ("23502", "INSERT INTO child VALUES (2, 1, NULL)", InvalidInput),
    ("23514", "INSERT INTO child VALUES (3, 1, -1)", InvalidInput),
    ("22012", "SELECT 1 / 0", InvalidInput),
    ("22P02", "SELECT 'x'::int", InvalidInput),
    ("42501", "SET ROLE okai_no_rights; SELECT * FROM parent", PermissionDenied),
    ("42P01", "SELECT * FROM no_such_table", FeatureNotAvailable),
    ("42883", "SELECT no_such_function()", FeatureNotAvailable),
    ("42704", "SELECT 'no_such_type'::regtype", FeatureNotAvailable),
    ("55000", "SELECT currval('never_used')", FeatureNotAvailable),
]


@pytest.mark.parametrize(("sqlstate", "statement", "expected"), SERVER_ERRORS, ids=[s for s, _, _ in SERVER_ERRORS])
def test_each_server_error_maps_to_its_okai_error(
    pg_url: str, conn: Conn, sqlstate: str, statement: str, expected: type[OkaiError]
) -> None:
    with psycopg.connect(pg_url, autocommit=True) as own:  # SET ROLE / SET must not leak into the shared one
        err, cause = _raised(own, statement)
    assert cause.sqlstate == sqlstate
    assert type(err) is expected
    assert first_line(cause) in str(err) or (cause.diag.message_detail or "") in str(err)


def test_lock_timeout_is_a_lock_timeout(pg_url: str, conn: Conn) -> None:
    holder = psycopg.connect(pg_url)
    try:
        holder.execute("LOCK TABLE parent IN ACCESS EXCLUSIVE MODE")
        with psycopg.connect(pg_url, autocommit=True) as waiter:
            err, cause = _raised(waiter, "SET lock_timeout = '50ms'; SELECT * FROM parent")
    finally:
        holder.rollback()
        holder.close()
    assert cause.sqlstate == "55P03" and type(err) is LockTimeout and "lock_timeout" in str(err)
    assert isinstance(err, QueryTimeout)  # a lock wait is a kind of timeout, as issue 12 defined it


def test_a_terminated_session_is_a_connection_failure(pg_url: str, conn: Conn) -> None:
    with psycopg.connect(pg_url, autocommit=True) as victim:
        pid = victim.info.backend_pid
        done = threading.Event()

        def kill() -> None:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
            done.set()

        threading.Thread(target=kill).start()
        assert done.wait(10)
        with pytest.raises(ConnectionFailed) as info, translate_pg_errors():
            victim.execute("SELECT 1")
    # the server says 57P01 (admin shutdown) when it can; libpq may only see the socket close (no SQLSTATE)
    cause = info.value.__cause__
    assert isinstance(cause, psycopg.OperationalError)
    assert cause.sqlstate in ("57P01", None)


def test_an_unreachable_server_is_a_connection_failure(tmp_path: Any) -> None:
    with pytest.raises(ConnectionFailed) as info, translate_pg_errors("connecting"):
        psycopg.connect(f"host={tmp_path} port=1 dbname=x connect_timeout=2")
    assert str(info.value).startswith("connecting: ") and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.errors.CannotConnectNow, ConnectionFailed),  # 57P03: a server starting up cannot be made to order
        (psycopg.errors.CrashShutdown, ConnectionFailed),  # 57P02
        (psycopg.errors.TooManyConnections, ConnectionFailed),  # class 53
        (psycopg.errors.ConnectionFailure, ConnectionFailed),  # class 08
    ],
)
def test_server_states_a_test_cannot_provoke(error: Callable[[str], psycopg.Error], expected: type[OkaiError]) -> None:
    with pytest.raises(expected), translate_pg_errors():
        raise error("the server says no")


def test_every_table_entry_is_covered_by_a_test() -> None:
    raised = {s for s, _, _ in SERVER_ERRORS} | {"55P03", "57P01", "57P03", "57P02", "53300", "08006"}
    entries = {code if code in PG_ERROR_TABLE else code[:2] for code in raised}
    assert entries == set(PG_ERROR_TABLE)


def test_unmapped_errors_pass_unchanged(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.SyntaxError), translate_pg_errors():
        conn.execute("SELEC 1")
    with pytest.raises(KeyError), translate_pg_errors():
        raise KeyError("not a driver error")


def test_first_line_prefers_the_servers_primary_message(conn: Conn) -> None:
    with pytest.raises(psycopg.Error) as info:
        conn.execute("SELECT * FROM no_such_table")
    assert "\n" in str(info.value)  # libpq adds LINE 1: ... and a caret
    assert first_line(info.value) == 'relation "no_such_table" does not exist'
    assert first_line(ValueError("\n  one\ntwo")) == "one"
    assert first_line(RuntimeError()) == "RuntimeError"
    assert first_line(psycopg.OperationalError("connection failed: refused\n\tIs the server running?")) == (
        "connection failed: refused"
    )


def test_the_cli_prints_a_driver_error_through_the_error_table(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A driver error a CLI command meets is translated by the one table (not caught as psycopg.Error by the CLI
    itself): the okai error's name, its first line, masked, and exit 2 for bad input."""
    import argparse

    from okai_insight.cli import _run

    def divide(args: argparse.Namespace) -> int:
        with psycopg.connect(args.url, autocommit=True) as c:
            c.execute("SELECT 1 / 0 WHERE %s::text IS NOT NULL", ("postgresql://u:s3cr3t@h/db",))
        return 0

    parser = argparse.ArgumentParser(prog="okai-insight")
    parser.set_defaults(func=divide, url=pg_url)
    code = _run(parser, [])
    err = capsys.readouterr().err.strip()
    # InvalidInput (SQLSTATE class 22: the database refused a value) is bad input: exit 2
    assert (code, err) == (2, "okai-insight: error: InvalidInput: the database refused a value: division by zero")
