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


def first_line(exc: BaseException) -> str:
    """The one line an error is printed as: the server's primary message when there is one (psycopg's
    ``diag.message_primary``, without libpq's ``DETAIL``/``HINT``/``LINE`` lines), else the first non-empty line of
    ``str(exc)``, else the class name. Not masked: pass it through ``okai_insight._redact.redact`` before printing
    text that may quote a URL.

    Example:
        >>> first_line(ValueError("bad value\\nsecond line"))
        'bad value'
        >>> first_line(KeyError())
        'KeyError'
    """
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    if primary and primary.strip():
        return str(primary).strip().splitlines()[0]
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


#: The one error table: a driver error's SQLSTATE (exact code, else its two-character class) -> the okai error and
#: its message (``{detail}``: the server's DETAIL line, else its primary message). Checked exact codes first.
#: SQLSTATEs: https://www.postgresql.org/docs/current/errcodes-appendix.html
PG_ERROR_TABLE: dict[str, tuple[type[OkaiError], str]] = {
    "55P03": (LockTimeout, "gave up waiting for a lock (lock_timeout): {detail}"),
    "57014": (QueryTimeout, "the statement was cancelled: {detail}"),
    "23503": (NotFound, "a referenced row does not exist: {detail}"),
    "23505": (DuplicateId, "a row with this key already exists: {detail}"),
    "23502": (InvalidInput, "the database refused the row: {detail}"),
    "23514": (InvalidInput, "the database refused the row: {detail}"),
    "22": (InvalidInput, "the database refused a value: {detail}"),
    "42501": (PermissionDenied, "{detail}"),
    "42P01": (FeatureNotAvailable, "{detail} (the table is missing; for okai-insight's own tables run init)"),
    "42883": (FeatureNotAvailable, "{detail} (a required extension or function is missing)"),
    "42704": (FeatureNotAvailable, "{detail} (a required extension or object is missing)"),
    "55000": (FeatureNotAvailable, "{detail}"),
    "57P01": (ConnectionFailed, "the server ended the connection: {detail}"),
    "57P02": (ConnectionFailed, "the server ended the connection: {detail}"),
    "57P03": (ConnectionFailed, "the server is not accepting connections yet: {detail}"),
    "08": (ConnectionFailed, "{detail}"),
    "53": (ConnectionFailed, "the server is out of a resource: {detail}"),
}


def pg_error(exc: BaseException, context: str = "") -> OkaiError | None:
    """The okai error for a psycopg error (:data:`PG_ERROR_TABLE`), or None when it maps to none (a syntax
    error, a bug: it should surface as it is). ``context`` prefixes the message. A psycopg
    ``OperationalError`` without a SQLSTATE (libpq could not connect, or lost the connection) is a
    :class:`ConnectionFailed`.

    Example:
        >>> import psycopg
        >>> err = pg_error(psycopg.errors.LockNotAvailable("lock timeout"), "save")
        >>> type(err).__name__, str(err)
        ('LockTimeout', 'save: gave up waiting for a lock (lock_timeout): lock timeout')
        >>> pg_error(ValueError("x")) is None
        True
    """
    import psycopg  # here, not at the top: errors.py stays importable without the driver loaded

    if not isinstance(exc, psycopg.Error):
        return None
    code = exc.sqlstate or ""
    entry = PG_ERROR_TABLE.get(code) or PG_ERROR_TABLE.get(code[:2]) if code else None
    if entry is None:
        if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
            entry = (ConnectionFailed, "{detail}")
        else:
            return None
    cls, template = entry
    diag = exc.diag
    detail = (diag.message_detail or "").strip() or first_line(exc)
    message = template.format(detail=detail)
    return cls(f"{context}: {message}" if context else message)


class translate_pg_errors:  # a context manager used like a function, as contextlib.suppress
    """Raise the okai error for any psycopg error raised inside the block (:func:`pg_error`; the driver's error is
    its ``__cause__``); other errors pass unchanged. The one place driver errors become okai errors, like httpx's
    ``map_httpcore_exceptions()``. A class rather than a generator so type checkers know it never swallows an
    error (a ``return`` inside the block needs no second one after it).

    Example:
        >>> import psycopg
        >>> with translate_pg_errors("load"):  # doctest: +ELLIPSIS
        ...     raise psycopg.errors.InsufficientPrivilege("permission denied for table t")
        Traceback (most recent call last):
        ...
        okai_insight.errors.PermissionDenied: load: permission denied for table t
    """

    def __init__(self, context: str = "") -> None:
        self.context = context

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        mapped = pg_error(exc, self.context) if isinstance(exc, Exception) else None
        if mapped is not None:
            raise mapped from exc


