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
from losslab.results import Study, run
from losslab.store import run_stored
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
    (corrected test, Holm-adjusted); a loss that does worse than the mean/majority baseline is
    never chosen. :attr:`Verification.sentence` says which loss to use, the evidence and how sure.
    """
    advice = recommend(problem)
    specs, skipped = usable_losses(problem, [advice.loss, *(loss for loss, _ in advice.alternatives)])
    study_plan = plan(problem, specs, seeds, settings, split=split)
    if store is None:
        study = run(study_plan, progress)
    else:
        study = run_stored(study_plan, store, f"verify_{slug(problem.name)}", progress).study
    selection = compare(study, metric=metric, split=study_plan.selection_split)
    reported = compare(study, metric=metric)
    choice, sentence = _choose(advice.loss, study.losses, selection, reported, study_plan.selection_split)
    return Verification(advice, skipped, study, reported, selection, choice, sentence)


def _choose(recommended: str, losses: tuple[str, ...], selection: Comparison, reported: Comparison,
            chosen_on: str) -> tuple[str, str]:
    """The loss to use and the sentence that says why and how sure."""
    finished = set(selection.summary.loc[selection.summary["n"] > 0, "loss"])
    candidates = [loss for loss in losses if loss in finished and loss not in selection.below_baseline]
    if not candidates:
        return "", (f"No loss to use: every candidate collapsed, diverged or did worse than the baseline on the "
                    f"{chosen_on} rows; check the data and the settings (--lr, --epochs) before choosing a loss.")
    sign = 1 if selection.higher_is_better else -1
    best = lambda names: max(names, key=lambda loss: sign * _mean(selection, loss))  # noqa: E731
    if recommended in candidates:
        beaters = [loss for loss in candidates if _winner(selection, recommended, loss) == loss]
        choice = best(beaters) if beaters else recommended
        evidence = (f"it did better than the recommended {recommended} on the {chosen_on} rows" if beaters
                    else f"it is the recommended loss and no alternative did better on the {chosen_on} rows")
    else:
        choice = best(candidates)
        evidence = (f"the recommended {recommended} was left out (it collapsed, diverged or did worse than the "
                    f"baseline), and it scored best of the rest on the {chosen_on} rows")
    outcomes = [_outcome(reported, choice, other) for other in candidates if other != choice]
    decided = all("undecided" not in o and "did better" not in o for o in outcomes)
    sure = ("it is the only candidate left" if not outcomes
            else "sure: every comparison on the test rows is decided" if decided
            else "not sure: some differences on the test rows are undecided or favour another loss")
    seeds = int(selection.summary["n"].max())
    return choice, (f"Use {choice}: {evidence} ({seeds} paired seeds, {selection.test.split(' (')[0]})"
                    + (f"; on the test rows it is {', '.join(outcomes)}" if outcomes else "") + f". How sure: {sure}.")


def _winner(comparison: Comparison, a: str, b: str) -> str:
    """The loss the comparison calls better in the pair (a, b), or ``""``."""
    pairs = comparison.pairs
    row = pairs[((pairs["loss_a"] == a) & (pairs["loss_b"] == b)) | ((pairs["loss_a"] == b) & (pairs["loss_b"] == a))]
    return str(row["better"].iloc[0]) if len(row) else ""


def _outcome(comparison: Comparison, choice: str, other: str) -> str:
    """How ``choice`` fares against ``other`` in the comparison, in a few words."""
    pairs = comparison.pairs
    row = pairs[((pairs["loss_a"] == choice) & (pairs["loss_b"] == other))
                | ((pairs["loss_a"] == other) & (pairs["loss_b"] == choice))].iloc[0]
    if row["better"] == choice:
        return f"better than {other}"
    if row["better"] == other:
        return f"worse than {other} ({other} did better)"
    verdict = str(row["verdict"])
    if verdict.startswith("equivalent"):  # "equivalent within ±1.0 pt (TOST ...)"
        return f"equivalent to {other} {verdict.split(' (')[0].removeprefix('equivalent ')}"
    if verdict.startswith("identical"):
        return f"identical to {other}"
    return f"undecided against {other}"


def _mean(comparison: Comparison, loss: str) -> float:
    return float(comparison.summary.set_index("loss").at[loss, "score_mean"])
