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
    "resolve_url",
]
