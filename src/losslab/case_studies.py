"""The tutorial's case studies: each experiment, what the tutorial reported, and its claim.

Each :class:`CaseStudy` is one of the tutorial's experiments (a problem and a loss) together with
what the tutorial reported and the claim losslab checks a replication against, as a small typed
object (:class:`About`, :class:`Below`, :class:`NearZero`, :class:`WorseThan`, :class:`Like`).
The numbers come from the tutorial's text (see ``case-studies.md`` in the reference material).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: A case study's (train, test) result, looked up by its key; claims about another case use it.
Lookup = Callable[[str], tuple[float, float]]


@dataclass(frozen=True)
class About:
    """Both results within ``tolerance`` of the reported ``train`` and ``test`` values."""

    train: float
    test: float
    tolerance: float = 0.03

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        return abs(train - self.train) <= self.tolerance and abs(test - self.test) <= self.tolerance


@dataclass(frozen=True)
class Below:
    """Both results below ``value`` (for the tanh losses the tutorial's rounding accuracy, which
    is how its Keras computed the figure)."""

    value: float

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        return train < self.value and test < self.value


@dataclass(frozen=True)
class NearZero(Below):
    """Both errors (MSE) below ``value``: :class:`Below`, named for what the tutorial says."""


@dataclass(frozen=True)
class WorseThan:
    """Both errors (MSE) larger than those of case study ``case``."""

    case: str

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        other_train, other_test = lookup(self.case)
        return train > other_train and test > other_test


@dataclass(frozen=True)
class Like:
    """Both results within ``tolerance`` of those of case study ``case``."""

    case: str
    tolerance: float = 0.01

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        other_train, other_test = lookup(self.case)
        return abs(train - other_train) <= self.tolerance and abs(test - other_test) <= self.tolerance


Claim = About | Below | NearZero | WorseThan | Like


@dataclass(frozen=True)
class CaseStudy:
    """One experiment of the tutorial.

    ``reported`` is the tutorial's claim in words and ``claim`` how it is checked (``None``: an
    extension the tutorial proposes without a result). ``curves`` is how the tutorial describes
    the learning curves in words, which losslab sets beside its curve diagnostics.
    """

    key: str
    title: str
    problem: str
    loss: str
    reported: str
    claim: Claim | None
    curves: str = ""

    @property
    def is_extension(self) -> bool:
        return self.claim is None


CASE_STUDIES: tuple[CaseStudy, ...] = (
    CaseStudy("4.1", "Regression: mean squared error", "regression", "mean_squared_error",
              "Train 0.000, Test 0.001", NearZero(0.01),
              curves="converged reasonably quickly; train and test stayed equivalent"),
    CaseStudy("4.2", "Regression: mean squared logarithmic error", "regression", "mean_squared_logarithmic_error",
              "slightly worse MSE than mean squared error on train and test", WorseThan("4.1"),
              curves="MSLE converged well; the MSE may overfit, rising from epoch 20"),
    CaseStudy("4.3", "Regression: mean absolute error", "regression", "mean_absolute_error",
              "near-zero error (MSE)", NearZero(0.01),
              curves="converges, but with a bumpy course"),
    CaseStudy("4.4", "Binary: binary cross-entropy", "circles", "binary_crossentropy",
              "about 83% train, 84% test", About(0.83, 0.84),
              curves="converged well; loss smooth, accuracy bumpy"),
    CaseStudy("4.5", "Binary: hinge", "circles", "hinge",
              "less than 80% train and test", Below(0.80),
              curves="converged, at a lower accuracy"),
    CaseStudy("4.6", "Binary: squared hinge", "circles", "squared_hinge",
              "less than 70% train and test", Below(0.70),
              curves="converged; the error surface is not as smooth"),
    CaseStudy("4.7", "Multiclass: categorical cross-entropy", "blobs", "categorical_crossentropy",
              "about 82% train, 82% test", About(0.82, 0.82),
              curves="converged, somewhat bumpy; no over- or underfitting"),
    CaseStudy("4.8", "Multiclass: sparse categorical cross-entropy", "blobs", "sparse_categorical_crossentropy",
              "comparable to categorical cross-entropy", Like("4.7", tolerance=0.01),
              curves="good convergence"),
    CaseStudy("4.9", "Multiclass: Kullback-Leibler divergence", "blobs", "kl_divergence",
              "about 80% train and test", About(0.80, 0.80),
              curves="good convergence"),
    CaseStudy("ext-1", "Extension: mean absolute percentage error", "regression", "mean_absolute_percentage_error",
              "proposed, no result given", None),
    CaseStudy("ext-2", "Extension: categorical hinge", "blobs", "categorical_hinge",
              "proposed, no result given", None),
)


def losses_by_problem(cases: tuple[CaseStudy, ...] = CASE_STUDIES) -> dict[str, list[str]]:
    """The losses each problem is trained with, in case-study order: one study per problem."""
    losses: dict[str, list[str]] = {}
    for case in cases:
        losses.setdefault(case.problem, []).append(case.loss)
    return losses
