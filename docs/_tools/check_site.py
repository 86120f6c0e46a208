"""The built site, opened in a real browser: `python docs/_tools/check_site.py [build/site]`.

Why: `mkdocs build --strict` checks the Markdown's links, not what a reader sees. This opens
every page of the built site in headless Chromium (Debian's `chromium`, driven by
Playwright's Python package, which downloads no browser) and fails, listing every problem,
if a page
- logs a console error or an uncaught exception, or a request of it fails (or answers
  >= 400, or leaves the machine: the site must work offline, so nothing is fetched from
  another host: no fonts, no CDN);
- shows a picture that did not render: an `<img>` that did not load (naturalWidth 0) or
  whose SVG file draws nothing (no shape, no text), an inline `<svg>` of the content with
  no child elements or an empty box;
- links to a page of the site that does not exist, or to an anchor that page lacks.

How: the site is served by http.server on 127.0.0.1 (a free port, a thread); the pages are
every `*.html` under the site directory; each page is loaded once (bounded: a timeout per
page and one for the whole run) and its links are checked against the ids collected from
the pages themselves. No browser: an error when FUTURES_IMPL_REQUIRE_BROWSER=1 (CI's
.ci/run sets it), otherwise a note and exit 0.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import threading
import time
from typing import Any
from urllib.parse import unquote, urldefrag, urlsplit

PAGE_TIMEOUT_MS = 30_000
RUN_BUDGET_S = 300.0
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]

# What one page reports, collected in the page (after the load event).
PAGE_FACTS = """() => {
  const inIcon = (el) => el.closest('.md-icon, .twemoji, .md-header, .md-nav, .md-footer,'
                                    + ' .md-search, .md-source, button, label, .headerlink');
  const images = [...document.images].map((img) => ({
      src: img.currentSrc || img.src, complete: img.complete, width: img.naturalWidth}));
  const svgs = [...document.querySelectorAll('article svg')]
      .filter((svg) => !inIcon(svg) && !svg.parentElement.closest('svg'))
      .map((svg) => { const box = svg.getBoundingClientRect();
                      return {children: svg.childElementCount, width: box.width,
                              height: box.height,
                              label: (svg.getAttribute('aria-label') || svg.id || '')}; });
  const ids = [...document.querySelectorAll('[id]')].map((el) => el.id)
      .concat([...document.querySelectorAll('a[name]')].map((el) => el.name));
  const links = [...document.querySelectorAll('a[href]')].map((a) => a.href);
  return {images, svgs, ids, links};
}"""


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base's name
        pass


def _serve(root: str) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, name="site-server", daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _pages(root: str) -> list[str]:
    """Site-relative URL paths of every page: "index.html" as "/", "x/index.html" as "/x/"."""
    found = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.endswith(".html"):
                rel = os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")
                found.append("/" + (rel[: -len("index.html")] if rel.endswith("index.html")
                                    else rel))
    return sorted(found)


def _target(root: str, path: str) -> str | None:
    """The page path a same-site URL path lands on, or None if the site has no such file."""
    path = unquote(path) or "/"
    local = os.path.join(root, path.lstrip("/"))
    if path.endswith("/"):
        return path if os.path.isfile(os.path.join(local, "index.html")) else None
    if os.path.isdir(local) and os.path.isfile(os.path.join(local, "index.html")):
        return path + "/"
    return path if os.path.isfile(local) else None


def _watch(page: Any, where: str, problems: list[str]) -> None:
    """Record the page's console errors, uncaught exceptions and failed requests."""

    def console(msg: Any) -> None:
        if msg.type == "error":
            problems.append(f"{where}: console {msg.type}: {msg.text}")

    def page_error(exc: Any) -> None:
        problems.append(f"{where}: uncaught exception: {exc}")

    def request_failed(request: Any) -> None:
        problems.append(f"{where}: request failed: {request.url} ({request.failure})")

    def response(resp: Any) -> None:
        if resp.status >= 400:
            problems.append(f"{where}: HTTP {resp.status}: {resp.url}")

    page.on("console", console)
    page.on("pageerror", page_error)
    page.on("requestfailed", request_failed)
    page.on("response", response)


