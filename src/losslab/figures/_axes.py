"""Decisions about axes that every plot shares: titles that fit, when to use a log y-axis, epoch ticks.

The log-y rule (:func:`use_log_y`): with ``log_y=None`` a panel gets a log y-axis when every value
drawn on it is positive and the largest is more than :data:`LOG_Y_RATIO` times the median. One
seed that spikes (a collapsed MSLE run, a first epoch far above the rest) then no longer flattens
the other curves into a line at the bottom of the panel.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

#: A panel's y-axis becomes logarithmic when its largest value exceeds its median this many times
#: (1.7 decades): a spike that squeezes most of the drawn values into the bottom fiftieth.
LOG_Y_RATIO = 50.0
#: The smallest font size a title is shrunk to before it is allowed to stay too wide.
MIN_TITLE_POINTS = 6.5
#: Room kept free at each side of the figure, in points (4 pixels at matplotlib's default 100 dpi):
#: a length, so that a title is fitted alike at every resolution.
EDGE_POINTS = 2.88


def integer_epochs(*axes: Axes) -> None:
    """Epoch ticks at whole numbers only: there is no epoch 2.5."""
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))


def drawn_values(ax: Axes) -> np.ndarray:
    """Every y value drawn on ``ax``: the lines' points and the bands' outlines (finite only)."""
    parts = [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]
    parts += [path.vertices[:, 1] for band in ax.collections if isinstance(band, PolyCollection)
              for path in band.get_paths()]
    values = np.concatenate(parts) if parts else np.empty(0)
    return values[np.isfinite(values)]


def use_log_y(values: np.ndarray, log_y: bool | None = None) -> bool:
    """Whether a panel showing ``values`` gets a log y-axis.

    ``log_y`` True or False decides; None applies the rule of this module: all values positive and
    ``max / median > LOG_Y_RATIO``.

    Examples
    --------
    >>> use_log_y(np.array([0.10, 0.12, 0.11, 0.13, 40.0]))
    True
    >>> use_log_y(np.array([0.10, 0.12, 0.11, 0.5]))
    False
    >>> use_log_y(np.array([0.0, 0.1, 40.0]))  # zero cannot be drawn on a log axis
    False
    """
    if log_y is not None:
        return bool(log_y)
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0 or (values <= 0).any():
        return False
    return bool(values.max() > LOG_Y_RATIO * np.median(values))


def apply_log_y(ax: Axes, log_y: bool | None) -> bool:
    """Set ``ax``'s y-axis to log when :func:`use_log_y` says so for what is drawn on it."""
    log = use_log_y(drawn_values(ax), log_y)
    if log:
        ax.set_yscale("log")
    return log


def fit_titles(fig: Figure, render: bool = True) -> bool:
    """Make every title fit its room: wrap it at spaces, then shrink its font if it must.

    The figure title has the figure's width; an axes title the figure's width when its panel
    is alone in its row, else its panel's width. The figure keeps its size.

    Each check lays the figure out by drawing it: with ``render`` on its Agg canvas (returns True
    when the canvas then holds the final picture, so that writing it needs no second drawing),
    else without painting a pixel (layout only; returns False).
    """
    for _ in range(3):  # wrapping a title moves the panels below it; check again after the new layout
        if render:
            fig.canvas.draw()
        else:
            fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        changed = False
        for text, room in _titles(fig):
            if text.get_window_extent(renderer).width > room:
                _fit(text, room, renderer)
                changed = True
        if not changed:
            return render
    return False


def _titles(fig: Figure) -> Iterator[tuple[Text, float]]:
    """Each non-empty title with the width it may take, in pixels."""
    width = fig.bbox.width
    edge = EDGE_POINTS * fig.dpi / 72

    def room(centre: float) -> float:
        return 2 * max(0.0, min(centre, width - centre) - edge)

    suptitle = fig._suptitle  # matplotlib keeps the figure title here; get_suptitle gives only its text
    if suptitle is not None and suptitle.get_text():
        yield suptitle, room(suptitle.get_position()[0] * width)
    for ax in fig.axes:
        if not ax.title.get_text():
            continue
        box = ax.get_position().transformed(fig.transFigure)
        available = room((box.x0 + box.x1) / 2)
        spec = ax.get_subplotspec()
        if spec is not None and spec.colspan.stop - spec.colspan.start < spec.get_gridspec().ncols:
            available = min(available, box.width)
        yield ax.title, available


def _fit(text: Text, room: float, renderer) -> None:
    """Set ``text`` to the first of: a line break before its last parenthesis, narrower wraps at
    spaces, then the same at smaller font sizes, that fits within ``room`` pixels."""
    original = " ".join(text.get_text().split())
    size = text.get_fontsize()
    candidates = _wrappings(original)
    while True:
        for candidate in candidates:
            text.set_text(candidate)
            if text.get_window_extent(renderer).width <= room:
                return
        if size <= MIN_TITLE_POINTS:
            return  # the narrowest wrap at the smallest size: as good as it gets
        size = max(MIN_TITLE_POINTS, size * 0.9)
        text.set_fontsize(size)


def _wrappings(title: str) -> list[str]:
    """``title`` as is, broken before its last parenthesis, then wrapped ever narrower at spaces
    (never inside a word or a loss name)."""
    out = [title]
    cut = title.rfind(" (")
    if cut > 0:
        out.append(f"{title[:cut]}\n{title[cut + 1:]}")
    for width in range(len(title) - 5, 9, -5):
        wrapped = textwrap.fill(title, width, break_long_words=False, break_on_hyphens=False)
        if wrapped not in out and wrapped.count("\n") <= 3:
            out.append(wrapped)
    return out
