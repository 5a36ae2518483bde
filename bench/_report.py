"""Render benchmark results as the Markdown of ``docs/benchmarks.md``: ratios first, then the details.

Example:
    >>> machine()["cores"].isdigit()
    True
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

from bench._stats import Latency
from bench.adapter import Results, SearchPoint
from okai_insight.settings import Settings


def machine() -> dict[str, str]:
    """CPU model, core count, memory and OS of this machine.

    Example:
        >>> "cpu" in machine()
        True
    """
    cpu = platform.processor() or "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        mem = f"{kb / 1024**2:.0f} GiB"
    return {"cpu": cpu, "cores": str(os.cpu_count() or 0), "memory": mem, "os": platform.platform()}


def _ms(lat: Latency) -> str:
    return f"{lat.p50_ms:.2f} / {lat.p95_ms:.2f}"


def _ok(met: bool) -> str:
    return "yes" if met else "**no**"


def _summary(r: Results) -> list[str]:
    c = r.config
    out = [
        "| Comparison (same run, interleaved) | okai-insight | raw psycopg | ratio | goal | met |",
        "|---|---:|---:|---:|---:|---|",
    ]
    if r.ingest:
        i = r.ingest
        out.append(
            f"| Bulk ingest, binary COPY, {i.rows:,} rows without the HNSW index (rows/s) | "
            f"{i.adapter_rows_s:,.0f} | {i.raw_rows_s:,.0f} | {i.ratio:.2f}x | >= 0.8x | {_ok(i.ratio >= 0.8)} |"
        )
    for h in r.head_to_head:
        if h.raw_typed is not None:
            typed = h.raw_typed
            met = h.ratio_p50_typed <= 1.1 and h.adapter.recall >= c.target_recall
            out.append(
                f"| Search top-10, ef_search {h.ef_search}, against the same query in raw SQL (RAW_TYPED_SEARCH): "
                f"p50 / p95 ms (recall@10 {h.adapter.recall:.3f} / {typed.recall:.3f}) | {_ms(h.adapter.latency)} | "
                f"{_ms(typed.latency)} | {h.ratio_p50_typed:.2f}x / "
                f"{h.adapter.latency.p95_ms / typed.latency.p95_ms:.2f}x | <= 1.1x at recall >= {c.target_recall} | "
                f"{_ok(met)} |"
            )
        ours = h.adapter_vs_raw or h.adapter
        met = h.ratio_p50 <= 1.2 and ours.recall >= c.target_recall
        out.append(
            f"| Search top-10, ef_search {h.ef_search}, against RAW_SEARCH (no type filter): p50 / p95 ms (recall@10 "
            f"{ours.recall:.3f} / {h.raw.recall:.3f}) | {_ms(ours.latency)} | {_ms(h.raw.latency)} | "
            f"{h.ratio_p50:.2f}x / {h.ratio_p95:.2f}x | <= 1.2x at recall >= {c.target_recall} | {_ok(met)} |"
        )
    if r.filtered_pair:
        ours, same = r.filtered_pair
        ratio = ours.latency.p50_ms / same.latency.p50_ms
        out.append(
            f"| Filtered search, one room ({r.room_rows:,} rows): p50 ms against the same exact statement in raw SQL "
            f"(`+ 0`, one round trip) | {ours.latency.p50_ms:.2f} | {same.latency.p50_ms:.2f} | {ratio:.2f}x | "
            f"<= 1.1x | {_ok(ratio <= 1.1)} |"
        )
    if r.filtered:
        ours, peer = r.filtered[-1], r.filtered[0]
        out.append(
            f"| Filtered search, one room ({r.room_rows:,} rows): recall@10, p50 ms — vs raw SQL as written "
            f"(planner's choice) | {ours.recall:.3f}, {ours.latency.p50_ms:.2f} | {peer.recall:.3f}, "
            f"{peer.latency.p50_ms:.2f} | {ours.latency.p50_ms / peer.latency.p50_ms:.2f}x | "
            f"recall >= {c.target_recall} | {_ok(ours.recall >= c.target_recall)} |"
        )
    if r.per_row:
        p = r.per_row
        out.append(
            f"| Per-row write: create_memory(unique=True) vs raw INSERT (rows/s) | {p.adapter_unique_rows_s:,.0f} | "
            f"{p.raw_insert_rows_s:,.0f} | {p.adapter_unique_rows_s / p.raw_insert_rows_s:.2f}x | — | — |"
        )
        out.append(
            f"| Per-row write: create_memory(unique=True) vs raw HNSW duplicate check + INSERT (rows/s) | "
            f"{p.adapter_unique_rows_s:,.0f} | {p.raw_check_insert_rows_s:,.0f} | "
            f"{p.adapter_unique_rows_s / p.raw_check_insert_rows_s:.2f}x | — | — |"
        )
    if r.ingest_indexed:
        i = r.ingest_indexed
        out.append(
            f"| Bulk ingest with the HNSW index in place, {i.rows:,} rows in batches of {i.batch} (rows/s) | "
            f"{i.adapter_rows_s:,.0f} | {i.raw_rows_s:,.0f} | {i.ratio:.2f}x | >= 0.8x | {_ok(i.ratio >= 0.8)} |"
        )
    return out


def _points(points: list[SearchPoint]) -> list[str]:
    out = ["| Method | ef_search | recall@10 | p50 ms | p95 ms | plan |", "|---|---:|---:|---:|---:|---|"]
    for p in points:
        ef = "—" if p.ef_search is None else str(p.ef_search)
        out.append(
            f"| {p.label} | {ef} | {p.recall:.3f} | {p.latency.p50_ms:.2f} | {p.latency.p95_ms:.2f} | {p.plan} |"
        )
    return out


def render(r: Results, *, command: str, when: dt.datetime | None = None) -> str:
    """This benchmark's section of ``docs/benchmarks.md`` (the file may hold other benchmarks' sections).

    Example:
        >>> render(results, command="python -m bench").startswith("## ")   # doctest: +SKIP
        True
    """
    c = r.config
    m = machine()
    when = when or dt.datetime.now(dt.UTC)
    f = r.facts
    lines = [
        "## okai-insight's PostgreSQL adapter against raw psycopg",
        "",
        "Generated by `bench/adapter.py` — do not edit by hand; rerun the command below to refresh.",
        "",
        f"- **Command:** `{command}` (total {r.total_s / 60:.1f} min)",
        f"- **Date:** {when:%Y-%m-%d %H:%M} UTC",
        f"- **Machine:** {m['cores']} cores ({m['cpu']}), {m['memory']} RAM, {m['os']}",
        f"- **Server:** embedded PostgreSQL {f.get('postgresql', '?')} + pgvector {f.get('pgvector', '?')} "
        f"(shared_buffers {f.get('shared_buffers', '?')}, work_mem {f.get('work_mem', '?')}), "
        "a fresh temporary cluster, over its Unix socket",
        f"- **Data:** {c.rows:,} memories x {c.dim} dims, {c.rooms} rooms, {c.queries} queries; seed {c.seed}",
        "",
        "The machine's 2 cores are shared with other work, so absolute figures are a little noisy; every ratio",
        "compares two sides measured in the same run, interleaved batch by batch or query by query.",
        "",
        "### Ratios first (okai-insight / raw psycopg)",
        "",
        *_summary(r),
        "",
    ]
    lines += _findings(r)
    lines += [
        "### Data",
        "",
        "Uniform random vectors have no neighbourhood structure, so recall measured on them means little. The",
        f"benchmark draws a Gaussian mixture of {max(8, min(1000, c.rows // 100))} topics with Zipf-like sizes; each",
        f"point is its topic's centre plus a deviation in a random {min(24, c.dim)}-dimensional subspace of the topic",
        "plus a little isotropic noise, normalised to unit length (low intrinsic dimension, like sentence",
        "embeddings). Queries are fresh draws from the same mixture (near the data, not in it). Nearest neighbours",
        "have cosine similarity ~0.85-0.9, random pairs ~0. Rooms are assigned independently of topics (the hard",
        "case for filtered HNSW search). Ground truth: exact top-10 by cosine in numpy.",
        "",
        *(
            [
                f"Measured on the queries: median cosine similarity to the nearest row {r.data_stats['nn1_similarity']:.2f},"
                f" to the 10th {r.data_stats['nnk_similarity']:.2f}; median local intrinsic dimension (Levina-Bickel,"
                f" k = 10) {r.data_stats['lid']:.1f}. For comparison, the 979 distinct all-MiniLM-L6-v2 vectors of"
                " `okai_insight/data/demo.npz` give a local intrinsic dimension of about 6 (lower: easier for HNSW),"
                " with sparser neighbourhoods at that small size.",
                "",
            ]
            if r.data_stats
            else []
        ),
        "### Bulk ingest",
        "",
    ]
    if r.ingest:
        lines += [
            f"`create_memories` in batches of {r.ingest.batch:,} (one transaction each) into database A, against a",
            "raw psycopg binary COPY of the same rows (`cursor.copy(...).write_row`, pgvector's binary dumper) into",
            "an identical `memories` table (same migrations: primary key, btree indexes, foreign keys) in database",
            "B; batches alternate which side goes first. Timed from prepared Python objects (the adapter's",
            "`Memory` list, raw tuples) to commit, so the adapter's validation of every row is included.",
            "Neither table has the HNSW index during the load:",
            f"building it afterwards took **{r.index_build_s:.1f} s** (maintenance_work_mem {c.maintenance_work_mem},",
            f"{c.parallel_workers} parallel maintenance worker).",
            "",
        ]
    if r.ingest_indexed:
        i = r.ingest_indexed
        lines += [
            f"With the HNSW index in place (the {c.rows:,}-row table of A), {i.rows:,} more rows a side in batches",
            f"of {i.batch}: okai-insight {i.adapter_rows_s:,.0f} rows/s, raw COPY {i.raw_rows_s:,.0f} rows/s —",
            "incremental HNSW insertion dominates, whoever writes. Large loads want the index built afterwards.",
            "",
        ]
    lines += [
        "### Search: recall and latency against ef_search (raw SQL)",
        "",
        "`SELECT <memory columns>, embedding <=> q FROM memories ORDER BY embedding <=> q LIMIT 10`, prepared,",
        "binary, on one autocommit connection; 20 warm-up queries per setting.",
        "",
        *_points(r.sweep),
        "",
        f"Smallest ef_search reaching recall@10 >= {c.target_recall}: "
        f"**{r.ef_for_target if r.ef_for_target is not None else 'none of those tried'}**.",
        "",
        "### Search: okai-insight against raw SQL",
        "",
        "`search_memories_by_embedding(q, table_name='messages', count=10)` (pool checkout, validation,",
        "`Memory` objects with numpy embeddings) against raw psycopg: RAW_TYPED_SEARCH (the same query: type",
        "filter, same index and plan) and RAW_SEARCH (no filter). Each query runs as two pairs, the adapter with",
        "each raw query, the two of a pair back to back in a random order (`bench.adapter.timed_pairs`: in a",
        "fixed rotation each side always followed the same neighbour, which warmed or cooled its caches).",
        "",
    ]
    for h in r.head_to_head:
        lines += _points([h.adapter, *([h.raw_typed] if h.raw_typed else []), h.adapter_vs_raw or h.adapter, h.raw])
        lines.append("")
    if r.filtered:
        lines += [
            f"### Filtered search: one room holding {r.room_rows:,} of {c.rows:,} rows "
            f"({100 * r.room_rows / c.rows:.1f} %)",
            "",
            "Ground truth: exact top-10 among the room's rows. okai-insight counts the filtered set (bounded) and",
            "searches sets of at most `Settings.exact_search_max_rows` (10,000) rows exactly through the btree",
            "index (`ORDER BY (embedding <=> q) + 0`); larger ones go through HNSW with `hnsw.iterative_scan =",
            "relaxed_order`. Every method runs for each query in turn, on a connection of its own. Then the",
            "adapter and the raw `+ 0` query, the statement it sends for a small room, are timed in pairs (as above):",
            "",
            *_points(r.filtered),
            "",
            *(_points(list(r.filtered_pair)) if r.filtered_pair else []),
            "",
        ]
    if r.round_trips:
        lines += [
            "### Where the adapter's time goes: round trips",
            "",
            "Counted in this run by tracing the wire protocol (ReadyForQuery messages) of one steady-state call.",
            "On 2 busy cores each round trip costs a context switch to the server process and back, so on fast",
            "queries round trips weigh as much as the SQL.",
            "",
            "| Call | okai-insight | raw psycopg |",
            "|---|---:|---:|",
            *[f"| {name} | {ours} | {raw} |" for name, (ours, raw) in r.round_trips.items()],
            "",
        ]
    if r.per_row:
        p = r.per_row
        lines += [
            "### Per-row writes",
            "",
            f"{p.rows} rows a side into the {c.rows:,}-row table with its HNSW index, autocommit, interleaved.",
            "Each new row is a stored row plus noise, in that row's room, so some are near-duplicates.",
            "`create_memory(unique=True)` decides its `unique` flag inside the INSERT: one statement counts the",
            "room's rows (bounded), searches them for a near-duplicate (cosine similarity >= 0.95, exactly for a",
            "room this size) and inserts, sent with its lock in one round trip; the raw",
            "peers are a bare INSERT, and an HNSW duplicate check (ef_search 100, relaxed iterative scan) plus",
            f"INSERT. okai-insight marked {p.duplicates_found} of its rows as near-duplicates (`unique` false).",
            "",
            "| Method | rows/s |",
            "|---|---:|",
            f"| okai-insight create_memory(unique=True) | {p.adapter_unique_rows_s:,.0f} |",
            f"| raw INSERT | {p.raw_insert_rows_s:,.0f} |",
            f"| raw HNSW duplicate check + INSERT | {p.raw_check_insert_rows_s:,.0f} |",
            "",
        ]
    return "\n".join(lines) + "\n"


def _findings(r: Results) -> list[str]:
    """Goals missed, and what this run shows about why (every number comes from this run)."""
    out: list[str] = []
    c = r.config
    trips = r.round_trips
    if r.ingest and r.ingest.ratio < 0.8:
        copy = trips.get("create_memories (one batch)")
        same = f" ({copy[0]} round trips a batch against {copy[1]})" if copy else ""
        out.append(
            f"- **Bulk ingest below goal ({r.ingest.ratio:.2f}x < 0.8x).** Both sides send the same binary COPY{same}; "
            "the difference is the adapter's per-row work in Python (validating and converting each `Memory`), "
            "done row by row inside the COPY on the one thread that also feeds it, where the raw loop only sends "
            "prepared arrays."
        )
    for h in r.head_to_head:
        typed_over = h.raw_typed is not None and h.ratio_p50_typed > 1.1
        if typed_over or h.ratio_p50 > 1.2:
            search = trips.get("search_memories_by_embedding")
            why = f"{search[0]} round trip(s) against {search[1]}" if search else "an unknown number of round trips"
            ratio, goal = (h.ratio_p50_typed, 1.1) if typed_over else (h.ratio_p50, 1.2)
            out.append(
                f"- **Search at ef_search {h.ef_search} above goal ({ratio:.2f}x > {goal}x at p50).** Same plan, "
                f"{why}; the rest is client-side work per call (pool checkout, validation, building `Memory` "
                "objects), which costs several times its warm-loop time because it runs with the CPU's caches cold "
                "after each wait for the server."
            )
            break
    by_label = {p.label: p for p in r.filtered}
    ours = by_label.get("okai-insight search_memories_by_embedding(room_id=...)")
    plain = by_label.get("raw SQL, exact: ORDER BY (embedding <=> q) + 0")
    room = trips.get("search_memories_by_embedding(room_id=...)")
    if ours and plain and room and room[0] > room[1]:
        out.append(
            f"- **Filtered search.** okai-insight runs the same exact statement as the raw `+ 0` query "
            f"({plain.latency.p50_ms:.2f} ms p50) but first counts the filtered set to choose between exact and HNSW "
            f"search: {room[0]} round trips against {room[1]}, {ours.latency.p50_ms:.2f} ms p50."
        )
    compared = max(r.head_to_head, key=lambda h: h.ef_search or 0, default=None)
    if compared and r.ef_for_target is not None:
        verdict = "reaches" if compared.adapter.recall >= c.target_recall else "misses"
        out.append(
            f"- **ef_search.** At ef_search {compared.ef_search} the adapter {verdict} recall@10 {c.target_recall} on "
            f"this data ({compared.adapter.recall:.3f}); the smallest value that reaches it is {r.ef_for_target}. "
            f"okai-insight's default (`Settings.hnsw_ef_search`) is {Settings().hnsw_ef_search}, chosen by "
            "bench/ef_search.py at 384 and 1536 dimensions. Recall depends on the data: measure on your own embeddings."
        )
    return ["### Findings", "", *out, ""] if out else []
