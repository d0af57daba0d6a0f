"""Figure plumbing shared by every plot: an Agg canvas without pyplot's global state, mean curves
with their band, and PNG output with every title fitted to the figure."""

from __future__ import annotations

import warnings
from contextvars import ContextVar
from pathlib import Path
from typing import BinaryIO

import matplotlib.image
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from losslab._files import atomic_write
from losslab.figures._axes import fit_titles

#: The tutorial's colours: train (or class 0) blue, test (or class 1) orange, class 2 green.
TRAIN_COLOUR, TEST_COLOUR = "C0", "C1"
#: Axis labels of the metrics.
METRIC_LABELS = {"accuracy": "accuracy", "mse": "mean squared error"}
#: Percentiles of the band drawn around a mean curve.
BAND = (10, 90)
#: The resolution of the PNG files, in dots per inch.
PNG_DPI = 120
#: Text to write into the PNG files drawn in this context, beside matplotlib's ``Software``:
#: :func:`~losslab.figures._many.draw_all` records there what each figure was drawn from.
PNG_TEXT: ContextVar[dict[str, str]] = ContextVar("PNG_TEXT", default={})


def new_figure(figsize: tuple[float, float]) -> Figure:
    """A figure on its own Agg canvas (safe in threads and without a display)."""
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Figure, path: str | Path | BinaryIO | None) -> Figure:
    """Fit ``fig``'s titles (:func:`~losslab.figures._axes.fit_titles`), write it as a PNG at
    ``path`` (a file name or a binary file object; none when None) and return it.

    The PNG is what ``fig.savefig(path, dpi=PNG_DPI)`` writes, but drawn once: the titles are
    fitted on the canvas at :data:`PNG_DPI` and the last drawing is written as it is (drawing is
    most of a figure's cost). Without a path the figure is only laid out, never painted. A file
    name is written under a temporary name unique to the process and renamed into place, so that
    an interrupted or concurrent run never leaves a partial figure under ``path``."""
    if path is None:
        fit_titles(fig, render=False)
        return fig
    dpi = fig.get_dpi()
    fig.set_dpi(PNG_DPI)
    try:
        if not fit_titles(fig):
            fig.canvas.draw()
        if hasattr(path, "write"):
            _write_png(fig, path)
        else:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, lambda tmp: _write_png(fig, tmp))
    finally:
        fig.set_dpi(dpi)
    return fig


def _write_png(fig: Figure, path: Path | BinaryIO) -> None:
    """The canvas as last drawn, as a PNG: what Agg's ``print_png`` writes after its own drawing."""
    matplotlib.image.imsave(path, fig.canvas.buffer_rgba(), format="png", origin="upper", dpi=fig.get_dpi(),
                            metadata=PNG_TEXT.get())


def has_curve(history: pd.DataFrame) -> bool:
    """Whether some run in ``history`` has a finite loss at two epochs or more (at its one epoch,
    where the study trained one): a curve to draw, or a point.

    Runs that all diverged within two epochs have none; their panels say so in words instead of
    showing empty axes with offsets of 1e20."""
    finite = history[np.isfinite(history["loss_value"].to_numpy(float))]
    return bool(len(finite)) and int(finite.groupby("seed")["epoch"].nunique().max()) >= \
        min(2, int(history["epoch"].max()))


def diverged_message(n_runs: int) -> str:
    """"the run diverged within two epochs" or "all 30 runs diverged within two epochs"."""
    return f"{'the run' if n_runs == 1 else f'all {n_runs} runs'} diverged within two epochs"


def draw_mean_curve(ax: Axes, rows: pd.DataFrame, column: str, colour: str, label: str,
                    style: str = "-", alpha: float = 0.25) -> None:
    """``column`` per epoch on ``ax``: one seed's curve as it is; several seeds' mean with the
    :data:`BAND` percentile band. Epochs after a run diverged (NaN) are left out of that epoch's
    mean and band; epochs where every run has diverged are not drawn."""
    epochs, values = _by_epoch_and_seed(rows, column)
    marker = None
    if len(epochs) == 1:  # one epoch: a point, which a line would not show (train a cross, held out a dot)
        marker = "o" if style == "-" else "x"
        ax.set_xticks(epochs)
    if values.shape[1] == 1:
        ax.plot(epochs, values[:, 0], style, color=colour, label=label, marker=marker)
        return
    finite = np.isfinite(values).any(axis=1)
    values, epochs = values[finite], epochs[finite]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a NaN-only row cannot remain, but be quiet if it does
        mean = np.nanmean(values, axis=1)
        low, high = _nanpercentiles(values, BAND)
    ax.plot(epochs, mean, style, color=colour, label=label, marker=marker)
    ax.fill_between(epochs, low, high, color=colour, alpha=alpha, linewidth=0)


def _by_epoch_and_seed(rows: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """The sorted epochs and ``column`` as an (epochs, seeds) array, seeds sorted, NaN where a
    seed has no row: ``rows.pivot_table(index="epoch", columns="seed", values=column,
    dropna=False)``, in NumPy (pandas' pivot costs more than the rest of a curve). Rows that
    share an epoch and seed are averaged, as the pivot table does."""
    epochs, at_epoch = np.unique(rows["epoch"].to_numpy(), return_inverse=True)
    seeds, of_seed = np.unique(rows["seed"].to_numpy(), return_inverse=True)
    cell = at_epoch * len(seeds) + of_seed
    values = rows[column].to_numpy(dtype=float)
    size = len(epochs) * len(seeds)
    if np.bincount(cell, minlength=size).max(initial=0) > 1:  # several rows per cell: their mean, as pandas does
        table = rows.pivot_table(index="epoch", columns="seed", values=column, dropna=False)
        return table.index.to_numpy(), table.to_numpy(dtype=float)
    table = np.full(size, np.nan)
    table[cell] = values
    return epochs, table.reshape(len(epochs), len(seeds))


def _nanpercentiles(values: np.ndarray, q: tuple[float, float]) -> np.ndarray:
    """``np.nanpercentile(values, q, axis=1)``, vectorised over the rows without NaN (NumPy's
    nan-aware version takes each row on its own, which costs more than drawing it)."""
    has_nan = np.isnan(values).any(axis=1)
    out = np.empty((len(q), values.shape[0]))
    out[:, ~has_nan] = np.percentile(values[~has_nan], q, axis=1)
    if has_nan.any():
        out[:, has_nan] = np.nanpercentile(values[has_nan], q, axis=1)
    return out


def held_out(history: pd.DataFrame) -> str:
    """The held-out split a curve shows: validation when the history has one (choices are read
    off it, never off the test rows), else test."""
    return "validation" if (history["split"] == "validation").any() else "test"
