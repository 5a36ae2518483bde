"""The CLI's conventions of a mature tool (issue 16 item 5), each run the way a user meets it: exit statuses,
a closed pipe, typos, grouped help, one spelling, colour on a real pseudo-terminal, csv output, a watch loop
stopped by SIGINT, and a clean stderr where XDG_RUNTIME_DIR is unset. Commands run as real subprocesses (or
through ``main``) against the session's embedded PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from okai_insight import cli
from okai_insight.errors import (
    BackupError,
    ConfigurationError,
    ConnectionFailed,
    DatabaseUnavailable,
    EmbeddedServerError,
    InvalidInput,
    PoolTimeout,
    QueryTimeout,
    UnsupportedDatabase,
)

CLI = [sys.executable, "-m", "okai_insight.cli"]
ESC = "\x1b["


def _env(**extra: str) -> dict[str, str]:
    """The environment of a CLI subprocess: no OKAI_DATABASE_URL, no NO_COLOR, no XDG_RUNTIME_DIR (as in
    containers, CI and cron), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in ("OKAI_DATABASE_URL", "NO_COLOR", "XDG_RUNTIME_DIR")}
    env.update(extra)
    return env


def _run(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *argv], capture_output=True, text=True, env=_env(**env), timeout=120)


# -- exit statuses ------------------------------------------------------------------------------------------------
def test_the_exit_table_maps_error_classes() -> None:
    """One table: cannot connect and unsupported database are 3, bad input 2, anything else 1."""
    assert cli.exit_code_for(DatabaseUnavailable("refused", "x")) == 3
    assert cli.exit_code_for(ConnectionFailed("x")) == cli.exit_code_for(PoolTimeout("x")) == 3
    assert cli.exit_code_for(EmbeddedServerError("x")) == 3
    assert cli.exit_code_for(UnsupportedDatabase("memory://")) == cli.EXIT_UNSUPPORTED == 3
    assert cli.exit_code_for(InvalidInput("x")) == cli.exit_code_for(ConfigurationError("x")) == 2
    assert cli.exit_code_for(BackupError("x")) == cli.exit_code_for(QueryTimeout("x")) == 1
    assert cli.exit_code_for(RuntimeError("x")) == 1


def test_exit_status_0_ok(pg_url: str) -> None:
    done = _run("activity", pg_url)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""


def test_exit_status_1_failure(pg_url: str) -> None:
    """A command that fails on a reachable server (a statement cancelled by the statement timeout) is 1, not the
    3 of an unreachable server nor the 2 of bad input."""
    done = _run("explain", pg_url, "--query", "SELECT pg_sleep(30)", "--analyze", OKAI_STATEMENT_TIMEOUT_MS="300")
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.startswith("okai-insight: error: ") and "statement_timeout" in done.stderr


def test_exit_status_2_usage() -> None:
    assert _run("doctor", "--no-such-option").returncode == 2
    assert _run("activity", "--watch", "-1").returncode == 2  # bad input: InvalidInput


def test_exit_status_3_cannot_connect(tmp_path: Path) -> None:
    done = _run("doctor", f"postgresql://postgres@/nodb?host={tmp_path}&connect_timeout=1")
    assert done.returncode == 3, done.stderr
    assert done.stderr.startswith(("okai-insight: error: ConnectionFailed", "okai-insight: error: DatabaseUnavailable"))
    assert len(done.stderr.strip().splitlines()) == 1


def test_exit_status_3_unsupported_database() -> None:
    done = _run("doctor", "memory://")
    assert done.returncode == 3, done.stderr
    assert "doctor needs PostgreSQL" in done.stderr


