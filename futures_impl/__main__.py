"""``python -m futures_impl``: add or remove the opt-in start-up hook (a ``.pth`` file).

    python -m futures_impl --install-pth [--dir DIR | --user]   # write futures_impl_install.pth
    python -m futures_impl --remove-pth  [--dir DIR | --user]   # delete it
    python -m futures_impl --status      [--dir DIR | --user]   # say where it is

DIR defaults to this interpreter's site-packages (``sysconfig``'s ``purelib``: the
venv's, inside a venv); ``--user`` is the user site-packages. With the file there, every
interpreter started from that installation runs ``futures_impl._install.startup()``,
which calls ``install()`` only when ``FUTURES_IMPL_INSTALL`` is set to something other
than empty or ``0``; without the variable the cost is one ``os.environ`` look-up. See
docs/install.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import sysconfig

from ._install import ENV_VAR

PTH_NAME = "futures_impl_install.pth"
# One line; site.py executes .pth lines that start with "import".
PTH_LINE = (
    f'import os; os.environ.get("{ENV_VAR}", "") not in ("", "0") and '
    '__import__("futures_impl._install", fromlist=["startup"]).startup()\n'
)


def pth_path(directory: str | None = None) -> str:
    return os.path.join(directory or sysconfig.get_paths()["purelib"], PTH_NAME)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m futures_impl",
        description="Add or remove the opt-in start-up hook that makes concurrent.futures "
        f"resolve to futures_impl in interpreters started with {ENV_VAR}=1.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--install-pth", action="store_true", help=f"write {PTH_NAME}")
    action.add_argument("--remove-pth", action="store_true", help=f"delete {PTH_NAME}")
    action.add_argument("--status", action="store_true", help="where the file is, if anywhere")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--dir", help="the site directory (default: this interpreter's "
                       "site-packages)")
    where.add_argument("--user", action="store_true", help="the user site-packages")
    args = parser.parse_args(argv)
    if args.user:
        import site

        args.dir = site.getusersitepackages()
    path = pth_path(args.dir)
    try:
        if args.install_pth:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8") as f:
                f.write(PTH_LINE)
            print(f"wrote {path}; start Python with {ENV_VAR}=1 to use futures_impl as "
                  "concurrent.futures")
        elif args.remove_pth:
            try:
                os.remove(path)
            except FileNotFoundError:
                print(f"no {path}: nothing to remove")
            else:
                print(f"removed {path}")
    except OSError as exc:
        print(f"python -m futures_impl: {exc} (try --user or --dir DIR)", file=sys.stderr)
        return 1
    if args.status:
        present = os.path.exists(path)
        print(f"{path}: {'present' if present else 'absent'}; "
              f"{ENV_VAR}={os.environ.get(ENV_VAR, '')!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
