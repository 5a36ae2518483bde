"""The widgets and the report share one formatting module (okai_insight.presentation) and use none of each
other's modules; the shared module depends on neither."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_layers import imported_names

PACKAGE = Path(__file__).resolve().parents[1] / "okai_insight"
FORBIDDEN = {
    "jupyter": ("okai_insight.report",),
    "report": ("okai_insight.jupyter",),
    "presentation": ("okai_insight.report", "okai_insight.jupyter", "okai_insight.cli"),
}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_presentation_packages_do_not_use_each_other(package: str) -> None:
    crossings = []
    for path in sorted((PACKAGE / package).rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        for line, name in imported_names(path.read_text(encoding="utf-8"), module):
            if name.startswith(FORBIDDEN[package]):
                crossings.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert crossings == []
