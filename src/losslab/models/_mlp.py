"""The multilayer perceptron, many models at once, written for XLA's CPU matrix kernels.

Axes: runs first. Weights are stored ``(runs, out, in)``, biases ``(runs, out)``, and activations
feature-major, ``(runs, features, rows)``. With that layout every matrix product the forward and
backward passes need contracts the minor (last) axis of its left operand, which is the form XLA
hands to its fast batched-GEMM kernels; the textbook ``(rows, features)`` layout under ``vmap``
sends the weight gradients ``x^T @ delta`` to a generic loop that took most of the training time.

The backward pass is written out (it is short for an MLP) rather than left to autodiff, because
autodiff re-derives the transposed products that the layout is there to avoid.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax import Array

from losslab.errors import SettingsError
from losslab.models._activations import Activation, get_activation
from losslab.models._initializers import INITIALIZERS, glorot_uniform
from losslab.models._model import Model

Params = list[tuple[Array, Array]]  # per layer: W (runs, out, in), b (runs, out)


@dataclass(frozen=True)
class MLP(Model):
    """Dense hidden layers of one activation, then a linear output layer (the loss adds its own).

    Layer ``l`` computes ``a_l = W_l h_{l-1} + b_l`` with ``h_0 = x`` and ``h_l = f(a_l)``; the
    output is ``z = a_L``. Backward, with ``delta_L = dz``:
    ``dW_l = delta_l h_{l-1}^T``, ``db_l = sum_rows delta_l``,
    ``delta_{l-1} = f'(a_{l-1}) * (W_l^T delta_l)``.

    Initial weights are Keras's: the activation's hidden initializer (``he_uniform`` for the relu
    family, ``glorot_uniform`` otherwise), ``glorot_uniform`` for the output layer, zero biases.

    >>> MLP(hidden=[64, 32], activation="tanh")
    MLP(hidden=(64, 32), activation='tanh')
    >>> MLP().describe()
    {'kind': 'MLP', 'hidden': [50], 'activation': 'relu'}
    """

    hidden: tuple[int, ...] = (50,)
    activation: str = "relu"

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, list):  # hidden=[64, 32] means the same as (64, 32)
            hidden = tuple(hidden)
        if not isinstance(hidden, tuple):
            raise SettingsError(f"hidden is a tuple of layer sizes, got {hidden!r}; for one layer of 50 write hidden=(50,)")
        if not hidden:
            raise SettingsError("hidden must name at least one layer size, e.g. hidden=(50,)")
        for units in hidden:
            if isinstance(units, bool) or not isinstance(units, int) or units < 1:
                raise SettingsError(f"hidden layer sizes must be positive integers, got {units!r} in {hidden!r}; e.g. hidden=(50,)")
        object.__setattr__(self, "hidden", tuple(int(units) for units in hidden))
        object.__setattr__(self, "activation", get_activation(self.activation).name)

    @property
    def _act(self) -> Activation:
        return get_activation(self.activation)

    def __str__(self) -> str:
        return f"MLP({', '.join(map(str, self.hidden))}; {self.activation})"

    def keras_params(self, key: Array, n_in: int, n_out: int) -> list[tuple[Array, Array]]:
        """One model's parameters in Keras's layout: ``[(kernel (in, out), bias (out,))]`` per layer.

        Each layer draws from its own key, ``fold_in(key, layer)``, so the hidden weights of a seed
        do not depend on the output layer's size: every loss starts from the same hidden layers.
        """
        hidden_init = INITIALIZERS[self._act.initializer]
        sizes = (n_in, *self.hidden)
        params = [
            (hidden_init(jax.random.fold_in(key, i), fan_in, fan_out), jnp.zeros(fan_out, jnp.float32))
            for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]))
        ]
        output_key = jax.random.fold_in(key, len(self.hidden))
        params.append((glorot_uniform(output_key, sizes[-1], n_out), jnp.zeros(n_out, jnp.float32)))
        return params

    def init(self, keys: Array, n_in: int, n_out: int) -> Params:
        """Parameters of many runs, one key each, in the ``(runs, out, in)`` layout."""
        per_run = jax.vmap(lambda key: self.keras_params(key, n_in, n_out))(keys)
        return [(jnp.swapaxes(W, 1, 2), b) for W, b in per_run]

    def forward(self, params: Params, x: Array) -> tuple[Array, list[Array]]:
        """Pre-activation output ``z`` (runs, out, rows) and the hidden pre-activations ``a_l``.

        With ``x`` of shape ``(rows, features)`` the first layer is one matrix product for all runs.
        """
        f = self._act.fn
        W, b = params[0]
        spec = "roi,rbi->rob" if x.ndim == 3 else "roi,bi->rob"
        a = jnp.einsum(spec, W, x) + b[:, :, None]
        pre_activations = []
        for W, b in params[1:]:
            pre_activations.append(a)
            a = jnp.einsum("roi,rib->rob", W, f(a)) + b[:, :, None]
        return a, pre_activations

    def backward(self, params: Params, x: Array, pre_activations: list[Array], dz: Array) -> Params:
        """Gradients of every layer, given ``dz`` = d loss / d z, shape (runs, out, rows).

        Each product keeps the contracted axis minor on the left (see the module docstring); the
        optimisation barrier stops XLA from folding the transpose of ``W`` back into the product.
        """
        act = self._act
        grads = []
        delta = dz
        for layer in range(len(params) - 1, 0, -1):
            a = pre_activations[layer - 1]
            W = params[layer][0]
            grads.append((jnp.einsum("rob,rib->roi", delta, act.fn(a)), delta.sum(axis=2)))
            W_t = jax.lax.optimization_barrier(jnp.swapaxes(W, 1, 2))
            delta = act.through(a, jnp.einsum("rio,rob->rib", W_t, delta))
        spec = "rob,rbi->roi" if x.ndim == 3 else "rob,bi->roi"
        grads.append((jnp.einsum(spec, delta, x), delta.sum(axis=2)))
        return grads[::-1]
