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
    """The advice for a problem, the candidates its targets could not take (and why), and the
    comparison of the rest over paired seeds."""

    recommendation: Recommendation
    skipped: list[str]
    study: Study
    comparison: Comparison

    def __repr__(self) -> str:  # the study's tables would make a default repr pages long
        return (f"Verification(problem={self.study.problem.name!r}, losses={list(self.study.losses)}, "
                f"seeds={len(self.study.seeds)}, skipped={len(self.skipped)}, verdicts={self.comparison.verdicts!r})")


def verify(
    problem: Problem,
    seeds: Iterable[int] = range(10),
    settings: Settings | None = None,
    progress: Progress | None = None,
    store: str | Path | None = None,
) -> Verification:
    """Train :func:`~losslab.recommend`'s loss for ``problem`` and its alternatives on paired
    seeds and compare them; alternatives whose targets the data cannot provide are skipped. With
    a ``store`` directory the study is kept there (``verify_<problem>-<hash>``) and resumes."""
    advice = recommend(problem.kind)
    specs, skipped = usable_losses(problem, [advice.loss, *(loss for loss, _ in advice.alternatives)])
    study_plan = plan(problem, specs, seeds, settings)
    if store is None:
        study = run(study_plan, progress)
    else:
        study = run_stored(study_plan, store, f"verify_{slug(problem.name)}", progress).study
    return Verification(advice, skipped, study, compare(study))
