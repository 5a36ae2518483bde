"""Execute a notebook with papermill and export it to HTML without its code cells.

Example:
    >>> build_report("postgresql://me@localhost/agents", "report.html")     # doctest: +SKIP
    PosixPath('report.html')
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from okai_insight._redact import redact
from okai_insight.embeddings.recall import DEFAULT_QUERIES
from okai_insight.errors import FeatureNotAvailable, OkaiError
from okai_insight.report._kernel import this_python_kernel
from okai_insight.report._paths import notebook_path
from okai_insight.report._standalone import self_contained

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
            _redact_outputs(out)
            raise NotebookFailed(
                redact(
                    f"{source.name} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue} (executed copy: {out})"
                )
            ) from None  # papermill's own message repeats the cell's traceback, which may quote the URL
    _redact_outputs(out)
    return out


def _redact_outputs(executed: Path) -> None:
    """Mask secrets in an executed notebook's outputs (an error's traceback can quote a database URL)."""
    import nbformat

    if not executed.exists():
        return
    nb = nbformat.read(str(executed), as_version=4)  # type: ignore[no-untyped-call]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = redact(str(output["text"]))
            if "evalue" in output:
                output["evalue"] = redact(str(output["evalue"]))
            if "traceback" in output:
                output["traceback"] = [redact(line) for line in output["traceback"]]
            for kind, value in output.get("data", {}).items():
                if kind.startswith("text/"):
                    output["data"][kind] = redact(value if isinstance(value, str) else "".join(value))
    nbformat.write(nb, str(executed))  # type: ignore[no-untyped-call]


def _check_reachable(url: str) -> None:
    """Connect once the way the notebook's diagnostics will, so an unreachable or malformed URL fails in a
    fraction of a second with the library's own error instead of after a kernel has started."""
    from okai_insight.diagnostics import Runner

    with Runner(url):
        pass


@contextmanager
def _kernel_environment(name: str, value: str) -> Iterator[None]:
    """Set an environment variable for the kernels started in the block (they inherit this process's
    environment), and restore it afterwards."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def export_html(
    executed: str | Path,
    output: str | Path,
    *,
    title: str = "okai-insight report",
    about: str = "(not given)",
) -> Path:
    """Export an executed notebook to one HTML file without code cells or prompts that works offline: no script
    (no CDN, MathJax or require.js), a head with the time it was made, the database ``about`` (the caller masks
    it; it is redacted again here) and a table of contents.

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
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = self_contained(body, about=redact(about), generated=generated)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(redact(body), encoding="utf-8")  # the last wall: no password or key leaves in the HTML
    return out


def build_report(
    url: str | None = None,
    output: str | Path = "report.html",
    *,
    sample: int = 2000,
    queries: int = DEFAULT_QUERIES,
    keep_notebook: str | Path | None = None,
) -> Path:
    """``okai-insight report``: execute ``report.ipynb`` on ``url`` (None: ``OKAI_DATABASE_URL``, else the demo's
    own database ``okai_demo`` on the embedded server, loaded if needed; never the server's default ``okai``) and
    write the HTML report (no code cells) to ``output``; returns its path.

    ``sample`` bounds the embeddings read for the projection, ``queries`` the sampled queries of the tuners
    (the CLI's, notebook's and widget's default too, so the report's headline advice is theirs).
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
    _check_reachable(target.url)
    # The URL reaches the kernel through its environment, never as a papermill parameter: parameters are
    # written into the executed notebook (its injected cell and metadata), which a kept notebook or the HTML
    # would then carry. Only the embedded demo database (whose URL holds no password) goes as a parameter.
    parameters = {"url": target.url if target.demo else None, "demo": target.demo, "sample": sample}
    with (
        tempfile.TemporaryDirectory(prefix="okai-report-") as tmp,
        _kernel_environment("OKAI_DATABASE_URL", target.url),
    ):
        executed = Path(keep_notebook) if keep_notebook else Path(tmp) / "report.ipynb"
        execute_notebook("report", executed, parameters | {"queries": queries}, cwd=tmp)
        return export_html(executed, output, about=target.display)
