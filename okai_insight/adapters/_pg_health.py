"""Why a PostgreSQL server cannot be reached: refused, timed out, or the login rejected.

libpq reports a failed connection as text only (no SQLSTATE for errors sent during the start-up), so the reason is
learnt the typed way instead: a socket connect to each host gives the operating system's error (refused, no such
socket, unknown host, timeout), and where something listens, a protocol start-up message (user and database, never
the password) gives the server's own SQLSTATE (28xxx authentication, 3D000 no such database, 57P03 starting up).

The pool's connections are made through :func:`recording_connection_class`, which keeps the last failure per pool
(:class:`ConnectionHealth`), so that a pool timeout can say "unreachable: refused" instead of "pool exhausted".

Example:
    >>> explain_failure(psycopg.OperationalError("x"), "postgresql://u:secret@127.0.0.1:1/db").reason
    'refused'
"""

from __future__ import annotations

import itertools
import socket
import struct
import threading
import time
from typing import Any

import psycopg
from psycopg import conninfo as pg_conninfo

from okai_insight._redact import MASK, redact
from okai_insight.errors import DatabaseUnavailable

#: Reasons after which a new attempt a little later may succeed (a restart, a failover, a network blip).
RETRYABLE_REASONS = frozenset({"refused", "timeout", "unavailable", "connection lost"})

#: The server's SQLSTATE on a refused start-up, by class or code, and the reason it means.
_SERVER_REASONS = {"28": "authentication", "3D000": "no such database"}

#: Most telling first: when several hosts fail differently, the message names the worst.
_PRIORITY = ("authentication", "no such database", "unavailable", "timeout", "unknown host", "refused")


def explain_failure(exc: BaseException, conninfo: str, *, probe_timeout_s: float = 2.0) -> DatabaseUnavailable:
    """The :class:`DatabaseUnavailable` for a failed connection attempt ``exc`` to ``conninfo``.

    Example:
        >>> explain_failure(psycopg.errors.ConnectionTimeout("expired"), "host=/tmp").reason
        'timeout'
    """
    params = _params(conninfo)
    detail = _redact(_first_lines(exc), params.get("password"))
    if isinstance(exc, psycopg.errors.ConnectionTimeout):
        return DatabaseUnavailable("timeout", f"no answer within the connect timeout: {detail}")
    reasons = [_probe(target, params, probe_timeout_s) for target in _targets(params)]
    known = [r for r in reasons if r is not None]
    if not known:
        return DatabaseUnavailable("unavailable", detail)
    reason = min(known, key=_PRIORITY.index)
    return DatabaseUnavailable(reason, detail)


class ConnectionHealth:
    """The last connection attempt's outcome for one pool: when it failed, why, and attempts under way.

    Example:
        >>> h = ConnectionHealth("host=/nonexistent")
        >>> h.explain() is None
        True
    """

    def __init__(self, conninfo: str, *, probe_timeout_s: float = 2.0) -> None:
        self.conninfo = conninfo
        self.probe_timeout_s = probe_timeout_s
        self._lock = threading.Lock()
        self._failure: DatabaseUnavailable | None = None
        self._pending: dict[int, float] = {}
        self._ids = itertools.count()

    def started(self) -> int:
        with self._lock:
            token = next(self._ids)
            self._pending[token] = time.monotonic()
            return token

    def finished(self, token: int, exc: BaseException | None) -> None:
        failure = None if exc is None else explain_failure(exc, self.conninfo, probe_timeout_s=self.probe_timeout_s)
        with self._lock:
            self._pending.pop(token, None)
            self._failure = failure

    def explain(self) -> DatabaseUnavailable | None:
        """Why connections cannot be made now, or None when the last attempt succeeded and none is stuck."""
        with self._lock:
            if self._failure is not None:
                return self._failure
            oldest = min(self._pending.values(), default=None)
        if oldest is None:
            return None
        waited = time.monotonic() - oldest
        return DatabaseUnavailable("timeout", f"a connection attempt has had no answer for {waited:.1f} s")


