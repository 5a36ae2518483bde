"""The embedding explorer (jupyter-scatter) in Voila, driven like a user in headless Chromium: hovering a point
shows its memory's text and names, clicking it lists its nearest neighbours (from the kernel), the toolbar lasso
selects many, search and the cluster list select from Python, and colouring by agent changes the legend.

How points are found: jupyter-scatter draws with WebGL and exposes no point positions to the page, so the test
reads the map's pixels (a screenshot of the canvas) and moves the mouse onto a coloured pixel; regl-scatterplot
then hit-tests in data space (the hover is real, not simulated). The tests share one page, in file order.
"""

from __future__ import annotations

import io
import itertools
import math
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import Console

LOAD_MS = 240_000  # the projection (UMAP's first compile in a fresh kernel) takes 20-60 s on a loaded 2-core box
STEP_MS = 60_000

#: The tooltip jupyter-scatter draws (absolute, no pointer events, rounded); its opacity is 1 while shown.
TOOLTIP_JS = """() => { const t = [...document.querySelectorAll('.okai-explorer div')].find(d =>
  d.style.pointerEvents === 'none' && d.style.borderRadius === '0.2rem' && d.style.position === 'absolute');
  return t ? {opacity: t.style.opacity, text: t.innerText} : null; }"""


@pytest.fixture(scope="module")
def page(browser: Any, voila: str) -> Iterator[Any]:
    p = browser.new_page(viewport={"width": 1280, "height": 1400})
    p.console = Console(p)
    p.goto(f"{voila}voila/render/explorer.ipynb", wait_until="load", timeout=LOAD_MS)
    p.locator(".okai-explorer canvas").first.wait_for(timeout=LOAD_MS)
    deadline = time.monotonic() + STEP_MS / 1000
    while len(_coloured_pixels(p)) < 20:  # the points are drawn a moment after the canvas appears
        assert time.monotonic() < deadline, "the map stayed blank"
        p.wait_for_timeout(500)
    yield p
    p.close()


def _info(page: Any) -> str:
    """The explorer's one-line status (the Python side's answer to the last interaction)."""
    return str(page.locator(".okai-explorer > .widget-html").first.inner_text())


def _wait_info(page: Any, pattern: str) -> re.Match[str]:
    page.wait_for_function(
        "(p) => new RegExp(p).test(document.querySelector('.okai-explorer > .widget-html').innerText)",
        arg=pattern,
        timeout=STEP_MS,
    )
    m = re.search(pattern, _info(page))
    assert m, _info(page)
    return m


def _coloured_pixels(page: Any) -> list[tuple[float, float]]:
    """Page coordinates of saturated (point-coloured) pixels in the middle of the map, away from the legend."""
    from PIL import Image

    canvas = page.locator(".okai-explorer canvas").first
    box = canvas.bounding_box()
    img = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
    legend = page.evaluate(
        "() => { const ls = [...document.querySelectorAll('.okai-explorer div')].filter(d => d.innerText && "
        "d.innerText.startsWith('Color')); const l = ls[ls.length - 1]; return l ? l.getBoundingClientRect().toJSON()"
        " : null; }"
    )
    width, height = img.size
    out = []
    for y in range(int(height * 0.1), int(height * 0.9), 3):
        for x in range(int(width * 0.1), int(width * 0.85), 3):
            r, g, b = img.getpixel((x, y))
            if max(r, g, b) - min(r, g, b) < 60:
                continue  # white background, grey axes and the grey "noise" colour
            px, py = box["x"] + x, box["y"] + y
            if (
                legend
                and legend["left"] - 4 <= px <= legend["right"] + 4
                and legend["top"] - 4 <= py <= legend["bottom"] + 4
            ):
                continue
            out.append((px, py))
    return out


def _canvas_png(page: Any) -> bytes:
    return bytes(page.locator(".okai-explorer canvas").first.screenshot())


