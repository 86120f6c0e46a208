"""MkDocs hook: the site's pictures, drawn by Graphviz from text sources at build time.

Why: a picture of the design must not drift from the code any more than its text may. So
the sources are text (`docs/diagrams/NAME.dot`: reviewable diffs, read by
tests/test_docs_diagrams.py, which checks the state picture against `_base`'s states),
no rendered SVG is ever committed (a stale one cannot be shipped), and a picture that does
not render fails the build instead of leaving a hole in a page.

How: `mkdocs.yml` registers this file (`hooks: [docs/_hooks/diagrams.py]`). In
`on_files`, every `docs/diagrams/*.dot` is rendered with `dot -Tsvg` (a subprocess with a
timeout) and added to the site as an in-memory file `diagrams/NAME.svg`, so a page's
`![alt](diagrams/NAME.svg)` is a link MkDocs validates under `--strict`. The `.dot`
sources and `docs/_hooks/` itself are taken out of the site. A missing `dot`, a syntax
error, a timeout or an SVG that would load something from outside (a web font, an
external image) stops the build with a message naming the file and what to do.

Fit: Graphviz writes the natural size in points (`width="412pt"`); that is kept, in
pixels, as the picture's intrinsic size (small pictures are not blown up), with the
`viewBox`, so an `<img>` with `max-width: 100%` scales a wide one down to the page:
Material's stylesheet has that rule, and `on_page_content` adds it inline to the images
of diagrams for any other theme. Fonts stay generic: the sources name
`Helvetica,Arial,sans-serif` (a CSS font list every browser resolves locally); nothing
is fetched.

Only the standard library is imported at module level, so the test suite can import
`render()` from here without MkDocs installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

TIMEOUT = 60.0  # seconds one `dot` run may take (each picture renders in well under one)
SOURCE_DIR = "diagrams"  # under docs_dir; the SVGs land at the same path in the site
EXCLUDED_DIRS = ("_hooks/",)  # build code under docs_dir, never published
# Anything in an SVG that would make a browser fetch something: refused (offline site).
_FETCHES = re.compile(r"@font-face|@import|url\((?!#)|xlink:href=\"(?!#)|\shref=\"(?!#)")
_ROOT = re.compile(r"<svg\b[^>]*>")
_SIZE = re.compile(r'\s(width|height)="([0-9.]+)pt"')


class DiagramError(Exception):
    """A picture could not be rendered: the message says which and why."""


def _dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError(
            "Graphviz's `dot` was not found on PATH: the site's pictures (docs/diagrams/"
            "*.dot) are rendered by it at build time. Install Graphviz (Debian/Ubuntu: "
            "`apt-get install graphviz`; macOS: `brew install graphviz`) and build again."
        )
    return dot


def scalable(svg: str) -> str:
    """The root element's point sizes as pixels (1pt = 4/3 px), the viewBox kept: the
    picture keeps its natural size and scales down with `max-width: 100%`."""
    match = _ROOT.search(svg)
    if match is None or "viewBox=" not in match.group(0):
        raise DiagramError("dot's output has no <svg viewBox=...> root: cannot scale it")

    def to_px(size: re.Match[str]) -> str:
        return f' {size.group(1)}="{round(float(size.group(2)) * 4 / 3)}px"'

    root = _SIZE.sub(to_px, match.group(0))
    return svg[: match.start()] + root + svg[match.end():]


def render(source: Path, timeout: float = TIMEOUT) -> str:
    """The SVG of one Graphviz source, ready for the site; DiagramError if it fails."""
    try:
        done = subprocess.run(
            [_dot(), "-Tsvg", str(source)],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(f"{source}: `dot -Tsvg` took more than {timeout:g} s") from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or not done.stdout.strip():
        raise DiagramError(
            f"{source}: `dot -Tsvg` failed (exit code {done.returncode}):\n{stderr}"
        )
    if stderr:  # warnings (an unknown attribute, a font not found...) are errors too
        raise DiagramError(f"{source}: `dot -Tsvg` warned:\n{stderr}")
    svg = done.stdout.decode("utf-8")
    fetch = _FETCHES.search(svg)
    if fetch is not None:
        raise DiagramError(
            f"{source}: the SVG would load something from outside ({fetch.group(0)!r}); "
            "the site must work offline: use generic font names and no images or links"
        )
    return scalable(svg)


def sources(docs_dir: Path) -> list[Path]:
    """Every picture's source, in a stable order."""
    return sorted((docs_dir / SOURCE_DIR).glob("*.dot"))


# -- MkDocs events --------------------------------------------------------------------


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    for file in list(files):
        uri = file.src_uri
        if uri.startswith(EXCLUDED_DIRS) or (
            uri.startswith(f"{SOURCE_DIR}/") and uri.endswith(".dot")
        ):
            files.remove(file)
    for source in sources(Path(config.docs_dir)):
        uri = f"{SOURCE_DIR}/{source.stem}.svg"
        if files.get_file_from_path(uri) is not None:
            raise PluginError(
                f"docs/{uri} exists, and the build renders it from {source.name}: "
                "delete the committed SVG (pictures are built from their sources only)"
            )
        try:
            svg = render(source)
        except DiagramError as exc:
            raise PluginError(f"diagrams hook: {exc}") from None
        files.append(File.generated(config, uri, content=svg))
    return files


_DIAGRAM_IMG = re.compile(r'<img\b(?=[^>]*\ssrc="[^"]*\bdiagrams/[^"/]+\.svg")(?![^>]*\sstyle=)')


def on_page_content(html: str, **_: Any) -> str:
    """Make every diagram image fit the page, whatever the theme's stylesheet says."""
    return _DIAGRAM_IMG.sub('<img style="max-width: 100%; height: auto"', html)
