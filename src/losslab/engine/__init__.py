"""The engine: train every (loss x seed) run of a study in vectorised, compiled programs.

``train(problem, losses, seeds)`` returns a :class:`losslab.results.Study`. Seeds are paired: seed
``s`` gives every loss the same initial hidden weights and the same batch order, so differences
between losses on the same seed are paired differences.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from itertools import groupby

import jax
import numpy as np
import pandas as pd

from losslab.engine._cache import enable_compilation_cache
from losslab.engine._program import Data, Targets, build_program, epoch_orders
from losslab.errors import SettingsError
from losslab.problems import Problem
from losslab.registry import LossSpec, check_compatible, encode_targets, get_loss
from losslab.results import HISTORY_COLUMNS, RUN_COLUMNS, Study
from losslab.settings import Settings

Progress = Callable[[int, int, str], None]  # (runs done, runs in all, what is running)

SPLITS = ("train", "test")


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
    """Seeds as a tuple of distinct non-negative integers."""
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise SettingsError("give at least one seed (repeats must be >= 1)")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise SettingsError("seeds must be distinct non-negative integers")
    return seeds


def train(
    problem: Problem,
    losses: Sequence[str | LossSpec],
    seeds: Iterable[int] = (0,),
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Study:
    """Train one MLP per (loss, seed) on ``problem`` and record every epoch.

    ``settings`` default to the problem's tutorial settings (``problem.defaults``). Runs whose
    loss turns NaN or infinite are marked diverged; the others complete normally.

    >>> from losslab.problems import get_problem
    >>> study = train(get_problem("blobs"), ["categorical_crossentropy"], seeds=[0, 1], settings=Settings(epochs=2))
    >>> study.runs[["loss", "seed"]].values.tolist()
    [['categorical_crossentropy', 0], ['categorical_crossentropy', 1]]
    """
    enable_compilation_cache()
    specs = resolve_losses(problem, losses)
    seeds = check_seeds(seeds)
    settings = settings or problem.defaults
    targets = {spec.name: _encode(spec, problem) for spec in specs}
    total = len(specs) * len(seeds)
    done, timings, blocks = 0, {"compile_s": 0.0, "train_s": 0.0}, []
    for units, group in groupby(sorted(specs, key=lambda s: s.output_units(problem.n_classes)),
                                key=lambda s: s.output_units(problem.n_classes)):
        group = list(group)
        if progress:
            progress(done, total, ", ".join(s.name for s in group))
        values, compile_s, train_s = _run_group(problem, group, [targets[s.name] for s in group], units, seeds, settings)
        timings["compile_s"] += compile_s
        timings["train_s"] += train_s
        blocks.append(([s.name for s in group], values))
        done += len(group) * len(seeds)
    if progress:
        progress(done, total, "done")
    order = {spec.name: i for i, spec in enumerate(specs)}
    history, runs = _tables(problem, blocks, seeds, order)
    return Study(problem, settings, tuple(s.name for s in specs), seeds, history, runs, timings)


def _encode(spec: LossSpec, problem: Problem) -> Targets:
    """Encode train and test targets together, so that a problem with them is reported once."""
    y = np.concatenate([problem.y_train, problem.y_test])
    encoded = encode_targets(spec, y, problem.n_classes, policy=problem.target_policy)
    return Targets(encoded[: problem.n_train], encoded[problem.n_train:])


def _run_group(problem, group, targets, units, seeds, settings):
    """Compile and run one program for ``group`` x ``seeds``; returns (runs, epochs, 2, 3) values."""
    program = build_program(tuple(group), units, settings)
    data = Data.of(problem.X_train, problem.X_test, targets)
    keys = np.stack([np.asarray(jax.random.key_data(jax.random.PRNGKey(s))) for s in seeds] * len(group))
    loss_index = np.repeat(np.arange(len(group), dtype=np.int32), len(seeds))
    start = time.perf_counter()
    compiled = program.lower(data, keys, _orders_shape(problem, seeds, settings, len(group)), loss_index).compile()
    compile_s = time.perf_counter() - start
    start = time.perf_counter()
    orders = np.concatenate([np.stack([epoch_orders(s, settings.epochs, problem.n_train) for s in seeds])] * len(group))
    values = np.asarray(jax.block_until_ready(compiled(data, keys, orders, loss_index)))
    return values, compile_s, time.perf_counter() - start


def _orders_shape(problem, seeds, settings, n_losses) -> jax.ShapeDtypeStruct:
    return jax.ShapeDtypeStruct((n_losses * len(seeds), settings.epochs, problem.n_train), np.int32)


def _tables(problem, blocks, seeds, order) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy history and the per-run table from the programs' value arrays."""
    names = [name for block_names, _ in blocks for name in block_names for _ in seeds]
    run_seeds = [seed for block_names, _ in blocks for _ in block_names for seed in seeds]
    values = np.concatenate([v for _, v in blocks]).astype(np.float64)  # (runs, epochs, splits, values)
    diverged_at = _divergence_epochs(values)
    epochs = np.arange(1, values.shape[1] + 1)
    values[epochs[None, :] >= diverged_at[:, None]] = np.nan
    runs = pd.DataFrame({"problem": problem.name, "loss": names, "seed": run_seeds})
    runs["diverged"] = diverged_at <= values.shape[1]
    runs["diverged_epoch"] = pd.array(np.where(runs["diverged"], diverged_at, 0), dtype="Int64")
    runs.loc[~runs["diverged"], "diverged_epoch"] = pd.NA
    runs["metric"] = _metric_name(problem)
    for s, split in enumerate(SPLITS):
        runs[f"{split}_loss"] = values[:, -1, s, 0]
        runs[f"{split}_metric"] = values[:, -1, s, 1]
    for s, split in enumerate(SPLITS):
        runs[f"{split}_rounding_accuracy"] = values[:, -1, s, 2]
    n_runs, n_epochs, n_splits, _ = values.shape
    flat = values.reshape(-1, 3)  # rows in (run, epoch, split) order
    history = pd.DataFrame({
        "problem": problem.name,
        "loss": np.repeat(names, n_epochs * n_splits),
        "seed": np.repeat(run_seeds, n_epochs * n_splits),
        "epoch": np.tile(np.repeat(epochs, n_splits), n_runs),
        "split": np.tile(SPLITS, n_runs * n_epochs),
        "loss_value": flat[:, 0], "metric": _metric_name(problem),
        "metric_value": flat[:, 1], "rounding_accuracy": flat[:, 2],
    })
    history = _in_order(history, order)
    runs = _in_order(runs, order)
    return history[list(HISTORY_COLUMNS)], runs[list(RUN_COLUMNS)]


def _in_order(frame: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    """Rows sorted by the losses' order as the user gave them, then seed (stable otherwise)."""
    frame = frame.assign(_order=frame["loss"].map(order)).sort_values(["_order", "seed"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _divergence_epochs(values: np.ndarray) -> np.ndarray:
    """Per run, the first epoch (1-based) whose loss or metric on either split is NaN or
    infinite; ``epochs + 1`` for a run that never diverged."""
    bad = ~np.isfinite(values[:, :, :, :2]).all(axis=(2, 3))
    return np.where(bad.any(axis=1), np.argmax(bad, axis=1) + 1, values.shape[1] + 1)


def _metric_name(problem: Problem) -> str:
    return "mse" if problem.kind == "regression" else "accuracy"


__all__ = ["train", "resolve_losses", "check_seeds", "Progress"]
