"""Checking a table once, at the boundary: ``validate`` (DataFrame -> checked data).

:func:`validate` chooses the feature columns, then checks the target column, the feature types,
missing and infinite values, the kind of problem, the class sizes and the row counts. Every error
a user can fix is raised there as a one-line :class:`~losslab.errors.DataError` (the data),
:class:`~losslab.errors.TargetError` (the target's values) or
:class:`~losslab.errors.SettingsError` (``test_size``, the split's ``seed``); what passes is returned as
:class:`Checked` data, which the preparation in :mod:`losslab.problems._tabular` trusts. What
losslab decides on its own and a user may want to undo is said in a :class:`DataNote` warning.

Feature columns: ``features=[...]`` names the ones to use, ``drop=[...]`` the ones to leave out;
by default every column but the target. A table read from a file (``detect_columns``) also has
its useless columns left out with a note, each recorded with its reason: row IDs (a different
whole number in every row forming a run with few gaps, from any start, unless the column is
named as a year; or a different short text without spaces in every row; in tables of
``MIN_ID_ROWS`` rows or more), constant columns, empty columns and the nameless empty columns
(``Unnamed: 3``) a separator at the end of each line makes. A column named in ``features`` is
never left out: a constant or empty one is refused. A DataFrame handed in is taken as it is.
Dates (a datetime column, or text that reads as dates in nearly every row) are refused, not
dropped: leaving them out or turning them into numbers (the year, the day of the year) is the
user's choice. So are columns of lists or records (from Parquet), and
columns of numbers with a few text values among them (target or feature): those are typing
errors, not categories.

Kind of problem, when ``kind`` is not given (:func:`infer_kind`):

- text, categorical or boolean target: ``binary`` with exactly two classes, else ``multiclass``;
- numeric target with exactly two distinct values: ``binary``;
- whole-number target that reads as counts (:func:`is_count_like`: all >= 0, five or more
  distinct values, and a 0 among them or a right skew of 1 or more): ``regression``, with a note;
- other whole-number target with at most ``MAX_INTEGER_CLASSES`` (20) distinct values, each in
  two rows or more on average: ``multiclass``;
- whole-number target >= 0 with more than 20 distinct values, each in five rows or more on
  average: refused, as it could be either; ``kind`` says which;
- any other numeric target: ``regression``.

So a 1-10 rating is taken as classes; pass ``kind="regression"`` to treat it as a quantity, or
``kind="multiclass"`` to take counts as labels. Class labels are kept in ``Problem.class_names``
and ``y`` holds their indices 0..K-1, in sorted order (categorical targets keep their categories'
order).
"""

from __future__ import annotations

import datetime
import functools
import math
import re
import shlex
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from scipy import stats

from losslab._names import did_you_mean, normalize
from losslab.errors import DataError, SettingsError, TargetError
from losslab.problems._problem import KINDS, Kind

#: Whole-number targets with at most this many distinct values are taken as classes.
MAX_INTEGER_CLASSES = 20
#: A text feature with more distinct values than this is refused unless each value has
#: :data:`ROWS_PER_CATEGORY` rows on average (51 US states and DC in 12,000 rows are categories);
#: one with more than half the rows distinct, or more than :data:`MOST_CATEGORIES`, always.
MAX_CATEGORIES = 50
ROWS_PER_CATEGORY = 20
#: One-hot columns a text feature may become at most (a float64 block per row and value).
MOST_CATEGORIES = 200
#: Fewer rows than this cannot give a meaningful train and test set.
MIN_ROWS = 10
#: A column with a different value in every row is taken for a row ID from this many rows on.
MIN_ID_ROWS = 20
#: Counts: whole numbers >= 0 with at least this many distinct values ...
MIN_COUNT_VALUES = 5
#: ... and a 0 among them or at least this sample skewness (``scipy.stats.skew``, biased).
COUNT_SKEW = 1.0


class DataNote(UserWarning):
    """Something losslab did with the data on its own that the user may want to undo (a column
    left out, a target read as counts); the message says how."""


# ------------------------------------------------------------------------------- kind inference


