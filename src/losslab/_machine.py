"""What this machine lets a study use: a share of its memory (or of its cgroup's limit)."""

from __future__ import annotations

import os
from pathlib import Path

#: Share of the machine's memory a study may plan to use.
BUDGET_SHARE = 0.6


def memory_budget() -> int:
    """Bytes a study may use: :data:`BUDGET_SHARE` of physical memory or of a cgroup's limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = Path("/sys/fs/cgroup/memory.max")
    try:
        text = limit.read_text().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return int(BUDGET_SHARE * total)
