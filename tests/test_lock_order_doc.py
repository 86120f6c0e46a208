"""The lock-order table in docs/design.md names every lock the package creates (issue 13, B).

Every construction of a lock in futures_impl (threading.Lock/RLock/Condition/Semaphore/
BoundedSemaphore, _thread.allocate_lock/RLock, and _base's `_new_lock`/`_new_rlock`) is
found by walking the source's syntax tree, named `Class.attribute` (or `Class.variable`
inside a method) when it is made inside a class, or by its bare variable name at module
level, and must appear in backticks in the table under "## Lock order". A lock the code
no longer creates must not linger in the table either.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "futures_impl"
DESIGN = ROOT / "docs" / "design.md"
CONSTRUCTORS = {
    "Lock", "RLock", "Condition", "Semaphore", "BoundedSemaphore", "allocate_lock",
    "_new_lock", "_new_rlock",
}


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return None


def lock_constructions() -> dict[str, list[str]]:
    """name -> the places (file:line) where such a lock is made; unnamed ones under ''."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        def visit(node: ast.AST, cls: str | None, where_of: str) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.ClassDef):
                    visit(child, child.name, where_of)
                    continue
                if isinstance(child, (ast.Assign, ast.AnnAssign)) and isinstance(
                    child.value, ast.Call
                ) and _called_name(child.value) in CONSTRUCTORS:
                    targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                    name = _target_name(targets[0])
                    key = "" if name is None else f"{cls}.{name}" if cls else name
                    found.setdefault(key, []).append(f"{where_of}:{child.lineno}")
                    continue  # Condition(Lock()) is one lock, named by its assignment
                if isinstance(child, ast.Call) and _called_name(child) in CONSTRUCTORS:
                    # A lock made without being assigned to a name: the table cannot name it.
                    found.setdefault("", []).append(f"{where_of}:{child.lineno}")
                visit(child, cls, where_of)

        visit(tree, None, str(path.relative_to(ROOT)))
    return found


def table_names() -> set[str]:
    text = DESIGN.read_text()
    match = re.search(r"^## (?:\d+\. )?Lock order\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "docs/design.md has no '## Lock order' section"
    rows = [line for line in match.group(1).splitlines() if line.startswith("| `")]
    assert rows, "the Lock order section has no table rows"
    return {re.match(r"\| `([^`]+)`", row).group(1) for row in rows}  # type: ignore[union-attr]


def test_the_walk_finds_the_known_locks() -> None:
    """The walk itself works (a walk that finds nothing would pass the next test)."""
    found = lock_constructions()
    for name in ("Future._lock", "_Waiter._lock", "ThreadPoolExecutor._shutdown_lock",
                 "_exit_lock"):
        assert name in found, (name, sorted(found))


def test_every_lock_in_the_code_is_in_the_table() -> None:
    found = lock_constructions()
    assert "" not in found, f"locks made without a name: {found['']}"
    missing = {name: where for name, where in found.items() if name not in table_names()}
    assert not missing, f"locks missing from docs/design.md's lock-order table: {missing}"


def test_every_lock_in_the_table_is_in_the_code() -> None:
    stale = table_names() - set(lock_constructions())
    assert not stale, f"the lock-order table names locks the code no longer makes: {stale}"