def infer_kind(y: pd.Series | np.ndarray | Sequence[object]) -> Kind:
    """The kind of problem a target column describes (see the module docstring for the rule).

    Raises :class:`~losslab.errors.DataError` for many whole numbers that could be class labels
    or a quantity alike.

    >>> infer_kind([0.5, 1.25, 3.0, 2.2])
    'regression'
    >>> infer_kind(["cat", "dog", "cat"])
    'binary'
    >>> infer_kind([0, 1, 2, 2, 1, 0])
    'multiclass'
    >>> infer_kind([0, 3, 1, 0, 7, 2, 0, 12])
    'regression'
    """
    return _inferred_kind(pd.Series(y).dropna(), "the target")


def is_count_like(y: pd.Series | np.ndarray | Sequence[object]) -> bool:
    """Whether a target reads as counts: whole numbers (not booleans), all >= 0, at least
    ``MIN_COUNT_VALUES`` (5) distinct, and a 0 among them or a sample skewness
    (``scipy.stats.skew``, ``bias=True``) of at least ``COUNT_SKEW`` (1.0).

    >>> is_count_like([0, 1, 1, 2, 5, 3, 0, 9])
    True
    >>> is_count_like([1, 2, 3, 4, 5] * 4)
    False
    """
    values = pd.Series(y).dropna()
    whole = _whole_numbers(values)
    return whole is not None and _counts(whole)


def _inferred_kind(values: pd.Series, what: str) -> Kind:
    """The rule of :func:`infer_kind` for present values; ``what`` names the target in an error."""
    n_distinct = values.nunique()
    if not _is_number_column(values):
        return "binary" if n_distinct <= 2 else "multiclass"
    if n_distinct <= 2:
        return "binary"
    whole = _whole_numbers(values)
    if whole is None or _counts(whole):
        return "regression"
    rows_per_value = len(whole) / n_distinct
    if n_distinct <= MAX_INTEGER_CLASSES and rows_per_value >= 2:
        return "multiclass"
    if n_distinct > MAX_INTEGER_CLASSES and whole.min() >= 0 and rows_per_value >= 5:
        raise DataError(
            f"{what} holds {n_distinct} different whole numbers from {_label(whole.min())} to {_label(whole.max())}, "
            f"each in {rows_per_value:.0f} rows on average, so they could be class labels or a quantity; pass "
            "kind='multiclass' if they are labels or kind='regression' if they are amounts (--kind on the command line)"
        )
    return "regression"


def _whole_numbers(values: pd.Series) -> np.ndarray | None:
    """The finite values as float64 if they are all whole numbers (booleans are not), else None."""
    if not _is_number_column(values):
        return None
    as_float = values.to_numpy(dtype=np.float64)
    finite = as_float[np.isfinite(as_float)]  # infinities are refused elsewhere; they say nothing about the kind
    return finite if np.all(np.mod(finite, 1) == 0) else None


def _counts(whole: np.ndarray) -> bool:
    distinct = np.unique(whole)
    if len(distinct) < MIN_COUNT_VALUES or distinct[0] < 0:
        return False
    return bool(distinct[0] == 0 or stats.skew(whole, bias=True) >= COUNT_SKEW)


