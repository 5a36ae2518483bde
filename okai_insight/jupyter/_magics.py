"""IPython magics: ``%load_ext okai_insight`` connects jupysql's ``%sql`` / ``%%sql`` to the memory database and
adds ``%okai`` (doctor, explain, any diagnostic, a query file of the SQL library) and ``%%okai_explain``.

Results render as tables with their findings highlighted by severity (the library's own ``_repr_html_``). Errors
come back as one line (an IPython ``UsageError``), never a traceback. The database is the one given to
``%okai connect URL``, else ``OKAI_DATABASE_URL``, else the embedded server.

Example (in a notebook)::

    %load_ext okai_insight
    %sql SELECT count(*) FROM memories
    %okai doctor
    %okai explain --analyze SELECT id FROM memories ORDER BY "createdAt" DESC LIMIT 10
    %%okai_explain --analyze --compare hnsw.ef_search=100
    SELECT id FROM memories ORDER BY embedding <=> (SELECT embedding FROM memories LIMIT 1) LIMIT 50
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.display import display as _display

from okai_insight.errors import OkaiError

USAGE = """\
%okai doctor [URL] [--check NAME ...]        every diagnostic, findings first
%okai explain [--analyze] [--set k=v] [--compare k=v] SQL
%okai <diagnostic> [URL]                      one diagnostic (e.g. %okai duplicate_indexes)
%okai sql <concern>/<name> [key=value ...]    run a file of the SQL library under jupysql
%okai connect URL                             switch the database (also for %sql)
%%okai_explain [--analyze] [--set k=v] [--compare k=v] [--params VAR]   the cell is the statement"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit the kernel
        raise UsageError(f"{self.prog}: {message}")


def _explain_parser(prog: str) -> _Parser:
    p = _Parser(prog=prog, add_help=False)
    p.add_argument("--analyze", action="store_true")
    p.add_argument("--allow-writes", action="store_true")
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--compare", action="append", default=[])
    p.add_argument("--params")
    p.add_argument("--timeout-ms", type=int)
    return p


_OPTION = re.compile(r"\s*(--analyze|--allow-writes)(?=\s|$)|\s*(--set|--compare|--params|--timeout-ms)[ =](\S+)")


def _split_options(text: str) -> tuple[list[str], str]:
    """Leading ``--options`` and the statement after them, as typed (its quotes kept).

    Example:
        >>> _split_options(" --analyze --set work_mem=1MB SELECT 'a b'")
        (['--analyze', '--set', 'work_mem=1MB'], "SELECT 'a b'")
    """
    options: list[str] = []
    while m := _OPTION.match(text):
        options += [m.group(1)] if m.group(1) else [m.group(2), m.group(3)]
        text = text[m.end() :]
    return options, text.strip()


def _shell_words(text: str) -> list[str]:
    """The words of a magic's line (shell quoting); unbalanced quotes are a UsageError, not a traceback.

    Example:
        >>> _shell_words("doctor --check 'a b'")
        ['doctor', '--check', 'a b']
    """
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"cannot split the line into words: {exc}") from None


def display(obj: Any) -> None:
    """IPython's display (typed)."""
    _display(obj)  # type: ignore[no-untyped-call]


