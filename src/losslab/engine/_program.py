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
from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array

from losslab._arrays import aligned, is_aligned
from losslab.metrics import rounding_accuracy
from losslab.models import Model
from losslab.planning import EVAL_ROWS, Targets, eval_block_rows
from losslab.registry import LossSpec
from losslab.settings import SHUFFLE_BLOCK, SHUFFLE_WINDOW, Settings


def make_optimizer(optimizer: str, momentum: bool, learning_rate: Array, momentum_value: Array
                   ) -> optax.GradientTransformation:
    """The optax optimizer of a chunk, its learning rate and momentum given as (traced) scalars,
    so that one compiled program trains every value of a sweep; ``sgd`` has Keras's momentum
    semantics (Keras's ``v = m*v - lr*g; w += v`` and optax's ``v = g + m*v; w -= lr*v`` give the
    same weights for a constant learning rate).

    One value per chunk, not per run: a per-run vector of learning rates, broadcast against the
    parameters, changed XLA's fusion of the update and the weights in the last bits (measured on
    blobs), while a runtime scalar gives the same bits as a constant.
    """
    if optimizer == "sgd":
        return optax.sgd(learning_rate, momentum=momentum_value if momentum else None)
    return getattr(optax, optimizer)(learning_rate)


def epoch_orders(seed: int, epochs: int, n_rows: int, shuffle: str = "rows") -> np.ndarray:
    """The order of every epoch for ``seed``: ``(epochs, n_rows)`` int32 permutations of the
    positions of the seed's training rows (:func:`shuffled`, from ``default_rng(seed)``).

    Drawn on the host with NumPy's Fisher-Yates shuffle: XLA's CPU sort, which
    ``jax.random.permutation`` needs, made shuffling half of the training time. A seed's orders do
    not depend on the other seeds or losses of the study, and every loss trained with seed ``s``
    sees the same batches (paired runs).
    """
    return shuffled(np.random.default_rng(seed), epochs, n_rows, shuffle)


def shuffled(generator: np.random.Generator, epochs: int, n_rows: int, shuffle: str) -> np.ndarray:
    """``epochs`` orders of the positions ``0 .. n_rows - 1``, drawn from ``generator``.

    ``"rows"``: every position anew each epoch, as Keras shuffles. ``"blocks"``: the blocks of
    :data:`SHUFFLE_BLOCK` consecutive positions anew, then the positions within each window of
    :data:`SHUFFLE_WINDOW` blocks of that order shuffled together. A seed's training positions
    are in the table's order, so a window reads a few dozen stretches of the table instead of
    rows from all over it: a table kept on disk larger than memory is read a window at a time.
    """
    if shuffle != "blocks":
        return generator.permuted(np.broadcast_to(np.arange(n_rows, dtype=np.int32), (epochs, n_rows)), axis=1)
    orders = np.empty((epochs, n_rows), np.int32)
    for epoch in orders:
        epoch[:] = _by_blocks(generator, n_rows)
    return orders


def _by_blocks(generator: np.random.Generator, n_rows: int) -> np.ndarray:
    blocks = generator.permutation(math.ceil(n_rows / SHUFFLE_BLOCK))
    order = (blocks[:, None] * SHUFFLE_BLOCK + np.arange(SHUFFLE_BLOCK)).ravel()
    order = order[order < n_rows].astype(np.int32)  # the last block may be short
    window = SHUFFLE_BLOCK * SHUFFLE_WINDOW
    for start in range(0, n_rows, window):
        generator.shuffle(order[start:start + window])
    return order


def batches(orders: np.ndarray, batch_size: int) -> np.ndarray:
    """A block of epochs' row orders ``(runs, epochs, n_rows)`` cut into batches, Keras-style, in
    the layout the program scans: ``(epochs, n_batches, runs, batch_size)`` row indices.

    The last partial batch is kept (500 rows, batch 32: 15 batches of 32 and one of 20). To scan
    over equal shapes it is padded with row 0, which :func:`batch_mask` gives a weight of 0. Cut
    on the host into a buffer a CPU device uses as it is: cut in the program, an epoch's orders
    were copied three times over (300 MB for 16 runs of 2,400,000 rows).
    """
    runs, epochs, n_rows = orders.shape
    n_batches, whole = math.ceil(n_rows / batch_size), n_rows // batch_size
    rows = aligned((epochs, n_batches, runs, batch_size), np.int32)
    rows[:, :whole] = orders[:, :, :whole * batch_size].reshape(runs, epochs, whole, batch_size).transpose(1, 2, 0, 3)
    if whole < n_batches:  # the partial last batch, padded with row 0
        rows[:, whole] = 0
        rows[:, whole, :, :n_rows - whole * batch_size] = orders[:, :, whole * batch_size:].transpose(1, 0, 2)
    return rows


