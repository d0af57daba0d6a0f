"""Results: a plan and what the engine returned for it, as tidy tables; written to files.

``run(plan)`` trains a :class:`~losslab.planning.StudyPlan` and returns a :class:`Study`;
``train(problem, losses, seeds, settings)`` plans and runs in one call.

``history`` has one row per run, epoch and split (long format, easy to group and plot):

=================  ======================================================================
column             meaning
=================  ======================================================================
problem            problem name
loss               canonical loss name
seed               the run's seed (paired across losses: same weights, batches and split)
epoch              1..epochs, evaluated after the epoch's updates
split              ``"train"``, ``"validation"`` (when the plan holds one out) or ``"test"``
loss_value         the loss on the whole split (mean of per-sample losses, Keras form)
metric             ``"accuracy"`` or ``"mse"``
metric_value       the metric on the whole split
rounding_accuracy  one-unit classifiers only: the tutorial's Keras ``round(output) == label``
=================  ======================================================================

``runs`` has one row per run: ``problem, loss, seed, diverged, diverged_epoch, collapsed,
collapse_reason`` and the final ``<split>_loss``, ``<split>_metric`` of every split (plus
``train_rounding_accuracy`` and ``test_rounding_accuracy``, and for a regression target that
was scaled, ``train_metric_target_units`` and ``test_metric_target_units``: the MSE times
``problem.target_scale**2``), then the scores practitioners report on the validation and test
splits, ``<split>_<score>`` (:data:`losslab.scores.SCORES`: MSE, RMSE, MAE, R2 and Poisson
deviance in the target's units; accuracy, log-loss, ROC AUC and F1; accuracy, log-loss and
macro-F1). A diverged run has NaN from its ``diverged_epoch`` on.

A run is *collapsed* when it trained but learned nothing usable (:func:`collapse_reasons`): it
never moved, it ends no better than a constant prediction on its own training rows, or it
trained on a handful of rows. Collapsed and diverged runs are results to flag, never to average.

``baselines`` has one row per seed, baseline and evaluated split: what scikit-learn's simple
models (the training mean or majority class, a linear or logistic model, a Poisson GLM for counts)
score on the same split, in the same units.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from losslab.engine import Backend, Progress, Trained, run_plan
from losslab.scores import SCORES, batch_scores, fit_baselines
from losslab._files import atomic_write, ensure_out_dir
from losslab._plain import plain
from losslab.models import Model
from losslab.planning import StudyPlan, plan
from losslab.problems import Problem
from losslab.registry import LossSpec
from losslab.settings import Settings

HISTORY_COLUMNS = (
    "problem", "loss", "seed", "epoch", "split", "loss_value", "metric", "metric_value", "rounding_accuracy",
)
def run_columns(study_plan: StudyPlan) -> tuple[str, ...]:
    """The columns of a plan's ``runs`` table, in order (see the module docstring)."""
    splits = study_plan.splits
    return (
        "problem", "loss", "seed", "diverged", "diverged_epoch", "collapsed", "collapse_reason", "metric",
        *(f"{split}_{what}" for split in splits for what in ("loss", "metric")),
        "train_rounding_accuracy", "test_rounding_accuracy", "train_metric_target_units", "test_metric_target_units",
        *(f"{split}_{score}" for split in splits[1:] for score in SCORES[study_plan.problem.kind]),
    )


#: Fewer training rows than this and a run is collapsed: a handful of rows fits anything.
MIN_TRAIN_ROWS = 10
#: A regression run that explains less than this share of its training targets' variance
#: learned nothing a constant would not.
MIN_EXPLAINED = 0.01


