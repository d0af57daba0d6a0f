"""Figures: the tutorial's learning curves and scatter plots, and the comparison plots.

Every function returns a matplotlib ``Figure`` drawn on its own Agg canvas and writes a PNG when
given a path.
"""

from losslab.figures._compare import plot_final_distribution, plot_mean_curves
from losslab.figures._curves import plot_dataset, plot_learning_curves

__all__ = ["plot_dataset", "plot_final_distribution", "plot_learning_curves", "plot_mean_curves"]
