from okai_insight.schema._citus import Distribution, distribute_schema
from okai_insight.schema._migrate import (
    Migration,
    check_dimension,
    ensure_extensions,
    migrate,
    migrations,
    vector_type_for,
)
from okai_insight.schema._profile import SchemaProfile, read_profile

__all__ = [
    "Distribution",
    "Migration",
    "SchemaProfile",
    "check_dimension",
    "distribute_schema",
    "ensure_extensions",
    "migrate",
    "migrations",
    "read_profile",
    "vector_type_for",
]
