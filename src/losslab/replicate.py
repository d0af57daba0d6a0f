"""Replicating the tutorial: every case study trained ``repeats`` times, judged by distributions.

One study per problem trains all of that problem's case-study losses together (paired seeds).
The tutorial's numbers are one run each, so the replication asks how its claims fare across
runs: per case study, the mean and sd, the median and interquartile range of the final metric,
the share of runs for which the claim holds, where the tutorial gives a number the percentile of
that number in the replicated distribution, and runs far worse than the rest (heavy tails) named
with their mechanism. The verdict is yes / partly / no with its reason in words:

- *yes* when the claim holds on at least 80% of the runs (and its qualifier, such as
  "slightly", holds on the medians);
- *partly* when it holds on more than 20% but fewer than 80%, or its qualifier fails;
- *no* when it holds on 20% of the runs or fewer.

For the tanh losses the tutorial's accuracy was Keras's ``round(output) == label``, so the
claims are judged on that figure, and the table shows it beside the correct sign agreement.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from losslab._plain import mean_or_nan, sd_or_nan
from losslab.analysis import compare, curve_diagnostics, summarise_diagnostics, tost_paired
from losslab.analysis._compare import ACCURACY_MARGIN
from losslab.case_studies import CASE_STUDIES, SLIGHTLY_FACTOR, CaseStudy, WorseThan, losses_by_problem
from losslab.engine import Progress, compiling_ahead
from losslab.errors import LosslabError
from losslab.planning import default_settings, plan
from losslab.problems import get_problem
from losslab.results import Study
from losslab.store import StoredStudy, is_complete, run_kept

#: Shares of runs at or above which a claim is "yes", and at or below which it is "no".
SHARE_YES, SHARE_NO = 0.8, 0.2
#: A run is in a heavy tail when its final test metric lies beyond Tukey's far fence on the
#: worse side, 3 interquartile ranges below the first quartile (accuracy) or above the third
#: (MSE), and also beyond a floor, so that a tight distribution does not make an ordinary run a
#: tail: 5 points of accuracy below the first quartile, or twice the third quartile's MSE.
FAR_FENCE, ACCURACY_FLOOR, MSE_FLOOR_FACTOR = 3.0, 0.05, 2.0
#: Accuracy runs split into two modes when the largest gap between sorted finals is at least this
#: and each side holds at least :data:`MODE_SHARE` of the runs.
MODE_GAP, MODE_SHARE = 0.10, 0.2
#: The losses of the tutorial's repeated-evaluation extension.
REPEATED = ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence")

#: Why the hinge rows carry two accuracies.
ROUNDING_NOTE = (
    "The tutorial's Keras scored a tanh output as round(output) == label, so every prediction with "
    "|output| < 0.5 counted as wrong whatever its sign; with sign agreement the hinge losses do as "
    "well as binary cross-entropy. The tutorial's 'worse' verdict is an artifact of its metric."
)


#: How the replication trains every loss, and what that changes.
KERAS_FORM_NOTE = (
    "Every case study trains its loss as the tutorial's Keras did: on the output layer's activations, with "
    "Keras's clipping of probabilities to [1e-7, 1 - 1e-7]. Elsewhere losslab trains the cross-entropies and KL "
    "divergence from logits, which is stabler: a softmax run whose true-class probabilities fall below the clip "
    "gets no gradient and stalls (blobs, seed 10: 53% test accuracy in Keras and here, 82% from logits)."
)
KL_NOTE = (
    "On one-hot targets KL divergence trained from logits has exactly categorical cross-entropy's gradient "
    "(softmax(z) - y), so the two give identical models; Keras's form clips the one-hot zeros to 1e-7, which "
    "moves every run a little."
)


@dataclass
class Replication:
    """The replicate table, the learning-curve diagnostics per case study (beside the tutorial's
    words for its curves), the repeated-evaluation verdicts, and the studies behind them (one per
    problem)."""

    table: pd.DataFrame
    diagnostics: pd.DataFrame
    studies: dict[str, Study]
    repeats: int
    repeated: list[str] = field(default_factory=list)
    stored: list[StoredStudy] = field(default_factory=list)  # with a store: where each study is kept

    def notes(self) -> list[str]:
        """Plain-language notes on rows a reader could misread."""
        notes = [KERAS_FORM_NOTE]
        if self.table["tutorial_train"].notna().any():
            notes.append(ROUNDING_NOTE)
        for row in self.table.itertuples():
            if row.diverged:
                notes.append(f"{row.case} {row.loss}: {row.diverged} of {row.runs} runs diverged ({row.outcome}).")
            if row.tails:
                notes.append(f"{row.case} {row.loss}: {row.tails}.")
        if "kl_divergence" in set(self.table["loss"]):
            notes.append(KL_NOTE)
        return notes + [f"Repeated evaluation (the tutorial's third extension): {verdict}" for verdict in self.repeated]


def replicate(
    repeats: int = 1,
    epochs: int | None = None,
    cases: tuple[CaseStudy, ...] = CASE_STUDIES,
    progress: Callable[[str, int, int], None] | None = None,
    store: str | Path | None = None,
) -> Replication:
    """Train every case study ``repeats`` times with the tutorial's settings and judge its claims.

    ``epochs`` overrides every problem's epoch count (for quick checks; claims are about the
    tutorial's epochs). ``progress(problem, done, total)`` is called as runs finish. With a
    ``store`` directory each problem's study is kept there as it trains (``replicate_<problem>-
    <hash>``), and a repeated call reuses every run already kept.
    """
    studies, stored, plans = {}, [], {}
    for name, losses in losses_by_problem(cases).items():
        problem = get_problem(name)
        plans[name] = plan(problem, losses, range(repeats), default_settings(problem).updated(epochs=epochs))
    ahead = [study_plan for name, study_plan in plans.items()
             if store is None or not is_complete(study_plan, store, f"replicate_{name}")]
    with compiling_ahead(ahead):  # the next problems' programs compile while the first trains
        for name, study_plan in plans.items():
            report: Progress | None = (lambda done, total, _what, name=name: progress(name, done, total)) if progress else None
            studies[name] = run_kept(study_plan, store, f"replicate_{name}", stored, report)
    result = judge(studies, cases)
    result.stored = stored
    return result


def judge(studies: dict[str, Study], cases: tuple[CaseStudy, ...] = CASE_STUDIES) -> Replication:
    """Judge the tutorial's claims on trained studies, one per problem (all with the same seeds);
    cases whose problem has no study are left out."""
    cases = tuple(case for case in cases if case.problem in studies)
    if not cases:
        raise LosslabError("none of these studies is a replication of the tutorial's problems")
    repeats = len(next(iter(studies.values())).seeds)
    judged = {case.key: _judged_finals(case, studies[case.problem]) for case in cases}
    table = pd.DataFrame([_case_row(case, studies[case.problem], judged) for case in cases])
    return Replication(table, _diagnostics(cases, studies), studies, repeats, _repeated_evaluation(studies))


def _diagnostics(cases: tuple[CaseStudy, ...], studies: dict[str, Study]) -> pd.DataFrame:
    """Per case study: the curve diagnostics' means over repeats and the tutorial's description."""
    summaries = {name: summarise_diagnostics(curve_diagnostics(study.history)).set_index("loss")
                 for name, study in studies.items()}
    rows = []
    for case in cases:
        summary = summaries[case.problem].loc[case.loss]
        rows.append({"case": case.key, "problem": case.problem, "loss": case.loss, "tutorial_curves": case.curves,
                     "convergence_epoch": summary["convergence_epoch_mean"], "bumpiness": summary["bumpiness_mean"],
                     "overfit_fraction": summary["overfit_fraction"], "overfitting_onset": summary["overfitting_onset_mean"]})
    return pd.DataFrame(rows)


def _judged_finals(case: CaseStudy, study: Study) -> pd.DataFrame:
    """Per finished seed, the final train and test figures the claim is judged on: the tutorial's
    rounding accuracy for tanh outputs, the metric otherwise."""
    runs = study.runs[(study.runs["loss"] == case.loss) & ~study.runs["diverged"]].set_index("seed")
    column = "rounding_accuracy" if study.plan.spec(case.loss).activation == "tanh" else "metric"
    return pd.DataFrame({"train": runs[f"train_{column}"], "test": runs[f"test_{column}"]}).dropna()


def _case_row(case: CaseStudy, study: Study, judged: dict[str, pd.DataFrame]) -> dict[str, object]:
    spec = study.plan.spec(case.loss)
    runs = study.runs[study.runs["loss"] == case.loss]
    ok = runs[~runs["diverged"]]
    test = ok["test_metric"].to_numpy(float)
    q25, median, q75 = np.percentile(test, [25, 50, 75]) if test.size else (np.nan,) * 3
    row = {
        "case": case.key, "title": case.title, "problem": case.problem, "loss": case.loss,
        "output": spec.output_layer, "units": spec.units, "activation": spec.activation, "targets": spec.encoding,
        "metric": study.metric, "runs": len(runs), "diverged": int(runs["diverged"].sum()),
        "train": mean_or_nan(ok["train_metric"]), "train_sd": sd_or_nan(ok["train_metric"]),
        "test": mean_or_nan(test), "test_sd": sd_or_nan(test),
        "train_median": float(ok["train_metric"].median()) if len(ok) else np.nan,
        "test_median": float(median), "test_q25": float(q25), "test_q75": float(q75),
        "tutorial_train": np.nan, "tutorial_test": np.nan, "reported": case.reported,
    }
    if spec.activation == "tanh":  # what the tutorial's Keras called accuracy
        row["tutorial_train"] = mean_or_nan(ok["train_rounding_accuracy"])
        row["tutorial_test"] = mean_or_nan(ok["test_rounding_accuracy"])
    row.update(_percentiles(case, judged[case.key]))
    row.update(_tails(case, test, study.metric))
    row.update(_judge(case, judged))
    row["outcome"] = _outcome(row["diverged"], row["runs"])
    return row


def _percentiles(case: CaseStudy, finals: pd.DataFrame) -> dict[str, float]:
    """Where the tutorial's reported numbers fall in the replicated distribution (0-100)."""
    if case.numbers is None or finals.empty:
        return {"reported_train_percentile": np.nan, "reported_test_percentile": np.nan}
    return {f"reported_{split}_percentile": float(stats.percentileofscore(finals[split], number, kind="mean"))
            for split, number in zip(("train", "test"), case.numbers)}


