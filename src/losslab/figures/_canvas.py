"""Figure plumbing shared by every plot: an Agg canvas without pyplot's global state, and PNG output."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: The tutorial's colours: train (or class 0) blue, test (or class 1) orange, class 2 green.
TRAIN_COLOUR, TEST_COLOUR = "C0", "C1"


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
