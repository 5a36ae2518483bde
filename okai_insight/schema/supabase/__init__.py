"""The Supabase migration (row level security, grants, RPC functions) and its renderer."""

from okai_insight.schema.supabase._render import (
    SUPABASE_SETTING,
    apply,
    missing_prerequisites,
    render,
    supabase_steps,
)

__all__ = ["SUPABASE_SETTING", "apply", "missing_prerequisites", "render", "supabase_steps"]
