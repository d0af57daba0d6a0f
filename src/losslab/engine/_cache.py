"""JAX's persistent compilation cache, so a repeated invocation does not recompile."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import jax


def cache_dir() -> Path:
    """``$LOSSLAB_CACHE_DIR``, else ``$XDG_CACHE_HOME/losslab/jax``, else ``~/.cache/losslab/jax``."""
    if os.environ.get("LOSSLAB_CACHE_DIR"):
        return Path(os.environ["LOSSLAB_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "losslab" / "jax"


@cache
def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent cache at :func:`cache_dir` (once per process).

    Returns the directory, or ``None`` when it cannot be created (then programs simply compile
    every time).
    """
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path

