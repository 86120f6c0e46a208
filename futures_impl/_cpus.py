"""cpu_count(): the CPUs this process may really use, for `max_workers="auto"`.

Why: `os.cpu_count()` counts the machine's CPUs. A process pinned to two of them
(taskset, `os.sched_setaffinity`) or run in a container with a CPU quota
(`docker --cpus=2`, a Kubernetes CPU limit) gets far less, and a pool sized by the
machine's count then runs many more workers than it has CPUs. The stdlib's defaults stay
as they are (conformance); this count is used only when asked for (`max_workers="auto"`
on ThreadPoolExecutor and ProcessPoolExecutor, or `futures_impl.cpu_count()` directly).

How: the smallest of
1. the CPUs the process may run on: `os.process_cpu_count()` (3.13+), else
   `len(os.sched_getaffinity(0))` where it exists, else `os.cpu_count()`;
2. the cgroup's CPU quota, rounded up (1.5 CPUs of quota -> 2 workers): cgroup v2's
   `cpu.max` ("max 100000": no limit; "200000 100000": 2 CPUs), cgroup v1's
   `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1: no limit). The process's cgroup
   comes from /proc/self/cgroup, the controller's mount point from /proc/self/mountinfo
   (or /sys/fs/cgroup when that cannot be read). The quota of every cgroup from the
   process's own up to the mount point counts (a parent's limit binds its children).
Never below 1. Files that are missing, unreadable or malformed mean "no limit known":
the count falls back to the affinity, never fails.

Every file is read under `root` ("/" in use; a fake tree in the tests). A leaf: only `os`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def cpu_count() -> int:
    """The CPUs this process may use: its CPU affinity, bounded by the cgroup CPU
    quota (rounded up); at least 1.

    The affinity is ``os.process_cpu_count()`` where it exists, else
    ``os.sched_getaffinity``; the quota is cgroup v2's ``cpu.max`` or v1's
    ``cpu.cfs_quota_us``/``cpu.cfs_period_us``, of the process's cgroup and every parent.
    An unreadable or malformed file counts as no quota. ``futures_impl.cpu_count()``;
    ``max_workers="auto"`` of the pools uses it.
    """
    return _count(affinity_count(), cgroup_cpu_limit())


def _count(affinity: int, limit: int | None) -> int:
    if limit is not None:
        affinity = min(affinity, limit)
    return max(1, affinity)


def affinity_count() -> int:
    """CPUs the process may run on (1 when unknown)."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return int(counter() or 1)
    getaffinity = getattr(os, "sched_getaffinity", None)
    if getaffinity is not None:
        try:
            return len(getaffinity(0)) or 1
        except OSError:
            pass
    return os.cpu_count() or 1


def cgroup_cpu_limit(root: str = "/") -> int | None:
    """The cgroup CPU quota of this process in whole CPUs (rounded up, at least 1), or
    None for no quota or none that can be read. Files are read under `root`."""
    cgroups = _read(root, "/proc/self/cgroup")
    if cgroups is None:
        return None
    v1_path = v2_path = None
    for line in cgroups.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            v2_path = path
        elif "cpu" in controllers.split(","):
            v1_path = path
    # The cpu controller belongs to one hierarchy: a v1 one when it is listed there.
    if v1_path is not None:
        return _min_limit(_directories(root, v1_path, version=1), _v1_limit)
    if v2_path is not None:
        return _min_limit(_directories(root, v2_path, version=2), _v2_limit)
    return None


def _min_limit(
    directories: Iterator[str], read_limit: Callable[[str], int | None]
) -> int | None:
    limits = [limit for limit in map(read_limit, directories) if limit is not None]
    return min(limits) if limits else None


def _directories(root: str, cgroup_path: str, version: int) -> Iterator[str]:
    """The process's cgroup directory, then each parent up to the mount point."""
    mount = _mount(root, version)
    if mount is None:
        return
    mount_root, mount_point = mount
    # Under a cgroup namespace the path is relative to the mount's root; outside one
    # the mount's root is "/" (or a prefix of the path, as in some containers).
    relative = cgroup_path
    if mount_root != "/" and (relative == mount_root or relative.startswith(mount_root + "/")):
        relative = relative[len(mount_root):]
    parts = [part for part in relative.split("/") if part and part not in (".", "..")]
    base = _under(root, mount_point)
    if not os.path.isdir(os.path.join(base, *parts)):
        parts = []  # a path from outside our namespace: the mount point is ours
    while True:
        yield os.path.join(base, *parts)
        if not parts:
            return
        parts.pop()


def _mount(root: str, version: int) -> tuple[str, str] | None:
    """(root within the hierarchy, mount point) of the cgroup hierarchy with the cpu
    controller (v1) or of the unified one (v2)."""
    mountinfo = _read(root, "/proc/self/mountinfo")
    for line in (mountinfo or "").splitlines():
        fields = line.split()
        if "-" not in fields:
            continue
        dash = fields.index("-")
        if dash < 5 or len(fields) < dash + 4:
            continue
        fstype, options = fields[dash + 1], fields[dash + 3].split(",")
        if (version == 2 and fstype == "cgroup2") or (
            version == 1 and fstype == "cgroup" and "cpu" in options
        ):
            return _unescape(fields[3]), _unescape(fields[4])
    # No mountinfo (or no line for it): the usual places.
    candidates = (
        ("/sys/fs/cgroup",) if version == 2
        else ("/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct,cpu")
    )
    for candidate in candidates:
        if os.path.isdir(_under(root, candidate)):
            return "/", candidate
    return None


def _v2_limit(directory: str) -> int | None:
    text = _read(directory, "cpu.max")
    if text is None:
        return None
    fields = text.split()
    if not fields or fields[0] == "max":
        return None
    period = fields[1] if len(fields) > 1 else "100000"  # the kernel's default period
    return _quota(fields[0], period)


def _v1_limit(directory: str) -> int | None:
    quota = _read(directory, "cpu.cfs_quota_us")
    period = _read(directory, "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _quota(quota.strip(), period.strip())


def _quota(quota: str, period: str) -> int | None:
    """ceil(quota / period), at least 1; None for no limit (-1) or malformed numbers."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    if q <= 0 or p <= 0:
        return None
    return max(1, -(-q // p))


def _under(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _read(root: str, path: str) -> str | None:
    try:
        with open(_under(root, path), encoding="ascii", errors="replace") as file:
            return file.read()
    except (OSError, ValueError):
        return None


def _unescape(field: str) -> str:
    """mountinfo writes space, tab, newline and backslash as octal escapes (\\040)."""
    if "\\" not in field:
        return field
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field
