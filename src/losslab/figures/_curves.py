"""The tutorial's figures: two-panel learning curves and the data sets' scatter plots."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from losslab.figures._axes import apply_log_y, integer_epochs
from losslab.figures._canvas import (METRIC_LABELS, TEST_COLOUR, TRAIN_COLOUR, diverged_message, draw_mean_curve,
                                     has_curve, held_out, new_figure, save)

if TYPE_CHECKING:  # only named: a figure needs matplotlib and the data, not the problem's readers
    from losslab.problems import Problem


def plot_learning_curves(history: pd.DataFrame, title: str, path: str | Path | BinaryIO | None = None, *,
                         log_y: bool | None = None) -> Figure:
    """The tutorial's learning-curve figure for one loss on one problem.

    Top panel the loss, bottom panel the metric; train in blue, the held-out split in orange (the
    validation split when the study holds one out, so nothing is read off the test rows; else
    test). With one seed the
    curves are that run's; with several, the mean over seeds with a band from the 10th to the
    90th percentile. Epochs after a run diverged (NaN) are left out of the mean and band.

    ``log_y`` True draws both panels on a log y-axis (values that are not positive are then
    clipped), False on linear ones; None (the default) decides per panel by the rule of
    :func:`~losslab.figures._axes.use_log_y`: log when every value drawn is positive and the
    largest exceeds the median more than 50 times, so that one seed's spike does not flatten
    the other curves. Epoch ticks are whole numbers; a long title is wrapped to fit the figure.
    """
    fig = new_figure((7, 6.5))
    ax_loss, ax_metric = fig.subplots(2, 1, sharex=True)
    integer_epochs(ax_loss, ax_metric)
    metric = str(history["metric"].iloc[0])
    if not has_curve(history):
        return save(_every_run_diverged(fig, (ax_loss, ax_metric), history, title), path)
    for split, colour in (("train", TRAIN_COLOUR), (held_out(history), TEST_COLOUR)):
        rows = history[history["split"] == split]
        draw_mean_curve(ax_loss, rows, "loss_value", colour, split)
        draw_mean_curve(ax_metric, rows, "metric_value", colour, split)
        if _rounding_differs(rows):
            draw_mean_curve(ax_metric, rows, "rounding_accuracy", colour, f"{split}, as the tutorial's Keras scored it", "--")
    for ax in (ax_loss, ax_metric):
        apply_log_y(ax, log_y)
    n_seeds = history["seed"].nunique()
    suffix = "" if n_seeds == 1 else f" (mean of {n_seeds} seeds, 10-90% band)"
    ax_loss.set(title=f"{title}{suffix}", ylabel="Loss")
    ax_metric.set(xlabel="Epoch", ylabel=METRIC_LABELS.get(metric, metric).title())
    ax_loss.legend()
    if _rounding_differs(history):
        ax_metric.legend(fontsize="small")
    return save(fig, path)


def _every_run_diverged(fig: Figure, axes: tuple[Axes, Axes], history: pd.DataFrame, title: str) -> Figure:
    """The learning-curve figure of runs that all diverged within two epochs: the panels say so
    in words, over the epoch axis, instead of showing empty axes with offsets of 1e20."""
    n_seeds, epochs = history["seed"].nunique(), int(history["epoch"].max())
    message = f"{diverged_message(n_seeds)}:\nthe loss became NaN or infinite, so there is no curve to draw"
    metric = str(history["metric"].iloc[0])
    for ax, label in zip(axes, ("Loss", METRIC_LABELS.get(metric, metric).title())):
        ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="C3")
        ax.set(xlim=(1, epochs), ylabel=label, yticks=[])
    axes[0].set(title=f"{title} (diverged)")
    axes[1].set(xlabel="Epoch")
    return fig


def _rounding_differs(rows: pd.DataFrame) -> bool:
    """Whether the tutorial's rounding accuracy differs from the metric (tanh outputs): then both
    are drawn, the rounding one dashed, to show where the tutorial's figures came from."""
    rounding = rows["rounding_accuracy"].to_numpy(float)
    return bool(np.isfinite(rounding).any() and not np.allclose(rounding, rows["metric_value"].to_numpy(float), equal_nan=True))


def plot_dataset(problem: Problem, path: str | Path | BinaryIO | None = None) -> Figure:
    """Scatter plot of a two-feature classification data set, coloured by class (all rows).

    As the tutorial draws circles and blobs: class 0 blue, class 1 orange, class 2 green.
    """
    if problem.kind == "regression" or problem.n_features != 2:
        raise ValueError(f"a scatter plot needs a classification problem with 2 features; {problem.name} is not")
    X = np.concatenate([problem.X_train, problem.X_test])
    y = np.concatenate([problem.y_train, problem.y_test])
    fig = new_figure((6, 5))
    ax = fig.subplots()
    for label in np.unique(y):
        mask = y == label
        ax.scatter(X[mask, 0], X[mask, 1], s=10, color=f"C{int(label) % 10}", label=str(label))
    ax.set(title=f"{problem.name}: {problem.description}", xlabel=problem.feature_names[0], ylabel=problem.feature_names[1])
    ax.legend(title="class")
    return save(fig, path)
