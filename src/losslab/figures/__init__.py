"""Figures: the tutorial's learning curves and scatter plots, and the comparison plots.

Every function returns a matplotlib ``Figure`` drawn on its own Agg canvas and writes a PNG when
given a path. The plot functions are imported when first used (PEP 562), so that a command can
start the figure worker (:mod:`losslab.figures._early`) before it imports matplotlib itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from losslab._lazy import lazy_names as _lazy_names

if TYPE_CHECKING:
    from losslab.figures._compare import plot_final_distribution, plot_mean_curves
    from losslab.figures._curves import plot_dataset, plot_learning_curves

#: Where each plot function lives.
_LAZY = {
    **dict.fromkeys(("plot_final_distribution", "plot_mean_curves"), "losslab.figures._compare"),
    **dict.fromkeys(("plot_dataset", "plot_learning_curves"), "losslab.figures._curves"),
}


__getattr__, __dir__ = _lazy_names(globals(), _LAZY)

__all__ = ["plot_dataset", "plot_final_distribution", "plot_learning_curves", "plot_mean_curves"]
