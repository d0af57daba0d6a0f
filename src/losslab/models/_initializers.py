"""Keras's uniform weight initializers, drawn in the Keras kernel layout ``(fan_in, fan_out)``."""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

Initializer = Callable[[Array, int, int], Array]  # (key, fan_in, fan_out) -> (fan_in, fan_out)


def he_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``he_uniform``: U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)), shape ``(fan_in, fan_out)``.

    The variance 2 / fan_in keeps the signal's scale through relu-like layers, which zero about
    half of their inputs (He et al., 2015).
    """
    limit = jnp.sqrt(6.0 / fan_in)
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


def glorot_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``glorot_uniform`` (the Dense default): U(-sqrt(6 / (fan_in + fan_out)), +...)."""
    limit = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


#: Keras's name of each initializer.
INITIALIZERS: dict[str, Initializer] = {"he_uniform": he_uniform, "glorot_uniform": glorot_uniform}
