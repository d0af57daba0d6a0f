"""How much memory a study needs, estimated from shapes before anything is allocated.

The estimate follows the engine: chunks of ``chunk`` runs train side by side (one per core),
each holding its parameters with their gradients and optimizer state (about five copies), the
model's forward cache for one batch and at evaluation (a pool of at most :data:`EVAL_ROWS` rows
in one pass, shared by the chunk's runs; a larger one a block of each run's rows at a time,
:data:`EVAL_ROWS` rows in all) with the evaluated rows' per-row values, one block of epochs' row
orders (drawn, then cut into batches; :func:`epoch_block`) and the per-epoch history; the tidy
tables then hold one row per run, epoch and split. Neither the epochs nor the rows multiply the
working set: the epochs come a block at a time and the rows are evaluated a block at a time.
Shapes come from ``jax.eval_shape`` of the model's own ``init`` and ``forward``, so any model is
sized without being built. A study over the budget is refused, naming the largest size that fits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache

import jax
import numpy as np

from losslab._machine import memory_budget
from losslab.errors import SettingsError
from losslab.models import MLP, Model
from losslab.settings import Settings

#: Copies of the parameters a training step holds: weights, gradients, update, optimizer state (2).
PARAM_COPIES = 5
#: Bytes per (run, epoch, split) once the results are tidy tables (nine columns, float64 and
#: object references, plus the engine's float32 values they are made from).
RESULT_ROW_BYTES = 160
#: Copies of the forward cache alive when every row is evaluated after an epoch (pre-activations,
#: activations, outputs and the per-row report), measured: a 200,000-row table peaked at 3.9 GiB.
EVAL_COPIES = 3
#: What the runtime holds besides the study (JAX, XLA's compiler, the Python process).
RUNTIME_BYTES = 512 * 2**20
#: Rows evaluated at once after an epoch: a larger pool is evaluated in blocks of this many rows
#: (a pool this small, like the tutorial's, in one pass, whose arithmetic was checked against Keras).
EVAL_ROWS = 65_536
#: Bytes of features a block of a larger pool's evaluated rows gathers, every run of the chunk
#: together: a wide table is evaluated fewer rows at a time (65,536 rows of 2,000 features
#: would take 500 MB).
EVAL_BLOCK_BYTES = 32 * 2**20
#: Bytes a chunk's row orders may take at once; a longer study is trained a block of epochs at a
#: time (16 runs x 100 epochs x 500 rows, the tutorial's, take 3.2 MB: one block).
ORDER_BYTES = 256 * 2**20


def epoch_block(epochs: int, n_train: int, chunk: int) -> int:
    """Epochs trained per call: all of them when a chunk's row orders fit :data:`ORDER_BYTES`,
    else the largest divisor of ``epochs`` that does (every block then has one compiled shape)."""
    most = max(1, ORDER_BYTES // (chunk * n_train * 4))
    return max(d for d in range(1, min(epochs, most) + 1) if epochs % d == 0)


@dataclass(frozen=True)
class StudySize:
    """What the memory estimate depends on: the data's shape and the study's extent."""

    n_train: int
    n_all: int
    n_features: int
    n_outputs: int
    n_losses: int
    n_seeds: int
    chunk: int
    features_on_disk: bool = False  # mapped from a file: the operating system pages them in and out

    @property
    def n_runs(self) -> int:
        return self.n_losses * self.n_seeds


def estimate_bytes(size: StudySize, settings: Settings, model: Model) -> int:
    """Peak bytes of a study of ``size`` trained with ``settings`` and ``model``."""
    params, batch_cache, eval_cache = _model_bytes(model, size.n_features, size.n_outputs, settings.batch_size,
                                                   size.n_all if size.n_all <= EVAL_ROWS else 0, size.chunk)
    n_batches = math.ceil(size.n_train / settings.batch_size)
    block = epoch_block(settings.epochs, size.n_train, size.chunk)
    per_run = (
        # a block of epochs' row orders (int32), and the same cut into padded batches (which a CPU
        # device uses in place)
        2 * block * n_batches * settings.batch_size * 4
        + 2 * _rows_evaluated_at_once(size) * 3 * 4  # the rows' loss, metric and rounding, and their gather
        + size.n_all * (4 + size.n_outputs * 4)  # the split rows, the final outputs
        + settings.epochs * 9 * 4  # the history the program returns
    )
    chunk = PARAM_COPIES * params + 3 * batch_cache + EVAL_COPIES * eval_cache + size.chunk * per_run
    workers = min(os.cpu_count() or 1, math.ceil(size.n_seeds / size.chunk))  # the losses run one after another
    # the problem's float32 features (unless on disk) and an accelerator's copy of them (a CPU
    # uses them in place), each loss's encoded targets and its copy on the device
    features = size.n_all * size.n_features * (4 * (not size.features_on_disk) + 4 * (jax.default_backend() != "cpu"))
    data = features + size.n_all * size.n_outputs * (8 + 4 + 4)
    results = size.n_runs * settings.epochs * 2 * RESULT_ROW_BYTES
    return RUNTIME_BYTES + workers * chunk + data + results


def eval_block_rows(runs: int, n_features: int, rows: int = EVAL_ROWS) -> int:
    """Rows per run in a block of a pool evaluated in blocks: ``rows`` in all for the chunk's
    ``runs``, fewer where their features would take more than :data:`EVAL_BLOCK_BYTES`."""
    return max(1, min(rows, EVAL_BLOCK_BYTES // (4 * n_features)) // runs)


def _rows_evaluated_at_once(size: StudySize) -> int:
    """Per run: the whole pool when it is at most :data:`EVAL_ROWS` rows (one pass), else a
    block of each run's rows (:func:`eval_block_rows`)."""
    return size.n_all if size.n_all <= EVAL_ROWS else eval_block_rows(size.chunk, size.n_features)


