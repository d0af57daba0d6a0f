"""Table cells for the report: the text a reader sees and the number a click on the header sorts by."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd


class Cell(NamedTuple):
    """One table cell: ``text`` as shown; ``sort`` the number the column sorts by (None: sort by
    the text, and after every number)."""

    text: str
    sort: float | None = None


@dataclass
class Table:
    """A titled table of cells; ``collapsed`` tables (one row per run) start folded away."""

    title: str
    columns: Sequence[str]
    rows: list[list[Cell]]
    caption: str = ""
    collapsed: bool = False


MISSING = "–"


def missing(value: object) -> bool:
    """None, NaN, infinities and ``pd.NA``."""
    if value is None or value is pd.NA:
        return True
    try:
        return not math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def text(value: object) -> Cell:
    """A cell shown and sorted as text; ``-`` for a missing value."""
    return Cell(MISSING if missing(value) else str(value))


def number(value: object, digits: int = 3) -> Cell:
    """``value`` to ``digits`` decimals."""
    if missing(value):
        return Cell(MISSING)
    return Cell(f"{float(value):.{digits}f}", float(value))  # type: ignore[arg-type]


def count(value: object) -> Cell:
    """A whole number."""
    if missing(value):
        return Cell(MISSING)
    return Cell(str(int(value)), float(value))  # type: ignore[arg-type]


def mean_sd(mean: object, sd: object, digits: int = 3) -> Cell:
    """``0.821 ± 0.012`` (the mean alone when there is no spread), sorted by the mean."""
    if missing(mean):
        return Cell(MISSING)
    shown = f"{float(mean):.{digits}f}"  # type: ignore[arg-type]
    if not missing(sd):
        shown += f" ± {float(sd):.{digits}f}"  # type: ignore[arg-type]
    return Cell(shown, float(mean))  # type: ignore[arg-type]


def interval(low: object, high: object, digits: int = 3) -> Cell:
    """``[low, high]``, sorted by the lower end."""
    if missing(low) or missing(high):
        return Cell(MISSING)
    return Cell(f"[{float(low):.{digits}f}, {float(high):.{digits}f}]", float(low))  # type: ignore[arg-type]


def pvalue(value: object) -> Cell:
    """A p-value: three decimals, ``< 0.001`` below that."""
    if missing(value):
        return Cell(MISSING)
    p = float(value)  # type: ignore[arg-type]
    return Cell("< 0.001" if p < 0.001 else f"{p:.3f}", p)


def yes_no(value: object) -> Cell:
    if missing(value):
        return Cell(MISSING)
    return Cell("yes" if bool(value) else "no", float(bool(value)))


def seeds_text(seeds: Sequence[int]) -> str:
    """Seeds as a reader wants them: every one when there are few (``0, 1, 2``), runs of
    consecutive seeds joined otherwise (``0-29 (30 seeds)``)."""
    seeds = [int(s) for s in seeds]
    if len(seeds) <= 12:
        return ", ".join(map(str, seeds))
    runs: list[list[int]] = []
    for seed in seeds:
        if runs and seed == runs[-1][-1] + 1:
            runs[-1].append(seed)
        else:
            runs.append([seed])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs]
    return f"{', '.join(parts)} ({len(seeds)} seeds)"


def finite_any(values: pd.Series) -> bool:
    """Whether any value of ``values`` is a finite number."""
    return bool(np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)).any())
