"""The one error hierarchy of okai-insight.

Every error the library raises on purpose is an :class:`OkaiError`. Bad input raises a subclass of
:class:`InvalidInput` (also a :class:`ValueError`) *before* anything is written, so a refused call leaves the
database unchanged. Driver errors are translated at the adapter's edge; callers never need to import psycopg.

Example:
    >>> from okai_insight.errors import DimensionMismatch, InvalidInput
    >>> err = DimensionMismatch(expected=384, got=768)
    >>> isinstance(err, InvalidInput), str(err)
    (True, 'embedding has 768 dimensions, the table expects 384')
"""

from __future__ import annotations


class OkaiError(Exception):
    """Base class of every error okai-insight raises on purpose."""


class InvalidInput(OkaiError, ValueError):
    """A parameter was refused before anything was sent to the database."""


class DimensionMismatch(InvalidInput):
    """An embedding's length differs from the dimension the schema was created with."""

    def __init__(self, expected: int, got: int, *, where: str = "the table") -> None:
        self.expected = expected
        self.got = got
        super().__init__(f"embedding has {got} dimensions, {where} expects {expected}")


class InvalidEmbedding(InvalidInput):
    """An embedding is empty, not one-dimensional, or holds NaN or infinite values."""


class InvalidId(InvalidInput):
    """An id is not a UUID."""


class UnknownTable(InvalidInput):
    """A memory table name (the memory ``type``) is missing, malformed or not allowed."""


class InvalidContent(InvalidInput):
    """Memory or knowledge content cannot be stored as JSON (NUL bytes, invalid UTF-8, non-JSON values)."""


class NotFound(OkaiError, LookupError):
    """The row an operation needs does not exist."""


class DuplicateId(OkaiError):
    """A row with this id already exists."""


class PermissionDenied(OkaiError, PermissionError):
    """The database role lacks a privilege this call needs."""


class ConfigurationError(OkaiError):
    """A URL, setting or optional dependency is missing or wrong."""


class FeatureNotAvailable(OkaiError):
    """The database lacks what this call needs (a table, extension or privilege); the message says how to fix it."""


class SchemaError(OkaiError):
    """The database's schema is not one okai-insight can use, or a migration failed."""


class ConnectionFailed(OkaiError, ConnectionError):
    """The database could not be reached, after the configured retries."""


class PoolTimeout(ConnectionFailed):
    """No pooled connection became free within the configured connect timeout."""


class EmbeddedServerError(OkaiError):
    """The bundled PostgreSQL server could not be started, stopped or found."""


class BackupError(OkaiError):
    """A backup or restore failed, or a restored database does not match its source."""


class DatabaseUnavailable(ConnectionFailed):
    """The database cannot be reached or does not answer; ``reason`` says why.

    Reasons: ``"refused"`` (nothing listens at the address), ``"timeout"`` (no answer in time: a frozen server or
    a lost network), ``"authentication"`` (the server answered and refused the login: role, password, database or
    pg_hba.conf), ``"unknown host"``, ``"connection lost"``, ``"unavailable"`` (anything else). Never carries the
    password.

    Example:
        >>> err = DatabaseUnavailable("refused", "nothing listens at /tmp/.s.PGSQL.5432")
        >>> isinstance(err, ConnectionFailed), err.reason, str(err)
        (True, 'refused', 'database unreachable (refused): nothing listens at /tmp/.s.PGSQL.5432')
    """

    def __init__(self, reason: str, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"database unreachable ({reason}): {detail}")


class QueryTimeout(OkaiError, TimeoutError):
    """The server cancelled a statement that ran past ``Settings.adapter_statement_timeout_ms`` (or was cancelled by an
    administrator); nothing of the call's transaction was committed."""


class LockTimeout(QueryTimeout):
    """A statement waited longer than ``Settings.adapter_lock_timeout_ms`` for a lock another session holds; nothing
    of the call's transaction was committed."""


class OkaiWarning(UserWarning):
    """Base class of every warning okai-insight issues."""


class DeepContentWarning(OkaiWarning):
    """A stored JSON value is nested deeper than Python's recursive JSON decoder can follow; it was decoded without
    recursion and returned whole, but recursive tools (``json.dumps``, ``==``, ``repr``, ``copy.deepcopy``) may fail
    on it. okai-insight never writes such a value (``validation.MAX_CONTENT_DEPTH``): another writer did."""


class StatementRefused(InvalidInput):
    """SQL text okai-insight will not run: more than one statement, a kind EXPLAIN does not take, a write under
    EXPLAIN ANALYZE, or a function whose effect a rollback does not undo. Nothing was sent to run."""


class InvalidDimension(InvalidInput, SchemaError):
    """An embedding dimension the backend cannot store: not a positive integer, or above its limit (pgvector
    16,000; sqlite-vec 8,192). Raised before anything is created. Also a :class:`SchemaError`, as before."""


class SchemaDimensionMismatch(DimensionMismatch):
    """A dimension was asked for explicitly (``connect(dimension=...)``, ``init --dimension``) and the database's
    schema already stores embeddings of another; nothing was changed. Connect without a dimension to adopt the
    stored one; a schema's dimension never changes in place.

    Example:
        >>> err = SchemaDimensionMismatch(requested=768, stored=1536)
        >>> isinstance(err, DimensionMismatch), err.expected, err.got
        (True, 1536, 768)
        >>> print(err)  # doctest: +ELLIPSIS
        dimension 768 was requested, but this database stores 1536-dimension embeddings; ...
    """

    def __init__(self, requested: int, stored: int) -> None:
        self.expected = stored
        self.got = requested
        InvalidInput.__init__(
            self,
            f"dimension {requested} was requested, but this database stores {stored}-dimension embeddings; "
            f"connect without a dimension to use {stored}, or use a new database for {requested} "
            "(a schema's dimension is fixed when it is created)",
        )


class NoSuchTable(InvalidInput, NotFound):
    """A table named by the caller (e.g. ``maintain --table``) does not exist in the database; nothing was done.

    Example:
        >>> isinstance(NoSuchTable("no such table: 'memoires'"), (InvalidInput, NotFound))
        True
    """
