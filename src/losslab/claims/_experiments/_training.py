"""Claims about how the networks train: speed and robustness of cross-entropy against mean squared
error (claim 1), hinge against cross-entropy (claim 5), and smoother convergence by learning rate
and batch size (claim 10).

Each claim has a pure judging function, ``judge_<key>(numbers) -> (verdict, summary)``, apart from
the training, so that the rules can be checked on made-up numbers; the experiment trains, turns
the study into those numbers, judges them and draws the figure.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from losslab.analysis import bumpiness, compare, holm, paired_tests
from losslab.claims._claim import Context, Finding, claim
from losslab.errors import LosslabError
from losslab.figures._canvas import new_figure, save
from losslab.losses import mean_squared_error
from losslab.planning import default_settings, plan
from losslab.problems import get_problem
from losslab.registry import LossSpec
from losslab.results import Study, run
from losslab.settings import Settings
from losslab.sweep import sweep

#: The level of every test here.
ALPHA = 0.05
#: "Faster" is read off the epoch at which a run first reaches this share of its final test accuracy.
FRACTION = 0.95
#: Fewest paired seeds on which a difference is called (as :func:`~losslab.analysis.compare` does).
MIN_PAIRS = 5
#: "Clearly smoother": the median bumpiness at most this share of the tutorial setting's, and the
#: paired test (Holm-adjusted across settings) below :data:`ALPHA`.
CLEAR_RATIO = 0.75
#: "Without losing accuracy": the mean final test accuracy at most this far below the tutorial setting's.
ACCURACY_TOLERANCE = 0.01

#: The losses of claim 1: per problem, cross-entropy and mean squared error on the same output layer.
CE_VS_MSE = {"circles": ("binary_crossentropy", "mean_squared_error_sigmoid"),
             "blobs": ("categorical_crossentropy", "mean_squared_error_softmax")}
#: The classification MSE losses losslab has no built-in for: (name, kind, output activation).
PROBABILITY_MSE = (("mean_squared_error_sigmoid", "binary", "sigmoid"),
                   ("mean_squared_error_softmax", "multiclass", "softmax"))
#: Learning rates of claims 1 and 5 (full and quick).
LEARNING_RATES, QUICK_LEARNING_RATES = (0.001, 0.01, 0.1), (0.01, 0.1)
#: The grid of claim 10 (full and quick); the tutorial's setting is (0.01, 32).
SMOOTHING_LR, SMOOTHING_BATCH = (0.001, 0.003, 0.01, 0.03), (32, 64, 128)
QUICK_SMOOTHING_LR, QUICK_SMOOTHING_BATCH = (0.01, 0.03), (32, 64)
REFERENCE = (0.01, 32)
#: Epochs in quick mode, per problem (the full designs train the tutorial's 200 and 100).
QUICK_EPOCHS = {"circles": 20, "blobs": 10}


# ------------------------------------------------------------------------------------------------
# Pure helpers and judges: numbers in, verdicts out.
# ------------------------------------------------------------------------------------------------
def epochs_to_fraction(curve: Sequence[float], fraction: float = FRACTION) -> float:
    """The first epoch (1-based) at which ``curve`` reaches ``fraction`` of its final value; the
    final value is the last finite one (a diverged run's curve is read up to its divergence).
    NaN for a curve without a finite value.

    >>> epochs_to_fraction([0.5, 0.7, 0.96, 1.0, 1.0])
    3
    """
    values = np.asarray(curve, dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    values = values[: bad[0]] if bad.size else values
    if not values.size:
        return math.nan
    return int(np.argmax(values >= fraction * values[-1]) + 1)


def _wins(config: dict, side: str, other: str) -> bool:
    """Whether ``side`` learned faster than ``other`` at one configuration of claim 1 and at least
    as accurately and robustly: fewer epochs to 95% (paired test below ALPHA), accuracy not called
    better for ``other``, no more failed (collapsed or diverged) runs and no significantly larger
    spread of the final test accuracy."""
    faster = config["epochs_p"] < ALPHA and config[f"{side}_epochs"] < config[f"{other}_epochs"]
    as_accurate = config["accuracy_better"] != other
    as_robust = config[f"{side}_failed"] <= config[f"{other}_failed"] and not (
        config["spread_p"] < ALPHA and config[f"{side}_sd"] > config[f"{other}_sd"])
    return bool(faster and as_accurate and as_robust)


def _where(config: dict) -> str:
    return f"{config['problem']} lr {config['learning_rate']:g}"


def judge_ce_vs_mse(configs: Sequence[dict]) -> tuple[str, str]:
    """Claim 1's verdict from one record per (problem, learning rate).

    Each record holds ``problem``, ``learning_rate``; ``ce_epochs`` and ``mse_epochs`` (median
    epochs to reach 95% of the final test accuracy) and ``epochs_p`` (their paired test,
    Holm-adjusted); ``ce_accuracy`` and ``mse_accuracy`` (mean final test accuracy) and
    ``accuracy_better`` (``"ce"``, ``"mse"`` or ``""``: the comparison's verdict); ``ce_sd``,
    ``mse_sd`` and ``spread_p`` (Brown-Forsythe test of equal spread); ``ce_failed`` and
    ``mse_failed`` (collapsed or diverged runs).

    Cross-entropy *wins* a configuration when it is faster and at least as accurate and robust
    (:func:`_wins`); MSE wins it by the same rule. Supported: cross-entropy wins most
    configurations and MSE none; not supported: cross-entropy wins none; otherwise it depends on
    the learning rate (and problem), and the summary names where each wins.
    """
    configs = list(configs)
    if not configs:
        raise LosslabError("claim 1 needs at least one configuration to judge")
    ce = [c for c in configs if _wins(c, "ce", "mse")]
    mse = [c for c in configs if _wins(c, "mse", "ce")]
    detail = "; ".join(
        f"{_where(c)}: {_num(c['ce_epochs'])} vs {_num(c['mse_epochs'])} epochs, "
        f"{_pct(c['ce_accuracy'])} vs {_pct(c['mse_accuracy'])} accuracy, "
        f"{c['ce_failed']} vs {c['mse_failed']} failed runs" for c in configs)
    lead = (f"Cross-entropy reached 95% of its final test accuracy sooner and was at least as accurate and robust "
            f"as MSE on the same output layer at {len(ce)} of {len(configs)} settings")
    if ce and not mse and len(ce) > len(configs) / 2:
        rest = [c for c in configs if c not in ce]
        neither = f" and neither at {', '.join(map(_where, rest))}" if rest else ""
        return "supported", f"{lead}{neither} (cross-entropy vs MSE, median epochs to 95%: {detail})."
    if not ce:
        flipped = f"; MSE did so at {', '.join(map(_where, mse))}" if mse else ""
        return "not supported", f"{lead}{flipped} (cross-entropy vs MSE: {detail})."
    against = f"MSE at {', '.join(map(_where, mse))}" if mse else "neither at the rest"
    return "depends", (f"Depends on the learning rate and problem: cross-entropy learned faster and at least as "
                       f"accurately and robustly at {', '.join(map(_where, ce))}, {against} (cross-entropy vs MSE, "
                       f"median epochs to 95%: {detail}).")


def judge_hinge_vs_ce(settings: Sequence[dict]) -> tuple[str, str]:
    """Claim 5's verdict from one record per learning rate.

    Each record holds ``learning_rate``; ``better`` (``"hinge"``, ``"binary_crossentropy"`` or
    ``""``: the comparison's verdict on the sign accuracy) and ``verdict`` (its sentence);
    ``hinge_accuracy`` and ``bce_accuracy`` (mean sign accuracy); ``hinge_rounding`` and
    ``bce_rounding`` (mean rounding accuracy, the tutorial's Keras metric) and
    ``rounding_better`` (as ``better``, on the rounding accuracy).

    Supported when hinge is better than cross-entropy at some learning rate by the sign accuracy;
    not supported when it never is. The summary says where, and what the rounding accuracy says.
    """
    settings = list(settings)
    if not settings:
        raise LosslabError("claim 5 needs at least one setting to judge")
    hinge = [s for s in settings if s["better"] == "hinge"]
    bce = [s for s in settings if s["better"] == "binary_crossentropy"]
    each = "; ".join(f"lr {s['learning_rate']:g}: {_pct(s['hinge_accuracy'])} vs {_pct(s['bce_accuracy'])}"
                     for s in settings)
    rounding = [s for s in settings if s["rounding_better"] == "hinge"]
    rounding_line = (f"by the tutorial's rounding accuracy hinge is better at {_lrs(rounding)}" if rounding else
                     "by the tutorial's rounding accuracy hinge is better nowhere (" + ", ".join(
                         f"{_pct(s['hinge_rounding'])} vs {_pct(s['bce_rounding'])}" for s in settings) + ")")
    if hinge:
        worse = f", worse at {_lrs(bce)}" if bce else ""
        return "supported", (f"Hinge beat cross-entropy on circles by sign accuracy at {_lrs(hinge)}{worse} "
                             f"(hinge vs cross-entropy, mean test accuracy: {each}); {rounding_line}.")
    rest = [s for s in settings if not s["better"]]
    where = (f"cross-entropy was better at {_lrs(bce)}" if bce else "") + \
            (" and " if bce and rest else "") + (f"neither was called better at {_lrs(rest)}" if rest else "")
    return "not supported", (f"Hinge was better than cross-entropy at no learning rate on circles by sign accuracy: "
                             f"{where} (hinge vs cross-entropy, mean test accuracy: {each}); {rounding_line}.")


def _clearly_smoother(setting: dict, curve: str) -> bool:
    return setting[f"{curve}_ratio"] <= CLEAR_RATIO and setting[f"{curve}_p"] < ALPHA


def _keeps_accuracy(setting: dict, reference: dict) -> bool:
    return setting["accuracy_change"] >= -ACCURACY_TOLERANCE and setting["failed"] <= reference["failed"]


def _setting(s: dict) -> str:
    return f"lr {s['learning_rate']:g}, batch {s['batch_size']}"


def judge_smoothing_by_lr_and_batch(settings: Sequence[dict], reference: dict) -> tuple[str, str]:
    """Claim 10's verdict from one record per setting other than the tutorial's, and the
    tutorial's own (``reference``: ``learning_rate``, ``batch_size``, ``loss_bumpiness``,
    ``accuracy_bumpiness``, ``accuracy``, ``failed``).

    Each setting holds ``learning_rate``, ``batch_size``; ``loss_ratio`` and ``accuracy_ratio``
    (median bumpiness of the train loss curve and of the test accuracy curve over the tutorial
    setting's) with ``loss_p`` and ``accuracy_p`` (paired tests on the seeds, Holm-adjusted);
    ``accuracy_change`` (mean final test accuracy minus the tutorial setting's) and ``failed``.

    A setting is *clearly smoother* on a curve when its ratio is at most :data:`CLEAR_RATIO`
    with ``p`` below :data:`ALPHA`, and *keeps accuracy* when it loses at most
    :data:`ACCURACY_TOLERANCE` and fails no more runs. Supported: some setting is clearly
    smoother on both curves and keeps accuracy; depends (on the curve): one only; otherwise not
    supported.
    """
    settings = list(settings)
    if not settings:
        raise LosslabError("claim 10 needs at least one setting besides the tutorial's to judge")
    keeping = [s for s in settings if _keeps_accuracy(s, reference)]
    both = [s for s in keeping if _clearly_smoother(s, "loss") and _clearly_smoother(s, "accuracy")]
    ref = (f"the tutorial's lr {reference['learning_rate']:g}, batch {reference['batch_size']} (median bumpiness "
           f"{reference['loss_bumpiness']:.3f} of the train loss, {reference['accuracy_bumpiness']:.3f} of the "
           f"test accuracy, {_pct(reference['accuracy'])} accuracy)")
    if both:
        best = min(both, key=lambda s: s["loss_ratio"] * s["accuracy_ratio"])
        return "supported", (f"{len(both)} of {len(settings)} other settings ({'; '.join(map(_setting, both))}) "
                             f"converge clearly more smoothly than {ref} without losing accuracy; the smoothest, "
                             f"{_setting(best)}, has "
                             f"{_ratio(best['loss_ratio'])} the train-loss and {_ratio(best['accuracy_ratio'])} the "
                             f"test-accuracy bumpiness at {_points(best['accuracy_change'])} accuracy.")
    one = {curve: [s for s in keeping if _clearly_smoother(s, curve)] for curve in ("loss", "accuracy")}
    if one["loss"] or one["accuracy"]:
        curve = "loss" if one["loss"] else "accuracy"
        best = min(one[curve], key=lambda s: s[f"{curve}_ratio"])
        named = {"loss": "the train loss curve", "accuracy": "the test accuracy curve"}
        other = "accuracy" if curve == "loss" else "loss"
        return "depends", (f"Depends on the curve: {len(one[curve])} of {len(settings)} settings smooth "
                           f"{named[curve]} clearly without losing accuracy (best {_setting(best)}: "
                           f"{_ratio(best[f'{curve}_ratio'])} the bumpiness of {ref}), but none smooths "
                           f"{named[other]} as well.")
    costly = [s for s in settings if _clearly_smoother(s, "loss") or _clearly_smoother(s, "accuracy")]
    tail = (f"; {len(costly)} settings are smoother only at a cost in accuracy or failed runs "
            f"(e.g. {_setting(costly[0])}: {_points(costly[0]['accuracy_change'])})" if costly else "")
    return "not supported", (f"No other setting of {len(settings)} converges clearly more smoothly than {ref} "
                             f"without losing accuracy{tail}.")


def _num(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:g}"


def _pct(value: float) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{100 * value:.1f}%"


def _points(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{100 * value:+.1f} pt"


def _ratio(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.2f}x"


def _lrs(settings: Sequence[dict]) -> str:
    return "lr " + ", ".join(f"{s['learning_rate']:g}" for s in settings)


# ------------------------------------------------------------------------------------------------
# Training and the numbers read off it.
# ------------------------------------------------------------------------------------------------
class _Counter:
    """One progress count over several studies: ``step(n_runs)`` gives the callback for the next
    study, offset by the runs trained before it."""

    def __init__(self, progress: Callable[[int, int, str], None] | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def step(self, n_runs: int) -> Callable[[int, int, str], None] | None:
        offset = self.done
        self.done += n_runs
        if self.progress is None:
            return None
        return lambda done, _total, what: self.progress(offset + done, self.total, what)


@functools.cache
def probability_mse_specs() -> dict[str, LossSpec]:
    """Mean squared error on a sigmoid and on a softmax output (probabilities against 0/1 or one-hot
    targets, Keras's mean over the outputs), as loss specs: losslab has no built-in for them, and
    they are made here rather than registered, so that running a claim leaves the registry as it
    was. Made once, so that the engine's compiled programs are reused."""
    return {name: LossSpec(name, mean_squared_error, kind, activation, "{0,1}" if kind == "binary" else "one-hot",
                           "{0,1}" if kind == "binary" else "one-hot",
                           f"Mean squared error of the {activation} probabilities against the class targets.",
                           builtin=False)
            for name, kind, activation in PROBABILITY_MSE}


def _settings(problem_name: str, quick: bool, **changes: object) -> Settings:
    base = default_settings(get_problem(problem_name))
    if quick:
        base = base.updated(epochs=QUICK_EPOCHS[problem_name])
    return base.updated(**changes)


def _usable(runs: pd.DataFrame) -> pd.Series:
    """Runs that finished and learned (as the comparison counts them)."""
    return ~runs["diverged"].astype(bool) & ~runs["collapsed"].astype(bool) & np.isfinite(runs["test_metric"])


def _curve_table(study: Study, split: str, column: str) -> dict[str, pd.DataFrame]:
    """Per loss, ``column`` of ``split`` as a (seed x epoch) table."""
    rows = study.history[study.history["split"] == split]
    return {loss: group.pivot(index="seed", columns="epoch", values=column).sort_index()
            for loss, group in rows.groupby("loss", sort=False)}


def _spread_p(a: np.ndarray, b: np.ndarray) -> float:
    """Brown-Forsythe test of equal spread (Levene's, about the median); NaN when it cannot be run."""
    if len(a) < 2 or len(b) < 2 or (np.ptp(a) == 0 and np.ptp(b) == 0):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # equal deviations (two runs each) divide by zero
        p = float(stats.levene(a, b, center="median").pvalue)
    return p if math.isfinite(p) else math.nan


def _paired_p(a: pd.Series, b: pd.Series) -> tuple[float, int]:
    """Wilcoxon signed-rank p-value of ``a`` against ``b`` on the seeds where both are finite."""
    both = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(both) < 2:
        return math.nan, len(both)
    return paired_tests(both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float)).wilcoxon_pvalue, len(both)


def _ce_vs_mse_record(problem: str, lr: float, study: Study) -> dict[str, object]:
    ce_name, mse_name = CE_VS_MSE[problem]
    runs = study.runs.assign(usable=_usable(study.runs))
    accuracy = _curve_table(study, "test", "metric_value")
    record: dict[str, object] = {"problem": problem, "learning_rate": lr}
    epochs, finals = {}, {}
    for side, name in (("ce", ce_name), ("mse", mse_name)):
        mine = runs[runs["loss"] == name].set_index("seed")
        kept = mine.index[mine["usable"]]
        epochs[side] = accuracy[name].loc[kept].apply(lambda row: epochs_to_fraction(row.to_numpy()), axis=1)
        finals[side] = mine.loc[kept, "test_metric"].to_numpy(float)
        record[f"{side}_epochs"] = float(epochs[side].median()) if len(kept) else math.nan
        record[f"{side}_epochs_q25"], record[f"{side}_epochs_q75"] = (
            (float(epochs[side].quantile(0.25)), float(epochs[side].quantile(0.75))) if len(kept) else (math.nan,) * 2)
        record[f"{side}_accuracy"] = float(finals[side].mean()) if len(kept) else math.nan
        record[f"{side}_sd"] = float(finals[side].std(ddof=1)) if len(kept) > 1 else math.nan
        record[f"{side}_q25"], record[f"{side}_q75"] = (
            tuple(float(q) for q in np.quantile(finals[side], [0.25, 0.75])) if len(kept) else (math.nan,) * 2)
        record[f"{side}_failed"] = int((~mine["usable"]).sum())
    record["epochs_p_raw"], record["n_pairs"] = _paired_p(epochs["ce"], epochs["mse"])
    pair = compare(study).pairs.iloc[0]
    better = {ce_name: "ce", mse_name: "mse"}.get(pair["better"], "")
    record.update(accuracy_better=better, accuracy_verdict=pair["verdict"],
                  spread_p=_spread_p(finals["ce"], finals["mse"]))
    return record


@claim(
    1, "ce-vs-mse",
    "neural networks for classification that use a sigmoid or softmax activation function in the output layer "
    "learn faster and more robustly using a cross-entropy loss function.",
    "On circles (1 sigmoid unit, 200 epochs) and blobs (3 softmax units, 100 epochs) with the tutorial's SGD "
    "set-up, cross-entropy against mean squared error on the same output layer (probabilities against 0/1 or "
    "one-hot targets), on paired seeds (30 by default) at learning rates 0.001, 0.01 and 0.1: faster is fewer "
    "epochs to reach 95% of a run's final test accuracy (paired Wilcoxon, Holm-adjusted), more robustly is a final "
    "test accuracy no worse (the comparison's verdict), no more collapsed or diverged runs and no larger spread "
    "(Brown-Forsythe); supported if cross-entropy is faster and at least as accurate and robust at most settings and "
    "MSE at none. Quick mode: 20 and 10 epochs, learning rates 0.01 and 0.1.",
)
def ce_vs_mse(ctx: Context) -> Finding:
    rates = QUICK_LEARNING_RATES if ctx.quick else LEARNING_RATES
    seeds = range(ctx.repeats)
    records = []
    specs = probability_mse_specs()
    plans = [(problem, lr, plan(get_problem(problem), [specs.get(loss, loss) for loss in losses], seeds,
                                _settings(problem, ctx.quick, learning_rate=lr)))
             for problem, losses in CE_VS_MSE.items() for lr in rates]
    counter = _Counter(ctx.progress, sum(p.n_runs for *_, p in plans))
    for problem, lr, study_plan in plans:
        study = run(study_plan, counter.step(study_plan.n_runs))
        records.append(_ce_vs_mse_record(problem, lr, study))
    for record, p in zip(records, holm([r["epochs_p_raw"] for r in records])):
        record["epochs_p"] = float(p)
    verdict, summary = judge_ce_vs_mse(records)
    figure = _plot_ce_vs_mse(records, Path(ctx.out) / "claim01_ce-vs-mse.png")
    return Finding(verdict, summary, {"configurations": records, "fraction": FRACTION, "alpha": ALPHA}, figure)


def _rounding_test(study: Study, n_test: int) -> dict[str, object]:
    """The paired t-test of the rounding accuracy on the seeds where both losses' runs are usable:
    the loss its mean difference favours (``""`` when the difference is within one test row), the
    raw p-value and the number of paired seeds."""
    runs = study.runs[_usable(study.runs)]
    a, b = study.losses
    both = pd.concat([runs[runs["loss"] == loss].set_index("seed")["test_rounding_accuracy"] for loss in (a, b)],
                     axis=1, join="inner").dropna()
    if len(both) < 2:
        return {"rounding_favours": "", "rounding_p_raw": math.nan, "rounding_pairs": len(both)}
    tests = paired_tests(both.iloc[:, 0].to_numpy(float), both.iloc[:, 1].to_numpy(float))
    favours = "" if abs(tests.mean_diff) <= 1 / n_test else (a if tests.mean_diff > 0 else b)
    return {"rounding_favours": favours, "rounding_p_raw": tests.t_pvalue, "rounding_pairs": len(both)}


@claim(
    5, "hinge-vs-ce",
    "Reports of performance with the hinge loss are mixed, sometimes resulting in better performance than "
    "cross-entropy on binary classification problems.",
    "On circles with the tutorial's set-up (50 relu units, SGD momentum 0.9, batch 32, 200 epochs), hinge "
    "(tanh output, -1/1 targets) against binary cross-entropy (sigmoid output) on paired seeds (30 by default) at "
    "learning rates 0.001, 0.01 and 0.1 (a sweep); judged by the comparison's verdict on the sign accuracy "
    "(supported if hinge is better at some learning rate, not supported if never), with the tutorial's rounding "
    "accuracy (paired t-test, Holm-adjusted) reported beside it. Quick mode: 20 epochs, learning rates 0.01 and 0.1.",
)
def hinge_vs_ce(ctx: Context) -> Finding:
    rates = QUICK_LEARNING_RATES if ctx.quick else LEARNING_RATES
    problem = get_problem("circles")
    result = sweep(problem, ["binary_crossentropy", "hinge"], range(ctx.repeats), _settings("circles", ctx.quick),
                   learning_rate=list(rates), progress=ctx.progress)
    records = []
    for values, study, comparison in zip(result.settings, result.studies, result.comparisons):
        pair = comparison.pairs.iloc[0]
        summary = comparison.summary.set_index("loss")
        runs = study.runs[_usable(study.runs)]
        rounding = runs.groupby("loss")["test_rounding_accuracy"].mean()
        records.append({
            "learning_rate": values["learning_rate"], "better": pair["better"], "verdict": pair["verdict"],
            "hinge_accuracy": float(summary.loc["hinge", "score_mean"]),
            "bce_accuracy": float(summary.loc["binary_crossentropy", "score_mean"]),
            "hinge_sd": float(summary.loc["hinge", "score_sd"]),
            "bce_sd": float(summary.loc["binary_crossentropy", "score_sd"]),
            "hinge_failed": int(summary.loc["hinge", "n_runs"] - summary.loc["hinge", "n"]),
            "bce_failed": int(summary.loc["binary_crossentropy", "n_runs"] - summary.loc["binary_crossentropy", "n"]),
            "hinge_rounding": float(rounding.get("hinge", math.nan)),
            "bce_rounding": float(rounding.get("binary_crossentropy", math.nan)),
            **_rounding_test(study, problem.n_test),
        })
    for record, p in zip(records, holm([r["rounding_p_raw"] for r in records])):
        record["rounding_p"] = float(p)
        called = record["rounding_pairs"] >= MIN_PAIRS and p < ALPHA
        record["rounding_better"] = record["rounding_favours"] if called else ""
    verdict, summary = judge_hinge_vs_ce(records)
    figure = _plot_hinge_vs_ce(records, Path(ctx.out) / "claim05_hinge-vs-ce.png")
    return Finding(verdict, summary, {"settings": records, "alpha": ALPHA}, figure)


def _smoothing_runs(study: Study) -> pd.DataFrame:
    """Per seed: the bumpiness of the train loss and of the test accuracy curves, the final test
    accuracy and whether the run failed (collapsed or diverged)."""
    loss = _curve_table(study, "train", "loss_value")["categorical_crossentropy"]
    accuracy = _curve_table(study, "test", "metric_value")["categorical_crossentropy"]
    runs = study.runs.set_index("seed").sort_index()
    usable = _usable(runs)
    return pd.DataFrame({
        "loss_bumpiness": loss.apply(lambda row: bumpiness(row.to_numpy()), axis=1).where(usable),
        "accuracy_bumpiness": accuracy.apply(lambda row: bumpiness(row.to_numpy()), axis=1).where(usable),
        "accuracy": runs["test_metric"].where(usable), "failed": ~usable,
    })


@claim(
    10, "smoothing-by-lr-and-batch",
    "The learning rate or batch size may be tuned to even out the smoothness of the convergence in this case.",
    "On blobs with categorical cross-entropy and the tutorial's set-up otherwise (50 relu units, SGD momentum 0.9, "
    "100 epochs), paired seeds (30 by default) at learning rates 0.001, 0.003, 0.01, 0.03 x batch sizes 32, 64, "
    "128; the bumpiness (mean absolute second difference over the range) of each run's train loss curve and test "
    "accuracy curve against the tutorial's lr 0.01, batch 32: supported if some setting has at most 0.75x the median "
    "bumpiness of both curves (paired Wilcoxon, Holm-adjusted across settings) while losing at most 1 point of mean "
    "test accuracy and failing no more runs; depends (on the curve) if only one curve. Quick mode: 10 epochs, "
    "lr 0.01, 0.03 x batch 32, 64.",
)
def smoothing_by_lr_and_batch(ctx: Context) -> Finding:
    rates, batches = ((QUICK_SMOOTHING_LR, QUICK_SMOOTHING_BATCH) if ctx.quick
                      else (SMOOTHING_LR, SMOOTHING_BATCH))
    problem = get_problem("blobs")
    grid = [(lr, batch) for lr in rates for batch in batches]
    plans = [plan(problem, ["categorical_crossentropy"], range(ctx.repeats),
                  _settings("blobs", ctx.quick, learning_rate=lr, batch_size=batch)) for lr, batch in grid]
    counter = _Counter(ctx.progress, sum(p.n_runs for p in plans))
    per_seed = {key: _smoothing_runs(run(p, counter.step(p.n_runs))) for key, p in zip(grid, plans)}
    ref_runs = per_seed[REFERENCE]
    reference = {"learning_rate": REFERENCE[0], "batch_size": REFERENCE[1],
                 "loss_bumpiness": float(ref_runs["loss_bumpiness"].median()),
                 "accuracy_bumpiness": float(ref_runs["accuracy_bumpiness"].median()),
                 "accuracy": float(ref_runs["accuracy"].mean()), "failed": int(ref_runs["failed"].sum())}
    records = []
    for (lr, batch), runs in per_seed.items():
        if (lr, batch) == REFERENCE:
            continue
        record: dict[str, object] = {"learning_rate": lr, "batch_size": batch}
        for curve in ("loss", "accuracy"):
            median = float(runs[f"{curve}_bumpiness"].median())
            record[f"{curve}_bumpiness"] = median
            base = reference[f"{curve}_bumpiness"]
            record[f"{curve}_ratio"] = median / base if base else math.nan
            record[f"{curve}_p_raw"], _ = _paired_p(runs[f"{curve}_bumpiness"], ref_runs[f"{curve}_bumpiness"])
        record["accuracy"] = float(runs["accuracy"].mean())
        record["accuracy_change"] = record["accuracy"] - reference["accuracy"]
        record["failed"] = int(runs["failed"].sum())
        records.append(record)
    for curve in ("loss", "accuracy"):
        for record, p in zip(records, holm([r[f"{curve}_p_raw"] for r in records])):
            record[f"{curve}_p"] = float(p)
    verdict, summary = judge_smoothing_by_lr_and_batch(records, reference)
    figure = _plot_smoothing(records, reference, rates, batches,
                             Path(ctx.out) / "claim10_smoothing-by-lr-and-batch.png")
    return Finding(verdict, summary, {"reference": reference, "settings": records, "clear_ratio": CLEAR_RATIO,
                                      "accuracy_tolerance": ACCURACY_TOLERANCE, "alpha": ALPHA}, figure)


# ------------------------------------------------------------------------------------------------
# Figures.
# ------------------------------------------------------------------------------------------------
SIDES = (("ce", "cross-entropy", "C0"), ("mse", "mean squared error", "C3"))


def _plot_ce_vs_mse(records: list[dict], path: Path) -> Path:
    frame = pd.DataFrame(records)
    problems = list(dict.fromkeys(frame["problem"]))
    fig = new_figure((9.0, 3.0 * len(problems) + 0.6))
    axes = fig.subplots(len(problems), 2, squeeze=False)
    for row, problem in zip(axes, problems):
        mine = frame[frame["problem"] == problem].sort_values("learning_rate")
        lrs = mine["learning_rate"].to_numpy(float)
        for side, label, colour in SIDES:
            for ax, centre, low, high in ((row[0], "accuracy", "q25", "q75"),
                                          (row[1], "epochs", "epochs_q25", "epochs_q75")):
                y = mine[f"{side}_{centre}"].to_numpy(float)
                err = np.vstack([y - mine[f"{side}_{low}"].to_numpy(float), mine[f"{side}_{high}"].to_numpy(float) - y])
                ax.errorbar(lrs, y, yerr=np.clip(np.nan_to_num(err), 0, None), marker="o", capsize=3,
                            color=colour, label=label)
        row[0].set_title(f"{problem}: final test accuracy (mean, IQR)", fontsize="small")
        row[1].set_title(f"{problem}: epochs to {FRACTION:.0%} of final accuracy (median, IQR)", fontsize="small")
        for ax in row:
            ax.set_xscale("log")
            ax.set_xlabel("learning rate")
        row[0].set_ylabel("test accuracy")
        row[1].set_ylabel("epochs")
    axes[0][0].legend(fontsize="small")
    fig.suptitle("Claim 1: cross-entropy vs mean squared error on the same output layer", fontsize="medium")
    save(fig, path)
    return path


def _plot_hinge_vs_ce(records: list[dict], path: Path) -> Path:
    frame = pd.DataFrame(records).sort_values("learning_rate")
    lrs = frame["learning_rate"].to_numpy(float)
    fig = new_figure((9.0, 3.6))
    sign, rounding = fig.subplots(1, 2)
    for side, label, colour in (("bce", "binary cross-entropy", "C0"), ("hinge", "hinge", "C2")):
        sign.errorbar(lrs, frame[f"{side}_accuracy"], yerr=np.nan_to_num(frame[f"{side}_sd"].to_numpy(float)),
                      marker="o", capsize=3, color=colour, label=label)
        rounding.plot(lrs, frame[f"{side}_rounding"], marker="o", linestyle="--", color=colour, label=label)
    for x, better in zip(lrs, frame["better"]):
        if better:
            sign.annotate(f"{'hinge' if better == 'hinge' else 'BCE'} better", (x, sign.get_ylim()[0]),
                          fontsize="x-small", ha="center", va="bottom")
    sign.set_title("sign accuracy (mean ± sd of usable runs)", fontsize="small")
    rounding.set_title("the tutorial's rounding accuracy (mean)", fontsize="small")
    for ax in (sign, rounding):
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("test accuracy")
    sign.legend(fontsize="small")
    fig.suptitle("Claim 5: hinge vs binary cross-entropy on circles", fontsize="medium")
    save(fig, path)
    return path


def _plot_smoothing(records: list[dict], reference: dict, rates: Sequence[float], batches: Sequence[int],
                    path: Path) -> Path:
    cells = {(r["learning_rate"], r["batch_size"]): r for r in records}
    cells[REFERENCE] = {**reference, "loss_ratio": 1.0, "accuracy_ratio": 1.0, "accuracy_change": 0.0,
                        "loss_p": math.nan, "accuracy_p": math.nan}
    fig = new_figure((12.0, 3.4))
    panels = (("loss_ratio", "train loss bumpiness / tutorial's", "RdYlGn_r", (0.0, 2.0)),
              ("accuracy_ratio", "test accuracy bumpiness / tutorial's", "RdYlGn_r", (0.0, 2.0)),
              ("accuracy_change", "mean test accuracy change (pt)", "RdYlGn", (-5.0, 5.0)))
    for ax, (key, title, cmap, (low, high)) in zip(fig.subplots(1, 3), panels):
        scale = 100.0 if key == "accuracy_change" else 1.0
        grid = np.array([[scale * cells[(lr, b)][key] for b in batches] for lr in rates], dtype=float)
        image = ax.imshow(grid, cmap=cmap, vmin=low, vmax=high, aspect="auto")
        for i, lr in enumerate(rates):
            for j, b in enumerate(batches):
                cell = cells[(lr, b)]
                reference_cell = (lr, b) == REFERENCE
                clear = not reference_cell and key != "accuracy_change" and _clearly_smoother(
                    cell, key.removesuffix("_ratio"))
                text = "ref" if reference_cell else f"{grid[i, j]:.2f}{'*' if clear else ''}"
                ax.text(j, i, text, ha="center", va="center", fontsize="small")
        ax.set_xticks(range(len(batches)), [str(b) for b in batches])
        ax.set_yticks(range(len(rates)), [f"{lr:g}" for lr in rates])
        ax.set_xlabel("batch size")
        ax.set_ylabel("learning rate")
        ax.set_title(title, fontsize="small")
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle(f"Claim 10: blobs, categorical cross-entropy; * clearly smoother (median <= {CLEAR_RATIO}x, "
                 f"Holm p < {ALPHA})", fontsize="medium")
    save(fig, path)
    return path
