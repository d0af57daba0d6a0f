"""Reading a table from a file: ``load_table`` (file -> DataFrame).

A table is read as its author meant it: the separator and decimal mark of a ``.csv`` are sniffed
from its first lines, a file with a UTF-16 byte-order mark is read as UTF-16, and quoted numbers
with thousands separators (``"10,000"``) are read as numbers; ``sep``, ``decimal`` and
``encoding`` override the sniffing. Every problem with the file (missing, a directory, an
unsupported type, empty, binary, not in its encoding, two columns of one name, ragged rows,
truncated or corrupt) is raised as a one-line :class:`~losslab.errors.DataError` that says what
to do. Checking the table's contents is :mod:`losslab.problems._checks`' job.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import difflib
import lzma
import re
import warnings
import zipfile
import zlib
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pandas.api import types as ptypes

from losslab.errors import DataError

_TEXT_FORMATS = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
_COMPRESSION = (".gz", ".bz2", ".zip", ".xz", ".zst")
_COMPRESSION_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
#: What Python's decompressors raise for a truncated or corrupt file; gzip's and bz2's other
#: complaints are OSErrors without an errno (see ``_text_errors``).
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def load_table(
    path: str | Path, *, sep: str | None = None, decimal: str | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Read a ``.csv``, ``.tsv`` or ``.parquet``/``.pq`` file into a DataFrame.

    CSV and TSV files may be compressed (``.csv.gz`` and the like). A ``.csv`` whose header holds
    semicolons, tabs or bars instead of commas is read with that separator, and a semicolon file
    whose numbers use decimal commas (``1,5``, as European spreadsheets write them) is read with
    ``decimal=","``; ``sep`` (one character, or ``"\\t"`` for a tab) and ``decimal`` override
    that. Text is UTF-8 unless ``encoding`` names another (``"latin-1"``, ``"cp1252"``); a file
    starting with a UTF-16 byte-order mark is read as UTF-16. Bytes that are not UTF-8 are
    refused with the fix, never guessed at. A text column whose values are all numbers, some
    with thousands separators (``10,000`` or ``1,234.5``; ``10.000`` with decimal commas), is
    read as numbers. A header naming two columns alike is refused (pandas would rename the
    second ``a.1``).
    Every problem with the file raises :class:`DataError` with a one-line message saying what
    to do.
    """
    return open_table(path, sep=sep, decimal=decimal, encoding=encoding).read()


@dataclass(frozen=True)
class Table:
    """A table file checked and sniffed (:func:`open_table`), to read whole or a block of rows
    at a time: a ``.parquet`` (``sep`` and the rest None) or a text file read with ``sep``,
    ``decimal`` and ``encoding``."""

    path: Path
    parquet: bool
    compressed: bool = False
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None

    def read(self) -> pd.DataFrame:
        """The whole table."""
        if self.parquet:
            return _read_parquet(self.path)
        with self._errors():
            frame = _parse_text(self.path, self.sep, self.decimal, self.encoding)
            mixed = [name for name in frame.columns if pd.api.types.infer_dtype(frame[name], skipna=True) in _MIXED]
            if mixed:  # pandas reads a large file in pieces, each typed alone: such a column is text
                again = pd.read_csv(self.path, sep=self.sep, decimal=self.decimal, index_col=False,
                                    encoding=self.encoding, usecols=mixed, dtype=str)
                for name in mixed:
                    frame[name] = again[name]
        _refuse_repeated_names(self.path, frame, self.sep, self.encoding)
        return _thousands_as_numbers(frame, self.decimal)

    def columns(self) -> list[str]:
        """The table's column names (a Parquet file's index columns left out: :meth:`read` makes
        them the index, which a problem does not use)."""
        if self.parquet:
            schema = pq.read_schema(self.path)
            index = {entry for entry in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(entry, str)}
            return [name for name in schema.names if name not in index]
        with self._errors():
            header = pd.read_csv(self.path, sep=self.sep, nrows=0, index_col=False, encoding=self.encoding)
        _refuse_repeated_names(self.path, header, self.sep, self.encoding)
        return [str(c) for c in header.columns]

    def blocks(self, rows: int, columns: Sequence[str] | None = None, text: Collection[str] = ()) -> Iterator[pd.DataFrame]:
        """The table's ``columns`` (all by default) ``rows`` rows at a time, each block's values
        as pandas reads them, the columns in ``text`` of a CSV file read as text. Numbers with
        thousands separators are left as text: whether a column holds them is a question about
        the whole column (:func:`grouping`), which :meth:`read` answers for it."""
        if self.parquet:
            yield from _parquet_blocks(self.path, rows, list(columns) if columns is not None else self.columns())
            return
        dtype = {name: str for name in text} or None
        with self._errors():  # every field read, not only the columns': a ragged row is refused as by read
            reader = pd.read_csv(self.path, sep=self.sep, decimal=self.decimal, index_col=False, encoding=self.encoding,
                                 chunksize=rows, dtype=dtype)
        with reader:
            while True:
                with self._errors(), warnings.catch_warnings():
                    warnings.simplefilter("error", pd.errors.ParserWarning)  # as _parse_text
                    block = next(reader, None)
                if block is None:
                    return
                yield block if columns is None else block[list(columns)]

    def first_lines(self) -> list[str]:
        """The header and the first 20 rows of a text table, as raw lines."""
        with self._errors():
            return _first_lines(self.path, self.encoding)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return _text_errors(self.path, self.sep, self.encoding, self.compressed)


