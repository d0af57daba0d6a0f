"""Pictures of the losses themselves: each loss and its gradient against what it punishes.

A regression loss is drawn against the residual ``prediction - target`` at a target of 1 (MSLE,
MAPE and Poisson depend on the target's level, so the level is fixed and said); a loss on
probabilities (sigmoid or softmax output) against the predicted probability of the true class;
a margin loss (tanh output, targets -1/+1) against the output for a positive example. Losses of
one kind share axes, so that "a small score for small differences and an enormous score for
large differences" can be read off at a glance.
"""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from matplotlib.figure import Figure

from losslab.figures._canvas import new_figure, save
from losslab.registry import LossSpec, encode_targets

#: The x axis of each group: its label and the values drawn.
AXES = {
    "residual": ("prediction - target (target = 1)", np.linspace(-3, 3, 601)),
    "probability": ("predicted probability of the true class", np.linspace(0.001, 0.999, 600)),
    "margin": ("output for a positive example (tanh, target +1)", np.linspace(-0.999, 0.999, 600)),
}


def loss_group(spec: LossSpec) -> str:
    """Which x axis a loss is drawn against: ``residual``, ``probability`` or ``margin``."""
    if spec.kind == "regression":
        return "residual"
    return "margin" if spec.activation in ("tanh", "linear") else "probability"


def loss_curve(spec: LossSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(x, loss, d loss / d x)`` for the loss on its group's axis (NaN outside its domain)."""
    x = AXES[loss_group(spec)][1]
    y_true, output = _inputs(spec)

    def value(point):
        return spec.fn(y_true, output(point))[0]

    values = np.asarray(jax.vmap(value)(jnp.asarray(x, jnp.float32)), float)
    gradients = np.asarray(jax.vmap(jax.grad(value))(jnp.asarray(x, jnp.float32)), float)
    if spec.kind == "regression" and spec.domain != "real":  # MSLE, Poisson, MAPE need a positive prediction
        outside = 1 + x <= 0
        values[outside] = gradients[outside] = np.nan
    return x, values, gradients


def _inputs(spec: LossSpec):
    """The encoded target of one example (class 1, or a value of 1) and the output at a point of
    the x axis, in the shape the loss takes."""
    group = loss_group(spec)
    if group == "residual":
        return jnp.ones((1, 1)), lambda r: jnp.reshape(1.0 + r, (1, 1))
    n_classes = 2 if spec.activation == "softmax" else None
    y_true = jnp.asarray(encode_targets(spec, np.array([1]), n_classes))
    if spec.activation == "softmax":
        return y_true, lambda p: jnp.stack([1.0 - p, p])[None, :]
    return y_true, lambda p: jnp.reshape(p, (1, 1))


def plot_losses(specs: list[LossSpec], path: str | Path | None = None) -> Figure:
    """Each loss (top) and its gradient (bottom), one column per x axis the losses need, on
    symmetric-log y axes (linear within ±1, logarithmic beyond)."""
    groups = [g for g in AXES if any(loss_group(spec) == g for spec in specs)]
    fig = new_figure((4.6 * len(groups) + 0.6, 6.4))
    axes = np.asarray(fig.subplots(2, len(groups), squeeze=False))
    for column, group in enumerate(groups):
        top, bottom = axes[0, column], axes[1, column]
        for spec in (s for s in specs if loss_group(s) == group):
            x, values, gradients = loss_curve(spec)
            top.plot(x, values, label=spec.name)
            bottom.plot(x, gradients, label=spec.name)
        label = AXES[group][0]
        top.set(title=group, ylabel="loss of one example")
        bottom.set(xlabel=label, ylabel="gradient d loss / d x")
        for ax in (top, bottom):
            # symmetric log: a loss of 0.1 and one of 300 on one axis, each readable
            ax.set_yscale("symlog", linthresh=1.0)
            if group != "probability":
                ax.axvline(0, color="0.6", lw=0.8, ls=":")
            ax.grid(alpha=0.3)
        top.legend(fontsize="small")
    fig.suptitle("The losses and their gradients (y axes linear within ±1, logarithmic beyond)", fontsize="medium")
    return save(fig, path)
