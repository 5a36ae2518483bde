"""Point-in-time recovery: WAL archiving, and a verified restore of a base backup to a moment.

* :func:`enable_wal_archiving` makes the server copy every finished WAL segment into a directory, through
  PostgreSQL's ``basic_archive`` module (it fsyncs each file and renames it into place, and refuses to overwrite a
  segment with different contents, which a plain ``cp`` in ``archive_command`` does not). ``archive_mode`` takes
  effect at the next server restart; :func:`archive_now` then closes the current segment and waits until it is
  archived, which proves the setup.
* :func:`restore_to_time` copies a base backup (:func:`okai_insight.ops.backup.basebackup`, taken after archiving
  began) into a new data directory, has it replay the archived WAL up to ``target_time``
  (``recovery_target_time``, then promote), starts it, and checks the replay stopped at the target: the last
  replayed commit is not after it, and PostgreSQL found a commit after it (otherwise it refuses to promote, since
  the archive does not reach the target). The source and its archive are only read.

Example:
    >>> from okai_insight.ops.pitr import archive_now, enable_wal_archiving, restore_to_time
    >>> enable_wal_archiving(url, "/backups/wal").restart_needed          # doctest: +SKIP
    True
    >>> copy = restore_to_time("/backups/base", "/backups/wal", t, "/srv/at-t")   # doctest: +SKIP
    >>> copy.last_replayed_commit <= t                                   # doctest: +SKIP
    True
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from okai_insight.errors import BackupError, ConnectionFailed, EmbeddedServerError, InvalidInput, PermissionDenied
from okai_insight.ops import _client_tools as tools
from okai_insight.ops._connection import connect
from okai_insight.ops._ownership import give_to, server_owner

#: Characters an archive directory may not contain: it is written into a shell command (restore_command) and
#: into configuration strings, and ``%`` is expanded there.
_UNSAFE = re.compile(r"['%\n\r\0\\]")
_STOPPED = re.compile(r"recovery stopping before (?:commit|abort) of transaction \d+, time (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class ArchivingSetup:
    """WAL archiving as configured: where segments go, and whether the server must restart for it to begin."""

    archive_dir: Path
    restart_needed: bool


def _archive_path(archive_dir: str | Path) -> Path:
    path = Path(archive_dir).expanduser()
    if not path.is_absolute():
        raise InvalidInput(f"the archive directory must be an absolute path, got {archive_dir!s}")
    if _UNSAFE.search(str(path)):
        raise InvalidInput(f"the archive directory {path} may not contain quotes, %, backslashes or line breaks")
    return path


def enable_wal_archiving(url: str, archive_dir: str | Path) -> ArchivingSetup:
    """Archive every finished WAL segment of the server at ``url`` into ``archive_dir`` (``ALTER SYSTEM``:
    ``archive_mode = on``, ``archive_library = basic_archive``). Needs a superuser. When the server's data
    directory is on this machine, the archive directory is created (0700) for the server's user.

    ``archive_mode`` only changes at a server restart: ``restart_needed`` says whether one is due.

    Example:
        >>> enable_wal_archiving(url, "/backups/wal")                       # doctest: +SKIP
        ArchivingSetup(archive_dir=PosixPath('/backups/wal'), restart_needed=True)
    """
    path = _archive_path(archive_dir)
    with connect(url, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '30s'")
        row = conn.execute("SELECT current_setting('archive_mode'), current_setting('wal_level')").fetchone()
        assert row is not None
        mode, wal_level = str(row[0]), str(row[1])
        try:
            data_dir = Path(str(conn.execute("SHOW data_directory").fetchone()[0]))  # type: ignore[index]
            if data_dir.is_dir():
                _prepare_archive_dir(path, data_dir)
            statements = [
                "ALTER SYSTEM SET archive_mode = 'on'",
                "ALTER SYSTEM SET archive_library = 'basic_archive'",
                "ALTER SYSTEM SET archive_command = ''",  # with a library set, a command is an error
            ]
            if wal_level == "minimal":
                statements.append("ALTER SYSTEM SET wal_level = 'replica'")
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]  # constants: no user text
            conn.execute(
                psycopg.sql.SQL("ALTER SYSTEM SET basic_archive.archive_directory = {}").format(
                    psycopg.sql.Literal(str(path))
                )
            )
            conn.execute("SELECT pg_reload_conf()")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionDenied(f"setting up WAL archiving needs a superuser: {exc.diag.message_primary}") from None
    return ArchivingSetup(path, restart_needed=mode == "off" or wal_level == "minimal")


def _prepare_archive_dir(path: Path, data_dir: Path) -> None:
    """Create the archive directory for the server's user (the owner of its data directory)."""
    import os

    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    owner = data_dir.stat()
    if hasattr(os, "geteuid") and os.geteuid() == 0 and owner.st_uid != 0:
        give_to(path, (owner.st_uid, owner.st_gid))


