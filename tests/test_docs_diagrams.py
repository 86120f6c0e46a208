"""The site's pictures (docs/diagrams/*.dot) render, are shown, and say what the code does.

Why: a picture drifts from the code more quietly than text does. The build renders every
source with Graphviz (docs/_hooks/diagrams.py) and fails on a broken one; this cheap
test catches the same in the ordinary suite, and checks the pictures' claims that can
be checked: the Future's state picture draws exactly the transitions `_base` makes (each
drawn edge is driven on a real Future, and every call on every state that is not drawn
changes nothing), the module map draws every module and only real imports, the lock
order names every lock of the design page's table, and the race numbers the pictures
cite are the design page's.

Rendering needs Graphviz's `dot`: without it those tests skip, unless
FUTURES_IMPL_REQUIRE_BROWSER=1 (CI, where .ci/run installs graphviz for the docs build).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
from test_import_graph import import_graph, modules
from test_lock_order_doc import table_names

from futures_impl import _base

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
DIAGRAMS = DOCS / "diagrams"
SOURCES = sorted(DIAGRAMS.glob("*.dot"))
EXPECTED = {
    "future-states", "wait-waiter", "thread-pool-idle", "process-data-flow",
    "exit-sequence", "module-map", "lock-order",
}


def _hook() -> ModuleType:
    """docs/_hooks/diagrams.py (not a package: loaded from its path; it imports no MkDocs
    at module level)."""
    path = DOCS / "_hooks" / "diagrams.py"
    spec = importlib.util.spec_from_file_location("_docs_diagrams_hook", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HOOK = _hook()


def _need_dot() -> None:
    if shutil.which("dot") is None:
        if os.environ.get("FUTURES_IMPL_REQUIRE_BROWSER") == "1":
            pytest.fail("Graphviz's `dot` is missing, and FUTURES_IMPL_REQUIRE_BROWSER=1")
        pytest.skip("Graphviz's `dot` is not installed (apt-get install graphviz)")


def test_the_pictures_are_all_there() -> None:
    assert {path.stem for path in SOURCES} >= EXPECTED


@pytest.mark.parametrize("source", SOURCES, ids=[path.stem for path in SOURCES])
def test_each_picture_renders(source: Path) -> None:
    """`dot -Tsvg` accepts it without a warning; the SVG is non-empty, scalable, and uses
    generic fonts only (the site works offline)."""
    _need_dot()
    svg = HOOK.render(source, timeout=60)
    root = re.search(r"<svg\b[^>]*>", svg)
    assert root is not None, svg[:200]
    assert "viewBox=" in root.group(0)
    assert re.search(r'width="\d+px"', root.group(0)), root.group(0)
    assert svg.count("<text") >= 3, "a picture with (almost) no text"
    fonts = set(re.findall(r'font-family="([^"]*)"', svg))
    assert fonts == {"Helvetica,Arial,sans-serif"}, fonts


def test_a_broken_source_is_an_error_naming_it(tmp_path: Path) -> None:
    _need_dot()
    bad = tmp_path / "broken.dot"
    bad.write_text("digraph { a -> ; }\n")
    with pytest.raises(HOOK.DiagramError, match=r"broken\.dot.*failed"):
        HOOK.render(bad, timeout=60)


def test_a_missing_dot_is_an_error_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no `dot` on it
    with pytest.raises(HOOK.DiagramError, match="apt-get install graphviz"):
        HOOK.render(SOURCES[0], timeout=60)


def test_an_svg_that_would_fetch_something_is_refused(tmp_path: Path) -> None:
    _need_dot()
    source = tmp_path / "fetch.dot"
    source.write_text('digraph { a [URL="https://example.org/"]; }\n')
    with pytest.raises(HOOK.DiagramError, match="offline"):
        HOOK.render(source, timeout=60)


def test_each_picture_is_shown_on_a_page() -> None:
    pages = {path: path.read_text() for path in DOCS.rglob("*.md")}
    shown = {m for text in pages.values() for m in re.findall(r"diagrams/([\w-]+)\.svg", text)}
    assert shown >= {path.stem for path in SOURCES}, "pictures no page shows"
    assert shown <= {path.stem for path in SOURCES}, "pages show pictures with no source"


# -- the Future's states -------------------------------------------------------------


def _edges(text: str) -> list[tuple[str, str, str]]:
    """(tail, head, label) of each `a -> b [label="..."]` of a .dot source."""
    found = []
    for match in re.finditer(r'^\s*("?[\w.]+"?)\s*->\s*("?[\w.]+"?)\s*(\[[^\n]*\])?', text, re.M):
        attrs = match.group(3) or ""
        label = re.search(r'\blabel="((?:[^"\\]|\\.)*)"', attrs)
        found.append((
            match.group(1).strip('"'), match.group(2).strip('"'),
            label.group(1) if label else "",
        ))
    return found


_CALLS: dict[str, Callable[[_base.Future[Any]], object]] = {
    "set_running_or_notify_cancel": lambda f: f.set_running_or_notify_cancel(),
    "cancel": lambda f: f.cancel(),
    "set_result": lambda f: f.set_result(1),
    "set_exception": lambda f: f.set_exception(ValueError("x")),
    "_cancel_running": _base._cancel_running,
}


def _future_in(state: str) -> _base.Future[Any]:
    future: _base.Future[Any] = _base.Future()
    if state == _base.RUNNING:
        assert future.set_running_or_notify_cancel()
    elif state in (_base.CANCELLED, _base.CANCELLED_AND_NOTIFIED):
        assert future.cancel()
        if state == _base.CANCELLED_AND_NOTIFIED:
            assert not future.set_running_or_notify_cancel()
    elif state == _base.FINISHED:
        future.set_result(0)
    assert future._state == state
    return future


def _transitions_of_the_code() -> dict[tuple[str, str], str]:
    """(state, call) -> new state, for every call that changes a future's state."""
    made = {}
    logger = logging.getLogger("concurrent.futures")
    saved, logger.disabled = logger.disabled, True  # the CRITICAL of a refused transition
    try:
        for state in _base._FUTURE_STATES:
            for name, call in _CALLS.items():
                future = _future_in(state)
                try:
                    call(future)
                except (_base.InvalidStateError, RuntimeError):
                    pass
                if future._state != state:
                    made[state, name] = future._state
    finally:
        logger.disabled = saved
    return made


