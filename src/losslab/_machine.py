"""What this machine lets a study use: a share of its memory (or of its cgroup's limit)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

#: Share of the machine's memory a study may plan to use.
BUDGET_SHARE = 0.6


def memory_budget() -> int:
    """Bytes a study may use: :data:`BUDGET_SHARE` of physical memory or of the process's cgroup's
    limit (version 2's ``memory.max``, or version 1's ``memory.limit_in_bytes``)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for limit in _cgroup_limits():
        try:
            text = limit.read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return int(BUDGET_SHARE * total)


def _cgroup_limits() -> list[Path]:
    """The files that may hold this process's memory limit: its cgroup's and every ancestor's."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    files = []
    for line in ["0::/", "1:memory:/", *lines]:  # "4:memory:/a/b" (version 1) or "0::/a/b" (version 2)
        hierarchy = line.split(":", 2)
        if len(hierarchy) != 3:
            continue
        _, controllers, path = hierarchy
        if "memory" in controllers.split(","):
            root, name = Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"
        elif not controllers:
            root, name = Path("/sys/fs/cgroup"), "memory.max"
        else:
            continue
        parts = Path(path.lstrip("/")).parts
        files += [root.joinpath(*parts[:depth], name) for depth in range(len(parts) + 1)]
    return files


#: glibc's ``mallopt`` parameter for the most allocation arenas.
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Ask glibc's allocator for at most ``arenas`` arenas, before the threads start; whether it
    took the request (False off glibc). Each thread that allocates (training, compiling, reading)
    otherwise gets an arena of its own, up to eight per core, and each keeps what its thread
    freed: on a 4,000,000-row table kept on disk, 1.48 GiB of memory at the peak against 1.20 GiB
    with two arenas, in the same time. Compiling is slower in two arenas (the tutorial's
    replication from an empty cache took 14.5-14.8 s in two, 13.7-14.1 s without the limit), so
    the command line asks for them only for one's own data that may be kept on disk (not with
    --in-memory)."""
    name = ctypes.util.find_library("c")
    if not name or "libc" not in name:
        return False
    try:
        return bool(ctypes.CDLL(name).mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # another C library, without mallopt
        return False
