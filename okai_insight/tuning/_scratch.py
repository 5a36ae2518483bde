"""A throwaway embedded PostgreSQL for experiments that must not touch the user's database.

Diagnostics never write to a user's database, but comparing index candidates needs indexes built: so the sample is
copied into a server of our own (:class:`~okai_insight.embedded.EmbeddedServer` on a temporary data directory),
the candidates are built there, and the server and its directory are removed afterwards, also on error or
interrupt.

Example:
    >>> with scratch_server() as url:                                  # doctest: +SKIP
    ...     psycopg.connect(url).execute("SELECT 1")
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from okai_insight.embedded import EmbeddedServer

__all__ = ["scratch_server"]


@contextmanager
def scratch_server(parent: str | Path | None = None) -> Iterator[str]:
    """Start an embedded PostgreSQL on a new temporary data directory (under ``parent``, default the system's temp
    dir), yield its URL, then stop it and delete the directory.

    Example:
        >>> with scratch_server() as url:                              # doctest: +SKIP
        ...     url.startswith("postgresql://")
        True
    """
    # Short path: the server's unix socket lives in the data directory, and socket paths are limited to ~107 bytes.
    root = Path(tempfile.mkdtemp(prefix="okai-scratch-", dir=str(parent) if parent is not None else None))
    server = EmbeddedServer(root / "pgdata")
    try:
        yield server.start()
    finally:
        try:
            # immediate: nothing in it is worth a checkpoint, and a fast stop waits for the builds' backends
            server.stop(mode="immediate")
        finally:
            shutil.rmtree(root, ignore_errors=True)
