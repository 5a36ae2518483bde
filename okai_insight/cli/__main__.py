"""``python -m okai_insight.cli``: the same command line as ``okai-insight``."""

from okai_insight.cli import main

raise SystemExit(main())