class ReadOnlySchema(SchemaError):
    """The database's schema belongs to an application okai-insight reads but never writes (ElizaOS 1.x's
    ``@elizaos/plugin-sql``): the call (``connect``, ``init``, a write) was refused before anything was changed.
    ``schema`` names the schema, ``action`` what was refused.

    Example:
        >>> err = ReadOnlySchema("ElizaOS 1.x (@elizaos/plugin-sql)", "init")
        >>> isinstance(err, SchemaError), err.schema
        (True, 'ElizaOS 1.x (@elizaos/plugin-sql)')
        >>> print(err)  # doctest: +ELLIPSIS
        init refused: this is an ElizaOS 1.x (@elizaos/plugin-sql) database, which okai-insight never writes to; ...
    """

    def __init__(self, schema: str, action: str, hint: str = "") -> None:
        self.schema = schema
        self.action = action
        message = (
            f"{action} refused: this is an {schema} database, which okai-insight never writes to; nothing was changed"
        )
        super().__init__(f"{message} ({hint})" if hint else message)


class MixedDimensions(InvalidInput, SchemaError):
    """The database holds embeddings of several dimensions (ElizaOS 1.x: one ``dim_N`` column per agent) and the
    call needs one: choose it (``dimension=``, an ``agent_id``, ``copy --agent``). Nothing was read or written.

    Example:
        >>> err = MixedDimensions((384, 768), "searching")
        >>> err.dimensions, isinstance(err, SchemaError)
        ((384, 768), True)
        >>> print(err)  # doctest: +ELLIPSIS
        searching needs one embedding dimension, but this database holds 384 and 768 ...
    """

    def __init__(self, dimensions: tuple[int, ...], action: str, hint: str = "") -> None:
        self.dimensions = dimensions
        listed = " and ".join(str(d) for d in dimensions)
        message = f"{action} needs one embedding dimension, but this database holds {listed} (one per agent)"
        super().__init__(f"{message}: {hint}" if hint else f"{message}: choose one (dimension= or agent_id=)")


class UnsupportedDatabase(InvalidInput):
    """A command or function that needs PostgreSQL was given another kind of database (``sqlite:///...``,
    ``memory://``, or a scheme okai-insight does not speak, such as ``mysql://``). Nothing was opened or written.

    ``kind`` says what the URL is ("SQLite", "in-memory", or the unknown scheme), ``what`` who needed PostgreSQL;
    :meth:`for_command` names a CLI command instead. The CLI exits with status 3 on it.

    Example:
        >>> err = UnsupportedDatabase("sqlite:///agent.db")
        >>> err.scheme, err.kind
        ('sqlite', 'SQLite')
        >>> print(err.for_command("doctor"))  # doctest: +ELLIPSIS
        doctor needs PostgreSQL; sqlite:///agent.db is a SQLite store: for SQLite use doctor ...
    """

    def __init__(self, url: str, what: str = "this", *, needs: str = "PostgreSQL") -> None:
        from okai_insight._redact import redact

        self.url = redact(url)
        self.scheme = url.split(":", 1)[0].lower()
        self.what = what
        self.needs = needs
        self.kind = {"sqlite": "SQLite", "memory": "in-memory"}.get(self.scheme, self.scheme)
        if self.scheme == "sqlite":
            hint = (
                f"{self.url} is a SQLite store: for SQLite use doctor (its SQLite health check), "
                "embedding-quality (embedding insight), init, demo or copy "
                "(okai-insight copy it into PostgreSQL for the rest)"
            )
        elif self.scheme == "memory":
            hint = f"{self.url} is an in-memory store, which lives inside one Python process: there is nothing here to inspect"
        elif self.scheme.startswith("supabase"):
            hint = f"{self.url} is a Supabase URL: give its direct postgresql:// connection string"
        else:
            hint = (
                f"{self.url}: okai-insight does not speak {self.scheme}:// (it reads postgresql://, sqlite:///path.db, "
                "memory:// and supabase://)"
            )
        self.hint = hint
        super().__init__(f"{what} needs {needs}; {hint}")

    def for_command(self, command: str) -> UnsupportedDatabase:
        """The same error naming ``command`` (the CLI's subcommand) as what needed PostgreSQL.

        Example:
            >>> str(UnsupportedDatabase("memory://", "diagnostics").for_command("metrics")).split(";")[0]
            'metrics needs PostgreSQL'
        """
        return UnsupportedDatabase(self.url, command, needs=self.needs)
