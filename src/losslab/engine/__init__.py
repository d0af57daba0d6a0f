"""The engine: train every (loss x seed) run of a plan in vectorised, compiled programs.

``run_plan(plan)`` returns the raw per-epoch values of every run (:class:`Trained`);
``losslab.results`` turns them into tidy tables. The plan comes checked (losses, seeds,
settings, encoded targets, memory) and is trusted here. Seeds are paired: seed ``s`` gives every
loss the same initial hidden weights and the same batch order, so differences between losses on
the same seed are paired differences.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Protocol

import jax
import numpy as np

from losslab.engine._cache import discard_unreadable_entries, enable_compilation_cache, raising_cache_errors
from losslab._arrays import aligned
from losslab.engine._program import Data, Shape, batch_mask, batches, build_program, shuffled
from losslab.planning import StudyPlan, epoch_block
from losslab.settings import Backend
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
    ``timings``: ``train_s`` the seconds spent training (slowed a little where programs of later
    losses compile beside it), ``compile_s`` the seconds training waited for programs (they
    compile in the background, beside the training of losses whose programs are ready) and to put
    each loss's data on the device, ``programs`` how many were compiled or loaded from the
    persistent cache.
    """

    values: dict[str, np.ndarray]
    outputs: dict[str, np.ndarray]
    timings: dict[str, float]
    reused: int = field(default=0)  # runs taken from the chunk store instead of trained


