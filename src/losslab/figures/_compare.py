"""Figures that compare losses across seeds: mean learning curves and final-metric distributions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from losslab.figures._canvas import BAND, METRIC_LABELS, draw_mean_curve, new_figure, save
from losslab.results import Study

SPLIT_STYLES = {"test": "-", "train": "--"}


def plot_mean_curves(study: Study, path: str | Path | None = None) -> Figure:
    """Mean learning curves per loss over all seeds, with a 10-90 percentile band.

    Top panel the loss value, bottom panel the metric (the tutorial's layout); one colour per
    loss, test solid and train dashed, so each panel has ``2 * len(study.losses)`` lines. Epochs
    where a run has diverged (NaN) are left out of that epoch's mean and band.
    """
    fig = new_figure(figsize=(8, 7))
    ax_loss, ax_metric = fig.subplots(2, 1, sharex=True)
    colours = _colours(len(study.losses))
    for loss, colour in zip(study.losses, colours):
        runs = study.history[study.history["loss"] == loss]
        for split, style in SPLIT_STYLES.items():
            rows = runs[runs["split"] == split]
            alpha = 0.15 if style == "-" else 0.08
            draw_mean_curve(ax_loss, rows, "loss_value", colour, f"{loss} ({split})", style, alpha)
            draw_mean_curve(ax_metric, rows, "metric_value", colour, f"{loss} ({split})", style, alpha)
    metric = study.metric
    ax_loss.set(ylabel="loss", title=f"{study.problem.name}: mean of {len(study.seeds)} seeds, {BAND[0]}-{BAND[1]}% band")
    ax_metric.set(xlabel="epoch", ylabel=METRIC_LABELS.get(metric, metric))
    ax_loss.legend(fontsize="small", ncol=2)
    return save(fig, path)


def plot_final_distribution(study: Study, path: str | Path | None = None) -> Figure:
    """Distribution of the final test metric per loss: a box plot with every run as a point.

    Diverged runs (NaN) are left out and counted in the loss's label. The points are jittered
    sideways with a fixed seed so that the figure is reproducible.
    """
    fig = new_figure(figsize=(max(4.0, 1.6 * len(study.losses)), 4.5))
    ax = fig.subplots()
    values, labels = [], []
    for loss in study.losses:
        final = study.runs.loc[study.runs["loss"] == loss, "test_metric"].to_numpy(float)
        kept = final[np.isfinite(final)]
        values.append(kept)
        diverged = final.size - kept.size
        labels.append(f"{loss}\n({diverged} diverged)" if diverged else loss)
    positions = np.arange(1, len(values) + 1)
    ax.boxplot(values, positions=positions, tick_labels=labels, showfliers=False)
    ax.tick_params(axis="x", labelrotation=20)  # loss names are long; upright they overlap
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    jitter = np.random.default_rng(0)
    for position, kept in zip(positions, values):
        ax.plot(position + jitter.uniform(-0.15, 0.15, kept.size), kept, "o", alpha=0.5, markersize=4)
    metric = study.metric
    ax.set(ylabel=f"final test {METRIC_LABELS.get(metric, metric)}",
           title=f"{study.problem.name}: {len(study.seeds)} seeds per loss")
    return save(fig, path)


def _colours(n: int) -> list[str]:
    return [f"C{i % 10}" for i in range(n)]

