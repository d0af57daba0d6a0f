"""Your own data as a :class:`Problem`: the ``problem_from_*`` entry points and the preparation.

The flow is ``load_table`` (file -> DataFrame, in :mod:`losslab.problems._reading`) ->
``problem_from_frame`` (DataFrame -> Problem). Every entry point checks the table once, at the
boundary, with :func:`~losslab.problems._checks.validate` (which raises every error a user can
fix); :func:`_prepare` then trusts its input. The options the entry points share (``kind``,
``test_size``, ``seed``, ``dropna``, ``center_target``, ``features``, ``drop``) are stated once:
their types in :class:`PrepareOptions`, their defaults in :class:`Preparation`. Only
:func:`problem_from_file` leaves out on its own the columns that cannot help predict (row IDs,
constant and empty columns); a DataFrame or arrays handed in are taken as they are.

Preparation, recorded in ``Problem.preparation``: a random train/test split (stratified by class
for classification) with ``test_size`` and ``seed``; numeric features standardised by a
``StandardScaler`` fitted on the training rows only; text, categorical and boolean features
one-hot encoded (fitted on the training rows; categories unseen in training encode as all
zeros), placed after the numeric columns; regression targets standardised with the training
mean and standard deviation, or with ``center_target=False`` only divided by the training
standard deviation.

Standardised targets suit mean squared/absolute error, Huber and log-cosh. Mean squared
logarithmic error and Poisson need non-negative targets, and mean absolute percentage error
targets away from zero: for those losses the target must only be divided by its deviation, which
keeps every sign and zero while bringing it to a scale SGD can train on. The plan does that
itself when such a loss is in a study (``Problem.target_mean`` lets it undo the centring);
``center_target=False`` prepares the problem that way from the start. Either way
``target_scale`` is the training standard deviation, so an MSE times ``target_scale**2`` is in the
target's own units.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict, Unpack

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from losslab._arrays import aligned
from losslab.errors import DataError
from losslab.problems._checks import BLOCK, Columns, DataNote, validate
from losslab.problems._on_disk import problem_on_disk, too_large_note
from losslab.problems._problem import Problem
from losslab.problems._reading import open_table, release_read_buffers

# -------------------------------------------------------------------------------------- options


class PrepareOptions(TypedDict, total=False):
    """The keyword options every way of building a problem from data takes, for type checkers.

    Python can type ``**options`` only through a TypedDict, which cannot hold defaults; those
    are in :class:`Preparation`, which lists the same fields.
    """

    kind: str | None
    test_size: float
    seed: int
    dropna: bool
    center_target: bool
    features: Sequence[str] | None
    drop: Sequence[str] | None


@dataclass(frozen=True)
class Preparation:
    """The :class:`PrepareOptions` with their defaults, resolved once by each entry point.

    ``Preparation(**options)`` refuses an unknown keyword with a ``TypeError``, as a written-out
    signature would; the values are checked by :func:`~losslab.problems._checks.validate`.
    """

    kind: str | None = None  # None: inferred from the target
    test_size: float = 0.25
    seed: int = 0
    dropna: bool = False
    center_target: bool = True
    features: Sequence[str] | None = None  # None: every column but the target and those in drop
    drop: Sequence[str] | None = None


# ---------------------------------------------------------------------------------- preparation


def _prepare(
    data: Columns, options: Preparation, *, target: str, name: str, source: str, description: str | None,
    allocate: Callable[[tuple[int, int]], np.ndarray] = aligned,
) -> Problem:
    """Split, scale and encode checked data, recording every step in ``Problem.preparation``.

    The features are written a block of rows at a time into one float32 array from ``allocate``
    (an aligned buffer, or a file mapped into memory for a table kept on disk): the training
    rows, then the test rows, each in the table's order.
    """
    train, test = _split(data, options)
    preparation = _record(data, options, target, source, train, test)
    scaler = _fitted_scaler(data, train)
    encoder = _fitted_encoder(data, train)
    feature_names = list(data.numeric_names)
    if encoder is not None:
        feature_names += list(encoder.get_feature_names_out(data.text_names))
    preparation.update(_scaler_record(scaler, data.numeric_names))
    preparation["one_hot"] = {c: [str(v) for v in cats] for c, cats in
                              zip(data.text_names, encoder.categories_ if encoder is not None else [])}
    preparation["one_hot_columns"] = feature_names[len(data.numeric_names):]
    pool = allocate((len(train) + len(test), len(feature_names)))
    _fill(pool[:len(train)], train, data, scaler, encoder)
    _fill(pool[len(train):], test, data, scaler, encoder)
    y_train, y_test, target_scale, target_mean = _targets(data, train, test, options.center_target, preparation)
    summary = (
        f"{source}: {data.n_rows_in - data.n_dropped} rows, {len(feature_names)} features, target {target!r}"
        + (f" ({len(data.class_names)} classes)" if data.class_names else "")
    )
    return Problem(
        name=name,
        kind=data.kind,
        X_train=pool[:len(train)],
        y_train=y_train,
        X_test=pool[len(train):],
        y_test=y_test,
        n_classes=len(data.class_names) if data.class_names else None,
        feature_names=tuple(feature_names),
        target_name=target,
        class_names=data.class_names,
        description=description or summary,
        preparation=preparation,
        target_scale=target_scale,
        target_mean=target_mean,
    )


def _split(data: Columns, options: Preparation) -> tuple[np.ndarray, np.ndarray]:
    """The train and test rows: a random split (stratified by class), each part in the table's
    order, so that a table kept on disk is written front to back."""
    train, test = train_test_split(np.arange(len(data.y)), test_size=options.test_size, random_state=options.seed,
                                   stratify=data.y if data.kind != "regression" else None)
    return np.sort(train), np.sort(test)


def _record(data: Columns, options: Preparation, target: str, source: str, train: np.ndarray,
            test: np.ndarray) -> dict[str, object]:
    """The start of ``Problem.preparation``: the data and the split."""
    stratified = data.kind != "regression"
    return {
        "source": source,
        "target": target,
        "kind": data.kind,
        "kind_from": "given" if data.kind_given else "inferred from the target",
        "rows": data.n_rows_in,
        "dropped_rows": data.n_dropped,
        "dropped_by_column": dict(data.dropped_by_column),
        "dropped_columns": dict(data.dropped_columns),
        "split": "random, stratified by class" if stratified else "random",
        "test_size": float(options.test_size),
        "seed": int(options.seed),
        "stratified": stratified,
        "n_train": len(train),
        "n_test": len(test),
    }


def _fitted_scaler(data: Columns, train: np.ndarray) -> StandardScaler | None:
    """A ``StandardScaler`` fitted on the ``train`` rows of the numeric columns a block of
    :data:`BLOCK` rows at a time (``partial_fit``, in float64): a table of at most one block gets
    one call, which is what ``fit`` does; a larger one scikit-learn's incremental mean and
    variance, without a float64 copy of the table (a single fit's NaN-aware sums copy it twice).
    None without numeric columns."""
    if not data.numeric_names:
        return None
    scaler = StandardScaler()
    for block in data.numeric_blocks(train):
        scaler.partial_fit(block)
    return scaler


def _scaler_record(scaler: StandardScaler | None, names: Sequence[str]) -> dict[str, object]:
    if scaler is None:
        return {"scaler": "none (no numeric features)", "scaled_columns": [], "scaler_mean": [], "scaler_std": []}
    return {"scaler": "StandardScaler fitted on the training rows", "scaled_columns": list(names),
            "scaler_mean": scaler.mean_.tolist(), "scaler_std": scaler.scale_.tolist()}


def _fitted_encoder(data: Columns, train: np.ndarray) -> OneHotEncoder | None:
    """A ``OneHotEncoder`` of the text columns' values on the ``train`` rows (categories unseen
    there encode as all zeros), or None without text columns. It is fitted on each column's
    distinct training values (what it learns from the rows themselves), so that a table kept on
    disk needs no text of its rows in memory."""
    if not data.text_names:
        return None
    categories = data.categories(train)
    longest = max(len(values) for values in categories)
    every_value = np.array([[values[min(i, len(values) - 1)] for values in categories] for i in range(longest)],
                           dtype=object)
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32).fit(every_value)


def _fill(pool: np.ndarray, rows: np.ndarray, data: Columns, scaler: StandardScaler | None,
          encoder: OneHotEncoder | None) -> None:
    """Write the prepared features of the table's ``rows`` into ``pool`` (float32), a block at a
    time: the numeric columns standardised in float64 and then rounded to float32, the one-hot
    columns after them."""
    n_numeric = len(data.numeric_names)
    numeric = data.numeric_blocks(rows) if scaler is not None else None
    text = data.text_blocks(rows) if encoder is not None else None
    for start in range(0, len(rows), BLOCK):
        block = pool[start:start + BLOCK]
        if numeric is not None:
            block[:, :n_numeric] = scaler.transform(next(numeric), copy=False)
        if text is not None:
            block[:, n_numeric:] = encoder.transform(next(text))


def _targets(data: Columns, train: np.ndarray, test: np.ndarray, center_target: bool,
             preparation: dict[str, object]) -> tuple[np.ndarray, np.ndarray, float | None, float | None]:
    """The train and test targets, a regression target standardised on the training rows (or
    only divided by their deviation), with their scale and mean; recorded in ``preparation``."""
    y_train, y_test = data.y[train], data.y[test]
    if data.kind != "regression":
        counts = np.bincount(data.y, minlength=len(data.class_names))
        preparation["class_counts"] = {c: int(n) for c, n in zip(data.class_names, counts)}
        preparation["target_standardized"] = False
        return y_train, y_test, None, None
    mean, std = float(y_train.mean()), float(y_train.std())
    target_mean = mean if center_target else None
    preparation.update(
        y_raw_min=float(data.y.min()),
        y_raw_max=float(data.y.max()),
        y_raw_negative=int(np.sum(data.y < 0)),
        y_raw_zero=int(np.sum(data.y == 0)),
        target_standardized=center_target,
        target_mean=target_mean,
        target_std=std,
    )
    shift = mean if center_target else 0.0
    target_scale = std if std > 0 else 1.0
    return (y_train - shift) / target_scale, (y_test - shift) / target_scale, target_scale, target_mean


# ------------------------------------------------------------------------------- public builders


def problem_from_frame(
    frame: pd.DataFrame,
    target: str,
    *,
    name: str | None = None,
    description: str | None = None,
    source: str = "DataFrame",
    **options: Unpack[PrepareOptions],
) -> Problem:
    """A :class:`Problem` from a DataFrame: ``target`` is the column to predict, the rest are features.

    The options, shared by :func:`problem_from_arrays`, :func:`problem_from_file` and the
    ``Problem.from_*`` class methods (defaults in brackets):

    - ``kind`` (None): ``"regression"``, ``"binary"`` or ``"multiclass"``; inferred from the
      target when None (see :func:`~losslab.problems._checks.infer_kind`).
    - ``test_size`` (0.25) and ``seed`` (0): the fraction of rows held out for testing, and the
      seed of the random split.
    - ``dropna`` (False): ``True`` drops rows with a missing or infinite value instead of
      refusing them.
    - ``center_target`` (True): ``False`` keeps a regression target on its own scale (for MSLE,
      Poisson and MAPE).
    - ``features`` (None): the columns to use as features, in this order; None uses every
      column but the target and those in ``drop``. An unknown name is refused with the closest
      column names.
    - ``drop`` (None): columns to leave out.

    The columns left out, and why, are in ``Problem.preparation["dropped_columns"]``. A
    DataFrame is taken as it is; a table read by :func:`problem_from_file` also has its row IDs,
    constant and empty columns left out with a :class:`~losslab.problems.DataNote`. Dates, lists,
    and numbers with a few text values among them are refused with the fix (see
    :mod:`losslab.problems._checks`).

    ``name`` defaults to the target's name; ``description`` and ``source`` describe the data.
    See :class:`Problem` for the result and ``Problem.preparation`` for the record.

    >>> df = pd.DataFrame({"x": range(40), "colour": ["red", "blue"] * 20, "y": [0.5 * i for i in range(40)]})
    >>> p = problem_from_frame(df, "y")
    >>> p.kind, p.feature_names, p.n_train, p.n_test
    ('regression', ('x', 'colour_blue', 'colour_red'), 30, 10)
    """
    return _build(frame, target, Preparation(**options), name=name, description=description, source=source)


def problem_from_arrays(
    X: object,
    y: object,
    *,
    feature_names: Sequence[str] | None = None,
    target_name: str = "y",
    name: str = "arrays",
    **options: Unpack[PrepareOptions],
) -> Problem:
    """A :class:`Problem` from a feature matrix ``X`` of shape (rows, features) and targets ``y`` (rows,).

    Features are named ``x0, x1, ...`` unless ``feature_names`` is given, and ``features`` and
    ``drop`` use those names; the options are those of :func:`problem_from_frame`.
    """
    preparation = Preparation(**options)
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
    return _build(frame, target_name, preparation, name=name, description=None, source="arrays")


def problem_from_file(
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
    """A :class:`Problem` from a CSV or Parquet file, named after the file.

    ``sep``, ``decimal`` and ``encoding`` override what :func:`load_table` sniffs from the file.
    The options are those of :func:`problem_from_frame`. Columns that cannot help predict are
    left out, each named with its reason in a :class:`~losslab.problems.DataNote` and in
    ``Problem.preparation["dropped_columns"]``: row IDs (a different whole number in every row
    running from 0 or 1, or a different short text without spaces in every row, in 20 rows or
    more), constant columns, empty columns, and the nameless empty columns (``Unnamed: 3``) a
    separator at the end of each line makes. ``features=[...]`` keeps a row ID; a constant or
    empty column named there is refused.

    ``on_disk=True`` keeps the table on disk: it is read a block of rows at a time and its
    features prepared into a float32 file in ``data_dir`` (by default
    :func:`~losslab.problems._on_disk.tables_dir`), which the problem maps into memory; the problem is the same, to
    the last bit (see ``losslab.problems._on_disk``). None (the default) does so, with a
    note, when the table read whole would take more than 60% of this machine's memory.
    """
    preparation = Preparation(**options)
    if on_disk not in (None, True, False):
        raise DataError(f"on_disk must be True, False or None (decide from the table's size); got {on_disk!r}")
    if data_dir is not None and on_disk is False:
        raise DataError("data_dir is where a table kept on disk goes; it does not apply with on_disk=False: leave it "
                        "out, or pass on_disk=True")
    table = open_table(path, sep=sep, decimal=decimal, encoding=encoding)
    name = name or file_name(path)
    if on_disk is None and (note := too_large_note(table)) is not None:
        warnings.warn(note, DataNote, stacklevel=2)
        on_disk = True
    if on_disk:
        return problem_on_disk(table, str(target), preparation, name=name, data_dir=data_dir)
    frame = table.read()
    try:
        return _build(frame, target, preparation, name=name, description=None, source=str(path), detect_columns=True)
    finally:
        del frame  # the table read is no longer needed: its memory goes back to the system
        release_read_buffers()


def file_name(path: str | Path) -> str:
    """A problem's name from its file: ``houses`` for ``data/houses.csv.gz``."""
    return Path(path).name.split(".")[0]


def _build(
    frame: object,
    target: str,
    options: Preparation,
    *,
    name: str | None,
    description: str | None,
    source: str,
    detect_columns: bool = False,
) -> Problem:
    """Check the table once, then prepare it: the one path every entry point ends in."""
    data = validate(
        frame, target, options.kind, options.test_size, options.dropna, seed=options.seed,
        features=options.features, drop=options.drop, detect_columns=detect_columns,
    )
    return _prepare(
        data, options, target=str(target), name=name or str(target), source=source, description=description
    )
