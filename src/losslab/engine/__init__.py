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
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

import jax
import numpy as np

from losslab.engine._cache import READ_ERROR, discard_unreadable_entries, enable_compilation_cache
from losslab.engine._program import Data, build_program, epoch_orders
from losslab.planning import StudyPlan
from losslab.registry import LossSpec

Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what is running)


@dataclass(frozen=True)
class Chunk:
    """What one chunk of runs of one loss produced: ``values`` ``(seeds, epochs, splits, 3)`` (see
    :class:`Trained`) and ``outputs``, the final activated outputs on each seed's evaluated rows
    (validation then test), ``(seeds, rows, units)``."""

    values: np.ndarray
    outputs: np.ndarray


class ChunkStore(Protocol):
    """Where finished chunks are kept, so that an interrupted study resumes where it stopped.

    ``get`` returns a :class:`Chunk` if it was kept, else None; ``put`` keeps it as soon as the
    chunk finishes. A chunk is identified by its loss and its seeds: the same seeds always train
    the same way (``plan.chunk`` runs per program). ``params`` are the trained parameters'
    leaves (``jax.tree_util`` order), one row per seed.
    """

    def get(self, loss: str, seeds: tuple[int, ...]) -> Chunk | None: ...

    def put(self, loss: str, seeds: tuple[int, ...], chunk: Chunk, params: list[np.ndarray]) -> None: ...


@dataclass
class Trained:
    """What the engine returns: per loss, the values of every seed's run, and the timings.

    ``values[loss]`` has shape ``(seeds, epochs, splits, 3)``, the splits in ``plan.splits``
    order: the loss (Keras's probability form), the metric and the tutorial's rounding accuracy
    (NaN where it does not apply), each on the whole split after the epoch. ``outputs[loss]`` are
    the final activated outputs on each seed's validation and test rows ``(seeds, rows, units)``.
    """

    values: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    timings: dict[str, float]
    reused: int = field(default=0)  # runs taken from the chunk store instead of trained


def run_plan(plan: StudyPlan, progress: Progress | None = None, store: ChunkStore | None = None) -> Trained:
    """Train one model per (loss, seed) of ``plan``; chunks of runs train in parallel on the
    machine's cores. With a ``store``, chunks it already holds are reused and each new chunk is
    handed to it as soon as it finishes.

    ``progress(done, total, what)`` is called as each loss starts (``what`` its name), as each
    chunk finishes, and once at the end (``what`` is ``"done"``).
    """
    cache = enable_compilation_cache()
    timings = {"programs": 0, "compile_s": 0.0, "train_s": 0.0, "compile_cache": "on" if cache else ""}
    trained = Trained({}, {}, timings)
    done = 0

    def report(runs: int, what: str) -> None:
        nonlocal done
        done += runs
        if progress:
            progress(done, plan.n_runs, what)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for spec in plan.specs:
            report(0, spec.name)
            chunks = _run_loss(plan, spec, pool, trained, store, report)
            trained.values[spec.name] = np.concatenate([chunk.values for chunk in chunks])
            trained.outputs[spec.name] = np.concatenate([chunk.outputs for chunk in chunks])
    report(0, "done")
    return trained


def _run_loss(plan: StudyPlan, spec: LossSpec, pool: ThreadPoolExecutor, trained: Trained,
              store: ChunkStore | None, report: Callable[[int, str], None]) -> list[Chunk]:
    """All seeds of one loss, in chunks of ``plan.chunk`` runs, in order."""
    chunks = plan.chunks()
    kept = {chunk: store.get(spec.name, chunk) if store else None for chunk in chunks}
    missing = [chunk for chunk in chunks if kept[chunk] is None]
    reused = sum(len(chunk) for chunk in chunks if kept[chunk] is not None)
    trained.reused += reused
    if reused:
        report(reused, spec.name)
    if missing:
        kept.update(_train_chunks(plan, spec, missing, pool, trained.timings, store, report))
    return [kept[chunk] for chunk in chunks]


def _train_chunks(plan: StudyPlan, spec: LossSpec, chunks: list[tuple[int, ...]], pool: ThreadPoolExecutor,
                  timings: dict[str, float], store: ChunkStore | None,
                  report: Callable[[int, str], None]) -> dict[tuple[int, ...], Chunk]:
    """Compile the loss's program once and train ``chunks`` on the pool, keeping each as it ends."""
    problem = plan.problem
    data = Data.of(problem.X_train, problem.X_test, plan.targets[spec.name])
    program = build_program(spec, plan.output_units(spec), plan.settings, plan.model)
    start = time.perf_counter()
    compiled = _compile(program, data, plan, chunks[0][:1])
    timings["compile_s"] += time.perf_counter() - start
    timings["programs"] += 1
    start = time.perf_counter()

    def train(seeds: tuple[int, ...]) -> Chunk:
        history, final, outputs = compiled(data, *_chunk_inputs(plan, seeds))
        chunk = Chunk(np.asarray(history)[: len(seeds)], np.asarray(outputs)[: len(seeds)])
        if store:
            store.put(spec.name, seeds, chunk, [np.asarray(leaf)[: len(seeds)] for leaf in jax.tree_util.tree_leaves(final)])
        report(len(seeds), spec.name)
        return chunk

    results = dict(zip(chunks, pool.map(train, chunks)))
    timings["train_s"] += time.perf_counter() - start
    return results


def _compile(program, data: Data, plan: StudyPlan, seeds: tuple[int, ...]):
    """Compile ``program`` for a chunk's shapes; an unreadable cache entry met on the way is
    removed (so the next run writes it again) instead of being re-read on every later run."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = program.lower(data, *_chunk_inputs(plan, seeds, shapes_only=True)).compile()
    for warning in caught:
        if READ_ERROR in str(warning.message):
            discard_unreadable_entries()
        else:  # not ours to swallow
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return compiled


def seed_keys(seeds: Sequence[int]) -> np.ndarray:
    """``jax.random.PRNGKey(seed)`` for many seeds at once: threefry's key for a seed is its high
    and low 32 bits, computed here in NumPy (a Python loop over JAX calls cost 0.4 ms per seed)."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    return np.stack([seeds >> np.uint64(32), seeds & np.uint64(0xFFFFFFFF)], axis=1).astype(np.uint32)


def _chunk_inputs(plan: StudyPlan, seeds: Sequence[int], shapes_only: bool = False):
    """Keys, epoch orders (pool rows) and split rows of one chunk, padded to ``plan.chunk`` runs
    by repeating its first seed."""
    epochs, sizes = plan.settings.epochs, plan.split.sizes(plan.problem)
    counts = [getattr(sizes, split) for split in plan.splits]
    if shapes_only:
        return (jax.ShapeDtypeStruct((plan.chunk, 2), np.uint32),
                jax.ShapeDtypeStruct((plan.chunk, epochs, sizes.train), np.int32),
                tuple(jax.ShapeDtypeStruct((plan.chunk, n), np.int32) for n in counts))
    padded = list(seeds) + [seeds[0]] * (plan.chunk - len(seeds))
    rows = {seed: plan.rows(seed) for seed in set(padded)}
    orders = np.stack([rows[s].train[epoch_orders(s, epochs, sizes.train)] for s in padded])
    splits = tuple(np.stack([getattr(rows[s], split) for s in padded]) for split in plan.splits)
    return seed_keys(padded), orders, splits


__all__ = ["Chunk", "ChunkStore", "Progress", "Trained", "run_plan", "seed_keys"]
