"""Diagnostics subcommands: ``doctor`` (every check, exit status 1 on critical findings) and one subcommand per
diagnostic, named like its function with dashes (``okai-insight duplicate-indexes URL``; the underscore spelling
still works).

Example:
    $ okai-insight doctor
    $ okai-insight doctor postgresql://me@localhost/agents --format json
    $ okai-insight vector-queries --format csv
    $ okai-insight explain --query "SELECT count(*) FROM memories" --analyze
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from okai_insight.cli._args import Formatter, add_format_argument, add_url_argument, command_spelling
from okai_insight.cli._output import format_rows, print_findings
from okai_insight.diagnostics._result import Result


def _doctor(args: argparse.Namespace) -> int:
    from okai_insight._store_runner import is_store
    from okai_insight.diagnostics.doctor import DoctorReport, doctor

    if args.url is not None and is_store(args.url):  # a SQLite file: its own health check (sqlite_health)
        from okai_insight.diagnostics.sqlite_health import sqlite_health

        report = DoctorReport([sqlite_health(args.url)])
    else:
        report = doctor(args.url, checks=args.check or None)
    if args.format == "json":
        print(report.to_json())
    elif args.format == "csv":  # the findings table, one row per problem
        print(format_rows(report.rows(), "csv"), end="")
    else:
        print_findings(report.to_text(verbose=args.verbose), no_color=getattr(args, "no_color", False))
    return report.exit_code


def _settings_arg(values: list[str] | None) -> dict[str, str]:
    from okai_insight.errors import InvalidInput

    out: dict[str, str] = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInput(f"--set takes name=value (e.g. hnsw.ef_search=100), got {item!r}")
        out[name.strip()] = value.strip()
    return out


def _explain(args: argparse.Namespace) -> int:
    from pathlib import Path

    from okai_insight.diagnostics._explain_gate import bind_dollar_params
    from okai_insight.diagnostics.explain import compare_settings, explain
    from okai_insight.errors import InvalidInput

    if (args.query is None) == (args.file is None):
        raise InvalidInput("give the statement with --query SQL or --file PATH (one of them)")
    query = args.query if args.query is not None else Path(args.file).read_text(encoding="utf-8")
    options: dict[str, Any] = {"allow_writes": args.allow_writes}
    if args.param is not None:  # $1.. get these values as bound parameters (never pasted into the text)
        query, options["params"] = bind_dollar_params(query, args.param)
    if args.timeout_ms is not None:
        options["timeout_ms"] = args.timeout_ms
    before = _settings_arg(args.set)
    if args.compare:
        result: Result = compare_settings(
            args.url, query, _settings_arg(args.compare), before_settings=before, analyze=args.analyze, **options
        )
        plans = result.plans  # type: ignore[attr-defined]
        if args.format == "json":
            print(
                json.dumps(
                    {"comparison": result.to_dict(), "before": plans[0].to_dict(), "after": plans[1].to_dict()},
                    indent=2,
                    default=str,
                )
            )
        elif args.format == "csv":  # the nodes of both plans, each row saying which
            rows = [
                {"plan": which, **row} for which, p in zip(("before", "after"), plans, strict=True) for row in p.rows
            ]
            print(format_rows(rows, "csv"), end="")
        else:
            text = "\n\n".join([plans[0].to_text(), plans[1].to_text(), result.to_text(max_width=80)])
            print_findings(text, no_color=getattr(args, "no_color", False))
        worst = [r.worst_severity for r in (result, *plans)]
    else:
        result = explain(args.url, query, analyze=args.analyze, settings=before, **options)
        if args.format == "json":
            print(json.dumps(result.to_dict(), indent=2, default=str))
        elif args.format == "csv":  # the plan nodes, one row each
            print(format_rows(result.rows, "csv"), end="")
        else:
            print_findings(result.to_text(), no_color=getattr(args, "no_color", False))
        worst = [result.worst_severity]
    return 1 if "critical" in worst else 0


def _add_explain_command(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "explain",
        help="EXPLAIN one statement and say what is wrong with its plan (pev2 / depesz style, pgvector-aware)",
        description="Run EXPLAIN (FORMAT JSON) on one statement and analyse the plan: where the time goes, row "
        "misestimates, filters that discard most rows, sequential scans of large tables, sorts and hashes "
        "spilling to disk, loops, heap fetches, and vector searches the HNSW index cannot serve. --analyze runs "
        "the statement (READ ONLY, rolled back); statements that write are refused unless --allow-writes. "
        "Exit status 1 on critical findings.",
        epilog="examples:\n"
        "  okai-insight explain --query \"SELECT count(*) FROM memories WHERE type = 'messages'\" --analyze\n"
        "  okai-insight explain postgresql://me@localhost/agents --file search.sql --analyze --format json\n"
        '  okai-insight explain --query "SELECT id FROM memories ORDER BY embedding <=> (SELECT embedding FROM '
        'memories LIMIT 1) LIMIT 50" --analyze --compare hnsw.ef_search=100\n'
        "  okai-insight explain --query 'SELECT * FROM memories WHERE \"roomId\" = $1'  "
        "(a generic plan, PostgreSQL 16+)\n"
        "  okai-insight explain --query 'SELECT * FROM memories WHERE \"roomId\" = $1' --param 0b6c... --analyze",
        formatter_class=Formatter,
    )
    add_url_argument(p)
    p.add_argument("--query", "-q", help="the statement (one)")
    p.add_argument("--file", "-f", help="read the statement from this file")
    p.add_argument("--analyze", action="store_true", help="execute it (READ ONLY, rolled back) for actual numbers")
    p.add_argument("--allow-writes", action="store_true", help="with --analyze: run INSERT/UPDATE/DELETE, rolled back")
    p.add_argument(
        "--param",
        action="append",
        metavar="VALUE",
        help="the value of $1, then $2, ... (repeatable; sent as a bound parameter, typed by the server)",
    )
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="a setting for this statement (repeatable)")
    p.add_argument(
        "--compare", action="append", metavar="NAME=VALUE", help="explain again with this setting and compare the plans"
    )
    p.add_argument("--timeout-ms", type=int, help="statement_timeout for this statement (default 5000)")
    add_format_argument(p)
    p.set_defaults(func=_explain)


def _numeric_options(check: Callable[..., Result]) -> list[tuple[inspect.Parameter, type]]:
    """The check's keyword-only int/float parameters (its thresholds and limits), each with its type: the CLI
    offers them as ``--name-in-dashes`` with the function's own default, so a default is stated once."""
    kinds: dict[str, type] = {"int": int, "float": float}
    out = []
    for param in inspect.signature(check).parameters.values():
        kind = kinds.get(
            param.annotation if isinstance(param.annotation, str) else getattr(param.annotation, "__name__", "")
        )
        if param.kind is param.KEYWORD_ONLY and kind is not None and isinstance(param.default, (int, float)):
            out.append((param, kind))
    return out


