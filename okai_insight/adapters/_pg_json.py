"""psycopg's json and jsonb loaders on okai-insight's connections, through :func:`okai_insight._json.loads`.

psycopg decodes json and jsonb with ``json.loads``, which raises ``RecursionError`` on a value nested about 1000
levels deep; PostgreSQL stores jsonb ~10,000 levels deep, so one such row, written by any other program, would make
every read that returns it fail (a room's memories, its search results). The replacement takes ``json.loads`` first
and decodes without recursion only when that fails: the hot path costs one Python call a value.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import set_json_loads

from okai_insight._json import loads


def register_json_loader(conn: psycopg.Connection[Any]) -> None:
    """Decode json and jsonb (text and binary) on ``conn`` with :func:`okai_insight._json.loads`.

    Example:
        >>> with psycopg.connect(url) as conn:              # doctest: +SKIP
        ...     register_json_loader(conn)
        ...     conn.execute("SELECT repeat('[', 3000)::text || repeat(']', 3000)::text").fetchone()
    """
    set_json_loads(loads, conn)