# -- SIGPIPE ------------------------------------------------------------------------------------------------------
def _closed_pipe_run(*argv: str) -> tuple[int, str]:
    """Run the CLI with stdout a real pipe whose reader is already gone (``| head -1`` after head exited)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*CLI, *argv], stdout=write_end, stderr=subprocess.PIPE, text=True, env=_env(), timeout=120
        )
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


def test_quiet_on_a_closed_pipe_help() -> None:
    code, err = _closed_pipe_run("--help")
    assert err == "" and code == cli.EXIT_BROKEN_PIPE


def test_quiet_on_a_closed_pipe_doctor(pg_url: str) -> None:
    code, err = _closed_pipe_run("doctor", pg_url)
    assert err == "" and code == cli.EXIT_BROKEN_PIPE


def test_doctor_into_head(pg_url: str) -> None:
    """The shell pipeline itself: ``okai-insight doctor URL | head -1`` prints the first line and nothing else."""
    cmd = f"{sys.executable} -m okai_insight.cli doctor '{pg_url}' | head -1"
    done = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, env=_env(), timeout=120)
    assert done.stdout.startswith("okai-insight doctor:") and done.stdout.count("\n") == 1
    assert done.stderr == ""


# -- typos, help, spelling ----------------------------------------------------------------------------------------
def test_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["doctr"]) == 2
    out, err = capsys.readouterr()
    assert err.strip().splitlines() == [
        "okai-insight: error: unknown command 'doctr'; did you mean 'doctor'? (okai-insight --help lists every command)"
    ]
    assert out == ""
    assert cli.main(["unused-indexs"]) == 2
    assert "did you mean 'unused-indexes'" in capsys.readouterr().err


def test_grouped_help() -> None:
    text = _run("--help").stdout
    lines = text.splitlines()
    headings = [line[:-1] for line in lines if line.endswith(":") and not line.startswith(" ")]
    for heading in ("getting started", "moving data", "diagnostics", "embeddings", "operations", "report"):
        assert heading in headings, headings
    order = [headings.index(h) for h in ("getting started", "moving data", "diagnostics", "embeddings")]
    assert order == sorted(order)
    # the per-diagnostic commands: one paragraph under diagnostics, not one line each
    assert not any(line.lstrip().startswith(("unused-indexes ", "vector-queries ")) for line in lines)
    diagnostics = text[text.index("\ndiagnostics:") : text.index("\nembeddings:")]
    assert "unused-indexes," in diagnostics and "doctor" in diagnostics and "activity" in diagnostics
    assert "unused_indexes" not in text, "one spelling in help"


def test_one_spelling_with_underscore_aliases(capsys: pytest.CaptureFixture[str]) -> None:
    commands = cli._commands(cli.build_parser())
    assert [c for c in commands if "_" in c] == []
    assert {"unused-indexes", "archive-restore", "embedding-quality", "tune-recall"} <= commands
    for old in ("unused_indexes", "embedding_quality", "convert_threshold"):
        with pytest.raises(SystemExit) as exit_info:
            cli.main([old, "--help"])
        assert exit_info.value.code == 0
        assert f"usage: okai-insight {old.replace('_', '-')} " in capsys.readouterr().out


def test_an_alias_runs_the_command(pg_url: str) -> None:
    old, new = _run("unused_indexes", pg_url, "--format", "csv"), _run("unused-indexes", pg_url, "--format", "csv")
    assert old.returncode == new.returncode == 0 and old.stdout == new.stdout and old.stderr == ""


# -- colour -------------------------------------------------------------------------------------------------------
def _on_a_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout a pseudo-terminal; what it wrote there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([*CLI, *argv], stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    _, err = proc.communicate(timeout=30)
    os.close(master)
    assert err == b""
    return b"".join(chunks).decode()


def test_colour_on_a_terminal(pg_url: str) -> None:
    out = _on_a_terminal(["doctor", pg_url], _env())
    assert "\x1b[31mcritical\x1b[0m" in out and "\x1b[33mwarning\x1b[0m" in out


def test_no_color_env_and_flag(pg_url: str) -> None:
    assert ESC not in _on_a_terminal(["doctor", pg_url], _env(NO_COLOR="1"))
    assert ESC not in _on_a_terminal(["doctor", pg_url, "--no-color"], _env())
    assert ESC not in _on_a_terminal(["--no-color", "doctor", pg_url], _env())


def test_never_colour_into_a_pipe(pg_url: str) -> None:
    done = _run("doctor", pg_url)
    assert "critical: " in done.stdout and ESC not in done.stdout


# -- formats ------------------------------------------------------------------------------------------------------
def test_doctor_csv_is_the_findings_table(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    cli.main(["doctor", pg_url, "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows, "an empty database still has findings (no pgvector, statements off, ...)"
    assert {"severity", "problem", "subject"} <= set(rows[0])
    assert {r["severity"] for r in rows} <= {"critical", "warning", "info"}


def test_explain_csv_is_the_plan_nodes(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    query = "SELECT count(*) FROM generate_series(1, 10) g"
    assert cli.main(["explain", pg_url, "--query", query, "--analyze", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    kinds = " ".join(str(r) for r in rows)
    assert len(rows) >= 2 and "Aggregate" in kinds and "Function Scan" in kinds


# -- activity --watch ---------------------------------------------------------------------------------------------
def test_activity_watch_refreshes_until_ctrl_c(pg_url: str) -> None:
    proc = subprocess.Popen(
        [*CLI, "activity", pg_url, "--watch", "0.3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    )
    assert proc.stdout is not None
    seen = b""
    deadline = time.monotonic() + 60
    while seen.count(b"okai-insight activity: every 0.3 s") < 2 and time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536)
    assert seen.count(b"okai-insight activity: every 0.3 s") >= 2, seen
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and err == b""
    assert ESC.encode() not in seen, "no clear-screen codes into a pipe"


# -- stderr stays clean -------------------------------------------------------------------------------------------
def test_no_dependency_warning_without_xdg_runtime_dir(pg_url: str, tmp_path: Path) -> None:
    """XDG_RUNTIME_DIR unset (as _env does): a command that reaches the embedded server and platformdirs prints
    nothing on stderr."""
    assert "XDG_RUNTIME_DIR" not in _env()
    for argv in (["server", "status", "--data-dir", str(tmp_path / "none")], ["activity", pg_url]):
        done = _run(*argv, OKAI_DATA_DIR=str(tmp_path))
        assert done.stderr == "", (argv, done.stderr)
