"""A table larger than memory: read a block of rows at a time, its features prepared into a file.

:func:`problem_on_disk` gives the problem :func:`~losslab.problems.problem_from_file` gives, to
the last bit of every feature and target, without holding the table in memory: its features are
a float32 ``.npy`` file mapped into memory, and the engine trains on its pages, which the
operating system keeps in memory where they fit and reads from disk where they do not.

It reads the file once, a block of rows at a time (:data:`READ_BYTES` of table), and surveys
each column as the checks of :mod:`losslab.problems._checks` see a whole one (:class:`_Column`):
its types, missing values, numbers among text, dates, one value throughout, a row ID, and a text
column's values as codes. The numbers go, converted as the checks convert them, into a temporary
float64 file in the table's order. The checks then run on what the survey counted, with the same
rules and messages (:func:`_checked`), and the preparation of :mod:`losslab.problems._tabular`
writes the features from the temporary file and the codes, a block of rows at a time, the
training rows then the test rows, each front to back. A CSV column whose blocks read as numbers
in one place and as text in another is read again as text, as pandas reads the whole column.

Memory holds what grows with the rows, not with the columns: the target (8 bytes a row), the
rows kept and the split (about 25), each text column's codes (4) and the values of a column
that may be a row ID (8) while every value is new; and one block of the table.

A prepared table is kept in ``data_dir`` (:func:`tables_dir` by default) under a hash of the file
(its path, size and time of last change) and the options, so that the next command on the same
file reads nothing again; its notes (columns left out, a target read as counts) are said again.
The folder appears under its name only once complete (written under a temporary name, then
renamed), and a study links its features instead of copying them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from losslab._files import atomic_write, ensure_out_dir, held
from losslab._machine import memory_budget
from losslab._plain import slug
from losslab._version import __version__
from losslab.errors import DataError, TargetError
from losslab.problems._checks import (
    BLOCK,
    MIN_ID_ROWS,
    MOST_CATEGORIES,
    Columns,
    DataNote,
    as_text,
    check_categories,
    check_missing,
    check_options,
    check_rows,
    check_split,
    check_value_kinds,
    chosen_columns,
    complex_message,
    dated,
    dates_message,
    encoded_target,
    examples,
    integer_id,
    left_out_useless,
    missing_target_message,
    no_features_message,
    refuse_nested_target,
    target_values_kind,
    text_id,
    too_many_classes_message,
    uselessness,
    value_kinds,
    values_kind,
)
from losslab.problems._kept import FEATURES, load_problem, save_problem
from losslab.problems._problem import Problem
from losslab.problems._reading import Table, grouping, ungrouped

if TYPE_CHECKING:
    from losslab.problems._tabular import Preparation

#: Bytes of table read at a time, as a block of rows (a table of 50 numeric columns: 83,886 rows).
READ_BYTES = 32 * 2**20
#: Different values counted per text feature: one with more is refused as free text or an ID anyway
#: (one-hot encoding takes up to MOST_CATEGORIES).
MOST_FEATURE_VALUES = 10 * MOST_CATEGORIES
#: Different values counted in a text target: more classes than this are refused.
MOST_CLASSES = 100_000
#: Bytes of a table in memory per value, for deciding when to keep it on disk: the frame read
#: (8), its features prepared (4) and what the checks and the preparation copy on the way.
BYTES_PER_VALUE = 24
#: The layout of a prepared table's folder; another is prepared again, not misread.
FORMAT = 1
MANIFEST = "table.json"
NUMBERS = "numbers.f64"  # the temporary file of the numbers, in the table's order

_NOTHING = object()

#: The folders tables are being prepared in, for a process that must stop at once (Ctrl-C on the
#: command line) to remove; the next preparation of the same table removes any left behind.
PREPARING: set[Path] = set()


def tables_dir() -> Path:
    """Where tables kept on disk go by default: ``$LOSSLAB_TABLES_DIR``, else
    ``$XDG_CACHE_HOME/losslab/tables``, else ``~/.cache/losslab/tables``."""
    if os.environ.get("LOSSLAB_TABLES_DIR"):
        return Path(os.environ["LOSSLAB_TABLES_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "losslab" / "tables"


def in_memory_bytes(table: Table) -> int:
    """About how much memory reading and preparing ``table`` whole takes (:data:`BYTES_PER_VALUE`
    per value; the rows of a CSV estimated from its first lines' length)."""
    columns = len(table.columns())
    if table.parquet:
        import pyarrow.parquet as pq

        rows = pq.ParquetFile(table.path).metadata.num_rows
    else:
        lines = table.first_lines()
        line_bytes = max(1.0, np.mean([len(line.encode(table.encoding or "utf-8")) + 1 for line in lines[1:]])) \
            if len(lines) > 1 else 1.0
        size = table.path.stat().st_size * (5 if table.compressed else 1)  # a compressed CSV: text of about 5 times its size
        rows = int(size / line_bytes)
    return rows * columns * BYTES_PER_VALUE


def too_large_note(table: Table) -> str | None:
    """What to say when ``table`` read whole would take more than a study's share of this
    machine's memory, and it is kept on disk instead; None when it fits."""
    need, budget = in_memory_bytes(table), memory_budget()
    if need <= budget:
        return None
    return (f"{str(table.path)!r} would take about {need / 2**30:,.1f} GiB read whole, more than the "
            f"{budget / 2**30:,.1f} GiB a study may use here; it is read a block of rows at a time and its features "
            "kept on disk (--in-memory, on_disk=False in Python, reads it whole)")


def problem_on_disk(table: Table, target: str, options: Preparation, *, name: str,
                    data_dir: str | Path | None = None) -> Problem:
    """The problem from ``table`` (see :func:`~losslab.problems.problem_from_file`, whose options
    ``options`` are) with its features in a float32 file in ``data_dir``: prepared there a block
    of rows at a time, or found there from an earlier call on the same file and options. One
    process prepares a table at a time (another waits for it, then finds it)."""
    check_options(options.kind, options.test_size, options.seed)
    columns = table.columns()
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise DataError(f"duplicate column names {', '.join(map(repr, duplicated))}; rename them so each is unique")
    if target not in columns:
        raise DataError(missing_target_message(target, columns))
    chosen, left_out = chosen_columns(columns, target, options.features, options.drop)
    options = dataclasses.replace(options, features=None if options.features is None else chosen, drop=None)
    folder = ensure_out_dir(Path(data_dir) if data_dir is not None else tables_dir(),
                            "choose another --out (data_dir= or $LOSSLAB_TABLES_DIR in Python)")
    kept = folder / f"{slug(name)}-{_key(table, target, options, name, chosen)[:16]}"
    with held(folder / f".{kept.name}.lock"):
        if not (kept / MANIFEST).exists():
            for leftover in [kept, *folder.glob(f".{kept.name}.*.partial")]:  # a killed preparation's
                shutil.rmtree(leftover, ignore_errors=True)
            _prepare_into(kept, table, target, options, name, chosen, left_out)
        return _load(kept)


def _key(table: Table, target: str, options: Preparation, name: str, chosen: list[str]) -> str:
    """A hash of the file (its path as given and resolved, size, time of its last change), how
    it is read, the problem's name, the target, the feature columns and the other options, and
    this version of losslab."""
    stat = table.path.stat()
    settings = {field.name: getattr(options, field.name) for field in dataclasses.fields(options)
                if field.name not in ("features", "drop")}
    identity = {"path": str(table.path), "resolved": str(table.path.resolve()), "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns, "sep": table.sep, "decimal": table.decimal, "encoding": table.encoding,
                "name": name, "target": target, "features": chosen, "named": options.features is not None,
                "options": settings, "version": __version__, "format": FORMAT}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def _prepare_into(kept: Path, table: Table, target: str, options: Preparation, name: str, chosen: list[str],
                  left_out: dict[str, str]) -> None:
    """Prepare the table in a folder of its own, renamed to ``kept`` once complete (the caller
    holds the table's lock)."""
    partial = Path(tempfile.mkdtemp(dir=kept.parent, prefix=f".{kept.name}.", suffix=".partial"))
    partial.chmod(0o755)  # as any folder made here, not private as a temporary one
    PREPARING.add(partial)
    try:
        try:
            with warnings.catch_warnings(record=True) as said:
                warnings.simplefilter("always", DataNote)
                problem = _prepared(partial, table, target, options, name, chosen, left_out)
        except BaseException:
            _say_again(said)  # the notes said before the error, as a table in memory says them
            raise
        _say_again([w for w in said if not issubclass(w.category, DataNote)])  # the notes are kept, and said on loading
        save_problem(partial, problem)
        notes = [str(w.message) for w in said if issubclass(w.category, DataNote)]
        del problem  # its memory map of the features, before the folder moves
        manifest = {"format": FORMAT, "source": str(table.path), "notes": notes}
        atomic_write(partial / MANIFEST, lambda p: p.write_text(json.dumps(manifest, indent=2)))
        partial.rename(kept)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
        PREPARING.discard(partial)


def _say_again(said: list[warnings.WarningMessage]) -> None:
    for w in said:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _load(kept: Path) -> Problem:
    """The problem prepared in ``kept``, its notes said again."""
    manifest = json.loads((kept / MANIFEST).read_text())
    for note in manifest["notes"]:
        warnings.warn(note, DataNote, stacklevel=4)
    return load_problem(kept)


def _prepared(folder: Path, table: Table, target: str, options: Preparation, name: str, chosen: list[str],
              left_out: dict[str, str]) -> Problem:
    from losslab.problems._tabular import _prepare  # the preparation imports this module's caller

    data = _checked(folder, table, target, options, chosen, left_out)
    features: list[np.memmap] = []

    def allocate(shape: tuple[int, int]) -> np.memmap:
        features.append(np.lib.format.open_memmap(folder / FEATURES, mode="w+", dtype=np.float32, shape=shape))
        return features[-1]

    try:
        problem = _prepare(data, options, target=target, name=name, source=str(table.path), description=None,
                           allocate=allocate)
        features[0].flush()
        return problem
    finally:
        (folder / NUMBERS).unlink(missing_ok=True)  # its pages stay mapped until the data go


# ------------------------------------------------------------------------------------- survey


@dataclass
class _Column:
    """What the blocks of one column read so far say of it, as the checks see a whole column: a
    feature, or the target (``most_values`` different text values are counted; ``most_rows``, a
    bound on the table's rows where one is known, rules out a row ID of whole numbers that
    spread too far, without keeping them)."""

    name: str
    most_values: int
    feature: bool = True
    most_rows: int | None = None
    decimal: str | None = None  # the CSV's decimal mark, for numbers with thousands separators
    rows: int = 0
    present: int = 0  # values not missing
    numbers: int = 0  # present values that read as numbers
    dated: int = 0  # present values of blocks of objects that are dates
    kinds: set[str] = field(default_factory=set)  # the types of the values of blocks of objects
    dtypes: set[str] = field(default_factory=set)  # of the blocks: "number", "text" (bool, category), "object"
    grouped: bool = False  # some value with thousands separators ...
    ungroupable: bool = False  # ... and some value neither such a number nor a plain one
    non_numbers: list[object] = field(default_factory=list)  # the first different values that are not numbers
    first: object = _NOTHING  # the first present value, as read
    constant: bool = True
    integers: bool = True  # every block of whole numbers
    ids: list[np.ndarray] | None = field(default_factory=list)  # a possible row ID's values (text: hashes)
    span: tuple[int, int] = (2**63 - 1, -(2**63))  # the lowest and highest of its whole numbers
    spaced: bool = False  # a text value with white space in it
    first_text: str | None = None
    categories: list[object] = field(default_factory=list)  # a categorical column's categories, in order
    values: dict[str, int] = field(default_factory=dict)  # each text value's code, in order of appearance
    codes: list[np.ndarray | None] | None = field(default_factory=list)  # per block (None: numbers); None past most_values

    def add(self, raw: pd.Series) -> np.ndarray:
        """Survey a block of the column; its values as float64 numbers (NaN where missing or text)."""
        dtype = raw.dtype
        if self.feature and (ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_timedelta64_dtype(dtype)):
            raise DataError(dates_message(self.name, "dates or times"))
        if self.feature and ptypes.is_complex_dtype(dtype):
            raise DataError(complex_message(self.name))
        present = raw.dropna()
        self.rows += len(raw)
        self.present += len(present)
        self._first_and_constant(present)
        if ptypes.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
            self.dtypes.add("text")
            if isinstance(dtype, pd.CategoricalDtype):
                self.categories += [c for c in dtype.categories if c not in self.categories]
            numbers = np.full(len(raw), np.nan)
        elif ptypes.is_numeric_dtype(dtype):
            self.dtypes.add("number")
            self.numbers += len(present)
            numbers = (raw if isinstance(dtype, np.dtype) and dtype.kind == "f" else raw.astype(np.float64)) \
                .to_numpy(dtype=np.float64)
        else:
            numbers = self._objects(raw, present)
        if self.feature:
            self._ids(raw, present)
        self._code(raw)
        return numbers

    def _objects(self, raw: pd.Series, present: pd.Series) -> np.ndarray:
        # pandas reads a large block of a CSV in pieces, each typed alone: numbers and text together
        self.dtypes.add("mixed" if pd.api.types.infer_dtype(raw, skipna=True) in ("mixed", "mixed-integer")
                        else "object")
        self.kinds |= value_kinds(present)
        if self.feature:
            check_value_kinds(self.kinds, self.name)
        else:
            refuse_nested_target(self.kinds, self.name)
        parsed = pd.to_numeric(present, errors="coerce")
        self.numbers += int(parsed.notna().sum())
        for value in present[parsed.isna()].unique()[:5]:
            if len(self.non_numbers) < 5 and value not in self.non_numbers:
                self.non_numbers.append(value)
        if self.feature:
            self.dated += dated(present, share=0.0)
        some, every = grouping(present, self.decimal) if ptypes.is_string_dtype(raw) else (False, False)
        self.grouped, self.ungroupable = self.grouped or some, self.ungroupable or not every
        return (ungrouped(raw, self.decimal) if some and every else pd.to_numeric(raw, errors="coerce")) \
            .astype(np.float64).to_numpy()

    def _first_and_constant(self, present: pd.Series) -> None:
        if present.empty:
            return
        if self.first is _NOTHING:
            self.first = present.iloc[0]
        if self.constant:
            try:
                self.constant = bool((present == self.first).all())
            except (TypeError, ValueError):  # values that cannot be compared with the first are not it
                self.constant = False

    def _ids(self, raw: pd.Series, present: pd.Series) -> None:
        """Keep the values of a column that may be a row ID, while it may: none missing, each
        different, whole numbers not spread beyond the rows, or text without white space."""
        self.integers = self.integers and ptypes.is_integer_dtype(raw.dtype)
        if self.ids is None:
            return
        if len(present) < len(raw) or (ptypes.is_numeric_dtype(raw.dtype) and not self.integers):
            self.ids = None  # a gap, or decimal numbers: never a row ID
            return
        if self.integers:
            values = raw.to_numpy(dtype=np.int64)
            if len(values):
                self.span = (min(self.span[0], int(values.min())), max(self.span[1], int(values.max())))
            if self.most_rows is not None and self.span[1] - self.span[0] + 1 > ID_SPAN * self.most_rows:
                self.ids = None
                return
        else:
            text = as_text(raw).astype(str)
            if self.first_text is None and len(text):
                self.first_text = text.iloc[0]
            self.spaced = self.spaced or bool(text.str.contains(r"\s").any())
            if self.spaced:
                self.ids = None  # text with white space: never a row ID
                return
            values = pd.util.hash_pandas_object(text, index=False).to_numpy()
        if len(np.unique(values)) < len(values):
            self.ids = None
        else:
            self.ids.append(values)

    def _code(self, raw: pd.Series) -> None:
        """The block's text values as codes (-1 where missing); a block of numbers has none."""
        if self.codes is None:
            return
        if ptypes.is_numeric_dtype(raw.dtype) and not ptypes.is_bool_dtype(raw.dtype):
            self.codes.append(None)
            return
        text = as_text(raw)
        for value in pd.unique(text.dropna()):
            self.values.setdefault(value, len(self.values))
        if len(self.values) > self.most_values:
            self.codes = None  # no category, no class: refused by the checks
            return
        self.codes.append(pd.Categorical(text, categories=list(self.values)).codes.astype(np.int32))

    @property
    def mixed(self) -> bool:
        """Whether the blocks read differently (a CSV column of numbers in one place and text in
        another): as pandas reads the whole column, it is then read again as text."""
        return len(self.dtypes) > 1 or "mixed" in self.dtypes

    @property
    def ungrouped(self) -> bool:
        """Whether the column is numbers with thousands separators: text that is all such numbers
        or plain ones, some grouped (as :meth:`Table.read` converts a whole column)."""
        return self.grouped and not self.ungroupable

    def all_codes(self) -> np.ndarray:
        """Every row's code (-1 where missing); the blocks read as numbers must have been read
        again as text."""
        if self.codes is None or any(codes is None for codes in self.codes):
            raise AssertionError(f"column {self.name!r} has no codes for some of its rows")
        return np.concatenate(self.codes) if self.codes else np.zeros(0, np.int32)

    def text_values(self) -> np.ndarray:
        return np.array(list(self.values), dtype=object)


#: A row ID's whole numbers may spread over at most this many times the rows (as the checks say).
ID_SPAN = 1.1


def _converted_kind(column: _Column) -> str:
    """A feature column as the checks convert it: ``"number"`` or ``"text"``, or refused (mostly
    numbers with a few text values, or dates)."""
    if column.dtypes <= {"number"} or column.ungrouped:
        return "number"
    if column.dtypes == {"text"}:
        return "text"
    return values_kind(column.name, column.kinds, column.present, column.numbers, lambda: column.dated, column.first,
                       lambda: examples(column.non_numbers[:3]))


def _uselessness(column: _Column, kind: str, *, ids: bool) -> str | None:
    """Why a feature column cannot help predict (empty, constant, or with ``ids`` a row ID), or None."""
    return uselessness(column.name, column.rows, column.present, column.present > 0 and column.constant, column.first,
                       lambda: _row_id(column, kind) if ids else None)


def _row_id(column: _Column, kind: str) -> str | None:
    """How the column reads as a row ID (see :func:`~losslab.problems._checks.integer_id` and
    :func:`~losslab.problems._checks.text_id`), or None."""
    if column.rows < MIN_ID_ROWS or column.ids is None or (kind == "number" and not column.integers):
        return None
    values = np.concatenate(column.ids)
    if len(np.unique(values)) != column.rows:
        return None
    if column.integers:
        return integer_id(int(values.min()), int(values.max()), column.rows, column.name)
    return text_id(column.first_text)


# ------------------------------------------------------------------------------------- checks


@dataclass(frozen=True)
class _OnDisk(Columns):
    """Checked data whose numeric columns are in a float64 file of every row of the table
    (:data:`NUMBERS`) and whose text columns are codes, read a block of the kept rows at a time."""

    numbers: np.ndarray  # (rows of the table, surveyed columns), a memory map
    slots: dict[str, int]  # numeric column -> its column in numbers
    text: dict[str, tuple[np.ndarray, np.ndarray]]  # text column -> (codes of every row, values)
    kept: np.ndarray  # each kept row's row of the table

    @property
    def numeric_names(self) -> list[str]:
        return list(self.slots)

    @property
    def text_names(self) -> list[str]:
        return list(self.text)

    def numeric_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        slots = list(self.slots.values())
        for start in range(0, len(rows), BLOCK):
            # row-major, as the checked columns in memory: NumPy's sums (the scaler's) follow the layout
            yield np.ascontiguousarray(self.numbers[self.kept[rows[start:start + BLOCK]]][:, slots])

    def text_blocks(self, rows: np.ndarray) -> Iterator[np.ndarray]:
        for start in range(0, len(rows), BLOCK):
            table_rows = self.kept[rows[start:start + BLOCK]]
            yield np.column_stack([values[codes[table_rows]] for codes, values in self.text.values()])

    def categories(self, rows: np.ndarray) -> list[list[str]]:
        table_rows = self.kept[rows]
        return [sorted(values[np.unique(codes[table_rows])]) for codes, values in self.text.values()]


def _checked(folder: Path, table: Table, target: str, options: Preparation, chosen: list[str],
             left_out: dict[str, str]) -> _OnDisk:
    """Survey ``table`` a block of rows at a time and check it as
    :func:`~losslab.problems._checks.validate` checks a table in memory, raising the same errors."""
    survey, y = _survey(folder, table, chosen, target)
    n_rows = survey[target].rows
    kinds = {name: _converted_kind(survey[name]) for name in chosen}
    useless = left_out_useless({name: _uselessness(survey[name], kinds[name], ids=options.features is None)
                                for name in chosen}, named=options.features is not None)
    left_out = left_out | useless
    features = [name for name in chosen if name not in useless]
    if not features:
        raise DataError(no_features_message(target, left_out))
    target_values = _target(survey[target], y, options.kind)
    if n_rows == 0:
        check_rows(0, 0)
    numbers = np.memmap(folder / NUMBERS, dtype=np.float64, mode="r", shape=(n_rows, len(chosen)))
    bad, dropped_by_column = _bad_rows(features, kinds, survey, numbers, chosen, target, target_values, options.dropna)
    for name in features:  # too many different values to count: after the missing values, as the checks
        if kinds[name] == "text" and survey[name].codes is None:
            check_categories(MOST_FEATURE_VALUES, survey[name].present, name, at_least=True)
    kept = np.flatnonzero(~bad)
    check_rows(len(kept), n_rows)
    text = {name: (survey[name].all_codes(), survey[name].text_values()) for name in features if kinds[name] == "text"}
    for name, (codes, _) in text.items():
        check_categories(len(np.unique(codes[kept])), len(kept), name)
    kind, y_encoded, class_names = encoded_target(target_values.iloc[kept].reset_index(drop=True), target, options.kind)
    check_split(y_encoded, kind, class_names, options.test_size, target)
    return _OnDisk(y=y_encoded, kind=kind, kind_given=options.kind is not None, class_names=class_names,
                   n_rows_in=n_rows, dropped_by_column=dropped_by_column, n_dropped=n_rows - len(kept),
                   dropped_columns=left_out, numbers=numbers,
                   slots={name: chosen.index(name) for name in features if kinds[name] == "number"},
                   text=text, kept=kept)


#: Rows read at a time at least, however wide the table.
MIN_BLOCK_ROWS = 1_000


def _survey(folder: Path, table: Table, chosen: list[str], target: str) -> tuple[dict[str, _Column], np.ndarray]:
    """Every column's :class:`_Column` and the target's numbers, the features' numbers written
    to :data:`NUMBERS` in the table's order; a CSV column that read as numbers and text is read
    again as text."""
    most_rows = _most_rows(table)
    survey = {name: _Column(name, MOST_FEATURE_VALUES, most_rows=most_rows, decimal=table.decimal) for name in chosen}
    survey[target] = _Column(target, MOST_CLASSES, feature=False, decimal=table.decimal)
    rows = max(MIN_BLOCK_ROWS, READ_BYTES // (8 * (len(chosen) + 1)))
    y = []
    with (folder / NUMBERS).open("wb") as out:
        for block in table.blocks(rows, [*chosen, target]):
            numbers = np.empty((len(block), len(chosen)))
            for j, name in enumerate(chosen):
                numbers[:, j] = survey[name].add(block[name])
            out.write(numbers.tobytes())
            y.append(survey[target].add(block[target]))
    mixed = [name for name in [*chosen, target] if survey[name].mixed]
    if mixed and not table.parquet:
        y = _read_again_as_text(folder, table, survey, chosen, target, mixed, rows, y)
    return survey, np.concatenate(y) if y else np.zeros(0)


def _most_rows(table: Table) -> int | None:
    """A bound on the table's rows: a Parquet file's, or an uncompressed CSV's bytes over its
    columns (a row takes a separator or an end of line per column at least); None if unknown."""
    if table.parquet:
        import pyarrow.parquet as pq

        return pq.ParquetFile(table.path).metadata.num_rows
    return None if table.compressed else table.path.stat().st_size // max(1, len(table.columns()))


def _read_again_as_text(folder: Path, table: Table, survey: dict[str, _Column], chosen: list[str], target: str,
                        mixed: list[str], rows: int, y: list[np.ndarray]) -> list[np.ndarray]:
    """Survey the ``mixed`` columns again from their text, their numbers rewritten from it."""
    for name in mixed:
        before = survey[name]
        survey[name] = _Column(name, before.most_values, before.feature, before.most_rows, before.decimal)
    numbers = np.memmap(folder / NUMBERS, dtype=np.float64, mode="r+", shape=(survey[target].rows, len(chosen)))
    start, target_numbers = 0, []
    for block in table.blocks(rows, mixed, text=mixed):
        for name in mixed:
            values = survey[name].add(block[name])
            if name == target:
                target_numbers.append(values)
            else:
                numbers[start:start + len(block), chosen.index(name)] = values
        start += len(block)
    numbers.flush()
    del numbers
    return target_numbers if target in mixed else y


def _target(column: _Column, numbers: np.ndarray, kind: str | None) -> pd.Series:
    """The target as the checks convert it: float64 numbers, booleans, or text (a categorical of
    its labels, sorted, or in a categorical column's order); refused as the checks refuse it."""
    if column.dtypes <= {"number"} or column.ungrouped:
        return pd.Series(numbers)
    if column.dtypes == {"text"} and not column.categories:  # booleans (pandas' nullable ones may have gaps)
        return _booleans(column)
    if column.dtypes != {"text"} and target_values_kind(column.name, kind, column.kinds, column.present,
                                                        column.numbers, lambda: examples(column.non_numbers)) == "number":
        return pd.Series(numbers)
    if column.codes is None:
        raise TargetError(too_many_classes_message(column.name, f"more than {MOST_CLASSES:,}", column.rows,
                                                   numeric=False))
    values = column.text_values()
    order = [str(c) for c in column.categories] if column.dtypes == {"text"} else sorted(values)
    return _labels(column.all_codes(), values, order)


def _booleans(column: _Column) -> pd.Series:
    codes, values = column.all_codes(), column.text_values()
    truth = np.array([value == "True" for value in values], dtype=bool)[np.maximum(codes, 0)] if len(values) \
        else np.zeros(len(codes), bool)
    if (codes >= 0).all():
        return pd.Series(truth)
    return pd.Series(pd.array(np.where(codes >= 0, truth, False), dtype="boolean").copy()).mask(codes < 0)


def _labels(codes: np.ndarray, values: np.ndarray, order: list[str]) -> pd.Series:
    """Text labels as a categorical whose categories are in ``order``."""
    position = {value: i for i, value in enumerate(order)}
    remap = np.array([position[v] for v in values] or [-1], dtype=np.int32)
    return pd.Series(pd.Categorical.from_codes(np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), categories=order))


def _bad_rows(features: list[str], kinds: dict[str, str], survey: dict[str, _Column], numbers: np.ndarray,
              chosen: list[str], target: str, y: pd.Series, dropna: bool) -> tuple[np.ndarray, dict[str, int]]:
    """Rows with a missing or infinite value, as the checks count them: an error naming the
    columns unless ``dropna``. A text column of too many values to code is counted, not masked:
    the checks refuse it next."""
    n = len(y)
    bad = np.zeros(n, dtype=bool)
    numeric = [name for name in features if kinds[name] == "number"]
    slots = [chosen.index(name) for name in numeric]
    missing, infinite = np.zeros(len(numeric), np.int64), np.zeros(len(numeric), np.int64)
    for start in range(0, n, BLOCK):
        block = numbers[start:start + BLOCK][:, slots]
        nan, inf = np.isnan(block), np.isinf(block)
        missing += nan.sum(axis=0)
        infinite += inf.sum(axis=0)
        bad[start:start + len(block)] |= (nan | inf).any(axis=1)
    found = dict(zip(numeric, zip(missing.tolist(), infinite.tolist())))
    for name in features:
        if kinds[name] == "text":
            column = survey[name]
            if column.codes is not None:
                bad |= column.all_codes() < 0
            found[name] = (column.rows - column.present, 0)
    y_missing = y.isna().to_numpy()
    y_infinite = np.isinf(y.to_numpy(dtype=np.float64, na_value=np.nan)) if ptypes.is_float_dtype(y.dtype) \
        else np.zeros(n, bool)
    bad |= y_missing | y_infinite
    found[target] = (int(y_missing.sum()), int(y_infinite.sum()))
    counts = {name: found[name] for name in [*features, target] if any(found[name])}
    check_missing(counts, target, int(bad.sum()), n, dropna)
    return bad, {name: int(m + i) for name, (m, i) in counts.items()}
