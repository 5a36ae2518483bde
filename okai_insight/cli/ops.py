"""Operations subcommands: backup, restore, basebackup, wal-archive, pitr-restore, maintain, retention,
archive-restore, partition, distribute, replication, replica, promote, secure, verify-isolation, health, metrics."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument
from okai_insight.cli._output import format_rows
from okai_insight.diagnostics.replication import MAX_LAG_MS


def _url(args: argparse.Namespace) -> str:
    from okai_insight._connect import resolve_url

    return resolve_url(args.url)


def _backup(args: argparse.Namespace) -> int:
    from okai_insight.ops.backup import backup

    made = backup(_url(args), args.output, overwrite=args.overwrite, timeout_s=args.timeout_s)
    counts = made.fingerprint.row_counts
    print(
        f"wrote {made.path} ({made.size_bytes} bytes, {sum(counts.values())} rows in {len(counts)} tables, "
        f"{made.duration_ms:.0f} ms); fingerprint in {made.fingerprint_path}"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from okai_insight.ops.backup import restore

    done = restore(args.dump, _url(args), clean=args.clean, timeout_s=args.timeout_s)
    print(
        f"restored {done.path}: verified, {sum(done.expected.row_counts.values())} rows and "
        f"{len(done.expected.embedding_checksums)} embedding checksums equal the source, checked inside the "
        f"restore's one transaction before it committed ({done.duration_ms:.0f} ms)"
    )
    return 0


def _basebackup(args: argparse.Namespace) -> int:
    from okai_insight.ops.backup import basebackup

    done = basebackup(_url(args), args.output, owner=args.owner, timeout_s=args.timeout_s)
    print(
        f"physical copy in {done.path} ({done.size_bytes} bytes, {done.duration_ms:.0f} ms); start it with "
        f"okai-insight server start --data-dir {done.path}"
    )
    return 0


def _wal_archive(args: argparse.Namespace) -> int:
    from okai_insight.ops.pitr import archive_now, enable_wal_archiving

    url = _url(args)
    if args.archive_dir:
        setup = enable_wal_archiving(url, args.archive_dir)
        print(f"WAL archiving into {setup.archive_dir} (basic_archive)")
        if setup.restart_needed:
            print("restart the server to begin archiving (okai-insight server stop && okai-insight server start)")
            return 0
    if args.check or not args.archive_dir:
        print(f"archived WAL segment {archive_now(url, timeout_s=args.timeout_s)}: everything committed so far is in")
    return 0


def _pitr_restore(args: argparse.Namespace) -> int:
    import datetime as dt

    from okai_insight.errors import InvalidInput
    from okai_insight.ops.pitr import restore_to_time

    try:
        at = dt.datetime.fromisoformat(args.to)
    except ValueError:
        raise InvalidInput(f"--to {args.to!r} is not an ISO 8601 time (e.g. 2025-06-01T12:00:00+00:00)") from None
    done = restore_to_time(args.base, args.archive_dir, at, args.output, owner=args.owner, timeout_s=args.timeout_s)
    print(
        f"recovered to {done.target_time.isoformat()} in {done.path}: last replayed commit "
        f"{done.last_replayed_commit.isoformat() if done.last_replayed_commit else 'none after the base backup'}"
        f"{f', first left out {done.stopped_before}' if done.stopped_before else ''}"
    )
    print(f"running at {done.url} (okai-insight server stop --data-dir {done.path} to stop it)")
    return 0


def _maintain(args: argparse.Namespace) -> int:
    from okai_insight.ops.maintenance import plan, run

    url = _url(args)
    actions = plan(url, table=args.table, bloat_ratio=args.bloat_ratio)
    if not actions:
        print("nothing to do: no dead rows, stale statistics or bloated vector indexes above the thresholds")
        return 0
    rows = [{"would_run" if args.dry_run else "run": a.sql, "why": a.reason} for a in actions]
    print(format_rows(rows, args.format))
    if args.dry_run:
        return 0
    for result in run(url, actions, progress=sys.stderr.isatty()):
        extra = ""
        if result.size_before_bytes is not None:
            extra = f", {result.size_before_bytes} -> {result.size_after_bytes} bytes"
        print(f"done: {result.action.sql} ({result.duration_ms:.0f} ms{extra})")
    return 0


def _policy(args: argparse.Namespace) -> Any:
    from okai_insight.ops.lifecycle import RetentionPolicy

    return RetentionPolicy(
        months=args.older_than_months,
        days=args.older_than_days,
        types=tuple(args.type) if args.type else None,
        agent_id=args.agent,
        room_id=args.room,
    )


def _retention(args: argparse.Namespace) -> int:
    from okai_insight.ops.lifecycle import apply, preview

    url, policy = _url(args), _policy(args)
    if not args.execute:
        dry = preview(url, policy)
        print(dry.summary())
        if dry.by_type:
            print(format_rows([{"type": k, "rows": v} for k, v in dry.by_type.items()], args.format))
        print("(dry run: add --execute to delete" + (", after archiving to Parquet)" if args.archive else ")"))
        return 0
    done = apply(url, policy, batch_size=args.batch_size, archive_dir=args.archive)
    print(
        f"deleted {done.deleted_rows} rows in {done.batches} batches (longest {done.longest_batch_ms:.0f} ms)"
        + (f"; archived to {len(done.archive_files)} Parquet files in {args.archive}" if done.archive_files else "")
    )
    return 0


def _archive_restore(args: argparse.Namespace) -> int:
    from okai_insight.ops.lifecycle import restore_archive

    files: list[Path] = []
    for item in args.archive:
        path = Path(item)
        files += sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    print(f"restored {restore_archive(_url(args), files)} memories from {len(files)} files")
    return 0


def _compress(args: argparse.Namespace) -> int:
    from okai_insight.ops.compression import compress_to_halfvec, halfvec_impact

    url = _url(args)
    if not args.execute:
        impact = halfvec_impact(url, older_than_days=args.older_than_days, queries=args.queries, k=args.k)
        print(
            f"dry run: {impact.rows_affected} of {impact.rows_total} embeddings as halfvec save ~{impact.bytes_saved} "
            f"bytes; recall@{impact.k} {impact.recall_at_k:.3f} over {impact.queries} queries "
            + (
                "(--execute converts the whole column, every row: measure it without --older-than-days)"
                if args.older_than_days
                else "(add --execute to convert the column)"
            )
        )
        return 0
    done = compress_to_halfvec(
        url, min_recall=args.min_recall, queries=args.queries, k=args.k, older_than_days=args.older_than_days
    )
    print(
        f"converted to halfvec (recall@{done.impact.k} {done.impact.recall_at_k:.3f}); memories "
        f"{done.table_bytes_before} -> {done.table_bytes_after} bytes"
    )
    return 0


def _replication(args: argparse.Namespace) -> int:
    from okai_insight.ops.replicas import replication_role_and_lag

    status = replication_role_and_lag(_url(args))
    if status.role == "standby":
        rows = [{"role": "standby", "replay_lag_bytes": status.replay_lag_bytes, "replay_lag_ms": status.replay_lag_ms}]
    else:
        rows = [{"role": "primary", **s} for s in status.standbys] or [{"role": "primary", "standbys": 0}]
    print(format_rows(rows, args.format))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from okai_insight.ops.replicas import promote

    ok = promote(_url(args))
    print("promoted: the server accepts writes" if ok else "promotion requested, not finished within the wait")
    return 0 if ok else 1


def _replica(args: argparse.Namespace) -> int:
    from okai_insight.ops.replicas import create_replica

    standby = create_replica(_url(args), args.data_dir, owner_like=args.owner_like)
    print(f"streaming replica running at {standby.url()} (data in {standby.data_dir})")
    print(
        f"check it with okai-insight replication; stop it with okai-insight server stop --data-dir {standby.data_dir}"
    )
    return 0


def _secure(args: argparse.Namespace) -> int:
    from okai_insight.ops import security

    url = _url(args)
    if args.roles:
        for statement in security.create_roles(url):
            print(statement)
    if args.isolation == "on":
        security.enable_isolation(url)
        print("row level security on every memory table: rows tied to the user's rooms (okai.user_id)")
    elif args.isolation == "off":
        security.disable_isolation(url)
        print("row level security on the memory tables: off")
    if args.audit == "on":
        security.enable_audit(url)
        print("audit: writes on memories are logged in logs (type audit)")
    elif args.audit == "off":
        security.disable_audit(url)
        print("audit: off")
    tls = security.check_tls(url)
    print(f"tls: sslmode={tls.sslmode} [{tls.status}] {tls.detail}; this connection encrypted: {tls.encrypted}")
    if tls.server_note:
        print(f"tls: {tls.server_note}")
    return 0 if tls.status != "critical" else 1


def _verify_isolation(args: argparse.Namespace) -> int:
    from okai_insight.ops.security import verify_isolation

    report = verify_isolation(_url(args), role=args.role, statement_timeout_ms=args.timeout_ms)
    print(format_rows(report.checks, args.format))
    print(f"acted as ({report.mode}): {', '.join(report.users)}")
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    print("isolation verified" if report.ok else f"isolation BROKEN: {len(report.problems)} problem(s)")
    return 0 if report.ok else 1


def _encrypt(args: argparse.Namespace) -> int:
    from okai_insight.ops import encryption

    url, fields = _url(args), tuple(args.field or ["text"])
    ring = encryption.Keyring.from_env()
    if args.action == "seal":
        print(f"sealed {encryption.encrypt_existing(url, ring, fields=fields, batch_size=args.batch_size)} rows")
    elif args.action == "rotate":
        n = encryption.rotate(url, ring, fields=fields, batch_size=args.batch_size)
        print(f"re-encrypted {n} rows under key {ring.current}")
    if args.vacuum_full and args.action != "usage":
        wal = (
            "CHECKPOINT done: WAL that holds them is recycled as the server goes on (archives and backups keep theirs)"
            if encryption.vacuum_full(url)
            else "CHECKPOINT refused (needs superuser or pg_checkpoint): WAL recycles on the server's schedule"
        )
        print(f"VACUUM FULL memories done: no dead row version holds the old values any more; {wal}")
    elif args.action == "seal":
        print(f"note: {encryption.SEAL_LEFTOVERS}")
    rows = [{"key_id": k, "fields": v} for k, v in encryption.key_usage(url, fields=fields).items()]
    print(format_rows(rows, "text"))
    return 0


def _health(args: argparse.Namespace) -> int:
    from okai_insight.ops.monitoring import health

    report = health(_url(args), max_lag_ms=args.max_lag_ms)
    print(format_rows(report.rows(), args.format))
    return report.exit_code


def _metrics(args: argparse.Namespace) -> int:
    import okai_insight
    from okai_insight._postgres_only import require_postgres
    from okai_insight.ops.monitoring import metrics, to_prometheus

    url = _url(args)
    require_postgres(url, "metrics")  # before connect(), which would open a SQLite file or refuse mysql:// its own way
    with okai_insight.connect(url, pool_min_size=1) as db:
        snap = metrics(db, probe_searches=args.probes)
    if args.format == "prometheus":
        sys.stdout.write(to_prometheus(snap))
    else:
        print(format_rows(snap.rows(), args.format))
    return 0


def _partition(args: argparse.Namespace) -> int:
    from okai_insight.ops.partitioning import partition_memories, plan_partitioning

    url = _url(args)
    if args.dry_run:
        plan = plan_partitioning(url, partitions=args.partitions, by=args.by)
        print(plan.summary() + ("" if plan.already else " (dry run: nothing changed)"))
        if plan.steps:
            print(format_rows([{"would_run": s.sql, "why": s.why} for s in plan.steps], args.format))
        return 0
    done = partition_memories(url, partitions=args.partitions, by=args.by)
    if done.plan.already:
        print(done.plan.summary() + ": nothing to do")
        return 0
    print(
        f'partitioned memories by hash of "{done.plan.column}" into {done.plan.partitions} partitions: '
        f"{done.rows_copied} rows copied and verified, {len(done.vector_indexes)} vector indexes "
        f"({done.duration_ms:.0f} ms)"
    )
    print(format_rows([{"partition": k, "rows": v} for k, v in done.partition_rows.items()], args.format))
    return 0


def _distribute(args: argparse.Namespace) -> int:
    from okai_insight.ops._connection import connect
    from okai_insight.schema._citus import distribute_schema

    url = _url(args)
    with connect(url, autocommit=True) as conn:
        done = distribute_schema(conn)
    print(done.summary() if done.already else f"{done.summary()} ({done.duration_ms:.0f} ms)")
    if done.rows:
        print(format_rows([{"table": t, "rows_verified": n} for t, n in done.rows.items()], args.format))
    return 0


def _add_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout-s", type=float, default=3600.0, help="stop the PostgreSQL program after this long (default 3600)"
    )


def add_commands(subparsers: Any) -> None:
    """Add the operations subcommands to the CLI."""
    p = add_command(
        subparsers,
        "backup",
        help="dump a database with pg_dump -Fc and record its fingerprint (row counts, embedding checksums)",
        examples=[
            "okai-insight backup -o agents.dump",
            "okai-insight backup postgresql://me@db/agents -o /backups/a.dump",
        ],
        func=_backup,
    )
    add_url_argument(p)
    p.add_argument("-o", "--output", required=True, help="the dump file to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    _add_timeout(p)

    p = add_command(
        subparsers,
        "restore",
        help="check a dump is intact, then restore it into an existing database in one transaction that commits only if "
        "it equals its source",
        examples=[
            "okai-insight restore agents.dump postgresql://me@db/agents_copy",
            "okai-insight restore agents.dump postgresql://me@db/agents --clean",
        ],
        func=_restore,
    )
    p.add_argument("dump", help="a file written by okai-insight backup (its .fingerprint.json beside it)")
    add_url_argument(p)
    p.add_argument(
        "--clean", action="store_true", help="drop the dump's objects before restoring them (in the same transaction)"
    )
    _add_timeout(p)

    p = add_command(
        subparsers,
        "basebackup",
        help="take a physical copy of the whole cluster with pg_basebackup -Fp -Xs, ready to start",
        examples=[
            "okai-insight basebackup -o /backups/base-$(date +%F)",
            "okai-insight server start --data-dir /backups/base-2025-06-01   # a copy of its own, on its own socket",
        ],
        func=_basebackup,
    )
    add_url_argument(p)
    p.add_argument("-o", "--output", required=True, help="a new, empty directory")
    p.add_argument(
        "--owner",
        default=None,
        help="the system user a server on the copy runs as (default: you; as root, the embedded server's user)",
    )
    _add_timeout(p)

    p = add_command(
        subparsers,
        "wal-archive",
        help="archive every WAL segment into a directory (point-in-time recovery), or check that archiving works",
        examples=[
            "okai-insight wal-archive --archive-dir /backups/wal      # then restart the server once",
            "okai-insight wal-archive --check                         # close the current segment, wait until archived",
        ],
        func=_wal_archive,
    )
    add_url_argument(p)
    p.add_argument("--archive-dir", default=None, help="where the server copies WAL segments (absolute path)")
    p.add_argument("--check", action="store_true", help="switch to a new WAL segment and wait until it is archived")
    p.add_argument("--timeout-s", type=float, default=60.0, help="how long --check waits (default 60)")

    p = add_command(
        subparsers,
        "pitr-restore",
        help="recover a base backup with the archived WAL up to a moment into a new data directory, start and verify it",
        examples=[
            "okai-insight pitr-restore --base /backups/base-2025-06-01 --archive-dir /backups/wal \\",
            "    --to 2025-06-01T14:30:00+00:00 -o /srv/agents-at-1430",
        ],
        func=_pitr_restore,
    )
    p.add_argument("--base", required=True, help="a base backup (okai-insight basebackup) taken after archiving began")
    p.add_argument("--archive-dir", required=True, help="the WAL archive (okai-insight wal-archive)")
    p.add_argument("--to", required=True, help="the moment, ISO 8601 with a time zone")
    p.add_argument("-o", "--output", required=True, help="a new, empty directory for the recovered cluster")
    p.add_argument("--owner", default=None, help="the system user the recovered server runs as (as for basebackup)")
    p.add_argument("--timeout-s", type=float, default=600.0, help="how long the recovery may take (default 600)")

    p = add_command(
        subparsers,
        "maintain",
        help="VACUUM, ANALYZE and REINDEX what needs it, saying why (dead rows, stale statistics, bloated vector index)",
        examples=[
            "okai-insight maintain --dry-run",
            "okai-insight maintain --table memories",
        ],
        func=_maintain,
    )
    add_url_argument(p)
    p.add_argument("--dry-run", action="store_true", help="only say what would run and why")
    p.add_argument("--table", default=None, help="only this table (and its indexes)")
    p.add_argument("--bloat-ratio", type=float, default=2.0, help="reindex HNSW indexes this much too big (2.0)")
    add_format_argument(p)

    p = add_command(
        subparsers,
        "retention",
        help="delete old memories by a retention policy (a dry run unless --execute), archiving to Parquet first",
        examples=[
            "okai-insight retention --older-than-months 6                 # the spec's cleanup, dry run",
            "okai-insight retention --older-than-months 6 --archive archive/ --execute",
            "okai-insight retention --older-than-days 30 --type messages --agent <uuid>",
        ],
        func=_retention,
    )
    add_url_argument(p)
    p.add_argument("--older-than-months", type=int, default=0, help="age in months")
    p.add_argument("--older-than-days", type=int, default=0, help="age in days (added to the months)")
    p.add_argument("--type", action="append", help="only this memory type (repeatable)")
    p.add_argument("--agent", default=None, help="only this agent's memories")
    p.add_argument("--room", default=None, help="only this room's memories")
    p.add_argument("--archive", default=None, help="write each batch to Parquet files in this directory first")
    p.add_argument("--batch-size", type=int, default=1000, help="rows per delete transaction (default 1000)")
    p.add_argument("--execute", action="store_true", help="really delete (without it: a dry run)")
    add_format_argument(p)

    p = add_command(
        subparsers,
        "archive-restore",
        help="put memories archived by okai-insight retention back (rows that exist are skipped)",
        examples=[
            "okai-insight archive-restore --archive archive/",
            "okai-insight archive-restore --archive a.parquet",
        ],
        func=_archive_restore,
    )
    add_url_argument(p)
    p.add_argument("--archive", action="append", required=True, help="a Parquet file or a directory of them")

    p = add_command(
        subparsers,
        "compress",
        help="measure the recall cost of half-precision (halfvec) embeddings, and convert the column (--execute)",
        examples=[
            "okai-insight compress --older-than-days 90          # dry run: recall and bytes saved",
            "okai-insight compress --execute --min-recall 0.99",
        ],
        func=_compress,
    )
    add_url_argument(p)
    p.add_argument(
        "--older-than-days",
        type=int,
        default=0,
        help="measure for embeddings older than this (0: all); refused with --execute, which converts every row",
    )
    p.add_argument("--queries", type=int, default=50, help="sample queries for the recall measurement (50)")
    p.add_argument("-k", type=int, default=10, help="recall@k (default 10)")
    p.add_argument("--min-recall", type=float, default=0.99, help="refuse to convert below this recall (0.99)")
    p.add_argument("--execute", action="store_true", help="convert memories.embedding to halfvec")

    p = add_command(
        subparsers,
        "partition",
        help="hash-partition memories by agent: one HNSW index per partition, in one verified transaction",
        examples=[
            "okai-insight partition --by agent --partitions 16 --dry-run   # the statements and why, nothing changed",
            "okai-insight partition postgresql://me@db/agents --by agent --partitions 16",
        ],
        func=_partition,
    )
    add_url_argument(p)
    p.add_argument("--by", choices=("agent",), default="agent", help='the partition key (agent: "agentId")')
    p.add_argument("--partitions", type=int, required=True, help="how many hash partitions (2 to 1024)")
    p.add_argument("--dry-run", action="store_true", help="only say what would run and why")
    add_format_argument(p)

    p = add_command(
        subparsers,
        "distribute",
        help="distribute an okai-insight database on its Citus coordinator: memories by agent, the rest as reference "
        "tables, every row counted and checksummed before and after, in one transaction",
        examples=["okai-insight distribute postgresql://me@coordinator/agents"],
        func=_distribute,
    )
    add_url_argument(p)
    add_format_argument(p)

    p = add_command(
        subparsers,
        "replication",
        help="show the server's replication role and each standby's lag",
        examples=[
            "okai-insight replication",
            "okai-insight replication postgresql://me@standby/agents --format json",
        ],
        func=_replication,
    )
    add_url_argument(p)
    add_format_argument(p)

    p = add_command(
        subparsers,
        "promote",
        help="promote a standby to primary (pg_promote) after its primary failed",
        examples=[
            "okai-insight promote postgresql://postgres@standby/agents",
        ],
        func=_promote,
    )
    add_url_argument(p)

    p = add_command(
        subparsers,
        "replica",
        help="create a streaming replica of a local server (pg_basebackup -R) in a new directory and start it",
        examples=[
            "okai-insight replica create --data-dir /srv/standby            # of the embedded server",
            "okai-insight replica create 'postgresql://postgres@/agents?host=/srv/primary' --data-dir /srv/standby \\",
            "    --owner-like /srv/primary",
            "okai-insight replication                                       # the primary now lists it, streaming",
        ],
        func=_replica,
    )
    p.add_argument("action", choices=("create",), help="what to do")
    add_url_argument(p)
    p.add_argument("--data-dir", required=True, help="a new, empty directory for the replica's cluster")
    p.add_argument(
        "--owner-like",
        default=None,
        help="the replica runs as the owner of this directory, e.g. the primary's data directory (default: you; "
        "as root, the embedded server's user)",
    )

    p = add_command(
        subparsers,
        "secure",
        help="create the roles, switch row level security and the audit trail on or off, and check TLS",
        examples=[
            "okai-insight secure --roles --isolation on --audit on",
            "okai-insight secure   # only the TLS check",
        ],
        func=_secure,
    )
    add_url_argument(p)
    p.add_argument("--roles", action="store_true", help="create app_user and okai_analyst with their grants")
    p.add_argument("--isolation", choices=("on", "off"), default=None, help="row level security on every memory table")
    p.add_argument("--audit", choices=("on", "off"), default=None, help="log every write on memories in logs")

    p = add_command(
        subparsers,
        "verify-isolation",
        help="inspect the row level security policies and act as two users on every table and command; exit 1 on any leak",
        examples=[
            "okai-insight verify-isolation",
            "okai-insight verify-isolation postgresql://postgres@db.x.supabase.co/postgres",
        ],
        func=_verify_isolation,
    )
    add_url_argument(p)
    p.add_argument(
        "--role",
        default=None,
        help="the role the application acts as (default: authenticated on a Supabase profile, else app_user)",
    )
    p.add_argument("--timeout-ms", type=int, default=10_000, help="statement timeout for each probe (10000)")
    add_format_argument(p)

    p = add_command(
        subparsers,
        "encrypt",
        help="seal content fields with AES-GCM (keys from OKAI_ENCRYPTION_KEYS), rotate keys, or show key usage",
        examples=[
            "export OKAI_ENCRYPTION_KEYS=2025-06:$(openssl rand -base64 32)",
            "okai-insight encrypt seal                       # encrypt content.text of every memory",
            "okai-insight encrypt seal --vacuum-full         # and rewrite the table: no plaintext in dead rows",
            "okai-insight encrypt rotate                     # after adding a new key (the last listed is current)",
            "okai-insight encrypt usage",
        ],
        func=_encrypt,
    )
    p.add_argument("action", choices=("seal", "rotate", "usage"), help="what to do")
    add_url_argument(p)
    p.add_argument("--field", action="append", help="content field to protect (repeatable; default text)")
    p.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
    p.add_argument(
        "--vacuum-full",
        action="store_true",
        help="after seal or rotate, VACUUM FULL memories and CHECKPOINT, so the old values do not stay in dead "
        "rows (locks the table during the rewrite)",
    )

    p = add_command(
        subparsers,
        "health",
        help="check reachability, pgvector, schema version and replica lag; exit 0 ok, 1 warning, 2 critical",
        examples=[
            "okai-insight health && echo healthy",
            "okai-insight health postgresql://me@db/agents --max-lag-ms 5000",
        ],
        func=_health,
    )
    add_url_argument(p)
    p.add_argument(
        "--max-lag-ms",
        type=float,
        default=MAX_LAG_MS,
        help="replica lag at or above this warns (default 5000, PgHero's 5 s: the replication_status diagnostic's)",
    )
    add_format_argument(p)

    p = add_command(
        subparsers,
        "metrics",
        help="print a metrics snapshot (pool, queries, memory, vector search latency), also in Prometheus format",
        examples=[
            "okai-insight metrics",
            "okai-insight metrics --format prometheus > /var/lib/node_exporter/okai.prom",
        ],
        func=_metrics,
    )
    add_url_argument(p)
    p.add_argument("--format", choices=("text", "json", "csv", "prometheus"), default="text", help="output format")
    p.add_argument("--probes", type=int, default=5, help="timed probe searches (default 5; 0 skips them)")
