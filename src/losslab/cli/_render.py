"""Rendering results for the terminal: rich tables that fit, and number formats; no computation.

A table printed by :func:`table` fits :data:`WIDTH` columns (100; the terminal's width when that
is narrower) and never breaks a word, a number or a loss name across lines:

- text is wrapped at spaces only, each column at least as wide as its longest word and as
  :data:`READABLE` (16) where its text is longer; a cell
  without letters (a number, ``0.821 ± 0.012``, ``[0.80, 0.84]``) is never wrapped, nor is the
  first column, which names the row, while it takes at most a third of the width;
- columns that do not fit move, with the first column repeated, into a second table below the
  first ("(continued)");
- long loss names become their shortest lower-case alias in the registry when that is at most
  half as long (:func:`abbreviations`: ``mean_squared_error`` -> ``mse``,
  ``sparse_categorical_crossentropy`` -> ``scce``), with a line under the table that says what
  each abbreviation stands for, when that saves a second table or at least a fifth of the
  lines (:data:`SHORTER`); a table that fits as it is keeps the whole names.

:func:`set_wide` (the command line's ``--wide``) turns the fitting off: no abbreviations, and
piped output as wide as the widest table instead of 100 columns; a terminal still wraps text at
spaces to its own width.
"""

from __future__ import annotations

import functools
import json
import math
import re
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # imported where used: the command line's start-up loads rich only
    import pandas as pd

#: The width tables fit when output is not wide: piped output's, and a wider terminal's.
WIDTH = 100
#: Piped output's width with :func:`set_wide`: wide enough that no table is wrapped.
WIDE_WIDTH = 1000
#: Abbreviated loss names are used when the table then needs fewer parts, or this share of the lines.
SHORTER = 0.8
#: The narrowest a column of text is wrapped to (its longest word permitting); narrower, it moves on.
READABLE = 16
#: A space that wrapping never breaks: it keeps ``0.821 ± 0.012`` and ``mse = mean_squared_error`` whole.
_GLUE = "\u00a0"

console = Console(highlight=False)
if not console.is_terminal:  # piped or captured output: WIDTH columns, as a reader's window would be
    console = Console(highlight=False, width=WIDTH)
err_console = Console(stderr=True, highlight=False)
if not err_console.is_terminal:
    err_console = Console(stderr=True, highlight=False, width=WIDTH)

_wide = False


def set_wide(wide: bool = True) -> None:
    """Print every table whole (``--wide``): no abbreviations, and piped output as wide as the
    widest table rather than :data:`WIDTH` columns. ``set_wide(False)`` returns to fitting."""
    global _wide
    _wide = wide
    for out in (console, err_console):
        if not out.is_terminal:
            out.width = WIDE_WIDTH if wide else WIDTH


def is_wide() -> bool:
    """Whether :func:`set_wide` is on."""
    return _wide


def fmt(value: object, digits: int = 3) -> str:
    """A number to ``digits`` decimals ('-' for missing; a tiny negative one as 0.000, not -0.000),
    anything else as text.

    >>> fmt(-0.00004), fmt(-0.5), fmt(float("nan")), fmt(3)
    ('0.000', '-0.500', '-', '3')
    """
    import numpy as np  # here, not at the top: loaded by then, and not needed to start the command line
    import pandas as pd

    if value is None or value is pd.NA:
        return "-"
    if isinstance(value, float | np.floating):
        return "-" if math.isnan(value) else f"{value:.{digits}f}".replace(f"-0.{'0' * digits}", f"0.{'0' * digits}")
    return str(value)


def mean_sd(mean: float, sd: float, digits: int = 3) -> str:
    """``0.821 ± 0.012``, or just the mean when there is no spread to show."""
    if isinstance(sd, float) and not math.isnan(sd):
        return f"{fmt(mean, digits)} ± {fmt(sd, digits)}"
    return fmt(mean, digits)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], caption: str | None = None,
          wide: bool = False) -> FittedTable:
    """A table with the given header and rows (cells formatted with :func:`fmt`, as plain text),
    laid out when printed to fit the width it gets (see the module's description); ``wide``
    prints this table whole, as :func:`set_wide` does every table."""
    return FittedTable(title, [str(c) for c in columns], [[fmt(cell) for cell in row] for row in rows], caption, wide)


def frame_table(title: str, frame: pd.DataFrame, columns: Sequence[str] | None = None, wide: bool = False) -> FittedTable:
    """A table of ``frame``'s ``columns`` (all by default)."""
    columns = list(columns or frame.columns)
    return table(title, columns, frame[columns].itertuples(index=False), wide=wide)


