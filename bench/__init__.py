"""okai-insight's benchmarks: ``python -m bench`` (or ``make bench``) runs them and rewrites docs/benchmarks.md."""

from bench.adapter import Config, Results, run

__all__ = ["Config", "Results", "run"]
