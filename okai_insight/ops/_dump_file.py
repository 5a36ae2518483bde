"""A dump file's integrity: the sha256 and size recorded beside it at backup, and the checks a restore runs on it
before it touches any database.

The fingerprint file (``<dump>.fingerprint.json``) holds the rows the dump must reproduce and, under ``"dump"``,
the dump file's sha256 and size. A truncated, extended or altered dump no longer matches them; a fingerprint file
that is not valid JSON, or whose ``"dump"`` entry is malformed, is itself refused.

Example:
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     dump = Path(d) / "x.dump"; _ = dump.write_bytes(b"PGDMP...")
    ...     write_sidecar(Path(d) / "x.json", {"row_counts": {}}, digest_of(dump))
    ...     read_sidecar(Path(d) / "x.json")[1].size_bytes
    8
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okai_insight.errors import BackupError
from okai_insight.ops import _client_tools as tools

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DumpDigest:
    """A dump file's sha256 (hex) and size in bytes."""

    sha256: str
    size_bytes: int


def digest_of(path: Path) -> DumpDigest:
    """Read ``path`` once and return its sha256 and size.

    Example:
        >>> digest_of(Path("/dev/null")).sha256[:12]
        'e3b0c44298fc'
    """
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return DumpDigest(h.hexdigest(), size)


def write_sidecar(path: Path, fingerprint: dict[str, Any], digest: DumpDigest) -> None:
    """Write the fingerprint and the dump's digest, atomically (a crash leaves the old file or the new one).

    Example:
        >>> write_sidecar(Path("/backups/a.dump.fingerprint.json"), {}, digest)   # doctest: +SKIP
    """
    data = dict(fingerprint, dump={"sha256": digest.sha256, "size_bytes": digest.size_bytes})
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(json.dumps(data))
        out.flush()
        os.fsync(out.fileno())
    partial.replace(path)


def read_sidecar(path: Path) -> tuple[str, DumpDigest | None]:
    """The fingerprint file's text and the dump digest it records (None for a file from before digests were
    recorded); a damaged file raises :class:`BackupError`.

    Example:
        >>> read_sidecar(Path("/backups/a.dump.fingerprint.json"))[1].size_bytes   # doctest: +SKIP
        104857
    """
    where = f"the fingerprint file {path}"
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{where} is damaged (not valid JSON: {exc}); nothing was restored") from None
    if not isinstance(data, dict):
        raise BackupError(f"{where} is damaged (a JSON object is expected); nothing was restored")
    dump = data.get("dump")
    if dump is None:
        return text, None
    if not (
        isinstance(dump, dict)
        and isinstance(dump.get("sha256"), str)
        and _SHA256.match(dump["sha256"])
        and type(dump.get("size_bytes")) is int
    ):
        raise BackupError(f"{where} is damaged (its dump checksum is malformed); nothing was restored")
    return text, DumpDigest(dump["sha256"], dump["size_bytes"])


def check_dump(path: Path, digest: DumpDigest | None, *, timeout_s: float = tools.DEFAULT_TIMEOUT_S) -> None:
    """Refuse a dump that is not the one backed up: size and sha256 against ``digest``, and the archive's table of
    contents through ``pg_restore --list``. Without a digest, the whole archive is read (``pg_restore -f
    /dev/null``), which finds truncation and damaged compressed data, though not every altered byte.

    Example:
        >>> check_dump(Path("/backups/a.dump"), digest)   # doctest: +SKIP
    """
    if digest is not None:
        size = path.stat().st_size
        if size != digest.size_bytes:
            raise BackupError(
                f"the dump {path} is damaged: {size} bytes where the backup wrote {digest.size_bytes} "
                "(truncated or appended to); nothing was restored"
            )
        if digest_of(path).sha256 != digest.sha256:
            raise BackupError(
                f"the dump {path} is damaged: its sha256 differs from the one recorded at backup; nothing was restored"
            )
    try:
        tools.run("pg_restore", ["--list", str(path)], timeout_s=timeout_s)
        if digest is None:
            tools.run("pg_restore", ["-f", os.devnull, str(path)], timeout_s=timeout_s)
    except BackupError as exc:
        raise BackupError(f"the dump {path} is not a readable pg_dump archive ({exc}); nothing was restored") from None