def _is_number_column(values: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(values.dtype) and not ptypes.is_bool_dtype(values.dtype)


# ----------------------------------------------------------------------------------- validation


#: Rows prepared at a time: the float64 copies made on the way stay small for any table.
BLOCK = 65_536


@dataclass(frozen=True)
class Columns(ABC):
    """Data that passed the checks, as the preparation reads it: the target and what the checks
    found, and the feature columns a block of :data:`BLOCK` rows at a time, from memory
    (:class:`Checked`) or from a table kept on disk (``losslab.problems._on_disk``).

    ``rows`` are row positions in increasing order; each block holds the next :data:`BLOCK` of
    them (fewer in the last).
    """

    y: np.ndarray  # float64 (regression) or int64 class indices
    kind: Kind
    kind_given: bool
    class_names: tuple[str, ...]
    n_rows_in: int
    dropped_by_column: dict[str, int]
    n_dropped: int
    dropped_columns: dict[str, str]  # column -> why it is not a feature

    @property
    @abstractmethod
    def numeric_names(self) -> list[str]: ...

    @property
    @abstractmethod
    def text_names(self) -> list[str]: ...

    @abstractmethod
    def numeric_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        """The numeric columns of ``rows`` as float64 arrays ``(block rows, numeric columns)``;
        a block may be refilled for the next one, so use it before taking that."""

    @abstractmethod
    def text_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        """The text columns of ``rows`` as object arrays of str ``(block rows, text columns)``."""

    @abstractmethod
    def categories(self, rows: np.ndarray) -> list[list[str]]:
        """Each text column's distinct values on ``rows``, sorted."""


@dataclass(frozen=True)
class Checked(Columns):
    """Data that passed :func:`validate`, in memory: finite, typed, and large enough to split."""

    numeric: dict[str, np.ndarray]  # float feature columns (float32 or float64), the kept rows
    categorical: pd.DataFrame  # str feature columns

    @property
    def numeric_names(self) -> list[str]:
        return list(self.numeric)

    @property
    def text_names(self) -> list[str]:
        return list(self.categorical.columns)

    def numeric_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        buffer = np.empty((min(BLOCK, len(rows)), len(self.numeric)), dtype=np.float64)
        for start in range(0, len(rows), BLOCK):
            block = rows[start:start + BLOCK]
            matrix = buffer[:len(block)]
            for j, values in enumerate(self.numeric.values()):  # a column at a time: float32 widened once
                matrix[:, j] = values[block]
            yield matrix

    def text_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, len(rows), BLOCK):
            yield self._texts[rows[start:start + BLOCK]]

    def categories(self, rows: np.ndarray) -> list[list[str]]:
        return [sorted(set(column)) for column in self._texts[rows].T]

    @functools.cached_property
    def _texts(self) -> np.ndarray:
        """The text columns as one object array: made once for the encoder and both parts."""
        return self.categorical.to_numpy(dtype=object)


