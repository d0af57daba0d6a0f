"""The multilayer perceptron, many models at once, written for XLA's CPU matrix kernels.

Axes: runs first. Weights are stored ``(runs, out, in)`` and activations feature-major,
``(runs, features, rows)``. With that layout every matrix product the forward and backward passes
need contracts the minor (last) axis of its left operand, which is the form XLA hands to its fast
batched-GEMM kernels; the textbook ``(rows, features)`` layout under ``vmap`` sends the weight
gradients ``x^T @ delta`` to a generic loop that took most of the training time.

The backward pass is written out (it is short for an MLP) rather than left to autodiff, because
autodiff re-derives the transposed products that the layout is there to avoid. Only the loss's
gradient with respect to the output comes from ``jax.grad``; see ``losslab.engine._program``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

Params = list[tuple[Array, Array]]  # per layer: W (runs, out, in), b (runs, out)


def he_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``he_uniform``: U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)), shape ``(fan_in, fan_out)``."""
    limit = jnp.sqrt(6.0 / fan_in)
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


def glorot_uniform(key: Array, fan_in: int, fan_out: int) -> Array:
    """Keras ``glorot_uniform`` (the Dense default): U(-sqrt(6 / (fan_in + fan_out)), +...)."""
    limit = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -limit, limit)


def init_mlp(key: Array, n_inputs: int, hidden: tuple[int, ...], n_outputs: int) -> list[tuple[Array, Array]]:
    """One model's parameters in Keras's layout: ``[(kernel (in, out), bias (out,))]`` per layer.

    Hidden layers ``he_uniform`` (for relu), output layer ``glorot_uniform``, zero biases. Each
    layer draws from its own key, ``fold_in(key, layer)``, so the hidden weights of a seed do not
    depend on the output layer's size: every loss starts from the same hidden layer.
    """
    sizes = (n_inputs, *hidden)
    params = [
        (he_uniform(jax.random.fold_in(key, i), fan_in, fan_out), jnp.zeros(fan_out, jnp.float32))
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))
    ]
    output_key = jax.random.fold_in(key, len(hidden))
    params.append((glorot_uniform(output_key, sizes[-1], n_outputs), jnp.zeros(n_outputs, jnp.float32)))
    return params


def init_runs(keys: Array, n_inputs: int, hidden: tuple[int, ...], n_outputs: int) -> Params:
    """Parameters of many runs, one key each, in the engine's ``(runs, out, in)`` layout."""
    per_run = jax.vmap(lambda key: init_mlp(key, n_inputs, hidden, n_outputs))(keys)
    return [(jnp.swapaxes(W, 1, 2), b) for W, b in per_run]


def forward(params: Params, x: Array) -> tuple[Array, list[Array]]:
    """Pre-activation output ``z`` (runs, out, rows) and the hidden pre-activations.

    ``x`` is ``(runs, rows, features)`` (each run its own rows) or ``(rows, features)`` (the same
    rows for every run: then the first layer is a single matrix product for all runs).
    """
    W, b = params[0]
    spec = "roi,rbi->rob" if x.ndim == 3 else "roi,bi->rob"
    a = jnp.einsum(spec, W, x) + b[:, :, None]
    pre_activations = []
    for W, b in params[1:]:
        pre_activations.append(a)
        a = jnp.einsum("roi,rib->rob", W, jax.nn.relu(a)) + b[:, :, None]
    return a, pre_activations


def backward(params: Params, x: Array, pre_activations: list[Array], dz: Array) -> Params:
    """Gradients of the loss for every layer, given ``dz`` = d loss / d z, shape (runs, out, rows).

    ``x`` is ``(runs, rows, features)``. Each product keeps the contracted axis minor on the left
    (see the module docstring); the optimisation barrier stops XLA from folding the transpose of
    ``dz`` back into the product.
    """
    grads = []
    delta = dz
    for layer in range(len(params) - 1, 0, -1):
        a = pre_activations[layer - 1]
        W = params[layer][0]
        grads.append((jnp.einsum("rob,rib->roi", delta, jax.nn.relu(a)), delta.sum(axis=2)))
        W_t = jax.lax.optimization_barrier(jnp.swapaxes(W, 1, 2))
        delta = jnp.where(a > 0, jnp.einsum("rio,rob->rib", W_t, delta), 0.0)
    grads.append((jnp.einsum("rob,rbi->roi", delta, x), delta.sum(axis=2)))
    return grads[::-1]
