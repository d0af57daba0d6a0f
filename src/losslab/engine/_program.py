"""One compiled program trains a chunk of runs of one loss: ``lax.scan`` over epochs and
batches, every run of the chunk at once.

Axes: ``runs`` first everywhere; the model's output ``z`` is feature-major, ``(runs, units, rows)``
(see ``losslab.models``).

Each program trains a single loss. Sharing one program between losses (each run selecting its
loss) was tried and measured: it changes XLA's fusion of the loss gradient enough that
categorical and sparse categorical cross-entropy, bit-identical in programs of their own, drift
apart on some seeds. Paired comparisons need the losses to differ in nothing but the loss.

The result of a program is ``(runs, epochs, 2 splits, 3 values)``: loss, metric and the
tutorial's rounding accuracy, each on the whole split after the epoch.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array

from losslab.metrics import rounding_accuracy
from losslab.models import Model
from losslab.planning import Targets
from losslab.registry import LossSpec
from losslab.settings import Settings



def make_optimizer(settings: Settings) -> optax.GradientTransformation:
    """The optax optimizer for ``settings``; ``sgd`` has Keras's momentum semantics.

    Keras's ``v = m*v - lr*g; w += v`` and optax's ``v = g + m*v; w -= lr*v`` give the same
    weights for a constant learning rate.
    """
    if settings.optimizer == "sgd":
        return optax.sgd(settings.learning_rate, momentum=settings.momentum or None)
    return getattr(optax, settings.optimizer)(settings.learning_rate)


def epoch_orders(seed: int, epochs: int, n_rows: int) -> np.ndarray:
    """The order of every epoch for ``seed``: ``(epochs, n_rows)`` int32 permutations of the
    positions of the seed's training rows.

    Drawn on the host with NumPy's Fisher-Yates shuffle from ``default_rng(seed)``: XLA's CPU sort,
    which ``jax.random.permutation`` needs, made shuffling half of the training time. A seed's
    orders do not depend on the other seeds or losses of the study, and every loss trained with
    seed ``s`` sees the same batches (paired runs).
    """
    rows = np.broadcast_to(np.arange(n_rows, dtype=np.int32), (epochs, n_rows))
    return np.random.default_rng(seed).permuted(rows, axis=1)


def batches(order: Array, batch_size: int) -> tuple[Array, Array]:
    """One epoch's row order cut into batches, Keras-style.

    The last partial batch is kept (500 rows, batch 32: 15 batches of 32 and one of 20). To scan
    over equal shapes it is padded with row 0 and a mask of 0, and the batch loss divides by the
    mask's sum, so the partial batch's gradient is the mean over its 20 rows, as in Keras.
    Returns ``(n_batches, batch_size)`` row indices and the matching float mask.
    """
    n_rows = order.shape[0]
    n_batches = math.ceil(n_rows / batch_size)
    padded = n_batches * batch_size
    rows = jnp.concatenate([order, jnp.zeros(padded - n_rows, order.dtype)]).reshape(n_batches, batch_size)
    mask = (jnp.arange(padded) < n_rows).astype(jnp.float32).reshape(n_batches, batch_size)
    return rows, mask


@dataclass(frozen=True)
class Data:
    """The arrays a program reads: every row of the pool (train rows, then test rows) and its
    encoded targets; each run's split picks its rows from them."""

    X: Array
    y: Array

    @classmethod
    def of(cls, X_train: np.ndarray, X_test: np.ndarray, targets: Targets) -> Data:
        return cls(jnp.concatenate([jnp.asarray(X_train, jnp.float32), jnp.asarray(X_test, jnp.float32)]),
                   jnp.asarray(targets.pool))


jax.tree_util.register_dataclass(Data, data_fields=["X", "y"], meta_fields=[])


@functools.cache
def build_program(spec: LossSpec, units: int, settings: Settings, model: Model):
    """A jit-compiled function of ``(data, keys (runs, 2), orders (runs, epochs, n_train), splits)``
    returning the history ``(runs, epochs, n_splits, 3)``, the final parameters (the model's
    pytree, runs first) and the final activated outputs on the evaluated rows
    ``(runs, n_evaluated, units)``: ``model`` trained on loss ``spec`` with ``settings``.

    ``orders`` are each epoch's training rows of the pool in batch order; ``splits`` is a tuple
    of ``(runs, n_rows)`` pool rows, one per reported split (train first); the final outputs are
    those of every split after the first, concatenated.

    Cached on its static configuration, so a second study of the same shape reuses the traced
    program (and JAX's persistent cache skips the compilation across processes).
    """
    optimizer = make_optimizer(settings)
    one_unit_classifier = units == 1 and spec.kind != "regression"

    def output_gradient(z_t: Array, y: Array, weights: Array) -> Array:
        """d(batch loss)/dz, feature-major (runs, units, batch), as a materialised array."""
        dz = jax.grad(lambda z: jnp.sum(spec.objective(y, z) * weights))(jnp.swapaxes(z_t, 1, 2))
        return jax.lax.optimization_barrier(jnp.swapaxes(dz, 1, 2))

    def report(out: Array, data: Data, splits: tuple[Array, ...]) -> Array:
        """Per run and split: mean loss (Keras's probability form), metric, rounding accuracy."""
        y = jnp.broadcast_to(data.y, out.shape[:1] + data.y.shape)
        rounding = rounding_accuracy(y, out) if one_unit_classifier else jnp.full(out.shape[:2], jnp.nan)
        per_row = jnp.stack([spec.fn(y, out), spec.metric_fn(y, out), rounding], axis=-1)  # (runs, rows, 3)
        return jnp.stack([jnp.take_along_axis(per_row, rows[:, :, None], axis=1).mean(axis=1) for rows in splits],
                         axis=1)

    def program(data: Data, keys: Array, orders: Array, splits: tuple[Array, ...]):
        params = model.init(keys, data.X.shape[1], units)

        def outputs(params) -> Array:
            z_t, _ = model.forward(params, data.X)
            return spec.activate(jnp.swapaxes(z_t, 1, 2))  # (runs, rows, units)

        def step(carry, batch):
            params, opt_state = carry
            rows, mask = batch  # rows (runs, batch), mask (batch,)
            x = data.X[rows]
            z_t, cache = model.forward(params, x)
            dz = output_gradient(z_t, data.y[rows], mask / jnp.sum(mask))
            grads = model.backward(params, x, cache, dz)
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        def epoch(carry, order):
            rows, mask = jax.vmap(lambda o: batches(o, settings.batch_size))(order)
            carry, _ = jax.lax.scan(step, carry, (jnp.swapaxes(rows, 0, 1), mask[0]))
            return carry, report(outputs(carry[0]), data, splits)

        (final, _), history = jax.lax.scan(epoch, (params, optimizer.init(params)), jnp.swapaxes(orders, 0, 1))
        evaluated = jnp.concatenate(splits[1:], axis=1)
        final_outputs = jnp.take_along_axis(outputs(final), evaluated[:, :, None], axis=1)
        return jnp.swapaxes(history, 0, 1), final, final_outputs

    return jax.jit(program)