@contextlib.contextmanager
def _text_errors(path: Path, sep: str, encoding: str, compressed: bool) -> Iterator[None]:
    """Every way reading a text file can fail, as one :class:`DataError` saying what to do."""
    try:
        yield
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{str(path)!r} is empty: no header and no rows; write the data to it again") from exc
    except UnicodeDecodeError as exc:
        raise DataError(_encoding_message(path, encoding, exc)) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(_ragged_message(path, sep, encoding, exc)) from exc
    except _DECOMPRESSION_ERRORS as exc:
        raise DataError(_corrupt_message(path, exc)) from exc
    except OSError as exc:
        if compressed and exc.errno is None:  # gzip's BadGzipFile, bz2's "Invalid data stream"
            raise DataError(_corrupt_message(path, exc)) from exc
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    except ImportError as exc:  # pandas reads .zst only with the zstandard package
        raise DataError(
            f"cannot read {str(path)!r}: reading {path.suffix} files needs the zstandard package; "
            "pip install zstandard, or decompress the file and give the uncompressed one"
        ) from exc


def open_table(
    path: str | Path, *, sep: str | None = None, decimal: str | None = None, encoding: str | None = None
) -> Table:
    """A table file checked (it exists, is a table of a known type, not binary, a Parquet file
    whose schema reads, a zip of one file) and its separator, decimal mark and encoding sniffed
    (see :func:`load_table`), ready to read; every problem raised as a one-line
    :class:`DataError`."""
    path = Path(path)
    if not path.exists():
        raise DataError(_missing_file_message(path))
    if path.is_dir():
        raise DataError(f"{str(path)!r} is a directory; give the path of a .csv or .parquet file inside it")
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in _COMPRESSION
    ext = (suffixes[-2] if compressed and len(suffixes) > 1 else suffixes[-1]) if suffixes else ""
    if ext in _PARQUET and not compressed:
        given = [name for name, value in (("sep", sep), ("decimal", decimal), ("encoding", encoding)) if value]
        if given:
            raise DataError(f"{' and '.join(given)} apply to CSV and TSV files, not to the Parquet file {str(path)!r}; "
                            "leave them out")
        _check_parquet(path)
        return Table(path, parquet=True)
    if ext not in _TEXT_FORMATS:
        shown = "".join(path.suffixes) or "(none)"
        raise DataError(
            f"cannot read {str(path)!r}: unsupported file type {shown}; save it as .csv, .tsv or .parquet"
        )
    return _text_table(path, _TEXT_FORMATS[ext], compressed, _checked_sep(sep), _checked_decimal(decimal),
                       _checked_encoding(encoding))


