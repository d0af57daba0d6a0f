"""``compare``: a study's runs turned into summaries, paired tests and plain-English verdicts.

Each pair of losses is compared on its *paired* seeds: the seeds where both losses have a finite
final result (same seed, same initial weights and batch order, so the pair differ only in the
loss). Diverged runs are counted and reported, never averaged.

Verdict rules, applied in order to the final test metric of each pair (A = first loss in the
study's order, differences are A - B):

1. ``identical on every paired seed (N/N)`` when the final train and test metric agree on every
   paired seed (to float32 precision: relative 1e-6).
2. ``equivalent within ±M`` when TOST on the differences gives ``p < alpha``.
3. ``A better by D (Holm-adjusted p = P)`` when the paired t-test p-value, Holm-adjusted across
   all pairs of the study, is below ``alpha`` on at least 5 paired seeds; "better" means higher
   accuracy or lower MSE.
4. Otherwise ``inconclusive: about N repeats would decide``, N from
   :func:`~losslab.analysis.repeats_needed` (total paired seeds, not additional ones). When the
   Holm-adjusted Wilcoxon p-value is below ``alpha`` the verdict says so and names the loss the
   median difference favours: a few outlying seeds can inflate the t-test's spread while the
   ranks still show one loss ahead on most seeds.

The equivalence margin M defaults to 1 percentage point of accuracy (0.01) for classification
and, for regression, to 10% of the pooled mean final test MSE of the two losses on their paired
seeds (a relative margin, because MSE has no natural unit). Accuracy differences are written in
percentage points, MSE differences in the problem's (scaled) MSE units. The Wilcoxon test is
reported beside the t-test as a check that does not assume normal differences; it never turns a
verdict into "better", it only annotates an inconclusive one (rule 4).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from losslab._plain import mean_or_nan, plain, sd_or_nan
from losslab.analysis._diagnostics import curve_diagnostics, summarise_diagnostics
from losslab.analysis._stats import MAX_REPEATS, bootstrap_ci, holm, paired_tests, repeats_needed, tost_paired
from losslab.errors import SettingsError
from losslab.results import Study

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
]


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

    def to_dict(self) -> dict[str, object]:
        """Everything as JSON-ready Python values (NaN becomes ``None``)."""
        return {
            "problem": self.problem,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "alpha": self.alpha,
            "summary": plain(self.summary),
            "pairs": plain(self.pairs),
            "diagnostics": plain(self.diagnostics),
            "diagnostics_summary": plain(self.diagnostics_summary),
            "verdicts": list(self.verdicts),
        }


def compare(study: Study, margin: float | None = None, alpha: float = 0.05) -> Comparison:
    """Compare every pair of losses in ``study`` on its paired seeds (rules in the module docstring).

    ``margin`` is the equivalence margin in the metric's units (0.01 = 1 point of accuracy);
    ``None`` picks the default for the problem's kind. ``alpha`` is the level of every test.
    """
    check_levels(margin, alpha)
    metric = study.metric
    higher = metric == "accuracy"
    usable = _usable_runs(study.runs)
    pairs = _pairs_table(study.losses, usable, metric, margin, alpha)
    diagnostics = _in_study_order(curve_diagnostics(study.history), study.losses)
    return Comparison(
        problem=study.problem.name,
        metric=metric,
        higher_is_better=higher,
        alpha=alpha,
        summary=_summary_table(study.losses, study.runs, usable, 1 - alpha),
        pairs=pairs,
        diagnostics=diagnostics,
        diagnostics_summary=_in_study_order(summarise_diagnostics(diagnostics), study.losses),
        verdicts=_divergence_notes(study.losses, study.runs, usable) + [_sentence(r) for r in pairs.itertuples()],
    )


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


def _usable_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs that finished: not diverged and with finite final values."""
    finite = np.isfinite(runs[list(FINALS)].to_numpy(float)).all(axis=1)
    return runs[finite & ~runs["diverged"].astype(bool).to_numpy()]


def _summary_table(losses: tuple[str, ...], runs: pd.DataFrame, usable: pd.DataFrame, confidence: float) -> pd.DataFrame:
    rows = []
    for loss in losses:
        kept = usable[usable["loss"] == loss]
        row: dict[str, object] = {"loss": loss, "n_runs": int((runs["loss"] == loss).sum()), "n": len(kept)}
        row["n_diverged"] = row["n_runs"] - row["n"]
        for column in FINALS:
            values = kept[column].to_numpy(float)
            row[f"{column}_mean"], row[f"{column}_sd"] = mean_or_nan(values), sd_or_nan(values)
            row[f"{column}_ci_low"], row[f"{column}_ci_high"] = bootstrap_ci(values, confidence)
        rows.append(row)
    return pd.DataFrame(rows)


