"""okai-insight's Voila template ("okai"): Voila's "lab" template without its FontAwesome links to a CDN, so a
dashboard page loads nothing from outside the machine (Voila's bundled JavaScript carries the icon font already).

The template lives in this package (``jupyter_data/voila/templates/okai``). A wheel also installs it where Jupyter
looks by default (``share/jupyter/voila/templates/okai``, pyproject's shared-data); an editable checkout finds it
through ``JUPYTER_PATH``, which :func:`jupyter_path` builds and ``okai-insight lab`` sets.

Example:
    >>> (jupyter_data_dir() / "voila" / "templates" / TEMPLATE / "conf.json").is_file()
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

#: The template's name, as given to ``voila --template=okai`` or ``VoilaConfiguration.template`` (voila.json).
TEMPLATE = "okai"


def jupyter_data_dir() -> Path:
    """The Jupyter data directory inside the package that holds the ``okai`` Voila template.

    Example:
        >>> jupyter_data_dir().name
        'jupyter_data'
    """
    return Path(__file__).resolve().parent / "jupyter_data"


def jupyter_path(environ: Mapping[str, str] | None = None) -> str:
    """A ``JUPYTER_PATH`` value that finds the ``okai`` template first and keeps the given one after it (Jupyter
    searches these before its own data directories, so a user's own templates still win under their own names).

    Example:
        >>> jupyter_path({"JUPYTER_PATH": "/srv/jupyter"}).split(os.pathsep)[1]
        '/srv/jupyter'
    """
    environ = os.environ if environ is None else environ
    existing = [p for p in environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    ours = str(jupyter_data_dir())
    return os.pathsep.join([ours, *[p for p in existing if p != ours]])