@dataclass
class Study:
    """Every run of one plan: its losses x seeds on one problem under one set of settings."""

    plan: StudyPlan
    history: pd.DataFrame
    runs: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)

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

    def save(self, out_dir: str | Path, stem: str = "study", *, csv: bool = True) -> list[Path]:
        """Write history (Parquet, and CSV when ``csv``), runs and baselines (CSV) and metadata
        (JSON) under ``out_dir``; return the paths in that order.

        The history is the one large table (a row per run, epoch and split): ``csv=False`` leaves
        out its CSV copy, which takes ten times the Parquet file's space and most of the time.
        Each file is written to a temporary name and renamed when complete, so an interrupted
        write never leaves a partial file under the final name.
        """
        out = ensure_out_dir(out_dir)
        history = [atomic_write(out / f"{stem}_history.parquet", lambda p: self.history.to_parquet(p, index=False))]
        if csv:
            history.append(atomic_write(out / f"{stem}_history.csv", lambda p: self.history.to_csv(p, index=False)))
        return [
            *history,
            atomic_write(out / f"{stem}_runs.csv", lambda p: self.runs.to_csv(p, index=False)),
            atomic_write(out / f"{stem}_baselines.csv", lambda p: self.baselines.to_csv(p, index=False)),
            atomic_write(out / f"{stem}.json", lambda p: p.write_text(json.dumps(plain(self.metadata()), indent=2))),
        ]


def run(study_plan: StudyPlan, progress: Progress | None = None, backend: Backend = Backend()) -> Study:
    """Train every run of ``study_plan`` and record every epoch, on this machine or on a Ray
    cluster (``backend``, :class:`~losslab.engine.Backend`; the results are the same).

    Runs whose loss turns NaN or infinite are marked diverged; the others complete normally.
    """
    trained = run_plan(study_plan, progress, backend=backend)
    history, runs = tables(study_plan, trained)
    return Study(study_plan, history, runs, trained.timings, baselines(study_plan))


def train(
    problem: Problem,
    losses: str | LossSpec | Sequence[str | LossSpec],
    seeds: Iterable[int] = (0,),
    settings: Settings | None = None,
    progress: Progress | None = None,
    *,
    split: str | None = None,
    validation: float | None = None,
) -> Study:
    """Plan and train one model per (loss, seed) on ``problem``: ``run(plan(...))`` in one call.

    ``settings`` default to :func:`~losslab.planning.default_settings` (the tutorial's set-up
    for the tutorial's problems); ``split`` and ``validation`` are the split design (see
    :func:`~losslab.planning.plan`: resampled per seed for data, fixed for the tutorial's problems).

    >>> from losslab.problems import get_problem
    >>> study = train(get_problem("blobs"), ["categorical_crossentropy"], seeds=[0, 1], settings=Settings(epochs=2))
    >>> study.runs[["loss", "seed"]].values.tolist()
    [['categorical_crossentropy', 0], ['categorical_crossentropy', 1]]
    """
    return run(plan(problem, losses, seeds, settings, split=split, validation=validation), progress)


