"""How much memory a study needs, estimated from shapes before anything is allocated.

The estimate follows the engine: chunks of ``chunk`` runs train side by side (one per core),
each holding its parameters with their gradients and optimizer state (about five copies), the
model's forward cache for one batch and for every row at evaluation, every epoch's row order (on
the host and in the program) and the per-epoch history; the tidy tables then hold one row per
run, epoch and split. Shapes come from ``jax.eval_shape`` of the model's own ``init`` and
``forward``, so any model is sized without being built. A study over the budget is refused, naming the largest size that fits.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import jax
import numpy as np

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
#: Share of the machine's memory a study may plan to use.
BUDGET_SHARE = 0.6


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

    @property
    def n_runs(self) -> int:
        return self.n_losses * self.n_seeds


def memory_budget() -> int:
    """Bytes a study may use: :data:`BUDGET_SHARE` of physical memory or of a cgroup's limit."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    limit = Path("/sys/fs/cgroup/memory.max")
    try:
        text = limit.read_text().strip()
        if text.isdigit():
            total = min(total, int(text))
    except OSError:
        pass
    return int(BUDGET_SHARE * total)


def estimate_bytes(size: StudySize, settings: Settings, model: Model) -> int:
    """Peak bytes of a study of ``size`` trained with ``settings`` and ``model``."""
    params, batch_cache, eval_cache = _model_bytes(model, size.n_features, size.n_outputs, settings.batch_size,
                                                   size.n_all, size.chunk)
    n_batches = math.ceil(size.n_train / settings.batch_size)
    per_run = (
        2 * settings.epochs * size.n_train * 4  # every epoch's row order (int32), on the host and in the program
        + 2 * n_batches * settings.batch_size * 4  # one epoch's padded batches and mask
        + settings.epochs * 6 * 4  # the history the program returns
    )
    chunk = PARAM_COPIES * params + 3 * batch_cache + EVAL_COPIES * eval_cache + size.chunk * per_run
    workers = min(os.cpu_count() or 1, math.ceil(size.n_seeds / size.chunk))  # the losses run one after another
    data = 2 * size.n_all * (size.n_features + size.n_outputs) * 4
    results = size.n_runs * settings.epochs * 2 * RESULT_ROW_BYTES
    return RUNTIME_BYTES + workers * chunk + data + results


@cache
def _model_bytes(model: Model, n_in: int, n_out: int, batch: int, n_all: int, chunk: int) -> tuple[int, int, int]:
    """Bytes of a chunk's parameters, of its forward cache for a batch and for all rows."""
    keys = jax.ShapeDtypeStruct((chunk, 2), np.uint32)
    params = jax.eval_shape(lambda k: model.init(k, n_in, n_out), keys)
    batch_x = jax.ShapeDtypeStruct((chunk, batch, n_in), np.float32)
    all_x = jax.ShapeDtypeStruct((n_all, n_in), np.float32)
    return _nbytes(params), _nbytes(jax.eval_shape(model.forward, params, batch_x)), \
        _nbytes(jax.eval_shape(model.forward, params, all_x))


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
