"""``okai-insight lab``: JupyterLab on a working copy of the shipped notebooks, pointed at one database.

Example:
    $ okai-insight lab
    $ okai-insight lab postgresql://me@localhost/agents --no-browser --port 8890
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from okai_insight.cli._args import add_command

#: How long to wait for JupyterLab to stop after Ctrl-C before killing it.
STOP_TIMEOUT_S = 10


def free_port() -> int:
    """A TCP port free on the loopback interface right now.

    Example:
        >>> 0 < free_port() < 65536
        True
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def copy_notebooks(directory: Path) -> list[Path]:
    """Copy the shipped notebooks (and the dashboard's ``voila.json``) into ``directory``, leaving any file already
    there alone (a user's edits are not overwritten); returns the notebooks' paths.

    Example:
        >>> import tempfile
        >>> sorted(p.name for p in copy_notebooks(Path(tempfile.mkdtemp())))[0]
        '01-health-check.ipynb'
    """
    from okai_insight.report._paths import notebooks_dir

    directory.mkdir(parents=True, exist_ok=True)
    source = notebooks_dir()
    out = []
    for path in sorted([*source.glob("*.ipynb"), *source.glob("voila.json")]):
        target = directory / path.name
        if not target.exists():
            shutil.copyfile(path, target)
        if path.suffix == ".ipynb":
            out.append(target)
    return out


def _lab(args: argparse.Namespace) -> int:
    from okai_insight.errors import FeatureNotAvailable

    try:
        import jupyterlab  # noqa: F401
    except ImportError as exc:
        raise FeatureNotAvailable("okai-insight lab needs JupyterLab: pip install 'okai-insight[notebook]'") from exc
    if args.url is not None:
        from okai_insight._postgres_only import require_postgres

        require_postgres(args.url, "lab")
    else:
        print("okai-insight lab: the demo's own database (okai_demo) on the embedded PostgreSQL, loading it if "
              "needed ...", file=sys.stderr)  # fmt: skip
    from okai_insight.report._open import open_target

    target = open_target(args.url)
    from okai_insight.runner import Runner

    with Runner(target.url):  # reachable (and a database the notebooks can read) before a server starts for it
        pass
    directory = Path(args.dir).resolve()
    notebooks = copy_notebooks(directory)
    port = args.port or free_port()
    token = secrets.token_urlsafe(24)
    # The database URL and the token reach the server through its environment, never its command line (which
    # any local user can read in the process list).
    env = {**os.environ, "OKAI_DATABASE_URL": target.url, "JUPYTER_TOKEN": token}
    from okai_insight.jupyter._voila import TEMPLATE, jupyter_path

    # Voila inside Lab renders with okai's template (no FontAwesome from a CDN); JUPYTER_PATH is where it is found
    env["JUPYTER_PATH"] = jupyter_path(env)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={directory}",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={not args.no_browser}",
        "--LabApp.news_url=",  # no fetch of Jupyter's news feed
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # no PyPI queries from the extension manager
        f"--VoilaConfiguration.template={TEMPLATE}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers run as root; Jupyter refuses without this
        command.append("--ServerApp.allow_root=True")
    print(f"{len(notebooks)} notebooks in {directory}, on {target.display}")
    # okai-insight's output masks token= values, so the URL with its token goes to a file only the user can read
    # (hidden, so the file browser does not list it); JupyterLab's own log line prints it too.
    url_file = directory / ".okai-lab-url"
    url_file.touch(mode=0o600)
    url_file.chmod(0o600)
    url_file.write_text(f"http://127.0.0.1:{port}/lab?token={token}\n", encoding="utf-8")
    print(f"JupyterLab: http://127.0.0.1:{port}/lab (with its token: {url_file})", flush=True)
    child = subprocess.Popen(command, cwd=directory, env=env)
    # a service manager's SIGTERM stops JupyterLab too, as Ctrl-C does (no orphaned server)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.kill()
        return 0


def add_commands(subparsers: Any) -> None:
    """Add ``lab`` to the CLI."""
    p = add_command(
        subparsers,
        "lab",
        help="open the notebooks in JupyterLab on a database (no URL: the demo's own database, okai_demo)",
        description="Copy the shipped notebooks (health check, indexes and plans, embedding explorer, threshold and "
        "recall tuning, the report, the Voila dashboard) into a working directory (files already there are kept) "
        "and start JupyterLab on it, bound to 127.0.0.1, with OKAI_DATABASE_URL set so every notebook opens on the "
        "database given. With no URL (and no OKAI_DATABASE_URL) it is the demo's own database, okai_demo, on the "
        "embedded PostgreSQL. Prints the URL to open and the file holding it with its one-time token "
        "(DIR/.okai-lab-url, readable only by you); Ctrl-C stops the server.",
        examples=[
            "okai-insight lab",
            "okai-insight lab postgresql://me@localhost/agents",
            "okai-insight lab --no-browser --port 8890 --dir /tmp/okai-notebooks   (headless: open the printed URL)",
        ],
        func=_lab,
    )
    p.add_argument(
        "url",
        nargs="?",
        default=None,
        help="database URL (postgresql://...); default: OKAI_DATABASE_URL, else the embedded server's demo database "
        "okai_demo",
    )
    p.add_argument(
        "--dir",
        default="okai-insight-notebooks",
        help="working directory for the notebook copies (default: ./okai-insight-notebooks)",
    )
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser (headless: open the printed URL)")
