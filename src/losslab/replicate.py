"""Replicating the tutorial: every case study trained ``repeats`` times, set beside its claim.

One study per problem trains all of that problem's case-study losses together (paired seeds).
The table reports, per case study, the mean (and sd over repeats) of the final train and test
metric, the tutorial's claim, and whether the replication agrees with it. For the tanh losses the
tutorial's accuracy was Keras's ``round(output) == label``, so the table shows both that and the
correct sign agreement; the claims are checked against the figure the tutorial computed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from losslab.analysis import curve_diagnostics, summarise_diagnostics
from losslab._plain import mean_or_nan, sd_or_nan
from losslab.engine import Progress
from losslab.planning import default_settings
from losslab.case_studies import CASE_STUDIES, CaseStudy, losses_by_problem
from losslab.problems import get_problem
from losslab.registry import get_loss
from losslab.results import Study, train

#: Why the hinge rows carry two accuracies.
ROUNDING_NOTE = (
    "The tutorial's Keras scored a tanh output as round(output) == label, so every prediction with "
    "|output| < 0.5 counted as wrong whatever its sign; with sign agreement the hinge losses do as "
    "well as binary cross-entropy. The tutorial's 'worse' verdict is an artifact of its metric."
)


@dataclass
class Replication:
    """The replicate table, the learning-curve diagnostics per case study (beside the tutorial's
    words for its curves), and the studies behind them (one per problem)."""

    table: pd.DataFrame
    diagnostics: pd.DataFrame
    studies: dict[str, Study]
    repeats: int

    def notes(self) -> list[str]:
        """Plain-language notes on rows a reader could misread."""
        notes = []
        if self.table["tutorial_train"].notna().any():
            notes.append(ROUNDING_NOTE)
        for row in self.table.itertuples():
            if row.diverged:
                notes.append(f"{row.case} {row.loss}: {row.diverged} of {self.repeats} runs diverged ({row.outcome}).")
        return notes


def replicate(
    repeats: int = 1,
    epochs: int | None = None,
    cases: tuple[CaseStudy, ...] = CASE_STUDIES,
    progress: Callable[[str, int, int], None] | None = None,
) -> Replication:
    """Train every case study ``repeats`` times with the tutorial's settings and compare.

    ``epochs`` overrides every problem's epoch count (for quick checks; claims are about the
    tutorial's epochs). ``progress(problem, done, total)`` is called as runs finish.
    """
    studies = {}
    for name, losses in losses_by_problem(cases).items():
        problem = get_problem(name)
        settings = default_settings(problem).updated(epochs=epochs)
        report: Progress | None = (lambda done, total, _what, name=name: progress(name, done, total)) if progress else None
        studies[name] = train(problem, losses, seeds=range(repeats), settings=settings, progress=report)
    rows = [_case_row(case, studies[case.problem]) for case in cases]
    table = pd.DataFrame(rows)
    table["agrees"] = [_agrees(case, table) for case in cases]
    table["outcome"] = [_outcome(row) for row in table.itertuples()]
    return Replication(table, _diagnostics(cases, studies), studies, repeats)


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


def _case_row(case: CaseStudy, study: Study) -> dict[str, object]:
    spec = get_loss(case.loss)
    runs = study.runs[study.runs["loss"] == case.loss]
    ok = runs[~runs["diverged"]]
    row = {
        "case": case.key, "title": case.title, "problem": case.problem, "loss": case.loss,
        "output": spec.output_layer, "units": spec.units, "activation": spec.activation, "targets": spec.encoding, "metric": runs["metric"].iloc[0],
        "runs": len(runs), "diverged": int(runs["diverged"].sum()),
        "train": mean_or_nan(ok["train_metric"]), "train_sd": sd_or_nan(ok["train_metric"]),
        "test": mean_or_nan(ok["test_metric"]), "test_sd": sd_or_nan(ok["test_metric"]),
        "tutorial_train": np.nan, "tutorial_test": np.nan,
        "reported": case.reported,
    }
    if spec.activation == "tanh":  # what the tutorial's Keras called accuracy
        row["tutorial_train"] = mean_or_nan(ok["train_rounding_accuracy"])
        row["tutorial_test"] = mean_or_nan(ok["test_rounding_accuracy"])
    return row


def _agrees(case: CaseStudy, table: pd.DataFrame) -> str:
    """'yes', 'no' or '-' (no claim, or nothing to judge) for one case study's claim."""
    row = table[table["case"] == case.key].iloc[0]
    if case.claim is None or np.isnan(row["train"]):
        return "-"
    # for tanh outputs the tutorial's numbers are its rounding accuracy
    train, test = (row["tutorial_train"], row["tutorial_test"]) if not np.isnan(row["tutorial_train"]) else (row["train"], row["test"])

    def lookup(key: str) -> tuple[float, float]:
        other = table[table["case"] == key].iloc[0]
        return other["train"], other["test"]

    return "yes" if case.claim.holds(train, test, lookup) else "no"


def _outcome(row) -> str:
    if row.diverged == row.runs:
        return "diverged in every run"
    if row.diverged:
        return f"{row.diverged} of {row.runs} runs diverged"
    return "completed"


__all__ = ["ROUNDING_NOTE", "Replication", "replicate"]