def validate(
    frame: object,
    target: str,
    kind: str | None,
    test_size: float,
    dropna: bool,
    *,
    seed: int,
    features: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    detect_columns: bool = False,
) -> Checked:
    """Check everything about a table and its target once; raise one clear error or return clean data.

    ``features`` and ``drop`` choose the feature columns; ``detect_columns`` (for a table read
    from a file) also leaves out, with a :class:`DataNote`, the columns that cannot help predict.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame, got {type(frame).__name__}; for NumPy arrays use Problem.from_arrays(X, y)"
        )
    check_options(kind, test_size, seed)
    frame = frame.reset_index(drop=True)  # the user's index may repeat labels; rows are positions here
    frame.columns = [str(c) for c in frame.columns]
    duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
    if duplicated:
        raise DataError(f"duplicate column names {', '.join(map(repr, duplicated))}; rename them so each is unique")
    target = str(target)
    if target not in frame.columns:
        raise DataError(missing_target_message(target, list(frame.columns)))
    chosen, left_out = chosen_columns(list(frame.columns), target, features, drop)
    converted = {c: _convert_feature(frame[c], c) for c in chosen}
    if detect_columns:
        useless = _useless_columns(frame, converted, named=features is not None)
        converted = {c: s for c, s in converted.items() if c not in useless}
        left_out |= useless
    if not converted:
        raise DataError(no_features_message(target, left_out))

    y_raw = _convert_target(frame[target], target, kind)
    bad_rows, dropped_by_column = _bad_values(converted, target, y_raw, dropna)
    n_rows_in = len(frame)
    keep = ~bad_rows
    n_rows = int(keep.sum())
    check_rows(n_rows, n_rows_in)
    every_row = bool(keep.all())  # then the columns are taken as they are: a large table is not copied here
    numeric = {c: s.to_numpy() if every_row else s.to_numpy()[keep]
               for c, s in converted.items() if ptypes.is_float_dtype(s.dtype)}
    categorical = pd.DataFrame({c: s[keep] for c, s in converted.items() if c not in numeric})
    for column in categorical.columns:
        _check_categories(categorical[column], column)
    y_kept = y_raw[keep]
    kind_used, y, class_names = encoded_target(y_kept, target, kind)
    check_split(y, kind_used, class_names, test_size, target)
    return Checked(
        numeric=numeric,
        categorical=categorical.reset_index(drop=True),
        y=y,
        kind=kind_used,
        kind_given=kind is not None,
        class_names=class_names,
        n_rows_in=n_rows_in,
        dropped_by_column=dropped_by_column,
        n_dropped=n_rows_in - n_rows,
        dropped_columns=left_out,
    )


def check_options(kind: str | None, test_size: object, seed: object) -> None:
    """Refuse a ``kind``, ``test_size`` or split ``seed`` that cannot be used, before the data are read."""
    if kind is not None and kind not in KINDS:
        raise DataError(f"kind must be one of {', '.join(KINDS)} (or None to infer it), got {kind!r}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise SettingsError(f"test_size must be a fraction between 0 and 1, e.g. 0.25; got {test_size!r}")
    _check_split_seed(seed)


def _check_split_seed(seed: object) -> None:
    # scikit-learn's train_test_split takes a NumPy seed: a whole number in [0, 2**32).
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**32:
        raise SettingsError(
            f"the split's seed (--split-seed on the command line) must be a whole number from 0 to 2**32 - 1, "
            f"e.g. 0; got {seed!r}"
        )


def check_rows(n_rows: int, n_rows_in: int) -> None:
    """Refuse a table with fewer than :data:`MIN_ROWS` rows left to split."""
    if n_rows < MIN_ROWS:
        after = f" after dropping {n_rows_in - n_rows} with missing values" if n_rows != n_rows_in else ""
        raise DataError(
            f"the data has only {n_rows} rows{after}; losslab needs at least {MIN_ROWS} to split into train and "
            "test (a few hundred for results worth comparing)"
        )


def missing_target_message(target: str, columns: list[str]) -> str:
    return f"no target column {target!r} in the data{_close_columns(target, columns)}"


def _close_columns(name: str, columns: list[str]) -> str:
    """'; did you mean ...? Columns: ...' for an unknown column ``name``, the listing cut at 20."""
    message = did_you_mean(name, {normalize(c): c for c in columns}, "column")
    head, _, listing = message.partition(" Known columns: ")
    if len(columns) > 20:
        listing = ", ".join(columns[:20]) + f", ... ({len(columns)} columns)"
    return f"{head.removeprefix(f'unknown column {name!r}')} Columns: {listing}"


# ------------------------------------------------------------------------------ feature columns


def chosen_columns(
    columns: list[str], target: str, features: Sequence[str] | None, drop: Sequence[str] | None
) -> tuple[list[str], dict[str, str]]:
    """The feature columns ``features`` and ``drop`` choose, and the others with why they are left out."""
    named = _column_names(features, "features", columns, target)
    dropped = _column_names(drop, "drop", columns, target) or []
    both = [c for c in named or [] if c in dropped]
    if both:
        raise DataError(f"column {both[0]!r} is named in both features and drop; name it in one of them only")
    if named == []:
        raise DataError("features is empty; name the feature columns to use, or leave features out to use every "
                        "column but the target")
    left_out = {c: "named in drop" for c in dropped}
    if named is None:
        return [c for c in columns if c != target and c not in left_out], left_out
    left_out |= {c: "not named in features" for c in columns if c not in (target, *named, *left_out)}
    return named, left_out


def _column_names(given: Sequence[str] | None, option: str, columns: list[str], target: str) -> list[str] | None:
    """The column names in the ``features`` or ``drop`` option, each checked to be a column and not the target."""
    if given is None:
        return None
    if isinstance(given, str) or not isinstance(given, Iterable):
        shown = repr(given) if isinstance(given, str) else "'column'"
        raise DataError(f"{option} must be a list of column names, e.g. {option}=[{shown}]; got {given!r}")
    names = list(dict.fromkeys(str(name) for name in given))  # a name given twice is meant once
    for name in names:
        if name not in columns:
            close = _close_columns(name, columns)
            raise DataError(f"{option} names {name!r}, which is not a column of the data{close}")
        if name == target:
            raise DataError(f"{option} names the target column {target!r}; the target is never a feature, so take it "
                            f"out of {option}")
    return names


def no_features_message(target: str, left_out: dict[str, str]) -> str:
    if not left_out:
        return f"the data has no feature columns besides the target {target!r}; add the inputs to predict from"
    shown = ", ".join(map(repr, list(left_out)[:10])) + (", ..." if len(left_out) > 10 else "")
    return (f"no feature columns are left besides the target {target!r} (left out: {shown}); name the columns to "
            "use with features=[...] (--features on the command line)")


#: A row ID's values may miss up to a tenth of a run of n whole numbers (rows filtered out): the
#: run may start anywhere (0, 1, 1000, ...), so that ``customer_id`` 1000..1249 is an ID too.
_ID_SPAN = 1.1
#: A run of whole numbers in a column named like this is a calendar year, a feature (one row per year).
_YEAR_NAME = re.compile(r"year|\byr\b", re.IGNORECASE)
#: pandas' name for a column with no header, such as the one a separator at the end of each line makes.
_NAMELESS = re.compile(r"Unnamed: \d+")


def _useless_columns(frame: pd.DataFrame, converted: dict[str, pd.Series], *, named: bool) -> dict[str, str]:
    """The columns of a table read from a file that cannot help predict, with why, said in a
    :class:`DataNote`. Columns the user ``named`` in ``features`` are kept if they are row IDs
    and refused if they are empty or constant."""
    reasons = {name: _uselessness(frame[name], column, name, ids=not named) for name, column in converted.items()}
    return left_out_useless(reasons, named=named)


def left_out_useless(reasons: dict[str, str | None], *, named: bool) -> dict[str, str]:
    """The columns with a reason they cannot help predict, said in a :class:`DataNote`; a column
    the user ``named`` in ``features`` with such a reason is refused instead."""
    useless = {}
    for name, reason in reasons.items():
        if reason and named:
            raise DataError(f"feature column {name!r} is {reason}, so it cannot help predict; take it out of features")
        if reason:
            useless[name] = reason
    if useless:
        parts = "; ".join(f"{name!r} is {reason}" for name, reason in useless.items())
        warnings.warn(
            f"left out {len(useless)} column{'s' if len(useless) > 1 else ''} that cannot help predict: {parts}; to "
            "choose the feature columns yourself, pass features=[...] (--features on the command line)",
            DataNote, stacklevel=3,
        )
    return useless


def _uselessness(raw: pd.Series, converted: pd.Series, name: str, *, ids: bool) -> str | None:
    """Why a feature column cannot help predict (empty, constant, or with ``ids`` a row ID), or None."""
    present = raw.dropna()
    # one value: as nunique() == 1, without hashing a large column
    constant = bool(len(present)) and bool((present == present.iloc[0]).all())
    return uselessness(name, len(raw), len(present), constant, present.iloc[0] if len(present) else None,
                       lambda: _row_id(raw, converted) if ids else None)


def uselessness(name: str, n_rows: int, n_present: int, constant: bool, first: object,
                row_id: Callable[[], str | None]) -> str | None:
    """Why a column of ``n_rows`` values, ``n_present`` of them present, cannot help predict:
    empty, constant (its ``first`` value throughout), or a row ID (``row_id`` says how, or None)."""
    if n_present == 0 and n_rows:
        return empty_reason(name)
    if n_present and constant:
        return constant_reason(first, every_row=n_present == n_rows)
    return row_id()


def empty_reason(name: str) -> str:
    if _NAMELESS.fullmatch(name):
        return "empty, with no header and no values (a separator at the end of each line makes one)"
    return "empty (no values)"


def constant_reason(value: object, *, every_row: bool) -> str:
    rows = "every row" if every_row else "every row that has a value"
    return f"constant (the same value, {_label(value)}, in {rows})"


def integer_id(low: int, high: int, n: int, name: object) -> str | None:
    """How ``n`` different whole numbers from ``low`` to ``high`` read as a row ID, or None (a
    run with too many gaps, or a column named as a year)."""
    year = low not in (0, 1) and _YEAR_NAME.search(str(name or ""))
    if high - low + 1 <= _ID_SPAN * n and not year:
        return f"a row ID (a different whole number in every row, {low} to {high})"
    return None


def text_id(example: str) -> str:
    return f"a row ID (a different text in every row, such as {example!r})"


def _row_id(raw: pd.Series, converted: pd.Series) -> str | None:
    """How a column reads as a row ID: a different value in every row, either whole numbers
    forming a run with few gaps (from any start; not in a column named as a year), or short
    text without spaces (not numbers); else None."""
    n = len(raw)
    integers = ptypes.is_integer_dtype(raw.dtype)
    # decimal numbers are never IDs: they skip the count of distinct values, the costly test
    if n < MIN_ID_ROWS or (ptypes.is_float_dtype(converted.dtype) and not integers) or raw.isna().any():
        return None
    if integers:
        reason = integer_id(int(raw.min()), int(raw.max()), n, raw.name)
        return reason if reason and raw.nunique() == n else None
    if raw.nunique() != n:
        return None
    text = converted.astype(str)
    return None if text.str.contains(r"\s").any() else text_id(text.iloc[0])


# ------------------------------------------------------------------------------- column values


def value_kinds(values: pd.Series) -> set[str]:
    kinds = set()
    for value in values:
        if isinstance(value, (bool, np.bool_)):
            kinds.add("bool")
        elif isinstance(value, (int, float, np.integer, np.floating)):
            kinds.add("number")
        elif isinstance(value, str):
            kinds.add("text")
        elif isinstance(value, (datetime.date, np.datetime64)):  # pandas' Timestamp is a datetime
            kinds.add("date")
        elif isinstance(value, (list, tuple, set, np.ndarray)):  # Parquet list columns hold arrays
            kinds.add("list")
        elif isinstance(value, dict):  # Parquet struct columns
            kinds.add("record")
        else:
            kinds.add(type(value).__name__)
    return kinds


def _convert_feature(column: pd.Series, name: str) -> pd.Series:
    """A float64 Series for a numeric feature, or an object Series of str for a categorical one."""
    dtype = column.dtype
    if ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype):
        raise DataError(dates_message(name, "dates or times"))
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return as_text(column)
    if ptypes.is_complex_dtype(dtype):
        raise DataError(complex_message(name))
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return column  # as it is: float32 is widened once, as the split's feature arrays are filled
    if ptypes.is_numeric_dtype(dtype):
        return column.astype(np.float64)
    present = column.dropna()
    kinds = value_kinds(present)
    check_value_kinds(kinds, name)
    numbers = pd.to_numeric(present, errors="coerce")
    kind = values_kind(name, kinds, len(present), int(numbers.notna().sum()), lambda: dated(present),
                       present.iloc[0] if len(present) else None, lambda: _examples(present[numbers.isna()]))
    return pd.to_numeric(column, errors="coerce").astype(np.float64) if kind == "number" else as_text(column)


def values_kind(name: str, kinds: set[str], n_present: int, n_numbers: int, n_dated: Callable[[], int],
                first: object, non_numbers: Callable[[], str]) -> str:
    """What a feature column of values of any type is, from counts of its ``n_present`` values:
    ``"number"`` when every one reads as a number, ``"text"`` when few do; refused when most do
    (a few typing errors among numbers) or nearly all are dates. Booleans, with a gap or not, are
    categories, never the numbers 0 and 1. ``n_dated`` and ``non_numbers`` (examples for the
    message) are asked for only where the answer needs them."""
    if kinds == {"bool"}:
        return "text"
    if n_numbers == n_present:
        return "number"
    if n_numbers >= n_present / 2:
        raise DataError(mostly_numbers_message(name, n_present - n_numbers, n_present, non_numbers()))
    if n_dated() >= DATE_SHARE * n_present > 0:
        raise DataError(dates_message(name, f"dates (e.g. {first!r})"))
    return "text"


def check_value_kinds(kinds: set[str], name: str) -> None:
    """Refuse a feature column whose values are lists or records, dates, or of several types."""
    _refuse_nested(kinds, f"feature column {name!r}",
                   f"spread it into one column per item (or one row per item, DataFrame.explode), or {_drop_fix(name)}")
    if kinds == {"date"}:
        raise DataError(dates_message(name, "dates"))
    if len(kinds) > 1:
        raise DataError(
            f"feature column {name!r} mixes value types ({', '.join(sorted(kinds))}); make it all numbers or all "
            "text, or drop it"
        )


def complex_message(name: str) -> str:
    return f"feature column {name!r} holds complex numbers; split it into real and imaginary columns"


def mostly_numbers_message(name: str, n_text: int, n_present: int, examples: str) -> str:
    return (f"feature column {name!r} is mostly numbers but {n_text} of {n_present} values are text (e.g. "
            f"{examples}); fix or blank out those values, or {_drop_fix(name)}")


def _drop_fix(name: str) -> str:
    return f"leave the column out with drop=[{name!r}] (--drop on the command line)"


def dates_message(name: str, what: str) -> str:
    return (f"feature column {name!r} holds {what}; {_drop_fix(name)}, or derive numbers from it yourself, such as "
            "the year or the day of the year")


def _examples(values: pd.Series, shown: int = 3) -> str:
    return examples(values.unique()[:shown])


def examples(values: Iterable[object]) -> str:
    """Values shown in a message: ``'a', 'b', 'c'``."""
    return ", ".join(repr(str(v)) for v in values)


def _refuse_nested(kinds: set[str], what: str, fix: str) -> None:
    """Refuse a column of lists or records (dicts), as Parquet's list and struct columns hold."""
    nested = [word for kind, word in (("list", "lists"), ("record", "records (key-value pairs)")) if kind in kinds]
    if nested:
        raise DataError(f"{what} holds {' and '.join(nested)}, not one value per row; {fix}")


