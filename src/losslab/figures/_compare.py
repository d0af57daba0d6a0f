"""Figures that compare losses across seeds: mean learning curves and final-metric distributions."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.transforms import blended_transform_factory

from losslab.figures._axes import apply_log_y, integer_epochs
from losslab.figures._canvas import (BAND, METRIC_LABELS, diverged_message, draw_mean_curve, has_curve, held_out,
                                     new_figure, save)

if TYPE_CHECKING:  # only named: a figure needs matplotlib and the tables, not the engine behind them
    from losslab.results import Study

SPLIT_STYLES = {"held out": "-", "train": "--"}


def plot_mean_curves(study: Study, path: str | Path | BinaryIO | None = None, *,
                     log_y: bool | None = None) -> Figure:
    """Mean learning curves per loss over all seeds, with a 10-90 percentile band.

    One loss panel per loss (small multiples, up to three in a row), each with its own y scale,
    since the values of different losses are not on one scale; below them one metric panel
    shared by all losses, since the metric is common. One colour per loss, test solid and train
    dashed (held out: the validation split when the study has one, else test): each loss panel has two lines and the metric panel ``2 * len(study.losses)``. Epochs
    where a run has diverged (NaN) are left out of that epoch's mean and band; a loss whose runs
    all diverged within two epochs gets a panel that says so and no line in the metric panel.

    ``log_y`` True draws every panel on a log y-axis, False none; None (the default) decides per
    panel by the rule of :func:`~losslab.figures._axes.use_log_y` (log when every value drawn is
    positive and the largest exceeds the median more than 50 times).
    """
    n = len(study.losses)
    ncols = 2 if n == 4 else min(n, 3)
    nrows = math.ceil(n / ncols)
    fig = new_figure(figsize=(10, 2.5 * nrows + 3.8))
    grid = fig.add_gridspec(nrows + 1, ncols, height_ratios=[1] * nrows + [1.5])
    loss_axes = [fig.add_subplot(grid[0, 0])]
    loss_axes += [fig.add_subplot(grid[i // ncols, i % ncols], sharex=loss_axes[0]) for i in range(1, n)]
    ax_metric = fig.add_subplot(grid[nrows, :], sharex=loss_axes[0])  # fig.axes: the loss panels, then the metric
    integer_epochs(ax_metric, *loss_axes)
    handles = []
    for loss, colour, ax in zip(study.losses, _colours(n), loss_axes):
        runs = study.history[study.history["loss"] == loss]
        n_runs, n_diverged = _diverged(study, loss)
        if not has_curve(runs):
            ax.text(0.5, 0.5, f"{diverged_message(n_runs)}:\nno curve to draw", ha="center", va="center",
                    transform=ax.transAxes, color="C3", fontsize="small")
            ax.set(yticks=[])
            handles.append(Line2D([], [], color=colour, label=f"{loss} (every run diverged)"))
        else:
            for split, style in SPLIT_STYLES.items():
                split = held_out(runs) if split == "held out" else split
                rows = runs[runs["split"] == split]
                alpha = 0.15 if style == "-" else 0.08
                draw_mean_curve(ax, rows, "loss_value", colour, f"{loss} ({split})", style, alpha)
                draw_mean_curve(ax_metric, rows, "metric_value", colour, f"{loss} ({split})", style, alpha)
            apply_log_y(ax, log_y)
            handles.append(Line2D([], [], color=colour, label=loss))
        title = loss if not n_diverged else f"{loss} ({n_diverged} of {n_runs} runs diverged)"
        ax.set_title(title, color=colour, fontsize="medium")
    for i, ax in enumerate(loss_axes):
        if i % ncols == 0:
            ax.set_ylabel("loss")
    apply_log_y(ax_metric, log_y)
    metric = study.metric
    ax_metric.set(xlabel="epoch", ylabel=METRIC_LABELS.get(metric, metric))
    handles += [Line2D([], [], color="0.3", linestyle=style, label=split) for split, style in SPLIT_STYLES.items()]
    # below the figure, not on the metric panel, where it would hide curves
    fig.legend(handles=handles, loc="outside lower center", fontsize="small", ncol=min(len(handles), 4))
    fig.suptitle(f"{study.problem.name}: mean of {len(study.seeds)} seeds, {BAND[0]}-{BAND[1]}% band; "
                 "each loss on its own scale, the metric shared")
    return save(fig, path)


def plot_final_distribution(study: Study, path: str | Path | BinaryIO | None = None, *,
                            log_y: bool | None = None) -> Figure:
    """Distribution of the final test metric per loss: a box plot with every run as a point.

    Diverged runs (NaN) are left out and counted in the loss's label; a loss whose runs all
    diverged says so in its place on the axis. The points are jittered sideways with a fixed seed
    so that the figure is reproducible. ``log_y`` as in :func:`plot_mean_curves`.
    """
    fig = new_figure(figsize=(max(4.0, 1.6 * len(study.losses)), 4.5))
    ax = fig.subplots()
    values, labels = [], []
    for loss in study.losses:
        final = study.runs.loc[study.runs["loss"] == loss, "test_metric"].to_numpy(float)
        kept = final[np.isfinite(final)]
        values.append(kept)
        diverged = final.size - kept.size
        if diverged and not kept.size:
            labels.append(f"{loss}\n(all {diverged} diverged)")
        else:
            labels.append(f"{loss}\n({diverged} diverged)" if diverged else loss)
    positions = np.arange(1, len(values) + 1)
    ax.boxplot(values, positions=positions, tick_labels=labels, showfliers=False)
    ax.tick_params(axis="x", labelrotation=20)  # loss names are long; upright they overlap
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    jitter = np.random.default_rng(0)
    for position, kept in zip(positions, values):
        ax.plot(position + jitter.uniform(-0.15, 0.15, kept.size), kept, "o", alpha=0.5, markersize=4)
    x_data_y_axes = blended_transform_factory(ax.transData, ax.transAxes)
    for position, kept in zip(positions, values):
        if not kept.size:  # an empty slot would read as "no spread"; say why it is empty
            ax.text(position, 0.5, "every run\ndiverged:\nno final\nvalue", ha="center", va="center",
                    transform=x_data_y_axes, color="C3", fontsize="small")
    apply_log_y(ax, log_y)
    metric = study.metric
    ax.set(ylabel=f"final test {METRIC_LABELS.get(metric, metric)}",
           title=f"{study.problem.name}: {len(study.seeds)} seeds per loss")
    return save(fig, path)


def _diverged(study: Study, loss: str) -> tuple[int, int]:
    """How many runs ``loss`` has in ``study``, and how many of them diverged."""
    runs = study.runs[study.runs["loss"] == loss]
    return len(runs), int(runs["diverged"].sum())


def _colours(n: int) -> list[str]:
    return [f"C{i % 10}" for i in range(n)]

