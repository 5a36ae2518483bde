from okai_insight.cli import main

raise SystemExit(main())
