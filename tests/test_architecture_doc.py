"""docs/architecture.md is a map of the code: every path and module it names must exist, so the map cannot rot.

A path is a backticked ``okai_insight/...``, ``queries/...``, ``tests/...``, ``docs/...``, ``bench/...`` or
``notebooks/...`` (placeholders with ``<`` or ``*`` are patterns, not paths); a dotted ``okai_insight.x.Name`` must
be a module, or a name a module defines or imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
ROOTS = ("okai_insight/", "queries/", "tests/", "docs/", "bench/", "notebooks/")
_CODE = re.compile(r"`([^`\s]+)`")
# Paths also appear bare in the diagram: "okai_insight/cli/ · okai_insight/jupyter/".
_BARE = re.compile(r"(?<![\w./])((?:okai_insight|queries|tests|docs|bench|notebooks)/[\w./]*+)(?![<*])")


def named_paths(text: str) -> set[str]:
    """The file and directory paths the document names.

    Example:
        >>> sorted(named_paths("see `okai_insight/runner.py` and okai_insight/cli/ or `queries/<c>/<n>.sql`"))
        ['okai_insight/cli/', 'okai_insight/runner.py']
    """
    found = {m for m in _CODE.findall(text) if m.startswith(ROOTS)} | set(_BARE.findall(text))
    return {p.rstrip(".,:;)") for p in found if "<" not in p and "*" not in p}


def named_modules(text: str) -> set[str]:
    """The dotted names under okai_insight the document names.

    Example:
        >>> sorted(named_modules("`okai_insight.ops.security.IsolatedPostgresAdapter` and `okai_insight/x.py`"))
        ['okai_insight.ops.security.IsolatedPostgresAdapter']
    """
    return {m for m in _CODE.findall(text) if m.startswith("okai_insight.") and "/" not in m}


def _module_file(dotted: str) -> Path | None:
    base = ROOT.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _defines(module: Path, name: str) -> bool:
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name).split(".")[0] == name for a in node.names
        ):
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False


def resolves(dotted: str) -> bool:
    """Whether ``dotted`` is a module of the package, or a name one of its modules defines or imports.

    Example:
        >>> resolves("okai_insight.errors.InvalidInput"), resolves("okai_insight.errors.NoSuchThing")
        (True, False)
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module = _module_file(".".join(parts[:cut]))
        if module is not None:
            rest = parts[cut:]
            return not rest or (len(rest) == 1 and _defines(module, rest[0]))
    return False


def test_every_path_in_the_architecture_map_exists():
    text = DOC.read_text()
    paths = named_paths(text)
    assert len(paths) > 30, "the map names the modules it describes"
    missing = sorted(p for p in paths if not (ROOT / p).exists())
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_every_module_name_in_the_architecture_map_resolves():
    text = DOC.read_text()
    names = named_modules(text)
    assert names, "the map names the re-exported adapters by their import paths"
    assert sorted(n for n in names if not resolves(n)) == []


def test_a_renamed_module_is_caught(tmp_path):
    text = "`okai_insight/adapters/routing.py` `okai_insight/ops/no_such_module.py` `okai_insight.ops.replicas.Gone`"
    assert [p for p in named_paths(text) if not (ROOT / p).exists()] == ["okai_insight/ops/no_such_module.py"]
    assert not resolves("okai_insight.ops.replicas.Gone")
    assert resolves("okai_insight.ops.replicas.ReplicaRouter")  # re-exported: an import counts
