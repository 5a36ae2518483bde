"""Every shipped notebook runs top to bottom with papermill on a fresh demo database, and the report exports to
HTML without code cells, with every section present."""

from __future__ import annotations

import re
from html.parser import HTMLParser
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
    "dashboard": ["database:", "application/vnd.jupyter.widget-view+json"],
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


@pytest.fixture(scope="module")
def report_html(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_report(demo_url, tmp_path_factory.mktemp("report") / "report.html", **PARAMS).read_text()


def test_report_html_has_every_section_and_no_code(report_html: str) -> None:
    html = report_html
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


class _Page(HTMLParser):
    """What a browser would fetch or follow: every src/href, every script, every id, the table of contents' links."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.scripts = 0
        self.ids: set[str] = set()
        self.toc: list[str] = []
        self._in_toc = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.scripts += tag == "script"
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "nav" and "okai-toc" in (a.get("class") or ""):
            self._in_toc = True
        if self._in_toc and tag == "a" and a.get("href"):
            self.toc.append(str(a["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_toc = False


def test_report_is_one_self_contained_file(report_html: str, demo_url: str) -> None:
    # Before: nbconvert's template loaded require.js and MathJax from cdnjs, the head named neither time nor
    # database, and there was no table of contents.
    page = _Page()
    page.feed(report_html)
    assert page.scripts == 0, "no script at all: no MathJax, no require.js, no mermaid"
    for marker in ("cdnjs", "jsdelivr", "unpkg", "MathJax", "require.min.js"):
        assert marker not in report_html, marker
    external = [u for u in page.links if re.match(r"(?i)(https?:)?//", u)]
    assert external == [], external
    assert all(u.startswith(("#", "data:")) for u in page.links), page.links
    assert len(page.toc) >= 10 and all(h.startswith("#") and h[1:] in page.ids for h in page.toc), page.toc
    database = re.search(r"/(nbdemo_[0-9a-f]+)\?", demo_url)
    assert database is not None
    head = report_html[report_html.index("okai-report-head") :]
    assert database.group(1) in head[:2000], "the head names the database"
    assert re.search(r"<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>", report_html), "a timestamp"
    # findings first: the health summary and the fixes come before any detail section
    assert report_html.index(">What to fix first<") < report_html.index(">Statements<")
    assert report_html.index("okai-report-head") < report_html.index(">Health summary<")
