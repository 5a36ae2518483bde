"""``python -m bench``: run every benchmark and rewrite ``docs/benchmarks.md``.

``--quick`` runs small sizes as a smoke test and prints the Markdown instead of writing the docs (unless
``--output`` is given).

Example:
    $ python -m bench                       # the full run, ~5 minutes on 2 cores
    $ python -m bench --quick               # a smoke test, well under a minute
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

from bench._report import render
from bench.adapter import Config, run

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, write the report; returns the exit code.

    Example:
        >>> main(["--quick", "--output", "/tmp/bench.md"])     # doctest: +SKIP
        0
    """
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, print instead of writing the docs")
    parser.add_argument("--rows", type=int, help="memories to store (default 100000; quick 4000)")
    parser.add_argument("--dim", type=int, help="embedding dimensions (default 384; quick 64)")
    parser.add_argument("--queries", type=int, help="search queries (default 300; quick 40)")
    parser.add_argument("--output", type=Path, help=f"where to write the Markdown (default {DOCS}; quick: stdout)")
    parser.add_argument("--work-dir", help="where the temporary PostgreSQL cluster goes (default: the temp dir)")
    args = parser.parse_args(args_list)
    config = Config.quick() if args.quick else Config()
    overrides = {k: v for k, v in (("rows", args.rows), ("dim", args.dim), ("queries", args.queries)) if v}
    config = dataclasses.replace(config, **overrides)
    results = run(config, work_dir=args.work_dir)
    text = render(results, command=shlex.join(["python", "-m", "bench", *args_list]))
    output = args.output or (None if args.quick else DOCS)
    if output is None:
        print(text)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
