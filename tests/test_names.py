"""One name, one meaning (issue 13 item 6): names that meant two things were renamed; these tests fail if a
colliding name comes back, and check that each renamed public name still works for one release, with a warning.

docs/architecture.md's "Names" table lists every rename.
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "okai_insight"


def _modules() -> dict[str, ast.Module]:
    return {
        str(p.relative_to(PACKAGE.parent)): ast.parse(p.read_text(encoding="utf-8"), str(p))
        for p in sorted(PACKAGE.rglob("*.py"))
    }


MODULES = _modules()


def _top_level(kind: type[ast.AST]) -> dict[str, list[str]]:
    """Top-level definitions of one kind (functions, classes) and type aliases by name: where each is defined."""
    found: dict[str, list[str]] = defaultdict(list)
    for path, tree in MODULES.items():
        for node in tree.body:
            if isinstance(node, kind) and isinstance(node, ast.FunctionDef | ast.ClassDef):
                found[node.name].append(path)
            elif kind is ast.ClassDef and isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    # a type alias (Name = Any / a class) counts as a type: two types must not share a name
                    if isinstance(t, ast.Name) and t.id[:1].isupper() and not t.id.isupper():
                        found[t.id].append(path)
    return found


CLASSES = _top_level(ast.ClassDef)
FUNCTIONS = _top_level(ast.FunctionDef)


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("Target", "okai_insight/runner.py"),  # what a diagnostic accepts; the report's is ReportTarget
    ],
)
def test_a_type_name_is_defined_in_one_place(name: str, home: str) -> None:
    assert CLASSES.get(name) == [home], f"{name} must mean one thing, defined only in {home}: {CLASSES.get(name)}"


@pytest.mark.parametrize(
    "old",
    [
        "Statements",  # adapters' SQL texts are ProfileSql; 'statements' is pg_stat_statements
        "MemoryFilters",  # which filters a statement has is MemoryQueryShape; Filters are values (embeddings)
    ],
)
def test_a_renamed_type_does_not_come_back(old: str) -> None:
    assert old not in CLASSES, f"{old} was renamed (docs/architecture.md, Names); defined again in {CLASSES[old]}"


@pytest.mark.parametrize(
    ("name", "home"),
    [
        ("register", "okai_insight/adapters/postgres.py"),  # psycopg set-up; the CLI's are add_commands
        ("health", "okai_insight/ops/monitoring.py"),  # the liveness probe; every check is diagnostics.doctor
        ("replication_status", "okai_insight/diagnostics/replication.py"),  # the diagnostic; ops adds the role
    ],
)
def test_a_function_name_is_defined_in_one_place(name: str, home: str) -> None:
    assert FUNCTIONS.get(name) == [home], f"{name} must mean one thing, defined only in {home}: {FUNCTIONS.get(name)}"


@pytest.mark.parametrize(
    "old",
    [
        "okai_insight/diagnostics/_sql.py",  # the one SQL loader is okai_insight/query_files.py
        "okai_insight/adapters/_pg_sql.py",  # -> _pg_profile_sql.py
        "okai_insight/diagnostics/_vector_sql.py",  # -> _vector_query_analysis.py
        "okai_insight/diagnostics/_statement.py",  # -> _explain_gate.py
        "okai_insight/diagnostics/health.py",  # -> doctor.py
    ],
)
def test_a_renamed_module_does_not_come_back(old: str) -> None:
    assert not (PACKAGE.parent / old).exists(), f"{old} was renamed (docs/architecture.md, Names)"


@pytest.mark.parametrize(
    ("stem", "home"),
    [
        ("settings", "okai_insight/settings.py"),  # okai's configuration; the server's are diagnostics.server_settings
        ("statements", "okai_insight/diagnostics/statements.py"),  # pg_stat_statements
    ],
)
def test_a_module_name_means_one_thing(stem: str, home: str) -> None:
    paths = [path for path in MODULES if Path(path).stem == stem]
    assert paths == [home], f"modules named {stem}: {paths}; it means one thing, {home}"


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("okai_insight.report", "Target", "ReportTarget"),
        ("okai_insight.diagnostics", "settings", "server_settings"),
        ("okai_insight.diagnostics", "health", "doctor"),
        ("okai_insight.diagnostics", "HealthReport", "DoctorReport"),
        ("okai_insight.ops.replicas", "replication_status", "replication_role_and_lag"),
    ],
)
def test_an_old_public_name_still_works_with_a_warning(module: str, old: str, new: str) -> None:
    mod = importlib.import_module(module)
    with pytest.warns(DeprecationWarning, match=rf"{module}\.{old} is renamed {module}\.{new}"):
        value = getattr(mod, old)
    assert value is getattr(mod, new)
    assert old not in mod.__all__ and new in mod.__all__
