"""Results: a plan and what the engine returned for it, as tidy tables; written to files.

``run(plan)`` trains a :class:`~losslab.planning.StudyPlan` and returns a :class:`Study`;
``train(problem, losses, seeds, settings)`` plans and runs in one call.

``history`` has one row per run, epoch and split (long format, easy to group and plot):

=================  ======================================================================
column             meaning
=================  ======================================================================
problem            problem name
loss               canonical loss name
seed               the run's seed (paired across losses)
epoch              1..epochs, evaluated after the epoch's updates
split              ``"train"`` or ``"test"``
loss_value         the loss on the whole split (mean of per-sample losses, Keras form)
metric             ``"accuracy"`` or ``"mse"``
metric_value       the metric on the whole split
rounding_accuracy  one-unit classifiers only: the tutorial's Keras ``round(output) == label``
=================  ======================================================================

``runs`` has one row per run: ``problem, loss, seed, diverged, diverged_epoch`` and the final
``train_loss, test_loss, train_metric, test_metric, metric`` (plus ``train_rounding_accuracy``
and ``test_rounding_accuracy``, and for a regression target that was scaled,
``train_metric_target_units`` and ``test_metric_target_units``: the MSE times
``problem.target_scale**2``). A diverged run has NaN from its ``diverged_epoch`` on.

"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from losslab.engine import Progress, Trained, run_plan
from losslab._plain import plain
from losslab.errors import LosslabError
from losslab.models import Model
from losslab.planning import StudyPlan, plan
from losslab.problems import Problem
from losslab.registry import LossSpec
from losslab.settings import Settings

SPLITS = ("train", "test")

HISTORY_COLUMNS = (
    "problem", "loss", "seed", "epoch", "split", "loss_value", "metric", "metric_value", "rounding_accuracy",
)
RUN_COLUMNS = (
    "problem", "loss", "seed", "diverged", "diverged_epoch", "metric",
    "train_loss", "test_loss", "train_metric", "test_metric", "train_rounding_accuracy", "test_rounding_accuracy",
    "train_metric_target_units", "test_metric_target_units",
)


@dataclass
class Study:
    """Every run of one plan: its losses x seeds on one problem under one set of settings."""

    plan: StudyPlan
    history: pd.DataFrame
    runs: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def problem(self) -> Problem:
        return self.plan.problem

    @property
    def settings(self) -> Settings:
        return self.plan.settings

    @property
    def model(self) -> Model:
        return self.plan.model

    @property
    def losses(self) -> tuple[str, ...]:
        return self.plan.losses

    @property
    def seeds(self) -> tuple[int, ...]:
        return self.plan.seeds

    @property
    def metric(self) -> str:
        """``"accuracy"`` or ``"mse"``."""
        return self.plan.metric

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    def final(self, loss: str, column: str = "test_metric") -> pd.Series:
        """``column`` of every run of ``loss``, indexed by seed (for paired comparisons)."""
        rows = self.runs[self.runs["loss"] == loss]
        return rows.set_index("seed")[column].sort_index()

    def metadata(self) -> dict[str, object]:
        """What produced these results: the plan (problem, preparation, settings, model, losses,
        seeds, versions) and the timings."""
        return {**self.plan.describe(), "timings": self.timings}

    def save(self, out_dir: str | Path, stem: str = "study") -> list[Path]:
        """Write history (Parquet and CSV), runs (CSV) and metadata (JSON) under ``out_dir``.

        Each file is written to a temporary name and renamed when complete, so an interrupted
        write never leaves a partial file under the final name.
        """
        out = ensure_out_dir(out_dir)
        return [
            atomic_write(out / f"{stem}_history.parquet", lambda p: self.history.to_parquet(p, index=False)),
            atomic_write(out / f"{stem}_history.csv", lambda p: self.history.to_csv(p, index=False)),
            atomic_write(out / f"{stem}_runs.csv", lambda p: self.runs.to_csv(p, index=False)),
            atomic_write(out / f"{stem}.json", lambda p: p.write_text(json.dumps(plain(self.metadata()), indent=2))),
        ]


def run(study_plan: StudyPlan, progress: Progress | None = None) -> Study:
    """Train every run of ``study_plan`` and record every epoch.

    Runs whose loss turns NaN or infinite are marked diverged; the others complete normally.
    """
    trained = run_plan(study_plan, progress)
    history, runs = tables(study_plan, trained)
    return Study(study_plan, history, runs, trained.timings)


def train(
    problem: Problem,
    losses: str | LossSpec | Sequence[str | LossSpec],
    seeds: Iterable[int] = (0,),
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> Study:
    """Plan and train one model per (loss, seed) on ``problem``: ``run(plan(...))`` in one call.

    ``settings`` default to :func:`~losslab.planning.default_settings` (the tutorial's set-up
    for the tutorial's problems).

    >>> from losslab.problems import get_problem
    >>> study = train(get_problem("blobs"), ["categorical_crossentropy"], seeds=[0, 1], settings=Settings(epochs=2))
    >>> study.runs[["loss", "seed"]].values.tolist()
    [['categorical_crossentropy', 0], ['categorical_crossentropy', 1]]
    """
    return run(plan(problem, losses, seeds, settings), progress)


def tables(study_plan: StudyPlan, trained: Trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy ``history`` and the per-run ``runs`` table (columns in the module docstring).

    Values from a run's divergence epoch on are set to NaN, so no half-diverged number is
    reported as a score.
    """
    problem, seeds = study_plan.problem, study_plan.seeds
    names = [name for name in study_plan.losses for _ in seeds]
    run_seeds = [seed for _ in study_plan.losses for seed in seeds]
    values = np.concatenate([trained.values[name] for name in study_plan.losses]).astype(np.float64)  # (runs, epochs, splits, 3)
    n_runs, n_epochs, n_splits, _ = values.shape
    diverged_at = _divergence_epochs(values)
    epochs = np.arange(1, n_epochs + 1)
    values[epochs[None, :] >= diverged_at[:, None]] = np.nan
    metric = study_plan.metric
    runs = pd.DataFrame({"problem": problem.name, "loss": names, "seed": run_seeds})
    runs["diverged"] = diverged_at <= n_epochs
    runs["diverged_epoch"] = pd.array(np.where(runs["diverged"], diverged_at, 0), dtype="Int64")
    runs.loc[~runs["diverged"], "diverged_epoch"] = pd.NA
    runs["metric"] = metric
    for s, split in enumerate(SPLITS):
        runs[f"{split}_loss"] = values[:, -1, s, 0]
        runs[f"{split}_metric"] = values[:, -1, s, 1]
    for s, split in enumerate(SPLITS):
        runs[f"{split}_rounding_accuracy"] = values[:, -1, s, 2]
    units_factor = problem.target_scale**2 if problem.target_scale is not None else np.nan
    for split in SPLITS:
        runs[f"{split}_metric_target_units"] = runs[f"{split}_metric"] * units_factor
    flat = values.reshape(-1, 3)  # rows in (run, epoch, split) order
    history = pd.DataFrame({
        "problem": problem.name,
        "loss": np.repeat(names, n_epochs * n_splits),
        "seed": np.repeat(run_seeds, n_epochs * n_splits),
        "epoch": np.tile(np.repeat(epochs, n_splits), n_runs),
        "split": np.tile(SPLITS, n_runs * n_epochs),
        "loss_value": flat[:, 0], "metric": metric,
        "metric_value": flat[:, 1], "rounding_accuracy": flat[:, 2],
    })
    return history[list(HISTORY_COLUMNS)], runs[list(RUN_COLUMNS)]


def _divergence_epochs(values: np.ndarray) -> np.ndarray:
    """Per run, the first epoch (1-based) whose loss or metric on either split is NaN or
    infinite; ``epochs + 1`` for a run that never diverged."""
    bad = ~np.isfinite(values[:, :, :, :2]).all(axis=(2, 3))
    return np.where(bad.any(axis=1), np.argmax(bad, axis=1) + 1, values.shape[1] + 1)


def ensure_out_dir(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and check it is writable; a clear error if not."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".losslab-write-test.{os.getpid()}.{threading.get_ident()}"  # unique: writers run at once
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LosslabError(f"cannot write to the output directory {str(out)!r} ({exc.strerror}); choose another --out") from exc
    return out


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Write ``path`` through ``write(temporary path)`` and rename it into place when complete.

    The temporary name is unique to the process, so two runs writing the same file never write
    into one temporary file, and a reader never sees a partial file under the final name.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        write(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
