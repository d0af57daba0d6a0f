"""What each result contributes to a report: its verdicts in words, tables, figures, diagnostics,
notes and provenance, ready for the template (text only; the template escapes it)."""

from __future__ import annotations

import base64
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup
from matplotlib.figure import Figure

from losslab.analysis import Comparison, Verification
from losslab.claims import Claim
from losslab.figures import plot_dataset, plot_final_distribution, plot_learning_curves, plot_mean_curves
from losslab.figures._losses import plot_losses
from losslab.registry import get_loss
from losslab.replicate import Replication
from losslab.report import _tables
from losslab.report._cells import Table, seeds_text
from losslab.report._svg import figure_svg
from losslab.results import Study

#: How the report words each learning-curve diagnostic (the definitions are in losslab.analysis).
DIAGNOSTIC_DEFINITIONS = (
    ("convergence epoch", "the train loss stays within 2% of its range of its final value from this epoch on"),
    ("overfitting onset", "the epoch of the lowest test loss, when the test loss then rises more than 10% of its "
                          "range and stays there to the end (at least the last 10% of the epochs)"),
    ("runs overfitting", "the share of runs that have an overfitting onset"),
    ("bumpiness", "mean absolute second difference of the train loss, relative to its range"),
    ("train-test gap", "final train metric minus final test metric"),
)


@dataclass
class Verdict:
    """A sentence; ``badge`` (yes, partly, no, -) and ``subject`` when it judges one claim."""

    sentence: str
    badge: str | None = None
    subject: str | None = None
    detail: str | None = None

    @property
    def tone(self) -> str:
        """The badge's colour: yes, partly, no, or other (an extension without a claim, a failed case)."""
        word = (self.badge or "").split(" ")[0]
        return word if word in ("yes", "partly", "no") else "other"


#: Figures at least this wide (inches) take a whole row of the figure grid: at half a laptop's
#: width their text would be too small to read.
WIDE_FIGURE = 9.0


@dataclass
class Chart:
    title: str
    svg: Markup
    wide: bool = False


@dataclass
class Entry:
    """One line of the plan and provenance: a value, or entries beneath it."""

    key: str
    value: str | None = None
    children: list[Entry] = field(default_factory=list)


@dataclass
class Record:
    heading: str
    entries: list[Entry]


@dataclass
class Part:
    """One result's share of each section of the report."""

    key: str
    heading: str
    lead: list[str] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Chart] = field(default_factory=list)
    diagnostics: list[Table] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)


class Charts:
    """Turns figures into inline SVG with ids unique within one page."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self.datasets: set[str] = set()

    def __call__(self, fig: Figure, title: str) -> Chart:
        wide = bool(fig.get_size_inches()[0] >= WIDE_FIGURE)
        return Chart(title, figure_svg(fig, title, salt=f"losslab-figure-{next(self._counter)}"), wide)


def study_part(study: Study, charts: Charts, key: str) -> Part:
    problem = study.problem
    part = Part(key, f"Study: {problem.name}, {len(study.losses)} losses x {len(study.seeds)} seeds")
    part.tables = [_tables.study_summary(study), _tables.study_runs(study)]
    part.figures = [charts(plot_mean_curves(study), f"{problem.name}: mean learning curves per loss"),
                    charts(plot_final_distribution(study), f"{problem.name}: final test {study.metric} per loss")]
    part.figures += dataset_figures([study], charts)
    part.warnings = diverged_warnings(study)
    part.records = [study_record(study)]
    return part


def comparison_part(comparison: Comparison, key: str) -> Part:
    part = Part(key, f"Comparison on {comparison.problem}")
    part.lead = [f"Final test {comparison.metric} of every pair of losses on paired seeds "
                 f"({'higher' if comparison.higher_is_better else 'lower'} is better; tests at alpha = {comparison.alpha})."]
    part.verdicts = [Verdict(sentence) for sentence in comparison.verdicts]
    part.warnings = list(comparison.flags)
    part.findings = list(comparison.notes)
    part.tables = [_tables.comparison_summary(comparison), _tables.comparison_pairs(comparison)]
    part.diagnostics = [_tables.comparison_diagnostics(comparison)]
    part.records = [comparison_record(comparison)]
    return part


def replication_part(replication: Replication, charts: Charts, key: str) -> Part:
    part = Part(key, f"Replication of the tutorial, {replication.repeats} runs per case study")
    part.lead = ["Each of the tutorial's claims, judged on the share of runs for which it holds: yes (at least 80%), "
                 "partly (between, or when a qualifier such as \"slightly\" fails), no (20% or fewer)."]
    for row in replication.table.to_dict(orient="records"):
        badge = row["agrees"] if row["outcome"] == "completed" else f"{row['agrees']} ({row['outcome']})"
        reported = f"the tutorial: {row['reported']}" if row["reported"] else None
        part.verdicts.append(Verdict(row["reason"], badge, f"{row['case']} {row['loss']}", reported))
    part.findings = list(replication.notes())
    part.tables = [_tables.replication_cases(replication), _tables.replication_claims(replication)]
    for row in replication.table.to_dict(orient="records"):
        history = replication.studies[row["problem"]].history
        title = f"{row['case']} {row['problem']}: {row['loss']}"
        part.figures.append(charts(plot_learning_curves(history[history["loss"] == row["loss"]], title), title))
    part.figures += dataset_figures(list(replication.studies.values()), charts)
    part.diagnostics = [_tables.replication_diagnostics(replication)]
    for study in replication.studies.values():
        part.warnings += diverged_warnings(study)
        part.records.append(study_record(study))
    return part


def verification_part(verification: Verification, charts: Charts, key: str) -> Part:
    advice, study = verification.recommendation, verification.study
    part = comparison_part(verification.comparison, key)
    part.heading = f"Recommendation for {study.problem.name}, verified over {len(study.seeds)} seeds"
    part.lead = [f"Recommended loss: {advice.loss}; output layer: {advice.output_layer}; targets: {advice.encoding}.",
                 f"Why: {advice.reason}",
                 *(f"Alternative: {loss}, {when}." for loss, when in advice.alternatives),
                 *(f"Not verified: {reason}" for reason in verification.skipped)]
    shown = study_part(study, charts, key)
    part.tables += shown.tables
    part.figures, part.warnings = shown.figures, shown.warnings
    part.records = shown.records + part.records
    return part


#: The losses drawn beside the claims: two of each kind the tutorial's prose compares (regression,
#: probability, margin), so that the shapes its claims are about can be seen at a glance.
CLAIM_LOSSES = ("mse", "mae", "huber", "msle", "bce", "hinge", "squared_hinge",
                "categorical_crossentropy", "categorical_hinge")

#: A claim's verdict as a badge colour of the report (yes, partly, no).
CLAIM_TONES = {"supported": "yes", "depends": "partly", "not supported": "no"}


@dataclass
class ClaimCard:
    """One tested claim as the report shows it; ``image`` is its PNG figure as a data URI (the
    report is one file) or None, with ``missing`` saying why when it had a figure that is gone."""

    number: int
    key: str
    verdict: str
    quote: str
    design: str
    summary: str
    seconds: float
    image: str | None = None
    missing: str | None = None

    @property
    def tone(self) -> str:
        return CLAIM_TONES.get(self.verdict, "other")


@dataclass
class ClaimsPart:
    """The section of the tutorial's prose claims: a card per claim and the losses drawn."""

    heading: str
    lead: str
    cards: list[ClaimCard]
    losses: Chart


