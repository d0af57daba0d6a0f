"""The tutorial's three generated problems, configured exactly as its listings do.

All three use 1,000 rows from a fixed scikit-learn generator; the first 500 rows train and the
last 500 test, with no shuffling before the split (``n_train = 500``).
"""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs, make_circles, make_regression
from sklearn.preprocessing import StandardScaler

from losslab.problems._problem import Problem

N_TRAIN = 500


def _split(X: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    return {"X_train": X[:N_TRAIN], "y_train": y[:N_TRAIN], "X_test": X[N_TRAIN:], "y_test": y[N_TRAIN:]}


def regression() -> Problem:
    """``make_regression(1000, 20 features, 10 informative, noise=0.1, random_state=1)``.

    The tutorial standardises X and y on all 1,000 rows before the split (it says a real project
    should fit the scaler on the training rows only; losslab's own-data path does that).
    """
    X, y = make_regression(n_samples=1000, n_features=20, noise=0.1, random_state=1)
    X = StandardScaler().fit_transform(X)
    y = StandardScaler().fit_transform(y.reshape(-1, 1))[:, 0]
    return Problem(
        name="regression",
        kind="regression",
        **_split(X, y),
        description="make_regression: 20 features (10 informative), noise 0.1, scaled",
        tutorial=True,
        preparation={"split": "first 500 rows train, last 500 test", "scaling": "X and y standardised on all rows (tutorial)"},
        target_policy="warn",
    )


def positive_regression() -> Problem:
    """The tutorial's regression problem with its standardised target shifted to a minimum of 1.

    ``y - min(y) + 1`` over all 1,000 rows: the same features, the same function up to a
    constant, but every target at least 1, so mean absolute percentage error is defined (on the
    standardised target some values lie within 2e-4 of zero, where MAPE divides by almost
    nothing). Used to give the tutorial's MAPE extension an answer; not one of its problems.
    """
    base = regression()
    low = min(base.y_train.min(), base.y_test.min())
    return Problem(
        name="positive_regression",
        kind="regression",
        X_train=base.X_train, y_train=base.y_train - low + 1.0, X_test=base.X_test, y_test=base.y_test - low + 1.0,
        description="the regression problem with its target shifted to a minimum of 1 (y - min(y) + 1)",
        tutorial=True,
        preparation={**base.preparation, "target_shift": f"y - min(y) + 1 = y + {1.0 - low:.6f}"},
    )


def circles() -> Problem:
    """``make_circles(1000, noise=0.1, random_state=1)``, unscaled."""
    X, y = make_circles(n_samples=1000, noise=0.1, random_state=1)
    return Problem(
        name="circles",
        kind="binary",
        **_split(X, y.astype(np.int64)),
        n_classes=2,
        class_names=("0", "1"),
        description="make_circles: two concentric circles, noise 0.1",
        tutorial=True,
        preparation={"split": "first 500 rows train, last 500 test", "scaling": "none"},
    )


def blobs() -> Problem:
    """``make_blobs(1000, centers=3, n_features=2, cluster_std=2, random_state=2)``, unscaled."""
    X, y = make_blobs(n_samples=1000, centers=3, n_features=2, cluster_std=2, random_state=2)
    return Problem(
        name="blobs",
        kind="multiclass",
        **_split(X, y.astype(np.int64)),
        n_classes=3,
        class_names=("0", "1", "2"),
        description="make_blobs: 3 Gaussian clusters in 2-D, std 2",
        tutorial=True,
        preparation={"split": "first 500 rows train, last 500 test", "scaling": "none"},
    )
