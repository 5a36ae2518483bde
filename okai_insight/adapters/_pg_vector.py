"""pgvector's psycopg types, with a faster binary dumper for the numpy arrays the adapter sends.

pgvector's own dumper wraps every array in a ``Vector`` object before packing it; for a float32 array that is
already checked, packing the header and the big-endian values directly is three times cheaper, which is most
of the per-row work a bulk COPY of embeddings does in Python.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from pgvector.psycopg.vector import VectorBinaryDumper
from psycopg.abc import Buffer

_HEADER = struct.Struct(">HH")  # pgvector's binary format: dimensions, an unused word, then float32 values


class NumpyVectorBinaryDumper(VectorBinaryDumper):
    """Packs a 1-D numpy array as pgvector's binary ``vector``; anything else goes through pgvector's dumper.

    Example:
        >>> NumpyVectorBinaryDumper(np.ndarray).dump(np.array([1.0, 2.0], dtype=np.float32)).hex()
        '000200003f80000040000000'
    """

    def dump(self, obj: Any) -> Buffer | None:
        if type(obj) is np.ndarray and obj.ndim == 1:
            return _HEADER.pack(obj.shape[0], 0) + obj.astype(">f4", copy=False).tobytes()
        return super().dump(obj)


def register_vector_types(conn: psycopg.Connection[Any]) -> None:
    """Register pgvector's types on ``conn``, and the faster dumper for numpy arrays sent as ``vector``.

    Registered last, it is also the dumper COPY picks for a ``vector`` column (``set_types`` looks up by oid).

    Example:
        >>> with psycopg.connect(url) as conn:              # doctest: +SKIP
        ...     register_vector_types(conn)
    """
    register_vector(conn)  # raises when the database has no vector type
    dumper = type(
        "NumpyVectorBinaryDumperForOid", (NumpyVectorBinaryDumper,), {"oid": conn.adapters.types["vector"].oid}
    )
    conn.adapters.register_dumper("numpy.ndarray", dumper)
