"""Real data sets that ship with scikit-learn (no download), prepared like your own data.

Each is read as a DataFrame and goes through :func:`problem_from_frame` with its kind given, so
the split, scaling and record are exactly those of a user's table. Class targets keep
scikit-learn's label order and names (breast_cancer: 0 = malignant, 1 = benign).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sklearn import datasets

from losslab.problems._problem import Kind, Problem
from losslab.problems._tabular import problem_from_frame


@dataclass(frozen=True)
class BundledDataset:
    """One of scikit-learn's bundled data sets: how to load it and what it is."""

    loader: Callable[..., object]
    kind: Kind
    description: str
    options: tuple[tuple[str, object], ...] = ()


BUNDLED_DATASETS: dict[str, BundledDataset] = {
    "diabetes": BundledDataset(
        datasets.load_diabetes, "regression",
        "diabetes: 442 patients, 10 baseline measurements -> disease progression after a year",
        (("scaled", False),),  # raw features: losslab scales them on the training rows only
    ),
    "breast_cancer": BundledDataset(
        datasets.load_breast_cancer, "binary",
        "breast_cancer: 569 tumours, 30 cell-nucleus measurements -> malignant or benign",
    ),
    "iris": BundledDataset(
        datasets.load_iris, "multiclass",
        "iris: 150 flowers, 4 sepal and petal measurements -> one of 3 species",
    ),
    "wine": BundledDataset(
        datasets.load_wine, "multiclass",
        "wine: 178 wines, 13 chemical measurements -> one of 3 cultivars",
    ),
    "digits": BundledDataset(
        datasets.load_digits, "multiclass",
        "digits: 1,797 handwritten digits as 8x8 pixel intensities (64 features) -> 0-9",
    ),
}


def dataset_names() -> list[str]:
    """Names of the bundled data sets."""
    return list(BUNDLED_DATASETS)


def load_dataset(name: str, *, test_size: float = 0.25, seed: int = 0, center_target: bool = True) -> Problem:
    """The bundled data set ``name`` (a key of ``BUNDLED_DATASETS``) as a prepared :class:`Problem`.

    >>> load_dataset("iris").n_classes
    3
    """
    spec = BUNDLED_DATASETS[name]
    bunch = spec.loader(as_frame=True, **dict(spec.options))
    frame = bunch.frame.copy()
    if spec.kind != "regression":
        names = [str(n) for n in bunch.target_names]
        frame["target"] = pd.Categorical.from_codes(frame["target"].to_numpy(), categories=names)
    return problem_from_frame(
        frame, "target", kind=spec.kind, test_size=test_size, seed=seed,
        center_target=center_target, name=name, description=spec.description,
        source=f"sklearn.datasets.{spec.loader.__name__}",
    )
