"""``compare``: a study's runs turned into summaries, paired tests and plain-English verdicts.

Each pair of losses is compared on its *paired* seeds: the seeds where both losses have a finished
result (same seed, same initial weights, batch order and split, so the pair differ only in the
loss). Diverged and collapsed runs (:mod:`losslab.results`) are counted and reported, never
averaged.

The test follows the split design. On one fixed split (the tutorial's design) the seeds vary the
initial weights and the batch order only: the paired t-test, whose verdicts hold for that split
and say nothing about another. When every seed draws its own split (``resample``, ``cv:K``) the
splits overlap, so the plain t-test would be overconfident; the Nadeau-Bengio corrected
resampled t-test (``se = sd sqrt(1/J + n_test/n_train)``) accounts for the split's variance, and
TOST uses the same corrected ``se``.

Verdict rules, applied in order to the verdict metric on the test rows of each pair (A = first
loss in the study's order, differences are A - B):

1. ``identical on every paired seed (N/N)`` when the final train and test metric agree on every
   paired seed (to float32 precision: relative 1e-6).
2. ``equivalent within ±M`` when TOST on the differences gives ``p < alpha`` and M is at least
   one test row of accuracy; a finer margin cannot be resolved by the test rows (on 8 of them
   two losses that score alike on every split differ by less than 12.5 pt, not by less than
   M), so the pair is then ``inconclusive``, with that reason.
3. ``A better by D (Holm-adjusted p = P)`` (``on this one split`` after D for a fixed split of
   data other than the tutorial's) when the test's p-value, Holm-adjusted across all
   pairs of the study, is below ``alpha`` on at least 5 paired seeds and the difference is more
   than the test set's resolution (one test row of accuracy); "better" means a better score.
4. Otherwise ``inconclusive``, with the reason: a difference within one test row, too few
   splits, or the number of seeds (splits) that :func:`~losslab.analysis.splits_needed` says
   would decide, or that more splits would hardly help (the corrected test's error of the mean
   stops shrinking as splits reuse the same rows) and more data would; that last is said only
   from at least 5 splits, since the power analysis plugs in their mean and spread (from 2 splits
   it said so of a pair that 10 splits decided). On a fixed split, when the
   Holm-adjusted Wilcoxon p-value is below ``alpha`` the verdict says so and names the loss the
   median difference favours.

The equivalence margin M defaults to 1 percentage point for scores in [0, 1] (accuracy, F1, AUC)
and otherwise to 10% of the pooled mean score of the two losses (MSE has no natural unit).

Beside the verdicts: the baselines' scores on the same splits (a loss that does worse than the
mean or majority baseline is flagged, and a note says when the best learned baseline beats every
loss by more than the noise), each loss's interquartile mean with a bootstrap interval, and for
each pair the probability that a run of A beats a run of B (as rliable reports them). Where each
seed draws its own split, the intervals say what the verdicts' test says: a pair's interval of
the difference is the corrected t-test's (mean ± t quantile x its se), and each bootstrap interval
of the summary is widened by the same correction, ``sqrt(1 + J n_test/n_train)`` for J splits (a
plain bootstrap ignores that the splits share rows, and showed intervals that excluded zero
beside an inconclusive verdict). A note says
when a loss that needs the target's signs and zeros left the regression target uncentred for
every loss of the study.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from losslab._plain import mean_or_nan, plain, sd_or_nan
from losslab.analysis._diagnostics import curve_diagnostics, summarise_diagnostics
from losslab.analysis._stats import (
    MAX_REPEATS,
    bootstrap_ci,
    corrected_ci,
    corrected_resampled_ttest,
    corrected_tost,
    holm,
    interquartile_mean,
    iqm_ci,
    paired_tests,
    probability_of_improvement,
    splits_needed,
)
from losslab.errors import SettingsError
from losslab.results import Study
from losslab.scores import HIGHER_IS_BETTER, SCORES

FINALS = ("train_metric", "test_metric", "train_loss", "test_loss")
ACCURACY_MARGIN = 0.01
RELATIVE_MSE_MARGIN = 0.10
IDENTICAL_RTOL = 1e-6
#: Fewest paired seeds on which a "better" verdict is given: accuracy moves in steps of 1/n_test,
#: so two or three seeds can share one difference exactly and make the t-test's p-value 0.
MIN_PAIRS_FOR_BETTER = 5
PAIR_COLUMNS = [
    "loss_a", "loss_b", "n_pairs", "mean_diff", "median_diff", "sd_diff", "ci_low", "ci_high", "d_z",
    "t_pvalue", "wilcoxon_pvalue", "margin", "tost_pvalue", "identical", "repeats_needed",
    "prob_a_better", "prob_a_better_low", "prob_a_better_high",
]
#: Scores bounded in [0, 1], whose default margin is one point (0.01) rather than a relative one.
UNIT_SCORES = ("accuracy", "roc_auc", "f1", "macro_f1")
#: The baselines a loss must beat: doing worse than these means learning less than nothing.
CONSTANT_BASELINES = ("mean", "majority")


@dataclass
class Comparison:
    """What :func:`compare` found: tables per loss, per pair and per run, and the verdicts."""

    problem: str
    metric: str
    higher_is_better: bool
    alpha: float
    summary: pd.DataFrame
    pairs: pd.DataFrame
    diagnostics: pd.DataFrame
    diagnostics_summary: pd.DataFrame
    verdicts: list[str] = field(default_factory=list)
    test: str = "paired t-test"
    split: str = "fixed"
    n_test: int = 0
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    below_baseline: list[str] = field(default_factory=list)
    baseline_ahead: str = ""  # a learned baseline that scores better than every loss, by more than the noise

    def to_dict(self) -> dict[str, object]:
        """Everything as JSON-ready Python values (NaN becomes ``None``)."""
        return {
            "problem": self.problem,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "alpha": self.alpha,
            "test": self.test,
            "split": self.split,
            "n_test": self.n_test,
            "summary": plain(self.summary),
            "pairs": plain(self.pairs),
            "baselines": plain(self.baselines),
            "diagnostics": plain(self.diagnostics),
            "diagnostics_summary": plain(self.diagnostics_summary),
            "flags": list(self.flags),
            "below_baseline": list(self.below_baseline),
            "baseline_ahead": self.baseline_ahead,
            "notes": list(self.notes),
            "verdicts": list(self.verdicts),
        }


def compare(study: Study, margin: float | None = None, alpha: float = 0.05, metric: str | None = None,
            split: str = "test") -> Comparison:
    """Compare every pair of losses in ``study`` on its paired seeds (rules in the module docstring).

    ``split`` is the split the verdicts read: ``"test"`` to report, ``"validation"`` to choose
    (as :func:`~losslab.analysis.verify` does, so that nothing is selected on the test rows).
    ``metric`` is the score the verdicts use: the tutorial's (``accuracy`` or ``mse``) by default,
    or one of :data:`losslab.scores.SCORES` for the problem's kind (``f1``, ``roc_auc``, ``mae``,
    ...). ``margin`` is the equivalence margin in the metric's units (0.01 = 1 point of
    accuracy); ``None`` picks the default. ``alpha`` is the level of every test.
    """
    check_levels(margin, alpha)
    metric, column = verdict_metric(study, metric, split)
    design = study.plan.split
    ratio = study.plan.test_train_ratio(split)
    n_test = getattr(study.plan.sizes, split)
    usable = _usable_runs(study.runs, column)
    context = _Context(metric, column, alpha, ratio, _resolution(metric, n_test), design.varies, split,
                       one_split=not design.varies and not study.problem.tutorial)
    pairs = _pairs_table(study.losses, usable, context, margin)
    diagnostics = _in_study_order(curve_diagnostics(study.history, study.plan.selection_split, study.runs),
                                  study.losses)
    baselines = _baseline_table(study, metric, split)
    summary = _summary_table(study.losses, study.runs, usable, column, 1 - alpha, ratio if design.varies else 0.0,
                             split, metric, study.metric)
    below = _below_baseline(summary, baselines, context)
    return Comparison(
        problem=study.problem.name,
        metric=metric,
        higher_is_better=context.higher,
        alpha=alpha,
        summary=summary,
        pairs=pairs,
        diagnostics=diagnostics,
        diagnostics_summary=_in_study_order(summarise_diagnostics(diagnostics), study.losses),
        verdicts=[_sentence(r) for r in pairs.itertuples()],
        test=_test_name(design.varies, ratio),
        split=design.label(),
        n_test=n_test,
        baselines=baselines,
        flags=_run_flags(study.losses, study.runs, usable) + [flag for _, flag in below],
        below_baseline=[loss for loss, _ in below],
        notes=_notes(study, context, n_test, baselines, summary),
        baseline_ahead=(_baseline_ahead(_learned(baselines), summary, context) or ("",))[0],
    )


@dataclass(frozen=True)
class _Context:
    """What every pair of a comparison is judged with."""

    metric: str
    column: str
    alpha: float
    ratio: float  # n_test / n_train of the corrected test; 0 on a fixed split
    resolution: float | None  # one test row of the metric, where a row has a fixed worth
    resampled: bool
    split: str = "test"
    one_split: bool = False  # one fixed split of the user's data: a "better" holds for that split only

    @property
    def higher(self) -> bool:
        return HIGHER_IS_BETTER[self.metric]


def verdict_metric(study: Study, metric: str | None, split: str = "test") -> tuple[str, str]:
    """The verdict metric's name and its column of ``study.runs`` (``<split>_metric`` for the
    tutorial's metric, ``<split>_<score>`` for another)."""
    check_metric(study.problem.kind, study.metric, metric)
    if split not in study.plan.splits[1:]:
        raise SettingsError(f"the study has no {split} split to judge on; its splits are {', '.join(study.plan.splits)}")
    if metric is None or metric == study.metric:
        return study.metric, f"{split}_metric"
    return metric, f"{split}_{metric}"


