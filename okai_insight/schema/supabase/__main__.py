"""Print the Supabase migration: ``python -m okai_insight.schema.supabase --dimension 1536 > okai.sql``."""

from __future__ import annotations

import argparse
import sys

from okai_insight.errors import OkaiError
from okai_insight.schema.supabase._render import render


def main(argv: list[str] | None = None) -> int:
    """Write the migration for ``--dimension`` (default 384) to standard output.

    Example:
        >>> main(["--dimension", "8"])                      # doctest: +SKIP
        0
    """
    parser = argparse.ArgumentParser(prog="python -m okai_insight.schema.supabase", description=__doc__)
    parser.add_argument("--dimension", type=int, default=384, help="embedding dimension (default 384)")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(render(args.dimension))
    except OkaiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
