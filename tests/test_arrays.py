"""Arrays laid out for the engine: aligned buffers, a pool's two halves, a table's file."""

from __future__ import annotations

import numpy as np

from losslab._arrays import aligned, is_aligned, joined, mapped_file


def test_aligned_buffers_start_on_64_bytes() -> None:
    for rows in (1, 3, 1000):
        array = aligned((rows, 7))
        assert is_aligned(array) and array.dtype == np.float32 and array.shape == (rows, 7)
    assert not is_aligned(aligned((10, 7))[:, 1:])  # not contiguous


def test_two_halves_of_one_array_are_joined_without_a_copy() -> None:
    pool = aligned((10, 3))
    pool[:] = np.arange(30).reshape(10, 3)
    whole = joined(pool[:4], pool[4:])
    assert whole.ctypes.data == pool.ctypes.data and np.array_equal(whole, pool)
    inner = joined(pool[2:5], pool[5:9])
    assert inner.ctypes.data == pool[2:].ctypes.data and np.array_equal(inner, pool[2:9])


def test_parts_that_are_not_side_by_side_are_not_joined() -> None:
    pool = aligned((10, 3))
    assert joined(pool[:4], pool[5:]) is None  # a row between them
    assert joined(pool[4:], pool[:4]) is None  # the wrong way round
    assert joined(pool[:4].copy(), pool[4:]) is None  # another buffer
    assert joined(pool[:4].astype(np.float64), pool[4:].astype(np.float64)) is None  # not float32
    separate = [np.zeros((4, 3), np.float32), np.zeros((6, 3), np.float32)]
    assert joined(*separate) is None  # even where one buffer happens to end where the other starts


def test_an_npy_file_mapped_whole_is_known_by_its_path(tmp_path) -> None:
    path = tmp_path / "features.npy"
    np.save(path, np.arange(30, dtype=np.float32).reshape(10, 3))
    mapped = np.load(path, mmap_mode="r")
    assert mapped_file(mapped) == str(path) and is_aligned(mapped)
    assert mapped_file(joined(mapped[:4], mapped[4:])) == str(path)
    assert mapped_file(mapped[:5]) is None  # a part of the file
    assert mapped_file(np.array(mapped)) is None  # in memory
    raw = np.memmap(path, dtype=np.float32, mode="r", offset=0, shape=(10, 3))
    assert mapped_file(raw) is None  # the header read as numbers: not the file's array