def run_plan(plan: StudyPlan, progress: Progress | None = None, store: ChunkStore | None = None,
             backend: Backend = Backend()) -> Trained:
    """Train one model per (loss, seed) of ``plan``; chunks of runs train in parallel on the
    machine's cores, or as tasks on a Ray cluster (``backend``). With a ``store``, chunks it
    already holds are reused and each new chunk is handed to it as soon as it finishes. The
    results do not depend on the backend: every chunk runs the same compiled program.

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

    with _executor(plan, backend) as pool:
        kept = {spec.name: _kept(plan, spec, store) for spec in plan.specs}
        pool.prepare([spec for spec in plan.specs if any(chunk is None for chunk in kept[spec.name].values())])
        for spec in plan.specs:
            report(0, spec.name)
            chunks = _run_loss(plan, spec, pool, trained, kept[spec.name], store, report)
            trained.values[spec.name] = np.concatenate([chunk.values for chunk in chunks])
            trained.outputs[spec.name] = np.concatenate([chunk.outputs for chunk in chunks])
        timings["programs"] = pool.compiled()
    report(0, "done")
    return trained


def _kept(plan: StudyPlan, spec: LossSpec, store: ChunkStore | None) -> dict[tuple[int, ...], Chunk | None]:
    """Each chunk of one loss as the store holds it, or None where it must be trained."""
    return {chunk: store.get(spec.name, chunk) if store else None for chunk in plan.chunks()}


def _run_loss(plan: StudyPlan, spec: LossSpec, pool: Executor, trained: Trained,
              kept: dict[tuple[int, ...], Chunk | None], store: ChunkStore | None,
              report: Callable[[int, str], None]) -> list[Chunk]:
    """All seeds of one loss, in chunks of ``plan.chunk`` runs, in order."""
    chunks = list(kept)
    missing = [chunk for chunk in chunks if kept[chunk] is None]
    reused = len(plan.seeds) - sum(len(chunk) for chunk in missing)
    trained.reused += reused
    if reused:
        report(reused, spec.name)
    if missing:
        kept = kept | _train_chunks(spec, missing, pool, trained.timings, store, report)
    return [kept[chunk] for chunk in chunks]


def _train_chunks(spec: LossSpec, chunks: list[tuple[int, ...]], pool: Executor, timings: dict[str, float],
                  store: ChunkStore | None, report: Callable[[int, str], None]) -> dict[tuple[int, ...], Chunk]:
    """Train ``chunks`` of one loss on the pool, keeping each in the store as it ends."""
    start = time.perf_counter()
    pool.ready(spec)
    timings["compile_s"] += time.perf_counter() - start
    start = time.perf_counter()
    results = {}
    for seeds, (chunk, final) in pool.map(spec, chunks):
        if store:
            store.put(spec.name, seeds, chunk, final)
        report(len(seeds), spec.name)
        results[seeds] = chunk
    timings["train_s"] += time.perf_counter() - start
    return results


class Executor(Protocol):
    """Trains the chunks of a plan: ``prepare(specs)`` starts compiling the programs of these
    losses and ``ready(spec)`` waits for one of them; ``map(spec, chunks)`` yields
    ``(seeds, (chunk, final parameter leaves))`` of one loss as chunks finish; ``compiled()`` is
    the number of programs compiled or loaded (0 for those this process had already)."""

    def prepare(self, specs: Sequence[LossSpec]) -> None: ...

    def ready(self, spec: LossSpec) -> None: ...

    def compiled(self) -> int: ...

    def map(self, spec: LossSpec, chunks: list[tuple[int, ...]]) -> Iterator[tuple[tuple[int, ...], tuple[Chunk, list]]]: ...


class _Threads:
    """Chunks on this machine, one thread per core: XLA runs each chunk's program on one core.

    Programs compile on :data:`_BUILDER`'s threads while chunks train on this pool's: the first
    loss trains as soon as its program is ready, while the next ones compile.
    """

    def __init__(self, plan: StudyPlan) -> None:
        self.plan, self.pool = plan, ThreadPoolExecutor(max_workers=os.cpu_count() or 1)
        self.trainers: dict[str, Future[_Trainer]] = {}
        self.programs = 0

    def prepare(self, specs: Sequence[LossSpec]) -> None:
        self.trainers.update((spec.name, _trainer(self.plan, spec)) for spec in specs)

    def ready(self, spec: LossSpec) -> None:
        trainer = self.trainers[spec.name].result()
        self.programs += trainer.compiled_here
        # the table goes to the device here, from this thread: built in a worker thread each
        # loss's copy stayed in that thread's allocator arena (peak +430 MB for 3 losses, 1M rows)
        trainer.data.X.block_until_ready()

    def map(self, spec, chunks):
        trainer = self.trainers.pop(spec.name).result()  # let go of it (and its data) with the loss
        futures = {self.pool.submit(trainer.train, seeds): seeds for seeds in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()

    def compiled(self) -> int:
        return self.programs

    def close(self) -> None:
        for future in self.trainers.values():  # after an error or an interrupt: what has not started
            future.cancel()
        self.pool.shutdown(cancel_futures=True)


#: Where programs compile: XLA compiles outside Python's lock, so programs compile side by side, and
#: beside the training of chunks whose programs are ready.
_BUILDER = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="losslab-compile")

#: Programs being compiled ahead (:func:`compiling_ahead`), by plan and loss, until a run takes them.
_AHEAD: dict[tuple[int, str], tuple[StudyPlan, Future]] = {}


@contextlib.contextmanager
def compiling_ahead(plans: Sequence[StudyPlan]) -> Iterator[None]:
    """Compile the programs of ``plans`` in the background while the block runs, so that each
    :func:`run_plan` of one of these plan objects finds its programs ready or under way: a caller
    with several plans to train (the replication's four problems) compiles the next plans'
    programs while the first trains. On leaving, programs not yet started are cancelled (an error
    or an interrupt waits only for those compiling, a second or two) and the block lets go of
    the plans."""
    enable_compilation_cache()  # before the first compilation, which would otherwise miss it
    try:
        with _GUARD:
            for plan in plans:
                for spec in plan.specs:
                    _AHEAD.setdefault((id(plan), spec.name), (plan, _BUILDER.submit(_Trainer, plan, spec)))
        yield
    finally:
        with _GUARD:
            left = [_AHEAD.pop((id(plan), spec.name), None) for plan in plans for spec in plan.specs]
        for entry in filter(None, left):
            entry[1].cancel()


def _trainer(plan: StudyPlan, spec: LossSpec) -> Future[_Trainer]:
    """The (future) trainer of one loss of ``plan``: the one compiling ahead, else a new one."""
    with _GUARD:  # the entry holds its plan, so no other plan can have this id meanwhile
        ahead = _AHEAD.pop((id(plan), spec.name), None)
    return ahead[1] if ahead else _BUILDER.submit(_Trainer, plan, spec)


class _Ray:
    """Chunks as Ray tasks: the plan goes to the object store once, each task trains one chunk
    with the same compiled program a local run uses (compiled once per worker process, or read
    from JAX's persistent cache)."""

    def __init__(self, plan: StudyPlan, address: str | None) -> None:
        import ray

        if not ray.is_initialized():
            with warnings.catch_warnings():  # Ray forks then execs its processes; JAX's threads are never copied
                warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self.ray, self.plan = ray, ray.put(plan)
        self.task = ray.remote(_train_chunk_task)

    def prepare(self, specs: Sequence[LossSpec]) -> None:
        pass  # each worker compiles, or loads from the persistent cache, within its first task

    def ready(self, spec: LossSpec) -> None:
        pass

    def compiled(self) -> int:
        return 0  # in the workers

    def map(self, spec, chunks):
        pending = {self.task.remote(self.plan, spec.name, seeds): seeds for seeds in chunks}
        while pending:
            done, _ = self.ray.wait(list(pending), num_returns=1)
            seeds = pending.pop(done[0])
            yield seeds, self.ray.get(done[0])

    def close(self) -> None:
        pass  # a cluster the user started stays up; a local one ends with the process


@contextlib.contextmanager
def _executor(plan: StudyPlan, backend: Backend) -> Iterator[Executor]:
    pool = _Ray(plan, backend.address) if backend.name == "ray" else _Threads(plan)
    try:
        yield pool
    finally:
        pool.close()


def _train_chunk_task(plan: StudyPlan, loss: str, seeds: tuple[int, ...]) -> tuple[Chunk, list]:
    """One chunk, in a Ray worker. The worker's compiled programs are kept between its tasks
    (by loss, model and shapes), so only its first task of a loss compiles or reads the cache."""
    enable_compilation_cache()
    return _Trainer(plan, plan.spec(loss)).train(seeds)


class _Trainer:
    """One loss's compiled program and data, training a chunk of seeds at a time. The programs
    compile from the data's shapes; the data go to the device when first needed (a local run puts
    them there as the loss starts), so trainers compiled ahead hold no copy of the table."""

    def __init__(self, plan: StudyPlan, spec: LossSpec) -> None:
        enable_compilation_cache()
        problem = plan.problem
        self.plan, self.spec = plan, spec
        program = build_program(spec, plan.output_units(spec), Shape.of(plan.settings), plan.model, problem.n_features)
        self.block = epoch_block(plan.settings.epochs, plan.sizes.train, plan.chunk)
        shapes = _ChunkInputs.shapes(plan, self.block)
        data = Data.shapes(problem.n_train + problem.n_test, problem.n_features, plan.targets[spec.name])
        carry = jax.eval_shape(program.start, shapes["keys"], shapes["hypers"])
        start, _ = _compile(program.start, (shapes["keys"], shapes["hypers"]), START_OPTIONS)
        train, self.compiled_here = _compile(program.train, (data, carry, shapes["rows"], shapes["mask"], shapes["splits"],
                                                             shapes["hypers"]))
        outputs, _ = _compile(program.outputs, (data, carry[0], shapes["evaluated"]))
        self.compiled = _Compiled(start, train, outputs)

    @functools.cached_property
    def data(self) -> Data:
        return Data.of(self.plan.problem.pool(), self.plan.targets[self.spec.name])

    def train(self, seeds: tuple[int, ...]) -> tuple[Chunk, list]:
        """The chunk's values and outputs, and its final parameters' leaves (one row per seed)."""
        inputs, compiled = _ChunkInputs(self.plan, seeds), self.compiled
        carry = compiled.start(inputs.keys, inputs.hypers)
        history = []
        for rows in inputs.batches(self.block):  # a block of epochs at a time: memory does not grow with epochs
            carry, values = compiled.train(self.data, carry, rows, inputs.mask, inputs.splits, inputs.hypers)
            history.append(np.asarray(values))
            del rows  # before the next block is cut, not after
        final = carry[0]
        outputs = np.asarray(compiled.outputs(self.data, final, inputs.evaluated))
        chunk = Chunk(np.concatenate(history, axis=1)[: len(seeds)], outputs[: len(seeds)])
        return chunk, [np.asarray(leaf)[: len(seeds)] for leaf in jax.tree_util.tree_leaves(final)]


@dataclass
class _ChunkInputs:
    """A chunk's inputs, padded to ``plan.chunk`` runs by repeating its first seed: keys, the
    learning rate and momentum, each split's rows and, block by block, the epochs' row orders."""

    plan: StudyPlan
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        plan = self.plan
        self.padded = list(self.seeds) + [self.seeds[0]] * (plan.chunk - len(self.seeds))
        rows = {seed: plan.rows(seed) for seed in set(self.padded)}
        self.train_rows = [rows[s].train for s in self.padded]
        splits = [[getattr(rows[s], split) for s in self.padded] for split in plan.splits]
        self.splits = tuple(_stacked(parts) for parts in splits)
        self.evaluated = _stacked([np.concatenate(parts) for parts in zip(*splits[1:])])
        self.mask = batch_mask(len(self.train_rows[0]), plan.settings.batch_size)
        self.keys = seed_keys(self.padded)
        settings = plan.settings
        self.hypers = (np.float32(settings.learning_rate), np.float32(settings.momentum or 0.0))

    def batches(self, block: int) -> Iterator[jax.Array]:
        """Each block's training rows of the pool in batch order, cut into batches
        (:func:`losslab.engine._program.batches`): the positions
        :func:`losslab.engine._program.epoch_orders` draws, mapped to the seed's rows. A generator
        per run keeps drawing where the last block stopped, so the orders equal those drawn all
        at once."""
        generators = [np.random.default_rng(seed) for seed in self.padded]
        n_train, settings = len(self.train_rows[0]), self.plan.settings
        orders = np.empty((len(self.padded), block, n_train), np.int32)  # refilled: one block's orders at a time
        for _ in range(settings.epochs // block):
            for run, (generator, train) in enumerate(zip(generators, self.train_rows)):
                orders[run] = train[shuffled(generator, block, n_train, settings.shuffle)]
            yield jax.device_put(batches(orders, settings.batch_size), may_alias=True)

    @staticmethod
    def shapes(plan: StudyPlan, block: int) -> dict[str, object]:
        """The shapes of a chunk's inputs, to compile for."""
        sizes, runs, batch_size = plan.sizes, plan.chunk, plan.settings.batch_size
        counts = [getattr(sizes, split) for split in plan.splits]
        n_batches = math.ceil(sizes.train / batch_size)
        rows = lambda n: jax.ShapeDtypeStruct((runs, n), np.int32)  # noqa: E731
        return {"keys": jax.ShapeDtypeStruct((runs, 2), np.uint32),
                "hypers": (jax.ShapeDtypeStruct((), np.float32),) * 2,
                "rows": jax.ShapeDtypeStruct((block, n_batches, runs, batch_size), np.int32),
                "mask": jax.ShapeDtypeStruct((n_batches, batch_size), np.float32),
                "splits": tuple(rows(n) for n in counts), "evaluated": rows(sum(counts[1:]))}


def _stacked(rows: list[np.ndarray]) -> jax.Array:
    """Each run's rows (as many for every run) as one ``(runs, n)`` device array, written into an
    aligned buffer that a CPU device uses in place: one copy of a chunk's split rows."""
    out = aligned((len(rows), len(rows[0])), np.int32)
    for run, part in enumerate(rows):
        out[run] = part
    return jax.device_put(out, may_alias=True)


@dataclass(frozen=True)
class _Compiled:
    start: Callable
    train: Callable
    outputs: Callable


#: XLA's options for the start program, which runs once per chunk: at the default optimisation
#: level (3) LLVM spent 0.7-1.1 s on its unrolled random-number rounds, the most expensive compilation
#: of a loss; level 2 takes 0.25-0.36 s and gives the same bits (a test checks; level 0 does not).
START_OPTIONS = {"xla_backend_optimization_level": 2}

#: Functions compiled in this process, by function and input shapes: the settings of a sweep that
#: share their shapes (every learning rate and momentum) reuse one compiled program, and the losses
#: of a study that share their output units one start program.
_COMPILED: dict[tuple, Callable] = {}
_COMPILING: dict[tuple, threading.Lock] = {}  # one lock per key: a second thread waits for the first
_GUARD = threading.Lock()


def _compile(fn: Callable, inputs: tuple, options: dict | None = None) -> tuple[Callable, bool]:
    """``fn`` compiled for ``inputs``' shapes, once per process (threads compiling the same key
    wait for the first), and whether this call compiled it (or loaded it from the persistent
    cache) rather than finding it compiled."""
    key = (fn, *((leaf.shape, leaf.dtype) for leaf in jax.tree_util.tree_leaves(inputs)))
    with _GUARD:
        lock = _COMPILING.setdefault(key, threading.Lock())
    with lock:
        fresh = key not in _COMPILED
        if fresh:
            _COMPILED[key] = _compile_now(fn.lower(*inputs), options)
    return _COMPILED[key], fresh


def _compile_now(lowered: jax.stages.Lowered, options: dict | None) -> Callable:
    """Compile, replacing an unreadable persistent-cache entry instead of re-reading it on every
    later run (JAX never rewrites a key it finds). JAX's switch that turns a cache error into an
    exception is thread-local, so this works in whichever thread compiles."""
    try:
        with raising_cache_errors():
            return lowered.compile(options)
    except Exception:  # a broken entry, or a cache that cannot be written, or a real error
        discard_unreadable_entries()
        return lowered.compile(options)  # with JAX's usual warnings; a real error raises again here


def seed_keys(seeds: Sequence[int]) -> np.ndarray:
    """``jax.random.PRNGKey(seed)`` for many seeds at once: threefry's key for a seed is its high
    and low 32 bits, computed here in NumPy (a Python loop over JAX calls cost 0.4 ms per seed)."""
    seeds = np.asarray(seeds, dtype=np.uint64)
    return np.stack([seeds >> np.uint64(32), seeds & np.uint64(0xFFFFFFFF)], axis=1).astype(np.uint32)


__all__ = ["Backend", "Chunk", "ChunkStore", "Progress", "Trained", "compiling_ahead", "run_plan", "seed_keys"]