#: Dates and times as ISO 8601 (2024-01-31, 2024-01-31T12:00:00Z), with slashes or dots
#: (31/01/2024, 01-31-24, 2024/1/31, 31.01.2024), or with a month's name (31 Jan 2024, January 31, 2024).
_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}|\d{4}/\d{1,2}/\d{1,2})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2} [A-Za-z]{3,9}\.? \d{4}|[A-Za-z]{3,9}\.? \d{1,2},? \d{4}"
)
#: Text reads as dates when at least this share of its values do.
DATE_SHARE = 0.95


def dated(present: pd.Series, share: float = DATE_SHARE) -> int:
    """How many of these text values are dates; 0 when fewer than ``share`` of them are even
    shaped like dates (no need to parse them then)."""
    if present.empty:
        return 0
    counts = present.astype(str).str.strip().value_counts()
    shaped = counts[counts.index.str.fullmatch(_DATE)]
    if shaped.sum() < share * len(present):
        return 0
    with warnings.catch_warnings():  # pandas warns when it guesses day-first; any reading will do here
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(shaped.index.to_series(), format="mixed", errors="coerce")
    return int(shaped[parsed.notna().to_numpy()].sum())


def as_text(column: pd.Series) -> pd.Series:
    return column.astype(object).map(str, na_action="ignore").astype(object)


