"""The package's internal imports form no cycle, and every module imports on its own.

Why: a cycle between modules works only as long as each side's import happens to run
after the other's names exist (the process pool once needed imports inside functions
for that). The graph is read from the source's syntax tree: every `import` and `from
... import` anywhere in a module (top level, inside functions, under `if TYPE_CHECKING:`),
plus the package's lazy loads (`futures_impl.__getattr__` imports the submodules named in
`_LAZY` and `_LAZY_SUBMODULES`). A deliberate deferred import (`_base._load_compat`, the
process facade's pool import) is an edge like any other, so it cannot hide a cycle.

Not edges: a module's own parent packages, which Python imports before it (every module
would otherwise be in a cycle with `futures_impl/__init__.py`, which imports `_base`);
importing each module alone in a fresh interpreter checks that path instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from _support import run_python

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "futures_impl"
NAME = "futures_impl"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name `from <level dots><target> import ...` refers to."""
    if level == 0:
        return target or ""
    base = importer.split(".")
    if not is_package:
        base.pop()  # a module's relative imports start from its package
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules that `name` imports, anywhere in its source."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(name, is_package, node.level, node.module)
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                found.add(submodule if submodule in known else source)
        elif isinstance(node, ast.Assign) and is_package and any(
            isinstance(t, ast.Name) and t.id in ("_LAZY", "_LAZY_SUBMODULES")
            for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            lazy = value.values() if isinstance(value, dict) else value
            found.update(f"{name}.{sub}" for sub in lazy)
    # Only edges inside the package, and not to the module's own parent packages.
    parents = {name.rsplit(".", i)[0] for i in range(1, name.count(".") + 1)}
    return {m for m in found if m in known and m != name and m not in parents}


def import_graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a path (first node repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_package() -> None:
    """The reading works (a graph with no edges would pass the cycle test)."""
    graph = import_graph()
    assert "futures_impl._process.wire" in graph["futures_impl._process.worker"]
    assert "futures_impl._process.pool" in graph["futures_impl.process"]  # deferred import
    assert "futures_impl._compat" in graph["futures_impl._base"]  # _load_compat
    assert "futures_impl.process" in graph["futures_impl"]  # the lazy loads
    assert "futures_impl._base" in graph["futures_impl._process.errors"]  # from .. import


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or ())


def test_the_process_machinery_never_imports_the_facade() -> None:
    graph = import_graph()
    for name, edges in graph.items():
        if name.startswith("futures_impl._process"):
            assert "futures_impl.process" not in edges, name


@pytest.mark.parametrize("module", sorted(m for m in modules() if not m.endswith("__main__")))
def test_module_imports_alone(module: str) -> None:
    returncode, _, err = run_python(
        "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); import {module}",
        timeout=60,
    )
    assert returncode == 0, err