def check_metric(kind: str, default: str, metric: str | None) -> None:
    """Refuse a verdict metric that does not apply to a problem of ``kind``, listing the choices."""
    choices = SCORES[kind]
    if metric is not None and metric != default and metric not in choices:
        raise SettingsError(f"--metric {metric!r} does not apply to a {kind} problem; "
                            f"choose one of {', '.join(choices)}")


def _test_name(resampled: bool, ratio: float) -> str:
    if not resampled:
        return "paired t-test (one fixed split: seeds vary the initial weights and batch order only)"
    return f"Nadeau-Bengio corrected resampled t-test (n_test/n_train = {ratio:.2f})"


def _resolution(metric: str, n_test: int) -> float | None:
    """What one test row is worth in ``metric``: ``1/n_test`` of accuracy; None for scores where
    a row has no fixed worth."""
    return 1 / n_test if metric == "accuracy" and n_test else None


def _sentence(row) -> str:
    seeds = "seed" if row.n_pairs == 1 else "seeds"
    return f"{row.loss_a} vs {row.loss_b} ({row.n_pairs} paired {seeds}): {row.verdict}."


def _in_study_order(frame: pd.DataFrame, losses: tuple[str, ...]) -> pd.DataFrame:
    """Rows in the order the study lists its losses (tables and plots then agree)."""
    rank = {loss: i for i, loss in enumerate(losses)}
    return frame.sort_values("loss", key=lambda column: column.map(rank), kind="stable").reset_index(drop=True)


