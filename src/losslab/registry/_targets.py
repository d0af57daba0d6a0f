"""Targets for a loss: ``encode_targets`` validates raw targets and encodes them; ``check_compatible``
refuses a loss that does not fit the problem.

Both are the boundary between a problem and a loss: what passes them the engine trusts.
"""

from __future__ import annotations

import warnings

import numpy as np

from losslab.errors import IncompatibleLossError, LosslabError, TargetError
from losslab.registry._advice import recommend
from losslab.registry._specs import LossSpec


class TargetWarning(UserWarning):
    """Targets a loss accepts but handles in a way the user should know about."""


def check_compatible(spec: LossSpec, problem_kind: str, n_classes: int | None = None) -> None:
    """Refuse a loss that does not fit the problem, naming the loss that would.

    Losses for several classes (softmax) also serve binary problems; two-class losses and
    regression losses serve only their own kind.
    """
    if spec.kind == problem_kind or (spec.kind == "multiclass" and problem_kind == "binary"):
        return
    what = {"regression": "a regression problem", "binary": "a binary classification problem",
            "multiclass": f"a multiclass problem with {n_classes} classes"}[problem_kind]
    if spec.kind == "binary" and problem_kind == "multiclass":
        fix = "categorical_hinge" if spec.activation == "tanh" else "categorical_crossentropy"
        raise IncompatibleLossError(f"{spec.name} is a two-class loss but this is {what}; use {fix}")
    fix = recommend(problem_kind).loss
    kind_word = "a regression loss" if spec.kind == "regression" else "a classification loss"
    other = (", or, if the target is a quantity (a count, an amount), make it a regression problem (--kind regression)"
             if spec.kind == "regression" else "")
    raise IncompatibleLossError(f"{spec.name} is {kind_word} but this is {what}; use {fix}{other}")


def encode_targets(spec: LossSpec, y: np.ndarray, n_classes: int | None = None, *, policy: str = "error") -> np.ndarray:
    """Turn raw targets into what ``spec`` needs, validating them.

    ``y`` holds real values (regression) or class labels; binary labels may be {0, 1}, {-1, 1} or
    booleans, multiclass labels integers ``0..n_classes-1``. Returns float32 ``(n, 1)`` for
    one-unit losses, float32 ``(n, n_classes)`` for one-hot, int32 ``(n,)`` for integer labels.

    Targets outside the spec's ``domain`` that the loss still accepts (negative values for a
    ``"non-negative"`` loss such as MSLE or Poisson; zeros, or both signs, for a ``"non-zero"`` one
    such as MAPE)
    raise :class:`TargetError` with ``policy='error'`` and give a :class:`TargetWarning` with
    ``policy='warn'`` (Keras's behaviour: MSLE clamps negatives to ~0, MAPE divides by
    ``max(|y|, 1e-7)``).

    >>> from losslab.registry import get_loss
    >>> encode_targets(get_loss("hinge"), np.array([0, 1, 1]))[:, 0]
    array([-1.,  1.,  1.], dtype=float32)
    """
    if policy not in ("error", "warn"):
        raise LosslabError(f"policy must be 'error' or 'warn', got {policy!r}")
    y = np.asarray(y)
    if y.size == 0:
        raise TargetError("there are no targets (0 rows); give at least one row")
    if y.ndim != 1:
        raise TargetError(f"targets must be one value per row (shape (n,)), got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise TargetError(f"{spec.name} needs numeric targets, got {y.dtype}; encode labels as integers first")
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        raise TargetError(f"{bad} of {len(y)} targets are NaN or infinite; drop or impute those rows")
    if spec.encoding == "raw":
        _check_raw_targets(spec, y.astype(np.float64), policy)
        return y.astype(np.float32)[:, None]
    if spec.encoding in ("{0,1}", "{-1,1}"):
        labels = _binary_labels(spec, y)
        return (labels if spec.encoding == "{0,1}" else 2 * labels - 1).astype(np.float32)[:, None]
    labels = _class_indices(spec, y, n_classes)
    if spec.encoding == "integer":
        return labels.astype(np.int32)
    k = int(n_classes) if n_classes is not None else int(labels.max()) + 1
    one_hot = np.zeros((len(labels), k), dtype=np.float32)  # not np.eye(k)[labels]: k x k floats at 10,000 classes is 400 MB
    one_hot[np.arange(len(labels)), labels] = 1.0
    return one_hot


def _check_raw_targets(spec: LossSpec, y: np.ndarray, policy: str) -> None:
    """Refuse (or warn about) raw targets outside ``spec.domain``."""
    problem = _outside_domain(spec, y)
    if problem is None:
        return
    if policy == "error":
        raise TargetError(problem)
    warnings.warn(problem + " (continuing as Keras would)", TargetWarning, stacklevel=3)


def _outside_domain(spec: LossSpec, y: np.ndarray) -> str | None:
    """Why the raw targets ``y`` lie outside ``spec.domain``, or None when they do not.

    A ``"non-zero"`` target must also keep one sign: one that crosses zero (a centred target,
    say) has values close to it, where ``|y - f| / |y|`` blows up, even when none is exactly zero.
    """
    n = len(y)
    if spec.domain == "non-negative" and np.any(y < 0):
        return (f"{spec.name} needs non-negative targets; {int(np.sum(y < 0))} of {n} are negative. "
                "Use mean_squared_error, or shift the target")
    if spec.domain != "non-zero":
        return None
    if np.any(y == 0):
        return (f"{spec.name} needs non-zero targets; {int(np.sum(y == 0))} of {n} are zero. "
                "Use mean_absolute_error, or shift the target away from zero")
    if y.min() < 0 < y.max():
        return (f"{spec.name} needs targets of one sign, away from zero; {int(np.sum(y < 0))} of {n} are negative "
                "and the rest positive, so the target crosses zero. Use mean_absolute_error, or shift the target "
                "away from zero")
    return None


def _binary_labels(spec: LossSpec, y: np.ndarray) -> np.ndarray:
    values = set(np.unique(y).tolist())
    if values <= {0, 1}:
        return y.astype(np.int64)
    if values <= {-1, 1}:
        return (y > 0).astype(np.int64)
    shown = ", ".join(map(str, sorted(values)[:6]))
    fix = "categorical_hinge" if spec.activation == "tanh" else "categorical_crossentropy"
    raise TargetError(
        f"{spec.name} needs two classes labelled {{0, 1}} or {{-1, 1}}; found labels {{{shown}}}. "
        f"For more classes use {fix}"
    )


def _class_indices(spec: LossSpec, y: np.ndarray, n_classes: int | None) -> np.ndarray:
    labels = y.astype(np.int64)
    if not np.array_equal(labels, y) or labels.min() < 0:
        raise TargetError(f"{spec.name} needs integer class labels 0..n_classes-1; encode the labels first")
    if n_classes is not None and labels.max() >= n_classes:
        raise TargetError(
            f"{spec.name}: label {int(labels.max())} is outside 0..{n_classes - 1} for {n_classes} classes"
        )
    return labels
