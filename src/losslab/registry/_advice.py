"""Which loss to use: the tutorial's "What loss function to use?" table by problem kind, refined
by what a problem's target holds (:func:`recommend`, :func:`describe_target`)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from losslab.errors import LosslabError
from losslab.problems import KINDS, Problem
from losslab.registry._specs import _BUILTINS, LossSpec

#: Counts: whole numbers >= 0 with at least this many distinct values, and a zero among them
#: or a skew of at least ``RIGHT_SKEW``.
MIN_COUNT_VALUES = 5
#: The sample skewness (``scipy.stats.skew``, biased) from which a target is right-skewed.
RIGHT_SKEW = 1.0
#: A positive target spans orders of magnitude when ``max / min`` is at least this.
MIN_SPAN = 100.0
#: Classes are imbalanced when the smallest has under this fraction of the largest's rows ...
SMALLEST_TO_LARGEST = 0.2
#: ... or the largest holds at least this share of all rows.
MAJORITY_SHARE = 0.8


@dataclass(frozen=True)
class Recommendation:
    """Advice for a problem: the loss, its output layer and target encoding, why, and alternatives.

    ``target`` says what was read in the problem's target (``"counts"``, ``"positive,
    right-skewed"``, ``"proportion"``, ``"quantity"``, ``"balanced classes"`` or ``"imbalanced
    classes"``); it is empty when only the kind was given. ``notes`` add what that target calls
    for: how to judge the model, what the loss cannot do, another way to fit it.
    """

    kind: str
    loss: str
    output_layer: str
    encoding: str
    reason: str
    alternatives: tuple[tuple[str, str], ...]
    target: str = ""
    notes: tuple[str, ...] = ()


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


def recommend(problem: str | Problem) -> Recommendation:
    """The loss to use for ``problem``: a problem kind, or a :class:`~losslab.problems.Problem`.

    A kind gets the tutorial's "What loss function to use?" answer. A problem gets it refined by
    its target (:func:`describe_target`, train and test rows together, regression targets in
    their own units): counts get the Poisson loss, positive targets spanning orders of magnitude
    MSLE, proportions MSE with a note that its output is unbounded, imbalanced classes their
    kind's loss with a note that accuracy misleads; any other target gets the table's answer.

    >>> recommend("binary").loss
    'binary_crossentropy'
    >>> import numpy as np
    >>> X = np.arange(40.0).reshape(-1, 1)
    >>> advice = recommend(Problem.from_arrays(X, np.arange(40) % 8, kind="regression"))
    >>> advice.target, advice.loss, advice.output_layer
    ('counts', 'poisson', '1 unit, exponential')
    """
    if isinstance(problem, Problem):
        return _for_target(problem)
    if not isinstance(problem, str) or problem not in _RECOMMENDATIONS:
        raise LosslabError(f"problem kind must be one of {', '.join(KINDS)}, or a losslab.Problem; got {problem!r}")
    return _RECOMMENDATIONS[problem]


def describe_target(problem: Problem) -> str:
    """What :func:`recommend` reads in ``problem``'s target, over train and test rows together.

    Regression, on the raw target ``y * target_scale + target_mean``:

    - ``"counts"``: whole numbers, all >= 0, at least 5 distinct, and a zero among them or
      ``skew >= 1``;
    - ``"proportion"``: all in [0, 1], not all 0 or 1;
    - ``"positive, right-skewed"``: all > 0 with ``max / min >= 100`` and ``skew >= 1``;
    - ``"quantity"``: anything else.

    Classification: ``"imbalanced classes"`` when the smallest class has under 0.2 of the
    largest's rows or the largest holds at least 80% of them, else ``"balanced classes"``.
    ``skew`` is ``scipy.stats.skew(y, bias=True)``.
    """
    if problem.kind != "regression":
        return "imbalanced classes" if _imbalanced(_class_shares(problem)) else "balanced classes"
    y = _raw_targets(problem)
    if _counts(y):
        return "counts"
    if _proportion(y):  # before the skew: on [0, 1] log(1 + y) ~ y, so MSLE would be MSE in all but name
        return "proportion"
    if _positive_right_skewed(y):
        return "positive, right-skewed"
    return "quantity"


def _raw_targets(problem: Problem) -> np.ndarray:
    """The regression targets of train and test in their own units, undoing the standardisation
    (``target_scale`` None: not scaled; ``target_mean`` None: not centred)."""
    y = np.concatenate([problem.y_train, problem.y_test]).astype(np.float64)
    if problem.target_scale is not None:
        y = y * problem.target_scale
    if problem.target_mean is not None:
        y = y + problem.target_mean
    # undoing (y - mean) / sd leaves whole numbers a rounding error (~1e-15 relative) away
    whole = np.rint(y)
    return np.where(np.isclose(y, whole, rtol=1e-9, atol=1e-9), whole, y)


def _skew(y: np.ndarray) -> float:
    from scipy import stats  # here, not at the top: listing the losses needs the registry, not SciPy

    return float(stats.skew(y, bias=True))


def _counts(y: np.ndarray) -> bool:
    return (bool(np.all(y == np.rint(y))) and y.min() >= 0 and len(np.unique(y)) >= MIN_COUNT_VALUES
            and (bool(np.any(y == 0)) or _skew(y) >= RIGHT_SKEW))


def _proportion(y: np.ndarray) -> bool:
    return y.min() >= 0 and y.max() <= 1 and not np.all((y == 0) | (y == 1))


def _positive_right_skewed(y: np.ndarray) -> bool:
    return y.min() > 0 and y.max() / y.min() >= MIN_SPAN and _skew(y) >= RIGHT_SKEW


def _class_shares(problem: Problem) -> np.ndarray:
    """Each class's share of the train and test rows."""
    counts = np.bincount(np.concatenate([problem.y_train, problem.y_test]).astype(np.int64),
                         minlength=problem.n_classes)
    return counts / counts.sum()