def _convert_target(column: pd.Series, target: str, kind: str | None) -> pd.Series:
    """Numbers as float64 (booleans and categories untouched), text that is all numbers as numbers.

    Numbers with a few text values among them are refused unless ``kind`` says the target holds
    classes: a value such as 'three' among 0, 1, 2 is a typing error, not a fourth class.
    """
    dtype = column.dtype
    if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return column
    if ptypes.is_numeric_dtype(dtype):
        return column.astype(np.float64)
    present = column.dropna()
    kinds = value_kinds(present)
    refuse_nested_target(kinds, target)
    numbers = pd.to_numeric(present, errors="coerce")
    if target_values_kind(target, kind, kinds, len(present), int(numbers.notna().sum()),
                          lambda: _examples(present[numbers.isna()], 5)) == "number":
        return pd.to_numeric(column, errors="coerce").astype(np.float64)
    return as_text(column)


def target_values_kind(target: str, kind: str | None, kinds: set[str], n_present: int, n_numbers: int,
                       non_numbers: Callable[[], str]) -> str:
    """What a target of values of any type is, from counts: ``"number"`` when every value present
    reads as a number (text or numbers), else ``"text"`` (labels; booleans with a gap among them);
    refused when most values are numbers and ``kind`` does not say they are classes."""
    if kinds == {"bool"}:
        return "text"
    if n_present and n_numbers == n_present and kinds <= {"number", "text"}:
        return "number"
    if kind in (None, "regression") and n_numbers and n_numbers >= n_present / 2:
        raise DataError(target_numbers_message(target, n_present - n_numbers, n_present, non_numbers()))
    return "text"