def _tails(case: CaseStudy, test: np.ndarray, metric: str) -> dict[str, object]:
    """Runs far worse than the rest (beyond Tukey's far fence), or two modes, named in words."""
    if test.size < 4:
        return {"tail_runs": 0, "tails": ""}
    q25, q75 = np.percentile(test, [25, 75])
    tail = tail_mask(test, metric)
    mechanism = f": {case.tails}" if case.tails else ""
    if tail.any():
        values = ", ".join(f"{v:.3g}" for v in np.sort(test[tail]))
        typical = f"{q25:.3g}-{q75:.3g}"
        return {"tail_runs": int(tail.sum()),
                "tails": f"heavy-tailed, {int(tail.sum())} of {test.size} runs far worse than the rest "
                         f"({metric} {values}; the middle half {typical}){mechanism}"}
    modes = _two_modes(test) if metric == "accuracy" else None
    if modes:
        (n_low, low), (n_high, high) = modes
        return {"tail_runs": n_low,
                "tails": f"two modes, {n_low} of {test.size} runs end near {low:.2f} and {n_high} near {high:.2f}{mechanism}"}
    return {"tail_runs": 0, "tails": ""}


def tail_mask(values: np.ndarray, metric: str) -> np.ndarray:
    """Which of ``values`` (final test metrics of one loss) lie in a heavy tail on the worse side."""
    q25, q75 = np.percentile(values, [25, 75])
    spread = FAR_FENCE * (q75 - q25)
    if metric == "accuracy":
        return values < q25 - max(spread, ACCURACY_FLOOR)
    return values > max(q75 + spread, MSE_FLOOR_FACTOR * q75)