def check_levels(margin: float | None, alpha: float) -> None:
    """Refuse an ``alpha`` outside (0, 1) or a margin that is not a positive number."""
    if not 0 < alpha < 1:
        raise SettingsError(f"alpha must be between 0 and 1, got {alpha}; try 0.05")
    if margin is not None and not (math.isfinite(margin) and margin > 0):
        raise SettingsError(
            f"margin must be a positive number in the metric's units, got {margin}; "
            "try 0.01 (one point of accuracy) or leave it out for the default"
        )


def _usable_runs(runs: pd.DataFrame, column: str) -> pd.DataFrame:
    """Runs that finished and learned: not diverged, not collapsed, with finite final values."""
    finite = np.isfinite(runs[[*FINALS, column]].to_numpy(float)).all(axis=1)
    return runs[finite & ~runs["diverged"].astype(bool).to_numpy() & ~runs["collapsed"].astype(bool).to_numpy()]


def _summary_table(losses: tuple[str, ...], runs: pd.DataFrame, usable: pd.DataFrame, column: str,
                   confidence: float, ratio: float, split: str, metric: str, study_metric: str) -> pd.DataFrame:
    """Per loss: runs, and the mean, sd and interval of each final value. Where splits are
    resampled (``ratio`` > 0, the compared ``split``'s share), the intervals of that split's
    values are widened by the corrected test's factor, within the values' possible range."""
    rows = []
    widened = {f"{split}_metric": study_metric, f"{split}_loss": "loss"}  # the compared split's: its ratio applies
    for loss in losses:
        kept = usable[usable["loss"] == loss]
        mine = runs[runs["loss"] == loss]
        row: dict[str, object] = {"loss": loss, "n_runs": len(mine), "n": len(kept),
                                  "n_diverged": int(mine["diverged"].sum()),
                                  "n_collapsed": int((mine["collapsed"] & ~mine["diverged"]).sum())}
        for name in FINALS:
            values = kept[name].to_numpy(float)
            row[f"{name}_mean"], row[f"{name}_sd"] = mean_or_nan(values), sd_or_nan(values)
            interval = bootstrap_ci(values, confidence)
            if name in widened:
                interval = _widened(interval, row[f"{name}_mean"], values, ratio, widened[name])
            row[f"{name}_ci_low"], row[f"{name}_ci_high"] = interval
        score = kept[column].to_numpy(float)
        row["score_mean"], row["score_sd"] = mean_or_nan(score), sd_or_nan(score)
        row["score_iqm"] = interquartile_mean(score)
        row["score_iqm_low"], row["score_iqm_high"] = _widened(iqm_ci(score, confidence), row["score_iqm"], score,
                                                               ratio, metric)
        rows.append(row)
    return pd.DataFrame(rows)


