"""A throwaway embedded PostgreSQL for one benchmark run, and the two databases it compares on.

Example:
    >>> with bench_server() as admin_url:                # doctest: +SKIP
    ...     url = create_database(admin_url, "bench_adapter")
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from okai_insight.embedded import EmbeddedServer


@contextmanager
def bench_server(work_dir: str | Path | None = None) -> Iterator[str]:
    """Start an embedded server in a temporary data directory, yield its admin URL, stop it and delete it.

    Example:
        >>> with bench_server() as url:                  # doctest: +SKIP
        ...     url.startswith("postgresql://")
        True
    """
    with tempfile.TemporaryDirectory(prefix="okai-bench-", dir=work_dir) as root:
        server = EmbeddedServer(Path(root) / "pgdata")
        url = server.start()
        try:
            yield url.replace(f"/{server.database}?", "/postgres?")
        finally:
            server.stop(mode="fast")


def create_database(admin_url: str, name: str) -> str:
    """Create (or re-create) an empty database and return its URL.

    Example:
        >>> create_database(admin_url, "bench_raw")       # doctest: +SKIP
        'postgresql://postgres:@/bench_raw?host=...'
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return admin_url.replace("/postgres?", f"/{name}?")


def drop_database(admin_url: str, name: str) -> None:
    """Drop a database (closing its sessions).

    Example:
        >>> drop_database(admin_url, "bench_raw")         # doctest: +SKIP
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def server_facts(url: str) -> dict[str, str]:
    """PostgreSQL and pgvector versions and the settings that shape the figures.

    Example:
        >>> server_facts(url)["pgvector"]                 # doctest: +SKIP
        '0.8.1'
    """
    with psycopg.connect(url, autocommit=True) as conn:
        facts = {"postgresql": str(conn.execute("SHOW server_version").fetchone()[0])}  # type: ignore[index]
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        facts["pgvector"] = str(row[0]) if row else "not installed"
        for name in ("shared_buffers", "work_mem", "max_parallel_maintenance_workers", "synchronous_commit"):
            facts[name] = str(conn.execute(sql.SQL("SHOW {}").format(sql.Identifier(name))).fetchone()[0])  # type: ignore[index]
    return facts


@contextmanager
def pinned(conn: psycopg.Connection[Any]) -> Iterator[str]:
    """Pin the calling thread to one core and every client backend of ``conn``'s database to another for the
    block (when the machine has two cores or more); yield how, for the report.

    Why: on this 2-core machine the scheduler's placement of a connection's backend (same core as the client or
    not) moved its p50 by 10-15 % for the connection's lifetime, and each side of a comparison has a backend of its
    own: the adapter's top-10 search measured between 0.90x and 1.17x raw psycopg in unpinned runs a minute apart
    (100k x 384, ef_search 40, quiet machine, 2026-12-05); pinned, five bench runs gave 1.17-1.22x. Pinned, both
    sides have the same placement: client and server on different cores, as on a real deployment.

    Example:
        >>> with pinned(conn) as how:                        # doctest: +SKIP
        ...     how
        'client thread on CPU 0, 3 backends on CPU 1'
    """
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        yield "not pinned (one core)"
        return
    if not conn.info.host.startswith("/"):  # only the benchmark's own server, over its Unix socket, is ours to pin
        yield "not pinned (the server is not local)"
        return
    client_cpu, server_cpu = cpus[0], cpus[1]
    backends = [
        row[0]
        for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
        )
    ]
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {client_cpu})  # 0: this thread only (the one making the calls)
    for pid in backends:
        try:
            os.sched_setaffinity(pid, {server_cpu})
        except ProcessLookupError:
            pass  # the connection closed meanwhile
    try:
        yield f"client thread on CPU {client_cpu}, {len(backends)} backends on CPU {server_cpu}"
    finally:
        os.sched_setaffinity(0, before)
        for pid in backends:
            try:
                os.sched_setaffinity(pid, set(cpus))
            except ProcessLookupError:
                pass  # the connection closed meanwhile
