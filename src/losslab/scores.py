"""The scores practitioners report, computed on the host from a trained model's final outputs,
and the scikit-learn baselines a trained model should beat.

Every score is scikit-learn's definition, computed here with NumPy for many runs at once
(:func:`batch_scores`: a study scores hundreds of runs, and scikit-learn's checks of each call's
inputs cost more than training a model); the tests hold each to scikit-learn's own function. This
module chooses which scores, feeds them the right outputs (probabilities, margins, class indices)
and says NaN where a score is undefined rather than guessing. The training metrics the engine
averages per sample are in :mod:`losslab.metrics`.

>>> scores = regression_scores([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
>>> round(scores["mse"], 4), round(scores["mae"], 4), round(scores["r2"], 4)
(0.3333, 0.3333, 0.5)
>>> SCORES["binary"]
('accuracy', 'log_loss', 'roc_auc', 'f1')
>>> batch = batch_scores("binary", [0, 1, 1], [[[0.2], [0.7], [0.4]], [[0.1], [0.9], [0.8]]], "sigmoid")
>>> batch["accuracy"].round(4).tolist(), batch["roc_auc"].tolist()
([0.6667, 1.0], [1.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy.special import logit, xlogy
from scipy.stats import rankdata
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor

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
    return _one(_regression(y_true, y_pred[None]))


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
    return _one(_binary(y, ranking[None], proba is not None))


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
    return _one(_multiclass(y, outputs[None], is_proba, n_classes))


def batch_scores(
    kind: str,
    y_true: object,
    outputs: object,
    activation: str,
    n_classes: int | None = None,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
) -> dict[str, np.ndarray]:
    """The scores of :data:`SCORES` ``[kind]`` of many runs at once, one value per run.

    ``outputs`` are the runs' final activated outputs, shape ``(runs, rows, units)``; ``y_true``
    the rows' targets, shape ``(rows,)`` when the runs share their rows or ``(runs, rows)``. How
    the outputs are read follows the output layer's ``activation``:

    - regression: ``outputs[..., 0]`` and ``y_true`` are in the units trained on, and the scores
      are of ``value * scale + offset`` (the target's own units), as :func:`regression_scores`;
    - binary (labels 0/1): a sigmoid output and the second unit of a 2-unit softmax are
      probabilities of class 1, any other output (a tanh margin) a score positive for class 1
      with no log-loss, as :func:`binary_scores`;
    - multiclass (class indices ``0..n_classes-1``): softmax outputs are probabilities, any
      other output scores with no log-loss, as :func:`multiclass_scores`.

    A run with any output that is not finite (a diverged run) scores NaN everywhere. Each value
    equals what the single-run function (and scikit-learn) gives for that run alone.
    """
    if kind not in SCORES:
        raise LosslabError(f"kind must be one of {', '.join(SCORES)}, got {kind!r}")
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.ndim != 3 or 0 in outputs.shape:
        raise DataError(f"outputs must have shape (runs, rows, units), got {outputs.shape}; stack the runs' outputs")
    runs, rows, units = outputs.shape
    if kind == "regression":
        y = _batch_values(y_true, "y_true", runs, rows)
        scores = _regression(y * scale + offset, outputs[..., 0] * scale + offset)
    elif kind == "binary":
        y = _batch_labels(y_true, "y_true", runs, rows, 2)
        softmax = activation == "softmax"
        if units != (2 if softmax else 1):
            raise DataError(f"a binary model with a {activation} output has {2 if softmax else 1} output units, "
                            f"got {units}")
        scores = _binary(y, outputs[..., 1 if softmax else 0], activation in ("sigmoid", "softmax"))
    else:
        if n_classes is None or units != n_classes:
            raise DataError(f"a multiclass model has one output unit per class (n_classes={n_classes}), got {units}")
        y = _batch_labels(y_true, "y_true", runs, rows, n_classes)
        scores = _multiclass(y, outputs, activation == "softmax", n_classes)
    diverged = ~np.isfinite(outputs).all(axis=(1, 2))  # units the scores do not read count too
    if diverged.any():
        for values in scores.values():
            values[diverged] = np.nan
    return scores


def _regression(y: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """The regression scores of each row of ``pred`` (runs, rows) against ``y`` (rows or runs x rows)."""
    finite = np.isfinite(pred).all(axis=1)
    pred = np.where(finite[:, None], pred, 1.0)  # diverged runs: any finite stand-in, NaN at the end
    y = np.broadcast_to(y, pred.shape)
    squared = (y - pred) ** 2
    mse = squared.mean(axis=1)
    # R² as scikit-learn's r2_score: 1 when the predictions are exact, 0 when they are not and
    # the targets are constant (rather than -inf), NaN with fewer than two rows
    residual, total = squared.sum(axis=1), ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(residual == 0, 1.0, np.where(total == 0, 0.0, 1 - residual / total))
    if y.shape[1] < 2:
        r2[:] = np.nan
    defined = (y.min(axis=1) >= 0) & (pred.min(axis=1) > 0)  # Poisson deviance: y >= 0, ŷ > 0
    counts, positive = np.where(defined[:, None], y, 0.0), np.where(defined[:, None], pred, 1.0)
    deviance = 2 * (xlogy(counts, counts / positive) - counts + positive)  # 0 log 0 = 0
    scores = {
        "mse": mse,
        "rmse": np.sqrt(mse),
        "mae": np.abs(y - pred).mean(axis=1),
        "r2": r2,
        "poisson_deviance": np.where(defined, deviance.mean(axis=1), np.nan),
    }
    return _diverged_nan(scores, finite)


def _binary(y: np.ndarray, ranking: np.ndarray, is_proba: bool) -> dict[str, np.ndarray]:
    """The binary scores of each row of ``ranking`` (runs, rows): ``P(class 1)`` when ``is_proba``,
    else a score positive for class 1; ``y`` labels 0/1 (rows or runs x rows)."""
    finite = np.isfinite(ranking).all(axis=1)
    ranking = np.where(finite[:, None], ranking, 0.0)
    y = np.broadcast_to(y, ranking.shape).astype(bool)
    predicted = ranking > (0.5 if is_proba else 0.0)
    n_rows = y.shape[1]
    positives = y.sum(axis=1)
    negatives = n_rows - positives
    if is_proba:
        p = np.clip(ranking, EPSILON, 1 - EPSILON)
        log_loss = -np.where(y, np.log(p), np.log(1 - p)).mean(axis=1)
    else:
        log_loss = np.full(len(ranking), np.nan)
    # ROC AUC as the Mann-Whitney U statistic: the share of (positive, negative) pairs ranked in
    # order, a tie counting half (average ranks); it equals the area under scikit-learn's curve
    ranks = rankdata(ranking, axis=1)
    u = np.where(y, ranks, 0.0).sum(axis=1) - positives * (positives + 1) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        roc_auc = np.where((positives > 0) & (negatives > 0), u / (positives * negatives), np.nan)
        tp = (predicted & y).sum(axis=1)
        wrong = (predicted != y).sum(axis=1)  # FP + FN
        f1 = np.where(2 * tp + wrong > 0, 2 * tp / (2 * tp + wrong), np.nan)
    scores = {"accuracy": (predicted == y).mean(axis=1), "log_loss": log_loss, "roc_auc": roc_auc, "f1": f1}
    return _diverged_nan(scores, finite)


def _multiclass(y: np.ndarray, outputs: np.ndarray, is_proba: bool, n_classes: int) -> dict[str, np.ndarray]:
    """The multiclass scores of each run of ``outputs`` (runs, rows, n_classes); ``y`` class
    indices (rows or runs x rows)."""
    finite = np.isfinite(outputs).all(axis=(1, 2))
    outputs = np.where(finite[:, None, None], outputs, 0.0)
    runs, n_rows, _ = outputs.shape
    y = np.broadcast_to(y, (runs, n_rows))
    predicted = outputs.argmax(axis=2)
    if is_proba:
        clipped = np.clip(outputs, EPSILON, 1 - EPSILON)
        true = np.take_along_axis(clipped, y[:, :, None], axis=2)[:, :, 0]
        log_loss = -np.log(true / clipped.sum(axis=2)).mean(axis=1)
    else:
        log_loss = np.full(runs, np.nan)
    # per run and class: true positives, rows of the class, rows predicted as it
    offsets = np.arange(runs)[:, None] * n_classes

    def count(classes: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
        """Per run, the rows of each class in ``classes`` (those ``where`` is True)."""
        weights = None if where is None else where.ravel()
        return np.bincount((offsets + classes).ravel(), weights, runs * n_classes).reshape(runs, n_classes)

    hits = predicted == y
    tp, present, chosen = count(y, hits), count(y), count(predicted)
    with np.errstate(divide="ignore", invalid="ignore"):
        # F1 per class, NaN for a class neither present nor predicted: scikit-learn's
        # f1_score(labels=range(n_classes), average="macro", zero_division=NaN) leaves those out
        f1 = np.where(present + chosen > 0, 2 * tp / (present + chosen), np.nan)
    scores = {"accuracy": hits.mean(axis=1), "log_loss": log_loss, "macro_f1": np.nanmean(f1, axis=1)}
    return _diverged_nan(scores, finite)


def _diverged_nan(scores: dict[str, np.ndarray], finite: np.ndarray) -> dict[str, np.ndarray]:
    """``scores`` (float arrays, one value per run) with NaN for every run not ``finite``."""
    scores = {name: np.asarray(values, dtype=np.float64) for name, values in scores.items()}
    for values in scores.values():
        values[~finite] = np.nan
    return scores


def _one(scores: dict[str, np.ndarray]) -> dict[str, float]:
    """The scores of a batch of one run, as floats."""
    return {name: float(values[0]) for name, values in scores.items()}


def fit_baselines(
    kind: str,
    X: object,
    y: object,
    train_rows: object,
    eval_rows: Mapping[str, np.ndarray | slice],
    n_classes: int | None = None,
    counts: bool = False,
) -> list[dict[str, object]]:
    """Fit scikit-learn baselines on ``X[train_rows], y[train_rows]`` and score each on every
    split of ``eval_rows`` (e.g. ``{"validation": rows, "test": rows}``); rows are index arrays
    or slices. ``X`` is an array, or any object whose ``X[rows]`` gives those rows' features and
    ``len(X)`` its rows (a table read page by page from disk): the training rows are taken once,
    as float64, and each split's predicted :data:`PREDICT_ROWS` rows at a time.

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
    y = np.asarray(y)
    if kind != "regression":
        n_classes = int(y.max()) + 1 if n_classes is None else n_classes
        if len(np.unique(y[train_rows])) < 2:
            raise DataError("the training rows hold one class only; a classifier needs at least two to fit")
    elif counts and np.any(y[train_rows] < 0):
        raise DataError("poisson_glm needs non-negative counts; pass y in the target's own units, not standardised")
    X_fit, y_fit = np.asarray(X[train_rows], dtype=np.float64), y[train_rows]  # once for every baseline
    evaluated = {split: np.arange(len(X))[index] if isinstance(index, slice) else np.asarray(index)
                 for split, index in eval_rows.items()}
    rows = []
    for name, model in _baselines(kind, counts).items():
        model.fit(X_fit, y_fit)
        for split, index in evaluated.items():
            rows.append({"baseline": name, "split": split, **_scored(kind, model, X, index, y[index], n_classes)})
    return rows


#: Rows a baseline predicts at a time, so that a large table's split is not copied whole.
PREDICT_ROWS = 65_536


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


def _scored(kind: str, model: BaseEstimator, X: object, index: np.ndarray, y: np.ndarray,
            n_classes: int | None) -> dict[str, float]:
    """``model``'s scores on the rows ``index`` of ``X`` (their targets ``y``)."""
    def predicted(predict: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        starts = range(0, len(index), PREDICT_ROWS) or [0]
        return np.concatenate([predict(np.asarray(X[index[start:start + PREDICT_ROWS]], dtype=np.float64))
                               for start in starts])

    if kind == "regression":
        return regression_scores(y, predicted(model.predict))
    proba = np.zeros((len(index), n_classes))
    proba[:, model.classes_] = predicted(model.predict_proba)  # a class absent from training gets probability 0
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


def _batch_values(values: object, name: str, runs: int, rows: int) -> np.ndarray:
    """``values`` as finite floats of shape ``(rows,)`` or ``(runs, rows)``."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape not in ((rows,), (runs, rows)):
        raise DataError(f"{name} must have one value per row, shape ({rows},) or ({runs}, {rows}), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} holds NaN or infinite values; drop those rows first")
    return array


def _batch_labels(values: object, name: str, runs: int, rows: int, n_classes: int) -> np.ndarray:
    """``values`` as integer class indices ``0..n_classes-1`` of shape ``(rows,)`` or ``(runs, rows)``."""
    array = _batch_values(values, name, runs, rows)
    labels = array.astype(np.int64)
    if not np.array_equal(labels, array) or labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(f"{name} must hold class indices 0..{n_classes - 1}; encode the labels first")
    return labels
