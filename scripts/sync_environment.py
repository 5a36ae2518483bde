"""Regenerate environment.yml from pyproject.toml (conda users get the same dependencies as pip users).

Run: python scripts/sync_environment.py   (tests/test_packaging.py checks the two agree)
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Extras left out of the conda environment: the embedding model needs a CPU torch build chosen per machine.
EXCLUDED_EXTRAS = {"embeddings"}


def expected_pip_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra, deps in sorted(project.get("optional-dependencies", {}).items()):
        if extra not in EXCLUDED_EXTRAS:
            reqs += deps
    seen: list[str] = []
    for r in reqs:
        if r not in seen:
            seen.append(r)
    return seen


def render() -> str:
    lines = [
        "# Generated from pyproject.toml by scripts/sync_environment.py; tests/test_packaging.py keeps them in step.",
        "# conda env create -f environment.yml && conda activate okai-insight && pip install -e . --no-deps",
        "# The optional embedding model: pip install -e '.[embeddings]' (takes torch==2.13.0, a CPU build).",
        "name: okai-insight",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.11",
        "  - pip",
        "  - pip:",
    ]
    lines += [f'      - "{r}"' for r in expected_pip_requirements()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    target = ROOT / "environment.yml"
    target.write_text(render())
    print(f"wrote {target}", file=sys.stderr)
