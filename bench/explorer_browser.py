"""The embedding explorer in a real browser at 2,000 and 100,000 points: is it still fluid?

Each size runs the real widget path (``okai_insight.jupyter._scatter.EmbeddingMap`` -> jupyter-scatter -> Voila ->
headless Debian Chromium, WebGL through SwiftShader) over a synthetic 2-D layout (Gaussian blobs, one per room, with
names, text and times), so the projection itself (UMAP, measured in bench/embeddings.py) is not part of the figures.
Measured, medians of ``--repeat`` runs where repeated:

- ``build_s``: building the map in the kernel (frame, categories, the jscatter widget), in this process, after
  one small warm-up build (imports);
- ``first_render_s``: from navigation to the first coloured points on the canvas (Voila starts a kernel, runs the
  notebook, sends the 100k rows to the page, regl-scatterplot draws them);
- ``lasso_ms``: toolbar lasso, mouse up -> the kernel's "N memories selected" line in the page (browser -> kernel ->
  browser);
- ``search_ms``: Enter in the search box -> "K memories match" (kernel selects, the page redraws the selection);
- ``hover_ms``: mouse onto a point -> its tooltip with the kernel-fetched fields (includes jupyter-scatter's 500 ms
  debounce);
- ``zoom_fps``: animation frames per second while the mouse wheel zooms for two seconds.

Example:
    $ python -m bench.explorer_browser                  # 2k and 100k, ~3 minutes on 2 loaded cores
    $ python -m bench.explorer_browser --sizes 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("OKAI_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

FRAME_CODE = '''
import numpy as np, pandas as pd

def synthetic_frame(n, rooms=40, seed=0):
    """n points in one Gaussian blob per room, with the metadata columns a projection's frame has."""
    rng = np.random.default_rng(seed)
    room = rng.integers(0, rooms, n)
    centres = rng.uniform(-20, 20, (rooms, 2))
    xy = centres[room] + rng.normal(0, 1.2, (n, 2))
    words = np.array("python garden train kyoto recipe budget guitar marathon invoice puppy".split())
    text = [" ".join(words[rng.integers(0, len(words), 6)]) for _ in range(n)]
    return pd.DataFrame({
        "id": [f"{i:08x}-0000-0000-0000-000000000000" for i in range(n)],
        "x": xy[:, 0], "y": xy[:, 1],
        "agent_name": [f"agent {r % 7}" for r in room], "room_name": [f"room {r}" for r in room],
        "user_name": [f"user {r % 13}" for r in room], "type": np.where(room % 3 == 0, "facts", "messages"),
        "text_preview": text,
        "created_at": pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 90 * 86400, n), unit="s"),
    })

class SyntheticProjection:
    def __init__(self, frame):
        self.frame = frame

    def clusters(self):
        raise ValueError("not clustered in the benchmark")