def claims_part(claims: list[Claim], charts: Charts) -> ClaimsPart:
    counts = {verdict: sum(c.verdict == verdict for c in claims) for verdict in CLAIM_TONES}
    told = ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n)
    lead = (f"{len(claims)} of the tutorial's claims in prose, each tested by a designed experiment on paired "
            f"seeds. Verdicts: {told}; a claim that depends names what it depends on in its finding.")
    specs = [get_loss(name) for name in CLAIM_LOSSES]
    losses = charts(plot_losses(specs), "The losses and their gradients, against what each punishes")
    return ClaimsPart("The tutorial's claims, tested", lead, [claim_card(c) for c in claims], losses)


def claim_card(claim: Claim) -> ClaimCard:
    card = ClaimCard(claim.number, claim.key, claim.verdict, claim.quote, claim.design, claim.summary,
                     float(claim.seconds))
    if claim.figure:
        try:
            data = Path(claim.figure).read_bytes()
        except OSError:
            card.missing = f"its figure {claim.figure} could not be read"
        else:
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                card.missing = f"its figure {claim.figure} is not a PNG file"
                return card
            card.image = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return card


def dataset_figures(studies: list[Study], charts: Charts) -> list[Chart]:
    """The scatter plot of each two-feature classification problem among ``studies``, once per
    problem in a report."""
    shown = []
    for study in studies:
        problem = study.problem
        if problem.kind != "regression" and problem.n_features == 2 and problem.name not in charts.datasets:
            charts.datasets.add(problem.name)
            shown.append(charts(plot_dataset(problem), f"{problem.name}: the data"))
    return shown


def diverged_warnings(study: Study) -> list[str]:
    """Per loss with diverged runs: how many, which seeds, at which epochs."""
    warnings = []
    runs = study.runs
    for loss in study.losses:
        mine = runs[(runs["loss"] == loss)]
        bad = mine[mine["diverged"].astype(bool)]
        if len(bad):
            seeds = seeds_text(bad["seed"].tolist())
            epochs = sorted({int(e) for e in bad["diverged_epoch"]})
            at = f"epoch {epochs[0]}" if len(epochs) == 1 else f"epochs {epochs[0]}-{epochs[-1]}"
            warnings.append(f"{study.problem.name}, {loss}: {len(bad)} of {len(mine)} runs diverged "
                            f"(seeds {seeds}; at {at}); their scores are left out of every mean.")
    return warnings


def study_record(study: Study) -> Record:
    """The plan and timings of ``study``, as :meth:`~losslab.Study.metadata` gives them."""
    metadata = dict(study.metadata())
    metadata["seeds"] = seeds_text(metadata["seeds"])
    return Record(f"{study.problem.name}: {', '.join(study.losses)}", entries(metadata))


def comparison_record(comparison: Comparison) -> Record:
    return Record(f"Comparison on {comparison.problem}",
                  entries({"problem": comparison.problem, "metric": comparison.metric,
                           "higher_is_better": comparison.higher_is_better, "alpha": comparison.alpha}))


def entries(mapping: Mapping[str, object]) -> list[Entry]:
    """``mapping`` as nested entries; lists of plain values joined with commas."""
    out = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            out.append(Entry(str(key), None if value else "–", entries(value)))
        else:
            out.append(Entry(str(key), plain_text(key, value)))
    return out


def plain_text(key: object, value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        shown = f"{value:.3g}" if str(key).endswith("_s") else f"{value:.6g}"
        return f"{shown} s" if str(key).endswith("_s") else shown
    if isinstance(value, list | tuple):
        return ", ".join(plain_text(key, v) for v in value) or "–"
    return str(value)
