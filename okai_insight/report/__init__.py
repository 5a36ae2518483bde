"""The diagnostic report: the report notebook executed with papermill and exported to HTML without code, and the
sections it is made of (each built from the library's result objects).

Example:
    >>> from okai_insight.report import build_report
    >>> build_report(None, "report.html")                         # doctest: +SKIP
    PosixPath('report.html')
"""

from okai_insight._renamed import renamed
from okai_insight.report._build import NotebookFailed, build_report, execute_notebook, export_html
from okai_insight.report._kernel import this_python_kernel
from okai_insight.report._open import ReportTarget, open_target
from okai_insight.report._paths import NOTEBOOKS, notebook_path, notebooks_dir
from okai_insight.report._render import STYLE, Section
from okai_insight.report._sections import (
    health_summary,
    history_section,
    indexes_section,
    projection_section,
    quality_section,
    recall_section,
    space_section,
    statements_section,
    threshold_section,
    top_findings,
    vector_section,
)

__all__ = [
    "NOTEBOOKS",
    "STYLE",
    "NotebookFailed",
    "ReportTarget",
    "Section",
    "build_report",
    "execute_notebook",
    "export_html",
    "health_summary",
    "history_section",
    "indexes_section",
    "notebook_path",
    "notebooks_dir",
    "open_target",
    "projection_section",
    "quality_section",
    "recall_section",
    "space_section",
    "statements_section",
    "this_python_kernel",
    "threshold_section",
    "top_findings",
    "vector_section",
]

#: ``Target`` was renamed ``ReportTarget``: "target" is any database a diagnostic takes (``okai_insight.runner.Target``).
__getattr__ = renamed(__name__, {"Target": ("ReportTarget", ReportTarget)})
