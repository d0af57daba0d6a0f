"""Your own data: read a table, check it once, and prepare it as a :class:`Problem`.

The flow is ``load_table`` (file -> DataFrame) -> ``problem_from_frame`` (DataFrame -> Problem).
``problem_from_frame`` calls :func:`_validate` once, at the boundary; every error a user can fix
is raised there as a one-line :class:`~losslab.errors.DataError` (the data or file),
:class:`~losslab.errors.TargetError` (the target's values) or
:class:`~losslab.errors.SettingsError` (``test_size``). :func:`_prepare` then trusts its input.

Kind of problem, when ``kind`` is not given (:func:`infer_kind`):

- text, categorical or boolean target: ``binary`` with exactly two classes, else ``multiclass``;
- numeric target with exactly two distinct values: ``binary``;
- numeric target whose values are all whole numbers, with at most ``MAX_INTEGER_CLASSES`` (20)
  distinct values and each value in two rows or more on average: ``multiclass``;
- any other numeric target: ``regression``.

So a count or a 1-10 rating is taken as classes; pass ``kind="regression"`` to treat it as a
quantity. Class labels are kept in ``Problem.class_names`` and ``y`` holds their indices 0..K-1,
in sorted order (categorical targets keep their categories' order).

Preparation, recorded in ``Problem.preparation``: a random train/test split (stratified by class
for classification) with ``test_size`` and ``seed``; numeric features standardised by a
``StandardScaler`` fitted on the training rows only; text, categorical and boolean features
one-hot encoded (fitted on the training rows; categories unseen in training encode as all
zeros), placed after the numeric columns; regression targets standardised with the training
mean and standard deviation, or with ``center_target=False`` only divided by the training
standard deviation.

Standardised targets suit mean squared/absolute error, Huber and log-cosh. Mean squared
logarithmic error and Poisson need non-negative targets, and mean absolute percentage error
targets away from zero: for those losses pass ``center_target=False``, which keeps every
target's sign and zeros while bringing it to a scale SGD can train on. Either way
``target_scale`` is the training standard deviation, so an MSE times ``target_scale**2`` is in the
target's own units.
"""

from __future__ import annotations

import csv
import difflib
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from losslab._names import did_you_mean, normalize
from losslab.errors import DataError, SettingsError, TargetError
from losslab.problems._problem import KINDS, Kind, Problem
from losslab.settings import Settings

#: Whole-number targets with at most this many distinct values are taken as classes.
MAX_INTEGER_CLASSES = 20
#: A text feature with more distinct values than this (or than half the rows) is refused.
MAX_CATEGORIES = 50
#: Fewer rows than this cannot give a meaningful train and test set.
MIN_ROWS = 10
#: Own-data problems train for about as many SGD updates as the tutorial (100 epochs x 16 batches).
OWN_DATA_UPDATES = 400

_TEXT_FORMATS = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
_COMPRESSION = (".gz", ".bz2", ".zip", ".xz", ".zst")


# --------------------------------------------------------------------------------------- sources


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv``, ``.tsv`` or ``.parquet``/``.pq`` file into a DataFrame.

    CSV and TSV files may be compressed (``.csv.gz`` and the like) and must be UTF-8 text. A
    ``.csv`` whose header holds semicolons or tabs instead of commas is read with that separator.
    Every problem with the file raises :class:`DataError` with a one-line message saying what
    to do.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(_missing_file_message(path))
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory; give the path of a .csv or .parquet file inside it")
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in _COMPRESSION
    ext = (suffixes[-2] if compressed and len(suffixes) > 1 else suffixes[-1]) if suffixes else ""
    if ext in _PARQUET and not compressed:
        return _read_parquet(path)
    if ext not in _TEXT_FORMATS:
        shown = "".join(path.suffixes) or "(none)"
        raise DataError(
            f"cannot read {str(path)!r}: unsupported file type {shown}; save it as .csv, .tsv or .parquet"
        )
    return _read_text(path, _TEXT_FORMATS[ext], compressed)


