"""Memory rows decoded a result at a time: the embeddings of every row in one numpy conversion, the contents in
one JSON parse, then one ``Memory`` a row.

psycopg calls a loader per cell: for a top-10 search that was ten vector loads (a Python call, a struct unpack,
two numpy calls each) and ten JSON decodes (four Python calls each), a quarter of the client's time for the search
in a py-spy profile (100k x 384, ef_search 40, 2026-12-05), more than in isolation because each runs with the
caches cold after the round trip. Here the cursor receives both columns as raw bytes (psycopg's C ``bytea``
loader, no Python call a cell) and :func:`memories` decodes them together: 8 against 18 µs for ten vectors, 14
against 29 µs for ten contents (timeit, warm).

Columns are matched to fields by name, once per distinct list of names (as ``_pg_rows.by_name``): a reordered or
added column cannot shift values into the wrong field.

Example:
    >>> cur = raw_memory_columns(conn.cursor())                  # doctest: +SKIP
    >>> found = memories(cur, cur.execute(query, params, binary=True).fetchall())   # doctest: +SKIP
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg import ProgrammingError
from psycopg.types.string import ByteaBinaryLoader

from okai_insight import _json
from okai_insight.adapters._pg_json import FastJsonbBinaryLoader
from okai_insight.adapters._pg_vector import NumpyVectorBinaryLoader
from okai_insight.models import Memory

#: The columns a memory row has (ProfileSql.memory_columns), then the optional ones.
_REQUIRED = ("id", "type", "createdAt", "content", "embedding", "userId", "agentId", "roomId", "is_unique")
_OPTIONAL = ("distance",)
#: Rows decoded together at most: the embeddings of a chunk share one array, so a memory kept from a large read
#: keeps at most this many rows' vectors alive (1.5 MB at 1536 dimensions).
CHUNK_ROWS = 256

_HEADER = struct.Struct(">HH")
_BIG_ENDIAN_F4 = np.dtype(">f4")
_decode = json.JSONDecoder().decode
_vector_loader = NumpyVectorBinaryLoader(0)
_jsonb_loader = FastJsonbBinaryLoader(0)
_new_object = object.__new__


def raw_memory_columns(cur: psycopg.Cursor[Any]) -> psycopg.Cursor[Any]:
    """``cur``, receiving binary ``vector`` and ``jsonb`` values as their bytes, for :func:`memories` (only this
    cursor: the connection's other users keep their loaders).

    Example:
        >>> cur = raw_memory_columns(conn.cursor())                # doctest: +SKIP
    """
    cur.adapters.register_loader("vector", ByteaBinaryLoader)
    cur.adapters.register_loader("jsonb", ByteaBinaryLoader)
    return cur


_layouts: dict[tuple[bytes | None, ...], tuple[tuple[int, ...], int | None, int | None]] = {}


def _layout(cur: psycopg.Cursor[Any], count: str | None) -> tuple[tuple[int, ...], int | None, int | None]:
    """The positions of the required columns, of ``distance`` (or None) and of ``count`` (or None) in ``cur``'s
    result; an unknown or missing column is an error."""
    result = cur.pgresult
    key = (*map(result.fname, range(result.nfields)), count.encode() if count else None) if result else ()
    found = _layouts.get(key)
    if found is None:
        names = [(n or b"").decode() for n in key[:-1]]
        known = {*_REQUIRED, *_OPTIONAL, *([count] if count else [])}
        unknown = [n for n in names if n not in known]
        missing = [n for n in _REQUIRED if n not in names] + ([count] if count and count not in names else [])
        if unknown or missing:
            raise ProgrammingError(f"a memory row needs the columns {list(_REQUIRED)}: got {names}")
        found = (
            tuple(names.index(n) for n in _REQUIRED),
            names.index("distance") if "distance" in names else None,
            names.index(count) if count else None,
        )
        _layouts[key] = found
    return found


def memories(cur: psycopg.Cursor[Any], rows: Sequence[Sequence[Any]]) -> list[Memory]:
    """The memories of ``rows``, read from ``cur`` (a :func:`raw_memory_columns` cursor or any other): one per
    row, ``similarity`` set from a ``distance`` column when there is one.

    Example:
        >>> cur = raw_memory_columns(conn.cursor())                # doctest: +SKIP
        >>> memories(cur, cur.execute("SELECT ... FROM memories AS m", binary=True).fetchall())  # doctest: +SKIP
        [Memory(...), ...]
    """
    if not rows:
        return []
    at, distance, _ = _layout(cur, None)
    return _chunked(rows, at, distance)


def counted_memories(
    cur: psycopg.Cursor[Any], rows: Sequence[Sequence[Any]], count: str
) -> tuple[int | None, list[Memory]]:
    """``count``'s value (on every row; None without rows) and the memories of ``rows``, skipping any row with a
    NULL id (an outer join's row of NULLs): the filtered search's answer (ProfileSql.search_exact_counted).

    Example:
        >>> counted_memories(cur, cur.execute(counted_search, params, binary=True).fetchall(), "filtered_rows")  # doctest: +SKIP
        (12, [Memory(...), ...])
    """
    if not rows:
        return None, []
    at, distance, n = _layout(cur, count)
    assert n is not None
    return rows[0][n], _chunked([r for r in rows if r[at[0]] is not None], at, distance)


def _chunked(rows: Sequence[Sequence[Any]], at: tuple[int, ...], distance: int | None) -> list[Memory]:
    """:func:`_build` a chunk of at most CHUNK_ROWS rows at a time."""
    out: list[Memory] = []
    for start in range(0, len(rows), CHUNK_ROWS):
        out += _build(rows[start : start + CHUNK_ROWS], at, distance)
    return out


def _build(rows: Sequence[Sequence[Any]], at: tuple[int, ...], distance: int | None) -> list[Memory]:
    i_id, i_type, i_created, i_content, i_embedding, i_user, i_agent, i_room, i_unique = at
    vectors = _vectors([r[i_embedding] for r in rows])
    contents = _contents([r[i_content] for r in rows])
    out = []
    # Memory is a frozen dataclass: its __init__ sets each of ten fields through object.__setattr__, ~5x the cost
    # of filling the instance's dict, which is all it does (no __post_init__, no slots; checked at import by
    # _SET_FIELDS, else the constructor).
    for r, vector, content in zip(rows, vectors, contents, strict=True):
        similarity = None if distance is None or r[distance] is None else 1.0 - float(r[distance])
        if not _SET_FIELDS:
            out.append(Memory(r[i_id], r[i_user], r[i_agent], r[i_room], content, vector, r[i_created],
                              bool(r[i_unique]), similarity, r[i_type]))  # fmt: skip
            continue
        m = _new_object(Memory)
        d = m.__dict__
        d["id"] = r[i_id]
        d["user_id"] = r[i_user]
        d["agent_id"] = r[i_agent]
        d["room_id"] = r[i_room]
        d["content"] = content
        d["embedding"] = vector
        d["created_at"] = r[i_created]
        d["unique"] = bool(r[i_unique])
        d["similarity"] = similarity
        d["type"] = r[i_type]
        out.append(m)
    return out


def _vectors(cells: list[Any]) -> list[np.ndarray[Any, Any] | None]:
    """Float32 arrays from the embedding cells: raw binary vectors of one dimension in one conversion (each
    memory gets its row of one array); anything else a cell at a time."""
    first = cells[0]
    if first.__class__ is bytes and len(first) >= 4:
        dimensions, unused = _HEADER.unpack_from(first)
        size, header = len(first), first[:4]
        if (
            unused == 0
            and size == 4 + 4 * dimensions
            and all(c.__class__ is bytes and len(c) == size and c[:4] == header for c in cells)
        ):
            block = np.frombuffer(b"".join(cells), _BIG_ENDIAN_F4).reshape(len(cells), dimensions + 1)
            return list(block[:, 1:].astype(np.float32))
    return [_vector(c) for c in cells]


def _vector(cell: Any) -> np.ndarray[Any, Any] | None:
    if cell is None:
        return None
    vector: np.ndarray[Any, Any]
    if cell.__class__ is bytes:
        vector = _vector_loader.load(cell)  # its checks and its error for a malformed value
    elif cell.__class__ is np.ndarray:
        vector = cell
    else:
        vector = cell.to_numpy()  # pgvector's Vector (a cursor with the default loaders); a HalfVector is float16
    return vector if vector.dtype == np.float32 else vector.astype(np.float32)


def _contents(cells: list[Any]) -> list[Any]:
    """Contents from the content cells: raw binary jsonb parsed together as one JSON array (PostgreSQL wrote each
    value: the array is well formed); a cell at a time when that fails (a value nested too deep for ``json``, an
    unknown jsonb version) or the cells are not raw."""
    if all(c.__class__ is bytes and c[:1] == b"\x01" for c in cells):
        try:
            parsed = _decode((b"[" + b",".join([c[1:] for c in cells]) + b"]").decode("utf-8"))
        except (RecursionError, ValueError):
            pass
        else:
            return [_content(v) for v in parsed] if any(v.__class__ is str for v in parsed) else parsed
    return [_content(_jsonb_loader.load(c) if c.__class__ is bytes else c) for c in cells]


def _content(value: Any) -> Any:
    """A memory's content as decoded: an object; or, from writers that stored the object's JSON text as a jsonb
    string, that text decoded; anything else as it is (a read never fails on a row)."""
    if isinstance(value, str):
        try:
            return _json.loads(value)
        except ValueError:
            return value
    return value


_SET_FIELDS = (
    tuple(f for f in Memory.__dataclass_fields__)
    == ("id", "user_id", "agent_id", "room_id", "content", "embedding", "created_at", "unique", "similarity", "type")
    and not hasattr(Memory, "__post_init__")
    and "__slots__" not in Memory.__dict__
)

__all__ = ["CHUNK_ROWS", "counted_memories", "memories", "raw_memory_columns"]
