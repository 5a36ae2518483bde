"""The three layers import one way: the data layer imports nothing above it, and adapters live in the data layer.

docs/architecture.md draws the layers; these tests keep the drawing true. They read the source (AST), so an import
hidden inside a function counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "okai_insight"

#: The data layer: the contract, its adapters, schema profiles and migrations, the embedded server, models,
#: validation, and the configuration and errors everything shares.
DATA_LAYER = [
    "adapters",
    "schema",
    "embedded.py",
    "models.py",
    "validation.py",
    "settings.py",
    "errors.py",
    "_json.py",
    "_connect.py",
]

#: What sits above it: insight and operations, and presentation (the CLI in both its old and new places).
ABOVE = (
    "okai_insight.ops",
    "okai_insight.diagnostics",
    "okai_insight.embeddings",
    "okai_insight.runner",
    "okai_insight.jupyter",
    "okai_insight.report",
    "okai_insight.cli",
    "okai_insight._cli_core",
    "okai_insight._cli_copy",
    "okai_insight.copy",
    "okai_insight.demo",
)


def _modules(entries: list[str]) -> Iterator[Path]:
    for entry in entries:
        path = PACKAGE / entry
        yield from sorted(path.rglob("*.py")) if path.is_dir() else [path]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str) -> Iterator[tuple[int, str]]:
    """Every module the ``source`` of ``module`` imports: absolute, relative (resolved) and ``import_module("...")``
    literals, wherever they sit (inside functions too).

    Example:
        >>> list(imported_names("from ..errors import InvalidInput", "okai_insight.adapters.base"))
        [(1, 'okai_insight.errors'), (1, 'okai_insight.errors.InvalidInput')]
    """
    package = module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                target = ".".join([*parts, node.module] if node.module else parts)
            else:
                target = node.module or ""
            yield node.lineno, target
            for alias in node.names:  # from okai_insight import ops
                yield node.lineno, f"{target}.{alias.name}"
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                yield node.lineno, node.args[0].value


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    name = _module_name(path)
    # An __init__ is its package: its relative imports resolve from the package itself.
    return imported_names(path.read_text(), f"{name}.__init__" if path.name == "__init__.py" else name)


def _above(module: str) -> bool:
    return any(module == top or module.startswith(top + ".") for top in ABOVE)


def test_the_data_layer_imports_nothing_above_it():
    crossings = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in _modules(DATA_LAYER)
        for line, module in _imports(path)
        if _above(module)
    ]
    assert crossings == []


def test_the_scan_sees_imports_inside_functions_relative_ones_and_strings():
    # The crossing this test was written for was an import inside PostgresAdapter.init(); a relative import or an
    # import_module() string would hide one just as well.
    source = (
        "def f():\n"
        "    from okai_insight.ops.replicas import ReplicaRouter\n"
        "    from ..diagnostics import doctor\n"
        "    from .. import report\n"
        "    import importlib; importlib.import_module('okai_insight.embeddings')\n"
    )
    found = {m for _, m in imported_names(source, "okai_insight.adapters.postgres") if _above(m)}
    assert found >= {
        "okai_insight.ops.replicas",
        "okai_insight.diagnostics",
        "okai_insight.report",
        "okai_insight.embeddings",
    }
    assert not any(_above(m) for _, m in imported_names("from . import base", "okai_insight.adapters.postgres"))


def _adapter_classes() -> set[str]:
    """Names of the classes the data layer defines that are adapters (derive from DatabaseAdapter, by name)."""
    bases: dict[str, set[str]] = {}
    for path in _modules(["adapters"]):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
    adapters = {"DatabaseAdapter"}
    while True:
        more = {name for name, parents in bases.items() if parents & adapters} - adapters
        if not more:
            return adapters
        adapters |= more


def test_every_adapter_lives_in_the_data_layer():
    adapters = _adapter_classes()
    assert {"PostgresAdapter", "IsolatedPostgresAdapter", "SupabaseDirectAdapter"} <= adapters
    data = set(_modules(DATA_LAYER))
    outside = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno} class {node.name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path not in data
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ClassDef) and {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases} & adapters
    ]
    assert outside == []
