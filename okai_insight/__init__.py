"""okai-insight: the AI-agent memory data layer (PostgreSQL + pgvector and friends) and its diagnostics."""

from okai_insight._connect import connect, resolve_url
from okai_insight._version import __version__
from okai_insight.adapters.base import DatabaseAdapter
from okai_insight.errors import (
    ConnectionFailed,
    DimensionMismatch,
    InvalidInput,
    NotFound,
    OkaiError,
)
from okai_insight.models import (
    Account,
    Actor,
    CachedEmbedding,
    Goal,
    GoalStatus,
    KnowledgeItem,
    Memory,
    Objective,
    Participant,
    Relationship,
    UserState,
)
from okai_insight.settings import Settings


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext okai_insight``: the ``%okai`` magics, and jupysql's ``%sql`` on the same database.

    Example:
        >>> get_ipython().run_line_magic("load_ext", "okai_insight")  # doctest: +SKIP
    """
    from okai_insight.jupyter._magics import load_ipython_extension as load

    load(ipython)


__all__ = [
    "Account",
    "Actor",
    "CachedEmbedding",
    "ConnectionFailed",
    "DatabaseAdapter",
    "DimensionMismatch",
    "Goal",
    "GoalStatus",
    "InvalidInput",
    "KnowledgeItem",
    "Memory",
    "NotFound",
    "Objective",
    "OkaiError",
    "Participant",
    "Relationship",
    "Settings",
    "UserState",
    "__version__",
    "connect",
    "load_ipython_extension",
    "resolve_url",
]
