"""The sweep's figure: which loss wins where, over a grid of hyperparameters."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from losslab.figures._canvas import new_figure, save
from losslab.sweep import Sweep

#: Cell colours of the outcomes that name no loss.
UNDECIDED = {"equivalent": "#d4e6d4", "undecided": "#e8e8e8", "mixed": "#c8c8c8"}  # equivalent: a pale green, told apart


def plot_sweep_wins(result: Sweep, path: str | Path | None = None) -> Figure:
    """A heatmap per panel: the first axis of the sweep down, the second across (if any), each cell
    coloured by the loss that the verdicts call better than every other loss at that setting,
    grey where every pair is equivalent ("equivalent"), the verdicts decide nothing ("undecided") or no
    loss beats all others ("mixed"); the cell's text is
    the best mean test score there. A third axis and more give one panel per combination."""
    wins, summary = result.wins(), result.summary()
    losses = list(dict.fromkeys(summary["loss"]))
    colours = {loss: f"C{i}" for i, loss in enumerate(losses)} | UNDECIDED
    rows_axis = result.axes[0]
    cols_axis = result.axes[1] if len(result.axes) > 1 else None
    panel_axes = result.axes[2:]
    panels = list(itertools.product(*(_levels(wins, axis) for axis in panel_axes))) or [()]
    ncols = min(len(panels), 3)
    fig = new_figure((4.2 * ncols + 1.5, 3.2 * math.ceil(len(panels) / ncols) + 0.8))
    axes = np.atleast_1d(fig.subplots(math.ceil(len(panels) / ncols), ncols, squeeze=False)).ravel()
    best = summary.groupby(list(result.axes))["test_mean"].agg("max" if result.higher_is_better else "min")
    for ax, panel in zip(axes, panels):
        chosen = wins
        for axis, level in zip(panel_axes, panel):
            chosen = chosen[chosen[axis].astype(str) == str(level)]
        _draw_panel(ax, chosen, rows_axis, cols_axis, colours, best, result.axes)
        ax.set_title(", ".join(f"{axis} {level}" for axis, level in zip(panel_axes, panel)), fontsize="small")
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.legend(handles=[Patch(color=colours[k], alpha=0.6, label=k) for k in [*losses, *UNDECIDED]],
               loc="outside lower center", ncols=min(len(losses) + 2, 4), fontsize="small", frameon=False)
    fig.suptitle(f"{result.problem}: which loss wins where (verdicts on the test {result.metric}; "
                 "in each cell the best mean)", fontsize="medium")
    return save(fig, path)


def _levels(frame, axis: str) -> list[object]:
    return list(dict.fromkeys(frame[axis]))


def _draw_panel(ax, wins, rows_axis: str, cols_axis: str | None, colours: dict[str, str], best, axes) -> None:
    rows = _levels(wins, rows_axis)
    cols = _levels(wins, cols_axis) if cols_axis else [None]
    for i, row_level in enumerate(rows):
        for j, col_level in enumerate(cols):
            cell = wins[wins[rows_axis] == row_level]
            if cols_axis:
                cell = cell[cell[cols_axis] == col_level]
            if cell.empty:
                continue
            record = cell.iloc[0]
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=colours[record["winner"]], edgecolor="white", alpha=0.6))
            key = tuple(record[a] for a in axes)
            score = best.get(key if len(key) > 1 else key[0], math.nan)
            ax.text(j + 0.5, i + 0.5, f"{record['winner']}\n{score:.3g}", ha="center", va="center", fontsize="x-small")
    ax.set(xlim=(0, len(cols)), ylim=(len(rows), 0), ylabel=rows_axis, xlabel=cols_axis or "")
    ax.set_xticks(np.arange(len(cols)) + 0.5, [str(c) for c in cols] if cols_axis else [""])
    ax.set_yticks(np.arange(len(rows)) + 0.5, [str(r) for r in rows])
