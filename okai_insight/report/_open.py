"""The database a notebook or report looks at: the URL given, else the demo's own database on the embedded server
(``okai_demo``, with the demo loaded; never the user's ``okai``).

Example:
    >>> target = open_target("postgresql://me@localhost/agents")
    >>> target.url, target.demo
    ('postgresql://me@localhost/agents', False)
"""

from __future__ import annotations

from dataclasses import dataclass

from okai_insight._redact import redact


@dataclass(frozen=True)
class ReportTarget:
    """A database URL to analyse and whether it is the embedded demo database."""

    url: str
    demo: bool

    @property
    def display(self) -> str:
        """The URL with any password masked, for headings.

        Example:
            >>> ReportTarget("postgresql://u:secret@h/db", False).display
            'postgresql://u:***@h/db'
            >>> ReportTarget("postgresql://u@h/db?password=secret", False).display
            'postgresql://u@h/db?password=***'
        """
        return redact(self.url)


def open_target(url: str | None = None, *, rows: int | None = None, progress: bool = False) -> ReportTarget:
    """The database to analyse: ``url`` as given, or (``None``, and no ``OKAI_DATABASE_URL``) the demo's own
    database on the embedded PostgreSQL (:func:`okai_insight.demo.demo_url`), started if needed, with the demo
    dataset loaded (idempotent: a second call writes nothing). The server's ``okai`` database is not touched.

    Example:
        >>> open_target().demo                                   # doctest: +SKIP
        True
    """
    import okai_insight
    from okai_insight.settings import Settings

    if url or Settings.from_env().database_url:
        return ReportTarget(okai_insight.resolve_url(url), demo=False)
    from okai_insight.demo import demo_url, load

    # The demo's own database, never the embedded default ``okai``: that one is the user's (loading writes).
    resolved = demo_url()
    with okai_insight.connect(resolved) as db:
        load(db, rows=rows, progress=progress)
    return ReportTarget(resolved, demo=True)
