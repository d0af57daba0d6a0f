"""Plain JSON-ready values, and the numeric summaries that must say NaN rather than guess."""

from __future__ import annotations

import datetime
import decimal
import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd


def plain(value: object) -> object:
    """``value`` as JSON-ready Python: mappings, sequences and frames walked, NumPy scalars and
    arrays unwrapped, NaN, infinities, ``pd.NA`` and ``NaT`` as ``None``, dates and times in ISO
    format, and anything else JSON has no type for (paths, decimals, durations) as its text.

    >>> plain({"a": np.float32(0.5), "b": [float("nan"), np.int64(2)], "c": pd.Timestamp("2026-11-25")})
    {'a': 0.5, 'b': [None, 2], 'c': '2026-11-25T00:00:00'}
    >>> plain([np.datetime64("2026-11-25T10:00:00", "ns"), np.datetime64("NaT"), decimal.Decimal("NaN")])
    ['2026-11-25T10:00:00', None, None]
    """
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, pd.DataFrame):
        return plain(value.to_dict(orient="records"))
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    if isinstance(value, np.datetime64):  # .item() would give nanoseconds as an integer
        value = pd.Timestamp(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, datetime.date | datetime.time):  # pandas' Timestamp is a datetime
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)


def mean_or_nan(values: object) -> float:
    """The mean of ``values``, NaN when there are none."""
    array = np.asarray(values, dtype=float)
    return float(array.mean()) if array.size else math.nan


def sd_or_nan(values: object) -> float:
    """The sample standard deviation (ddof 1) of ``values``, NaN for fewer than two."""
    array = np.asarray(values, dtype=float)
    return float(array.std(ddof=1)) if array.size > 1 else math.nan


def slug(text: str) -> str:
    """``text`` as a safe file-name part: anything but letters, digits, ``.``, ``_``, ``-`` becomes ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")
