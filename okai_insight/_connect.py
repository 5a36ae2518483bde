"""``okai_insight.connect()``: pick the adapter from the URL scheme; no URL means the embedded PostgreSQL."""

from __future__ import annotations

from typing import Any

from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.errors import ConfigurationError, ReadOnlySchema
from okai_insight.settings import Settings

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def resolve_url(url: str | None = None, settings: Settings | None = None) -> str:
    """The database URL to use: the argument, else ``Settings.database_url`` / ``OKAI_DATABASE_URL``, else the
    embedded server's (started if needed).

    Example:
        >>> resolve_url("postgresql://localhost/agents")
        'postgresql://localhost/agents'
    """
    s = settings or Settings.from_env()
    chosen = url or s.database_url
    if chosen:
        return chosen
    from okai_insight.embedded import EmbeddedServer

    return EmbeddedServer(s.data_dir + "/pgdata" if s.data_dir else None).start()


def _check_dimension_for(chosen_url: str | None, dimension: object) -> None:
    """Refuse a dimension the chosen backend cannot hold, before a server is started (the adapter checks again)."""
    if chosen_url is not None and chosen_url.startswith(("sqlite:", "memory:")):
        from okai_insight.adapters._sqlite_schema import check_dimension as check
    else:
        from okai_insight.schema import check_dimension as check
    check(dimension)


def connect(
    url: str | None = None,
    *,
    settings: Settings | None = None,
    dimension: int | None = None,
    init: bool = True,
    **overrides: Any,
) -> DatabaseAdapter:
    """Open a ready adapter for ``url`` (``postgresql://...``); with no URL and no ``OKAI_DATABASE_URL`` the
    embedded PostgreSQL in the user's data directory is started (or reused).

    ``dimension`` is an explicit request: a new schema is created with it, and an existing one storing another
    dimension is refused with :class:`~okai_insight.errors.SchemaDimensionMismatch` (nothing is changed). Without
    it an existing schema's dimension is adopted and a new one gets ``Settings.embedding_dimension`` (384).
    On an ElizaOS 1.x database the result is a read-only
    :class:`~okai_insight.adapters.elizaos1.ElizaOS1Reader` (its ``dimension`` must be one its agents use; every
    write raises :class:`~okai_insight.errors.ReadOnlySchema`). Impossible dimensions raise :class:`~okai_insight.errors.InvalidDimension` before any server is started or
    file created (PostgreSQL 1-16000, HNSW-indexed up to 4000; SQLite and ``memory://`` 1-8192). Keyword
    overrides set :class:`~okai_insight.settings.Settings` fields, e.g. ``pool_max_size=5``.

    Example:
        >>> import okai_insight
        >>> db = okai_insight.connect()                        # doctest: +SKIP
        >>> db.embedding_dimension                             # doctest: +SKIP
        384
    """
    s = (settings or Settings.from_env()).replace(**overrides)
    if dimension is not None:
        _check_dimension_for(url or s.database_url, dimension)
    target = resolve_url(url, s)
    if target.startswith(_POSTGRES_SCHEMES):
        from okai_insight.adapters.postgres import PostgresAdapter

        adapter: DatabaseAdapter = PostgresAdapter(target, settings=s, dimension=dimension)
    elif target.startswith("sqlite:"):
        from okai_insight.adapters.sqlite import SqliteAdapter

        adapter = SqliteAdapter(target, settings=s, dimension=dimension)
    elif target.startswith("memory:"):
        from okai_insight.adapters.memory import MemoryAdapter

        adapter = MemoryAdapter(target, settings=s, dimension=dimension)
    elif target.startswith(("supabase://", "supabase+postgresql://", "supabase+postgres://")):
        from okai_insight.adapters.supabase import open_supabase

        adapter = open_supabase(target, settings=s, dimension=dimension)
    else:
        scheme = target.split(":", 1)[0] if ":" in target else target
        raise ConfigurationError(
            f"unknown database URL scheme {scheme!r}: use postgresql://user@host/db, sqlite:///path.db, "
            "memory://, supabase:// (or no URL for the embedded PostgreSQL)"
        )
    if init:
        try:
            adapter.init()
        except ReadOnlySchema:
            adapter.close()
            if not target.startswith(_POSTGRES_SCHEMES):
                raise
            # ElizaOS 1.x (refused before anything was written): give the read-only handle instead.
            return _read_only_handle(target, s, dimension)
        except BaseException:
            adapter.close()  # a refused init (e.g. a dimension mismatch) leaves no pool or client open
            raise
    return adapter


def _read_only_handle(url: str, settings: Settings, dimension: int | None) -> DatabaseAdapter:
    from okai_insight.adapters.elizaos1 import ElizaOS1Reader

    reader = ElizaOS1Reader(url, settings=settings, dimension=dimension)
    try:
        reader.init()
    except BaseException:
        reader.close()
        raise
    return reader
