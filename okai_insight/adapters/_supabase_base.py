"""What both Supabase transports share: the :class:`SupabaseAdapter` marker base class."""

from __future__ import annotations

from okai_insight.adapters.base import DatabaseAdapter


class SupabaseAdapter(DatabaseAdapter):
    """An okai-insight adapter on a Supabase project; ``transport`` is ``"direct"`` or ``"rest"``.

    Both transports apply the same row level security: the server decides what each user sees.

    Example:
        >>> db = okai_insight.connect("supabase://")          # doctest: +SKIP
        >>> isinstance(db, SupabaseAdapter), db.transport    # doctest: +SKIP
        (True, 'rest')
    """

    transport: str