@cache
def _model_bytes(model: Model, n_in: int, n_out: int, batch: int, pool: int, chunk: int) -> tuple[int, int, int]:
    """Bytes of a chunk's parameters, of its forward cache for a batch and at evaluation: the
    ``pool``'s rows shared by every run, or (``pool`` 0, a larger pool) a block of each run's
    rows with the features it gathers."""
    keys = jax.ShapeDtypeStruct((chunk, 2), np.uint32)
    params = jax.eval_shape(lambda k: model.init(k, n_in, n_out), keys)
    batch_x = jax.ShapeDtypeStruct((chunk, batch, n_in), np.float32)
    eval_x = jax.ShapeDtypeStruct((pool, n_in) if pool else (chunk, eval_block_rows(chunk, n_in), n_in), np.float32)
    gathered = 0 if pool else _nbytes(eval_x)
    return _nbytes(params), _nbytes(jax.eval_shape(model.forward, params, batch_x)), \
        _nbytes(jax.eval_shape(model.forward, params, eval_x)) + gathered


def _nbytes(tree: object) -> int:
    return sum(math.prod(leaf.shape) * np.dtype(leaf.dtype).itemsize for leaf in jax.tree_util.tree_leaves(tree))


def check_memory(size: StudySize, settings: Settings, model: Model, budget: int | None = None) -> None:
    """Refuse a study whose estimate exceeds the budget, naming the largest sizes that fit."""
    budget = memory_budget() if budget is None else budget
    need = estimate_bytes(size, settings, model)
    if need <= budget:
        return
    fits = _largest_that_fit(size, settings, model, budget)
    fix = "; the largest that fit, one change at a time: " + ", ".join(fits) if fits else \
        "; subsample the rows or train fewer epochs"
    raise SettingsError(
        f"this study needs about {_gb(need)} of memory, more than the {_gb(budget)} it may use here{fix}"
    )


def _largest_that_fit(size: StudySize, settings: Settings, model: Model, budget: int) -> list[str]:
    """For each size a user sets, the largest value that fits with everything else unchanged."""
    def fits_with(**changes) -> Callable[[int], bool]:
        def fits(value: int) -> bool:
            new_size, new_settings, new_model = size, settings, model
            if "seeds" in changes:
                new_size = replace(size, n_seeds=value)
            elif "hidden" in changes:
                new_model = MLP(tuple(min(h, value) for h in model.hidden), model.activation)
            else:
                new_settings = settings.updated(**{changes["field"]: value})
            return estimate_bytes(new_size, new_settings, new_model) <= budget
        return fits

    knobs = [("seeds (repeats)", size.n_seeds, fits_with(seeds=True)),
             ("batch size", settings.batch_size, fits_with(field="batch_size")),
             ("epochs", settings.epochs, fits_with(field="epochs"))]
    if isinstance(model, MLP):
        knobs.append(("hidden layer size", max(model.hidden), fits_with(hidden=True)))
    found = []
    for name, current, fits in knobs:
        best = _bisect(fits, current)
        if name == "batch size" and best > size.n_train:  # a batch is never larger than the data
            best = size.n_train if fits(size.n_train) else 0
        if best:
            found.append(f"{name} {best:,} (now {current:,})")
    return found


def largest_seeds(size: StudySize, settings: Settings, model: Model, budget: int | None = None) -> int:
    """The most seeds a study of ``size`` fits with (0 if not even one)."""
    budget = memory_budget() if budget is None else budget

    def fits(n_seeds: int) -> bool:
        return estimate_bytes(replace(size, n_seeds=n_seeds), settings, model) <= budget

    if not fits(1):
        return 0
    high = 2
    while fits(high) and high < 2**32:
        high *= 2
    return _bisect(fits, high)


def _bisect(fits: Callable[[int], bool], current: int) -> int:
    """The largest value in ``1..current - 1`` for which ``fits`` holds (0 if none)."""
    low, high = 0, current - 1  # invariant: low == 0 or fits(low); no value above high fits
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def _gb(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"
