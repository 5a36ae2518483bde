"""Participants for the operations tests' data: under ``okai-insight secure --isolation on`` a user reaches a
memory only in a room it takes part in, as ElizaOS adds everyone who talks in a room to it."""

from __future__ import annotations

import psycopg

from tests.ops._data import Filled


def take_part(data: Filled) -> None:
    """Make every user and agent of a memory a participant of the memory's room (as the tables' owner)."""
    with psycopg.connect(data.url, autocommit=True) as conn:
        conn.execute(
            'INSERT INTO participants ("userId", "roomId") '
            'SELECT DISTINCT who, "roomId" FROM memories, LATERAL (VALUES ("userId"), ("agentId")) AS w(who) '
            "WHERE who IS NOT NULL ON CONFLICT DO NOTHING"
        )