def _two_modes(values: np.ndarray) -> tuple[tuple[int, float], tuple[int, float]] | None:
    """The groups either side of the largest gap between sorted values that leaves at least
    :data:`MODE_SHARE` of the runs on each side, if that gap is at least :data:`MODE_GAP`."""
    ordered = np.sort(values)
    least = max(1, int(np.ceil(MODE_SHARE * values.size)))
    if values.size < 2 * least:
        return None
    gaps = np.diff(ordered)[least - 1: values.size - least]  # cut after index least-1 .. size-least-1
    cut = int(np.argmax(gaps)) + least
    if gaps.max() < MODE_GAP:
        return None
    low, high = ordered[:cut], ordered[cut:]
    return (low.size, float(np.median(low))), (high.size, float(np.median(high)))


def _judge(case: CaseStudy, judged: dict[str, pd.DataFrame]) -> dict[str, object]:
    """The share of runs (paired by seed) for which the claim holds, and the verdict with its reason."""
    finals = judged[case.key]
    if case.claim is None or finals.empty:
        reason = "an extension the tutorial proposes without a result" if case.claim is None else "no finished run"
        return {"claim": "", "claim_runs": 0, "claim_of": 0, "claim_share": np.nan, "agrees": "-", "reason": reason}
    other_key = getattr(case.claim, "case", None)
    other = judged[other_key] if other_key else None
    seeds = finals.index if other is None else finals.index.intersection(other.index)
    holds = [case.claim.holds(finals.at[s, "train"], finals.at[s, "test"],
                              lambda _key, s=s: (other.at[s, "train"], other.at[s, "test"])) for s in seeds]
    k, n = int(sum(holds)), len(holds)
    share = k / n if n else np.nan
    reason = f"{case.claim.describe()}: {k}/{n} runs"
    qualifier_ok = True
    if isinstance(case.claim, WorseThan) and case.claim.slightly and n:
        ratio = float(finals.loc[seeds, "test"].median() / other.loc[seeds, "test"].median())
        qualifier_ok = ratio <= SLIGHTLY_FACTOR
        reason += f"; slightly: {'yes' if qualifier_ok else 'no'}, the median is {ratio:.3g}x {other_key}'s"
    if share >= SHARE_YES and qualifier_ok:
        agrees = "yes"
    elif share <= SHARE_NO:
        agrees = "no"
    else:
        agrees = "partly"
    return {"claim": case.claim.describe(), "claim_runs": k, "claim_of": n, "claim_share": share,
            "agrees": agrees, "reason": reason}


