"""One ``Settings`` dataclass; precedence: argument > Settings > ``OKAI_*`` environment variable > default.

Names carry their unit (``connect_timeout_s``, ``statement_timeout_ms``). Pool defaults follow the spec's
connection configuration: at most 20 connections; a connection idle for 30 s is closed (psycopg_pool checks once
per ``pool_idle_timeout_s`` and closes one idle connection each time, never going below ``pool_min_size``); 2 s
per connection attempt, and 5 s in total for connecting with retries (``connect_deadline_s``).

Example:
    >>> from okai_insight.settings import Settings
    >>> s = Settings.from_env({"OKAI_POOL_MAX_SIZE": "5"}, embedding_dimension=768)
    >>> s.pool_max_size, s.embedding_dimension, s.connect_timeout_s
    (5, 768, 2.0)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from okai_insight.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    """Every tunable of okai-insight. Build with :meth:`from_env` to honour ``OKAI_*`` variables."""

    database_url: str | None = None
    #: Dimension used when okai-insight creates a schema; an existing schema's dimension always wins.
    embedding_dimension: int = 384
    pool_min_size: int = 1
    pool_max_size: int = 20
    pool_idle_timeout_s: float = 30.0
    #: One connection attempt waits at most this long for the server (libpq counts whole seconds, at least 2).
    connect_timeout_s: float = 2.0
    #: Connecting with retries gives up after this long in total (DatabaseUnavailable): no retry starts that
    #: could not finish a full ``connect_timeout_s`` attempt before it, so a silent server fails within it.
    connect_deadline_s: float = 5.0
    #: Connection-class failures are retried this many times, with exponential backoff and jitter.
    retry_attempts: int = 3
    retry_base_delay_s: float = 0.1
    #: ElizaOS marks a new memory not unique when one at this cosine similarity or above exists in its room.
    duplicate_threshold: float = 0.95
    #: ``hnsw.ef_search`` for searches; None keeps the server's setting (pgvector's default is 40).
    hnsw_ef_search: int | None = 60  # bench/ef_search.py: recall@10 >= 0.98 at 384 and 1536, index plan at both
    #: Filtered sets up to this many rows are searched exactly (recall 1.0) instead of through the HNSW index.
    exact_search_max_rows: int = 10_000
    #: Optional allow-list of memory table names (types); None accepts any well-formed name.
    memory_tables: tuple[str, ...] | None = None
    #: Diagnostics: every statement is cancelled after this long, and gives up waiting for a lock after that.
    statement_timeout_ms: int = 5_000
    lock_timeout_ms: int = 1_000
    #: Adapter calls: the server cancels a statement after this long (QueryTimeout) and gives up waiting for a lock
    #: after that (LockTimeout); 0 switches either off. When the server cannot even enforce it (frozen, or the
    #: network is gone) the client drops the connection ``adapter_statement_timeout_ms`` + ``connect_timeout_s``
    #: after the call began, raising DatabaseUnavailable("timeout").
    adapter_statement_timeout_ms: int = 30_000
    adapter_lock_timeout_ms: int = 10_000
    #: TCP connections: keepalive probes after this long idle, and the kernel gives up on unacknowledged data (or
    #: unanswered probes) after ``tcp_user_timeout_ms``, so a vanished server breaks the connection instead of
    #: leaving it waiting. Unix-socket connections (the embedded server) do not need them.
    tcp_keepalives_idle_s: int = 10
    tcp_user_timeout_ms: int = 10_000
    #: Where the embedded PostgreSQL keeps its data; None means the platform's user data directory.
    data_dir: str | None = None
    #: Read replicas (comma separated in ``OKAI_REPLICA_URLS``): read-only adapter methods run on them, writes on
    #: the primary. See okai_insight.ops.replicas.
    replica_urls: tuple[str, ...] | None = None
    #: PostgreSQL ``create_memories``: a batch of at least this many rows, holding at least this fraction of the
    #: rows already stored, is loaded without the vector index, built once afterwards. None: the measured defaults
    #: (okai_insight.adapters._bulk_load.BULK_LOAD_MIN_ROWS, BULK_LOAD_MIN_FRACTION; docs/benchmarks.md).
    bulk_load_min_rows: int | None = None
    bulk_load_min_fraction: float | None = None
    #: False switches the bulk path off, and with it the repair of a missing or invalid vector index by the next
    #: ``create_memories``: every batch is one plain COPY into the table as it is (what a load into a table whose
    #: index was dropped on purpose wants, and what bench/adapter.py measures against raw COPY).
    bulk_load: bool = True

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``OKAI_<FIELD>`` variables, then apply keyword overrides that are not None.

        Example:
            >>> Settings.from_env({}, pool_max_size=3).pool_max_size
            3
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"OKAI_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, str(f.type), raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigurationError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """A copy with the given fields changed; None values are ignored.

        Example:
            >>> Settings().replace(pool_max_size=2, data_dir=None).pool_max_size
            2
        """
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _parse(name: str, type_name: str, raw: str) -> Any:
    try:
        if type_name.startswith("bool"):
            words = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False}
            if raw.strip().lower() not in {**words, "off": False}:
                raise ValueError(raw)
            return {**words, "off": False}[raw.strip().lower()]
        if type_name.startswith("int"):
            return int(raw)
        if type_name.startswith("float"):
            return float(raw)
        if type_name.startswith("tuple"):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return raw
    except ValueError as exc:
        raise ConfigurationError(f"OKAI_{name.upper()}={raw!r} is not a valid {type_name}") from exc
