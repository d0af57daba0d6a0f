"""Problems: the data side of an experiment.

``get_problem(name)`` builds a named problem: the tutorial's ``regression``, ``circles`` and
``blobs``, exactly as the tutorial sets them up, or one of scikit-learn's bundled data sets
(``diabetes``, ``breast_cancer``, ``iris``, ``wine``, ``digits``), prepared like your own data.
Your own data: ``Problem.from_file(path, target)``, ``Problem.from_frame(df, target)`` or
``Problem.from_arrays(X, y)``; ``load_table(path)`` reads a CSV or Parquet file. What losslab
does with your data on its own (a column left out, a target read as counts) it says in a
:class:`DataNote` warning.
"""

from __future__ import annotations

from collections.abc import Callable

from losslab._names import did_you_mean, normalize
from losslab.errors import DataError, UnknownNameError
from losslab.problems._bundled import BUNDLED_DATASETS, dataset_names, load_dataset
from losslab.problems._checks import MAX_INTEGER_CLASSES, DataNote, infer_kind, is_count_like
from losslab.problems._problem import KINDS, Kind, Problem
from losslab.problems._reading import load_table
from losslab.problems._tabular import file_name, problem_from_arrays, problem_from_file, problem_from_frame
from losslab.problems._tutorial import blobs, circles, positive_regression, regression

TUTORIAL_PROBLEMS: dict[str, Callable[[], Problem]] = {
    "regression": regression,
    "circles": circles,
    "blobs": blobs,
    "positive_regression": positive_regression,
}


def problem_names() -> list[str]:
    """Names accepted by :func:`get_problem`: the tutorial's problems, then the bundled data sets."""
    return [*TUTORIAL_PROBLEMS, *BUNDLED_DATASETS]


def is_tutorial_problem(name: str) -> bool:
    """Whether ``name`` is one of the tutorial's fixed problems (which take no split options)."""
    return normalize(name) in TUTORIAL_PROBLEMS


def get_problem(
    name: str,
    *,
    test_size: float | None = None,
    seed: int | None = None,
    center_target: bool | None = None,
) -> Problem:
    """Build the problem called ``name`` (case-insensitive; ``breast-cancer`` works too).

    The options apply to the bundled data sets (defaults: ``test_size=0.25``, ``seed=0``,
    ``center_target=True``; a plan with MSLE, Poisson or MAPE un-centres the target itself).
    The tutorial's problems are fixed as the tutorial sets them up, and refuse options.

    >>> get_problem("blobs").n_classes
    3
    >>> get_problem("Breast Cancer").kind
    'binary'
    """
    key = normalize(name)
    options = {"test_size": test_size, "seed": seed, "center_target": center_target}
    given = {k: v for k, v in options.items() if v is not None}
    if key in TUTORIAL_PROBLEMS:
        if given:
            raise DataError(
                f"the tutorial problem {key!r} is fixed as the tutorial sets it up (first 500 rows train, last 500 "
                f"test), so {', '.join(given)} cannot be set; these options apply to the data sets "
                f"{', '.join(BUNDLED_DATASETS)} and to your own data"
            )
        return TUTORIAL_PROBLEMS[key]()
    if key in BUNDLED_DATASETS:
        return load_dataset(key, **given)
    raise UnknownNameError(did_you_mean(name, problem_names(), "problem"))


__all__ = [
    "BUNDLED_DATASETS",
    "DataNote",
    "KINDS",
    "Kind",
    "MAX_INTEGER_CLASSES",
    "Problem",
    "TUTORIAL_PROBLEMS",
    "blobs",
    "circles",
    "dataset_names",
    "file_name",
    "get_problem",
    "infer_kind",
    "is_count_like",
    "is_tutorial_problem",
    "load_dataset",
    "load_table",
    "problem_from_arrays",
    "problem_from_file",
    "problem_from_frame",
    "positive_regression",
    "problem_names",
    "regression",
]