def _outcome(diverged: int, runs: int) -> str:
    if diverged == runs:
        return "diverged in every run"
    if diverged:
        return f"{diverged} of {runs} runs diverged"
    return "completed"


def _repeated_evaluation(studies: dict[str, Study]) -> list[str]:
    """The tutorial's third extension: are categorical, sparse categorical cross-entropy and KL
    divergence functionally equivalent over repeats? ``compare``'s verdicts on the paired seeds,
    and for a pair that is not equivalent because of a few stalled runs, TOST without them."""
    study = studies.get("blobs")
    if study is None or not set(REPEATED) <= set(study.losses) or len(study.seeds) < 2:
        return []
    comparison = compare(study)
    verdicts = []
    for a, b in itertools.combinations(REPEATED, 2):
        row = comparison.pairs[(comparison.pairs["loss_a"] == a) & (comparison.pairs["loss_b"] == b)].iloc[0]
        verdict = f"{a} vs {b}: {row['verdict']}"
        if not row["verdict"].startswith(("identical", "equivalent")):
            verdict += _without_tails(study, a, b)
        verdicts.append(verdict + ".")
    return verdicts


def _without_tails(study: Study, a: str, b: str) -> str:
    """TOST on the seeds where neither loss's run is in a heavy tail, said in words ('' if none is)."""
    finals = {loss: study.final(loss).dropna() for loss in (a, b)}
    seeds = finals[a].index.intersection(finals[b].index)
    stalled = np.zeros(len(seeds), dtype=bool)
    for loss in (a, b):
        stalled |= tail_mask(finals[loss].loc[seeds].to_numpy(float), study.metric)
    kept = seeds[~stalled]
    if len(kept) == len(seeds) or len(kept) < 2:
        return ""
    tost = tost_paired(finals[a].loc[kept], finals[b].loc[kept], ACCURACY_MARGIN)
    outcome = "equivalent" if tost.pvalue < 0.05 else "not shown equivalent"
    dropped = len(seeds) - len(kept)
    return (f"; without the {dropped} seed{'s' if dropped > 1 else ''} where a run stalled, {outcome} within "
            f"±{100 * ACCURACY_MARGIN:.0f} pt on {len(kept)} seeds (TOST p = {tost.pvalue:.3g})")


__all__ = ["KERAS_FORM_NOTE", "KL_NOTE", "ROUNDING_NOTE", "Replication", "judge", "replicate", "tail_mask"]
