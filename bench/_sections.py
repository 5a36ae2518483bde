"""One place that rewrites a benchmark's section of ``docs/benchmarks.md`` between its HTML-comment markers.

Every benchmark owns exactly the text between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``; finding a
section by its heading instead once swallowed the next section's start marker and left a stale copy behind.
"""

from __future__ import annotations

from pathlib import Path

TITLE = (
    "# Benchmarks\n\n"
    "`make bench` (`python -m bench`, about 14 minutes on 2 cores) regenerates every section except the doctor's, "
    "which needs a million rows and runs on its own (`python -m bench.doctor`, about 6 minutes), and the bulk loads' "
    "(`python -m bench.bulk --record`: its baselines insert 200,000 rows through an HNSW index one by one); each "
    "section names the command that produced it, the machine and the date.\n"
)


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the section called ``name``.

    Example:
        >>> markers("bench.peers")
        ('<!-- bench.peers:start -->', '<!-- bench.peers:end -->')
    """
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def write_section(path: Path, name: str, body: str, *, first: bool = False) -> None:
    """Put ``body`` between the ``name`` markers of ``path``, leaving every other section byte for byte alone.

    A missing section is appended, or with ``first`` put right after the title; a missing file starts with
    the title. ``body`` may already carry its markers (they are not doubled).

    Example:
        >>> import tempfile
        >>> p = Path(tempfile.mkdtemp()) / "b.md"
        >>> write_section(p, "a", "## A\\nold\\n"); write_section(p, "b", "## B\\nkept\\n")
        >>> write_section(p, "a", "## A\\nnew\\n")
        >>> text = p.read_text(); ("new" in text, "old" in text, text.count("## B"), text.index("## A") < text.index("## B"))
        (True, False, 1, True)
    """
    start, end = markers(name)
    inner = body.strip("\n").removeprefix(start).removesuffix(end).strip("\n")
    block = f"{start}\n{inner}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE
    if start in text and end in text:
        head, rest = text.split(start, 1)
        new = head + block + rest.split(end, 1)[1]
    elif first and text.startswith(TITLE):
        new = f"{TITLE}\n{block}\n\n{text[len(TITLE) :].lstrip(chr(10))}"
    else:
        new = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new, encoding="utf-8")
