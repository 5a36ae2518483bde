"""Serve a PGlite data directory (ElizaOS 1.x's default store) over the PostgreSQL protocol, so okai-insight reads it.

PGlite is PostgreSQL 17 compiled to WebAssembly: only PGlite can open its directory. ``serve(dir)`` starts
``@electric-sql/pglite-socket``'s server (Node) on a Unix socket in a private temporary directory and yields a
``postgresql://`` URL; the server stops when the block ends. The two npm packages are pinned by a lockfile that
ships in the wheel (``okai_insight/data/pglite``) and are installed once with ``npm ci`` under the user's data
directory. The server is okai-insight's own script (``data/pglite/serve.mjs``, on pglite-socket's classes): PGlite
is one backend, so clients are served one after another, each in a reset session; pglite-socket's own script
refuses a client that reconnects before it has noticed the previous one left. What works and what does not is in
docs/elizaos1.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from okai_insight.errors import ConfigurationError, FeatureNotAvailable, InvalidInput

LOCK_DIR = Path(__file__).parent / "data" / "pglite"
#: The extensions ElizaOS 1.x's PGlite manager loads (plugin-sql's PGliteClientManager): a ``vector`` column
#: cannot be read without the first.
EXTENSIONS = "vector,fuzzystrmatch"
NPM_TIMEOUT_S = 600.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
#: How long a new connection waits for the previous client to leave before it is refused (FATAL 53300).
WAIT_FOR_PREVIOUS_CLIENT_MS = 30_000
_PACKAGE = Path("node_modules", "@electric-sql", "pglite-socket", "package.json")
_SCRIPT = "serve.mjs"
_READY = "okai-pglite: accepting connections"  # serve.mjs prints it once it listens


def install_dir() -> Path:
    """Where the pinned packages are installed: the user's data directory, one folder per lockfile.

    Example:
        >>> install_dir().name.startswith("pglite-node-")
        True
    """
    import platformdirs

    digest = hashlib.sha256((LOCK_DIR / "package-lock.json").read_bytes()).hexdigest()[:12]
    return Path(platformdirs.user_data_dir("okai-insight", appauthor=False)) / f"pglite-node-{digest}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise FeatureNotAvailable(f"reading a PGlite directory needs {name} (Node.js 20 or later) on PATH")
    return path


def ensure_installed(target: Path | None = None) -> Path:
    """Install PGlite's socket server with ``npm ci`` from the shipped lockfile, unless it is installed already.

    Example:
        >>> ensure_installed()                      # doctest: +SKIP
        PosixPath('/home/me/.local/share/okai-insight/pglite-node-...')
    """
    target = target or install_dir()
    if (target / _PACKAGE).exists():
        return _install_script(target)
    npm = _tool("npm")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(LOCK_DIR / name, target / name)
    done = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=target,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not (target / _PACKAGE).exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise FeatureNotAvailable(f"npm ci of PGlite's socket server in {target} failed: {' / '.join(tail)}")
    return _install_script(target)


def _install_script(target: Path) -> Path:
    # The script must sit next to node_modules (Node resolves its imports from the script's folder). It is not
    # part of the lockfile's hash, so a newer okai-insight's script replaces an older one in the same folder.
    source = (LOCK_DIR / _SCRIPT).read_bytes()
    installed = target / _SCRIPT
    if not installed.exists() or installed.read_bytes() != source:
        partial = target / f".{_SCRIPT}.{os.getpid()}"
        partial.write_bytes(source)
        partial.replace(installed)  # atomic: a concurrent serve() never runs half a script
    return target


def _check_data_dir(data_dir: Path) -> None:
    # PGlite creates a new, empty cluster in a directory without one: refuse a mistyped path instead.
    if not (data_dir / "PG_VERSION").is_file():
        raise InvalidInput(f"{data_dir} is not a PGlite data directory (no PG_VERSION file in it); nothing was started")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # the server closes PGlite cleanly (a checkpoint) on SIGTERM
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


@contextmanager
def serve(
    data_dir: str | Path,
    *,
    in_place: bool = False,
    node_dir: Path | None = None,
    timeout_s: float = START_TIMEOUT_S,
) -> Iterator[str]:
    """Serve a PGlite directory for the duration of the block; yields its ``postgresql://`` URL.

    Any number of connections may be opened one after another; a connection opened while another is still open
    waits for it (up to ``WAIT_FOR_PREVIOUS_CLIENT_MS``), since PGlite is a single backend. Each client starts in a
    reset session (``DISCARD ALL``), so prepared statements or settings never leak from one to the next.

    PGlite opens its directory read-write and writes to it when it closes (a checkpoint), so by default a snapshot
    of the directory is served, in a private temporary directory removed afterwards: the agent's own files are
    never written. ``in_place=True`` serves the directory itself (for a directory too large to copy). Stop the
    agent that uses the directory first: a copy taken while it writes may need recovery, and two PGlite instances
    on one directory corrupt it.

    Example:
        >>> with serve("~/.eliza/.elizadb") as url:                     # doctest: +SKIP
        ...     print(okai_insight.diagnostics.doctor(url))
    """
    path = Path(data_dir).expanduser().resolve()
    _check_data_dir(path)
    node = _tool("node")
    modules = ensure_installed(node_dir)
    socket_dir = Path(tempfile.mkdtemp(prefix="okai-pglite-"))  # mode 0700: no other user can connect
    socket = socket_dir / ".s.PGSQL.5432"
    if not in_place:
        try:
            path = Path(shutil.copytree(path, socket_dir / "snapshot", symlinks=True))
        except BaseException:
            shutil.rmtree(socket_dir, ignore_errors=True)
            raise
    log_path = socket_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [
                node,
                str(modules / _SCRIPT),
                f"--db={path}",
                f"--path={socket}",
                f"--extensions={EXTENSIONS}",
                f"--wait-ms={WAIT_FOR_PREVIOUS_CLIENT_MS}",
            ],
            cwd=modules,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the caller's terminal reaches us, and we stop it in order
            env={k: v for k, v in os.environ.items() if not k.startswith(("PG", "DATABASE_URL"))},
        )
    try:
        deadline = time.monotonic() + timeout_s
        # Not the socket file: it exists between bind() and listen(), when a connection is still refused.
        while _READY not in log_path.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace").strip().splitlines()[-5:]
                raise ConfigurationError(f"PGlite's server did not start on {path}: {' / '.join(output)}")
            time.sleep(0.05)
        # PGlite asks for a password and accepts any: this is not a secret.
        yield f"postgresql://postgres:postgres@/postgres?host={socket_dir}"
    finally:
        _stop(proc)
        shutil.rmtree(socket_dir, ignore_errors=True)
