"""Where the notebooks live: ``./notebooks`` in a source checkout, ``okai_insight/notebooks`` in an installed wheel.

Example:
    >>> notebook_path("report").name
    'report.ipynb'
"""

from __future__ import annotations

from pathlib import Path

from okai_insight.errors import InvalidInput

#: The notebooks that ship, in reading order.
NOTEBOOKS = (
    "01-health-check",
    "02-indexes-and-plans",
    "03-embedding-explorer",
    "04-threshold-and-recall-tuning",
    "report",
    "dashboard",
)
_PACKAGE = Path(__file__).resolve().parent.parent


def notebooks_dir() -> Path:
    """The directory holding the notebooks: the wheel's copy, else the repository's ``notebooks/``.

    Example:
        >>> (notebooks_dir() / "report.ipynb").exists()
        True
    """
    for candidate in (_PACKAGE / "notebooks", _PACKAGE.parent / "notebooks"):
        if (candidate / "report.ipynb").is_file():
            return candidate
    raise FileNotFoundError(
        f"the okai-insight notebooks are missing (looked in {_PACKAGE / 'notebooks'} and "
        f"{_PACKAGE.parent / 'notebooks'}): reinstall okai-insight"
    )


def notebook_path(name: str) -> Path:
    """The path of one shipped notebook by name (with or without ``.ipynb``).

    Example:
        >>> notebook_path("01-health-check.ipynb").stem
        '01-health-check'
    """
    stem = name.removesuffix(".ipynb")
    if stem not in NOTEBOOKS:
        raise InvalidInput(f"no notebook named {name!r} (notebooks: {', '.join(NOTEBOOKS)})")
    return notebooks_dir() / f"{stem}.ipynb"
