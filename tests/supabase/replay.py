"""A local HTTP server that replays recorded PostgREST exchanges, in order, and records any mismatch.

It is a recording, not a PostgREST server: each expected request (method, path, query, Prefer header, JSON body)
is answered with its recorded response; anything else gets HTTP 599 and is reported by :meth:`Replay.verify`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

RECORDINGS = Path(__file__).parent / "recordings"


def request_key(method: str, path: str, query: list[tuple[str, str]], prefer: str | None, body: Any) -> dict[str, Any]:
    prefs = sorted(p.strip() for p in (prefer or "").split(",") if p.strip())
    return {"method": method, "path": path, "query": sorted([list(q) for q in query]), "prefer": prefs, "body": body}


ANY = "<any>"


def matches(want: Any, got: Any) -> bool:
    """Equal, except that the recorded value "<any>" matches anything (generated ids, timestamps)."""
    if want == ANY:
        return True
    if isinstance(want, dict) and isinstance(got, dict):
        return want.keys() == got.keys() and all(matches(want[k], got[k]) for k in want)
    if isinstance(want, list) and isinstance(got, list):
        return len(want) == len(got) and all(matches(w, g) for w, g in zip(want, got, strict=True))
    return bool(want == got)


@dataclass
class Replay:
    exchanges: list[dict[str, Any]]
    position: int = 0
    mismatches: list[str] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, key: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            self.headers_seen.append(headers)
            if self.position >= len(self.exchanges):
                self.mismatches.append(f"unexpected extra request {key}")
                return 599, {}, b'{"message": "no more recorded exchanges"}'
            expected = self.exchanges[self.position]
            want = request_key(
                expected["request"]["method"],
                expected["request"]["path"],
                [tuple(q) for q in expected["request"].get("query", [])],
                expected["request"].get("prefer"),
                expected["request"].get("body"),
            )
            self.position += 1
            if not matches(want, key):
                self.mismatches.append(
                    f"exchange {self.position - 1} ({expected.get('note')}): expected {want}, got {key}"
                )
                return 599, {}, json.dumps({"message": self.mismatches[-1]}).encode()
            response = expected["response"]
            body = response.get("body")
            raw = b"" if body is None else json.dumps(body).encode()
            out = {"Content-Type": "application/json; charset=utf-8", **response.get("headers", {})}
            return int(response["status"]), out, raw

    def verify(self) -> None:
        assert not self.mismatches, "\n".join(self.mismatches)
        assert self.position == len(self.exchanges), f"only {self.position} of {len(self.exchanges)} exchanges used"


def serve(replay: Replay) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            key = request_key(
                self.command,
                parts.path,
                parse_qsl(parts.query, keep_blank_values=True),
                self.headers.get("Prefer"),
                body,
            )
            status, headers, out = replay.answer(key, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def load(name: str) -> Replay:
    return Replay(json.loads((RECORDINGS / name).read_text(encoding="utf-8"))["exchanges"])
