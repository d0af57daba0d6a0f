"""The scores practitioners report, computed on the host from a trained model's final outputs,
and the scikit-learn baselines a trained model should beat.

Every score is scikit-learn's; this module only chooses which ones, feeds them the right
outputs (probabilities, margins, class indices) and says NaN where a score is undefined rather
than guessing. The training metrics the engine averages per sample are in
:mod:`losslab.metrics`.

>>> scores = regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
>>> round(scores["mse"], 4), round(scores["mae"], 4), round(scores["r2"], 4)
(0.3333, 0.3333, 0.5)
>>> SCORES["binary"]
('accuracy', 'log_loss', 'roc_auc', 'f1')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from scipy.special import logit
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from losslab.errors import DataError, LosslabError

#: Keras's epsilon: its cross-entropies clip probabilities to ``[EPSILON, 1 - EPSILON]``, so a
#: confident wrong answer costs ``-log(1e-7) ~ 16.1`` instead of infinity.
EPSILON = 1e-7

#: The scores reported for each problem kind, in display order.
SCORES: dict[str, tuple[str, ...]] = {
    "regression": ("mse", "rmse", "mae", "r2", "poisson_deviance"),
    "binary": ("accuracy", "log_loss", "roc_auc", "f1"),
    "multiclass": ("accuracy", "log_loss", "macro_f1"),
}

#: Whether a larger value of each score is better.
HIGHER_IS_BETTER: dict[str, bool] = {
    "mse": False, "rmse": False, "mae": False, "r2": True, "poisson_deviance": False,
    "accuracy": True, "log_loss": False, "roc_auc": True, "f1": True, "macro_f1": True,
}


def regression_scores(y_true: object, y_pred: object) -> dict[str, float]:
    """MSE, RMSE, MAE, R² and mean Poisson deviance of ``y_pred`` against ``y_true``, in the units given.

    ``mse = mean (y - ŷ)²``, ``rmse = √mse``, ``mae = mean |y - ŷ|``,
    ``r2 = 1 - Σ (y - ŷ)² / Σ (y - ȳ)²`` and ``poisson_deviance = mean 2 (y log(y / ŷ) - y + ŷ)``
    (``0 log 0 = 0``), which is defined only where every ``y >= 0`` and every ``ŷ > 0`` and NaN
    elsewhere. Predictions that are not all finite (a diverged run) give NaN for every score.
    Pass both in the target's own units: scores of a standardised target are in standard
    deviations.
    """
    y_true, y_pred = _values(y_true, "y_true"), _values(y_pred, "y_pred", len(y_true), finite=False)
    if not np.all(np.isfinite(y_pred)):
        return dict.fromkeys(SCORES["regression"], math.nan)
    defined = y_true.min() >= 0 and y_pred.min() > 0
    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "rmse": float(root_mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
        "poisson_deviance": float(mean_poisson_deviance(y_true, y_pred)) if defined else math.nan,
    }


def binary_scores(y_true01: object, score: object, proba: object | None = None) -> dict[str, float]:
    """Accuracy, log-loss, ROC AUC and F1 of a two-class model.

    ``y_true01`` are labels 0/1; ``score`` is the model's raw output, positive for class 1 (a
    logit, or a tanh margin for the hinge losses); ``proba`` is ``P(class 1)`` where the model
    gives one, and then decides everything: class 1 is ``proba > 0.5``, else ``score > 0``.
    ``log_loss = -mean (y log p + (1 - y) log(1 - p))`` with ``p`` clipped to
    ``[1e-7, 1 - 1e-7]`` as Keras does, NaN without ``proba`` (a tanh margin is not a
    probability); ``roc_auc`` ranks by ``proba`` or ``score`` and is NaN when ``y_true01`` holds
    one class only; ``f1 = 2 TP / (2 TP + FP + FN)``, NaN when there are no positives to find
    or predicted. Outputs that are not all finite give NaN for every score.

    >>> scores = binary_scores([0, 1, 1], [-0.5, 0.2, -0.1])  # a hinge's tanh margin
    >>> round(scores["accuracy"], 4), scores["log_loss"], scores["roc_auc"]
    (0.6667, nan, 1.0)
    """
    y = _labels(y_true01, "y_true01", 2)
    ranking = _values(score if proba is None else proba, "score" if proba is None else "proba", len(y), finite=False)
    if not np.all(np.isfinite(ranking)):
        return dict.fromkeys(SCORES["binary"], math.nan)
    predicted = (ranking > 0 if proba is None else ranking > 0.5).astype(np.int64)
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "log_loss": math.nan if proba is None else float(log_loss(y, np.clip(ranking, EPSILON, 1 - EPSILON),
                                                                  labels=[0, 1])),
        "roc_auc": float(roc_auc_score(y, ranking)) if len(np.unique(y)) == 2 else math.nan,
        "f1": float(f1_score(y, predicted, zero_division=np.nan)),
    }


def multiclass_scores(y_true: object, proba_or_scores: object, is_proba: bool, n_classes: int) -> dict[str, float]:
    """Accuracy, log-loss and macro-F1 of a model with one output per class.

    ``y_true`` are class indices ``0..n_classes-1``; ``proba_or_scores`` has shape
    ``(n, n_classes)`` and the predicted class is its argmax. ``log_loss = -mean log p_true``
    over the probabilities clipped to ``[1e-7, 1 - 1e-7]`` as Keras does (and renormalised, so
    that scikit-learn reads them as probabilities; that scales none by more than a factor
    ``1 ± n_classes * 1e-7``), NaN when ``is_proba`` is False. ``macro_f1`` is the unweighted mean
    of each class's F1, leaving out the classes neither present nor predicted. Outputs that are
    not all finite give NaN for every score.
    """
    y = _labels(y_true, "y_true", n_classes)
    outputs = np.asarray(proba_or_scores, dtype=np.float64)
    if outputs.shape != (len(y), n_classes):
        raise DataError(f"proba_or_scores must have shape (rows, n_classes) = {(len(y), n_classes)}, "
                        f"got {outputs.shape}; pass one column per class")
    if not np.all(np.isfinite(outputs)):
        return dict.fromkeys(SCORES["multiclass"], math.nan)
    predicted = outputs.argmax(axis=1)
    clipped = np.clip(outputs, EPSILON, 1 - EPSILON)
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "log_loss": float(log_loss(y, clipped / clipped.sum(axis=1, keepdims=True), labels=range(n_classes)))
        if is_proba else math.nan,
        "macro_f1": float(f1_score(y, predicted, labels=range(n_classes), average="macro", zero_division=np.nan)),
    }


def fit_baselines(
    kind: str,
    X: object,
    y: object,
    train_rows: object,
    eval_rows: Mapping[str, np.ndarray],
    n_classes: int | None = None,
    counts: bool = False,
) -> list[dict[str, object]]:
    """Fit scikit-learn baselines on ``X[train_rows], y[train_rows]`` and score each on every
    split of ``eval_rows`` (e.g. ``{"validation": rows, "test": rows}``).

    Regression (``y`` in the target's own units): ``"mean"`` predicts the training mean
    (``DummyRegressor``), ``"linear"`` is least squares (``LinearRegression``), and with
    ``counts=True`` ``"poisson_glm"`` is a Poisson GLM with a log link (``PoissonRegressor``).
    Classification (``y`` class indices; ``n_classes`` defaults to ``max(y) + 1``):
    ``"majority"`` predicts the training majority class with the training class shares as its
    probabilities (``DummyClassifier(strategy="prior")``, so its log-loss is that of the prior,
    finite), and ``"logistic"`` is ``LogisticRegression``. One row per baseline and split:
    ``{"baseline": name, "split": split, **scores}``. All the solvers are deterministic.
    """
    if kind not in SCORES:
        raise LosslabError(f"kind must be one of {', '.join(SCORES)}, got {kind!r}")
    X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
    if kind != "regression":
        n_classes = int(y.max()) + 1 if n_classes is None else n_classes
        if len(np.unique(y[train_rows])) < 2:
            raise DataError("the training rows hold one class only; a classifier needs at least two to fit")
    elif counts and np.any(y[train_rows] < 0):
        raise DataError("poisson_glm needs non-negative counts; pass y in the target's own units, not standardised")
    rows = []
    for name, model in _baselines(kind, counts).items():
        model.fit(X[train_rows], y[train_rows])
        for split, index in eval_rows.items():
            rows.append({"baseline": name, "split": split, **_scored(kind, model, X[index], y[index], n_classes)})
    return rows


def _baselines(kind: str, counts: bool) -> dict[str, BaseEstimator]:
    """The unfitted baselines for ``kind``, by name."""
    if kind != "regression":
        return {"majority": DummyClassifier(strategy="prior"), "logistic": LogisticRegression(max_iter=1000)}
    models = {"mean": DummyRegressor(strategy="mean"), "linear": LinearRegression()}
    if counts:
        # A tiny ridge (alpha=1e-4 against a mean deviance of order 1 per row) leaves the fit the
        # maximum-likelihood GLM in all but name, yet keeps it unique and finite where the plain
        # MLE is not: collinear one-hot columns beside the intercept, or a feature that separates
        # the zero counts. The default alpha=1 would shrink it towards the mean baseline.
        models["poisson_glm"] = PoissonRegressor(alpha=1e-4, max_iter=1000)
    return models


def _scored(kind: str, model: BaseEstimator, X: np.ndarray, y: np.ndarray, n_classes: int | None) -> dict[str, float]:
    """``model``'s scores on the rows ``X, y``."""
    if kind == "regression":
        return regression_scores(y, model.predict(X))
    proba = np.zeros((len(X), n_classes))
    proba[:, model.classes_] = model.predict_proba(X)  # a class absent from training gets probability 0
    if kind == "binary":
        return binary_scores(y, logit(proba[:, 1]), proba[:, 1])
    return multiclass_scores(y, proba, True, n_classes)


def _values(values: object, name: str, rows: int | None = None, *, finite: bool = True) -> np.ndarray:
    """``values`` as a float vector of ``rows`` entries (any number when None), all finite unless told."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0 or (rows is not None and len(array) != rows):
        want = "a non-empty vector" if rows is None else f"one value per row, shape ({rows},)"
        raise DataError(f"{name} must be {want}, got shape {array.shape}; pass a 1-D array such as outputs[:, 0]")
    if finite and not np.all(np.isfinite(array)):
        raise DataError(f"{name} holds NaN or infinite values; drop those rows first")
    return array


def _labels(values: object, name: str, n_classes: int) -> np.ndarray:
    """``values`` as integer class indices ``0..n_classes-1``."""
    array = _values(values, name)
    labels = array.astype(np.int64)
    if not np.array_equal(labels, array) or labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(f"{name} must hold class indices 0..{n_classes - 1}; encode the labels first")
    return labels
