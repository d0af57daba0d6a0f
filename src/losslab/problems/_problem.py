"""The ``Problem``: a data set split into train and test, with its kind and how it was prepared."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import numpy as np

from losslab._arrays import aligned, joined, mapped_file
from losslab.errors import DataError

if TYPE_CHECKING:
    from pathlib import Path
    from typing import Unpack

    import pandas as pd

    from losslab.problems._tabular import PrepareOptions

Kind = Literal["regression", "binary", "multiclass"]
KINDS: tuple[str, ...] = ("regression", "binary", "multiclass")


@dataclass(frozen=True, eq=False)
class Problem:
    """A supervised learning problem, ready to train on.

    ``X_train``/``X_test`` are float arrays of shape ``(n_rows, n_features)``; a problem from
    data keeps them as the two halves of one float32 array (:meth:`pool`). For regression
    ``y_*`` are floats; for classification they are integer class indices ``0..n_classes-1``
    (``class_names`` keeps the original labels). A loss turns these raw targets into the
    encoding it needs (one-hot, {-1, 1}, ...) through ``losslab.encode_targets``.

    ``tutorial`` marks the tutorial's own generated problems, which the plan trains with the
    tutorial's set-up (``losslab.planning.default_settings``); a problem from data gets its own.
    ``preparation`` records how the data were prepared (split, scaling, encoding).
    ``target_scale`` is the standard deviation a regression target was divided by, so that a
    mean squared error times ``target_scale**2`` is in the target's own units, and
    ``target_mean`` the training mean subtracted before that (None when the target was not
    centred); both None for classification and the tutorial's problems. The plan uses them to
    keep a target's signs and zeros for the losses that need them (MSLE, Poisson, MAPE).
    ``target_policy`` is what ``encode_targets`` does with targets a loss cannot use well
    (negative values for MSLE, zeros for MAPE): ``"error"`` refuses them, ``"warn"`` warns and
    goes on as Keras would (the tutorial's regression problem, whose standardised targets are
    half negative and on which the tutorial still runs MSLE).

    Build one from your own data with :meth:`from_frame`, :meth:`from_arrays` or
    :meth:`from_file`; see ``losslab.problems._checks`` for the checks and
    ``losslab.problems._tabular`` for the preparation.
    """

    name: str
    kind: Kind
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None
    feature_names: tuple[str, ...] = ()
    target_name: str = "y"
    class_names: tuple[str, ...] = ()
    description: str = ""
    tutorial: bool = False
    preparation: Mapping[str, object] = field(default_factory=dict)
    target_scale: float | None = None
    target_mean: float | None = None
    target_policy: str = "error"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise DataError(f"problem kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.target_policy not in ("error", "warn"):
            raise DataError(f"target_policy must be 'error' or 'warn', got {self.target_policy!r}")
        for split in ("train", "test"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.ndim != 2 or y.ndim != 1 or len(X) != len(y) or len(X) == 0:
                raise DataError(
                    f"{split} data must be X of shape (rows, features) and y of shape (rows,) "
                    f"with the same number of rows; got X {X.shape} and y {y.shape}"
                )
        if self.X_train.shape[1] != self.X_test.shape[1]:
            raise DataError("train and test must have the same number of feature columns")
        if self.kind == "regression":
            object.__setattr__(self, "n_classes", None)
        elif self.n_classes is None:
            object.__setattr__(self, "n_classes", int(max(self.y_train.max(), self.y_test.max())) + 1)
        if not self.feature_names:
            names = tuple(f"x{i}" for i in range(self.n_features))
            object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "preparation", MappingProxyType(dict(self.preparation)))

    @classmethod
    def from_frame(
        cls, df: pd.DataFrame, target: str, *, name: str | None = None, **options: Unpack[PrepareOptions]
    ) -> Problem:
        """A problem from a DataFrame: predict column ``target`` from the other columns.

        ``kind`` (regression, binary, multiclass) is inferred from the target when None (the
        default): text, categorical or boolean targets, and whole numbers with at most 20
        distinct values each in two rows or more on average, are classes, except counts (whole
        numbers >= 0, five or more distinct, with a 0 or right-skewed), which are a quantity, as
        are other numbers; many whole numbers that could be either are refused until ``kind``
        says which. ``features=[...]`` names the feature columns to use and ``drop=[...]`` the
        ones to leave out (``preparation["dropped_columns"]`` records them); date columns, list
        columns and numbers with a few text values among them are refused with the fix. The
        rows are split at random (stratified by class) with ``test_size`` (0.25) and ``seed``
        (0); numeric features are standardised and text features one-hot encoded, both fitted on
        the training rows. ``dropna=True`` drops rows with a missing or infinite value instead
        of refusing them. A regression target is standardised on the training rows
        (``target_scale`` is its standard deviation); with ``center_target=False`` it is only
        divided by that deviation, keeping signs and zeros, which MSLE, Poisson and MAPE need (a
        plan with one of those losses un-centres a centred target itself). ``name`` defaults to
        the target's name.
        """
        from losslab.problems._tabular import problem_from_frame

        return problem_from_frame(df, target, name=name, **options)

    @classmethod
    def from_arrays(
        cls,
        X: object,
        y: object,
        *,
        feature_names: tuple[str, ...] | list[str] | None = None,
        target_name: str = "y",
        name: str = "arrays",
        **options: Unpack[PrepareOptions],
    ) -> Problem:
        """A problem from ``X`` of shape (rows, features) and ``y`` of shape (rows,); as :meth:`from_frame`."""
        from losslab.problems._tabular import problem_from_arrays

        return problem_from_arrays(
            X, y, feature_names=feature_names, target_name=target_name, name=name, **options
        )

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        target: str,
        *,
        name: str | None = None,
        sep: str | None = None,
        decimal: str | None = None,
        encoding: str | None = None,
        on_disk: bool | None = None,
        data_dir: str | Path | None = None,
        **options: Unpack[PrepareOptions],
    ) -> Problem:
        """A problem from a .csv, .tsv or .parquet file, named after the file; as :meth:`from_frame`.

        ``sep``, ``decimal`` and ``encoding`` override what is sniffed from a CSV file. Row IDs,
        constant and empty columns are left out with a :class:`~losslab.problems.DataNote`
        (``features=[...]`` keeps a row ID). ``on_disk=True`` reads the file a block of rows at a
        time and keeps its prepared features in a file in ``data_dir``, mapped into memory (the
        same problem, bit for bit); None decides by the table's size. See
        ``losslab.problems.problem_from_file``.
        """
        from losslab.problems._tabular import problem_from_file

        return problem_from_file(path, target, name=name, sep=sep, decimal=decimal, encoding=encoding,
                                 on_disk=on_disk, data_dir=data_dir, **options)

    def __repr__(self) -> str:  # the arrays would make the dataclass repr a thousand lines long
        classes = "" if self.kind == "regression" else f", {self.n_classes} classes"
        return (f"<Problem {self.name!r}: {self.kind}{classes}, {self.n_train} train / {self.n_test} test rows, "
                f"{self.n_features} features ({self._feature_list()})>")

    def __str__(self) -> str:
        kind = self.kind if self.kind == "regression" else f"{self.kind} classification, {self.n_classes} classes"
        lines = [f"{self.name}: {kind}",
                 f"  rows: {self.n_train} train, {self.n_test} test",
                 f"  {self.n_features} feature{'s' if self.n_features != 1 else ''}: {self._feature_list()}",
                 f"  target: {self.target_name}"]
        if self.description:
            lines.append(f"  {self.description}")
        return "\n".join(lines)

    def _feature_list(self, shown: int = 5) -> str:
        """The first ``shown`` feature names, and how many more there are."""
        names = ", ".join(self.feature_names[:shown])
        rest = self.n_features - shown
        return f"{names} and {rest} more" if rest > 0 else names

    def pool(self) -> np.ndarray:
        """Every row's features as one float32 array, the train rows then the test rows: what the
        engine trains on. The problem's own array where ``X_train`` and ``X_test`` are its two
        halves (a problem from data, or a table kept on disk: no copy), else a copy laid out for
        the engine (:func:`losslab._arrays.aligned`)."""
        whole = joined(self.X_train, self.X_test)
        if whole is not None:
            return whole
        pool = aligned((self.n_train + self.n_test, self.n_features))
        pool[:self.n_train], pool[self.n_train:] = self.X_train, self.X_test
        return pool

    @property
    def features_file(self) -> str | None:
        """The ``.npy`` file the features are mapped from, read page by page (a table kept on
        disk, a loaded study), or None when they are in memory."""
        whole = joined(self.X_train, self.X_test)
        return mapped_file(whole) if whole is not None else None

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        return int(self.X_train.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.X_test.shape[0])

    def summary(self) -> dict[str, object]:
        """One row describing the problem, for tables."""
        return {
            "problem": self.name,
            "kind": self.kind,
            "n_classes": self.n_classes,
            "features": self.n_features,
            "train": self.n_train,
            "test": self.n_test,
            "description": self.description,
        }
