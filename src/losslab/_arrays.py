"""Arrays laid out for the engine: buffers a CPU device takes as they are, and a problem's pool.

A CPU device uses a NumPy buffer in place (``jax.device_put(..., may_alias=True)``) when it is
C-contiguous and starts on a 64-byte boundary; otherwise it copies it. A problem from data keeps
its features as one such float32 buffer, the train rows then the test rows (its ``X_train`` and
``X_test`` are the two halves), so the engine trains on the problem's own memory, or on the pages
of a table kept on disk, with no copy.
"""

from __future__ import annotations

import math

import numpy as np

#: The alignment, in bytes, that lets a CPU device use a host buffer in place.
ALIGNMENT = 64


def aligned(shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    """An empty array whose data start on a 64-byte boundary: ``jax.device_put(...,
    may_alias=True)`` then lets a CPU device use it in place instead of copying it."""
    n_bytes = math.prod(shape) * np.dtype(dtype).itemsize
    raw = np.empty(n_bytes + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    return raw[start:start + n_bytes].view(dtype).reshape(shape)


def is_aligned(array: np.ndarray) -> bool:
    """Whether a CPU device can use ``array`` in place: C-contiguous, on a 64-byte boundary."""
    return bool(array.flags.c_contiguous) and array.ctypes.data % ALIGNMENT == 0


def joined(first: np.ndarray, second: np.ndarray) -> np.ndarray | None:
    """The float32 array whose rows are ``first``'s then ``second``'s, when the two lie side by
    side in one buffer (a view of it); None when they do not."""
    owner = _owner(first)
    if (first.dtype != np.float32 or second.dtype != np.float32 or first.shape[1:] != second.shape[1:]
            or not first.flags.c_contiguous or not second.flags.c_contiguous or _owner(second) is not owner
            or not owner.flags.c_contiguous or second.ctypes.data != first.ctypes.data + first.nbytes):
        return None
    offset = first.ctypes.data - owner.ctypes.data
    if offset < 0 or offset + first.nbytes + second.nbytes > owner.nbytes:
        return None
    return np.ndarray((len(first) + len(second), *first.shape[1:]), np.float32, buffer=owner, offset=offset)


def _owner(array: np.ndarray) -> np.ndarray:
    """The array that holds ``array``'s memory (a memory map's array for a file's pages)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def mapped_file(array: np.ndarray) -> str | None:
    """The ``.npy`` file ``array`` is the whole of, mapped into memory (``np.load(path,
    mmap_mode="r")``), or None."""
    owner = _owner(array)
    if not isinstance(owner, np.memmap) or owner.filename is None:
        return None
    if array.ctypes.data != owner.ctypes.data or array.nbytes != owner.nbytes:
        return None
    try:
        with open(owner.filename, "rb") as handle:
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(np.lib.format.read_magic(handle))
            if read_header is None:
                return None
            shape, fortran, dtype = read_header(handle)
            start, end = handle.tell(), handle.seek(0, 2)
    except (OSError, ValueError):
        return None
    whole = (shape, fortran, dtype, start, end) == (owner.shape, False, owner.dtype, owner.offset, start + owner.nbytes)
    return str(owner.filename) if whole else None
