"""How the report and the widgets run the library's batch analyses: on a runner whose statement timeout is long
enough for them (reading vectors, walking the index for many probes).

Example:
    >>> EMBEDDING_TIMEOUT_MS
    60000
"""

from __future__ import annotations

from typing import Any

#: Statement timeout for the embedding analyses: they read vectors and walk the index for many probes.
EMBEDDING_TIMEOUT_MS = 60_000


def analysis_runner(target: Any, *, timeout_ms: int = EMBEDDING_TIMEOUT_MS) -> Any:
    """A diagnostics :class:`~okai_insight.diagnostics.Runner` on ``target`` whose statement timeout is at least
    ``timeout_ms`` (a report is a batch job; the 5 s default suits interactive checks). Use it as a context manager.

    Example:
        >>> with analysis_runner(url) as run:                     # doctest: +SKIP
        ...     run.settings.statement_timeout_ms
        60000
    """
    from okai_insight.diagnostics import Runner
    from okai_insight.settings import Settings

    if isinstance(target, Runner):
        return target
    base = Settings.from_env()
    settings = base.replace(statement_timeout_ms=max(int(base.statement_timeout_ms), timeout_ms))
    return Runner(target, settings=settings)
