"""futures_impl.cpu_count() and max_workers="auto" (issue 16).

The cgroup readings run against fake trees built in tmp_path (`cgroup_cpu_limit(root)`
reads every file under `root`): cgroup v1 and v2, nested groups, "max", missing files,
garbage. The affinity is checked for real in a child process pinned to one CPU.
"""

from __future__ import annotations

import concurrent.futures as std
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import futures_impl
from futures_impl import _cpus

V2_MOUNT = "31 23 0:28 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = (
    "31 23 0:28 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
    "33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
)


def write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


def v2_tree(root: Path, cgroup: str, limits: dict[str, str], mountinfo: bool = True) -> Path:
    """A cgroup v2 tree: the process in `cgroup`, cpu.max in the groups of `limits`."""
    write(root, "/proc/self/cgroup", f"0::{cgroup}\n")
    if mountinfo:
        write(root, "/proc/self/mountinfo", V2_MOUNT)
    (root / "sys/fs/cgroup" / cgroup.lstrip("/")).mkdir(parents=True, exist_ok=True)
    for group, text in limits.items():
        write(root, f"/sys/fs/cgroup/{group.strip('/')}/cpu.max".replace("//", "/"), text)
    return root


def v1_tree(root: Path, cgroup: str, quota: str | None, period: str | None) -> Path:
    write(root, "/proc/self/cgroup",
          f"12:memory:/elsewhere\n4:cpu,cpuacct:{cgroup}\n1:name=systemd:{cgroup}\n0::/\n")
    write(root, "/proc/self/mountinfo", V1_MOUNTS)
    directory = f"/sys/fs/cgroup/cpu,cpuacct/{cgroup.strip('/')}".rstrip("/")
    (root / directory.lstrip("/")).mkdir(parents=True, exist_ok=True)
    if quota is not None:
        write(root, f"{directory}/cpu.cfs_quota_us", quota + "\n")
    if period is not None:
        write(root, f"{directory}/cpu.cfs_period_us", period + "\n")
    return root


# -- cgroup v2 ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("200000 100000\n", 2),
        ("150000 100000\n", 2),  # 1.5 CPUs: rounded up
        ("50000 100000\n", 1),  # half a CPU: still one worker
        ("400000 50000\n", 8),
        ("300000\n", 3),  # no period: the kernel's default, 100000
        ("max 100000\n", None),
        ("max\n", None),
        ("", None),
        ("lots of CPUs\n", None),
        ("-5 100000\n", None),
        ("100000 0\n", None),
    ],
)
def test_v2_cpu_max(tmp_path: Path, text: str, expected: int | None) -> None:
    root = v2_tree(tmp_path, "/", {"/": text})
    assert _cpus.cgroup_cpu_limit(str(root)) == expected


def test_v2_nested_groups_take_the_tightest_quota(tmp_path: Path) -> None:
    root = v2_tree(tmp_path, "/a/b/c", {"/a": "300000 100000", "/a/b": "max 100000",
                                        "/a/b/c": "500000 100000"})
    assert _cpus.cgroup_cpu_limit(str(root)) == 3  # the parent's limit binds the child
    write(tmp_path, "/sys/fs/cgroup/a/b/c/cpu.max", "120000 100000")
    assert _cpus.cgroup_cpu_limit(str(root)) == 2


def test_v2_missing_cpu_max_is_no_limit(tmp_path: Path) -> None:
    root = v2_tree(tmp_path, "/user.slice/session", {})
    assert _cpus.cgroup_cpu_limit(str(root)) is None


def test_v2_without_mountinfo_uses_sys_fs_cgroup(tmp_path: Path) -> None:
    root = v2_tree(tmp_path, "/box", {"/box": "250000 100000"}, mountinfo=False)
    assert _cpus.cgroup_cpu_limit(str(root)) == 3


def test_v2_mount_elsewhere_with_escaped_space(tmp_path: Path) -> None:
    write(tmp_path, "/proc/self/cgroup", "0::/job\n")
    write(tmp_path, "/proc/self/mountinfo",
          "40 1 0:40 / /mnt/my\\040cgroups rw - cgroup2 none rw\n")
    write(tmp_path, "/mnt/my cgroups/job/cpu.max", "100000 100000\n")
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) == 1


