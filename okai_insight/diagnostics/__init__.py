"""Diagnostics: one concern a module, one function a diagnostic, all through one safe runner.

Every diagnostic takes a database target (a URL, a psycopg connection, an adapter, or an open :class:`Runner`)
and returns a :class:`Result` with ``rows``, ``findings`` and renderings; :func:`doctor` runs them all.
``@diagnostic(concern, title)`` makes one and records it in :mod:`registry`, which everything that lists
diagnostics (doctor, the CLI, the magics, the widgets, the report) reads.
"""

from okai_insight._renamed import renamed
from okai_insight.diagnostics import _registry as registry
from okai_insight.diagnostics import (
    activity,
    citus,
    connections,
    elizaos_schema,
    explain,
    indexes,
    maintenance,
    replication,
    server_settings,
    space,
    statements,
    vectors,
)
from okai_insight.diagnostics._result import Finding, Result
from okai_insight.diagnostics._runner import CheckUnavailable, Features, Runner, diagnostic
from okai_insight.diagnostics.doctor import DoctorReport, doctor

__all__ = [
    "CheckUnavailable",
    "DoctorReport",
    "Features",
    "Finding",
    "Result",
    "Runner",
    "activity",
    "citus",
    "connections",
    "diagnostic",
    "doctor",
    "elizaos_schema",
    "explain",
    "indexes",
    "maintenance",
    "registry",
    "replication",
    "server_settings",
    "space",
    "statements",
    "vectors",
]

#: ``settings`` was renamed ``server_settings``: ``okai_insight.settings`` is okai-insight's own configuration.
#: ``health()`` was renamed ``doctor()`` (what ``okai-insight doctor`` prints): ``health`` is the liveness probe
#: (``okai_insight.ops.monitoring.health``, ``okai-insight health``).
__getattr__ = renamed(
    __name__,
    {
        "settings": ("server_settings", server_settings),
        "health": ("doctor", doctor),
        "HealthReport": ("DoctorReport", DoctorReport),
    },
)