def print_json(payload: object) -> None:
    """Machine-readable output for ``--json``: plain JSON on stdout, NaN as null."""
    from losslab._plain import plain

    print(json.dumps(plain(payload), indent=2))


# abbreviations ----------------------------------------------------------------------------------
def abbreviations() -> dict[str, str]:
    """Each registered loss name that has a short alias: ``{name: alias}``, the alias being the
    shortest lower-case alias in the registry when it is at most half as long as the name.

    >>> abbreviations()["sparse_categorical_crossentropy"], abbreviations()["kl_divergence"]
    ('scce', 'kld')
    >>> "huber" in abbreviations() or "log_cosh" in abbreviations()  # huber_loss, logcosh: not shorter
    False
    """
    from losslab.registry import loss_names

    return dict(_abbreviations(tuple(loss_names())))


@functools.cache
def _abbreviations(names: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    from losslab.registry import get_loss

    out = []
    for name in names:
        short = [alias for alias in get_loss(name).aliases if alias.islower() and 2 * len(alias) <= len(name)]
        if short:
            out.append((name, min(short, key=len)))
    return tuple(out)


def abbreviate(text: str, used: dict[str, str] | None = None) -> str:
    """``text`` with every whole loss name of :func:`abbreviations` replaced by its alias
    (recorded in ``used``, when given).

    >>> abbreviate("4.8 sparse_categorical_crossentropy vs categorical_crossentropy: identical")
    '4.8 scce vs cce: identical'
    """
    names = abbreviations()

    def replace(match: re.Match) -> str:
        if used is not None:
            used[match.group(0)] = names[match.group(0)]
        return names[match.group(0)]

    return _loss_names(tuple(names)).sub(replace, text)


@functools.cache
def _loss_names(names: tuple[str, ...]) -> re.Pattern:
    # a name inside a longer identifier (categorical_crossentropy in sparse_categorical_crossentropy) is not one
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def legend(used: dict[str, str]) -> str:
    """The line under a table that names what each abbreviation stands for."""
    return "Abbreviations: " + ", ".join(f"{short}{_GLUE}={_GLUE}{name}" for name, short in
                                         sorted(used.items(), key=lambda item: item[1]))


# layout -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Layout:
    """How a table is printed at one width: ``parts`` are tables of ``(column index, width)``,
    the first column in each; ``cells`` the rows' texts after abbreviation; ``used`` the
    abbreviations made; ``height`` the lines it takes."""

    parts: list[list[tuple[int, int]]]
    cells: list[list[str]]
    used: dict[str, str]
    height: int


class FittedTable:
    """A table that lays itself out for the width it is printed at (see the module's description)."""

    def __init__(self, title: str, columns: list[str], rows: list[list[str]], caption: str | None = None,
                 wide: bool = False) -> None:
        self.title, self.columns, self.rows, self.caption, self.wide = title, columns, rows, caption, wide

    def layout(self, width: int, abbreviate_names: bool = True) -> Layout:
        """The layout at ``width`` columns: whole, or with loss names abbreviated when that
        needs fewer parts, or the same parts and at most :data:`SHORTER` of the lines."""
        whole = _layout(self, self.rows, {}, width)
        if not abbreviate_names:
            return whole
        used: dict[str, str] = {}
        short = _layout(self, [[abbreviate(cell, used) for cell in row] for row in self.rows], used, width)
        if len(short.parts) < len(whole.parts) or \
                (len(short.parts) == len(whole.parts) and short.height <= SHORTER * whole.height):
            return short
        return whole

    def renderables(self, width: int, abbreviate_names: bool = True) -> Iterator[Table | Text]:
        """The rich tables (and the abbreviations' line) that print this table at ``width``."""
        layout = self.layout(width, abbreviate_names)
        for number, part in enumerate(layout.parts):
            title = self.title if number == 0 else f"{self.title} (continued)"
            last = number == len(layout.parts) - 1
            out = Table(title=title, caption=self.caption if last else None, title_justify="left")
            for column, column_width in part:
                out.add_column(Text(_wrap(self.columns[column], column_width)), width=column_width, no_wrap=True,
                               overflow="fold")  # fold only what cannot fit at any width: a word wider than the screen
            for row in layout.cells:
                out.add_row(*(Text(_wrap(row[column], column_width)) for column, column_width in part))
            yield out
        if layout.used:
            yield Text(_fill(legend(layout.used), width), style="dim")

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        wide = self.wide or _wide
        yield from self.renderables(options.max_width if wide else min(options.max_width, WIDTH), not wide)


def _layout(fitted: FittedTable, cells: list[list[str]], used: dict[str, str], width: int) -> Layout:
    columns = range(len(fitted.columns))
    texts = [[fitted.columns[c], *(row[c] for row in cells)] for c in columns]
    natural = [max(_natural(text) for text in column) for column in texts]
    narrowest = [_narrowest(column) for column in texts]
    if natural[0] <= width // 3:  # the row's name stays on one line
        narrowest[0] = natural[0]
    parts = []
    for c in columns[1:] if len(fitted.columns) > 1 else ():
        if parts and _frame(len(parts[-1]) + 1) + sum(narrowest[i] for i in parts[-1]) + narrowest[c] <= width:
            parts[-1].append(c)
        else:
            parts.append([0, c])
    parts = parts or [[0]]
    placed = [list(zip(part, _share([narrowest[i] for i in part], [natural[i] for i in part],
                                    width - _frame(len(part))))) for part in parts]
    height = sum(_height(fitted, cells, part, width) for part in placed)
    height += len(_fill(legend(used), width).splitlines()) if used else 0
    return Layout(placed, cells, dict(used), height)


def _narrowest(texts: list[str]) -> int:
    """The narrowest a column of a header and cells can be: its longest word, and READABLE
    columns where the cells' text is longer (a header may wrap tighter than its cells)."""
    longest_cell = max((_natural(text) for text in texts[1:]), default=0)
    return max(max(_longest_word(text) for text in texts), min(READABLE, longest_cell))


def _frame(n_columns: int) -> int:
    """Columns a rich table's box takes beyond its cells: a border left, right and between, and
    one space of padding each side of every cell."""
    return 3 * n_columns + 1


def _share(narrowest: list[int], natural: list[int], room: int) -> list[int]:
    """Column widths within ``room``: the natural widths if they fit, else the widest columns cut
    to a common cap (never below a column's longest word) and what is left over handed out
    from the left."""
    if sum(natural) <= room:
        return natural
    fits = [cap for cap in range(max(natural) + 1)
            if sum(max(low, min(high, cap)) for low, high in zip(narrowest, natural)) <= room]
    if not fits:  # even the longest words do not fit: as narrow as words allow
        return narrowest
    widths = [max(low, min(high, fits[-1])) for low, high in zip(narrowest, natural)]
    spare = room - sum(widths)
    for i, high in enumerate(natural):
        grow = min(spare, high - widths[i])
        widths[i] += grow
        spare -= grow
    return widths


def _height(fitted: FittedTable, cells: list[list[str]], part: list[tuple[int, int]], width: int) -> int:
    """Lines one part takes: title, header, rows and the box's three rules."""
    table_width = sum(w for _, w in part) + _frame(len(part))
    lines = len(_fill(fitted.title, min(width, table_width)).splitlines()) + 3
    for row in [fitted.columns, *cells]:
        lines += max(len(_wrap(row[c], w).splitlines()) for c, w in part)
    return lines


def _paragraphs(text: str) -> list[str]:
    # glue what must stay together: a number and its spread
    return [line.replace(" ± ", f"{_GLUE}±{_GLUE}") for line in text.split("\n")]


def _atomic(paragraph: str) -> bool:
    """A paragraph without letters (a number, an interval) is never wrapped."""
    return not any(ch.isalpha() for ch in paragraph)


def _natural(text: str) -> int:
    return max(cell_len(line) for line in text.split("\n"))


def _longest_word(text: str) -> int:
    return max((cell_len(paragraph) if _atomic(paragraph) else max((cell_len(w) for w in paragraph.split(" ")), default=0))
               for paragraph in _paragraphs(text))


def _wrap(text: str, width: int) -> str:
    """``text`` wrapped at spaces to ``width`` columns, its own line breaks kept; a word (or a
    cell without letters) longer than ``width`` stays whole on its own line."""
    lines = []
    for paragraph in _paragraphs(text):
        if _atomic(paragraph) or cell_len(paragraph) <= width:
            lines.append(paragraph)
        else:
            lines += textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(lines).replace(_GLUE, " ")


def _fill(text: str, width: int) -> str:
    """Free text (a title, the abbreviations' line) wrapped at spaces to ``width`` columns."""
    return "\n".join(textwrap.wrap(text, max(width, 1), break_long_words=False, break_on_hyphens=False)).replace(_GLUE, " ")
