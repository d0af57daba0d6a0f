"""Figure plumbing shared by every plot: an Agg canvas without pyplot's global state, and PNG output."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: The tutorial's colours: train (or class 0) blue, test (or class 1) orange, class 2 green.
TRAIN_COLOUR, TEST_COLOUR = "C0", "C1"
#: Axis labels of the metrics.
METRIC_LABELS = {"accuracy": "accuracy", "mse": "mean squared error"}
#: Percentiles of the band drawn around a mean curve.
BAND = (10, 90)


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas (safe in threads and without a display)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: str | Path | None) -> Figure:
    """Write ``fig`` as a PNG at ``path`` (when given) and return it."""
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=120)
    return fig


def draw_mean_curve(ax: Axes, rows: pd.DataFrame, column: str, colour: str, label: str,
                    style: str = "-", alpha: float = 0.25) -> None:
    """``column`` per epoch on ``ax``: one seed's curve as it is; several seeds' mean with the
    :data:`BAND` percentile band. Epochs after a run diverged (NaN) are left out of that epoch's
    mean and band; epochs where every run has diverged are not drawn."""
    table = rows.pivot_table(index="epoch", columns="seed", values=column, dropna=False)  # (epochs, seeds)
    epochs, values = table.index.to_numpy(), table.to_numpy(dtype=float)
    if values.shape[1] == 1:
        ax.plot(epochs, values[:, 0], style, color=colour, label=label)
        return
    finite = np.isfinite(values).any(axis=1)
    values, epochs = values[finite], epochs[finite]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a NaN-only row cannot remain, but be quiet if it does
        mean = np.nanmean(values, axis=1)
        low, high = np.nanpercentile(values, BAND, axis=1)
    ax.plot(epochs, mean, style, color=colour, label=label)
    ax.fill_between(epochs, low, high, color=colour, alpha=alpha, linewidth=0)
