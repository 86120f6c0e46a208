"""`python -m futures_impl`: the command that adds or removes the start-up hook (.pth file).

What a user sees: the file written where asked (--dir, --user, else this interpreter's
site-packages) with the one line site.py executes, clear messages for each action and
state, exit status 1 with a hint when the directory cannot be written, and argparse's
usage errors for contradictory options. Called in-process through `main(argv)` with
temporary directories (nothing is written outside tmp_path); test_install.py runs the
command itself in child interpreters.
"""

from __future__ import annotations

import os
import site
import sys
import sysconfig
from pathlib import Path

import pytest

from futures_impl import __main__ as cli
from futures_impl._install import ENV_VAR


def test_default_directory_is_this_interpreters_site_packages() -> None:
    expected = os.path.join(sysconfig.get_paths()["purelib"], "futures_impl_install.pth")
    assert cli.pth_path() == expected
    assert cli.pth_path("/some/dir") == os.path.join("/some/dir", "futures_impl_install.pth")


def test_install_status_remove_cycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    site_dir = tmp_path / "new" / "site"  # created on demand
    pth = site_dir / "futures_impl_install.pth"
    assert cli.main(["--status", "--dir", str(site_dir)]) == 0
    assert capsys.readouterr().out == f"{pth}: absent; {ENV_VAR}=''\n"

    assert cli.main(["--install-pth", "--dir", str(site_dir)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wrote {pth}; start Python with {ENV_VAR}=1")
    assert pth.read_text(encoding="utf-8") == cli.PTH_LINE
    assert cli.PTH_LINE.startswith("import ") and cli.PTH_LINE.count("\n") == 1  # site.py's rule

    monkeypatch.setenv(ENV_VAR, "1")
    assert cli.main(["--status", "--dir", str(site_dir)]) == 0
    assert capsys.readouterr().out == f"{pth}: present; {ENV_VAR}='1'\n"

    assert cli.main(["--remove-pth", "--dir", str(site_dir)]) == 0
    assert capsys.readouterr().out == f"removed {pth}\n"
    assert not pth.exists()
    assert cli.main(["--remove-pth", "--dir", str(site_dir)]) == 0  # nothing there: not an error
    assert capsys.readouterr().out == f"no {pth}: nothing to remove\n"


def test_install_twice_leaves_one_line(tmp_path: Path) -> None:
    for _ in range(2):
        assert cli.main(["--install-pth", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "futures_impl_install.pth").read_text(encoding="utf-8") == cli.PTH_LINE


def test_user_means_the_user_site_packages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user_site = tmp_path / "user-site"
    monkeypatch.setattr(site, "getusersitepackages", lambda: str(user_site))
    assert cli.main(["--install-pth", "--user"]) == 0
    assert (user_site / "futures_impl_install.pth").exists()
    assert cli.main(["--remove-pth", "--user"]) == 0
    assert not (user_site / "futures_impl_install.pth").exists()
    assert capsys.readouterr().out.splitlines()[-1].startswith("removed ")


def test_unwritable_directory_fails_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    assert cli.main(["--install-pth", "--dir", str(not_a_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("python -m futures_impl: ") and err.endswith(
        "(try --user or --dir DIR)\n")


def test_remove_failure_other_than_absence_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "futures_impl_install.pth").mkdir()  # os.remove() refuses a directory
    assert cli.main(["--remove-pth", "--dir", str(tmp_path)]) == 1
    assert "(try --user or --dir DIR)" in capsys.readouterr().err
    assert (tmp_path / "futures_impl_install.pth").is_dir()


@pytest.mark.parametrize(
    "argv",
    [
        [],  # an action is required
        ["--install-pth", "--remove-pth"],
        ["--status", "--dir", "x", "--user"],
        ["--status", "--bogus"],
    ],
    ids=["no-action", "two-actions", "dir-and-user", "unknown-option"],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        cli.main(argv)
    assert exc_info.value.code == 2
    assert capsys.readouterr().err.startswith("usage: python -m futures_impl")


def test_module_entry_point_reports_status(tmp_path: Path) -> None:
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "futures_impl", "--status", "--dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, ENV_VAR: "0"},
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{tmp_path / 'futures_impl_install.pth'}: absent; {ENV_VAR}='0'\n"