def _transitions_drawn() -> dict[tuple[str, str], str]:
    """(state, call) -> state, from the picture: each edge's label names its calls on its
    first line (the lines below explain)."""
    drawn = {}
    text = (DIAGRAMS / "future-states.dot").read_text()
    for tail, head, label in _edges(text):
        if tail not in _base._FUTURE_STATES:
            continue  # the start point
        first_line = label.split("\\n")[0]
        calls = re.findall(r"(\w+)\(\)", first_line)
        assert calls, f"{tail} -> {head}: no call named on the label's first line"
        for call in calls:
            assert call in _CALLS, f"{tail} -> {head}: {call}() is not a transition call"
            drawn[tail, call] = head
    return drawn


def test_the_state_picture_names_every_state_of_base() -> None:
    text = (DIAGRAMS / "future-states.dot").read_text()
    nodes = set(re.findall(r"^\s*([A-Z_]+)\s*\[", text, re.M))
    assert nodes == set(_base._FUTURE_STATES)
    assert len(_base._FUTURE_STATES) == 5


def test_the_state_picture_draws_exactly_the_transitions_of_the_code() -> None:
    """Each drawn edge is what its call does to a real Future in the tail state, and no
    call changes a state where the picture draws no edge."""
    assert _transitions_drawn() == _transitions_of_the_code()


def test_the_transition_calls_exist() -> None:
    for name in ("set_running_or_notify_cancel", "cancel", "set_result", "set_exception"):
        assert callable(getattr(_base.Future, name))
    assert callable(_base._cancel_running)


# -- the module map --------------------------------------------------------------------


def test_the_module_map_draws_every_module_and_only_real_imports() -> None:
    text = (DIAGRAMS / "module-map.dot").read_text()
    graph = import_graph()
    packages = {"futures_impl._process", "futures_impl._aio"}  # drawn as clusters
    nodes = set(re.findall(r'^\s*"(futures_impl[\w.]*)"\s*\[', text, re.M))
    real = set(modules()) - packages
    assert nodes == real, (
        "docs/diagrams/module-map.dot and futures_impl/ differ (add a node, with its "
        f"imports, for a new module): not drawn {sorted(real - nodes)}, "
        f"no longer there {sorted(nodes - real)}"
    )
    checked = 0
    for line in text.splitlines():
        match = re.match(r'\s*"(futures_impl[\w.]*)"\s*->\s*"(futures_impl[\w.]*)"(.*)', line)
        if match is None:
            continue
        tail, head, attrs = match.groups()
        if "style=invis" in attrs:
            continue  # layout only: not drawn
        cluster = re.search(r"lhead=cluster_(\w+)", attrs)
        if cluster:  # an arrow into a subpackage: the tail imports some of its modules
            package = f"futures_impl._{cluster.group(1)}."
            assert any(m.startswith(package) for m in graph[tail]), line
        else:
            assert head in graph[tail], f"drawn, but {tail} does not import {head}"
        checked += 1
    assert checked > 20


def test_the_lock_order_names_every_lock_of_the_design_table() -> None:
    text = (DIAGRAMS / "lock-order.dot").read_text()
    missing = {name for name in table_names() if name not in text}
    assert not missing, f"locks of docs/design.md's table missing from the picture: {missing}"


# -- races named by the pictures ---------------------------------------------------------


def _design_races() -> dict[int, str]:
    text = (DOCS / "design.md").read_text()
    section = re.search(r"^## (?:\d+\. )?Races\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert section, "docs/design.md has no Races section"
    return {
        int(number): title
        for number, title in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", section.group(1), re.M)
    }


def test_the_races_the_pictures_cite_are_the_design_pages() -> None:
    races = _design_races()
    lost = [n for n, title in races.items() if "Registration against settling" in title]
    assert lost, "docs/design.md no longer names the registration race"
    waiter = (DIAGRAMS / "wait-waiter.dot").read_text()
    assert f"Race {lost[0]} (the lost wake-up)" in waiter
    design = (DOCS / "design.md").read_text()
    assert f"{lost[0]}. **Registration against settling** (the lost wake-up)" in design
    for source in SOURCES:
        cited = re.findall(r"\b[Rr]aces? (\d+)(?: and (\d+))?", source.read_text())
        for number in {int(n) for pair in cited for n in pair if n}:
            assert number in races, f"{source.name} cites race {number}: not in design.md"
