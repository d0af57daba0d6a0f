"""One compiled program trains a group of runs: ``jit(vmap(run))`` with ``lax.scan`` over epochs
and batches.

Axes: ``runs`` first everywhere. A run is (seed, loss); losses whose output layers have the same
number of units share a program, and ``lax.switch`` on the run's loss index picks its objective.
Under ``vmap`` the switch evaluates every branch, which costs little: the loss is computed on
``(batch, units)`` outputs, far cheaper than the hidden layer.

The result of a program is ``(runs, epochs, 2 splits, 3 values)``: loss, metric and the
tutorial's rounding accuracy, each on the whole split after the epoch.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array

from losslab.engine._model import forward, init_mlp
from losslab.metrics import rounding_accuracy
from losslab.registry import LossSpec
from losslab.settings import Settings

N_VALUES = 3  # loss, metric, rounding accuracy


def make_optimizer(settings: Settings) -> optax.GradientTransformation:
    """The optax optimizer for ``settings``; ``sgd`` has Keras's momentum semantics.

    Keras's ``v = m*v - lr*g; w += v`` and optax's ``v = g + m*v; w -= lr*v`` give the same
    weights for a constant learning rate.
    """
    if settings.optimizer == "sgd":
        return optax.sgd(settings.learning_rate, momentum=settings.momentum or None)
    return getattr(optax, settings.optimizer)(settings.learning_rate)


@dataclass(frozen=True)
class Targets:
    """Encoded targets of one loss for the rows of the train and test sets stacked together."""

    train: np.ndarray
    test: np.ndarray


def epoch_orders(seed: int, epochs: int, n_rows: int) -> np.ndarray:
    """The row order of every epoch for ``seed``: ``(epochs, n_rows)`` int32 permutations.

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
    """The arrays a program reads: train rows, all rows (train then test), encoded targets."""

    X_train: Array
    X_all: Array
    y_train: tuple[Array, ...]  # one per loss of the program
    y_all: tuple[Array, ...]

    @classmethod
    def of(cls, X_train: np.ndarray, X_test: np.ndarray, targets: Sequence[Targets]) -> Data:
        X_tr = jnp.asarray(X_train, jnp.float32)
        return cls(
            X_tr,
            jnp.concatenate([X_tr, jnp.asarray(X_test, jnp.float32)]),
            tuple(jnp.asarray(t.train) for t in targets),
            tuple(jnp.concatenate([jnp.asarray(t.train), jnp.asarray(t.test)]) for t in targets),
        )


jax.tree_util.register_dataclass(Data, data_fields=["X_train", "X_all", "y_train", "y_all"], meta_fields=[])


@functools.cache
def build_program(specs: tuple[LossSpec, ...], units: int, settings: Settings):
    """A jit-compiled function of ``(data, keys (runs, 2), orders (runs, epochs, n_train),
    loss_index (runs,))`` returning ``(runs, epochs, 2, 3)``.

    Cached on its static configuration, so a second study of the same shape reuses the traced
    program (and JAX's persistent cache skips the compilation across processes).
    """
    optimizer = make_optimizer(settings)

    def objective_branch(k: int):
        return lambda z, rows, data: specs[k].objective(data.y_train[k][rows], z)

    def report_branch(k: int):
        spec = specs[k]

        def values(z: Array, data: Data) -> Array:  # (rows, 3) from the pre-activation output
            y, out = data.y_all[k], spec.activate(z)
            one_unit_classifier = units == 1 and spec.kind != "regression"
            rounding = rounding_accuracy(y, out) if one_unit_classifier else jnp.full(z.shape[0], jnp.nan)
            return jnp.stack([spec.fn(y, out), spec.metric_fn(y, out), rounding], axis=-1)

        return values

    objectives = [objective_branch(k) for k in range(len(specs))]
    reports = [report_branch(k) for k in range(len(specs))]

    def run(data: Data, key: Array, orders: Array, loss_index: Array) -> Array:
        n_train = data.X_train.shape[0]
        params = init_mlp(key, data.X_train.shape[1], settings.hidden, units)

        def batch_loss(p, rows, mask):
            z = forward(p, data.X_train[rows])
            per_sample = jax.lax.switch(loss_index, objectives, z, rows, data)
            return jnp.sum(per_sample * mask) / jnp.sum(mask)

        def step(carry, batch):
            p, opt_state = carry
            grads = jax.grad(batch_loss)(p, *batch)
            updates, opt_state = optimizer.update(grads, opt_state, p)
            return (optax.apply_updates(p, updates), opt_state), None

        def epoch(carry, order):
            carry, _ = jax.lax.scan(step, carry, batches(order, settings.batch_size))
            per_row = jax.lax.switch(loss_index, reports, forward(carry[0], data.X_all), data)
            summary = jnp.stack([per_row[:n_train].mean(axis=0), per_row[n_train:].mean(axis=0)])
            return carry, summary

        _, history = jax.lax.scan(epoch, (params, optimizer.init(params)), orders)
        return history

    return jax.jit(jax.vmap(run, in_axes=(None, 0, 0, 0)))
