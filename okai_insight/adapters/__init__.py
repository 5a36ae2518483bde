from okai_insight.adapters.base import DatabaseAdapter

__all__ = ["DatabaseAdapter"]