def _pairs(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise UsageError(f"expected name=value, got {item!r}")
        out[name] = value
    return out


def _diagnostics() -> dict[str, Callable[..., Any]]:
    """Every registered diagnostic by name (``%okai <name>``).

    Example:
        >>> "duplicate_indexes" in _diagnostics() and "table_sizes" in _diagnostics()
        True
    """
    from okai_insight.diagnostics import registry

    return {e.name: e.function for e in registry.entries()}


@magics_class
class OkaiMagics(Magics):
    """``%okai`` and ``%%okai_explain``; ``url`` is the database they (and jupysql's ``%sql``) use.

    Example:
        >>> ip.register_magics(OkaiMagics(ip, url=url))              # doctest: +SKIP
    """

    def __init__(self, shell: Any, url: str | None = None) -> None:
        super().__init__(shell)
        self.url = url
        self.ip: Any = shell

    # -- the database --------------------------------------------------------------------------------------------
    def database_url(self) -> str:
        """The URL in use (resolved once: ``%okai connect``, ``OKAI_DATABASE_URL``, the embedded server)."""
        if self.url is None:
            from okai_insight._connect import resolve_url

            self.url = resolve_url(None)
        return self.url

    def connect_jupysql(self) -> bool:
        """Make this database jupysql's current connection (alias ``okai``); False when jupysql is missing."""
        try:
            import sqlalchemy
            from sql.connection import ConnectionManager
        except ImportError:
            return False
        if "sql" not in self.ip.extension_manager.loaded:
            self.ip.extension_manager.load_extension("sql")
        url = self.database_url()
        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        previous = ConnectionManager.connections.get("okai")
        if previous is not None:  # a reconnect: close the old engine's connection rather than leak it
            previous.close()
        ConnectionManager.set(engine, displaycon=False, alias="okai")
        return True

    # -- magics --------------------------------------------------------------------------------------------------
    @line_magic("okai")  # type: ignore[arg-type]  # IPython types the named form loosely
    def okai(self, line: str) -> Any:
        """``%okai doctor | explain ... | <diagnostic> | sql <concern>/<name> | connect URL`` (``%okai`` alone: usage)."""
        command, tail = [*line.split(None, 1), "", ""][:2]
        if not command or command in ("help", "-h", "--help"):
            print(USAGE)
            return None
        try:
            if command == "explain":  # the rest is SQL, taken as typed: shell quoting rules do not apply to it
                options, query = _split_options(tail)
                return self._explain(_explain_parser("%okai explain").parse_args(options), query)
            return self._dispatch(command, _shell_words(tail))
        except OkaiError as exc:
            raise UsageError(f"{type(exc).__name__}: {exc}") from None

    @cell_magic("okai_explain")  # type: ignore[arg-type]
    def okai_explain(self, line: str, cell: str) -> Any:
        """The cell is the statement; the line takes ``--analyze``, ``--set k=v``, ``--compare k=v``,
        ``--params VAR`` (a dict or list in the notebook's namespace) and ``--allow-writes``."""
        args = _explain_parser("%%okai_explain").parse_args(_shell_words(line))
        try:
            return self._explain(args, cell)
        except OkaiError as exc:
            raise UsageError(f"{type(exc).__name__}: {exc}") from None

    def _dispatch(self, command: str, rest: list[str]) -> Any:
        if command == "connect":
            if len(rest) != 1:
                raise UsageError("%okai connect URL")
            self.url = rest[0]
            self.connect_jupysql()
            return None
        if command == "doctor":
            from okai_insight.diagnostics import doctor

            p = _Parser(prog="%okai doctor", add_help=False)
            p.add_argument("url", nargs="?")
            p.add_argument("--check", action="append")
            args = p.parse_args(rest)
            return doctor(args.url or self.database_url(), checks=args.check)
        if command == "sql":
            return self._sql(rest)
        checks = _diagnostics()
        if command in checks:
            return checks[command](rest[0] if rest else self.database_url())
        raise UsageError(f"unknown %okai command {command!r}\n{USAGE}")

    def _explain(self, args: argparse.Namespace, query: str) -> Any:
        from okai_insight.diagnostics.explain import compare_settings, explain

        params = None
        if args.params:
            if args.params not in self.ip.user_ns:
                raise UsageError(f"--params {args.params}: no such variable in the notebook")
            params = self.ip.user_ns[args.params]
        options: dict[str, Any] = {"allow_writes": args.allow_writes}
        if args.timeout_ms is not None:
            options["timeout_ms"] = args.timeout_ms
        url = self.database_url()
        before = _pairs(args.set)
        if args.compare:
            diff = compare_settings(
                url, query, _pairs(args.compare), params, before_settings=before, analyze=args.analyze, **options
            )
            for plan in diff.plans:  # type: ignore[attr-defined]
                display(plan)
            return diff
        return explain(url, query, params, analyze=args.analyze, settings=before, **options)

    def _sql(self, rest: list[str]) -> Any:
        from okai_insight.query_files import jupysql_text

        if not rest or "/" not in rest[0]:
            raise UsageError("%okai sql <concern>/<name> [key=value ...]  (e.g. %okai sql indexes/unused_indexes)")
        concern, name = rest[0].split("/", 1)
        text = jupysql_text(concern, name.removesuffix(".sql"), **_pairs(rest[1:]))
        if not self.connect_jupysql():
            raise UsageError("jupysql is not installed: pip install 'okai-insight[jupyter]'")
        return self.ip.run_cell_magic("sql", "", text)


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%okai`` / ``%%okai_explain`` and point jupysql's ``%sql`` at the same database.

    Example:
        >>> ip.run_line_magic("load_ext", "okai_insight")            # doctest: +SKIP
    """
    magics = OkaiMagics(ipython)
    ipython.register_magics(magics)
    try:
        ready = magics.connect_jupysql()
    except OkaiError as exc:  # no database reachable yet: %okai connect URL later
        print(f"okai-insight: {exc} (use %okai connect URL)")
        return
    if not ready:
        print("okai-insight: jupysql is not installed, so %sql is not connected (pip install 'okai-insight[jupyter]')")
