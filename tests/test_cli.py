"""The command line: --help everywhere, formats, one-line errors and exit codes."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

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
    # DatabaseUnavailable is a ConnectionFailed that says why (issue 12 item 7); cannot connect: status 3 (issue 16)
    assert code == 3 and err.startswith("okai-insight: error: DatabaseUnavailable: database unreachable (refused)")
    assert "\n" not in err


def test_init_on_a_database(make_database, capsys):
    url = make_database("cli")
    assert main(["init", url, "--dimension", "768"]) == 0
    assert "embedding dimension 768" in capsys.readouterr().out
    assert main(["init", url]) == 0  # idempotent; the recorded dimension wins
    assert "embedding dimension 768" in capsys.readouterr().out


# -- the CLI is a leaf: the library never imports it (issue 13 item 5) -------------------------------------------
PACKAGE_DIR = Path(__file__).resolve().parents[1] / "okai_insight"
CLI_DIR = PACKAGE_DIR / "cli"


def _imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``path`` names (relative ones resolved), at any depth
    (an import inside a function counts), with ``from pkg import name`` also giving ``pkg.name``."""
    package = ".".join(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_cli(module: str) -> bool:
    return module == "okai_insight.cli" or module.startswith("okai_insight.cli.")


def test_nothing_in_the_library_imports_the_cli():
    """okai_insight/cli/ sits on top: the library, its widgets and reports never import it (``python -m
    okai_insight``, the one entry point outside the package, is the exception)."""
    offenders = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if CLI_DIR in path.parents or path == PACKAGE_DIR / "__main__.py":
            continue
        offenders += [f"{path.relative_to(PACKAGE_DIR)}: {m}" for m in sorted(_imported_modules(path)) if _is_cli(m)]
    assert offenders == []


def test_the_command_modules_do_not_import_back_from_the_package_that_imports_them():
    """No cycle: ``okai_insight/cli/__init__.py`` imports the command modules, so they take their helpers from
    ``okai_insight.cli._args`` / ``_output``, never from ``okai_insight.cli`` itself."""
    offenders = []
    for path in sorted(CLI_DIR.glob("*.py")):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        for module in _imported_modules(path):
            helper = module.removeprefix("okai_insight.cli.").split(".")[0]
            if _is_cli(module) and (module == "okai_insight.cli" or not helper.startswith("_")):
                offenders.append(f"{path.name}: {module}")
    assert offenders == []


def test_the_old_cli_modules_are_gone():
    """One place for the CLI: no ``_cli.py`` left in the library's packages, no ``cli.py`` beside ``cli/``."""
    names = ("cli.py", "_cli.py", "_cli_*.py")
    leftovers = [
        str(p.relative_to(PACKAGE_DIR)) for n in names for p in PACKAGE_DIR.rglob(n) if CLI_DIR not in p.parents
    ]
    assert leftovers == []