def target_numbers_message(target: str, n_text: int, n_present: int, examples: str) -> str:
    return (f"target {target!r} holds numbers except for {n_text} of its {n_present} values ({examples}); correct "
            "those values or drop those rows (if the values are class labels, pass kind='multiclass', --kind multiclass "
            "on the command line)")


def refuse_nested_target(kinds: set[str], target: str) -> None:
    _refuse_nested(kinds, f"target {target!r}", "choose a target column with one value per row")


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
    check_missing(counts, target, int(bad.sum()), n, dropna)
    return bad, {name: int(m + i) for name, (m, i) in counts.items()}


def check_missing(counts: dict[str, tuple[int, int]], target: str, n_bad: int, n: int, dropna: bool) -> None:
    """Refuse missing or infinite values (``counts``: column -> (missing, infinite)) unless
    ``dropna``, naming the columns."""
    if not counts or dropna:
        return
    parts = []
    for name, (n_missing, n_inf) in list(counts.items())[:5]:
        what = " and ".join(
            p for p in (f"{n_missing} missing" if n_missing else "", f"{n_inf} infinite" if n_inf else "") if p
        )
        parts.append(f"{'target ' if name == target else ''}{name!r} ({what})")
    more = f" and {len(counts) - 5} more columns" if len(counts) > 5 else ""
    raise DataError(
        f"missing or infinite values in {', '.join(parts)}{more}: {n_bad} of {n} rows; "
        "pass --dropna (dropna=True in Python) to drop those rows, or fill the values in"
    )


