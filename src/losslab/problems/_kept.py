"""A problem kept in a folder, to load alone later: a study's, or a table prepared on disk.

==========================  ==============================================================
``features.npy``            the features, float32, the train rows then the test rows (a
                            hard link to the file of a table kept on disk where it can be,
                            not a copy), read back as a memory map
``problem.npz``             the targets
``problem.json``            the rest: names, kind, classes, scales, preparation
==========================  ==============================================================

Each file is written whole under a temporary name and renamed into place.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import numpy as np

from losslab._arrays import mapped_file
from losslab._files import atomic_write, write_binary
from losslab._plain import plain
from losslab.problems._problem import Problem

FEATURES = "features.npy"
FIELDS = ("name", "kind", "n_classes", "feature_names", "target_name", "class_names", "description",
          "tutorial", "target_scale", "target_mean", "target_policy")


def save_problem(folder: Path, problem: Problem) -> None:
    """Keep ``problem`` in ``folder`` (which exists)."""
    keep_features(folder / FEATURES, problem.pool())
    meta = {k: getattr(problem, k) for k in FIELDS} | {"preparation": dict(problem.preparation)}
    atomic_write(folder / "problem.npz", lambda p: write_binary(p, np.savez, y_train=problem.y_train, y_test=problem.y_test))
    atomic_write(folder / "problem.json", lambda p: p.write_text(json.dumps(plain(meta), indent=2, default=str)))


def keep_features(path: Path, pool: np.ndarray) -> None:
    """Keep ``pool`` as the ``.npy`` file ``path``: a hard link to the file it is mapped from
    (no copy of a large table per study), else the array written out."""
    source = mapped_file(pool)
    if source is not None and Path(source).resolve() == path.resolve():
        return  # the features are that file already
    if source is not None:
        with contextlib.suppress(OSError):  # another file system, or links not allowed: write it out
            atomic_write(path, lambda tmp: os.link(source, tmp))
            return
    atomic_write(path, lambda tmp: write_binary(tmp, np.save, pool))


def load_problem(folder: Path) -> Problem:
    """The problem kept in ``folder``, its features mapped from ``features.npy``."""
    meta = json.loads((folder / "problem.json").read_text())
    with np.load(folder / "problem.npz", allow_pickle=False) as saved:
        y_train, y_test = saved["y_train"], saved["y_test"]
    pool = np.load(folder / FEATURES, mmap_mode="r")
    return Problem(X_train=pool[:len(y_train)], y_train=y_train, X_test=pool[len(y_train):], y_test=y_test,
                   **{k: tuple(v) if isinstance(v, list) else v for k, v in meta.items()})

