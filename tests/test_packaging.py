"""Packaging: environment.yml in step with pyproject.toml; the wheel ships the SQL library and migrations."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pip_section(env: dict) -> list[str]:
    for dep in env["dependencies"]:
        if isinstance(dep, dict) and "pip" in dep:
            return list(dep["pip"])
    raise AssertionError("environment.yml has no pip section")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from sync_environment import EXCLUDED_EXTRAS, expected_pip_requirements
    finally:
        sys.path.pop(0)
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert _pip_section(env) == expected_pip_requirements(), "run: python scripts/sync_environment.py"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert set(project["optional-dependencies"]) >= EXCLUDED_EXTRAS
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"] if isinstance(d, str))


def test_wheel_ships_migrations_and_queries(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("okai_insight-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "okai_insight/py.typed" in names
    migrations = {p.name for p in (ROOT / "okai_insight/schema/migrations").glob("*.sql")}
    assert {f"okai_insight/schema/migrations/{m}" for m in migrations} <= names
    queries = {str(p.relative_to(ROOT)) for p in (ROOT / "queries").rglob("*.sql")}
    assert {f"okai_insight/{q}" for q in queries} <= names
