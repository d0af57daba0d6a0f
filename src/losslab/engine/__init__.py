"""The engine: train every (loss x seed) run of a study in vectorised, compiled programs.

``run_study(problem, specs, seeds, settings)`` returns the raw per-epoch values of every run
(:class:`Trained`); ``losslab.results.train`` turns them into tidy tables. Seeds are paired: seed
``s`` gives every loss the same initial hidden weights and the same batch order, so differences
between losses on the same seed are paired differences.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

from dataclasses import dataclass

import jax
import numpy as np

from losslab.engine._cache import enable_compilation_cache
from losslab.engine._program import Data, Targets, build_program, epoch_orders
from losslab.errors import SettingsError
from losslab.problems import Problem
from losslab.registry import LossSpec, check_compatible, encode_targets, get_loss
from losslab.settings import Settings

Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what is running)


def resolve_losses(problem: Problem, losses: Iterable[str | LossSpec]) -> list[LossSpec]:
    """The specs for ``losses``, each checked against the problem; duplicates refused."""
    specs = [get_loss(name, kind=problem.kind) for name in losses]
    if not specs:
        raise SettingsError("name at least one loss to train")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SettingsError(f"each loss may be named once; got {', '.join(names)}")
    for spec in specs:
        check_compatible(spec, problem.kind, problem.n_classes)
    return specs


def check_seeds(seeds: Iterable[int]) -> tuple[int, ...]:
    """Seeds as a tuple of distinct non-negative integers (a fractional seed is refused, not truncated)."""
    if isinstance(seeds, int | np.integer):
        raise SettingsError(f"seeds is a collection of seeds; for {seeds} repeats pass range({seeds})")
    seeds = tuple(seeds)
    if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in seeds):
        raise SettingsError(f"seeds must be whole numbers, got {', '.join(map(repr, seeds[:5]))}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise SettingsError("give at least one seed (repeats must be >= 1)")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0 or max(seeds) >= 2**32:
        raise SettingsError("seeds must be distinct integers from 0 to 2**32 - 1")
    return seeds


#: Runs per compiled chunk. Fixed, so that a run's result does not depend on how many other runs
#: share its study (XLA's arithmetic can vary with the batch shape), and one compiled program
#: per loss and problem serves any number of seeds. 16 runs keep a chunk's working set in the
#: core's cache; see benchmarks/RESULTS.md.
CHUNK = 16

#: Largest chunk of epoch orders (runs x epochs x training rows) held in memory: 400 MB of int32.
MAX_ORDER_ENTRIES = 100_000_000


@dataclass
class Trained:
    """What the engine returns: per loss, the values of every seed's run, and the timings.

    ``values[loss]`` has shape ``(seeds, epochs, 2 splits (train, test), 3)``: the loss (Keras's
    probability form), the metric and the tutorial's rounding accuracy (NaN where it does not
    apply), each on the whole split after the epoch.
    """

    values: dict[str, np.ndarray]
    seeds: tuple[int, ...]
    timings: dict[str, float]


def run_study(
    problem: Problem,
    specs: Sequence[LossSpec],
    seeds: tuple[int, ...],
    settings: Settings,
    progress: Progress | None = None,
) -> Trained:
    """Train one MLP per (loss, seed) on ``problem``; chunks of runs train in parallel on the
    machine's cores. ``specs`` and ``seeds`` come checked by :func:`resolve_losses` and
    :func:`check_seeds`."""
    enable_compilation_cache()
    _check_size(problem, settings)
    total = len(specs) * len(seeds)
    timings = {"programs": 0, "compile_s": 0.0, "train_s": 0.0}
    values: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for spec in specs:
            if progress:
                progress(len(values) * len(seeds), total, spec.name)
            values[spec.name] = _run_loss(problem, spec, seeds, settings, pool, timings)
    if progress:
        progress(total, total, "done")
    return Trained(values, seeds, timings)


def _check_size(problem: Problem, settings: Settings) -> None:
    """Refuse a study whose batch orders would not fit in memory, before any work is done."""
    entries = CHUNK * settings.epochs * problem.n_train
    if entries > MAX_ORDER_ENTRIES:
        raise SettingsError(
            f"{problem.n_train} training rows x {settings.epochs} epochs is more than this in-memory engine "
            f"handles ({MAX_ORDER_ENTRIES // CHUNK:,} row-epochs); subsample the rows or train fewer epochs"
        )


def _encode(spec: LossSpec, problem: Problem) -> Targets:
    """Encode train and test targets together, so that a problem with them is reported once."""
    y = np.concatenate([problem.y_train, problem.y_test])
    encoded = encode_targets(spec, y, problem.n_classes, policy=problem.target_policy)
    return Targets(encoded[: problem.n_train], encoded[problem.n_train:])


def _run_loss(problem, spec, seeds, settings, pool, timings) -> np.ndarray:
    """All seeds of one loss, in chunks of :data:`CHUNK` runs; returns (runs, epochs, 2, 3)."""
    units = spec.output_units(problem.n_classes)
    data = Data.of(problem.X_train, problem.X_test, _encode(spec, problem))
    program = build_program(spec, units, settings)
    start = time.perf_counter()
    compiled = program.lower(data, *_chunk_inputs(seeds[:1], problem, settings, shapes_only=True)).compile()
    timings["compile_s"] += time.perf_counter() - start
    timings["programs"] += 1
    start = time.perf_counter()
    chunks = [seeds[i:i + CHUNK] for i in range(0, len(seeds), CHUNK)]
    results = pool.map(lambda chunk: np.asarray(compiled(data, *_chunk_inputs(chunk, problem, settings))), chunks)
    values = np.concatenate([result[: len(chunk)] for result, chunk in zip(results, chunks)])
    timings["train_s"] += time.perf_counter() - start
    return values


def seed_keys(seeds: Sequence[int]) -> np.ndarray:
    """``jax.random.PRNGKey(seed)`` for many seeds at once: threefry's key for a seed is its high
    and low 32 bits, computed here in NumPy (a Python loop over JAX calls cost 0.4 ms per seed)."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    return np.stack([seeds >> np.uint64(32), seeds & np.uint64(0xFFFFFFFF)], axis=1).astype(np.uint32)


def _chunk_inputs(seeds: Sequence[int], problem: Problem, settings: Settings, shapes_only: bool = False):
    """Keys and epoch orders of one chunk, padded to :data:`CHUNK` runs by repeating its first seed."""
    padded = list(seeds) + [seeds[0]] * (CHUNK - len(seeds))
    if shapes_only:
        return (jax.ShapeDtypeStruct((CHUNK, 2), np.uint32),
                jax.ShapeDtypeStruct((CHUNK, settings.epochs, problem.n_train), np.int32))
    keys = seed_keys(padded)
    orders = np.stack([epoch_orders(s, settings.epochs, problem.n_train) for s in padded])
    return keys, orders


__all__ = ["CHUNK", "Progress", "Trained", "check_seeds", "resolve_losses", "run_study", "seed_keys"]
