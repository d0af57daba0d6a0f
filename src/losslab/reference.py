"""The tutorial's reference implementations (Listings 4.1 to 4.3), in plain Python.

Written for clarity over lists, not for speed: ``losslab.losses`` holds the vectorised versions,
and scikit-learn's ``mean_squared_error`` and ``log_loss`` are the efficient equivalents these
agree with.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import log

#: The tutorial adds this to probabilities so that log(0) is never taken.
TUTORIAL_EPSILON = 1e-15


def mean_squared_error(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Listing 4.1: the sum of squared differences divided by the count."""
    total = 0.0
    for a, p in zip(actual, predicted, strict=True):
        total += (a - p) ** 2
    return total / len(actual)


def binary_cross_entropy(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """Listing 4.2: ``-mean(a*log(1e-15 + p) + (1-a)*log(1e-15 + 1-p))``.

    Both terms are kept: a version with only ``a*log(p)`` ignores every class-0 example.
    """
    total = 0.0
    for a, p in zip(actual, predicted, strict=True):
        total += a * log(TUTORIAL_EPSILON + p) + (1 - a) * log(TUTORIAL_EPSILON + 1 - p)
    return -total / len(actual)


def categorical_cross_entropy(actual: Sequence[Sequence[float]], predicted: Sequence[Sequence[float]]) -> float:
    """Listing 4.3: per row ``-sum_j a_j*log(1e-15 + p_j)``, then the mean over rows."""
    total = 0.0
    for row_a, row_p in zip(actual, predicted, strict=True):
        total += -sum(a * log(TUTORIAL_EPSILON + p) for a, p in zip(row_a, row_p, strict=True))
    return total / len(actual)