def batch_mask(n_rows: int, batch_size: int) -> np.ndarray:
    """``(n_batches, batch_size)``: 1 for an epoch's rows, 0 for the padding of its last batch.
    The batch loss divides by the mask's sum, so the partial batch's gradient is the mean over its
    own rows (20 of 500 in batches of 32), as in Keras."""
    n_batches = math.ceil(n_rows / batch_size)
    return (np.arange(n_batches * batch_size) < n_rows).astype(np.float32).reshape(n_batches, batch_size)


@dataclass(frozen=True)
class Data:
    """The arrays a program reads: every row of the pool (train rows, then test rows) and its
    encoded targets; each run's split picks its rows from them."""

    X: Array
    y: Array

    @classmethod
    def of(cls, pool: np.ndarray, targets: Targets) -> Data:
        """The pool (float32, :meth:`losslab.problems.Problem.pool`) and the loss's targets on the
        device. A CPU device uses a pool laid out for it (:func:`losslab._arrays.is_aligned`) in
        place: the problem's own memory, or the pages of a table kept on disk (``jnp.asarray``
        of a NumPy array copied it twice over: 1.5 GB more at the peak for 800 MB of features);
        an accelerator copies it."""
        if not is_aligned(pool):
            laid_out = aligned(pool.shape)
            laid_out[...] = pool
            pool = laid_out
        return cls(jax.device_put(pool, may_alias=True), jnp.asarray(targets.pool))

    @classmethod
    def shapes(cls, n_rows: int, n_features: int, targets: Targets) -> Data:
        """The shapes and types :meth:`of` gives, without the arrays: what a program compiles for."""
        return cls(jax.ShapeDtypeStruct((n_rows, n_features), jnp.float32),
                   jax.ShapeDtypeStruct(targets.pool.shape, jax.dtypes.canonicalize_dtype(targets.pool.dtype)))


jax.tree_util.register_dataclass(Data, data_fields=["X", "y"], meta_fields=[])


@dataclass(frozen=True)
class Shape:
    """What a compiled program depends on besides the loss and the model: the optimizer and
    whether it keeps a momentum trace, and the batch size. The learning rate and the momentum's
    value are inputs, so that one program serves every value of a sweep."""

    optimizer: str
    momentum: bool
    batch_size: int

    @classmethod
    def of(cls, settings: Settings) -> Shape:
        return cls(settings.optimizer, bool(settings.momentum), settings.batch_size)


@dataclass(frozen=True)
class Program:
    """A loss's compiled functions: ``start(keys, hypers)`` gives the initial (parameters,
    optimizer state) of a chunk's runs (one function shared by every loss of the same model,
    inputs, output units and optimizer: see :func:`build_start`);
    ``train(data, carry, rows, mask, splits, hypers)`` trains a block of
    epochs and returns the new carry and the block's history ``(runs, epochs, n_splits, 3)``;
    ``outputs(data, params, rows)`` the final activated outputs on ``rows`` (runs, n_rows)."""

    start: Callable
    train: Callable
    outputs: Callable


@functools.cache
def build_start(model: Model, n_in: int, units: int, shape: Shape) -> Callable:
    """The jitted ``start(keys, hypers)``: a chunk's initial parameters (Keras's initializers, one
    key per run) and optimizer state. It does not depend on the loss, so the losses of a study
    that share the output units share it, and compile it once."""

    def start(keys: Array, hypers: tuple[Array, Array]):
        params = model.init(keys, n_in, units)
        return params, make_optimizer(shape.optimizer, shape.momentum, *hypers).init(params)

    return jax.jit(start)


