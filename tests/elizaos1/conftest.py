"""A real ElizaOS 1.x database, written by ElizaOS's own code: ``@elizaos/plugin-sql`` 1.7.2 driven from Node.

``tests/elizaos1/node`` pins the plugin, ``@elizaos/core`` and PGlite with a committed lockfile; the first run
installs them with ``npm ci`` (about 15 s, cached in the gitignored ``node_modules``). ``seed.mjs`` then runs the
plugin's migrator and adapter against an empty database on the session's embedded server and, at the same time,
against a fresh PGlite data directory (about 4 s and 15 s, in parallel). Nothing about the schema is written here:
what the tests see is what an ElizaOS 1.x agent leaves behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).parent / "node"
SEED = NODE_DIR / "seed.mjs"
#: Generous: a cold npm ci on a slow network, or PGlite's migrations on a loaded 2-core machine.
NPM_TIMEOUT_S = 600
SEED_TIMEOUT_S = 300
_REQUIRED = ("@elizaos/plugin-sql", "@elizaos/core", "@electric-sql/pglite", "@electric-sql/pglite-socket")


@dataclass(frozen=True)
class ElizaOS1Databases:
    """Where the fixture's two ElizaOS 1.x databases are, and what the seed script wrote into them."""

    url: str  #: a database on the embedded server (plugin-sql's PostgreSQL adapter)
    pglite_dir: Path  #: a PGlite data directory (plugin-sql's default store); copy it before changing anything
    postgres_summary: dict[str, Any]
    pglite_summary: dict[str, Any]


def node_tools() -> tuple[str, str]:
    """``node`` and ``npm`` from PATH, or a clear failure: the fixture cannot exist without them."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("tests/elizaos1 needs node (20 or later) and npm on PATH to build its ElizaOS 1.x fixture")
    return node, npm


def ensure_node_modules() -> None:
    """Install the pinned packages with ``npm ci`` unless they are installed already."""
    _, npm = node_tools()
    modules = NODE_DIR / "node_modules"
    if all((modules / name / "package.json").exists() for name in _REQUIRED):
        return
    # --ignore-scripts: none of these packages needs an install script (PGlite is WebAssembly, pg is pure JS).
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"npm ci in {NODE_DIR} failed:\n{done.stderr[-2000:]}")


def start_seed(job: dict[str, Any], work: Path) -> tuple[subprocess.Popen[str], Path]:
    """Start ``seed.mjs`` on one target; its summary lands in the returned path."""
    node, _ = node_tools()
    out = work / f"{job['target']}-summary.json"
    job_file = work / f"{job['target']}-job.json"
    job_file.write_text(json.dumps({**job, "out": str(out)}))
    env = {**os.environ, "LOG_LEVEL": "error", "NODE_NO_WARNINGS": "1"}
    proc = subprocess.Popen(
        [node, str(SEED), str(job_file)],
        cwd=NODE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, out


def finish_seed(proc: subprocess.Popen[str], out: Path) -> dict[str, Any]:
    """Wait for a seed run and return its summary, or fail with its output."""
    try:
        output, _ = proc.communicate(timeout=SEED_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"seed.mjs did not finish in {SEED_TIMEOUT_S} s:\n{output[-3000:]}")
    if proc.returncode != 0 or not out.exists():
        pytest.fail(f"seed.mjs failed (exit {proc.returncode}):\n{output[-3000:]}")
    summary: dict[str, Any] = json.loads(out.read_text())
    return summary


@pytest.fixture(scope="session")
def elizaos1(make_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory) -> ElizaOS1Databases:
    """The session's ElizaOS 1.x databases: one on the embedded server (two agents, 384 and 768 dimensions) and
    one PGlite directory (one agent, 384). Treat both as a user's data: copy before any test that may write."""
    ensure_node_modules()
    work = tmp_path_factory.mktemp("elizaos1")
    url = make_database("eliza1")
    pglite_dir = work / "pglite"
    pg = start_seed({"target": "postgres", "url": url, "secondAgent": True}, work)
    lite = start_seed({"target": "pglite", "dataDir": str(pglite_dir)}, work)
    return ElizaOS1Databases(
        url=url,
        pglite_dir=pglite_dir,
        postgres_summary=finish_seed(*pg),
        pglite_summary=finish_seed(*lite),
    )


@pytest.fixture(scope="session")
def pglite_node_dir() -> Path:
    """The node folder :func:`okai_insight.pglite.serve` runs PGlite's server from, installed from the shipped
    lockfile once per session at most: it is the default install folder (the user data dir, keyed by the lockfile's
    hash), the same one ``okai-insight pglite`` uses, so the CLI tests share it and later sessions reuse it."""
    from okai_insight.pglite import ensure_installed

    node_tools()
    return ensure_installed()
