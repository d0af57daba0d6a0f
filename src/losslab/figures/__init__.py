"""Figures: the tutorial's learning curves and scatter plots, and the comparison plots.

Every function returns a matplotlib ``Figure`` drawn on its own Agg canvas and writes a PNG when
given a path. The plot functions are imported when first used (PEP 562), so that a command can
start the figure worker (:mod:`losslab.figures._early`) before it imports matplotlib itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from losslab.figures._compare import plot_final_distribution, plot_mean_curves
    from losslab.figures._curves import plot_dataset, plot_learning_curves

#: Where each plot function lives.
_LAZY = {
    **dict.fromkeys(("plot_final_distribution", "plot_mean_curves"), "losslab.figures._compare"),
    **dict.fromkeys(("plot_dataset", "plot_learning_curves"), "losslab.figures._curves"),
}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = ["plot_dataset", "plot_final_distribution", "plot_learning_curves", "plot_mean_curves"]