_UNITS = {"_ms": ("MS", " in milliseconds"), "_bytes": ("BYTES", " in bytes")}


def _add_numeric_options(p: argparse.ArgumentParser, check: Callable[..., Result]) -> list[str]:
    names = []
    for param, kind in _numeric_options(check):
        words, (metavar, unit) = param.name, ("N", "")
        for suffix, spelled in _UNITS.items():
            if words.endswith(suffix):
                words, (metavar, unit) = words.removesuffix(suffix), spelled
        p.add_argument(
            "--" + param.name.replace("_", "-"),
            type=kind,
            default=param.default,
            metavar=metavar,
            help=f"{words.replace('_', ' ')}{unit} (default {param.default}, {check.__name__}'s own)",
        )
        names.append(param.name)
    return names


def _single(check: Callable[..., Result], options: Sequence[str] = ()) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from okai_insight.errors import InvalidInput

        values = {name: getattr(args, name) for name in options}
        for name, value in values.items():
            # Every threshold and limit of a diagnostic is a count, a size, a duration or a ratio: never negative.
            if not math.isfinite(value) or value < 0:
                raise InvalidInput(f"--{name.replace('_', '-')} takes a number >= 0, got {value}")
        result = check(args.url, **values)
        if args.format == "json":
            print(json.dumps(result.to_dict(), indent=2, default=str))
        elif args.format == "csv":
            print(format_rows(result.to_dict()["rows"], "csv"), end="")
        else:
            print_findings(result.to_text(max_rows=200), no_color=getattr(args, "no_color", False))
        return 1 if result.worst_severity == "critical" else 0

    return handler


def add_commands(subparsers: Any) -> None:
    """Add ``doctor`` and one subcommand per diagnostic to the CLI."""
    from okai_insight.diagnostics import registry
    from okai_insight.diagnostics.doctor import check_names

    p = subparsers.add_parser(
        "doctor",
        help="run every diagnostic and print the findings (exit 1 on critical ones)",
        description="Check a memory database the way a PostgreSQL expert would: activity, connections, "
        "statements, indexes, space, maintenance, replication, settings and pgvector. Read-only: every query "
        "runs in a READ ONLY transaction with a statement timeout and is rolled back.",
        epilog="examples:\n  okai-insight doctor\n  okai-insight doctor postgresql://me@localhost/agents\n"
        "  okai-insight doctor --format json > report.json\n  okai-insight doctor --format csv > findings.csv\n"
        "  okai-insight doctor --check vector_queries --check duplicate_indexes",
        formatter_class=Formatter,
    )
    add_url_argument(p)
    add_format_argument(p)
    p.add_argument("--verbose", action="store_true", help="also print every check's rows")
    p.add_argument("--check", action="append", choices=check_names(), help="run only this check (repeatable)")
    p.set_defaults(func=_doctor)
    _add_explain_command(subparsers)

    # every registered diagnostic, doctor's and the others; the embedding checks have their own subcommands
    for entry in registry.entries(exclude=("embeddings",)):
        check, title = entry.function, entry.title
        doc = (check.__doc__ or title).strip().split("\n\n")[0]
        sp = subparsers.add_parser(
            check.__name__,
            help=f"diagnostic: {title.lower()}",
            description=" ".join(doc.split()),
            epilog=f"example:\n  okai-insight {command_spelling(check.__name__)} --format json",
            formatter_class=Formatter,
        )
        add_url_argument(sp)
        add_format_argument(sp)
        options = _add_numeric_options(sp, check)
        durations = [name for name in options if name.endswith("_ms")]
        if durations:
            sp.epilog = f"{sp.epilog}\n  okai-insight {command_spelling(check.__name__)} --{durations[0].replace('_', '-')} 5000"
        sp.set_defaults(func=_single(check, options))