def recording_connection_class(health: ConnectionHealth) -> type[psycopg.Connection[Any]]:
    """A connection class for ``psycopg_pool.ConnectionPool(connection_class=...)`` that reports every connection
    attempt's outcome to ``health``.

    Example:
        >>> cls = recording_connection_class(ConnectionHealth("host=/tmp"))
        >>> issubclass(cls, psycopg.Connection)
        True
    """

    class RecordingConnection(psycopg.Connection[Any]):
        @classmethod
        def connect(cls, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            token = health.started()
            try:
                conn = super().connect(*args, **kwargs)
            except BaseException as exc:
                health.finished(token, exc)
                raise
            health.finished(token, None)
            return conn

    return RecordingConnection


def _params(conninfo: str) -> dict[str, Any]:
    try:
        return dict(pg_conninfo.conninfo_to_dict(conninfo))
    except psycopg.ProgrammingError:
        return {}


def _targets(params: dict[str, Any]) -> list[tuple[str, int]]:
    hosts = str(params.get("hostaddr") or params.get("host") or "").split(",")
    ports = str(params.get("port") or "").split(",")
    targets = []
    for i, host in enumerate(hosts):
        if not host:
            continue  # libpq's compiled-in default socket directory: nothing certain to probe
        port = ports[i] if i < len(ports) and ports[i] else ports[0] if len(ports) == 1 and ports[0] else "5432"
        targets.append((host, int(port)))
    return targets


def _probe(target: tuple[str, int], params: dict[str, Any], timeout_s: float) -> str | None:
    host, port = target
    try:
        if host.startswith("/"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout_s)
            try:
                sock.connect(f"{host}/.s.PGSQL.{port}")
            except BaseException:
                sock.close()
                raise
        else:
            sock = socket.create_connection((host, port), timeout=timeout_s)
    except (ConnectionRefusedError, FileNotFoundError):
        return "refused"
    except TimeoutError:
        return "timeout"
    except socket.gaierror:
        return "unknown host"
    except OSError:
        return "unavailable"
    with sock:
        return _startup_reason(sock, params)


def _startup_reason(sock: socket.socket, params: dict[str, Any]) -> str:
    """Send a protocol 3.0 start-up packet (no SSL, no password) and read what the server answers first."""
    import getpass

    user = str(params.get("user") or getpass.getuser())
    fields = {"user": user, "database": str(params.get("dbname") or user)}
    body = struct.pack("!i", 196608) + b"".join(k.encode() + b"\0" + v.encode() + b"\0" for k, v in fields.items())
    try:
        sock.sendall(struct.pack("!i", len(body) + 5) + body + b"\0")
        for _ in range(100):  # AuthenticationOk, ParameterStatus..., then ReadyForQuery or an error
            kind = _read(sock, 1)
            length = struct.unpack("!i", _read(sock, 4))[0]
            payload = _read(sock, length - 4) if length <= 1 << 16 else b""
            if kind == b"R" and payload[:4] != b"\0\0\0\0":
                # A password is asked for (the probe never sends one): the server works and knows where we are, so
                # what failed was the login.
                return "authentication"
            if kind == b"E":
                code = _sqlstate(payload)
                return _SERVER_REASONS.get(code, _SERVER_REASONS.get(code[:2], "unavailable"))
            if kind == b"Z":
                sock.sendall(b"X\0\0\0\4")  # logged in: the failure was something after the login (read-only)
                return "unavailable"
    except TimeoutError:
        return "timeout"  # the socket accepts but the server does not answer: frozen or overloaded
    except OSError:
        return "unavailable"
    return "unavailable"


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionResetError("the server closed the probe connection")
        data += chunk
    return data


def _sqlstate(payload: bytes) -> str:
    for field in payload.split(b"\0"):
        if field[:1] == b"C":
            return field[1:].decode("ascii", "replace")
    return ""


def _first_lines(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).strip().splitlines()[:2])
    return text or type(exc).__name__


def _redact(text: str, password: Any) -> str:
    # The package's one redactor masks every URL, password= and key it recognises; the connection's own password
    # is masked too wherever libpq quotes it bare (a fragment of a malformed conninfo string).
    text = redact(text)
    return text.replace(str(password), MASK) if password else text


__all__ = ["RETRYABLE_REASONS", "ConnectionHealth", "explain_failure", "recording_connection_class"]
