"""Every command of the command line, and each of its options, is documented (like sqlite-utils' test_docs.py).

The commands and options come from the parser itself, so a new command or option without documentation fails
here. A command is documented by a heading naming it (``### `okai-insight copy` ``) in README.md or docs/*.md;
its options, and the choices of a positional argument (``server start|stop|...``), must appear in that section.

The one subcommand each registered diagnostic gets (``okai-insight duplicate-indexes``: the CLI spells every
command with dashes, the registry keeps Python names) is generated from the registry: its documentation is the diagnostic's own docstring (summary and example) and the help of the options
generated from its signature, so adding a diagnostic touches its SQL file, its function and its test only
(issue 13). docs/cli.md describes those commands once, under ``okai-insight <diagnostic>``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from okai_insight.cli import build_parser
from okai_insight.cli._args import command_spelling
from okai_insight.diagnostics import registry

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


COMMANDS = _commands()
#: Subcommands the CLI generates from the diagnostics registry (the embedding checks have hand-written ones).
GENERATED = {command_spelling(e.name) for e in registry.entries(exclude=("embeddings",))} & set(COMMANDS)
WRITTEN = sorted(set(COMMANDS) - GENERATED)


def section(name: str) -> str | None:
    """The text under the heading that names ``okai-insight <name>``, up to the next heading of the same or a
    higher level; ``None`` when no document has such a heading."""
    heading = re.compile(rf"^(#+) .*`okai-insight {re.escape(name)}`", re.MULTILINE)
    for path in DOCS:
        text = path.read_text(encoding="utf-8")
        found = heading.search(text)
        if found is None:
            continue
        level = len(found.group(1))
        end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, found.end())
        return text[found.end() : end.start() if end else len(text)]
    return None


def _documented_names(parser: argparse.ArgumentParser) -> list[str]:
    names = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if action.option_strings:
            long = [o for o in action.option_strings if o.startswith("--")]
            names.append(long[0] if long else action.option_strings[0])
        elif action.choices:
            names.extend(str(choice) for choice in action.choices)
    return names


def test_the_commands_are_found():
    """The parser has the commands this test is meant to walk (a sanity check of the enumeration)."""
    assert {"server", "init", "demo", "copy", "doctor", "explain", "backup", "report", "explore"} <= set(COMMANDS)
    assert {"unused-indexes", "vector-queries"} <= GENERATED, "the per-diagnostic commands, spelled with dashes"


@pytest.mark.parametrize("name", WRITTEN)
def test_command_is_documented(name: str):
    text = section(name)
    assert text is not None, f"no heading for `okai-insight {name}` in README.md or docs/*.md (docs/cli.md)"
    assert text.strip(), f"the section for okai-insight {name} is empty"


@pytest.mark.parametrize("name", WRITTEN)
def test_each_option_is_documented(name: str):
    text = section(name) or ""
    missing = [opt for opt in _documented_names(COMMANDS[name]) if f"`{opt}`" not in text]
    assert missing == [], f"okai-insight {name}: undocumented {missing}"


def test_the_generated_commands_are_described_once():
    """docs/cli.md explains the per-diagnostic commands once, and names how to list them."""
    text = section("<diagnostic>")
    assert text is not None and "registry" in text and "--help" in text


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_each_generated_command_is_documented_by_its_diagnostic(name: str):
    """A generated command's documentation is its diagnostic's docstring (a summary and an example) and the help
    text of every option; that is what ``okai-insight <name> --help`` prints."""
    doc = registry.get(name.replace("-", "_")).function.__doc__ or ""
    assert doc.strip().split("\n")[0].strip(), f"{name} has no docstring summary"
    assert "Example" in doc, f"{name}'s docstring has no example"
    parser = COMMANDS[name]
    assert parser.description and parser.description.strip()
    undocumented = [a.dest for a in parser._actions if a.help in (None, "")]
    assert undocumented == [], f"okai-insight {name}: options without help {undocumented}"
