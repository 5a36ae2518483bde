"""Execute a notebook with papermill and export it to HTML without its code cells.

Example:
    >>> build_report("postgresql://me@localhost/agents", "report.html")     # doctest: +SKIP
    PosixPath('report.html')
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from okai_insight.errors import FeatureNotAvailable, OkaiError
from okai_insight.report._kernel import this_python_kernel
from okai_insight.report._paths import notebook_path

_WIDGET = "application/vnd.jupyter.widget-view+json"


class NotebookFailed(OkaiError):
    """A notebook cell raised while the report was being executed (the message names the cell's error)."""


def execute_notebook(
    notebook: str | Path,
    output: str | Path,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | Path | None = None,
    timeout_s: int = 600,
) -> Path:
    """Run ``notebook`` (a shipped notebook's name or a path) top to bottom with papermill in a kernel of this
    Python, with ``parameters`` injected, and write the executed copy to ``output``.

    Example:
        >>> execute_notebook("01-health-check", "/tmp/out.ipynb", {"url": url})   # doctest: +SKIP
        PosixPath('/tmp/out.ipynb')
    """
    try:
        import papermill
        from papermill.exceptions import PapermillExecutionError
    except ImportError as exc:
        raise FeatureNotAvailable(
            "running notebooks needs the notebook extra: pip install 'okai-insight[notebook]'"
        ) from exc
    source = Path(notebook) if str(notebook).endswith(".ipynb") else notebook_path(str(notebook))
    out = Path(output)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    with this_python_kernel() as kernel, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jupyter_client / zmq deprecation chatter is not the user's business
        try:
            papermill.execute_notebook(
                str(source),
                str(out),
                parameters=dict(parameters or {}),
                kernel_name=kernel,
                progress_bar=False,
                cwd=str(cwd) if cwd is not None else None,
                execution_timeout=timeout_s,
            )
        except PapermillExecutionError as exc:
            raise NotebookFailed(
                f"{source.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} (executed copy: {out})"
            ) from exc
    return out


def export_html(executed: str | Path, output: str | Path, *, title: str = "okai-insight report") -> Path:
    """Export an executed notebook to a standalone HTML file without code cells or prompts.

    Example:
        >>> export_html("/tmp/out.ipynb", "report.html")           # doctest: +SKIP
        PosixPath('report.html')
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    nb.metadata.pop("widgets", None)  # progress-bar widget state is for the kernel session, not the reader
    for cell in nb.cells:  # stderr and progress bars are for the console, not for the reader
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                o for o in cell.get("outputs", []) if o.get("name") != "stderr" and _WIDGET not in o.get("data", {})
            ]
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)  # type: ignore[no-untyped-call]
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body, encoding="utf-8")
    return out


def build_report(
    url: str | None = None,
    output: str | Path = "report.html",
    *,
    sample: int = 2000,
    queries: int = 50,
    keep_notebook: str | Path | None = None,
) -> Path:
    """``okai-insight report``: execute ``report.ipynb`` on ``url`` (None: the embedded default with the demo
    dataset loaded) and write the HTML report (no code cells) to ``output``; returns its path.

    ``sample`` bounds the embeddings read for the projection, ``queries`` the sampled queries of the tuners.
    ``keep_notebook`` also keeps the executed notebook there.

    Example:
        >>> build_report(None, "report.html")                      # doctest: +SKIP
        PosixPath('report.html')
    """
    from okai_insight.report._open import open_target
    from okai_insight.validation import check_count

    check_count(sample, "sample", minimum=1, maximum=1_000_000)
    check_count(queries, "queries", minimum=1, maximum=10_000)
    target = open_target(url)
    with tempfile.TemporaryDirectory(prefix="okai-report-") as tmp:
        executed = Path(keep_notebook) if keep_notebook else Path(tmp) / "report.ipynb"
        execute_notebook(
            "report",
            executed,
            {"url": target.url, "demo": target.demo, "sample": sample, "queries": queries},
            cwd=tmp,
        )
        return export_html(executed, output)
