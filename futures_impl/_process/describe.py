"""Name a call from its pickled frame without running any of its code.

When a worker dies, the error says which call it was running: `module.qualname(args...)`.
The parent still has the call's frame (kept to send the call elsewhere), but unpickling
it there would run the call's own code in the parent (a `__reduce__` that crashes, say),
and keeping the call's objects alive until it is answered costs every call (the
allocator no longer reuses their memory at once). So the frame is read as data: its
opcodes (`pickletools.genops`) run on a small stack machine that builds only inert
values. Numbers, strings, bytes, None, booleans, tuples, lists, dicts and sets come out as
themselves; a global (the function) as its dotted name; anything built by calling
something (an object, a partial) as `<module.Class object>`. Whatever it does not know
gives up: the description is then None and the message goes without it.

Runs only on the rare path of a dead worker (pickletools is imported then).
"""

from __future__ import annotations

from .errors import describe_call

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _Named:
    """A global the frame refers to (a function, a class), by its dotted name; it has the
    `__module__` and `__qualname__` a function has, for describe_call()."""

    def __init__(self, module: str, qualname: str) -> None:
        self.__module__ = module
        self.__qualname__ = qualname

    def __repr__(self) -> str:
        return f"{self.__module__}.{self.__qualname__}"


class _Built:
    """What calling something would build (REDUCE, NEWOBJ...): shown by its maker."""

    __slots__ = ("maker", "args")

    def __init__(self, maker: object, args: object = ()) -> None:
        self.maker = maker
        self.args = args

    def __repr__(self) -> str:
        return f"<{self.maker!r} object>"


_ANNOUNCED = "futures_impl._process.worker.Announced"  # a timed call's wrapper


_MARK = object()
_MAX_OPCODES = 20_000  # a dead worker's error waits for its description: keep it quick
_PUSH_ARG = frozenset({
    "BININT", "BININT1", "BININT2", "INT", "LONG", "LONG1", "LONG4", "BINFLOAT", "FLOAT",
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "STRING", "BINSTRING",
    "SHORT_BINSTRING", "SHORT_BINBYTES", "BINBYTES", "BINBYTES8", "BYTEARRAY8",
})
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False, "EMPTY_TUPLE": ()}
_SKIP = frozenset({"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT", "STOP"})


def _pop_mark(stack: list[Any]) -> list[Any]:
    items: list[Any] = []
    while True:
        item = stack.pop()
        if item is _MARK:
            items.reverse()
            return items
        items.append(item)


def read_frame(frame: bytes | memoryview) -> Any:
    """The value a pickle frame holds, rebuilt from inert parts (see the module header).
    Raises on what it does not know (the caller gives up)."""
    import pickletools

    stack: list[Any] = []
    memo: list[Any] = []
    for count, (opcode, arg, _) in enumerate(pickletools.genops(bytes(frame))):
        if count > _MAX_OPCODES:
            raise ValueError("too long to describe")
        name = opcode.name
        if name in _SKIP:
            if name == "MEMOIZE":
                memo.append(stack[-1])
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                index = int(arg)  # type: ignore[arg-type]
                memo.extend([None] * (index + 1 - len(memo)))
                memo[index] = stack[-1]
            continue
        if name in _PUSH_ARG:
            stack.append(arg)
        elif name in _CONSTANTS:
            stack.append(_CONSTANTS[name])
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            stack.append(memo[int(arg)])  # type: ignore[arg-type]
        elif name == "MARK":
            stack.append(_MARK)
        elif name == "TUPLE":
            stack.append(tuple(_pop_mark(stack)))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            size = int(name[-1])
            items = stack[-size:]
            del stack[-size:]
            stack.append(tuple(items))
        elif name in ("EMPTY_LIST", "LIST"):
            stack.append(_pop_mark(stack) if name == "LIST" else [])
        elif name in ("EMPTY_DICT", "DICT"):
            items = _pop_mark(stack) if name == "DICT" else []
            stack.append(dict(zip(items[::2], items[1::2])))
        elif name in ("EMPTY_SET", "FROZENSET"):
            stack.append(set() if name == "EMPTY_SET" else frozenset(_pop_mark(stack)))
        elif name in ("APPEND", "APPENDS"):
            items = [stack.pop()] if name == "APPEND" else _pop_mark(stack)
            if isinstance(stack[-1], list):  # else a built object's items: not shown
                stack[-1].extend(items)
        elif name in ("SETITEM", "SETITEMS"):
            items = stack[-2:] if name == "SETITEM" else _pop_mark(stack)
            if name == "SETITEM":
                del stack[-2:]
            if isinstance(stack[-1], dict):
                stack[-1].update(zip(items[::2], items[1::2]))
        elif name == "ADDITEMS":
            items = _pop_mark(stack)
            if isinstance(stack[-1], set):
                stack[-1].update(items)
        elif name == "GLOBAL":
            module, _, qualname = str(arg).partition(" ")
            stack.append(_Named(module, qualname))
        elif name == "STACK_GLOBAL":
            qualname = stack.pop()
            module = stack.pop()
            stack.append(_Named(str(module), str(qualname)))
        elif name in ("REDUCE", "NEWOBJ"):
            arguments = stack.pop()
            stack[-1] = _Built(stack[-1], arguments)
        elif name == "NEWOBJ_EX":
            del stack[-2:]  # args, kwargs
            stack[-1] = _Built(stack[-1])
        elif name == "BUILD":
            stack.pop()  # the state: the object stays what it was
        elif name == "OBJ":
            items = _pop_mark(stack)
            stack.append(_Built(items[0]))
        elif name == "INST":
            _pop_mark(stack)
            module, _, qualname = str(arg).partition(" ")
            stack.append(_Built(_Named(module, qualname)))
        else:  # PERSID, EXT*, NEXT_BUFFER...: not ours to guess
            raise ValueError(f"pickle opcode {name} not understood")
    return stack[-1]


def describe_frame(frame: bytes | memoryview | None) -> str | None:
    """`module.qualname(args...)` of a call frame (work_id, fn, args, kwargs), or None."""
    if frame is None:
        return None
    try:
        _, fn, args, kwargs = read_frame(frame)
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            return None
        if isinstance(fn, _Built) and repr(fn.maker) == _ANNOUNCED:
            (fn,) = fn.args  # type: ignore[misc]  # a timed call: the function inside
        return describe_call(fn, args, kwargs)
    except Exception:  # noqa: BLE001 - a description is best effort
        return None