def archive_now(url: str, *, timeout_s: float = 60.0) -> str:
    """Close the current WAL segment (``pg_switch_wal``) and wait until the archiver has stored it; return its
    name. Proves archiving works, and makes everything committed so far restorable.

    Example:
        >>> archive_now(url)                                                # doctest: +SKIP
        '000000010000000000000007'
    """
    with connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT current_setting('archive_mode')").fetchone()
        if row is None or row[0] == "off":
            raise BackupError(
                "WAL archiving is off: run enable_wal_archiving (okai-insight wal-archive) and restart the server"
            )
        # With no WAL written since the last switch, pg_switch_wal does nothing and names the segment in use, which
        # is archived only once full: commit a transaction with an id (one commit record) so there is a segment to
        # close.
        conn.execute("SELECT pg_current_xact_id()")
        switched = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
        assert switched is not None
        segment = str(switched[0])
        deadline = time.monotonic() + timeout_s
        while True:
            stat = conn.execute("SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver").fetchone()
            assert stat is not None
            if stat[0] is not None and str(stat[0]) >= segment:
                return segment
            if time.monotonic() > deadline:
                failed = f" (last failure: {stat[1]}; see the server log)" if stat[1] else ""
                raise BackupError(f"WAL segment {segment} was not archived within {timeout_s:.0f} s{failed}")
            time.sleep(0.1)


@dataclass(frozen=True)
class PitrResult:
    """A cluster recovered to a moment and running: its data directory, URL, the target, the last commit it
    replayed (not after the target) and the first one it left out (after the target)."""

    path: Path
    url: str
    target_time: dt.datetime
    last_replayed_commit: dt.datetime | None
    stopped_before: str | None


