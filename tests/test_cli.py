"""The command line: --help everywhere, formats, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from okai_insight.cli import build_parser, format_rows, main


def _subcommands() -> list[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return sorted(action.choices)


def test_every_command_has_help_with_examples(capsys):
    commands = _subcommands()
    assert {"server", "init", "demo"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0
        out = capsys.readouterr().out
        assert "usage: okai-insight" in out and "example" in out.lower(), name


def test_python_dash_m_works():
    result = subprocess.run([sys.executable, "-m", "okai_insight", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "okai-insight" in result.stdout
    assert result.stderr == ""


def test_format_rows():
    rows = [{"name": "idx", "size_bytes": 8192}, {"name": "b", "extra": None}]
    assert json.loads(format_rows(rows, "json"))[0] == {"name": "idx", "size_bytes": 8192}
    assert format_rows(rows, "csv").splitlines()[0] == "name,size_bytes,extra"
    text = format_rows(rows, "text").splitlines()
    assert text[0].split() == ["name", "size_bytes", "extra"] and "8192" in text[2]
    assert format_rows([], "text") == "(no rows)"


def test_bad_url_is_a_one_line_error(capsys):
    code = main(["init", "mysql://somewhere/db"])
    err = capsys.readouterr().err.strip()
    assert code != 0 and err.startswith("okai-insight: error: ConfigurationError") and "\n" not in err


def test_unreachable_server_is_a_one_line_error(capsys, tmp_path):
    code = main(["init", f"postgresql://postgres@/nodb?host={tmp_path}&connect_timeout=1"])
    err = capsys.readouterr().err.strip()
    # DatabaseUnavailable is a ConnectionFailed that says why (issue 12 item 7)
    assert code == 1 and err.startswith("okai-insight: error: DatabaseUnavailable: database unreachable (refused)")
    assert "\n" not in err


def test_init_on_a_database(make_database, capsys):
    url = make_database("cli")
    assert main(["init", url, "--dimension", "768"]) == 0
    assert "embedding dimension 768" in capsys.readouterr().out
    assert main(["init", url]) == 0  # idempotent; the recorded dimension wins
    assert "embedding dimension 768" in capsys.readouterr().out