def tables(study_plan: StudyPlan, trained: Trained) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tidy ``history`` and the per-run ``runs`` table (columns in the module docstring).

    Values from a run's divergence epoch on are set to NaN, so no half-diverged number is
    reported as a score.
    """
    problem, seeds, splits = study_plan.problem, study_plan.seeds, study_plan.splits
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
    reasons = collapse_reasons(study_plan, values, run_seeds)
    runs["collapsed"] = [bool(reason) and not diverged for reason, diverged in zip(reasons, runs["diverged"])]
    runs["collapse_reason"] = np.where(runs["collapsed"], reasons, "")
    runs["metric"] = metric
    for s, split in enumerate(splits):
        runs[f"{split}_loss"], runs[f"{split}_metric"] = values[:, -1, s, 0], values[:, -1, s, 1]
    for split in ("train", "test"):
        runs[f"{split}_rounding_accuracy"] = values[:, -1, splits.index(split), 2]
    units_factor = problem.target_scale**2 if problem.target_scale is not None else np.nan
    for split in ("train", "test"):
        runs[f"{split}_metric_target_units"] = runs[f"{split}_metric"] * units_factor
    scores = pd.concat([pd.DataFrame(_scores(study_plan, study_plan.spec(name), seeds, trained.outputs[name]))
                        for name in study_plan.losses], ignore_index=True)  # losses' outputs may differ in width
    runs = pd.concat([runs, scores.set_index(runs.index)], axis=1)[list(run_columns(study_plan))]
    flat = values.reshape(-1, 3)  # rows in (run, epoch, split) order
    history = pd.DataFrame({
        "problem": problem.name,
        "loss": np.repeat(names, n_epochs * n_splits),
        "seed": np.repeat(run_seeds, n_epochs * n_splits),
        "epoch": np.tile(np.repeat(epochs, n_splits), n_runs),
        "split": np.tile(splits, n_runs * n_epochs),
        "loss_value": flat[:, 0], "metric": metric,
        "metric_value": flat[:, 1], "rounding_accuracy": flat[:, 2],
    })
    return history[list(HISTORY_COLUMNS)], runs


def collapse_reasons(study_plan: StudyPlan, values: np.ndarray, run_seeds: Sequence[int]) -> list[str]:
    """Why each run is collapsed, or ``""``; ``values`` as in :func:`tables` (runs first).

    - *trained on a handful of rows*: fewer than :data:`MIN_TRAIN_ROWS` training rows;
    - *never moved*: its training loss was the same after every epoch (a learning rate that
      underflows to 0 in float32, e.g. 1e-50, leaves the weights where they started);
    - *no better than a constant*: on its own training rows, an accuracy within one row of the
      majority class's share, or an MSE that explains less than :data:`MIN_EXPLAINED` of the
      training targets' variance (chance, or the mean).
    """
    n_train = study_plan.sizes.train
    if n_train < MIN_TRAIN_ROWS:
        return [f"trained on {n_train} rows"] * len(values)
    constant = {seed: _constant_train_metric(study_plan, seed) for seed in set(run_seeds)}
    higher = study_plan.metric == "accuracy"
    reasons = []
    for run, seed in zip(values, run_seeds):
        train_loss, train_metric = run[:, 0, 0], run[-1, 0, 1]
        if len(train_loss) > 1 and np.ptp(train_loss) == 0:
            reasons.append("never moved (its training loss did not change)")
        elif higher and train_metric <= constant[seed] + 1 / n_train:
            reasons.append(f"no better than chance (training accuracy {train_metric:.1%}; always predicting the "
                           f"majority class gives {constant[seed]:.1%})")
        elif not higher and train_metric >= (1 - MIN_EXPLAINED) * constant[seed]:
            reasons.append(f"no better than the mean (training MSE {train_metric:.3g}; predicting the mean gives "
                           f"{constant[seed]:.3g})")
        else:
            reasons.append("")
    return reasons


def _constant_train_metric(study_plan: StudyPlan, seed: int) -> float:
    """The best constant's metric on seed ``seed``'s training rows: the majority class's share,
    or the variance of the targets as trained (the MSE of their mean)."""
    y = _pooled_targets(study_plan)[study_plan.rows(seed).train]
    if study_plan.problem.kind == "regression":
        return float(np.var(y))
    return float(np.bincount(y.astype(np.int64)).max() / len(y))


def _pooled_targets(study_plan: StudyPlan) -> np.ndarray:
    """Every pool row's target: class indices, or a regression target in the units the losses
    train on (centred or not, as the plan says)."""
    problem = study_plan.problem
    y = np.concatenate([problem.y_train, problem.y_test])
    if problem.kind == "regression" and study_plan.centred is False and problem.target_mean is not None:
        y = y + problem.target_mean / problem.target_scale
    return y


def _target_units(study_plan: StudyPlan) -> tuple[float, float]:
    """``(scale, offset)`` turning a regression target as trained into the target's own units."""
    problem = study_plan.problem
    scale = problem.target_scale or 1.0
    offset = problem.target_mean if study_plan.centred and problem.target_mean is not None else 0.0
    return scale, offset