'''


def _notebook(n: int) -> dict[str, Any]:
    code = FRAME_CODE + (
        "\nfrom okai_insight.jupyter._scatter import EmbeddingMap\n"
        f"explorer = EmbeddingMap(SyntheticProjection(synthetic_frame({n})))\nexplorer.widget"
    )
    return {
        "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": code}],
        "metadata": {"kernelspec": {"name": "okai-insight-python", "display_name": "Python", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }


def build_seconds(n: int) -> float:
    """Time to build the map for ``n`` points in this process (the kernel's share of the first render)."""
    scope: dict[str, Any] = {}
    exec(FRAME_CODE, scope)
    frame = scope["synthetic_frame"](n)
    from okai_insight.jupyter._scatter import EmbeddingMap

    EmbeddingMap(scope["SyntheticProjection"](scope["synthetic_frame"](100)))  # imports and first-call costs
    started = time.perf_counter()
    EmbeddingMap(scope["SyntheticProjection"](frame))
    return time.perf_counter() - started


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _coloured(page: Any, box: dict[str, float]) -> list[tuple[float, float]]:
    from PIL import Image

    img = (
        Image.open(io.BytesIO(page.screenshot(clip=box)))
        .convert("RGB")
        .resize((int(box["width"]) // 3, int(box["height"]) // 3))
    )
    w, h = img.size
    out = []
    for y in range(int(h * 0.15), int(h * 0.9)):
        for x in range(int(w * 0.45), int(w * 0.85)):  # right of the legend
            r, g, b = img.getpixel((x, y))
            if max(r, g, b) - min(r, g, b) >= 60:
                out.append((box["x"] + x * 3 + 1, box["y"] + y * 3 + 1))
    return out


def _info(page: Any) -> str:
    return str(page.evaluate("() => document.querySelector('.okai-explorer > .widget-html').innerText"))


def _wait_info(page: Any, pattern: str, timeout_ms: int = 120_000) -> float:
    started = time.perf_counter()
    page.wait_for_function(
        "(p) => new RegExp(p).test(document.querySelector('.okai-explorer > .widget-html').innerText)",
        arg=pattern,
        timeout=timeout_ms,
        polling="raf",
    )
    return (time.perf_counter() - started) * 1000


def measure(n: int, repeat: int) -> dict[str, Any]:
    """Start Voila on the synthetic map of ``n`` points and measure it in Chromium (see the module docstring)."""
    from playwright.sync_api import sync_playwright

    from okai_insight.report import this_python_kernel

    out: dict[str, Any] = {"points": n, "build_s": round(build_seconds(n), 2)}
    with tempfile.TemporaryDirectory(prefix="okai-bench-explorer-") as tmp, this_python_kernel():
        root = Path(tmp)
        (root / "map.ipynb").write_text(json.dumps(_notebook(n)))
        port = _free_port()
        log = open(root / "voila.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", "map.ipynb", "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"],
            cwd=root, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(url + "voila/static/", timeout=2)
                    break
                except urllib.error.HTTPError:
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError((root / "voila.log").read_text()[-2000:]) from None
                    time.sleep(0.3)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                renders, lassos, searches, hovers, fps = [], [], [], [], []
                for _ in range(repeat):
                    page = browser.new_page(viewport={"width": 1280, "height": 1000})
                    started = time.perf_counter()
                    page.goto(url, timeout=300_000)
                    canvas = page.locator(".okai-explorer canvas").first
                    canvas.wait_for(timeout=300_000)
                    box = canvas.bounding_box()
                    while len(_coloured(page, box)) < 20:
                        page.wait_for_timeout(50)
                    renders.append(time.perf_counter() - started)

                    points = _coloured(page, box)
                    px, py = points[len(points) // 2]
                    page.mouse.move(px - 30, py - 30)
                    t0 = time.perf_counter()
                    page.mouse.move(px, py, steps=3)
                    try:
                        page.wait_for_function(
                            "() => [...document.querySelectorAll('.okai-explorer div')].some(d => d.style.pointerEvents"
                            " === 'none' && d.style.opacity === '1' && /Agent Name\\n\\S/.test(d.innerText))",
                            timeout=30_000, polling="raf",
                        )  # fmt: skip
                        hovers.append((time.perf_counter() - t0) * 1000)
                    except Exception:
                        pass  # the pixel was off every point's hit radius: no hover sample this round

                    page.evaluate(
                        "() => { window.okaiFrames = 0; const f = () => { window.okaiFrames++; "
                        "if (!window.okaiStop) requestAnimationFrame(f); }; requestAnimationFrame(f); }"
                    )
                    cx, cy = box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5
                    page.mouse.move(cx, cy)
                    t0 = time.perf_counter()
                    while time.perf_counter() - t0 < 2:
                        page.mouse.wheel(0, -40)
                        page.wait_for_timeout(30)
                    frames = page.evaluate("() => { window.okaiStop = true; return window.okaiFrames; }")
                    fps.append(frames / (time.perf_counter() - t0))
                    page.locator(".okai-explorer button[title='Reset View']").click()
                    page.wait_for_timeout(1200)

                    page.locator(".okai-explorer button[title='Activate lasso selection']").click()
                    rx, ry = box["width"] * 0.3, box["height"] * 0.35
                    ring = [(cx + rx * math.cos(a * math.pi / 10), cy + ry * math.sin(a * math.pi / 10))
                            for a in range(21)]  # fmt: skip
                    page.mouse.move(*ring[0])
                    page.mouse.down()
                    for p in ring[1:]:
                        page.mouse.move(*p, steps=3)
                    t0 = time.perf_counter()
                    page.mouse.up()
                    _wait_info(page, r"\d+ memories selected")
                    lassos.append((time.perf_counter() - t0) * 1000)
                    page.locator(".okai-explorer button[title='Activate pan & zoom']").click()

                    search = page.locator('.okai-explorer input[placeholder="search the memories\' text"]')
                    search.fill("python garden")
                    t0 = time.perf_counter()
                    search.press("Enter")
                    _wait_info(page, r"\d+ memories match python garden")
                    searches.append((time.perf_counter() - t0) * 1000)
                    out.setdefault("selected", []).append(_info(page).strip())
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()
    med = statistics.median
    out.update(
        first_render_s=round(med(renders), 2),
        lasso_ms=round(med(lassos)),
        search_ms=round(med(searches)),
        hover_ms=round(med(hovers)) if hovers else None,
        zoom_fps=round(med(fps), 1),
        runs=repeat,
    )
    return out


def markdown(results: list[dict[str, Any]]) -> str:
    """The results as a Markdown table.

    Example:
        >>> print(markdown([{"points": 2, "build_s": 0.1, "first_render_s": 1.0, "lasso_ms": 5, "search_ms": 6,
        ...                  "hover_ms": 600, "zoom_fps": 60.0, "runs": 1}]).splitlines()[2])
        | 2 | 0.1 | 1.0 | 5 | 6 | 600 | 60.0 | 1 |
    """
    cols = ["points", "build_s", "first_render_s", "lasso_ms", "search_ms", "hover_ms", "zoom_fps", "runs"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c)) for c in cols) + " |" for r in results]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explorer_browser", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results = [measure(n, args.repeat) for n in args.sizes]
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