def _widened(interval: tuple[float, float], centre: float, values: np.ndarray, ratio: float,
             metric: str) -> tuple[float, float]:
    """``interval`` around ``centre`` stretched by ``sqrt(1 + n ratio)`` for ``n`` ``values``: the
    corrected resampled t-test's inflation of the standard error for splits that share rows (1
    when ``ratio`` is 0, a fixed split), kept within what ``metric`` can be: [0, 1] for a score
    such as accuracy, at most 1 for R², at least 0 for an error or a loss whose values are all
    non-negative."""
    factor = math.sqrt(1.0 + len(values) * ratio)
    low, high = centre + factor * (interval[0] - centre), centre + factor * (interval[1] - centre)
    floor = -math.inf if metric == "r2" or (metric == "loss" and np.any(values < 0)) else 0.0
    ceiling = 1.0 if metric in UNIT_SCORES or metric == "r2" else math.inf
    return min(max(low, floor), ceiling), min(max(high, floor), ceiling)


def _pairs_table(losses: tuple[str, ...], usable: pd.DataFrame, context: _Context, margin: float | None) -> pd.DataFrame:
    by_loss = {loss: usable[usable["loss"] == loss].set_index("seed") for loss in losses}
    rows = [_pair_stats(a, b, by_loss[a], by_loss[b], context, margin) for a, b in itertools.combinations(losses, 2)]
    table = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    table["t_pvalue_holm"] = holm(table["t_pvalue"].to_numpy(float))
    table["wilcoxon_pvalue_holm"] = holm(table["wilcoxon_pvalue"].to_numpy(float))
    table["verdict"] = [_verdict(row, context) for row in table.itertuples()]
    table["better"] = [next((loss for loss in (row.loss_a, row.loss_b) if row.verdict.startswith(f"{loss} better")), "")
                       for row in table.itertuples()]
    return table


def _pair_stats(a: str, b: str, runs_a: pd.DataFrame, runs_b: pd.DataFrame, context: _Context,
                margin: float | None) -> dict[str, object]:
    seeds = runs_a.index.intersection(runs_b.index).sort_values()
    test_a = runs_a.loc[seeds, context.column].to_numpy(float)
    test_b = runs_b.loc[seeds, context.column].to_numpy(float)
    if margin is None:
        margin = default_margin(context.metric, np.concatenate([test_a, test_b]))
    plain_tests = paired_tests(test_a, test_b)
    tests = corrected_resampled_ttest(test_a, test_b, context.ratio)
    ci_low, ci_high = (corrected_ci(tests, 1 - context.alpha) if context.resampled
                       else bootstrap_ci(test_a - test_b, 1 - context.alpha))
    sign = 1.0 if context.higher else -1.0  # "A beats B" is a higher score or a lower error
    better, better_low, better_high = probability_of_improvement(sign * test_a, sign * test_b, 1 - context.alpha)
    enough = tests.n >= 2
    return {
        "loss_a": a, "loss_b": b, "n_pairs": tests.n, "mean_diff": tests.mean_diff,
        "median_diff": float(np.median(test_a - test_b)) if tests.n else math.nan, "sd_diff": tests.sd_diff,
        "ci_low": ci_low, "ci_high": ci_high, "d_z": plain_tests.d_z, "t_pvalue": tests.pvalue,
        "wilcoxon_pvalue": plain_tests.wilcoxon_pvalue if not context.resampled else math.nan, "margin": margin,
        "tost_pvalue": corrected_tost(test_a, test_b, margin, context.ratio, context.alpha).pvalue,
        "identical": bool(seeds.size) and _identical(runs_a.loc[seeds], runs_b.loc[seeds]),
        "repeats_needed": (splits_needed(tests.mean_diff, tests.sd_diff, margin, context.ratio, context.alpha)
                           if enough else None),
        "prob_a_better": better, "prob_a_better_low": better_low, "prob_a_better_high": better_high,
    }


