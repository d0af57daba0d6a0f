"""The settings a study gets when it names none: the tutorial's set-up, or one that suits data."""

from __future__ import annotations

import math
import warnings
from types import MappingProxyType

from losslab._machine import memory_budget
from losslab.problems import DataNote, Problem
from losslab.settings import SHUFFLE_BLOCK, SHUFFLE_WINDOW, Settings

#: The tutorial's set-up for each of its problems (hidden units and epochs; SGD, learning rate
#: 0.01, momentum 0.9 and batches of 32 are :class:`Settings`' defaults).
TUTORIAL_SETTINGS = MappingProxyType({
    "regression": Settings(hidden=(25,), epochs=100),
    "circles": Settings(hidden=(50,), epochs=200),
    "blobs": Settings(hidden=(50,), epochs=100),
    "positive_regression": Settings(hidden=(25,), epochs=100),  # the regression problem's set-up
})

#: The training process's own memory per row of a table (its targets, splits and each run's row
#: numbers), measured: 1.2 GiB for 4,000,000 rows. What is left of the budget holds the pages of a
#: table kept on disk.
PROCESS_ROW_BYTES = 300

#: Own-data problems train for about 400 SGD updates, a quarter of the tutorial's 1,600
#: (100 epochs x 16 batches); see :func:`own_data_settings`.
OWN_DATA_UPDATES = 400


def own_data_settings(n_train: int) -> Settings:
    """Default settings for a problem built from data: 50 hidden units, and epochs for ~400 updates.

    ``epochs = 400 / ceil(n_train / 32)``, rounded to tens and kept within 20..500, so small tables
    train longer and large ones do not take hours. The tutorial's 1,600 updates (100 epochs of 16
    batches) suit its nearly noise-free generated data; on small real tables they overfit: on
    diabetes the test MSE rises from epoch 10 and ends above that of predicting the mean (0.99 vs
    0.79, standardised), while 400 updates give 0.68, and iris, wine, breast_cancer and digits
    lose nothing (0.97, 0.99, 0.95, 0.97 test accuracy over 5 seeds).

    >>> own_data_settings(500).epochs
    20
    >>> own_data_settings(150).epochs
    80
    """
    batches = math.ceil(n_train / Settings().batch_size)
    epochs = int(round(OWN_DATA_UPDATES / batches, -1))
    return Settings(hidden=(50,), epochs=min(max(epochs, 20), 500))


def default_settings(problem: Problem) -> Settings:
    """The tutorial's set-up for the tutorial's problems, :func:`own_data_settings` for data (and
    for a problem marked ``tutorial`` that the tutorial does not have), shuffled by blocks when
    its features are kept on disk and larger than the memory left beside the training (a share
    of memory less :data:`PROCESS_ROW_BYTES` a row).

    >>> from losslab.problems import get_problem
    >>> default_settings(get_problem("circles")).epochs
    200
    """
    if problem.tutorial and problem.name in TUTORIAL_SETTINGS:
        return TUTORIAL_SETTINGS[problem.name]
    settings = own_data_settings(problem.n_train)
    rows = problem.n_train + problem.n_test
    features, room = rows * problem.n_features * 4, memory_budget() - rows * PROCESS_ROW_BYTES
    if problem.features_file is not None and features > room:
        warnings.warn(
            f"the features of {problem.name!r} ({features / 2**30:,.1f} GiB, kept on disk) are larger than the "
            f"{max(room, 0) / 2**30:,.1f} GiB of memory left here beside the training: each epoch shuffles blocks of "
            f"{SHUFFLE_BLOCK:,} rows, and the rows within windows of {SHUFFLE_WINDOW} blocks, not every row, so that "
            "it reads the file a window at a time (shuffle='blocks'; --shuffle rows shuffles every row, reading "
            "the file at the speed of the disk's random reads)", DataNote, stacklevel=2)
        settings = settings.updated(shuffle="blocks")
    return settings