#: Names for a tab, which is awkward to type on a command line.
_TAB_NAMES = (r"\t", "tab")


def _checked_sep(sep: str | None) -> str | None:
    if sep in _TAB_NAMES:
        return "\t"
    if sep is not None and (not isinstance(sep, str) or len(sep) != 1):
        raise DataError(f"sep must be one character, such as ',', ';', '|' or '\\t' (a tab); got {sep!r}")
    return sep


def _checked_decimal(decimal: str | None) -> str | None:
    if decimal is not None and (not isinstance(decimal, str) or len(decimal) != 1):
        raise DataError(f"decimal must be one character, '.' or ','; got {decimal!r}")
    return decimal


def _checked_encoding(encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return codecs.lookup(encoding).name
    except (LookupError, TypeError) as exc:
        raise DataError(
            f"unknown encoding {encoding!r}; give one of Python's encoding names, such as utf-8, latin-1, cp1252 or "
            "utf-16"
        ) from exc


def _missing_file_message(path: Path) -> str:
    message = f"no such file {str(path)!r}"
    folder = path.parent
    if folder.is_dir():
        close = difflib.get_close_matches(path.name, [p.name for p in folder.iterdir()], n=1, cutoff=0.6)
        if close:
            return message + f"; did you mean {str(folder / close[0])!r}?"
    return message + "; check the path"


def _check_parquet(path: Path) -> None:
    if path.stat().st_size == 0:
        raise DataError(f"{str(path)!r} is empty (0 bytes); write the data to it again")
    try:
        names = pq.read_schema(path).names
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(_invalid_parquet_message(path, exc)) from exc
    # pyarrow writes two columns of one name, but pandas cannot read them back
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise DataError(f"{str(path)!r} has more than one column named {', '.join(map(repr, repeated))}; rename them "
                        "so each name is unique and write the file again")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        # what pd.read_parquet does, with a column per block and Arrow's buffers freed as they
        # convert: one copy of the table at a time (pandas passes these options on only from 3.0)
        table = pq.read_table(path, use_pandas_metadata=True)
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
    except (OSError, ValueError) as exc:
        raise DataError(_invalid_parquet_message(path, exc)) from exc
    release_read_buffers()  # the decoding buffers: 1.5 times the table
    return frame


def _parquet_blocks(path: Path, rows: int, columns: list[str]) -> Iterator[pd.DataFrame]:
    """A Parquet file's ``columns``, ``rows`` rows at a time, as pandas reads them."""
    try:
        # read a megabyte at a time, not pre-buffered: Arrow would keep every row group's column chunks read so far
        file = pq.ParquetFile(path, pre_buffer=False, buffer_size=2**20)
        batches = file.iter_batches(batch_size=rows, columns=columns)
    except (OSError, ValueError) as exc:
        raise DataError(_invalid_parquet_message(path, exc)) from exc
    with file:
        while True:
            try:
                batch = next(batches, None)
            except (OSError, ValueError) as exc:
                raise DataError(_invalid_parquet_message(path, exc)) from exc
            if batch is None:
                return
            block = pa.Table.from_batches([batch]).to_pandas(split_blocks=True, self_destruct=True)
            del batch
            release_read_buffers()  # what Arrow's pool keeps of the blocks before
            yield block


def release_read_buffers() -> None:
    """Give the memory Arrow freed back to the system: its pool keeps it otherwise, and the
    engine's arrays cannot use it."""
    pa.default_memory_pool().release_unused()


def _invalid_parquet_message(path: Path, exc: BaseException) -> str:
    return (f"cannot read {str(path)!r} as Parquet: the file is truncated or not a valid Parquet file "
            f"({_reason(exc)}); write it again or re-download it")


def _text_table(
    path: Path, default_sep: str, compressed: bool, sep: str | None, decimal: str | None, encoding: str | None
) -> Table:
    if not compressed:  # a compressed file's first bytes say nothing about its text
        head = _head(path)
        encoding = encoding or _bom_encoding(head)
        _refuse_binary(path, head, encoding)
    encoding = encoding or "utf-8"
    with _text_errors(path, sep or default_sep, encoding, compressed):
        if path.suffix.lower() == ".zip":
            _check_zip(path)
        if sep is None or decimal is None:
            lines = _first_lines(path, encoding)
            sep = sep or (_sniffed_sep(lines) if default_sep == "," else default_sep)
            decimal = decimal or _sniffed_decimal(lines, sep)
    return Table(path, parquet=False, compressed=compressed, sep=sep, decimal=decimal, encoding=encoding)


def _encoding_message(path: Path, encoding: str, exc: UnicodeDecodeError) -> str:
    byte = exc.object[exc.start]
    where = f"(byte 0x{byte:02x} at position {exc.start})"
    if encoding != "utf-8":
        return (f"{str(path)!r} is not {encoding} text {where}; give the file's encoding with --encoding "
                "(encoding= in Python), such as utf-8, latin-1, cp1252 or utf-16")
    if exc.start == 0 and byte in (0xFF, 0xFE):  # a UTF-16 byte-order mark inside a compressed file
        return (f"{str(path)!r} is UTF-16 text, not UTF-8 (it starts with a UTF-16 byte-order mark); pass --encoding "
                "utf-16 (encoding='utf-16' in Python)")
    return (f"{str(path)!r} is not UTF-8 text {where}; if it is Latin-1 (Western European, as older Excel saves "
            "CSV), pass --encoding latin-1 (encoding='latin-1' in Python), or save it as UTF-8 (in Excel: 'CSV UTF-8')")


def _check_zip(path: Path) -> None:
    """A zip must hold exactly one file, the table (as pandas requires)."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if len(names) != 1:
        shown = ", ".join(map(repr, names[:5])) + (", ..." if len(names) > 5 else "")
        raise DataError(
            f"{str(path)!r} holds {len(names)} files{f' ({shown})' if names else ''}; a zip must hold just "
            "the one table: unzip it and give the .csv file"
        )


def _corrupt_message(path: Path, exc: BaseException) -> str:
    kind = _COMPRESSION_NAMES.get(path.suffix.lower(), "compressed")
    return (
        f"cannot read {str(path)!r}: the file is truncated or not a valid {kind} file ({_reason(exc)}); "
        "re-download it, or decompress it and give the uncompressed file"
    )


def _reason(exc: BaseException) -> str:
    """The first line of an exception's message, or its type when it has none."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _parse_text(path: Path, sep: str, decimal: str, encoding: str) -> pd.DataFrame:
    # index_col=False: without it pandas silently turns the first column into the index when the
    # first data row has one field more than the header; with it pandas warns, and we refuse.
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        warnings.simplefilter("ignore", pd.errors.DtypeWarning)  # such columns are read again as text (Table.read)
        return pd.read_csv(path, sep=sep, decimal=decimal, index_col=False, encoding=encoding)


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _first_lines(path: Path, encoding: str) -> list[str]:
    """The header and the first 20 rows, as raw lines."""
    return pd.read_csv(path, sep="\x1f", header=None, nrows=21, dtype=str, engine="python", encoding=encoding,
                       skip_blank_lines=True, quoting=csv.QUOTE_NONE)[0].dropna().tolist()


def _sniffed_sep(lines: list[str]) -> str:
    """The separator of a ``.csv``: ``,`` unless the header holds none but ``;``, a tab or ``|``."""
    if not lines or "," in lines[0]:
        return ","
    return next((other for other in (";", "\t", "|") if other in lines[0]), ",")


def _sniffed_decimal(lines: list[str], sep: str) -> str:
    """The decimal mark: ``,`` when a ``;`` file's fields look like ``1,5``, else ``.``."""
    fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(sep)]
    return "," if sep == ";" and any(_DECIMAL_COMMA.match(field) for field in fields) else "."


