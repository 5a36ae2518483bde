"""The database a notebook or report looks at: the URL given, else the embedded default with the demo loaded.

Example:
    >>> target = open_target("postgresql://me@localhost/agents")
    >>> target.url, target.demo
    ('postgresql://me@localhost/agents', False)
"""

from __future__ import annotations

from dataclasses import dataclass

from okai_insight._redact import redact


@dataclass(frozen=True)
class Target:
    """A database URL to analyse and whether it is the embedded demo database."""

    url: str
    demo: bool

    @property
    def display(self) -> str:
        """The URL with any password masked, for headings.

        Example:
            >>> Target("postgresql://u:secret@h/db", False).display
            'postgresql://u:***@h/db'
            >>> Target("postgresql://u@h/db?password=secret", False).display
            'postgresql://u@h/db?password=***'
        """
        return redact(self.url)


def open_target(url: str | None = None, *, rows: int | None = None, progress: bool = False) -> Target:
    """The database to analyse: ``url`` as given, or (``None``, and no ``OKAI_DATABASE_URL``) the embedded
    PostgreSQL, started if needed, with the demo dataset loaded (idempotent: a second call writes nothing).

    Example:
        >>> open_target().demo                                   # doctest: +SKIP
        True
    """
    import okai_insight
    from okai_insight.settings import Settings

    if url or Settings.from_env().database_url:
        return Target(okai_insight.resolve_url(url), demo=False)
    from okai_insight.demo import load

    resolved = okai_insight.resolve_url(None)
    with okai_insight.connect(resolved) as db:
        load(db, rows=rows, progress=progress)
    return Target(resolved, demo=True)
