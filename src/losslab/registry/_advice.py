"""The tutorial's "What loss function to use?" table: one :class:`Recommendation` per problem kind."""

from __future__ import annotations

from dataclasses import dataclass

from losslab.errors import LosslabError
from losslab.problems import KINDS


@dataclass(frozen=True)
class Recommendation:
    """The tutorial's advice for one kind of problem."""

    kind: str
    loss: str
    output_layer: str
    encoding: str
    reason: str
    alternatives: tuple[tuple[str, str], ...]


_RECOMMENDATIONS = {
    "regression": Recommendation(
        "regression", "mean_squared_error", "1 unit, linear", "raw",
        "Maximum likelihood for a Gaussian target; the tutorial's default for predicting a quantity.",
        (("mean_absolute_error", "if the target has outliers"),
         ("huber", "a compromise between MSE and MAE"),
         ("mean_squared_logarithmic_error", "for non-negative targets spanning orders of magnitude"))),
    "binary": Recommendation(
        "binary", "binary_crossentropy", "1 unit, sigmoid", "{0,1}",
        "Maximum likelihood for a two-class target; learns faster and more robustly than MSE with a sigmoid.",
        (("hinge", "SVM-style margin; tanh output with {-1, 1} targets"),
         ("squared_hinge", "a smoother hinge"))),
    "multiclass": Recommendation(
        "multiclass", "categorical_crossentropy", "n_classes units, softmax", "one-hot",
        "Maximum likelihood for a categorical target; the tutorial's default for several classes.",
        (("sparse_categorical_crossentropy", "the same loss on integer labels, no one-hot needed"),
         ("kl_divergence", "equal to cross-entropy on one-hot targets"),
         ("categorical_hinge", "a multiclass margin loss"))),
}


def recommend(problem_kind: str) -> Recommendation:
    """The tutorial's "What loss function to use?" answer for ``problem_kind``.

    >>> recommend("binary").loss
    'binary_crossentropy'
    """
    if problem_kind not in _RECOMMENDATIONS:
        raise LosslabError(f"problem kind must be one of {', '.join(KINDS)}, got {problem_kind!r}")
    return _RECOMMENDATIONS[problem_kind]
