"""Diagnostics: one concern a module, one function a diagnostic, all through one safe runner.

Every diagnostic takes a database target (a URL, a psycopg connection, an adapter, or an open :class:`Runner`)
and returns a :class:`Result` with ``rows``, ``findings`` and renderings; :func:`health` runs them all.
"""

from okai_insight.diagnostics import _registry as registry
from okai_insight.diagnostics import (
    activity,
    connections,
    explain,
    indexes,
    maintenance,
    replication,
    settings,
    space,
    statements,
    vectors,
)
from okai_insight.diagnostics._result import Finding, Result
from okai_insight.diagnostics._runner import CheckUnavailable, Features, Runner
from okai_insight.diagnostics.health import HealthReport, health

__all__ = [
    "CheckUnavailable",
    "Features",
    "Finding",
    "HealthReport",
    "Result",
    "Runner",
    "activity",
    "connections",
    "explain",
    "health",
    "indexes",
    "maintenance",
    "registry",
    "replication",
    "settings",
    "space",
    "statements",
    "vectors",
]
