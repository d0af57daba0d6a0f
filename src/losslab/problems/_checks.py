"""Checking a table once, at the boundary: ``validate`` (DataFrame -> checked data).

:func:`validate` checks the target column, the feature types, missing and infinite values, the
kind of problem, the class sizes and the row counts. Every error a user can fix is raised there
as a one-line :class:`~losslab.errors.DataError` (the data),
:class:`~losslab.errors.TargetError` (the target's values) or
:class:`~losslab.errors.SettingsError` (``test_size``, the split's ``seed``); what passes is returned as
:class:`Checked` data, which the preparation in :mod:`losslab.problems._tabular` trusts.

Kind of problem, when ``kind`` is not given (:func:`infer_kind`):

- text, categorical or boolean target: ``binary`` with exactly two classes, else ``multiclass``;
- numeric target with exactly two distinct values: ``binary``;
- numeric target whose values are all whole numbers, with at most ``MAX_INTEGER_CLASSES`` (20)
  distinct values and each value in two rows or more on average: ``multiclass``;
- any other numeric target: ``regression``.

So a count or a 1-10 rating is taken as classes; pass ``kind="regression"`` to treat it as a
quantity. Class labels are kept in ``Problem.class_names`` and ``y`` holds their indices 0..K-1,
in sorted order (categorical targets keep their categories' order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from losslab._names import did_you_mean, normalize
from losslab.errors import DataError, SettingsError, TargetError
from losslab.problems._problem import KINDS, Kind

#: Whole-number targets with at most this many distinct values are taken as classes.
MAX_INTEGER_CLASSES = 20
#: A text feature with more distinct values than this (or than half the rows) is refused.
MAX_CATEGORIES = 50
#: Fewer rows than this cannot give a meaningful train and test set.
MIN_ROWS = 10


# ------------------------------------------------------------------------------- kind inference


def infer_kind(y: pd.Series | np.ndarray | Sequence[object]) -> Kind:
    """The kind of problem a target column describes (see the module docstring for the rule).

    >>> infer_kind([0.5, 1.25, 3.0, 2.2])
    'regression'
    >>> infer_kind(["cat", "dog", "cat"])
    'binary'
    >>> infer_kind([0, 1, 2, 2, 1, 0])
    'multiclass'
    """
    values = pd.Series(y).dropna()
    n_distinct = values.nunique()
    if not _is_number_column(values):
        return "binary" if n_distinct <= 2 else "multiclass"
    if n_distinct <= 2:
        return "binary"
    as_float = values.to_numpy(dtype=np.float64)
    few = n_distinct <= MAX_INTEGER_CLASSES and n_distinct <= len(values) / 2
    if few and np.all(np.mod(as_float[np.isfinite(as_float)], 1) == 0):
        return "multiclass"
    return "regression"


def _is_number_column(values: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(values.dtype) and not ptypes.is_bool_dtype(values.dtype)


# ----------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class Checked:
    """Data that passed :func:`validate`: finite, typed, and large enough to split."""

    numeric: pd.DataFrame  # float64 feature columns
    categorical: pd.DataFrame  # str feature columns
    y: np.ndarray  # float64 (regression) or int64 class indices
    kind: Kind
    kind_given: bool
    class_names: tuple[str, ...]
    n_rows_in: int
    dropped_by_column: dict[str, int]
    n_dropped: int


def validate(frame: object, target: str, kind: str | None, test_size: float, dropna: bool, *, seed: int) -> Checked:
    """Check everything about a table and its target once; raise one clear error or return clean data."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame, got {type(frame).__name__}; for NumPy arrays use Problem.from_arrays(X, y)"
        )
    if kind is not None and kind not in KINDS:
        raise DataError(f"kind must be one of {', '.join(KINDS)} (or None to infer it), got {kind!r}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise SettingsError(f"test_size must be a fraction between 0 and 1, e.g. 0.25; got {test_size!r}")
    _check_split_seed(seed)
    frame = frame.reset_index(drop=True)  # the user's index may repeat labels; rows are positions here
    frame.columns = [str(c) for c in frame.columns]
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise DataError(f"duplicate column names {', '.join(map(repr, duplicated))}; rename them so each is unique")
    target = str(target)
    if target not in frame.columns:
        raise DataError(_missing_target_message(target, list(frame.columns)))
    features = [c for c in frame.columns if c != target]
    if not features:
        raise DataError(f"the data has no feature columns besides the target {target!r}; add the inputs to predict from")

    converted = {c: _convert_feature(frame[c], c) for c in features}
    y_raw = _convert_target(frame[target])
    bad_rows, dropped_by_column = _bad_values(converted, target, y_raw, dropna)
    n_rows_in = len(frame)
    keep = ~bad_rows
    n_rows = int(keep.sum())
    if n_rows < MIN_ROWS:
        after = f" after dropping {n_rows_in - n_rows} with missing values" if n_rows != n_rows_in else ""
        raise DataError(
            f"the data has only {n_rows} rows{after}; losslab needs at least {MIN_ROWS} to split into train and "
            "test (a few hundred for results worth comparing)"
        )
    numeric = pd.DataFrame({c: s[keep] for c, s in converted.items() if ptypes.is_float_dtype(s.dtype)})
    categorical = pd.DataFrame({c: s[keep] for c, s in converted.items() if not ptypes.is_float_dtype(s.dtype)})
    for column in categorical.columns:
        _check_categories(categorical[column], column)
    y_kept = y_raw[keep]
    kind_used, y, class_names = _encode_target(y_kept, target, kind)
    _check_split(y, kind_used, class_names, test_size, target)
    return Checked(
        numeric=numeric.reset_index(drop=True),
        categorical=categorical.reset_index(drop=True),
        y=y,
        kind=kind_used,
        kind_given=kind is not None,
        class_names=class_names,
        n_rows_in=n_rows_in,
        dropped_by_column=dropped_by_column,
        n_dropped=n_rows_in - n_rows,
    )


def _check_split_seed(seed: object) -> None:
    # scikit-learn's train_test_split takes a NumPy seed: a whole number in [0, 2**32).
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
        raise SettingsError(
            f"the split's seed (--split-seed on the command line) must be a whole number from 0 to 2**32 - 1, "
            f"e.g. 0; got {seed!r}"
        )


def _missing_target_message(target: str, columns: list[str]) -> str:
    message = did_you_mean(target, {normalize(c): c for c in columns}, "column")
    head, _, listing = message.partition(" Known columns: ")
    if len(columns) > 20:
        listing = ", ".join(columns[:20]) + f", ... ({len(columns)} columns)"
    return f"no target column {target!r} in the data{head.removeprefix(f'unknown column {target!r}')} Columns: {listing}"


def _value_kinds(values: pd.Series) -> set[str]:
    kinds = set()
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(value, (int, float, np.integer, np.floating)):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("text")
        else:
            kinds.add(type(value).__name__)
    return kinds


def _convert_feature(column: pd.Series, name: str) -> pd.Series:
    """A float64 Series for a numeric feature, or an object Series of str for a categorical one."""
    dtype = column.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        raise DataError(
            f"feature column {name!r} holds dates or times; turn it into numbers (e.g. day of year) or drop it"
        )
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return _as_text(column)
    if ptypes.is_complex_dtype(dtype):
        raise DataError(f"feature column {name!r} holds complex numbers; split it into real and imaginary columns")
    if ptypes.is_numeric_dtype(dtype):
        return column.astype(np.float64)
    present = column.dropna()
    kinds = _value_kinds(present)
    if len(kinds) > 1:
        raise DataError(
            f"feature column {name!r} mixes value types ({', '.join(sorted(kinds))}); make it all numbers or all "
            "text, or drop it"
        )
    numbers = pd.to_numeric(present, errors="coerce")
    n_numbers = int(numbers.notna().sum())
    if n_numbers == len(present):
        return pd.to_numeric(column, errors="coerce").astype(np.float64)
    if n_numbers >= len(present) / 2:
        examples = ", ".join(repr(str(v)) for v in present[numbers.isna()].unique()[:3])
        raise DataError(
            f"feature column {name!r} is mostly numbers but {len(present) - n_numbers} of {len(present)} values "
            f"are text (e.g. {examples}); fix or blank out those values, or drop the column"
        )
    return _as_text(column)


def _as_text(column: pd.Series) -> pd.Series:
    return column.astype(object).map(str, na_action="ignore").astype(object)


def _convert_target(column: pd.Series) -> pd.Series:
    """Numbers as float64 (booleans and categories untouched), text that is all numbers as numbers."""
    dtype = column.dtype
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return column
    if ptypes.is_numeric_dtype(dtype):
        return column.astype(np.float64)
    present = column.dropna()
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all() and _value_kinds(present) <= {"number", "text"}:
        return pd.to_numeric(column, errors="coerce").astype(np.float64)
    return _as_text(column)


def _bad_values(
    converted: dict[str, pd.Series], target: str, y: pd.Series, dropna: bool
) -> tuple[np.ndarray, dict[str, int]]:
    """Rows with a missing or infinite value; an error naming the columns unless ``dropna``."""
    n = len(y)
    bad = np.zeros(n, dtype=bool)
    counts: dict[str, tuple[int, int]] = {}
    for name, column in [*converted.items(), (target, y)]:
        missing = column.isna().to_numpy()
        infinite = np.zeros(n, dtype=bool)
        if ptypes.is_float_dtype(column.dtype):
            infinite = np.isinf(column.to_numpy(dtype=np.float64, na_value=np.nan))
        if missing.any() or infinite.any():
            counts[name] = (int(missing.sum()), int(infinite.sum()))
            bad |= missing | infinite
    if counts and not dropna:
        parts = []
        for name, (n_missing, n_inf) in list(counts.items())[:5]:
            what = " and ".join(
                p for p in (f"{n_missing} missing" if n_missing else "", f"{n_inf} infinite" if n_inf else "") if p
            )
            parts.append(f"{'target ' if name == target else ''}{name!r} ({what})")
        more = f" and {len(counts) - 5} more columns" if len(counts) > 5 else ""
        raise DataError(
            f"missing or infinite values in {', '.join(parts)}{more}: {int(bad.sum())} of {n} rows; "
            "pass --dropna (dropna=True in Python) to drop those rows, or fill the values in"
        )
    return bad, {name: int(m + i) for name, (m, i) in counts.items()}


def _check_categories(column: pd.Series, name: str) -> None:
    n_distinct = column.nunique()
    if n_distinct > MAX_CATEGORIES or n_distinct > len(column) / 2:
        raise DataError(
            f"feature column {name!r} has {n_distinct} different text values in {len(column)} rows, so it looks "
            f"like free text or an ID rather than a category (one-hot encoding takes at most {MAX_CATEGORIES} "
            "categories, each in two rows or more on average); drop the column or encode it as numbers yourself "
            "(if it holds numbers, check the decimal separator)"
        )


def _encode_target(y: pd.Series, target: str, kind: str | None) -> tuple[Kind, np.ndarray, tuple[str, ...]]:
    """The problem kind, the target as float64 values or int64 class indices, and the class names."""
    n_distinct = y.nunique()
    numeric = _is_number_column(y)
    if n_distinct == 1:
        only = _label(y.iloc[0])
        if numeric and kind in (None, "regression"):
            raise TargetError(f"target {target!r} has the same value ({only}) in all {len(y)} rows; nothing to predict")
        raise TargetError(
            f"target {target!r} has only one class ({only!r}) in all {len(y)} rows; a classifier needs at least two"
        )
    kind_used: Kind = kind if kind is not None else infer_kind(y)  # type: ignore[assignment]
    if kind_used == "regression":
        if not numeric and not ptypes.is_bool_dtype(y.dtype):
            example = _label(y.iloc[0])
            raise TargetError(
                f"target {target!r} holds labels such as {example!r}, not numbers, so it cannot be a regression "
                "target; use kind='multiclass' or 'binary', or leave kind unset"
            )
        return "regression", y.to_numpy(dtype=np.float64), ()
    if isinstance(y.dtype, pd.CategoricalDtype):
        present = set(y.unique())
        labels = [c for c in y.dtype.categories if c in present]
    else:
        labels = sorted(y.unique())
    if kind_used == "binary" and len(labels) != 2:
        shown = ", ".join(repr(_label(v)) for v in labels[:5]) + (", ..." if len(labels) > 5 else "")
        raise TargetError(
            f"kind='binary' needs exactly two classes but target {target!r} has {len(labels)} ({shown}); "
            "use kind='multiclass'"
        )
    if len(labels) > MAX_INTEGER_CLASSES and len(labels) > len(y) / 2:
        raise TargetError(
            f"target {target!r} has {len(labels)} different values in {len(y)} rows, too many to be classes; "
            + ("use kind='regression'" if numeric else "it looks like an ID or free text; choose another target")
        )
    codes = {label: i for i, label in enumerate(labels)}
    indices = y.map(codes).to_numpy(dtype=np.int64)
    return kind_used, indices, tuple(_label(v) for v in labels)


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _check_split(y: np.ndarray, kind: Kind, class_names: tuple[str, ...], test_size: float, target: str) -> None:
    n = len(y)
    n_test = math.ceil(test_size * n)  # as scikit-learn's train_test_split computes it
    n_train = n - n_test
    if n_train < 1:
        raise SettingsError(f"test_size={test_size} leaves no training rows out of {n}; use a test_size like 0.25")
    if kind == "regression":
        return
    counts = np.bincount(y, minlength=len(class_names))
    small = [(class_names[i], int(c)) for i, c in enumerate(counts) if c < 2]
    if small:
        shown = ", ".join(f"{name!r} ({count} row)" for name, count in small[:5])
        shown += f" and {len(small) - 5} more" if len(small) > 5 else ""
        which = f"class {shown} of target {target!r} has" if len(small) == 1 else (
            f"classes {shown} of target {target!r} have")
        raise TargetError(
            f"{which} fewer than 2 rows, too few for a stratified split that puts each class in both train and "
            "test; drop those rows or merge the class with another"
        )
    k = len(class_names)
    if n_test < k or n_train < k:
        which, size = ("test", n_test) if n_test < k else ("training", n_train)
        fix = "larger" if which == "test" else "smaller"
        raise SettingsError(
            f"test_size={test_size} gives {size} {which} rows for {k} classes; a stratified split needs at least "
            f"one row of each class in both sets; use a {fix} test_size"
        )