def default_margin(metric: str, pooled_test_metric: np.ndarray) -> float:
    """The default equivalence margin: one point (0.01) of a score in [0, 1] such as accuracy,
    or 10% of the pooled mean test score (MSE, MAE, log-loss, ...)."""
    if metric in UNIT_SCORES:
        return ACCURACY_MARGIN
    return RELATIVE_MSE_MARGIN * float(np.mean(pooled_test_metric)) if pooled_test_metric.size else math.nan


def _identical(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> bool:
    columns = ["train_metric", "test_metric"]
    return bool(np.allclose(runs_a[columns].to_numpy(float), runs_b[columns].to_numpy(float), rtol=IDENTICAL_RTOL, atol=0))


def _verdict(row, context: _Context) -> str:
    metric = context.metric
    if row.n_pairs == 0:
        return "not comparable: no seed has a finished, uncollapsed run of both losses"
    if row.identical:
        return f"identical on every paired seed ({row.n_pairs}/{row.n_pairs})"
    if row.n_pairs < 2:
        return "inconclusive: at least 2 paired seeds are needed for a test"
    if row.tost_pvalue < context.alpha:
        if context.resolution is not None and row.margin < context.resolution:
            return (f"inconclusive: the {context.split} rows cannot show equivalence within ±{_amount(row.margin, metric)} "
                    f"(one {context.split} row is {_amount(context.resolution, metric)}); a larger {context.split} "
                    "set would decide")
        return f"equivalent within ±{_amount(row.margin, metric)} (TOST {_p(row.tost_pvalue)})"
    significant = row.t_pvalue_holm < context.alpha
    if significant and row.n_pairs >= MIN_PAIRS_FOR_BETTER:
        if context.resolution is not None and abs(row.mean_diff) <= context.resolution:
            return (f"inconclusive: the difference ({_amount(abs(row.mean_diff), metric)}) is within one "
                    f"{context.split} row ({_amount(context.resolution, metric)}); a larger {context.split} set would decide")
        winner = _favoured(row, row.mean_diff, context.higher)
        where = " on this one split" if context.one_split else ""
        return f"{winner} better by {_amount(abs(row.mean_diff), metric)}{where} (Holm-adjusted {_p(row.t_pvalue_holm)})"
    return _inconclusive(row, context, significant)


def _inconclusive(row, context: _Context, significant: bool) -> str:
    """Why the pair is undecided, and what would decide it."""
    units = "splits" if context.resampled else "repeats"
    if significant:  # significant, but on too few seeds to trust
        return (f"inconclusive: {row.n_pairs} paired seeds are too few for a verdict "
                f"(at least {MIN_PAIRS_FOR_BETTER} are needed)")
    if pd.isna(row.repeats_needed):
        if context.resampled and row.n_pairs < MIN_PAIRS_FOR_BETTER:
            verdict = (f"inconclusive: {row.n_pairs} paired splits are too few to tell whether more splits would "
                       f"decide (at least {MIN_PAIRS_FOR_BETTER} paired splits are needed)")
        elif context.resampled:
            verdict = ("inconclusive: more splits would hardly help (they reuse the same rows, so the corrected "
                       "test's error stops shrinking); more data would")
        else:
            verdict = f"inconclusive: more than {MAX_REPEATS:,} repeats would be needed"
    else:
        verdict = f"inconclusive: about {int(row.repeats_needed)} {units} would decide"
    if not context.resampled and row.wilcoxon_pvalue_holm < context.alpha:
        verdict += (f" (the Wilcoxon test, less swayed by outlying seeds, favours "
                    f"{_favoured(row, row.median_diff, context.higher)}: Holm-adjusted {_p(row.wilcoxon_pvalue_holm)})")
    return verdict


def _favoured(row, diff: float, higher: bool) -> str:
    """The loss a difference ``A - B`` favours: higher accuracy, or lower error."""
    return row.loss_a if (diff > 0) == higher else row.loss_b


def _amount(value: float, metric: str) -> str:
    """A difference of a [0, 1] score in percentage points, of another in its own units."""
    if metric not in UNIT_SCORES:
        return f"{value:.3g} {metric.upper().replace('_', ' ')}"
    points = 100 * value
    return f"{points:.1f} pt" if abs(points) >= 0.1 else f"{points:.2g} pt"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _run_flags(losses: tuple[str, ...], runs: pd.DataFrame, usable: pd.DataFrame) -> list[str]:
    """One line per loss with runs left out: how many diverged, how many collapsed and why."""
    flags = []
    for loss in losses:
        mine = runs[runs["loss"] == loss]
        total, kept = len(mine), int((usable["loss"] == loss).sum())
        diverged = int(mine["diverged"].sum())
        collapsed = mine[mine["collapsed"] & ~mine["diverged"]]
        parts = [f"{diverged} diverged"] if diverged else []
        if len(collapsed):
            parts.append(f"{len(collapsed)} collapsed ({collapsed['collapse_reason'].iloc[0]})")
        if kept < total and parts:
            flags.append(f"{loss}: {' and '.join(parts)} of {total} runs; left out of the statistics.")
    return flags


def _baseline_table(study: Study, metric: str, split: str) -> pd.DataFrame:
    """Per baseline: mean, sd and count of ``metric`` on the ``split`` rows of the study's seeds,
    in the units of the verdicts (the tutorial's MSE is in the scaled target's units)."""
    frame = study.baselines
    if frame.empty or metric not in frame.columns:
        return pd.DataFrame(columns=["baseline", "n", "mean", "sd"])
    test = frame[frame["split"] == split]
    values = test[metric].astype(float) / _baseline_units(study, metric)
    grouped = values.groupby(test["baseline"], sort=False)
    return pd.DataFrame({"baseline": list(grouped.groups), "n": grouped.count().to_numpy(),
                         "mean": grouped.mean().to_numpy(), "sd": grouped.std().to_numpy()})


def _baseline_units(study: Study, metric: str) -> float:
    """The factor from a baseline's score (target units) to the verdict metric's units: the
    tutorial's MSE of a scaled target is in units of its deviation squared."""
    scale = study.problem.target_scale
    return scale**2 if metric == study.metric == "mse" and scale is not None else 1.0


def _below_baseline(summary: pd.DataFrame, baselines: pd.DataFrame, context: _Context) -> list[tuple[str, str]]:
    """Each loss whose mean score is worse than the mean/majority baseline's, with the line that says so."""
    constant = baselines[baselines["baseline"].isin(CONSTANT_BASELINES)]
    if constant.empty:
        return []
    name, value = constant["baseline"].iloc[0], float(constant["mean"].iloc[0])
    what = "predicting the training mean" if name == "mean" else "predicting the majority class"
    flags = []
    for row in summary.itertuples():
        worse = row.score_mean < value if context.higher else row.score_mean > value
        if row.n and worse:
            flags.append((row.loss, f"{row.loss} does worse than {what}: mean {context.split} {context.metric} "
                                    f"{_score(row.score_mean, context.metric)} vs {_score(value, context.metric)}; "
                                    "do not use it on this data as trained."))
    return flags


def _score(value: float, metric: str) -> str:
    return f"{100 * value:.1f}%" if metric in UNIT_SCORES else f"{value:.3g}"


def _notes(study: Study, context: _Context, n_test: int, baselines: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """What a reader needs to weigh the verdicts: the test used, the test set's resolution, how
    the target was trained on, a simple model that does better, and the variance by source where
    the design allows."""
    notes = [f"Test: {_test_name(context.resampled, context.ratio)}, split {study.plan.split.label()}, "
             f"{n_test} {context.split} rows per seed."]
    if context.resolution is not None:
        notes.append(f"One {context.split} row is {_amount(context.resolution, context.metric)} of {context.metric}: "
                     "a difference smaller than that is never called a win.")
    notes += _uncentred_target(study)
    notes += _sampled_baselines(study)
    if "poisson_glm" in set(baselines["baseline"]):
        notes.append("The poisson_glm baseline is a Poisson GLM with a log link (scikit-learn's PoissonRegressor): "
                     "it is fitted because the target reads as counts (whole numbers, none negative).")
    learned = _learned(baselines)
    notes += _simple_model_wins(learned, summary, context)
    if not context.resampled:
        if not study.problem.tutorial:
            notes.append("One fixed split: the verdicts hold for it and may not for another; "
                         "--split resample draws a split per seed.")
        return notes
    if len(learned) and learned["n"].iloc[0] > 1 and math.isfinite(float(learned["sd"].iloc[0])):
        name, sd = learned["baseline"].iloc[0], float(learned["sd"].iloc[0])
        spread = float(summary["score_sd"].dropna().mean()) if summary["score_sd"].notna().any() else math.nan
        runs = (f"; the losses' runs (split, initial weights and batch order together) by sd "
                f"{_score(spread, context.metric)}" if math.isfinite(spread) else "")
        notes.append(f"Variance by source: the split alone moves the {name} baseline's {context.split} "
                     f"{context.metric} by sd {_score(sd, context.metric)}{runs}.")
    return notes


def _sampled_baselines(study: Study) -> list[str]:
    """A note when the baselines were fitted on a sample of each split's training rows."""
    frame = study.baselines
    if frame.empty or "fit_rows" not in frame.columns:
        return []
    fitted, n_train = int(frame["fit_rows"].max()), study.plan.sizes.train
    if fitted >= n_train:
        return []
    return [f"The baselines were fitted on a random sample of {fitted:,} of the {n_train:,} training rows of each "
            "split (a large table), and scored on every row."]


def _uncentred_target(study: Study) -> list[str]:
    """A note when a loss that needs the target's signs and zeros (MSLE, Poisson, MAPE) left the
    regression target uncentred for every loss of the study (:attr:`StudyPlan.centred`)."""
    plan = study.plan
    if study.problem.kind != "regression" or plan.centred is not False or study.problem.target_mean is None:
        return []
    keepers = [spec.name for spec in plan.specs if spec.keeps_target_sign]
    if not keepers:
        return []
    names = _joined(keepers)
    needs, without = ("needs", f"without {names}") if len(keepers) == 1 else ("need", "with none of them")
    return [f"The target was not centred (only divided by its sd) because {names} {needs} its signs and zeros, so "
            f"every loss here trained on it; a study {without} trains the others on the centred target."]


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _learned(baselines: pd.DataFrame) -> pd.DataFrame:
    """The baselines that learn from the features (not the mean or majority)."""
    return baselines[~baselines["baseline"].isin(CONSTANT_BASELINES)]


def _baseline_ahead(learned: pd.DataFrame, summary: pd.DataFrame, context: _Context) -> tuple[str, float, str, float] | None:
    """The best learned baseline (linear, logistic, Poisson GLM) when it scores better than every
    loss's network by more than the noise: more than one row of the split (accuracy) and more than
    the best loss's standard error of the mean (``sd / sqrt(n)``). ``(baseline, its mean, best
    loss, its mean)``, else None."""
    scored = summary[(summary["n"] > 0) & summary["score_mean"].notna()]
    learned = learned[learned["mean"].notna()]
    if learned.empty or scored.empty:
        return None
    sign = 1.0 if context.higher else -1.0
    baseline = learned.loc[(sign * learned["mean"].astype(float)).idxmax()]
    best = scored.loc[(sign * scored["score_mean"].astype(float)).idxmax()]
    value, best_mean = float(baseline["mean"]), float(best["score_mean"])
    se = float(best["score_sd"]) / math.sqrt(int(best["n"])) if pd.notna(best["score_sd"]) else 0.0
    noise = max(se, context.resolution or 0.0)
    if sign * (value - best_mean) <= noise:
        return None
    return str(baseline["baseline"]), value, str(best["loss"]), best_mean


def _simple_model_wins(learned: pd.DataFrame, summary: pd.DataFrame, context: _Context) -> list[str]:
    """A note when a learned baseline scores better than every loss (:func:`_baseline_ahead`)."""
    ahead = _baseline_ahead(learned, summary, context)
    if ahead is None:
        return []
    name, value, best_loss, best_mean = ahead
    why = (f"more than one {context.split} row and more than its standard error" if context.resolution is not None
           else "more than its standard error")
    return [f"The {name} baseline scores better than every loss here (mean {context.split} "
            f"{context.metric} {_score(value, context.metric)} vs {_score(best_mean, context.metric)} for the best "
            f"loss, {best_loss}: {why}): the network may be the wrong model for this data, or its settings "
            "(--epochs, --lr, --hidden) need tuning."]
