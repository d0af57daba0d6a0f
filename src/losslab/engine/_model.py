"""The multilayer perceptron: parameters as plain arrays, a pure forward function.

Axes: a single model's parameters have no run axis; the engine ``vmap``s over runs, so inside
this module ``x`` is ``(rows, features)`` and the output ``(rows, units)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

Params = list[tuple[Array, Array]]  # [(W, b)] per layer; W (fan_in, fan_out), b (fan_out,)


def he_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``he_uniform``: U(-sqrt(6 / fan_in), +sqrt(6 / fan_in))."""
    limit = jnp.sqrt(6.0 / fan_in)
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


def glorot_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``glorot_uniform`` (the Dense default): U(-sqrt(6 / (fan_in + fan_out)), +...)."""
    limit = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


def init_mlp(key: Array, n_inputs: int, hidden: tuple[int, ...], n_outputs: int) -> Params:
    """Hidden layers ``he_uniform`` (for relu), output layer ``glorot_uniform``, zero biases.

    Each layer draws from its own key, ``fold_in(key, layer)``, so the hidden weights of a seed do
    not depend on the output layer's size: every loss starts from the same hidden layer.
    """
    sizes = (n_inputs, *hidden)
    params = [
        (he_uniform(jax.random.fold_in(key, i), fan_in, fan_out), jnp.zeros(fan_out, jnp.float32))
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))
    ]
    output_key = jax.random.fold_in(key, len(hidden))
    params.append((glorot_uniform(output_key, sizes[-1], n_outputs), jnp.zeros(n_outputs, jnp.float32)))
    return params


def forward(params: Params, x: Array) -> Array:
    """Pre-activation output ``z`` of the MLP: relu hidden layers, then a linear output layer.

    The output activation belongs to the loss (``LossSpec.activate``), so that training can use
    the stable from-logits form of the loss.
    """
    for W, b in params[:-1]:
        x = jax.nn.relu(x @ W + b)
    W, b = params[-1]
    return x @ W + b