@functools.cache
def build_program(spec: LossSpec, units: int, shape: Shape, model: Model, n_in: int) -> Program:
    """The jit-compiled functions that train ``model`` on loss ``spec`` (see :class:`Program`).

    ``rows`` are a block of epochs' training rows of the pool cut into batches by :func:`batches`
    (``(epochs, n_batches, runs, batch_size)``), ``mask`` their :func:`batch_mask`;
    ``splits`` is a tuple of ``(runs, n_rows)`` pool rows, one per reported split (train first);
    ``hypers`` the chunk's ``(learning_rate, momentum)``, two float32 scalars.

    Cached on its static configuration, so a second study of the same shape reuses the traced
    program (and JAX's persistent cache skips the compilation across processes).
    """
    one_unit_classifier = units == 1 and spec.kind != "regression"

    def optimizer(hypers: tuple[Array, Array]) -> optax.GradientTransformation:
        return make_optimizer(shape.optimizer, shape.momentum, *hypers)

    def output_gradient(z_t: Array, y: Array, weights: Array) -> Array:
        """d(batch loss)/dz, feature-major (runs, units, batch), as a materialised array."""
        dz = jax.grad(lambda z: jnp.sum(spec.objective(y, z) * weights))(jnp.swapaxes(z_t, 1, 2))
        return jax.lax.optimization_barrier(jnp.swapaxes(dz, 1, 2))

    def activated(params, X: Array) -> Array:
        z_t, _ = model.forward(params, X)
        return spec.activate(jnp.swapaxes(z_t, 1, 2))  # (runs, rows, units)

    def per_row(params, X: Array, y: Array, shared: bool = True) -> Array:
        """Per run and row: loss (Keras's probability form), metric, rounding accuracy; ``X`` and
        ``y`` are the rows every run evaluates (``shared``) or each run's own (a leading runs axis)."""
        out = activated(params, X)
        # materialised: XLA otherwise folds the broadcast one-hot targets into the product with
        # the log-probabilities, and on CPU, from about 18,000 rows on, that fused product gave
        # every run of a chunk the first run's categorical cross-entropy (the weights were right)
        y = jax.lax.optimization_barrier(jnp.broadcast_to(y, out.shape[:1] + y.shape) if shared else y)
        rounding = rounding_accuracy(y, out) if one_unit_classifier else jnp.full(out.shape[:2], jnp.nan)
        return jnp.stack([spec.fn(y, out), spec.metric_fn(y, out), rounding], axis=-1)  # (runs, rows, 3)

    def report(params, data: Data, splits: tuple[Array, ...]) -> Array:
        """Per run and split: the mean of each per-row value over the split's rows. A pool of at
        most :data:`EVAL_ROWS` rows is evaluated in one pass (the arithmetic checked against
        Keras); a larger one split by split, a block of each run's rows at a time."""
        if data.X.shape[0] > EVAL_ROWS:
            return jnp.stack([split_mean(params, data, rows) for rows in splits], axis=1)
        values = per_row(params, data.X, data.y)
        return jnp.stack([jnp.take_along_axis(values, rows[:, :, None], axis=1).mean(axis=1) for rows in splits],
                         axis=1)

    def split_mean(params, data: Data, rows: Array) -> Array:
        """``per_row`` averaged over each run's ``rows`` (runs, n) and summed a block at a time, so
        that memory holds one block's activations, not every pool row's values: ``(runs, 3)``."""
        per_block, n_blocks = eval_blocks(*rows.shape, data.X.shape[1])

        def add(total, i):
            block_rows, start = run_block(rows, i, per_block)
            counted = start + jnp.arange(per_block) < i * per_block  # by the block before (the last overlaps it)
            values = per_row(params, data.X[block_rows], data.y[block_rows], shared=False)
            return total + jnp.sum(jnp.where(counted[None, :, None], 0.0, values), axis=1), None

        total, _ = jax.lax.scan(add, jnp.zeros((rows.shape[0], 3), jnp.float32), jnp.arange(n_blocks))
        return total / rows.shape[1]

    def train(data: Data, carry, rows: Array, mask: Array, splits: tuple[Array, ...], hypers: tuple[Array, Array]):
        update = optimizer(hypers).update

        def step(carry, batch):
            params, opt_state = carry
            rows, mask = batch  # rows (runs, batch), mask (batch,)
            x = data.X[rows]
            z_t, cache = model.forward(params, x)
            dz = output_gradient(z_t, data.y[rows], mask / jnp.sum(mask))
            grads = model.backward(params, x, cache, dz)
            updates, opt_state = update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), None

        def epoch(carry, epoch_rows):
            carry, _ = jax.lax.scan(step, carry, (epoch_rows, mask))
            return carry, report(carry[0], data, splits)

        carry, history = jax.lax.scan(epoch, carry, rows)
        return carry, jnp.swapaxes(history, 0, 1)

    def outputs(data: Data, params, rows: Array) -> Array:
        if data.X.shape[0] <= EVAL_ROWS:
            return jnp.take_along_axis(activated(params, data.X), rows[:, :, None], axis=1)
        per_block, n_blocks = eval_blocks(*rows.shape, data.X.shape[1])

        def write(i, result):
            block_rows, start = run_block(rows, i, per_block)
            return jax.lax.dynamic_update_slice_in_dim(result, activated(params, data.X[block_rows]), start, axis=1)

        return jax.lax.fori_loop(0, n_blocks, write, jnp.zeros(rows.shape + (units,), jnp.float32))

    return Program(build_start(model, n_in, units, shape), jax.jit(train), jax.jit(outputs))


def eval_blocks(runs: int, n: int, n_features: int) -> tuple[int, int]:
    """How a chunk's ``runs`` evaluate ``n`` rows each when the pool is larger than
    :data:`EVAL_ROWS`: ``(rows per run per block, blocks)``, :data:`EVAL_ROWS` rows a block in
    all, fewer for a wide table (:func:`~losslab.planning.eval_block_rows`)."""
    per_block = min(n, eval_block_rows(runs, n_features, EVAL_ROWS))
    return per_block, math.ceil(n / per_block)


def run_block(rows: Array, i: Array, per_block: int) -> tuple[Array, Array]:
    """Block ``i`` of each run's ``rows`` (runs, n), sliced in place (no copy of ``rows``), and
    where it starts: the last block ends at the last row, overlapping the one before it."""
    start = jnp.minimum(i * per_block, rows.shape[1] - per_block)
    return jax.lax.dynamic_slice_in_dim(rows, start, per_block, axis=1), start
