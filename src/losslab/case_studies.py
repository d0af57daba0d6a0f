"""The tutorial's case studies: each experiment, what the tutorial reported, and its claim.

Each :class:`CaseStudy` is one of the tutorial's experiments (a problem and a loss) together with
what the tutorial reported and the claim losslab checks a replication against, as a small typed
object (:class:`About`, :class:`Below`, :class:`NearZero`, :class:`WorseThan`, :class:`Like`).
The numbers come from the tutorial's text (see ``case-studies.md`` in the reference material).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from losslab.registry import LossSpec, get_loss, probability_form

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

    def describe(self) -> str:
        return f"within {self.tolerance:g} of {self.train:g} / {self.test:g}"


@dataclass(frozen=True)
class Below:
    """Both results below ``value`` (for the tanh losses the tutorial's rounding accuracy, which
    is how its Keras computed the figure)."""

    value: float

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        return train < self.value and test < self.value

    def describe(self) -> str:
        return f"below {self.value:g}"


@dataclass(frozen=True)
class NearZero(Below):
    """Both errors (MSE) below ``value``: :class:`Below`, named for what the tutorial says."""

    def describe(self) -> str:
        return f"near zero (below {self.value:g})"


#: "Slightly worse" holds while the median error is at most this many times the other's.
SLIGHTLY_FACTOR = 2.0


@dataclass(frozen=True)
class WorseThan:
    """Both errors (MSE) larger than those of case study ``case``, on the same seed.

    ``slightly`` adds the tutorial's qualifier: the median error is at most
    :data:`SLIGHTLY_FACTOR` times the other case's median.
    """

    case: str
    slightly: bool = False

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        other_train, other_test = lookup(self.case)
        return train > other_train and test > other_test

    def describe(self) -> str:
        return f"worse than {self.case}"


@dataclass(frozen=True)
class Like:
    """Both results within ``tolerance`` of those of case study ``case``, on the same seed."""

    case: str
    tolerance: float = 0.01

    def holds(self, train: float, test: float, lookup: Lookup) -> bool:
        other_train, other_test = lookup(self.case)
        return abs(train - other_train) <= self.tolerance and abs(test - other_test) <= self.tolerance

    def describe(self) -> str:
        return f"within {self.tolerance:g} of {self.case}"


Claim = About | Below | NearZero | WorseThan | Like


@dataclass(frozen=True)
class CaseStudy:
    """One experiment of the tutorial.

    ``reported`` is the tutorial's claim in words and ``claim`` how it is checked (``None``: an
    extension the tutorial proposes without a result). ``curves`` is how the tutorial describes
    the learning curves in words, which losslab sets beside its curve diagnostics.
    ``numbers`` are the tutorial's reported (train, test) figures where it gives numbers; the
    replication places them in its distribution. ``tails`` names the mechanism behind runs that
    collapse or stall, for the cases where they happen.
    """

    key: str
    title: str
    problem: str
    loss: str
    reported: str
    claim: Claim | None
    curves: str = ""
    numbers: tuple[float, float] | None = None
    tails: str = ""

    def spec(self) -> LossSpec:
        """The loss as the replication trains it: as the tutorial's Keras did, on the output
        layer's activations with Keras's clipping (:func:`~losslab.registry.probability_form`),
        not from logits as losslab does elsewhere."""
        return probability_form(get_loss(self.loss))

    @property
    def is_extension(self) -> bool:
        return self.claim is None


#: Why a softmax run trained as Keras trains it can stall (from logits it does not).
_CLIPPED = ("the true class's softmax probability falls below Keras's clip of 1e-7 on many rows, where the "
            "clipped loss has no gradient (trained from logits, the run does not stall)")

CASE_STUDIES: tuple[CaseStudy, ...] = (
    CaseStudy("4.1", "Regression: mean squared error", "regression", "mean_squared_error",
              "Train 0.000, Test 0.001", NearZero(0.01), numbers=(0.000, 0.001),
              curves="converged reasonably quickly; train and test stayed equivalent"),
    CaseStudy("4.2", "Regression: mean squared logarithmic error", "regression", "mean_squared_logarithmic_error",
              "slightly worse MSE than mean squared error on train and test", WorseThan("4.1", slightly=True),
              curves="MSLE converged well; the MSE may overfit, rising from epoch 20",
              tails="the linear output drifts below 0, where MSLE's clamp of the prediction gives no gradient"),
    CaseStudy("4.3", "Regression: mean absolute error", "regression", "mean_absolute_error",
              "near-zero error (MSE)", NearZero(0.01),
              curves="converges, but with a bumpy course"),
    CaseStudy("4.4", "Binary: binary cross-entropy", "circles", "binary_crossentropy",
              "about 83% train, 84% test", About(0.83, 0.84), numbers=(0.83, 0.84),
              curves="converged well; loss smooth, accuracy bumpy"),
    CaseStudy("4.5", "Binary: hinge", "circles", "hinge",
              "less than 80% train and test", Below(0.80),
              curves="converged, at a lower accuracy",
              tails="the tanh output saturates early, where its gradient vanishes, and the run stays near chance"),
    CaseStudy("4.6", "Binary: squared hinge", "circles", "squared_hinge",
              "less than 70% train and test", Below(0.70),
              curves="converged; the error surface is not as smooth",
              tails="the tanh output saturates early, where its gradient vanishes, and the run stays near chance"),
    CaseStudy("4.7", "Multiclass: categorical cross-entropy", "blobs", "categorical_crossentropy",
              "about 82% train, 82% test", About(0.82, 0.82), numbers=(0.82, 0.82),
              curves="converged, somewhat bumpy; no over- or underfitting", tails=_CLIPPED),
    CaseStudy("4.8", "Multiclass: sparse categorical cross-entropy", "blobs", "sparse_categorical_crossentropy",
              "comparable to categorical cross-entropy", Like("4.7", tolerance=0.01),
              curves="good convergence", tails=_CLIPPED),
    CaseStudy("4.9", "Multiclass: Kullback-Leibler divergence", "blobs", "kl_divergence",
              "about 80% train and test", About(0.80, 0.80), numbers=(0.80, 0.80),
              curves="good convergence", tails=_CLIPPED),
    CaseStudy("ext-1", "Extension: mean absolute percentage error", "regression", "mean_absolute_percentage_error",
              "proposed, no result given", None),
    CaseStudy("ext-1b", "Extension: MAPE where it is defined", "positive_regression", "mean_absolute_percentage_error",
              "proposed, no result given (here on the target shifted to a minimum of 1)", None),
    CaseStudy("ext-2", "Extension: categorical hinge", "blobs", "categorical_hinge",
              "proposed, no result given", None,
              tails="softmax probabilities meet the margin of 1 only by saturating; runs that saturate early stall"),
)


def losses_by_problem(cases: tuple[CaseStudy, ...] = CASE_STUDIES) -> dict[str, list[LossSpec]]:
    """The losses each problem is trained with, in case-study order: one study per problem."""
    losses: dict[str, list[LossSpec]] = {}
    for case in cases:
        losses.setdefault(case.problem, []).append(case.spec())
    return losses