def _scores(study_plan: StudyPlan, spec: LossSpec, seeds: Sequence[int], outputs: np.ndarray) -> dict[str, np.ndarray]:
    """The reported scores ``<split>_<score>`` of runs of ``spec``, one value per run, on each
    run's validation and test rows from its final outputs ``(runs, rows, units)`` (run ``i`` is
    of seed ``seeds[i]``; its rows are its validation rows, then its test rows): probabilities
    for sigmoid and softmax outputs, margin scores for the others (a tanh output's sign is its
    class), values in the target's units (:func:`losslab.scores.batch_scores`). A run whose
    outputs on a split are not all finite scores NaN there."""
    problem, pooled = study_plan.problem, _pooled_targets(study_plan)
    scale, offset = _target_units(study_plan) if problem.kind == "regression" else (1.0, 0.0)
    seed_rows = {seed: study_plan.rows(seed) for seed in dict.fromkeys(seeds)}
    result, start = {}, 0
    for split in study_plan.splits[1:]:
        index = np.stack([getattr(seed_rows[seed], split) for seed in seeds])  # (runs, rows)
        y = pooled[index[0]] if (index == index[0]).all() else pooled[index]
        out = np.asarray(outputs[:, start:start + index.shape[1]], dtype=np.float64)
        start += index.shape[1]
        scores = batch_scores(problem.kind, y, out, spec.activation, problem.n_classes, scale=scale, offset=offset)
        result.update({f"{split}_{name}": values for name, values in scores.items()})
    return result


def baselines(study_plan: StudyPlan) -> pd.DataFrame:
    """What scikit-learn's baselines score on every seed's split (one fit per distinct split):
    columns ``seed, baseline, split, fit_rows`` and the scores of :func:`_scores`, in the target's
    units. A split of more training rows than :func:`baseline_rows` allows is fitted on a random
    sample of that many (``fit_rows``), and still scored on every row."""
    problem = study_plan.problem
    y = _pooled_targets(study_plan)
    if problem.kind == "regression":
        scale, offset = _target_units(study_plan)
        y = y * scale + offset
    counts = problem.kind == "regression" and _whole_non_negative(y)
    pool, most = _PoolRows(problem), baseline_rows(problem.n_features)
    fitted: dict[object, list[dict]] = {}
    rows = []
    for seed in study_plan.seeds:
        split = study_plan.rows(seed)
        key = 0 if not study_plan.split.varies else seed
        if key not in fitted:
            train = split.train if len(split.train) <= most else \
                np.sort(np.random.default_rng(seed).choice(split.train, most, replace=False))
            evaluated = {name: getattr(split, name) for name in study_plan.splits[1:]}
            fitted[key] = [row | {"fit_rows": len(train)} for row in
                           fit_baselines(problem.kind, pool, y, train, evaluated, problem.n_classes, counts)]
        rows.extend({"seed": seed, **row} for row in fitted[key])
    return pd.DataFrame(rows)


#: Bytes of float64 features a baseline is fitted on at most: a larger split is sampled.
BASELINE_BYTES = 256 * 2**20


def baseline_rows(n_features: int) -> int:
    """Training rows a baseline is fitted on at most (671,088 of 50 features)."""
    return max(10_000, BASELINE_BYTES // (8 * n_features))


@dataclass(frozen=True)
class _PoolRows:
    """A problem's pool rows (its train rows, then its test rows) by index, as float64, read
    from its features where they are: no copy of a large table."""

    problem: Problem

    def __len__(self) -> int:
        return self.problem.n_train + self.problem.n_test

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        problem = self.problem
        X = np.empty((len(rows), problem.n_features))
        first = rows < problem.n_train
        X[first] = problem.X_train[rows[first]]
        X[~first] = problem.X_test[rows[~first] - problem.n_train]
        return X


def _whole_non_negative(y: np.ndarray) -> bool:
    """Whether a target reads as counts (whole numbers, none negative): a Poisson GLM applies."""
    return bool(np.all(y >= 0) and np.allclose(y, np.round(y), rtol=0, atol=1e-6))


def _divergence_epochs(values: np.ndarray) -> np.ndarray:
    """Per run, the first epoch (1-based) whose loss or metric on either split is NaN or
    infinite; ``epochs + 1`` for a run that never diverged."""
    bad = ~np.isfinite(values[:, :, :, :2]).all(axis=(2, 3))
    return np.where(bad.any(axis=1), np.argmax(bad, axis=1) + 1, values.shape[1] + 1)