def test_v2_cgroup_namespace_mount_root(tmp_path: Path) -> None:
    # Inside a container without its own cgroup namespace: the mount's root is the
    # container's group and /proc/self/cgroup names the same path from the host's view.
    write(tmp_path, "/proc/self/cgroup", "0::/docker/abc\n")
    write(tmp_path, "/proc/self/mountinfo",
          "31 23 0:28 /docker/abc /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    write(tmp_path, "/sys/fs/cgroup/cpu.max", "200000 100000\n")
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) == 2


def test_v2_path_below_the_mount_root(tmp_path: Path) -> None:
    # The mount shows the hierarchy from /kubepods down: /kubepods/pod1 is pod1 there.
    write(tmp_path, "/proc/self/cgroup", "0::/kubepods/pod1\n")
    write(tmp_path, "/proc/self/mountinfo",
          "31 23 0:28 /kubepods /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")
    write(tmp_path, "/sys/fs/cgroup/pod1/cpu.max", "100000 100000\n")
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) == 1


def test_path_not_under_the_mount_falls_back_to_the_mount_point(tmp_path: Path) -> None:
    write(tmp_path, "/proc/self/cgroup", "0::/host/view/of/us\n")
    write(tmp_path, "/proc/self/mountinfo", V2_MOUNT)
    write(tmp_path, "/sys/fs/cgroup/cpu.max", "100000 100000\n")
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) == 1


# -- cgroup v1 ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("quota", "period", "expected"),
    [
        ("200000", "100000", 2),
        ("150000", "100000", 2),
        ("10000", "100000", 1),
        ("-1", "100000", None),  # no quota
        (None, "100000", None),
        ("200000", None, None),
        ("two", "100000", None),
        ("200000", "", None),
    ],
)
def test_v1_cfs_quota(tmp_path: Path, quota: str | None, period: str | None,
                      expected: int | None) -> None:
    root = v1_tree(tmp_path, "/docker/abc", quota, period)
    assert _cpus.cgroup_cpu_limit(str(root)) == expected


def test_v1_wins_over_the_unified_hierarchy_in_hybrid_mode(tmp_path: Path) -> None:
    root = v1_tree(tmp_path, "/", "300000", "100000")
    with open(root / "proc/self/mountinfo", "a") as file:
        file.write("41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n")
    write(root, "/sys/fs/cgroup/unified/cpu.max", "100000 100000\n")
    assert _cpus.cgroup_cpu_limit(str(root)) == 3


def test_v1_parent_quota_binds(tmp_path: Path) -> None:
    root = v1_tree(tmp_path, "/kubepods/pod1/ctr", "-1", "100000")
    write(root, "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us", "50000")
    write(root, "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us", "100000")
    assert _cpus.cgroup_cpu_limit(str(root)) == 1


def test_v1_without_mountinfo_uses_the_usual_path(tmp_path: Path) -> None:
    root = v1_tree(tmp_path, "/", "400000", "100000")
    (root / "proc/self/mountinfo").unlink()
    assert _cpus.cgroup_cpu_limit(str(root)) == 4


# -- nothing to read ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "cgroup_file",
    [None, "", "garbage without colons\n", "3:memory:/x\n", "0::/\n"],
)
def test_no_cgroup_information_is_no_limit(tmp_path: Path, cgroup_file: str | None) -> None:
    if cgroup_file is not None:
        write(tmp_path, "/proc/self/cgroup", cgroup_file)
    # No mountinfo and no /sys/fs/cgroup either.
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) is None


def test_garbage_mountinfo_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "/proc/self/cgroup", "0::/g\n")
    write(tmp_path, "/proc/self/mountinfo", "nonsense\n- - -\n1 2 3 - cgroup2\n")
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) is None


