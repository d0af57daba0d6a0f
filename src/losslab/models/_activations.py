"""Hidden-layer activations: each function with its derivative and its Keras initializer.

Functions and parameters are Keras 3's defaults (``keras.activations``): ``leaky_relu`` has
negative slope 0.2, ``elu`` alpha 1.0, ``gelu`` the exact erf form (``approximate=False``).

Hidden initializer: ``he_uniform`` for the relu family (relu, leaky_relu, elu), whose layers zero
or shrink the negative half of their inputs, as He et al. (2015) and Keras's guides advise;
``glorot_uniform`` (the Keras Dense default) for tanh, sigmoid and gelu. gelu is smooth and
centred near 0 like tanh for small inputs, so it keeps Keras's default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import Array

from losslab._names import did_you_mean, normalize
from losslab.errors import SettingsError

LEAKY_RELU_SLOPE = 0.2  # keras.activations.leaky_relu(x, negative_slope=0.2)
ELU_ALPHA = 1.0  # keras.activations.elu(x, alpha=1.0)


@dataclass(frozen=True)
class Activation:
    """A hidden activation ``f``, its derivative ``f'(a)`` and its Keras initializer name.

    ``backprop`` is an optional exact shortcut for ``g * f'(a)`` (relu's is a select, not a
    product, so the relu MLP's arithmetic is the same as it has always been).
    """

    name: str
    fn: Callable[[Array], Array]
    derivative: Callable[[Array], Array]
    initializer: str
    backprop: Callable[[Array, Array], Array] | None = None

    def through(self, a: Array, g: Array) -> Array:
        """The gradient ``g`` (w.r.t. ``f(a)``) carried back to the pre-activation: ``g * f'(a)``."""
        if self.backprop is not None:
            return self.backprop(a, g)
        return g * self.derivative(a)


def _relu_derivative(a: Array) -> Array:
    """relu'(a) = 1 for a > 0, else 0 (0 at the kink, as ``jax.nn.relu``'s gradient)."""
    return (a > 0).astype(a.dtype)


def _relu_backprop(a: Array, g: Array) -> Array:
    return jnp.where(a > 0, g, 0.0)


def _tanh_derivative(a: Array) -> Array:
    """tanh'(a) = 1 - tanh(a)^2."""
    return 1.0 - jnp.tanh(a) ** 2


def _sigmoid_derivative(a: Array) -> Array:
    """sigmoid'(a) = s (1 - s), s = sigmoid(a)."""
    s = jax.nn.sigmoid(a)
    return s * (1.0 - s)


def _gelu(a: Array) -> Array:
    """gelu(a) = a Phi(a) = a (1 + erf(a / sqrt(2))) / 2, Keras's exact form."""
    return jax.nn.gelu(a, approximate=False)


def _gelu_derivative(a: Array) -> Array:
    """gelu'(a) = Phi(a) + a phi(a), phi(a) = exp(-a^2 / 2) / sqrt(2 pi)."""
    cdf = 0.5 * (1.0 + jax.lax.erf(a / math.sqrt(2.0)))
    return cdf + a * jnp.exp(-0.5 * a * a) / math.sqrt(2.0 * math.pi)


def _leaky_relu(a: Array) -> Array:
    """leaky_relu(a) = a for a >= 0, else 0.2 a."""
    return jax.nn.leaky_relu(a, negative_slope=LEAKY_RELU_SLOPE)


def _leaky_relu_derivative(a: Array) -> Array:
    """leaky_relu'(a) = 1 for a >= 0, else 0.2 (1 at the kink, as ``jax.nn.leaky_relu``)."""
    return jnp.where(a >= 0, 1.0, LEAKY_RELU_SLOPE).astype(a.dtype)


def _elu(a: Array) -> Array:
    """elu(a) = a for a > 0, else alpha (exp(a) - 1), alpha = 1."""
    return jax.nn.elu(a, alpha=ELU_ALPHA)


def _elu_derivative(a: Array) -> Array:
    """elu'(a) = 1 for a > 0, else alpha exp(a); the ``where`` inside keeps exp finite for large a."""
    return jnp.where(a > 0, 1.0, ELU_ALPHA * jnp.exp(jnp.where(a > 0, 0.0, a))).astype(a.dtype)


#: Every hidden activation a model can use, by Keras's name.
ACTIVATIONS: dict[str, Activation] = {
    act.name: act
    for act in (
        Activation("relu", jax.nn.relu, _relu_derivative, "he_uniform", _relu_backprop),
        Activation("tanh", jnp.tanh, _tanh_derivative, "glorot_uniform"),
        Activation("sigmoid", jax.nn.sigmoid, _sigmoid_derivative, "glorot_uniform"),
        Activation("gelu", _gelu, _gelu_derivative, "glorot_uniform"),
        Activation("leaky_relu", _leaky_relu, _leaky_relu_derivative, "he_uniform"),
        Activation("elu", _elu, _elu_derivative, "he_uniform"),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name`` (case, spaces and hyphens ignored).

    >>> get_activation("Leaky-ReLU").initializer
    'he_uniform'
    >>> get_activation("rellu")
    Traceback (most recent call last):
    ...
    losslab.errors.SettingsError: unknown activation 'rellu'; did you mean 'relu'...? Known activations: elu, gelu, ...
    """
    if not isinstance(name, str) or normalize(name) not in ACTIVATIONS:
        raise SettingsError(did_you_mean(str(name), list(ACTIVATIONS), "activation"))
    return ACTIVATIONS[normalize(name)]
