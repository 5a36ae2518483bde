"""The embedding checks on a Citus database: the queries a distributed table cannot run, in a form it can.

``near_neighbours.sql`` finds each probe's neighbours in one statement, a LATERAL subquery with ``LIMIT`` a probe.
Citus refuses it on a distributed table ("cannot push down this subquery": a LIMIT in a lateral subquery that
references another relation). Here the probes are read first and each is its own ``ORDER BY column <op> probe
LIMIT k``, which Citus runs on every shard (each shard's own vector index answers its top k) and merges into the
global top k: the same rows, one statement a probe. Sampling needs nothing special: ``TABLESAMPLE SYSTEM`` on a
distributed table samples every shard (measured on the local cluster: tests/citus/test_diagnostics.py).

Example:
    >>> probe_neighbours_by_probe(run, table, ["2b0e..."], 10)[0]["probe_id"]        # doctest: +SKIP
    '2b0e...'
"""

from __future__ import annotations

from typing import Any

from okai_insight.embeddings._table import GroupBy, VectorTable
from okai_insight.runner import Runner


def uses_citus(run: Runner) -> bool:
    """Whether the database has the citus extension (its distributed tables need :func:`probe_neighbours_by_probe`).

    Example:
        >>> uses_citus(run)                                                           # doctest: +SKIP
        True
    """
    return run.features.has_extension("citus")


def probe_neighbours_by_probe(
    run: Runner, table: VectorTable, ids: list[str], k: int, *, group: GroupBy = None
) -> list[dict[str, Any]]:
    """Each probe row's ``k`` nearest rows, one statement a probe (``queries/citus/probe_neighbours.sql``), in the
    rows and order of ``near_neighbours.sql``: by probe id, then by cosine similarity, highest first.

    Example:
        >>> probe_neighbours_by_probe(run, t, ["2b0e..."], 10)[0]["cosine_similarity"]   # doctest: +SKIP
        0.93
    """
    identifiers = table.identifiers(group)
    out: list[dict[str, Any]] = []
    with run.transaction(settings={"hnsw.ef_search": str(max(40, k))}) as tx:
        probes = tx.query("citus", "probe_rows", {"ids": ids}, identifiers=identifiers).rows
        for p in probes:
            params = {"probe_id": p["id"], "probe_group": p["grp"], "v": p["v"], "k": k}
            rows = tx.query("citus", "probe_neighbours", params, identifiers=identifiers).rows
            out += sorted(rows, key=lambda r: -float(r["cosine_similarity"]))
    return out