def test_map_renders_without_errors(page: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    assert page.locator("text=Error displaying widget").count() == 0
    assert len(_coloured_pixels(page)) > 20, "the WebGL map shows coloured points"
    legend = page.locator(".okai-explorer").inner_text()
    assert "Color" in legend
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "explorer-map.png"))


def test_hover_shows_the_memory_and_click_lists_its_neighbours(
    page: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    candidates = _coloured_pixels(page)
    tip = None
    for px, py in candidates[len(candidates) // 2 :: 7][:12]:  # a pixel may sit just outside a point's hit radius
        page.mouse.move(px - 25, py - 25)
        page.mouse.move(px, py, steps=5)
        try:
            # the tooltip's fields come from the kernel (jupyter-scatter asks Python for them): wait for the names
            page.wait_for_function(
                f"() => {{ const t = ({TOOLTIP_JS})(); return t && t.opacity === '1' && t.text.includes('Agent Name')"
                " && /\\nTime\\n\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d/.test(t.text); }",
                timeout=8_000,
            )
        except Exception:
            continue
        tip = page.evaluate(TOOLTIP_JS)
        break
    assert tip is not None, "no tooltip over any coloured point"
    lines = [line.strip() for line in tip["text"].splitlines() if line.strip()]
    fields = dict(itertools.pairwise(lines))
    preview, agent, when = lines[0], fields["Agent Name"], fields["Time"]
    assert preview and not re.fullmatch(r"[0-9a-f]{8}", agent), "the agent's name, not a UUID prefix"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", when)
    assert "Room Name" in fields and "User Name" in fields
    page.screenshot(path=str(tmp_path_factory.getbasetemp() / "explorer-hover.png"))

    page.mouse.down()
    page.mouse.up()  # click where the mouse is: on the hovered point
    _wait_info(page, "selected a memory and its nearest neighbours")
    detail = page.locator(".okai-explorer .widget-html", has_text="Nearest memories").first
    detail.wait_for(timeout=STEP_MS)
    text = detail.inner_text()
    assert f"{agent} in " in text and when in text, "the clicked memory is the hovered one"
    assert preview.rstrip("…. ")[:30] in text
    sims = [float(s) for s in detail.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert len(sims) == 10 and sims == sorted(sims, reverse=True) and all(-1 <= s <= 1.0001 for s in sims)


def test_toolbar_lasso_selects_many(page: Any) -> None:
    before = _canvas_png(page)
    page.locator(".okai-explorer button[title='Activate lasso selection']").click()
    box = page.locator(".okai-explorer canvas").first.bounding_box()
    cx, cy = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55
    rx, ry = box["width"] * 0.3, box["height"] * 0.35
    ring = [(cx + rx * math.cos(a * math.pi / 12), cy + ry * math.sin(a * math.pi / 12)) for a in range(25)]
    page.mouse.move(*ring[0])
    page.mouse.down()
    for point in ring[1:]:
        page.mouse.move(*point, steps=4)
    page.mouse.up()
    n = int(_wait_info(page, r"(\d+) memories selected \(explorer\.selection\)").group(1))
    assert 1 < n <= 600
    page.locator(".okai-explorer button[title='Activate pan & zoom']").click()
    deadline = time.monotonic() + STEP_MS / 1000
    while _canvas_png(page) == before:  # the selection outline is drawn on a later frame: poll, no fixed sleep
        assert time.monotonic() < deadline, "the lasso's points are highlighted on the map"
        page.wait_for_timeout(100)


def test_search_and_cluster_list_select_on_the_map(page: Any) -> None:
    box = page.locator('.okai-explorer input[placeholder="search the memories\' text"]')
    box.fill("python")
    box.press("Enter")
    n = int(_wait_info(page, r"(\d+) memories match python").group(1))
    assert n >= 1
    option = page.locator(".okai-explorer select[size] option").first
    label = str(option.get_attribute("value"))  # the text itself is spelled with &nbsp;
    cluster, size = re.match(r"\s*(-?\d+)\s+(\d+) memories", label).groups()  # type: ignore[union-attr]
    page.locator(".okai-explorer select[size]").select_option(index=0)
    _wait_info(page, rf"cluster {cluster}: {size} memories")


def test_sortable_cluster_table_sorts_searches_and_selects(page: Any) -> None:
    grid = page.locator(".okai-explorer .okai-sortable")
    grid.scroll_into_view_if_needed()
    grid.locator("tbody tr").first.wait_for(timeout=STEP_MS)
    # DataTables 2 (itables) sorts from the header's order icon ("icon-only"), not from the title
    grid.locator("thead th[data-dt-column='1'] .dt-column-order").click()  # ascending by size
    page.wait_for_function(
        "() => { const s = [...document.querySelectorAll('.okai-explorer .okai-sortable tbody tr td:nth-child(2)')]"
        ".map(td => Number(td.innerText)); return s.length > 1 && s.every((v, i) => i === 0 || s[i - 1] <= v); }",
        timeout=STEP_MS,
    )
    sizes = [int(s) for s in grid.locator("tbody tr td:nth-child(2)").all_inner_texts()]
    assert sizes == sorted(sizes) and len(sizes) == 10, sizes  # one page of 10, sorted in the browser
    search = grid.locator("input[type=search]").first
    search.fill("python")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.okai-explorer .okai-sortable tbody tr')].every(r => "
        "r.innerText.toLowerCase().includes('python'))",
        timeout=STEP_MS,
    )
    row = grid.locator("tbody tr").first
    cluster, size = row.locator("td").nth(0).inner_text(), row.locator("td").nth(1).inner_text()
    row.locator("td").nth(0).click()  # selecting the row selects its cluster on the map
    _wait_info(page, rf"cluster {cluster}: {size} memories")


def test_colour_by_agent_changes_the_legend(page: Any) -> None:
    def legend() -> list[str]:
        return list(
            page.evaluate(
                "() => { const ls = [...document.querySelectorAll('.okai-explorer div')].filter(d => d.innerText && "
                "d.innerText.startsWith('Color')); return ls[ls.length - 1].parentElement.innerText.split('\\n')"
                ".slice(1).filter(Boolean); }"
            )
        )

    rooms = legend()
    assert any(" & " in r for r in rooms), "rooms are named by their participants"
    page.locator(".okai-explorer select:not([size])").first.select_option(label="agent")
    page.wait_for_function(
        "(old) => { const ls = [...document.querySelectorAll('.okai-explorer div')].filter(d => d.innerText && "
        "d.innerText.startsWith('Color')); return ls.length && ls[ls.length - 1].parentElement.innerText !== old; }",
        arg="Color\n" + "\n".join(rooms),
        timeout=STEP_MS,
    )
    agents = legend()
    assert agents and agents != rooms and not any(" & " in a for a in agents)
    assert "Eliza" in agents


def test_icons_render_offline_and_nothing_leaves_the_machine(page: Any) -> None:
    # okai's Voila template drops the lab template's FontAwesome links to cdn.jsdelivr.net: the Refresh button's
    # icon is drawn with the FontAwesome font Voila's own bundle carries, so no request leaves 127.0.0.1 at all
    icon = page.locator(".okai-panel button i.fa-refresh").first  # the explorer panel's own Refresh button
    icon.wait_for(timeout=STEP_MS)
    glyph = icon.evaluate("i => { const s = getComputedStyle(i, '::before'); return [s.fontFamily, s.content]; }")
    assert "Font Awesome" in glyph[0] and glyph[1] not in ("none", "normal", ""), glyph
    page.wait_for_function(
        "() => [...document.fonts].some(f => f.family.includes('Font Awesome') && f.status === 'loaded')",
        timeout=STEP_MS,
    )
    assert icon.bounding_box()["width"] > 4, "the glyph has a width (not an empty box)"
    assert page.console.errors == []
    assert page.console.external == []
