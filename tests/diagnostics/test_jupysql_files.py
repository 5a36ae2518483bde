"""Every file of the SQL library, both ways (issue 19 item 6): through the package's runner (READ ONLY, bound
parameters) and through jupysql in a real IPython shell, in the form queries/README.md tells a user to use:
``%sql --file`` for a file without parameters, ``%okai sql <concern>/<name>`` (the header's defaults) for a file
with them, since ``%sql --file`` refuses those. Both ways must give the same columns. The files that are templates
of a Python module (placeholders for table, column and operator, no defaults) are listed as such in the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from psycopg import sql

from okai_insight.diagnostics._runner import Runner
from okai_insight.query_files import all_queries, defaults, load_sql, queries_dir

README = queries_dir() / "README.md"
_PARAM = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def _kind(concern: str, name: str) -> str:
    text = "\n".join(line for line in load_sql(concern, name).splitlines() if not line.startswith("--"))
    if not _PARAM.search(text):
        return "plain"
    return "defaults" if defaults(concern, name) else "template"


@pytest.fixture
def ip(healthy: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[InteractiveShell]:
    monkeypatch.setenv("PLOOMBER_STATS_ENABLED", "false")
    monkeypatch.setenv("OKAI_DATABASE_URL", healthy)
    shell = InteractiveShell.instance()
    if "okai_insight" in shell.extension_manager.loaded:  # one shell per process: register afresh
        import okai_insight

        okai_insight.load_ipython_extension(shell)
    else:
        shell.run_line_magic("load_ext", "okai_insight")
    shell.run_line_magic("okai", f"connect {healthy}")
    yield shell
    from sql.connection import ConnectionManager

    ConnectionManager.close_all()


def _through_runner(url: str, concern: str, name: str) -> list[str]:
    """The file through the package's runner, its header's defaults evaluated by the server into bound values."""
    params: dict[str, Any] = {}
    identifiers: dict[str, sql.Composable] = {}
    with psycopg.connect(url) as conn:
        for key, literal in defaults(concern, name).items():
            if key.startswith("{"):
                identifiers[key.strip("{}")] = sql.Identifier(*literal.split("."))
            else:
                row = conn.execute(sql.SQL("SELECT {}").format(sql.SQL(literal))).fetchone()  # type: ignore[arg-type]
                assert row is not None
                params[key] = row[0]
    with Runner(url) as run:
        result = run.query(concern, name, params or None, identifiers=identifiers or None)
    return list(result.columns)


@pytest.mark.parametrize(("concern", "name"), all_queries())
def test_every_file_both_ways(ip: InteractiveShell, healthy: str, tmp_path: Path, concern: str, name: str) -> None:
    kind = _kind(concern, name)
    if kind == "template":
        # composed by its module (okai_insight/embeddings, okai_insight/ops): the README says so by concern
        assert f"`{concern}/`" in README.read_text(encoding="utf-8"), (concern, name)
        return
    columns = _through_runner(healthy, concern, name)
    ip.run_line_magic("sql", "SET lock_timeout = '2s'")
    path = queries_dir() / concern / f"{name}.sql"
    if kind == "plain":
        result = ip.run_line_magic("sql", f"--file {path}")
    else:
        with pytest.raises(UsageError):  # what the README warns about: jupysql does not bind %(name)s
            ip.run_line_magic("sql", f"--file {path}")
        result = ip.run_line_magic("okai", f"sql {concern}/{name}")
    assert result is not None and list(result.keys) == columns, (concern, name)


def test_the_readme_gives_the_forms_and_every_kind_is_exercised() -> None:
    text = README.read_text(encoding="utf-8")
    assert "%sql --file" in text and "%okai sql" in text and "UsageError" in text
    kinds = {_kind(c, n) for c, n in all_queries()}
    assert kinds == {"plain", "defaults", "template"}