def restore_to_time(
    base: str | Path,
    archive_dir: str | Path,
    target_time: dt.datetime,
    dest: str | Path,
    *,
    owner: str | int | None = None,
    timeout_s: float = 600.0,
) -> PitrResult:
    """Recover the base backup ``base`` with the WAL in ``archive_dir`` up to ``target_time`` into the new data
    directory ``dest``, start it (the embedded server, on its own socket) and verify where the replay stopped.

    ``target_time`` must carry a time zone. Transactions committed at or before it are in the copy, later ones
    are not. The copy does not archive (it would write into the source's archive); the base backup stays
    reusable. Any failure raises :class:`BackupError` with the server's reason.

    Example:
        >>> at = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
        >>> restore_to_time("/backups/base", "/backups/wal", at, "/srv/at-noon").url   # doctest: +SKIP
        'postgresql://postgres:@/okai?host=/srv/at-noon'
    """
    source, archive = Path(base).expanduser().resolve(), _archive_path(archive_dir)
    target = Path(dest).expanduser().resolve()
    if target_time.tzinfo is None:
        raise InvalidInput("target_time needs a time zone (e.g. 2025-06-01T12:00:00+00:00): a naive time is ambiguous")
    if not (source / "PG_VERSION").is_file() or not (source / "backup_label").is_file():
        raise InvalidInput(f"{source} is not a base backup (no PG_VERSION and backup_label: was it started?)")
    if not archive.is_dir():
        raise InvalidInput(f"no WAL archive at {archive}")
    taken = base_backup_time(source)
    if target_time < taken:
        # PostgreSQL itself would stop at the first commit after the backup's end and promote: a copy of a later
        # moment than asked for, without an error.
        raise InvalidInput(
            f"{target_time.isoformat()} is before the base backup {source} was taken ({taken.isoformat()}): "
            "recover from an older base backup"
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} exists and is not empty")
    ids = server_owner(owner)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    (target / "standby.signal").unlink(missing_ok=True)
    (target / "recovery.signal").touch()
    with (target / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
        conf.write(
            "\n# okai-insight point-in-time recovery\n"
            f'restore_command = \'test -f "{archive}/%f" && cp "{archive}/%f" "%p"\'\n'
            f"recovery_target_time = '{target_time.isoformat(sep=' ')}'\n"
            "recovery_target_action = 'promote'\n"
            "archive_mode = 'off'\n"
        )
    give_to(target, ids)
    from okai_insight.embedded import EmbeddedServer

    url = _start_and_wait(target, timeout_s)
    with connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_last_xact_replay_timestamp()").fetchone()
    last = row[0] if row else None
    log = (target / "log").read_text(errors="replace") if (target / "log").is_file() else ""
    stopped = _STOPPED.findall(log)
    if last is not None and last > target_time:
        EmbeddedServer(target).stop(mode="immediate")
        raise BackupError(f"the recovery in {target} replayed a commit at {last}, after the target {target_time}")
    return PitrResult(target, url, target_time, last, stopped[-1].strip() if stopped else None)


def base_backup_time(base: str | Path) -> dt.datetime:
    """When the base backup's checkpoint was taken (UTC, to the second): no moment before it can be recovered.

    Example:
        >>> base_backup_time("/backups/base-2025-06-01")                  # doctest: +SKIP
        datetime.datetime(2025, 6, 1, 3, 0, 12, tzinfo=datetime.timezone.utc)
    """
    import os

    env = dict(os.environ, TZ="UTC", LC_ALL="C")  # pg_controldata prints the time in its own locale and zone
    out = tools.run("pg_controldata", ["-D", str(base)], env=env, timeout_s=30).stdout
    found = re.search(r"^Time of latest checkpoint:\s+(.+)$", out, re.MULTILINE)
    if found is None:
        raise BackupError(f"pg_controldata did not show when {base} was taken")
    return dt.datetime.strptime(found.group(1).strip(), "%a %b %d %H:%M:%S %Y").replace(tzinfo=dt.UTC)


def _start_and_wait(data_dir: Path, timeout_s: float) -> str:
    """Start the embedded server on ``data_dir`` and wait until its recovery ended and it was promoted."""
    from okai_insight.embedded import EmbeddedServer

    server = EmbeddedServer(data_dir, database="postgres")
    try:
        url = server.start()
    except psycopg.errors.ReadOnlySqlTransaction:
        url = server.url() or ""  # still replaying: only the embedded setup's own write could not run yet
    except (EmbeddedServerError, psycopg.OperationalError) as exc:
        raise BackupError(f"the recovered copy in {data_dir} did not start: {_why(data_dir) or exc}") from None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with connect(url, autocommit=True) as conn:
                row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row == (False,):
                return url
        except (ConnectionFailed, psycopg.OperationalError):  # not up yet (connect), or went away (the query)
            if server.url() is None:
                raise BackupError(f"the recovery in {data_dir} failed: {_why(data_dir)}") from None
        time.sleep(0.2)
    raise BackupError(f"the recovery in {data_dir} did not finish within {timeout_s:.0f} s (see {data_dir / 'log'})")


def _why(data_dir: Path) -> str:
    """The server log's last FATAL line (why a recovery stopped), if any."""
    log = data_dir / "log"
    lines = log.read_text(errors="replace").splitlines() if log.is_file() else []
    fatal = [line.split("FATAL:", 1)[1].strip() for line in lines if "FATAL:" in line]
    return fatal[-1] if fatal else ""
