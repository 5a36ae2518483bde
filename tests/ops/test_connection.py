"""ops opens every PostgreSQL connection through one helper (okai_insight/ops/_connection.connect), which honours
Settings' connect timeout and masks the password: no module of ops calls psycopg.connect itself."""

from __future__ import annotations

import ast
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import okai_insight
from okai_insight.errors import ConnectionFailed
from okai_insight.ops.replicas import promote, replication_role_and_lag

OPS = Path(okai_insight.__file__).parent / "ops"


def _direct_connects(path: Path) -> list[int]:
    """Lines of ``psycopg.connect(...)`` calls in ``path`` (doctest text is not a call)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "connect"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "psycopg"
    ]


def test_no_ops_module_connects_by_itself():
    found = {p.name: _direct_connects(p) for p in sorted(OPS.glob("*.py")) if p.name != "_connection.py"}
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _direct_connects(OPS / "_connection.py")  # the one place (the scan finds a call when there is one)


@pytest.fixture
def silent_url() -> Iterator[str]:
    """A URL whose port completes the TCP handshake and never answers (a frozen postmaster), with a password."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"postgresql://u:s3cr3t-pw@127.0.0.1:{sock.getsockname()[1]}/db"
    finally:
        sock.close()


@pytest.mark.parametrize("call", [replication_role_and_lag, promote], ids=["replication_role_and_lag", "promote"])
def test_replica_actions_honour_the_connect_timeout_setting(call, silent_url, monkeypatch):
    """OKAI_CONNECT_TIMEOUT_S=2 (libpq's minimum) bounds the wait; before, psycopg.connect(connect_timeout=5)."""
    monkeypatch.setenv("OKAI_CONNECT_TIMEOUT_S", "2")
    started = time.monotonic()
    with pytest.raises(ConnectionFailed) as info:
        call(silent_url)
    assert time.monotonic() - started < 4.0
    assert "s3cr3t-pw" not in str(info.value)
