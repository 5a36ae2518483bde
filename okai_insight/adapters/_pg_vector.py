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
from psycopg.adapt import Loader
from psycopg.pq import Format

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


_BIG_ENDIAN_F4 = np.dtype(">f4")


class NumpyVectorBinaryLoader(Loader):
    """Binary ``vector`` straight to a float32 numpy array: pgvector's loader builds an ``array``, byte-swaps it and
    wraps it in a ``Vector``; this is one numpy conversion, half the time (4.7 against 9.2 µs a 384-dimension row,
    timeit). Memory reads decode a result's vectors together (``_pg_memory_rows``) and use it for a cell that
    does not fit that (another dimension), for its checks and its error.

    Example:
        >>> NumpyVectorBinaryLoader(0).load(bytes.fromhex("000200003f80000040000000"))
        array([1., 2.], dtype=float32)
    """

    format = Format.BINARY

    def load(self, data: Buffer) -> Any:
        dimensions, unused = _HEADER.unpack_from(data)
        if unused != 0 or len(data) != 4 + 4 * dimensions:
            raise ValueError("invalid binary vector")  # what pgvector's own loader refuses
        return np.frombuffer(data, _BIG_ENDIAN_F4, dimensions, 4).astype(np.float32)


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
