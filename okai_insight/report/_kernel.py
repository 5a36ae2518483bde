"""A Jupyter kernel that is this Python: papermill runs the notebooks in the interpreter okai-insight runs in.

A fresh virtualenv has no kernel registered anywhere, and a user's ``python3`` kernel may point at another
Python without okai-insight. :func:`this_python_kernel` writes a kernel spec for ``sys.executable`` into a
temporary directory placed first on ``JUPYTER_PATH`` for the duration of the block, and yields its name, which
the caller passes to papermill as ``kernel_name``.

Example:
    >>> with this_python_kernel() as name:
    ...     name
    'okai-insight-python'
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from okai_insight.errors import FeatureNotAvailable

KERNEL_NAME = "okai-insight-python"


def _require_ipykernel() -> None:
    try:
        import ipykernel  # noqa: F401
    except ImportError as exc:
        raise FeatureNotAvailable(
            "the report needs the notebook extra (ipykernel, papermill, nbconvert): "
            "pip install 'okai-insight[notebook]'"
        ) from exc


@contextmanager
def this_python_kernel() -> Iterator[str]:
    """Register ``sys.executable`` as kernel ``okai-insight-python`` for the duration of the block.

    Example:
        >>> with this_python_kernel() as name:
        ...     from jupyter_client.kernelspec import KernelSpecManager
        ...     KernelSpecManager().get_kernel_spec(name).argv[0] == sys.executable
        True
    """
    _require_ipykernel()
    with tempfile.TemporaryDirectory(prefix="okai-kernel-") as tmp:
        spec_dir = Path(tmp) / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True)
        spec = {
            "argv": [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                "{connection_file}",
                "--IPKernelApp.log_level=ERROR",
            ],
            "display_name": "Python (okai-insight)",
            "language": "python",
            "metadata": {"debugger": False},
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
        before = os.environ.get("JUPYTER_PATH")
        os.environ["JUPYTER_PATH"] = tmp + (os.pathsep + before if before else "")
        try:
            yield KERNEL_NAME
        finally:
            if before is None:
                os.environ.pop("JUPYTER_PATH", None)
            else:
                os.environ["JUPYTER_PATH"] = before