def _check_categories(column: pd.Series, name: str) -> None:
    check_categories(column.nunique(), len(column), name)


def check_categories(n_distinct: int, n_rows: int, name: str, *, at_least: bool = False) -> None:
    """Refuse a text column with too many different values to one-hot encode (``at_least``:
    ``n_distinct`` values were counted, and there are more)."""
    sparse = n_distinct > MAX_CATEGORIES and n_rows / n_distinct < ROWS_PER_CATEGORY
    if n_distinct > n_rows / 2 or n_distinct > MOST_CATEGORIES or sparse:
        shown = f"more than {n_distinct:,}" if at_least else str(n_distinct)
        raise DataError(
            f"feature column {name!r} has {shown} different text values in {n_rows} rows, so it looks "
            f"like free text or an ID rather than a category (one-hot encoding takes up to {MAX_CATEGORIES} "
            f"categories in two rows or more each on average, up to {MOST_CATEGORIES} in {ROWS_PER_CATEGORY} rows or "
            f"more each); drop the column (--drop {shlex.quote(name)} on the command line, drop=[{name!r}] in Python) "
            "or encode it as numbers yourself (if it holds numbers, check the decimal separator)"
        )


def encoded_target(y: pd.Series, target: str, kind: str | None) -> tuple[Kind, np.ndarray, tuple[str, ...]]:
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
    kind_used: Kind = kind if kind is not None else _inferred_kind(y, f"target {target!r}")  # type: ignore[assignment]
    if kind is None and kind_used == "regression" and is_count_like(y):
        warnings.warn(
            f"target {target!r} reads as counts (whole numbers >= 0, {n_distinct} different values), so it is taken "
            "as a quantity to predict (regression); if they are class labels, pass kind='multiclass' (--kind "
            "multiclass on the command line)",
            DataNote, stacklevel=2,
        )
    if kind_used == "regression":
        if not numeric and not ptypes.is_bool_dtype(y.dtype):
            example = _label(y.iloc[0])
            raise TargetError(
                f"target {target!r} holds labels such as {example!r}, not numbers, so it cannot be a regression "
                "target; use kind='multiclass' or 'binary' (--kind on the command line), or leave the kind unset"
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
            f"{_kind_to_use(y, target)}"
        )
    if len(labels) > MAX_INTEGER_CLASSES and len(labels) > len(y) / 2:
        raise TargetError(too_many_classes_message(target, len(labels), len(y), numeric))
    codes = {label: i for i, label in enumerate(labels)}
    indices = y.map(codes).to_numpy(dtype=np.int64)
    return kind_used, indices, tuple(_label(v) for v in labels)


def _kind_to_use(y: pd.Series, target: str) -> str:
    """The fix for a kind the target does not fit: the kind it reads as (800 different prices as a
    quantity, three labels as classes), or both when its whole numbers could be either."""
    try:
        kind = _inferred_kind(y, f"target {target!r}")
    except DataError:
        return ("use kind='multiclass' if its values are labels or kind='regression' if they are amounts (--kind on "
                "the command line)")
    kind = "multiclass" if kind == "binary" else kind
    return f"use kind='{kind}' (--kind {kind} on the command line)"


def too_many_classes_message(target: str, n_labels: int | str, n_rows: int, numeric: bool) -> str:
    return (f"target {target!r} has {n_labels} different values in {n_rows} rows, too many to be classes; "
            + ("use kind='regression' (--kind regression on the command line)" if numeric else "it looks like an ID or free text; choose another target"))


def _label(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def check_split(y: np.ndarray, kind: Kind, class_names: tuple[str, ...], test_size: float, target: str) -> None:
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

