"""The plan: which runs an experiment consists of. Here, the tutorial's case studies.

Each :class:`CaseStudy` is one of the tutorial's experiments (a problem and a loss) together with
what the tutorial reported and the criterion losslab uses to decide whether a replication agrees.
The numbers come from the tutorial's text (see ``case-studies.md`` in the reference material).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CaseStudy:
    """One experiment of the tutorial.

    ``reported`` is the tutorial's claim in words. ``claim`` says how it is checked:

    - ``("about", train, test)``: both means within ``tolerance`` of the reported values;
    - ``("below", value)``: both means below ``value`` (for the tanh losses this is the tutorial's
      rounding accuracy, which is how its Keras computed the figure);
    - ``("near_zero", value)``: both mean squared errors below ``value``;
    - ``("worse_than", case)`` / ``("like", case)``: both means worse than / within
      ``tolerance`` of another case study's;
    - ``None``: an extension the tutorial proposes without a result.

    ``curves`` is how the tutorial describes the learning curves in words, which losslab sets
    beside its curve diagnostics.
    """

    key: str
    title: str
    problem: str
    loss: str
    reported: str
    claim: tuple | None
    tolerance: float = 0.03
    curves: str = ""

    @property
    def is_extension(self) -> bool:
        return self.claim is None


CASE_STUDIES: tuple[CaseStudy, ...] = (
    CaseStudy("4.1", "Regression: mean squared error", "regression", "mean_squared_error",
              "Train 0.000, Test 0.001", ("near_zero", 0.01),
              curves="converged reasonably quickly; train and test stayed equivalent"),
    CaseStudy("4.2", "Regression: mean squared logarithmic error", "regression", "mean_squared_logarithmic_error",
              "slightly worse MSE than mean squared error on train and test", ("worse_than", "4.1"),
              curves="MSLE converged well; the MSE may overfit, rising from epoch 20"),
    CaseStudy("4.3", "Regression: mean absolute error", "regression", "mean_absolute_error",
              "near-zero error (MSE)", ("near_zero", 0.01),
              curves="converges, but with a bumpy course"),
    CaseStudy("4.4", "Binary: binary cross-entropy", "circles", "binary_crossentropy",
              "about 83% train, 84% test", ("about", 0.83, 0.84),
              curves="converged well; loss smooth, accuracy bumpy"),
    CaseStudy("4.5", "Binary: hinge", "circles", "hinge",
              "less than 80% train and test", ("below", 0.80),
              curves="converged, at a lower accuracy"),
    CaseStudy("4.6", "Binary: squared hinge", "circles", "squared_hinge",
              "less than 70% train and test", ("below", 0.70),
              curves="converged; the error surface is not as smooth"),
    CaseStudy("4.7", "Multiclass: categorical cross-entropy", "blobs", "categorical_crossentropy",
              "about 82% train, 82% test", ("about", 0.82, 0.82),
              curves="converged, somewhat bumpy; no over- or underfitting"),
    CaseStudy("4.8", "Multiclass: sparse categorical cross-entropy", "blobs", "sparse_categorical_crossentropy",
              "comparable to categorical cross-entropy", ("like", "4.7"), tolerance=0.01,
              curves="good convergence"),
    CaseStudy("4.9", "Multiclass: Kullback-Leibler divergence", "blobs", "kl_divergence",
              "about 80% train and test", ("about", 0.80, 0.80),
              curves="good convergence"),
    CaseStudy("ext-1", "Extension: mean absolute percentage error", "regression", "mean_absolute_percentage_error",
              "proposed, no result given", None),
    CaseStudy("ext-2", "Extension: categorical hinge", "blobs", "categorical_hinge",
              "proposed, no result given", None),
)


def losses_by_problem(cases: tuple[CaseStudy, ...] = CASE_STUDIES) -> dict[str, list[str]]:
    """The losses each problem is trained with, in case-study order: one study per problem."""
    plan: dict[str, list[str]] = {}
    for case in cases:
        plan.setdefault(case.problem, []).append(case.loss)
    return plan
