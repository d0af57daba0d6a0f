"""``verify``: the recommended loss trained against its alternatives, and compared."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from losslab._plain import slug
from losslab.analysis._compare import Comparison, compare
from losslab.engine import Progress
from losslab.planning import plan, usable_losses
from losslab.problems import Problem
from losslab.registry import Recommendation, recommend
from losslab.results import Study
from losslab.store import run_kept
from losslab.settings import Settings


@dataclass
class Verification:
    """The advice for a problem, the candidates its targets could not take (and why), the
    comparison of the rest over paired seeds on the test rows (reported) and on the validation
    rows (chosen on), and the choice in one sentence."""

    recommendation: Recommendation
    skipped: list[str]
    study: Study
    comparison: Comparison
    selection: Comparison
    choice: str
    sentence: str

    def __repr__(self) -> str:  # the study's tables would make a default repr pages long
        return (f"Verification(problem={self.study.problem.name!r}, losses={list(self.study.losses)}, "
                f"seeds={len(self.study.seeds)}, skipped={len(self.skipped)}, choice={self.choice!r})")


def verify(
    problem: Problem,
    seeds: Iterable[int] = range(10),
    settings: Settings | None = None,
    progress: Progress | None = None,
    store: str | Path | None = None,
    *,
    split: str | None = None,
    metric: str | None = None,
) -> Verification:
    """Train :func:`~losslab.recommend`'s loss for ``problem`` and its alternatives on paired
    seeds, choose on the validation rows and report on the test rows; alternatives whose targets
    the data cannot provide are skipped. With a ``store`` directory the study is kept there
    (``verify_<problem>-<hash>``) and resumes.

    The choice is the recommended loss unless an alternative is better on the validation rows
    (corrected test, Holm-adjusted); a loss that collapsed or diverged on most runs, or does worse
    than the mean/majority baseline, is never chosen. :attr:`Verification.sentence` says in one
    sentence which loss to use, the evidence and how sure, e.g. "Use poisson: the recommended
    loss; no alternative did significantly better on the validation rows, and on the test rows the
    data cannot separate it from mean_squared_error (10 splits; not sure: the test rows do not
    decide every comparison)."
    """
    advice = recommend(problem)
    specs, skipped = usable_losses(problem, [advice.loss, *(loss for loss, _ in advice.alternatives)])
    study_plan = plan(problem, specs, seeds, settings, split=split)
    study = run_kept(study_plan, store, f"verify_{slug(problem.name)}", [], progress)
    selection = compare(study, metric=metric, split=study_plan.selection_split)
    reported = compare(study, metric=metric)
    choice, sentence = _choose(advice.loss, study.losses, selection, reported, study_plan.selection_split)
    if choice and reported.baseline_ahead:  # the choice among the losses stands; the network itself is in doubt
        sentence = (sentence.removesuffix(".") + f"; but the {reported.baseline_ahead} baseline scores better than "
                    "every loss on the test rows, so the network may be the wrong model for this data, or its "
                    "settings need tuning.")
    return Verification(advice, skipped, study, reported, selection, choice, sentence)


def _choose(recommended: str, losses: tuple[str, ...], selection: Comparison, reported: Comparison,
            chosen_on: str) -> tuple[str, str]:
    """The loss to use and the one sentence that says why and how sure.

    A loss that collapsed or diverged on most runs, or did worse than the mean/majority baseline
    on the ``chosen_on`` rows, is never chosen, and the sentence says what became of it."""
    summary = selection.summary.set_index("loss")
    left_out = {loss: _failure(summary.loc[loss], loss in selection.below_baseline, chosen_on) for loss in losses}
    candidates = [loss for loss in losses if not left_out[loss]]
    if not candidates:
        return "", (f"No loss to use: every candidate collapsed, diverged or did worse than the baseline on the "
                    f"{chosen_on} rows; check the data and the settings (--lr, --epochs) before choosing a loss.")
    sign = 1 if selection.higher_is_better else -1
    best = lambda names: max(names, key=lambda loss: sign * _mean(selection, loss))  # noqa: E731
    if recommended in candidates:
        beaters = [loss for loss in candidates if _winner(selection, recommended, loss) == loss]
        choice = best(beaters) if beaters else recommended
        evidence = (f"it did better than the recommended {recommended} on the {chosen_on} rows" if beaters
                    else f"the recommended loss; no alternative did significantly better on the {chosen_on} rows")
    else:
        choice = best(candidates)
        why = left_out[recommended].removesuffix(f" on the {chosen_on} rows")  # said once, at the end
        evidence = f"the recommended {recommended} {why}, and {choice} scored best of the rest on the {chosen_on} rows"
    outcomes: dict[str, list[str]] = {}
    for other in candidates:
        if other != choice:
            kind, text = _outcome(reported, choice, other)
            outcomes.setdefault(kind, []).append(text)
    tested = _tested(outcomes)
    failed = [f"{loss} {why}" for loss, why in left_out.items() if why and loss not in (choice, recommended)]
    body = evidence + (f", and on the test rows {tested}" if tested else "") + (f"; {_joined(failed)}" if failed else "")
    runs = int(selection.summary["n_runs"].max())
    count = f"{runs} {'splits' if selection.split != 'fixed' else 'seeds on one split'}"
    return choice, f"Use {choice}: {body} ({count}; {_sureness(outcomes)})."


def _failure(row, below_baseline: bool, chosen_on: str) -> str:
    """What kept a loss from being a candidate, in a few words (``""``: nothing did)."""
    lost = int(row["n_runs"]) - int(row["n"])
    if row["n"] == 0 or 2 * lost > row["n_runs"]:  # most runs collapsed or diverged
        what = "diverged" if row["n_diverged"] > row["n_collapsed"] else "collapsed"
        return what if row["n"] == 0 else f"{what} on most runs"
    return f"did worse than the baseline on the {chosen_on} rows" if below_baseline else ""


def _tested(outcomes: dict[str, list[str]]) -> str:
    """How the choice fared against the other candidates on the test rows, as one clause."""
    parts = []
    if "better" in outcomes:
        parts.append(f"it did better than {_joined(outcomes['better'])}")
    if "equivalent" in outcomes:
        parts.append(f"it is equivalent to {_joined(outcomes['equivalent'])}")
    if "identical" in outcomes:
        parts.append(f"it is identical to {_joined(outcomes['identical'])}")
    if "worse" in outcomes:
        parts.append(f"{_joined(outcomes['worse'])} did better")
    if "undecided" in outcomes:
        parts.append(f"the data cannot separate it from {_joined(outcomes['undecided'])}")
    return _joined(parts)


def _sureness(outcomes: dict[str, list[str]]) -> str:
    if not outcomes:
        return "the only loss left"
    if "worse" in outcomes:
        return "not sure: another loss did better on the test rows"
    if "undecided" in outcomes:
        return "not sure: the test rows do not decide every comparison"
    return "sure: every comparison is decided"


def _joined(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}" if items else ""


def _winner(comparison: Comparison, a: str, b: str) -> str:
    """The loss the comparison calls better in the pair (a, b), or ``""``."""
    pairs = comparison.pairs
    row = pairs[((pairs["loss_a"] == a) & (pairs["loss_b"] == b)) | ((pairs["loss_a"] == b) & (pairs["loss_b"] == a))]
    return str(row["better"].iloc[0]) if len(row) else ""


def _outcome(comparison: Comparison, choice: str, other: str) -> tuple[str, str]:
    """How ``choice`` fares against ``other`` in the comparison: ``better``, ``worse``,
    ``equivalent``, ``identical`` or ``undecided``, and ``other`` as it is named in the sentence."""
    pairs = comparison.pairs
    row = pairs[((pairs["loss_a"] == choice) & (pairs["loss_b"] == other))
                | ((pairs["loss_a"] == other) & (pairs["loss_b"] == choice))].iloc[0]
    if row["better"] == choice:
        return "better", other
    if row["better"] == other:
        return "worse", other
    verdict = str(row["verdict"])
    if verdict.startswith("equivalent"):  # "equivalent within ±1.0 pt (TOST ...)"
        return "equivalent", f"{other} ({verdict.split(' (')[0].removeprefix('equivalent ')})"
    if verdict.startswith("identical"):
        return "identical", other
    return "undecided", other


def _mean(comparison: Comparison, loss: str) -> float:
    return float(comparison.summary.set_index("loss").at[loss, "score_mean"])
