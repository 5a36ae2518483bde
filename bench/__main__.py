"""``python -m bench`` (``make bench``): run every benchmark and rewrite its section of ``docs/benchmarks.md``.

The adapter benchmark (bench/adapter.py) runs here and owns the first section, between
``<!-- bench.adapter:start -->`` and ``<!-- bench.adapter:end -->``; the other benchmarks in ``bench/`` run after it,
each as its own ``python -m bench.<name>`` writing its own section, so sections never overwrite each other.
``--quick`` runs the adapter benchmark at small sizes as a smoke test and prints its Markdown instead of writing
the docs (unless ``--output`` is given).

Example:
    $ python -m bench                       # everything, rewriting docs/benchmarks.md
    $ python -m bench --only adapter        # the adapter benchmark alone (~4 minutes on 2 cores)
    $ python -m bench --quick               # a smoke test, well under a minute
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import shlex
import subprocess
import sys
from pathlib import Path

from bench import _sections as sections
from bench._report import render
from bench.adapter import Config, run

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
#: The other benchmarks `python -m bench` runs after the adapter benchmark, and how each records its section.
OTHERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("bench.adapters_lite", ("--record",)),
    ("bench.embeddings", ()),
    ("bench.peers", ()),  # the full 100,000 x 384 and 50,000 x 1536 comparison, ~6 min on 2 quiet cores
    ("bench.ef_search", ("--record",)),  # the default hnsw_ef_search's evidence: two HNSW builds and sweeps
)


def write_section(section: str, path: Path = DOCS) -> None:
    """Put the adapter section first in ``path`` (after the title), leaving every other section alone.

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "b.md"; write_section("## Adapter\\nnew\\n", p)
        >>> p.read_text().startswith("# Benchmarks")
        True
    """
    sections.write_section(path, "bench.adapter", section, first=True)


def run_others() -> int:
    """Run the other benchmarks in ``bench/`` that exist, each recording its own section; returns failures.

    Example:
        >>> run_others()                                  # doctest: +SKIP
        0
    """
    failures = 0
    for module, args in OTHERS:
        if importlib.util.find_spec(module) is None:
            continue
        print(f"[bench] python -m {module} {' '.join(args)}", file=sys.stderr, flush=True)
        if subprocess.run([sys.executable, "-m", module, *args], check=False).returncode != 0:
            print(f"[bench] {module} failed", file=sys.stderr, flush=True)
            failures += 1
    return failures


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, write the report; returns the exit code.

    Example:
        >>> main(["--quick", "--output", "/tmp/bench.md"])     # doctest: +SKIP
        0
    """
    args_list = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, adapter benchmark only, print the Markdown")
    parser.add_argument("--only", choices=["adapter"], help="run only this benchmark")
    parser.add_argument("--rows", type=int, help="memories to store (default 100000; quick 4000)")
    parser.add_argument("--dim", type=int, help="embedding dimensions (default 384; quick 64)")
    parser.add_argument("--queries", type=int, help="search queries (default 400; quick 40)")
    parser.add_argument("--output", type=Path, help=f"the Markdown file to update (default {DOCS}; quick: stdout)")
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
        write_section(text, output)
        print(f"[bench] wrote {output}", file=sys.stderr)
    if args.quick or args.only or args.output:
        return 0
    return 1 if run_others() else 0


if __name__ == "__main__":
    raise SystemExit(main())