def _imbalanced(shares: np.ndarray) -> bool:
    return shares.min() < SMALLEST_TO_LARGEST * shares.max() or shares.max() >= MAJORITY_SHARE


def _for_target(problem: Problem) -> Recommendation:
    target = describe_target(problem)
    advise = _ADVICE.get(target)
    return advise(problem) if advise else replace(_RECOMMENDATIONS[problem.kind], target=target)


def _builtin(name: str) -> LossSpec:
    # the built-ins directly: the lookup imports this module (through _targets), not the reverse
    return next(spec for spec in _BUILTINS if spec.name == name)


def _counts_advice(problem: Problem) -> Recommendation:
    y, spec = _raw_targets(problem), _builtin("poisson")
    return Recommendation(
        "regression", spec.name, spec.output_layer, spec.encoding,
        "Maximum likelihood for counts: the Poisson loss models the mean count, and its exponential "
        "output keeps the predicted rate positive.",
        (("mean_squared_error", "as alternative: the Gaussian default, close to Poisson when the counts are large"),
         ("mean_squared_logarithmic_error", "relative errors; log(1 + y) takes the zeros"),
         ("mean_absolute_error", "if a few very large counts are outliers")),
        "counts",
        (f"Read as counts: whole numbers from {int(y.min())} to {int(y.max())}, {np.mean(y == 0):.0%} zeros, "
         f"skew {_skew(y):.1f}.",),
    )


def _skewed_advice(problem: Problem) -> Recommendation:
    y, spec = _raw_targets(problem), _builtin("mean_squared_logarithmic_error")
    return Recommendation(
        "regression", spec.name, spec.output_layer, spec.encoding,
        f"The target is positive and spans orders of magnitude ({y.min():.3g} to {y.max():.3g}, skew "
        f"{_skew(y):.1f}): MSLE compares log(1 + y), so errors count relative to the target's size rather than "
        "in its units, and the largest values do not dominate the fit as they do under MSE.",
        (("mean_squared_error", "absolute errors; the largest targets dominate"),
         ("mean_absolute_percentage_error", "relative errors in percent; defined, as the target never reaches zero"),
         ("poisson", "a log-link fit that suits positive quantities, not only counts")),
        "positive, right-skewed",
        ("Alternatively, train mean_squared_error on a log-transformed target, log(y), and take exp of the "
         "predictions: that fits relative errors too, and log(y) stays relative below 1, where log(1 + y) flattens.",),
    )


def _proportion_advice(problem: Problem) -> Recommendation:
    return replace(_RECOMMENDATIONS["regression"], target="proportion", notes=(
        "The target is a proportion in [0, 1], but MSE's linear output is unbounded: clip the predictions to "
        "[0, 1]. A bounded (sigmoid) output, fitted with binary cross-entropy on the proportion, would suit it "
        "better, but no built-in regression loss has one, and losslab trains a prepared problem on its target "
        "rescaled by the standard deviation, which a sigmoid could not reach.",))


def _imbalance_advice(problem: Problem) -> Recommendation:
    shares = _class_shares(problem)
    names = problem.class_names if len(problem.class_names) == len(shares) else tuple(map(str, range(len(shares))))
    largest, smallest = int(shares.argmax()), int(shares.argmin())
    judge = ("F1 or ROC AUC (--metric f1 or --metric roc_auc)" if problem.kind == "binary"
             else "macro-F1 (--metric macro_f1)")
    return replace(_RECOMMENDATIONS[problem.kind], target="imbalanced classes", notes=(
        f"Accuracy is misleading here: the majority class ({names[largest]}) alone scores {shares[largest]:.1%}, "
        f"and the smallest ({names[smallest]}) holds {shares[smallest]:.1%} of the rows; judge models by {judge}.",))


_ADVICE = {
    "counts": _counts_advice,
    "positive, right-skewed": _skewed_advice,
    "proportion": _proportion_advice,
    "imbalanced classes": _imbalance_advice,
}
