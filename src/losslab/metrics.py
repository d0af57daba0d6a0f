"""Per-sample metrics, chosen to be correct for the output layer and the target encoding.

Each function maps ``(y_true, y_pred)`` with a trailing output axis to a per-sample value; the
engine averages over samples. ``y_pred`` is the activated output (probabilities for sigmoid and
softmax, values in (-1, 1) for tanh).
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
from jax import Array

Metric = Callable[[Array, Array], Array]


def squared_error(y_true: Array, y_pred: Array) -> Array:
    """Mean over outputs of ``(y_true - y_pred)**2``: averaged over samples, the MSE."""
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def threshold_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Sigmoid output against {0, 1} labels: correct when ``(p > 0.5) == (y == 1)``."""
    return ((y_pred[..., 0] > 0.5) == (y_true[..., 0] > 0.5)).astype(jnp.float32)


def sign_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Tanh output against {-1, 1} labels: correct when the signs agree (``y_pred > 0`` is class 1)."""
    return ((y_pred[..., 0] > 0) == (y_true[..., 0] > 0)).astype(jnp.float32)


def argmax_accuracy(y_true: Array, y_pred: Array) -> Array:
    """Softmax output: correct when ``argmax(y_pred)`` is the true class.

    ``y_true`` is one-hot (same shape as ``y_pred``) or integer class indices (one axis fewer).
    """
    labels = jnp.argmax(y_true, axis=-1) if y_true.ndim == y_pred.ndim else y_true
    return (jnp.argmax(y_pred, axis=-1) == labels).astype(jnp.float32)


def rounding_accuracy(y_true: Array, y_pred: Array) -> Array:
    """The tutorial's Keras 'accuracy' for a one-unit output: ``round(y_pred) == y_true``.

    For a tanh output with {-1, 1} labels every prediction with ``|y_pred| < 0.5`` rounds to 0 and
    counts as wrong whatever its sign, which is why the tutorial saw hinge losses "do worse".
    Reported beside the correct accuracy only to reproduce the tutorial's figures.
    """
    return (jnp.round(y_pred[..., 0]) == y_true[..., 0]).astype(jnp.float32)


def metric_for(metric: str, activation: str) -> Metric:
    """The per-sample function for a spec's ``metric`` name and output ``activation``."""
    if metric == "mse":
        return squared_error
    return {"sigmoid": threshold_accuracy, "tanh": sign_accuracy, "softmax": argmax_accuracy}[activation]
