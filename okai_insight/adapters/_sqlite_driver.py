"""One SQLite connection API over the drivers that can load sqlite-vec: ``sqlean.py``, ``apsw``, or the standard
library's ``sqlite3`` where its build allows extension loading.

Many Python builds (this project's machines among them) ship a ``sqlite3`` without ``enable_load_extension``;
``sqlean.py`` is a drop-in ``sqlite3`` that can, and ``apsw`` wraps its own SQLite. They are tried in that order
(``sqlean``, ``apsw``, ``sqlite3``) unless a driver is named. Every connection runs in autocommit mode; the
adapter issues ``BEGIN``/``COMMIT`` itself, the same way on every driver.

Example:
    >>> from okai_insight.adapters._sqlite_driver import open_connection
    >>> conn = open_connection(":memory:")                    # doctest: +SKIP
    >>> conn.query("SELECT vec_version()")                    # doctest: +SKIP
    [('v0.1.9',)]
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from okai_insight.errors import ConfigurationError

#: The order drivers are tried in when none is named.
DRIVER_ORDER = ("sqlean", "apsw", "sqlite3")
INSTALL_HINT = 'pip install "okai-insight[sqlite]"'

# SQLite primary result codes (https://sqlite.org/rescode.html) used to translate errors without reading messages.
SQLITE_ERROR = 1
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_CONSTRAINT = 19
SQLITE_NOTADB = 26

Params = Mapping[str, Any] | Sequence[Any]


@dataclass(frozen=True)
class Driver:
    """A usable driver: its name, its module and its base and constraint error classes."""

    name: str
    module: Any
    error: type[BaseException]
    constraint_error: type[BaseException]

    def code(self, exc: BaseException) -> int:
        """The SQLite primary result code of a driver error (0 when it carries none).

        Example:
            >>> pick_driver().code(ValueError())              # doctest: +SKIP
            0
        """
        raw = getattr(exc, "result", None) if self.name == "apsw" else getattr(exc, "sqlite_errorcode", None)
        return int(raw) & 0xFF if isinstance(raw, int) else 0


def _vec_module() -> Any:
    try:
        return importlib.import_module("sqlite_vec")
    except ImportError:
        raise ConfigurationError(f"the SQLite adapter needs sqlite-vec: {INSTALL_HINT}") from None


def _load(name: str) -> Driver | None:
    """The named driver if it is importable and can load extensions, else None."""
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    if name == "apsw":
        return Driver(name, module, module.Error, module.ConstraintError)
    if not hasattr(module.Connection, "enable_load_extension"):
        return None  # e.g. a stdlib sqlite3 built without extension loading
    return Driver(name, module, module.Error, module.IntegrityError)


def pick_driver(name: str | None = None) -> Driver:
    """The driver to use: ``name`` if given (``sqlean``, ``apsw`` or ``sqlite3``), else the first usable one.

    Raises :class:`~okai_insight.errors.ConfigurationError` naming the install command when none can load
    sqlite-vec.

    Example:
        >>> pick_driver().name in DRIVER_ORDER                 # doctest: +SKIP
        True
    """
    if name is not None and name not in DRIVER_ORDER:
        raise ConfigurationError(f"unknown SQLite driver {name!r}: use one of {', '.join(DRIVER_ORDER)}")
    for candidate in (name,) if name else DRIVER_ORDER:
        driver = _load(candidate)
        if driver is not None:
            return driver
    if name:
        raise ConfigurationError(
            f"the SQLite driver {name!r} is not installed or cannot load extensions: {INSTALL_HINT}"
        )
    raise ConfigurationError(
        "no SQLite driver here can load the sqlite-vec extension (this Python's sqlite3 cannot load extensions, "
        f"and neither sqlean.py nor apsw is installed): {INSTALL_HINT}"
    )


class Connection:
    """A driver connection in autocommit mode with sqlite-vec loaded; the same small API on every driver."""

    def __init__(self, driver: Driver, raw: Any) -> None:
        self.driver = driver
        self.raw = raw

    def query(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Run one statement and return every row.

        Example:
            >>> conn.query("SELECT 1 + :x", {"x": 1})          # doctest: +SKIP
            [(2,)]
        """
        if self.driver.name == "apsw":
            return [tuple(r) for r in self.raw.execute(sql, params)]
        return self.raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    def query_named(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Run one statement and return every row keyed by its column names (``m."createdAt"`` is ``createdAt``),
        so a reader names the columns it uses instead of counting positions.

        Example:
            >>> conn.query_named('SELECT 1 + :x AS "sum"', {"x": 1})   # doctest: +SKIP
            [{'sum': 2}]
        """
        if self.driver.name == "apsw":
            cursor = self.raw.cursor()
            cursor.execute(sql, params)
            try:
                names = [d[0] for d in cursor.getdescription()]
            except self.driver.module.ExecutionCompleteError:  # no row: apsw has finished the statement
                return []
            return [dict(zip(names, row, strict=True)) for row in cursor]
        cursor = self.raw.execute(sql, params)
        names = [d[0] for d in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def run(self, sql: str, params: Params = ()) -> int:
        """Run one data-changing statement; return how many rows it changed.

        Example:
            >>> conn.run("DELETE FROM rooms WHERE id = ?", (room,))   # doctest: +SKIP
            1
        """
        if self.driver.name == "apsw":
            for _ in self.raw.execute(sql, params):
                pass
            return int(self.raw.changes())
        return int(self.raw.execute(sql, params).rowcount)

    def run_many(self, sql: str, rows: Iterable[Params]) -> None:
        """Run one statement for each parameter set.

        Example:
            >>> conn.run_many("INSERT INTO rooms (id) VALUES (?)", [(a,), (b,)])  # doctest: +SKIP
        """
        self.raw.executemany(sql, rows)

    def script(self, sql: str) -> None:
        """Run several statements (DDL) inside the caller's transaction, if one is open.

        Example:
            >>> conn.script("CREATE TABLE t (x); CREATE TABLE u (y);")  # doctest: +SKIP
        """
        # Not executescript(): some sqlite3 versions COMMIT the open transaction before running the script.
        complete = self.driver.module.complete if self.driver.name == "apsw" else self.driver.module.complete_statement
        buffer = ""
        for piece in sql.split(";"):
            buffer += piece + ";"
            if complete(buffer):
                if buffer.strip(" \n\t;"):
                    self.run(buffer)
                buffer = ""

    def create_function(self, name: str, nargs: int, fn: Callable[..., Any]) -> None:
        """Register a deterministic scalar SQL function.

        Example:
            >>> conn.create_function("twice", 1, lambda x: 2 * x)   # doctest: +SKIP
        """
        if self.driver.name == "apsw":
            self.raw.create_scalar_function(name, fn, nargs, deterministic=True)
        else:
            self.raw.create_function(name, nargs, fn, deterministic=True)

    @property
    def in_transaction(self) -> bool:
        """True while a transaction is open.

        Example:
            >>> conn.in_transaction                           # doctest: +SKIP
            False
        """
        if self.driver.name == "apsw":
            return bool(self.raw.in_transaction)
        return bool(self.raw.in_transaction)

    def rollback(self) -> None:
        """Roll back the open transaction, if any; never raises.

        Example:
            >>> conn.rollback()                               # doctest: +SKIP
        """
        try:
            if self.in_transaction:
                self.run("ROLLBACK")
        except self.driver.error:
            pass

    def close(self) -> None:
        """Close the connection; never raises.

        Example:
            >>> conn.close()                                  # doctest: +SKIP
        """
        try:
            self.raw.close()
        except self.driver.error:
            pass


def open_connection(target: str, *, driver: Driver | None = None, busy_timeout_ms: int = 5000) -> Connection:
    """Open ``target`` (a path, ``:memory:`` or a ``file:`` URI) with sqlite-vec loaded and the project's pragmas:
    foreign keys on, a busy timeout, and trusted schema so the vector-index triggers run.

    Example:
        >>> open_connection("file:/okai-demo?vfs=memdb").query("SELECT vec_version()")   # doctest: +SKIP
        [('v0.1.9',)]
    """
    d = driver or pick_driver()
    vec = _vec_module()
    if d.name == "apsw":
        flags = d.module.SQLITE_OPEN_READWRITE | d.module.SQLITE_OPEN_CREATE | d.module.SQLITE_OPEN_URI
        raw = d.module.Connection(target, flags=flags)
        raw.enable_load_extension(True)
        raw.load_extension(vec.loadable_path())
        raw.enable_load_extension(False)
    else:
        raw = d.module.connect(target, uri=target.startswith("file:"), isolation_level=None, check_same_thread=False)
        raw.enable_load_extension(True)
        vec.load(raw)
        raw.enable_load_extension(False)
    conn = Connection(d, raw)
    conn.query(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.query("PRAGMA foreign_keys = ON")
    conn.query("PRAGMA trusted_schema = ON")
    conn.query("PRAGMA cache_size = -65536")  # 64 MiB: a vec0 chunk of 1024 x 384 floats is 1.5 MiB
    # Map up to SQLite's default ceiling (2 GiB): address space, not memory. A vec0 KNN reads every vector chunk;
    # read through mmap rather than read() it costs ~60 ms instead of ~72 ms at 100k x 384 (a 380 MB file).
    conn.query("PRAGMA mmap_size = 2147418112")
    return conn


__all__ = ["DRIVER_ORDER", "INSTALL_HINT", "Connection", "Driver", "open_connection", "pick_driver"]