def _missing_file_message(path: Path) -> str:
    message = f"no such file {str(path)!r}"
    folder = path.parent
    if folder.is_dir():
        close = difflib.get_close_matches(path.name, [p.name for p in folder.iterdir()], n=1, cutoff=0.6)
        if close:
            return message + f"; did you mean {str(folder / close[0])!r}?"
    return message + "; check the path"


def _read_parquet(path: Path) -> pd.DataFrame:
    if path.stat().st_size == 0:
        raise DataError(f"{str(path)!r} is empty (0 bytes); write the data to it again")
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {str(path)!r} as Parquet: {reason}") from exc


def _read_text(path: Path, sep: str, compressed: bool) -> pd.DataFrame:
    if not compressed:
        _refuse_binary(path)
    try:
        frame = _parse_text(path, sep)
        if sep == "," and frame.shape[1] == 1:  # a European ';' CSV reads as one column
            for other in (";", "\t", "|"):
                if other in str(frame.columns[0]):
                    return _parse_text(path, other)
        return frame
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{str(path)!r} is empty: no header and no rows; write the data to it again") from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(_ragged_message(path, sep, exc)) from exc
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc


def _parse_text(path: Path, sep: str) -> pd.DataFrame:
    # index_col=False: without it pandas silently turns the first column into the index when the
    # first data row has one field more than the header; with it pandas warns, and we refuse.
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(path, sep=sep, index_col=False)


