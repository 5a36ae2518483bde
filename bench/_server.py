"""A throwaway embedded PostgreSQL for one benchmark run, and the two databases it compares on.

Example:
    >>> with bench_server() as admin_url:                # doctest: +SKIP
    ...     url = create_database(admin_url, "bench_adapter")
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