#: Byte-order marks and the encodings they announce; UTF-32's first, as UTF-16's starts it.
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(8192)
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc


def _bom_encoding(head: bytes) -> str | None:
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), None)


def _refuse_binary(path: Path, head: bytes, encoding: str | None) -> None:
    if head.startswith(b"PAR1"):
        raise DataError(f"{str(path)!r} is a Parquet file, not text; rename it to end in .parquet")
    if head.startswith(b"PK\x03\x04"):
        raise DataError(f"{str(path)!r} is a zip or Excel file, not text; export the sheet as CSV")
    if b"\x00" in head and not (encoding or "").startswith(("utf-16", "utf-32")):
        wide = _utf16_without_bom(head)
        if wide:
            raise DataError(f"{str(path)!r} looks like UTF-16 text without a byte-order mark; pass --encoding {wide} "
                            f"(encoding={wide!r} in Python)")
        raise DataError(f"{str(path)!r} holds binary data, not a text table; give a CSV file or a .parquet file")


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` when every other byte is zero, as in UTF-16 text of Latin letters."""
    even, odd = head[0::2], head[1::2]
    if odd and odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even and even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


#: pandas' name for the second of two columns called ``a``.
_RENAMED = re.compile(r"(.+)\.\d+")


def _refuse_repeated_names(path: Path, frame: pd.DataFrame, sep: str, encoding: str) -> None:
    """Refuse a header that names two columns alike, which pandas reads as ``a`` and ``a.1``."""
    columns = {str(c) for c in frame.columns}
    if not any((renamed := _RENAMED.fullmatch(c)) and renamed.group(1) in columns for c in columns):
        return  # pandas renamed nothing: no need to read the header again
    header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, encoding=encoding, index_col=False,
                         keep_default_na=False).iloc[0].tolist()
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise DataError(f"{str(path)!r} has more than one column named {', '.join(map(repr, repeated))}; rename them "
                        "in the file's header so each name is unique")


#: Numbers with thousands separators, by decimal mark: 10,000 and 1,234.5; or 10.000 and 1.234,5.
_GROUPED = {".": re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?"),
            ",": re.compile(r"[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?")}
_PLAIN = {".": re.compile(r"[+-]?\d+(?:\.\d+)?"), ",": re.compile(r"[+-]?\d+(?:,\d+)?")}
#: What pandas' ``infer_dtype`` says of a column of text and numbers (or booleans) together.
_MIXED = ("mixed", "mixed-integer")


def _thousands_as_numbers(frame: pd.DataFrame, decimal: str) -> pd.DataFrame:
    """Text columns of numbers, some with thousands separators, as numbers.

    Done after reading, column by column, rather than with ``read_csv(thousands=...)``, which
    would also read ``1,5`` as 15 in a column that is no number column at all.
    """
    if decimal not in _GROUPED:
        return frame
    for name in frame.columns:
        column = frame[name]
        if not ptypes.is_string_dtype(column):  # for object columns pandas checks that every value is a str
            continue
        some, every = grouping(column, decimal)
        if some and every:
            frame[name] = ungrouped(column, decimal)
    return frame


def grouping(column: pd.Series, decimal: str | None) -> tuple[bool, bool]:
    """Whether a column of text holds a number with thousands separators (``10,000``), and
    whether every value present is such a number or a plain one: both, and it is a column of
    numbers. (False, False) where the decimal mark has no thousands separator."""
    if decimal not in _GROUPED:
        return False, False
    text = column.dropna().str.strip()
    grouped = text.str.fullmatch(_GROUPED[decimal])
    return bool(grouped.any()), bool((grouped | text.str.fullmatch(_PLAIN[decimal])).all())


def ungrouped(column: pd.Series, decimal: str) -> pd.Series:
    """A column of numbers written with thousands separators (:func:`grouping`) as float64."""
    separator = "," if decimal == "." else "."
    plain = column.str.strip().str.replace(separator, "", regex=False).str.replace(decimal, ".", regex=False)
    return pd.to_numeric(plain, errors="coerce").astype(np.float64)


def _ragged_message(path: Path, sep: str, encoding: str, exc: Exception) -> str:
    try:
        with path.open(newline="", encoding=encoding, errors="replace") as handle:
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