# -- cpu_count() --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("affinity", "limit", "expected"),
    [(8, None, 8), (8, 2, 2), (2, 8, 2), (0, None, 1), (4, 1, 1)],
)
def test_cpu_count_is_the_smaller_of_affinity_and_quota(
    monkeypatch: pytest.MonkeyPatch, affinity: int, limit: int | None, expected: int
) -> None:
    monkeypatch.setattr(_cpus, "affinity_count", lambda: affinity)
    monkeypatch.setattr(_cpus, "cgroup_cpu_limit", lambda root="/": limit)
    assert futures_impl.cpu_count() == expected


def test_cpu_count_on_this_machine() -> None:
    count = futures_impl.cpu_count()
    assert 1 <= count <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert count <= len(os.sched_getaffinity(0))


def run_child(code: str) -> str:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return out.strip()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_affinity_is_honoured_in_a_pinned_process() -> None:
    out = run_child("""
        import os
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        import futures_impl
        from futures_impl import ThreadPoolExecutor, ProcessPoolExecutor
        t = ThreadPoolExecutor("auto")
        p = ProcessPoolExecutor("auto")
        print(futures_impl.cpu_count(), t._max_workers, p._max_workers)
        p.shutdown()
    """)
    assert out == "1 5 1"


def test_cpu_count_loads_neither_executor_nor_multiprocessing() -> None:
    out = run_child("""
        import sys
        import futures_impl
        assert futures_impl.cpu_count() >= 1
        print(sorted(m for m in ("multiprocessing", "futures_impl.thread",
                                 "futures_impl.process", "logging") if m in sys.modules))
    """)
    assert out == "[]"


def test_cpu_count_is_listed_but_not_in_all() -> None:
    assert "cpu_count" in dir(futures_impl)
    assert "cpu_count" not in futures_impl.__all__  # the stdlib has no such name


# -- max_workers="auto" -------------------------------------------------------------------
@pytest.mark.parametrize(("cpus", "threads"), [(1, 5), (3, 7), (28, 32), (64, 32)])
def test_thread_pool_auto(monkeypatch: pytest.MonkeyPatch, cpus: int, threads: int) -> None:
    monkeypatch.setattr(_cpus, "cpu_count", lambda: cpus)
    with futures_impl.ThreadPoolExecutor("auto") as executor:
        assert executor._max_workers == threads
        assert executor.submit(pow, 2, 5).result(timeout=30) == 32
    with futures_impl.ThreadPoolExecutor(max_workers="auto") as executor:
        assert executor._max_workers == threads


@pytest.mark.parametrize("cpus", [1, 3])
def test_process_pool_auto(monkeypatch: pytest.MonkeyPatch, cpus: int) -> None:
    monkeypatch.setattr(_cpus, "cpu_count", lambda: cpus)
    executor = futures_impl.ProcessPoolExecutor(max_workers="auto")
    try:
        assert executor._max_workers == cpus
    finally:
        executor.shutdown(wait=True)


def test_defaults_stay_the_stdlibs() -> None:
    with futures_impl.ThreadPoolExecutor() as ours, std.ThreadPoolExecutor() as theirs:
        assert ours._max_workers == theirs._max_workers  # type: ignore[attr-defined]
    ours_p, theirs_p = futures_impl.ProcessPoolExecutor(), std.ProcessPoolExecutor()
    try:
        assert ours_p._max_workers == theirs_p._max_workers  # type: ignore[attr-defined]
    finally:
        ours_p.shutdown()
        theirs_p.shutdown()


@pytest.mark.parametrize("bad", ["Auto", "x", "", "AUTO", " auto"])
@pytest.mark.parametrize("kind", ["ThreadPoolExecutor", "ProcessPoolExecutor"])
def test_other_strings_are_refused_as_the_stdlib_refuses_them(kind: str, bad: str) -> None:
    # The stdlib refuses every string with a TypeError from its `<= 0` check; any string
    # but "auto" gets the very same error here (drop-in: same type, same message).
    with pytest.raises(TypeError) as theirs:
        getattr(std, kind)(bad)
    with pytest.raises(TypeError) as ours:
        getattr(futures_impl, kind)(bad)
    assert str(ours.value) == str(theirs.value)
