"""Every PostgreSQL-only command says so, in one line and with its own exit status (issue 15 item 7).

Given ``sqlite:///x.db``, ``memory://`` or ``mysql://u@h/db`` each command that needs PostgreSQL exits with
status 3 (as a connection failure: no database it can work on) and one line on stderr naming itself and what
the URL is, instead of libpq's ``missing "=" after "sqlite:///..."`` or a traceback. The commands are enumerated from the parser, so a new one is covered (or must be
named here as working elsewhere). Nothing is created: no SQLite file appears, no server is started.
"""

from __future__ import annotations

import argparse
import base64
from pathlib import Path

import pytest

import okai_insight
from okai_insight import cli
from okai_insight.embeddings import embedding_quality
from okai_insight.errors import InvalidInput, UnsupportedDatabase
from okai_insight.ops.monitoring import metrics

#: Commands that work without PostgreSQL (or take no database URL).
NOT_POSTGRES_ONLY = {"server", "init", "demo", "copy", "pglite", "convert-threshold", "pitr-restore"}

#: The extra arguments a command needs to get as far as opening its database.
EXTRA = {
    "explain": ["--query", "SELECT 1"],
    "neighbours": ["--id", "00000000-0000-0000-0000-000000000001"],
    "backup": ["-o", "{tmp}/out.dump"],
    "basebackup": ["-o", "{tmp}/base"],
    "retention": ["--older-than-days", "30"],
    "archive-restore": ["--archive", "{tmp}/archive"],
    "partition": ["--partitions", "2"],
    "replica": ["--data-dir", "{tmp}/replica"],
}
#: Positional arguments that come before the URL.
BEFORE_URL = {"restore": ["{tmp}/a.dump"], "replica": ["create"], "encrypt": ["usage"]}

URLS = ["sqlite:///{tmp}/x.db", "memory://", "mysql://u@h/db"]
#: Commands that also read a SQLite store (issue 15 item 7): given a SQLite file that does not exist they refuse
#: it as bad input, and still create nothing (they open a store read-only).
SQLITE_TOO = {"doctor", "embedding-quality", "explore", "neighbours", "tune-threshold", "tune-recall"}


def _commands() -> list[str]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(set(sub.choices) - NOT_POSTGRES_ONLY)


def test_the_list_covers_the_parser() -> None:
    names = _commands()
    assert {"doctor", "metrics", "health", "report", "embedding-quality", "secure", "backup"} <= set(names)
    assert set(EXTRA) | set(BEFORE_URL) <= set(names)


@pytest.mark.parametrize("url", URLS, ids=["sqlite", "memory", "mysql"])
@pytest.mark.parametrize("command", _commands())
def test_postgres_only_command_says_so(
    command: str, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OKAI_DATABASE_URL", raising=False)
    monkeypatch.setenv("OKAI_ENCRYPTION_KEYS", "k1:" + base64.b64encode(bytes(range(32))).decode())
    monkeypatch.setenv("OKAI_DATA_DIR", str(tmp_path / "no-server-here"))
    (tmp_path / "a.dump").write_bytes(b"PGDMP")
    (tmp_path / "archive").mkdir()
    (tmp_path / "archive" / "memories-1.parquet").write_bytes(b"PAR1")
    tmp = str(tmp_path)
    target = url.format(tmp=tmp)
    argv = [command, *(a.format(tmp=tmp) for a in BEFORE_URL.get(command, [])), target]
    argv += [a.format(tmp=tmp) for a in EXTRA.get(command, [])]
    status = cli.main(argv)
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    if command in SQLITE_TOO and target.startswith("sqlite:"):
        assert status == 2 and len(lines) == 1 and "never creates it" in lines[0], (argv, out, err)
        assert not (tmp_path / "x.db").exists(), "nothing was created"
        return
    assert status == cli.EXIT_UNSUPPORTED == 3, (argv, out, err)
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith(f"okai-insight: error: {command} needs PostgreSQL; "), lines[0]
    kind = {"sqlite": "is a SQLite store", "memory": "is an in-memory store", "mysql": "does not speak mysql://"}
    assert kind[target.split(":", 1)[0]] in lines[0]
    assert not (tmp_path / "x.db").exists(), "nothing was created"
    assert not (tmp_path / "no-server-here").exists(), "no embedded server was started"


def test_library_functions_refuse_other_stores_by_type() -> None:
    with okai_insight.connect("memory://only-here") as db:
        with pytest.raises(UnsupportedDatabase, match=r"^metrics needs PostgreSQL; memory://only-here is an in-memory"):
            metrics(db, probe_searches=0)
        # embedding insight reads in-memory and SQLite stores too (issue 15 item 7): an empty store, no findings
        assert embedding_quality(db).status == "ok"
    err = UnsupportedDatabase("sqlite:///x.db", "doctor")
    assert isinstance(err, InvalidInput) and err.scheme == "sqlite" and err.kind == "SQLite"
