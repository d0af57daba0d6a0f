"""Files written whole: a folder checked writable, a file renamed into place once complete."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from losslab.errors import LosslabError


def ensure_out_dir(out_dir: str | Path, fix: str = "choose another --out") -> Path:
    """Create ``out_dir`` if needed and check it is writable; a clear error, ending in ``fix``, if not."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".losslab-write-test.{os.getpid()}.{threading.get_ident()}"  # unique: writers run at once
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LosslabError(f"cannot write to the output directory {str(out)!r} ({exc.strerror}); {fix}") from exc
    return out


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write(temporary path)`` and rename it into place when complete.

    The temporary name is unique to the process, so two runs writing the same file never write
    into one temporary file, and a reader never sees a partial file under the final name.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_binary(path: Path, save: Callable[..., object], *args: object, **kwargs: object) -> None:
    """``save`` (``np.save``, ``np.savez``) into ``path`` through a handle, so that NumPy does not
    add its own suffix to a temporary name."""
    with path.open("wb") as handle:
        save(handle, *args, **kwargs)


@contextlib.contextmanager
def held(lock: Path) -> Iterator[None]:
    """An exclusive lock on the file ``lock`` (made if missing), waited for while another
    process holds it, and released when the block ends (or the process does)."""
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
