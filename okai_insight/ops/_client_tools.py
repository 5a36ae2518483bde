"""Run the bundled PostgreSQL client programs (pg_dump, pg_restore, psql, pg_basebackup) without leaking the password.

A child's command line is readable by every local user (``/proc/<pid>/cmdline``, ``ps``), so the password never
goes there: :func:`client_connection` takes it out of the URL and hands it to the child through a password file
(``PGPASSFILE``, mode 0600, owned by whoever runs the child, deleted afterwards). The child's environment is readable
only by its own user and root, and holds just the file's path. Every run has a timeout, and an error message never
carries the password (:func:`redact`), only the tool's last line of complaint.

Example:
    >>> with client_connection("postgresql://me:s3cret@db/agents") as conn:
    ...     "s3cret" in conn.dsn, Path(conn.env["PGPASSFILE"]).read_text()
    (False, '*:*:*:*:s3cret\\n')
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo

from okai_insight._postgres_only import require_postgres
from okai_insight.errors import BackupError, InvalidInput

#: A client program that runs longer than this is stopped (a dump or restore of a large database takes minutes;
#: one that hangs on a lock or a frozen server must not hang its caller for ever).
DEFAULT_TIMEOUT_S = 3600.0
#: Connection parameters that are secrets and so never go on a command line.
_SECRET_KEYS = ("password",)


def tool_path(name: str) -> Path:
    """The bundled program ``name``.

    Example:
        >>> tool_path("pg_dump").name
        'pg_dump'
    """
    from okai_insight.embedded import bin_dir

    return bin_dir() / name


@dataclass(frozen=True)
class ClientConnection:
    """How a child program reaches the database: ``dsn`` for its command line (no password), ``env`` for its
    environment, and the ``secrets`` to scrub from anything it prints."""

    dsn: str
    env: dict[str, str]
    secrets: tuple[str, ...]


def split_password(url: str) -> tuple[str, str | None]:
    """The connection string without its password (in ``key=value`` form), and the password.

    Example:
        >>> split_password("postgresql://me:pw@db:5433/agents")
        ('user=me dbname=agents host=db port=5433', 'pw')
    """
    require_postgres(url, "this operation")  # every client program (pg_dump, pg_basebackup ...) needs PostgreSQL
    try:
        info: Mapping[str, Any] = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise InvalidInput(
            f"not a valid PostgreSQL connection string: {redact(str(exc), _password_guess(url))}"
        ) from exc
    password = info.get("password")
    kept = {k: v for k, v in info.items() if k not in _SECRET_KEYS and v not in (None, "")}
    return conninfo.make_conninfo(**kept), None if password in (None, "") else str(password)


def _password_guess(url: str) -> tuple[str, ...]:
    """What could be a password in a URL that libpq could not even parse (for scrubbing an error message)."""
    head = url.split("@", 1)[0] if "@" in url else ""
    return (head.rsplit(":", 1)[1],) if ":" in head.split("//", 1)[-1] else ()


@contextlib.contextmanager
def client_connection(url: str, *, run_as: int | None = None) -> Iterator[ClientConnection]:
    """A password-free ``dsn`` and the child's environment; the password, if any, is in a 0600 password file
    (owned by ``run_as`` when the child runs as that uid) that is deleted when the block ends.

    Example:
        >>> with client_connection("postgresql://me@db/agents") as conn:
        ...     conn.dsn, "PGPASSFILE" in conn.env
        ('user=me dbname=agents host=db', False)
    """
    dsn, password = split_password(url)
    env = dict(os.environ)
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    if password is None:
        yield ClientConnection(dsn, env, ())
        return
    fd, name = tempfile.mkstemp(prefix="okai-pgpass-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(f"*:*:*:*:{_escape(password)}\n")  # only this child reads it: any host, port, db, user
        os.chmod(name, 0o600)  # libpq ignores a password file others can read
        if run_as is not None and hasattr(os, "chown"):
            os.chown(name, run_as, -1)
        env["PGPASSFILE"] = name
        env.pop("PGPASSWORD", None)  # the URL's password wins, as it would for psycopg
        yield ClientConnection(dsn, env, (password,))
    finally:
        Path(name).unlink(missing_ok=True)


def _escape(value: str) -> str:
    """The password file's escaping: backslash and colon are preceded by a backslash."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret replaced by ``***``.

    Example:
        >>> redact("auth failed for pw s3cret", ("s3cret",))
        'auth failed for pw ***'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def last_complaint(stderr: str, secrets: tuple[str, ...]) -> str:
    """The line of a tool's error output worth showing: the first ``ERROR``/``FATAL`` line, else the last line.

    Example:
        >>> last_complaint("WARNING: x\\npsql:f:3: ERROR:  boom\\nCONTEXT: y\\n", ())
        'psql:f:3: ERROR:  boom'
    """
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    picked = next((line for line in lines if "ERROR:" in line or "FATAL:" in line), lines[-1] if lines else "")
    return redact(picked, secrets)


def run(
    name: str,
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    timeout_s: float = DEFAULT_TIMEOUT_S,
    run_as: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the bundled program ``name`` with ``args`` and wait at most ``timeout_s``; failures raise
    :class:`BackupError` with the tool's complaint (secrets scrubbed).

    Example:
        >>> run("pg_dump", ["--version"]).stdout.split()[0]
        'pg_dump'
    """
    extra: dict[str, Any] = {"user": run_as} if run_as is not None else {}
    try:
        return subprocess.run(
            [str(tool_path(name)), *args],
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout_s,
            **extra,
        )
    except subprocess.CalledProcessError as exc:
        raise BackupError(f"{name} failed: {last_complaint(exc.stderr or '', secrets) or exc.returncode}") from None
    except subprocess.TimeoutExpired:
        raise BackupError(f"{name} did not finish within {timeout_s:.0f} s and was stopped") from None
    except FileNotFoundError as exc:
        raise BackupError(f"{name} is not bundled with this installation: {exc}") from None
