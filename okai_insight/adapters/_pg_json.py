"""psycopg's json and jsonb loaders on okai-insight's connections, through :func:`okai_insight._json.loads`.

psycopg decodes json and jsonb with ``json.loads``, which raises ``RecursionError`` on a value nested about 1000
levels deep; PostgreSQL stores jsonb ~10,000 levels deep, so one such row, written by any other program, would make
every read that returns it fail (a room's memories, its search results). The replacement takes ``json.loads`` first
and decodes without recursion only when that fails. Binary jsonb, which every search and memory read returns,
has its own loader calling the decoder directly: no Python call a value beyond psycopg's own ``load``.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.types.json import JsonbBinaryLoader, set_json_loads

from okai_insight._json import loads

#: ``json.loads(text)`` without its argument checks (what it calls for a str with default options).
_decode = json.JSONDecoder().decode


class FastJsonbBinaryLoader(JsonbBinaryLoader):
    """Binary jsonb decoded by :data:`_decode`, falling back to :func:`okai_insight._json.loads` for a value nested
    too deep for it. psycopg's loader passes bytes to a ``loads`` function (our wrapper), which then sniffs
    the encoding: two calls and a check per value, ~1.5 µs each on a row of every search (10 a top-10 search).

    Example:
        >>> FastJsonbBinaryLoader(0).load(b'\x01{"text": "hi"}')
        {'text': 'hi'}
    """

    def load(self, data: Buffer) -> Any:
        if data and data[0] != 1:
            return super().load(data)  # psycopg's own error for an unknown jsonb version
        text = bytes(data[1:]).decode("utf-8")
        try:
            return _decode(text)
        except RecursionError:
            return loads(text)


def register_json_loader(conn: psycopg.Connection[Any]) -> None:
    """Decode json and jsonb (text and binary) on ``conn`` with :func:`okai_insight._json.loads`.

    Example:
        >>> with psycopg.connect(url) as conn:              # doctest: +SKIP
        ...     register_json_loader(conn)
        ...     conn.execute("SELECT repeat('[', 3000)::text || repeat(']', 3000)::text").fetchone()
    """
    set_json_loads(loads, conn)
    conn.adapters.register_loader("jsonb", FastJsonbBinaryLoader)
