"""Regression losses with Keras 3 semantics.

Every function takes ``y_true`` and ``y_pred`` of the same shape ``(..., d)`` and returns the
per-sample loss of shape ``(...)``: the mean over the last axis, as Keras does. No reduction over
samples happens here; the engine averages over the batch.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

#: Keras's ``backend.epsilon()``: the fuzz factor used in clipping and divisions.
EPSILON = 1e-7


def mean_squared_error(y_true: Array, y_pred: Array) -> Array:
    r"""Mean squared error: :math:`\frac{1}{d}\sum_j (y_j - \hat y_j)^2`.

    Maximum likelihood under Gaussian noise; 0 at a perfect prediction.
    """
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Array, y_pred: Array) -> Array:
    r"""Mean absolute error: :math:`\frac{1}{d}\sum_j |y_j - \hat y_j|`."""
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Array, y_pred: Array) -> Array:
    r"""Mean absolute percentage error, in percent (Keras's x100 convention):

    :math:`\frac{100}{d}\sum_j \frac{|y_j - \hat y_j|}{\max(|y_j|, \epsilon)}`, :math:`\epsilon = 10^{-7}`.

    scikit-learn's ``mean_absolute_percentage_error`` returns the same value divided by 100.
    Undefined in spirit for targets at zero: the ``max`` only keeps it finite.
    """
    return 100.0 * jnp.mean(jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), EPSILON)), axis=-1)


def mean_squared_logarithmic_error(y_true: Array, y_pred: Array) -> Array:
    r"""Mean squared logarithmic error:

    :math:`\frac{1}{d}\sum_j (\log(1 + \max(\hat y_j, \epsilon)) - \log(1 + \max(y_j, \epsilon)))^2`.

    Keras clamps both arguments to :math:`\epsilon = 10^{-7}` before ``log1p``, so every negative
    value counts as (nearly) zero: the loss cannot tell -3 from -0.1.
    """
    first = jnp.log1p(jnp.maximum(y_pred, EPSILON))
    second = jnp.log1p(jnp.maximum(y_true, EPSILON))
    return jnp.mean(jnp.square(first - second), axis=-1)


def huber(y_true: Array, y_pred: Array, delta: float = 1.0) -> Array:
    r"""Huber loss with threshold :math:`\delta` (Keras default 1.0), with :math:`e = \hat y - y`:

    :math:`\frac{1}{d}\sum_j \tfrac12 e_j^2` where :math:`|e_j| \le \delta`,
    else :math:`\delta |e_j| - \tfrac12 \delta^2`.
    """
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    quadratic = 0.5 * jnp.square(error)
    linear = delta * abs_error - 0.5 * delta**2
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: Array, y_pred: Array) -> Array:
    r"""Log-cosh loss: :math:`\frac{1}{d}\sum_j \log\cosh(\hat y_j - y_j)`.

    Computed as :math:`x + \mathrm{softplus}(-2x) - \log 2`, which equals :math:`\log\cosh x` without
    overflowing for large :math:`|x|`.
    """
    x = y_pred - y_true
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - jnp.log(2.0), axis=-1)


def poisson(y_true: Array, y_pred: Array) -> Array:
    r"""Poisson negative log-likelihood up to a constant:
    :math:`\frac{1}{d}\sum_j \hat y_j - y_j \log(\hat y_j + \epsilon)`.

    ``y_pred`` is the predicted rate (positive); ``y_true`` non-negative counts. The minimum over
    ``y_pred`` is at ``y_pred = y_true``, where the value is not 0.
    """
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + EPSILON), axis=-1)


def poisson_from_log_rate(y_true: Array, log_rate: Array) -> Array:
    r"""Poisson loss from the log-rate :math:`z` (an exponential output's pre-activation):
    :math:`\frac{1}{d}\sum_j e^{z_j} - y_j z_j`. Equals :func:`poisson` at ``y_pred = exp(z)`` up to
    Keras's :math:`\epsilon`, and has no log of a rate that underflowed to 0.
    """
    return jnp.mean(jnp.exp(log_rate) - y_true * log_rate, axis=-1)
