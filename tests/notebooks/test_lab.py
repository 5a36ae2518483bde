"""``okai-insight lab``: JupyterLab on a copy of the shipped notebooks, pointed at the database given (issue 16
item 4). Before: there was no such command and no JupyterLab in the notebook extra."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from okai_insight.cli.lab import free_port
from okai_insight.report import NOTEBOOKS

START_TIMEOUT_S = 90


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def test_lab_serves_the_shipped_notebooks(pg_url: str, tmp_path: Path) -> None:
    port = free_port()
    work = tmp_path / "nb"
    cmd = [sys.executable, "-m", "okai_insight", "lab", pg_url, "--no-browser", "--port", str(port), "--dir", str(work)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        assert f"http://127.0.0.1:{port}/lab" in lines[1], lines
        url_file = work / ".okai-lab-url"
        assert url_file.stat().st_mode & 0o077 == 0, "only the user can read the token"
        match = re.search(rf"http://127\.0\.0\.1:{port}/lab\?token=(\S+)", url_file.read_text())
        assert match
        token = match.group(1)
        assert "secret" not in "".join(lines)  # the URL printed is masked (a password would show as ***)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                status, page = _get(f"http://127.0.0.1:{port}/lab?token={token}")
                break
            except OSError:
                assert proc.poll() is None, "JupyterLab exited"
                assert time.monotonic() < deadline, "JupyterLab did not answer"
                time.sleep(0.5)
        assert status == 200 and b"JupyterLab" in page
        _, listing = _get(f"http://127.0.0.1:{port}/api/contents?token={token}")
        names = {item["name"] for item in json.loads(listing)["content"]}
        assert {f"{n}.ipynb" for n in NOTEBOOKS} <= names and "voila.json" in names
        assert (work / "dashboard.ipynb").is_file()
        # the URL and the token reach JupyterLab through its environment, not its command line
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        assert children
        server = Path(f"/proc/{children[0]}/cmdline").read_bytes()
        assert b"jupyterlab" in server and pg_url.encode() not in server and token.encode() not in server
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: okai-insight stops JupyterLab, then exits
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
