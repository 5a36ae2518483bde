"""Core subcommands: ``server``, ``init``, ``demo``."""

from __future__ import annotations

import argparse
from typing import Any

from okai_insight.cli._args import add_command, add_format_argument, add_url_argument
from okai_insight.cli._output import format_rows


def _server(args: argparse.Namespace) -> int:
    from okai_insight.embedded import EmbeddedServer

    server = EmbeddedServer(args.data_dir)
    if args.action == "start":
        print(server.start())
    elif args.action == "stop":
        print("stopped" if server.stop() else "not running")
    elif args.action == "url":
        url = server.url()
        if url is None:
            print(f"okai-insight: error: no server runs on {server.data_dir} (okai-insight server start)")
            return 1
        print(url)
    else:
        st = server.status()
        row: dict[str, Any] = {"running": st.running, "data_dir": str(st.data_dir), "pid": st.pid, "url": st.url}
        print(format_rows([row], args.format))
        return 0 if st.running else 3
    return 0


def _init(args: argparse.Namespace) -> int:
    import okai_insight

    with okai_insight.connect(args.url, dimension=args.dimension) as db:
        profile = getattr(db, "profile", None)
        if profile is not None and not profile.writable:  # ElizaOS 1.x: connect() gave a read-only handle
            from okai_insight.errors import ReadOnlySchema

            raise ReadOnlySchema(profile.display_name, "init", hint="its own migrator owns the schema")
        print(f"schema ready: {getattr(profile, 'flavor', 'ok')}, embedding dimension {db.embedding_dimension}")
    return 0


def _demo(args: argparse.Namespace) -> int:
    import sys

    from okai_insight.demo import run_demo

    run_demo(args.url, rows=args.rows, progress=not args.no_progress and sys.stderr.isatty())
    return 0


def add_commands(subparsers: Any) -> None:
    """Add the core subcommands to the CLI."""
    p = add_command(
        subparsers,
        "server",
        help="start, stop or inspect the embedded PostgreSQL",
        description="Manage the bundled PostgreSQL 18 + pgvector server (no install needed). Its data lives in "
        "the user data directory, or $OKAI_DATA_DIR/pgdata.",
        examples=[
            "okai-insight server start",
            "okai-insight server status --format json",
            'psql "$(okai-insight server url)"',
            "okai-insight server stop",
        ],
        func=_server,
    )
    p.add_argument("action", choices=("start", "stop", "status", "url"), help="what to do")
    p.add_argument("--data-dir", default=None, help="cluster directory (default: $OKAI_DATA_DIR/pgdata)")
    add_format_argument(p)

    p = add_command(
        subparsers,
        "init",
        help="create or migrate the schema (attaches to ElizaOS databases untouched)",
        description="Create okai-insight's schema with the chosen embedding dimension, apply pending migrations, "
        "or recognise an existing ElizaOS database (which is never altered).",
        examples=["okai-insight init", "okai-insight init postgresql://me@localhost/agents --dimension 1536"],
        func=_init,
    )
    add_url_argument(p)
    p.add_argument(
        "--dimension",
        type=int,
        default=None,
        help="embedding dimension: a new schema gets it, an existing schema must already have it (else an error, "
        "nothing changed); default: the existing schema's, or 384 for a new one. PostgreSQL 1-16000 (HNSW index "
        "as vector up to 2000, as halfvec up to 4000, no index above), SQLite 1-8192",
    )

    p = add_command(
        subparsers,
        "demo",
        help="load the demo agent dataset and run searches (its own database okai_demo by default)",
        description="Start the embedded server (unless a URL is given), load a small realistic demo agent "
        "dataset into its own database there, okai_demo, and run semantic searches on it, printing what it did. "
        "Without a URL argument the demo never writes to your database: not to the embedded server's default "
        "database okai, nor to OKAI_DATABASE_URL.",
        examples=["okai-insight demo", "okai-insight demo postgresql://me@localhost/scratch --rows 500"],
        notes="Loading is idempotent: running it again writes nothing new. The embeddings (all-MiniLM-L6-v2) are\n"
        "precomputed, so no model or torch is needed.",
        func=_demo,
    )
    p.add_argument(
        "url",
        nargs="?",
        default=None,
        help="database URL (postgresql://..., sqlite:///...) to load the demo into; default: the embedded "
        "server's database okai_demo (never OKAI_DATABASE_URL)",
    )
    p.add_argument("--rows", type=int, default=None, help="load only the oldest N memories (default: all, about 2000)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
