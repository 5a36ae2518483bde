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


class OkaiWarning(UserWarning):
    """Base class of every warning okai-insight issues."""


class DeepContentWarning(OkaiWarning):
    """A stored JSON value is nested deeper than Python's recursive JSON decoder can follow; it was decoded without
    recursion and returned whole, but recursive tools (``json.dumps``, ``==``, ``repr``, ``copy.deepcopy``) may fail
    on it. okai-insight never writes such a value (``validation.MAX_CONTENT_DEPTH``): another writer did."""


class StatementRefused(InvalidInput):
    """SQL text okai-insight will not run: more than one statement, a kind EXPLAIN does not take, a write under
    EXPLAIN ANALYZE, or a function whose effect a rollback does not undo. Nothing was sent to run."""