def _refuse_binary(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(8192)
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if head.startswith(b"PAR1"):
        raise DataError(f"{str(path)!r} is a Parquet file, not text; rename it to end in .parquet")
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{str(path)!r} is a zip or Excel file, not text; export the sheet as CSV")
    if b"\x00" in head:
        raise DataError(f"{str(path)!r} holds binary data, not a text table; give a CSV file or a .parquet file")


def _ragged_message(path: Path, sep: str, exc: Exception) -> str:
    try:
        with path.open(newline="", encoding="utf-8", errors="replace") as handle:
            reader = csv.reader(handle, delimiter=sep)
            header = next(reader, [])
            for row in reader:
                if len(row) > len(header):
                    return (
                        f"cannot read {str(path)!r}: line {reader.line_num} has {len(row)} fields but the header "
                        f"has {len(header)}; fix that row (a stray separator, or text that needs quotes)"
                    )
    except (OSError, csv.Error):
        pass
    found = re.search(r"line (\d+), saw (\d+)", str(exc))
    where = f"line {found.group(1)} has {found.group(2)} fields" if found else str(exc).strip().splitlines()[0]
    return f"cannot read {str(path)!r}: {where}; make every row have as many fields as the header"


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
class _Checked:
    """Data that passed :func:`_validate`: finite, typed, and large enough to split."""

    numeric: pd.DataFrame  # float64 feature columns
    categorical: pd.DataFrame  # str feature columns
    y: np.ndarray  # float64 (regression) or int64 class indices
    kind: Kind
    kind_given: bool
    class_names: tuple[str, ...]
    n_rows_in: int
    dropped_by_column: dict[str, int]
    n_dropped: int


def _validate(frame: object, target: str, kind: str | None, test_size: float, dropna: bool) -> _Checked:
    """Check everything about a table and its target once; raise one clear error or return clean data."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError(
            f"expected a pandas DataFrame, got {type(frame).__name__}; for NumPy arrays use Problem.from_arrays(X, y)"
        )
    if kind is not None and kind not in KINDS:
        raise DataError(f"kind must be one of {', '.join(KINDS)} (or None to infer it), got {kind!r}")
    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise SettingsError(f"test_size must be a fraction between 0 and 1, e.g. 0.25; got {test_size!r}")
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
    return _Checked(
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
            "pass dropna=True to drop those rows, or fill the values in"
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


# ---------------------------------------------------------------------------------- preparation


def own_data_settings(n_train: int) -> Settings:
    """Default settings for a problem built from data: 50 hidden units, and epochs for ~400 updates.

    ``epochs = 400 / ceil(n_train / 32)``, rounded to tens and kept within 20..500, so small tables
    train longer and large ones do not take hours. The tutorial's 1,600 updates (100 epochs of 16
    batches) suit its nearly noise-free generated data; on small real tables they overfit: on
    diabetes the test MSE rises from epoch 10 and ends above that of predicting the mean (0.99 vs
    0.79, standardised), while 400 updates give 0.68, and iris, wine, breast_cancer and digits
    lose nothing (0.97, 0.99, 0.95, 0.97 test accuracy over 5 seeds).

    >>> own_data_settings(500).epochs
    20
    >>> own_data_settings(150).epochs
    80
    """
    batches = math.ceil(n_train / Settings().batch_size)
    epochs = int(round(OWN_DATA_UPDATES / batches, -1))
    return Settings(hidden=(50,), epochs=min(max(epochs, 20), 500))


def _prepare(
    data: _Checked, *, target: str, test_size: float, seed: int, center_target: bool,
    name: str, source: str, description: str | None,
) -> Problem:
    """Split, scale and encode checked data, recording every step in ``Problem.preparation``."""
    stratified = data.kind != "regression"
    rows = np.arange(len(data.y))
    train, test = train_test_split(
        rows, test_size=test_size, random_state=seed, stratify=data.y if stratified else None
    )
    blocks_train, blocks_test, feature_names = [], [], []
    preparation: dict[str, object] = {
        "source": source,
        "target": target,
        "kind": data.kind,
        "kind_from": "given" if data.kind_given else "inferred from the target",
        "rows": data.n_rows_in,
        "dropped_rows": data.n_dropped,
        "dropped_by_column": dict(data.dropped_by_column),
        "split": "random, stratified by class" if stratified else "random",
        "test_size": float(test_size),
        "seed": int(seed),
        "stratified": stratified,
        "n_train": len(train),
        "n_test": len(test),
    }
    if data.numeric.shape[1]:
        values = data.numeric.to_numpy(dtype=np.float64)
        scaler = StandardScaler().fit(values[train])
        blocks_train.append(scaler.transform(values[train]))
        blocks_test.append(scaler.transform(values[test]))
        feature_names += list(data.numeric.columns)
        preparation.update(
            scaler="StandardScaler fitted on the training rows",
            scaled_columns=list(data.numeric.columns),
            scaler_mean=scaler.mean_.tolist(),
            scaler_std=scaler.scale_.tolist(),
        )
    else:
        preparation.update(scaler="none (no numeric features)", scaled_columns=[], scaler_mean=[], scaler_std=[])
    one_hot: dict[str, list[str]] = {}
    if data.categorical.shape[1]:
        values = data.categorical.to_numpy(dtype=object)
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64).fit(values[train])
        blocks_train.append(encoder.transform(values[train]))
        blocks_test.append(encoder.transform(values[test]))
        columns = list(data.categorical.columns)
        feature_names += list(encoder.get_feature_names_out(columns))
        one_hot = {c: [str(v) for v in cats] for c, cats in zip(columns, encoder.categories_)}
    preparation["one_hot"] = one_hot
    preparation["one_hot_columns"] = feature_names[data.numeric.shape[1]:]

    y_train, y_test = data.y[train], data.y[test]
    target_scale = None
    if data.kind == "regression":
        mean, std = float(y_train.mean()), float(y_train.std())
        preparation.update(
            y_raw_min=float(data.y.min()),
            y_raw_max=float(data.y.max()),
            y_raw_negative=int(np.sum(data.y < 0)),
            y_raw_zero=int(np.sum(data.y == 0)),
            target_standardized=center_target,
            target_mean=mean if center_target else None,
            target_std=std,
        )
        shift = mean if center_target else 0.0
        target_scale = std if std > 0 else 1.0
        y_train, y_test = (y_train - shift) / target_scale, (y_test - shift) / target_scale
    else:
        counts = np.bincount(data.y, minlength=len(data.class_names))
        preparation["class_counts"] = {c: int(n) for c, n in zip(data.class_names, counts)}
        preparation["target_standardized"] = False

    n_features = len(feature_names)
    summary = (
        f"{source}: {data.n_rows_in - data.n_dropped} rows, {n_features} features, target {target!r}"
        + (f" ({len(data.class_names)} classes)" if data.class_names else "")
    )
    return Problem(
        name=name,
        kind=data.kind,
        X_train=np.hstack(blocks_train),
        y_train=y_train,
        X_test=np.hstack(blocks_test),
        y_test=y_test,
        n_classes=len(data.class_names) if data.class_names else None,
        feature_names=tuple(feature_names),
        target_name=target,
        class_names=data.class_names,
        description=description or summary,
        defaults=own_data_settings(len(train)),
        preparation=preparation,
        target_scale=target_scale,
    )


# ------------------------------------------------------------------------------- public builders


def problem_from_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    kind: str | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    dropna: bool = False,
    center_target: bool = True,
    name: str | None = None,
    description: str | None = None,
    source: str = "DataFrame",
) -> Problem:
    """A :class:`Problem` from a DataFrame: ``target`` is the column to predict, the rest are features.

    ``kind`` is inferred from the target when None (see the module docstring). ``dropna=True``
    drops rows with a missing or infinite value instead of refusing them.
    ``center_target=False`` keeps a regression target on its own scale (for MSLE, Poisson
    and MAPE). See :class:`Problem` for the result and ``Problem.preparation`` for the record.

    >>> df = pd.DataFrame({"x": range(40), "colour": ["red", "blue"] * 20, "y": [0.5 * i for i in range(40)]})
    >>> p = problem_from_frame(df, "y")
    >>> p.kind, p.feature_names, p.n_train, p.n_test
    ('regression', ('x', 'colour_blue', 'colour_red'), 30, 10)
    """
    data = _validate(frame, target, kind, test_size, dropna)
    return _prepare(
        data, target=str(target), test_size=test_size, seed=seed, center_target=center_target,
        name=name or str(target), source=source, description=description,
    )


def problem_from_arrays(
    X: object,
    y: object,
    *,
    kind: str | None = None,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    test_size: float = 0.25,
    seed: int = 0,
    dropna: bool = False,
    center_target: bool = True,
    name: str = "arrays",
) -> Problem:
    """A :class:`Problem` from a feature matrix ``X`` of shape (rows, features) and targets ``y`` (rows,).

    Features are named ``x0, x1, ...`` unless ``feature_names`` is given; everything else is as
    in :func:`problem_from_frame`.
    """
    if isinstance(X, pd.DataFrame):
        features = X.copy()
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise DataError(
                f"X must be 2-D, shape (rows, features); got shape {array.shape}"
                + ("; for one feature use X.reshape(-1, 1)" if array.ndim == 1 else "")
            )
        features = pd.DataFrame(array)
        features.columns = [f"x{i}" for i in range(array.shape[1])]
    if feature_names is not None:
        if len(feature_names) != features.shape[1]:
            raise DataError(f"{len(feature_names)} feature_names for {features.shape[1]} columns of X; give one per column")
        features.columns = [str(n) for n in feature_names]
    target = np.asarray(y)
    if target.ndim == 2 and target.shape[1] == 1:
        target = target[:, 0]
    if target.ndim != 1:
        raise DataError(f"y must be 1-D, one value per row; got shape {target.shape}")
    if len(target) != len(features):
        raise DataError(f"X has {len(features)} rows but y has {len(target)}; give one target per row of X")
    if target_name in [str(c) for c in features.columns]:
        raise DataError(f"target_name {target_name!r} is also a feature name; choose another target_name")
    frame = features.reset_index(drop=True)
    frame[target_name] = target
    return problem_from_frame(
        frame, target_name, kind=kind, test_size=test_size, seed=seed, dropna=dropna,
        center_target=center_target, name=name, source="arrays",
    )


def problem_from_file(
    path: str | Path,
    target: str,
    *,
    kind: str | None = None,
    test_size: float = 0.25,
    seed: int = 0,
    dropna: bool = False,
    center_target: bool = True,
    name: str | None = None,
) -> Problem:
    """A :class:`Problem` from a CSV or Parquet file (see :func:`load_table`), named after the file."""
    frame = load_table(path)
    return problem_from_frame(
        frame, target, kind=kind, test_size=test_size, seed=seed, dropna=dropna,
        center_target=center_target, name=name or Path(path).stem.split(".")[0], source=str(path),
    )
