"""A restore that is one transaction, and checks itself before it commits.

``pg_restore --single-transaction -f -`` turns the dump into one SQL script (``BEGIN`` ... ``COMMIT``), which
``psql -v ON_ERROR_STOP=1`` runs on the target. Before the script, a prologue opens the transaction and arms a
deferred constraint trigger: at ``COMMIT`` it runs the fingerprint (``queries/ops/fingerprint.sql``) over the
restored tables and raises if it differs from the dump's, which turns the commit into a rollback. So:

* any SQL error (a table that exists without ``--clean``, a dependency ``--clean`` cannot drop) stops psql, and
  the open transaction dies with its connection: the target is as it was, ``--clean``'s drops included;
* a damaged archive stops pg_restore before it writes ``COMMIT``: psql reaches the end of its input with the
  transaction open, and it is rolled back;
* a restore that does not reproduce the fingerprint is rolled back by the check at commit.

Example:
    >>> restore_in_one_transaction(dump, url, expected=fp, check=do_block, clean=True) is None   # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg import sql

from okai_insight.ops import _client_tools as tools

#: The message of the check's error, to tell it from any other error in psql's output.
MISMATCH = "okai-insight restore check: the restored rows do not match the dump's fingerprint"

_PROLOGUE = """\
BEGIN;
CREATE TEMPORARY TABLE okai_restore_guard (armed boolean);
CREATE FUNCTION pg_temp.okai_verify_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $okai_verify$
DECLARE
    found jsonb;
BEGIN
    EXECUTE {check};
    found := current_setting('okai.fingerprint')::jsonb;
    IF found IS DISTINCT FROM {expected}::jsonb THEN
        RAISE EXCEPTION USING MESSAGE = {mismatch}, DETAIL = found::text;
    END IF;
    RETURN NULL;
END
$okai_verify$;
CREATE CONSTRAINT TRIGGER okai_verify_restore
AFTER INSERT ON pg_temp.okai_restore_guard
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION pg_temp.okai_verify_restore();
INSERT INTO pg_temp.okai_restore_guard VALUES (true);
"""


@dataclass(frozen=True)
class RestoreFailure:
    """Why a restore was rolled back: the tool's complaint, and, when the check refused it, the fingerprint the
    restored rows had (JSON object)."""

    message: str
    found: dict[str, Any] | None = None


def prologue(expected: dict[str, Any], check: str) -> str:
    """The SQL that opens the restore's transaction and arms its check.

    Example:
        >>> prologue({"row_counts": {}}, "DO $$ BEGIN END $$").splitlines()[0]
        'BEGIN;'
    """
    return (
        sql.SQL(_PROLOGUE)
        .format(
            check=sql.Literal(check),
            expected=sql.Literal(json.dumps(expected)),
            mismatch=sql.Literal(MISMATCH),
        )
        .as_string()
    )


def restore_in_one_transaction(
    source: Path,
    url: str,
    *,
    expected: dict[str, Any],
    check: str,
    clean: bool,
    timeout_s: float = tools.DEFAULT_TIMEOUT_S,
) -> RestoreFailure | None:
    """Restore ``source`` into ``url`` in one transaction that commits only if the restored rows reproduce
    ``expected`` (``check`` is the bound fingerprint DO block); None when it committed.

    Example:
        >>> restore_in_one_transaction(dump, url, expected=fp, check=do_block, clean=False)   # doctest: +SKIP
    """
    restore_args = ["--single-transaction", "--no-owner", "-f", "-"]
    if clean:
        restore_args += ["--clean", "--if-exists"]
    with (
        tools.client_connection(url) as child,
        tempfile.NamedTemporaryFile("w", prefix="okai-restore-", suffix=".sql", encoding="utf-8") as first,
        tempfile.TemporaryFile("w+") as restore_err,
        tempfile.TemporaryFile("w+") as psql_err,
    ):
        first.write(prologue(expected, check))
        first.flush()
        env = dict(child.env, PGAPPNAME="okai-insight restore")
        psql_args = ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", child.dsn, "-f", first.name, "-f", "-"]
        producer = subprocess.Popen(
            [str(tools.tool_path("pg_restore")), *restore_args, str(source)],
            stdout=subprocess.PIPE,
            stderr=restore_err,
        )
        assert producer.stdout is not None
        try:
            consumer = subprocess.Popen(
                [str(tools.tool_path("psql")), *psql_args],
                stdin=producer.stdout,
                stdout=subprocess.DEVNULL,
                stderr=psql_err,
                env=env,
            )
        except OSError:
            producer.kill()
            producer.wait()
            raise
        finally:
            producer.stdout.close()  # psql holds the pipe now; if psql stops, pg_restore gets EPIPE and stops
        deadline = time.monotonic() + timeout_s
        try:
            psql_rc = consumer.wait(timeout=timeout_s)
            restore_rc = producer.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for process in (consumer, producer):
                process.kill()
                process.wait()
            return RestoreFailure(f"it did not finish within {timeout_s:.0f} s and was stopped")
        psql_err.seek(0)
        restore_err.seek(0)
        if psql_rc != 0:
            return _psql_failure(psql_err.read(), child.secrets)
        if restore_rc != 0:
            return RestoreFailure("pg_restore: " + tools.last_complaint(restore_err.read(), child.secrets))
    return None


def _psql_failure(stderr: str, secrets: tuple[str, ...]) -> RestoreFailure:
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if MISMATCH in line:
            detail = next((x for x in lines[i + 1 : i + 4] if x.startswith("DETAIL:")), "")
            try:
                found = json.loads(detail.removeprefix("DETAIL:").strip())
            except json.JSONDecodeError:
                found = None
            return RestoreFailure(MISMATCH, found if isinstance(found, dict) else None)
    return RestoreFailure(tools.last_complaint(stderr, secrets) or "psql failed")
