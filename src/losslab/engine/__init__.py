"""The engine: train every (loss x seed) run of a plan in vectorised, compiled programs.

``run_plan(plan)`` returns the raw per-epoch values of every run (:class:`Trained`);
``losslab.results`` turns them into tidy tables. The plan comes checked (losses, seeds,
settings, encoded targets, memory) and is trusted here. Seeds are paired: seed ``s`` gives every
loss the same initial hidden weights and the same batch order, so differences between losses on
the same seed are paired differences.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jax
import numpy as np

from losslab.engine._cache import enable_compilation_cache
from losslab.engine._program import Data, build_program, epoch_orders
from losslab.planning import StudyPlan
from losslab.registry import LossSpec

Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what is running)


@dataclass
class Trained:
    """What the engine returns: per loss, the values of every seed's run, and the timings.

    ``values[loss]`` has shape ``(seeds, epochs, 2 splits (train, test), 3)``: the loss (Keras's
    probability form), the metric and the tutorial's rounding accuracy (NaN where it does not
    apply), each on the whole split after the epoch.
    """

    values: dict[str, np.ndarray]
    timings: dict[str, float]


def run_plan(plan: StudyPlan, progress: Progress | None = None) -> Trained:
    """Train one model per (loss, seed) of ``plan``; chunks of runs train in parallel on the
    machine's cores."""
    enable_compilation_cache()
    total = plan.n_runs
    timings = {"programs": 0, "compile_s": 0.0, "train_s": 0.0}
    values: dict[str, np.ndarray] = {}
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for spec in plan.specs:
            if progress:
                progress(len(values) * len(plan.seeds), total, spec.name)
            values[spec.name] = _run_loss(plan, spec, pool, timings)
    if progress:
        progress(total, total, "done")
    return Trained(values, timings)


def _run_loss(plan: StudyPlan, spec: LossSpec, pool: ThreadPoolExecutor, timings: dict[str, float]) -> np.ndarray:
    """All seeds of one loss, in chunks of ``plan.chunk`` runs; returns (runs, epochs, 2, 3)."""
    problem, seeds = plan.problem, plan.seeds
    data = Data.of(problem.X_train, problem.X_test, plan.targets[spec.name])
    program = build_program(spec, plan.output_units(spec), plan.settings, plan.model)
    start = time.perf_counter()
    compiled = program.lower(data, *_chunk_inputs(plan, seeds[:1], shapes_only=True)).compile()
    timings["compile_s"] += time.perf_counter() - start
    timings["programs"] += 1
    start = time.perf_counter()
    chunks = [seeds[i:i + plan.chunk] for i in range(0, len(seeds), plan.chunk)]
    results = pool.map(lambda chunk: np.asarray(compiled(data, *_chunk_inputs(plan, chunk))), chunks)
    values = np.concatenate([result[: len(chunk)] for result, chunk in zip(results, chunks)])
    timings["train_s"] += time.perf_counter() - start
    return values


def seed_keys(seeds: Sequence[int]) -> np.ndarray:
    """``jax.random.PRNGKey(seed)`` for many seeds at once: threefry's key for a seed is its high
    and low 32 bits, computed here in NumPy (a Python loop over JAX calls cost 0.4 ms per seed)."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    return np.stack([seeds >> np.uint64(32), seeds & np.uint64(0xFFFFFFFF)], axis=1).astype(np.uint32)


def _chunk_inputs(plan: StudyPlan, seeds: Sequence[int], shapes_only: bool = False):
    """Keys and epoch orders of one chunk, padded to ``plan.chunk`` runs by repeating its first seed."""
    epochs, n_train = plan.settings.epochs, plan.problem.n_train
    if shapes_only:
        return (jax.ShapeDtypeStruct((plan.chunk, 2), np.uint32),
                jax.ShapeDtypeStruct((plan.chunk, epochs, n_train), np.int32))
    padded = list(seeds) + [seeds[0]] * (plan.chunk - len(seeds))
    orders = np.stack([epoch_orders(s, epochs, n_train) for s in padded])
    return seed_keys(padded), orders


__all__ = ["Progress", "Trained", "run_plan", "seed_keys"]