def _pairs_table(
    losses: tuple[str, ...], usable: pd.DataFrame, metric: str, margin: float | None, alpha: float
) -> pd.DataFrame:
    by_loss = {loss: usable[usable["loss"] == loss].set_index("seed") for loss in losses}
    rows = [_pair_stats(a, b, by_loss[a], by_loss[b], metric, margin, alpha) for a, b in itertools.combinations(losses, 2)]
    table = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    table["t_pvalue_holm"] = holm(table["t_pvalue"].to_numpy(float))
    table["wilcoxon_pvalue_holm"] = holm(table["wilcoxon_pvalue"].to_numpy(float))
    table["verdict"] = [_verdict(row, metric, alpha) for row in table.itertuples()]
    return table



def _pair_stats(
    a: str, b: str, runs_a: pd.DataFrame, runs_b: pd.DataFrame, metric: str, margin: float | None, alpha: float
) -> dict[str, object]:
    seeds = runs_a.index.intersection(runs_b.index).sort_values()
    test_a = runs_a.loc[seeds, "test_metric"].to_numpy(float)
    test_b = runs_b.loc[seeds, "test_metric"].to_numpy(float)
    if margin is None:
        margin = default_margin(metric, np.concatenate([test_a, test_b]))
    tests = paired_tests(test_a, test_b)
    ci_low, ci_high = bootstrap_ci(test_a - test_b, 1 - alpha)
    enough = tests.n >= 2
    return {
        "loss_a": a, "loss_b": b, "n_pairs": tests.n, "mean_diff": tests.mean_diff,
        "median_diff": float(np.median(test_a - test_b)) if tests.n else math.nan, "sd_diff": tests.sd_diff,
        "ci_low": ci_low, "ci_high": ci_high, "d_z": tests.d_z, "t_pvalue": tests.t_pvalue,
        "wilcoxon_pvalue": tests.wilcoxon_pvalue, "margin": margin,
        "tost_pvalue": tost_paired(test_a, test_b, margin, alpha).pvalue,
        "identical": bool(seeds.size) and _identical(runs_a.loc[seeds], runs_b.loc[seeds]),
        "repeats_needed": repeats_needed(tests.mean_diff, tests.sd_diff, margin, alpha) if enough else None,
    }


def default_margin(metric: str, pooled_test_metric: np.ndarray) -> float:
    """The default equivalence margin: 0.01 accuracy, or 10% of the pooled mean test MSE."""
    if metric == "accuracy":
        return ACCURACY_MARGIN
    return RELATIVE_MSE_MARGIN * float(np.mean(pooled_test_metric)) if pooled_test_metric.size else math.nan


def _identical(runs_a: pd.DataFrame, runs_b: pd.DataFrame) -> bool:
    columns = ["train_metric", "test_metric"]
    return bool(np.allclose(runs_a[columns].to_numpy(float), runs_b[columns].to_numpy(float), rtol=IDENTICAL_RTOL, atol=0))


def _verdict(row, metric: str, alpha: float) -> str:
    if row.n_pairs == 0:
        return "not comparable: no seed has a finished run of both losses"
    if row.identical:
        return f"identical on every paired seed ({row.n_pairs}/{row.n_pairs})"
    if row.n_pairs < 2:
        return "inconclusive: at least 2 paired seeds are needed for a test"
    if row.tost_pvalue < alpha:
        return f"equivalent within ±{_amount(row.margin, metric)} (TOST {_p(row.tost_pvalue)})"
    if row.t_pvalue_holm < alpha and row.n_pairs >= MIN_PAIRS_FOR_BETTER:
        winner = _favoured(row, row.mean_diff, metric)
        return f"{winner} better by {_amount(abs(row.mean_diff), metric)} (Holm-adjusted {_p(row.t_pvalue_holm)})"
    if pd.isna(row.repeats_needed):
        verdict = f"inconclusive: more than {MAX_REPEATS:,} repeats would be needed"
    else:
        verdict = f"inconclusive: about {int(row.repeats_needed)} repeats would decide"
    if row.wilcoxon_pvalue_holm < alpha:
        verdict += (f" (the Wilcoxon test, less swayed by outlying seeds, favours {_favoured(row, row.median_diff, metric)}:"
                    f" Holm-adjusted {_p(row.wilcoxon_pvalue_holm)})")
    return verdict


def _favoured(row, diff: float, metric: str) -> str:
    """The loss a difference ``A - B`` favours: higher accuracy, or lower MSE."""
    return row.loss_a if (diff > 0) == (metric == "accuracy") else row.loss_b


def _amount(value: float, metric: str) -> str:
    """An accuracy difference in percentage points, an MSE difference in MSE units."""
    if metric != "accuracy":
        return f"{value:.3g} {metric.upper()}"
    points = 100 * value
    return f"{points:.1f} pt" if abs(points) >= 0.1 else f"{points:.2g} pt"


def _p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _divergence_notes(losses: tuple[str, ...], runs: pd.DataFrame, usable: pd.DataFrame) -> list[str]:
    notes = []
    for loss in losses:
        total, kept = int((runs["loss"] == loss).sum()), int((usable["loss"] == loss).sum())
        if kept < total:
            notes.append(f"{loss}: {total - kept} of {total} runs diverged and are left out of the statistics.")
    return notes
