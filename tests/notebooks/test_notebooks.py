"""Every shipped notebook runs top to bottom with papermill on a fresh demo database, and the report exports to
HTML without code cells, with every section present."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from okai_insight.report import NOTEBOOKS, build_report, execute_notebook, notebook_path, notebooks_dir

PARAMS = {"sample": 300, "queries": 20}


def _outputs(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                raise AssertionError(f"cell raised {out['ename']}: {out['evalue']}")
            parts.append(str(out.get("text", "")))
            parts += [f"{k}\n{v}" for k, v in out.get("data", {}).items()]
    return "\n".join(parts)


def test_every_notebook_is_shipped_with_a_parameters_cell_and_prose() -> None:
    assert sorted(p.stem for p in notebooks_dir().glob("*.ipynb")) == sorted(NOTEBOOKS)
    for name in NOTEBOOKS:
        nb = nbformat.read(notebook_path(name), as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert "url = None" in tagged[0].source, name
        prose = [c for c in nb.cells if c.cell_type == "markdown"]
        assert prose and len(prose[0].source.split()) >= 25, f"{name} explains itself in a few lines"
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{name} is stored clean"


EXPECTED = {
    "01-health-check": ["critical:", "okai-findings", "application/vnd.jupyter.widget-view+json"],
    "02-indexes-and-plans": ["Index usage", "Vector indexes", "idx_memories_embedding"],
    "03-embedding-explorer": ["Embedding quality", "image/png", "cosine_similarity"],
    "04-threshold-and-recall-tuning": ["best_threshold", "recall_at_k", "image/png"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_top_to_bottom_on_a_url(name: str, demo_url: str, tmp_path: Path) -> None:
    out = execute_notebook(name, tmp_path / f"{name}.ipynb", {"url": demo_url, **PARAMS}, cwd=tmp_path)
    nb = nbformat.read(out, as_version=4)
    text = _outputs(nb)
    database = re.search(r"/(nbdemo_[0-9a-f]+)\?", demo_url)
    assert database is not None
    assert database.group(1) in text, "the notebook looked at the database it was given"
    for expected in EXPECTED[name]:
        assert expected in text, f"{name}: {expected!r} missing from the outputs"


def test_report_html_has_every_section_and_no_code(demo_url: str, tmp_path: Path) -> None:
    html = build_report(demo_url, tmp_path / "report.html", **PARAMS).read_text()
    for heading in ("Health summary", "What to fix first", "Statements", "Indexes", "Space and maintenance",
                    "pgvector: vector indexes", "Recall at the current settings", "Embedding quality",
                    "Projection of the memories", "Threshold guidance"):  # fmt: skip
        assert f">{heading}<" in html, heading
    assert "Not available:" not in html, "every section was built"
    code = html.find("import okai_insight")
    assert code == -1, f"code cells are excluded: {html[max(0, code - 300) : code + 100]!r}"
    assert "jp-InputArea-editor" not in html.split("</style>")[-1], "no code editor areas"
    assert html.count("data:image/png;base64,") >= 4, "norm, recall, projection and threshold plots"
    assert "recall@" in html or "recall_at_k" in html
    assert "best_threshold" in html