def _drawn(root: str, path: str) -> bool:
    """An SVG file of the site draws something: a shape or a text, not just an empty root."""
    import xml.etree.ElementTree as ElementTree

    try:
        tree = ElementTree.parse(os.path.join(root, unquote(path).lstrip("/")))
    except (OSError, ElementTree.ParseError):
        return False
    shapes = {"path", "polygon", "polyline", "ellipse", "circle", "rect", "line", "text"}
    return any(el.tag.rsplit("}", 1)[-1] in shapes for el in tree.iter())


def check(root: str) -> int:
    from playwright.sync_api import sync_playwright

    chromium = _chromium()
    if chromium is None:
        if os.environ.get("FUTURES_IMPL_REQUIRE_BROWSER") == "1":
            print("check_site: FAILED: no chromium on PATH (Debian: apt-get install chromium); "
                  "FUTURES_IMPL_REQUIRE_BROWSER=1 makes it an error")
            return 1
        print("check_site: SKIPPED: no chromium on PATH (apt-get install chromium)")
        return 0
    pages = _pages(root)
    if not pages:
        print(f"check_site: FAILED: no page under {root}")
        return 1
    server, base = _serve(root)
    problems: list[str] = []
    ids: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}  # target URL -> pages linking to it
    pictures = 0
    started = time.monotonic()
    try:
        # Playwright gives the browser a fresh temporary profile (--user-data-dir) itself.
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS,
                                                 timeout=PAGE_TIMEOUT_MS)
            context = browser.new_context(service_workers="block")
            # The site works offline: any request to another host is a problem.
            def refuse(route: Any) -> None:
                problems.append(f"external request: {route.request.url}")
                route.abort()

            context.route(lambda url: not url.startswith(base), refuse)
            for path in pages:
                if time.monotonic() - started > RUN_BUDGET_S:
                    problems.append(f"run budget of {RUN_BUDGET_S:.0f} s exceeded at {path}")
                    break
                page = context.new_page()
                _watch(page, path, problems)
                try:
                    page.goto(base + path, wait_until="load", timeout=PAGE_TIMEOUT_MS)
                    page.wait_for_load_state("networkidle", timeout=PAGE_TIMEOUT_MS)
                    facts = page.evaluate(PAGE_FACTS)
                except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                    problems.append(f"{path}: did not load: {exc}")
                    page.close()
                    continue
                page.close()
                ids[path] = set(facts["ids"])
                for img in facts["images"]:
                    pictures += 1
                    if not img["complete"] or img["width"] <= 0:
                        problems.append(f"{path}: picture not rendered: {img['src']}")
                    elif img["src"].startswith(base) and urlsplit(img["src"]).path.endswith(
                            ".svg") and not _drawn(root, urlsplit(img["src"]).path):
                        problems.append(f"{path}: picture draws nothing: {img['src']}")
                for svg in facts["svgs"]:
                    pictures += 1
                    if svg["children"] == 0 or svg["width"] <= 0 or svg["height"] <= 0:
                        problems.append(f"{path}: empty inline svg {svg['label']!r}")
                for href in facts["links"]:
                    if href.startswith(base):
                        links.setdefault(href, set()).add(path)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    for href, sources in sorted(links.items()):
        url, anchor = urldefrag(href)
        target = _target(root, urlsplit(url).path)
        where = ", ".join(sorted(sources)[:3]) + (" ..." if len(sources) > 3 else "")
        if target is None:
            problems.append(f"broken link {href[len(base):]} (from {where})")
        elif anchor and target in ids and unquote(anchor) not in ids[target]:
            problems.append(f"missing anchor {href[len(base):]} (from {where})")
    elapsed = time.monotonic() - started
    print(f"check_site: {len(ids)}/{len(pages)} pages loaded in {elapsed:.1f} s, "
          f"{pictures} pictures checked, {len(links)} distinct internal links checked "
          f"(headless {chromium})")
    if problems:
        print(f"check_site: FAILED, {len(problems)} problem(s):")
        for problem in problems:
            print("  " + problem)
        return 1
    print("check_site: OK")
    return 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else os.path.join("build", "site")))
