"""Reading a table from a file: ``load_table`` (file -> DataFrame).

Every problem with the file (missing, a directory, an unsupported type, empty, binary, not
UTF-8, ragged rows, truncated or corrupt) is raised as a one-line :class:`~losslab.errors.DataError` that says what
to do. Checking the table's contents is :mod:`losslab.problems._checks`' job.
"""

from __future__ import annotations

import csv
import difflib
import lzma
import re
import warnings
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from losslab.errors import DataError

_TEXT_FORMATS = {".csv": ",", ".tsv": "\t"}
_PARQUET = (".parquet", ".pq")
_COMPRESSION = (".gz", ".bz2", ".zip", ".xz", ".zst")
_COMPRESSION_NAMES = {".gz": "gzip", ".bz2": "bzip2", ".zip": "zip", ".xz": "xz", ".zst": "zstd"}
#: What Python's decompressors raise for a truncated or corrupt file; gzip's and bz2's other
#: complaints are OSErrors without an errno (see ``_read_text``).
_DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)


def load_table(path: str | Path) -> pd.DataFrame:
    """Read a ``.csv``, ``.tsv`` or ``.parquet``/``.pq`` file into a DataFrame.

    CSV and TSV files may be compressed (``.csv.gz`` and the like) and must be UTF-8 text. A
    ``.csv`` whose header holds semicolons, tabs or bars instead of commas is read with that
    separator, and a semicolon file whose numbers use decimal commas (``1,5``, as European
    spreadsheets write them) is read with ``decimal=","``.
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
        raise DataError(
            f"cannot read {str(path)!r} as Parquet: the file is truncated or not a valid Parquet file "
            f"({_reason(exc)}); write it again or re-download it"
        ) from exc


def _read_text(path: Path, sep: str, compressed: bool) -> pd.DataFrame:
    if not compressed:
        _refuse_binary(path)
    try:
        if path.suffix.lower() == ".zip":
            _check_zip(path)
        if sep == ",":
            sep, decimal = _sniffed(path)
        else:
            decimal = "."
        return _parse_text(path, sep, decimal)
    except pd.errors.EmptyDataError as exc:
        raise DataError(f"{str(path)!r} is empty: no header and no rows; write the data to it again") from exc
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{str(path)!r} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
            "save it as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(_ragged_message(path, sep, exc)) from exc
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


def _parse_text(path: Path, sep: str, decimal: str = ".") -> pd.DataFrame:
    # index_col=False: without it pandas silently turns the first column into the index when the
    # first data row has one field more than the header; with it pandas warns, and we refuse.
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(path, sep=sep, decimal=decimal, index_col=False)


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _sniffed(path: Path) -> tuple[str, str]:
    """The separator of a ``.csv`` (``,`` unless the header holds none of them but ``;``, a tab or
    ``|``) and its decimal mark (``,`` when a ``;`` file's fields look like ``1,5``)."""
    lines = pd.read_csv(path, sep="\x1f", header=None, nrows=21, dtype=str, engine="python",
                        skip_blank_lines=True, quoting=csv.QUOTE_NONE)[0].dropna().tolist()
    if not lines or "," in lines[0]:
        return ",", "."
    sep = next((other for other in (";", "\t", "|") if other in lines[0]), ",")
    fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(sep)]
    decimal = "," if sep == ";" and any(_DECIMAL_COMMA.match(field) for field in fields) else "."
    return sep, decimal


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
