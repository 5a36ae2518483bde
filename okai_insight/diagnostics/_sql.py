"""Where the diagnostics modules import the SQL library's loader from; it lives in the public
:mod:`okai_insight.query_files` (embedding checks and ops read the same files).

Example:
    >>> from okai_insight.diagnostics._sql import load_sql
    >>> "SELECT" in load_sql("indexes", "invalid_indexes")
    True
"""

from __future__ import annotations

from okai_insight.query_files import all_queries, defaults, jupysql_text, load_sql, queries_dir

__all__ = ["all_queries", "defaults", "jupysql_text", "load_sql", "queries_dir"]
