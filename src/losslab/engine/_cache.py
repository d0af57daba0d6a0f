"""JAX's persistent compilation cache, so a repeated invocation does not recompile."""

from __future__ import annotations

import contextlib
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
    if not os.access(path, os.W_OK):  # readable but not writable: nothing would be kept
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def raising_cache_errors() -> contextlib.AbstractContextManager:
    """A block in which JAX raises a persistent-cache error instead of warning, in this thread only
    (JAX's switch is thread-local); a JAX without the switch gets a block that changes nothing."""
    try:
        from jax._src.config import raise_persistent_cache_errors  # no public alias of the context manager
    except ImportError:  # pragma: no cover - then cache errors stay JAX's warnings
        return contextlib.nullcontext()
    return raise_persistent_cache_errors(True)


def discard_unreadable_entries() -> int:
    """Remove cache entries that do not decompress, so that the next compilation writes them anew
    (JAX skips writing a key that exists, and would re-read and recompile on every run)."""
    path = enable_compilation_cache()
    if path is None:
        return 0
    removed = 0
    for entry in path.glob("*-cache"):
        try:
            _decompress(entry.read_bytes())
        except Exception:  # any failure to decode is an unusable entry
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


def _decompress(data: bytes) -> bytes:
    try:  # JAX's own reader, so that an entry is judged exactly as JAX will read it
        from jax._src.compilation_cache import decompress_executable
    except ImportError:  # pragma: no cover - a JAX without it: zlib, its fallback
        import zlib

        return zlib.decompress(data)
    return decompress_executable(data)
