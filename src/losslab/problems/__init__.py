"""Problems: the data side of an experiment.

``get_problem(name)`` builds a named problem: the tutorial's ``regression``, ``circles`` and
``blobs``.
"""

from __future__ import annotations

from collections.abc import Callable

from losslab._names import did_you_mean, normalize
from losslab.errors import UnknownNameError
from losslab.problems._problem import KINDS, Kind, Problem
from losslab.problems._tutorial import blobs, circles, regression

TUTORIAL_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "regression": regression,
    "circles": circles,
    "blobs": blobs,
}


def problem_names() -> list[str]:
    """Names accepted by :func:`get_problem`."""
    return list(TUTORIAL_PROBLEMS)


def get_problem(name: str) -> Problem:
    """Build the problem called ``name`` (case-insensitive).

    >>> get_problem("blobs").n_classes
    3
    """
    key = normalize(name)
    if key not in TUTORIAL_PROBLEMS:
        raise UnknownNameError(did_you_mean(name, problem_names(), "problem"))
    return TUTORIAL_PROBLEMS[key]()


__all__ = ["KINDS", "Kind", "Problem", "get_problem", "problem_names", "blobs", "circles", "regression"]
