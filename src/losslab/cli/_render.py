"""Rendering results for the terminal: rich tables and number formats, no computation."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from losslab._plain import plain

console = Console(highlight=False)
if not console.is_terminal:  # piped or captured output: wide enough for the tables, not 80 columns
    console = Console(highlight=False, width=200)
err_console = Console(stderr=True, highlight=False)
if not err_console.is_terminal:
    err_console = Console(stderr=True, highlight=False, width=200)


def fmt(value: object, digits: int = 3) -> str:
    """A number to ``digits`` decimals ('-' for missing), anything else as text."""
    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, float | np.floating):
        return "-" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def mean_sd(mean: float, sd: float, digits: int = 3) -> str:
    """``0.821 ± 0.012``, or just the mean when there is no spread to show."""
    if isinstance(sd, float) and not math.isnan(sd):
        return f"{fmt(mean, digits)} ± {fmt(sd, digits)}"
    return fmt(mean, digits)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], caption: str | None = None) -> Table:
    """A rich table with the given header and rows (cells formatted with :func:`fmt`)."""
    out = Table(title=title, caption=caption, show_lines=False, title_justify="left")
    for i, column in enumerate(columns):
        out.add_column(column, overflow="fold", no_wrap=i == 0)
    for row in rows:
        out.add_row(*(fmt(cell) for cell in row))
    return out


def frame_table(title: str, frame: pd.DataFrame, columns: Sequence[str] | None = None) -> Table:
    """A rich table of ``frame``'s ``columns`` (all by default)."""
    columns = list(columns or frame.columns)
    return table(title, columns, frame[columns].itertuples(index=False))


def print_json(payload: object) -> None:
    """Machine-readable output for ``--json``: plain JSON on stdout, NaN as null."""
    print(json.dumps(plain(payload), indent=2))
