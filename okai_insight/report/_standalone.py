"""Make nbconvert's HTML a report that works offline: no script at all (nbconvert's template loads require.js,
MathJax and mermaid from a CDN, and MathJax would typeset a query's ``$1 ... $2``; the report needs no script:
its folds are ``<details>``), and a head that says what it describes: when it was made, the database (password
masked), and a table of contents linking to the sections.

Example:
    >>> page = "<html><head><script src='https://cdn/x.js'></script></head><body><main>"
    >>> page += "<h1 id='r'>Report</h1><h2 id='Health-summary'>Health summary<a href='#Health-summary'>¶</a></h2>"
    >>> out = self_contained(page + "</main></body></html>", about="postgresql://u:***@h/db", generated="2025-01-01")
    >>> "<script" in out, "href='#Health-summary'>Health summary</a>" in out, "postgresql://u:***@h/db" in out
    (False, True, True)
"""

from __future__ import annotations

import html
import re

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.S | re.I)
_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref\s*=\s*['\"]https?://[^>]*>", re.I)
_H2 = re.compile(r"<h2\b[^>]*\bid\s*=\s*['\"]([^'\"]+)['\"][^>]*>(.*?)</h2>", re.S | re.I)
_TAGS = re.compile(r"<[^>]+>")
_COMMENT = re.compile(r"<!--.*?-->", re.S)

_HEAD_STYLE = """<style>
.okai-report-head { font-family: system-ui, sans-serif; margin: 0 0 1.5em 0; padding: 8px 12px;
  background: #f7f7f7; border: 1px solid #ddd; border-radius: 6px; }
.okai-report-head dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0 0 8px 0; }
.okai-report-head dt { font-weight: bold; }
.okai-toc ol { margin: 4px 0; columns: 2; }
</style>"""


def table_of_contents(page: str) -> list[tuple[str, str]]:
    """The page's sections: ``(anchor, title)`` of every ``<h2 id=...>`` in order (the notebook's ``##`` headings).

    Example:
        >>> table_of_contents("<h2 id='A-b'>A b<a class='anchor-link' href='#A-b'>¶</a></h2>")
        [('A-b', 'A b')]
    """
    out = []
    for anchor, inner in _H2.findall(page):
        title = html.unescape(_TAGS.sub("", inner)).replace("¶", "").strip()
        out.append((anchor, title))
    return out


def self_contained(page: str, *, about: str, generated: str) -> str:
    """``page`` (nbconvert's HTML) without scripts or external style sheets, with a head after the first ``<h1>``
    (else at the top of ``<body>``): the timestamp ``generated``, the database ``about`` (already masked) and the
    table of contents.

    Example:
        >>> self_contained("<body><h2 id='x'>X</h2></body>", about="db", generated="now").count("href='#x'")
        1
    """
    page = _EXTERNAL_LINK.sub("", _SCRIPT.sub("", _COMMENT.sub("", page)))
    toc = "".join(
        f"<li><a href='#{html.escape(anchor, quote=True)}'>{html.escape(title)}</a></li>"
        for anchor, title in table_of_contents(page)
    )
    head = (
        f"{_HEAD_STYLE}<header class='okai-report-head tex2jax_ignore mathjax_ignore'><dl>"
        f"<dt>Database</dt><dd>{html.escape(about)}</dd>"
        f"<dt>Generated</dt><dd><time>{html.escape(generated)}</time></dd></dl>"
        f"<nav class='okai-toc'><b>Contents</b><ol>{toc}</ol></nav></header>"
    )
    h1_end = page.find("</h1>")
    if h1_end >= 0:
        at = h1_end + len("</h1>")
    else:
        body = re.search(r"<body\b[^>]*>", page, re.I)
        at = body.end() if body else 0
    return page[:at] + head + page[at:]
