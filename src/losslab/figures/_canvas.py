"""Figure plumbing shared by every plot: an Agg canvas without pyplot's global state, mean curves
with their band, and PNG output with every title fitted to the figure."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from losslab.figures._axes import fit_titles
from losslab.results import atomic_write

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
    """Fit ``fig``'s titles (:func:`~losslab.figures._axes.fit_titles`), write it as a PNG at
    ``path`` (when given) and return it.

    The PNG is written under a temporary name unique to the process and renamed into place, so
    that an interrupted or concurrent run never leaves a partial figure under ``path``."""
    fit_titles(fig)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    return fig


def has_curve(history: pd.DataFrame) -> bool:
    """Whether some run in ``history`` has a finite loss at two epochs or more: a curve to draw.

    Runs that all diverged within two epochs have none; their panels say so in words instead of
    showing empty axes with offsets of 1e20."""
    finite = history[np.isfinite(history["loss_value"].to_numpy(float))]
    return bool(len(finite)) and int(finite.groupby("seed")["epoch"].nunique().max()) >= 2


def diverged_message(n_runs: int) -> str:
    """"the run diverged within two epochs" or "all 30 runs diverged within two epochs"."""
    return f"{'the run' if n_runs == 1 else f'all {n_runs} runs'} diverged within two epochs"


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


def held_out(history: pd.DataFrame) -> str:
    """The held-out split a curve shows: validation when the history has one (choices are read
    off it, never off the test rows), else test."""
    return "validation" if (history["split"] == "validation").any() else "test"
