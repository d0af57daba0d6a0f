"""The tutorial's figures, drawn from real (short) studies: learning curves and data-set scatters."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex

import losslab
from losslab.figures import plot_dataset, plot_learning_curves, plot_mean_curves
from losslab.planning import default_settings
from losslab.problems import get_problem

CIRCLES = get_problem("circles")
EPOCHS = 5
BLUE, ORANGE = to_hex("C0"), to_hex("C1")


@pytest.fixture(scope="module")
def study() -> losslab.Study:
    return losslab.train(CIRCLES, ["binary_crossentropy", "hinge"], seeds=[0, 1, 2],
                         settings=default_settings(CIRCLES).updated(epochs=EPOCHS))


def rows(study, loss: str, seeds=(0, 1, 2)):
    history = study.history
    return history[(history["loss"] == loss) & history["seed"].isin(seeds)]


def solid_lines(ax):
    return [line for line in ax.get_lines() if line.get_linestyle() == "-"]


def test_one_run_has_loss_and_metric_panels_train_blue_test_orange(study, tmp_path: Path) -> None:
    history = rows(study, "binary_crossentropy", [0])
    fig = plot_learning_curves(history, "circles: binary_crossentropy", tmp_path / "curves.png")
    assert len(fig.axes) == 2
    top, bottom = fig.axes
    assert "circles" in top.get_title() and "binary_crossentropy" in top.get_title()
    assert "loss" in top.get_ylabel().lower() and "accuracy" in bottom.get_ylabel().lower()
    for ax, column in ((top, "loss_value"), (bottom, "metric_value")):
        lines = ax.get_lines()
        assert len(lines) == 2
        colours = {line.get_label(): to_hex(line.get_color()) for line in lines}
        assert colours == {"train": BLUE, "test": ORANGE}
        for line in lines:  # the lines draw the run's values, epoch by epoch
            expected = history[history["split"] == line.get_label()].sort_values("epoch")
            np.testing.assert_array_equal(line.get_xdata(), np.arange(1, EPOCHS + 1))
            np.testing.assert_allclose(line.get_ydata(), expected[column].to_numpy())
        assert not [c for c in ax.collections if isinstance(c, PolyCollection)]  # no band for one run
    data = (tmp_path / "curves.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    image = matplotlib.image.imread(tmp_path / "curves.png")
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 300


def test_several_seeds_draw_the_mean_and_a_band(study) -> None:
    history = rows(study, "binary_crossentropy")
    fig = plot_learning_curves(history, "circles: binary_crossentropy")
    top, bottom = fig.axes
    assert "3 seeds" in top.get_title()
    for ax, column in ((top, "loss_value"), (bottom, "metric_value")):
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 2  # one per split
        assert {to_hex(band.get_facecolor()[0][:3]) for band in bands} == {BLUE, ORANGE}
        for line in ax.get_lines():
            split = history[history["split"] == line.get_label()]
            mean = split.groupby("epoch")[column].mean().to_numpy()
            np.testing.assert_allclose(line.get_ydata(), mean, rtol=1e-6)
        for band in bands:  # the band lies within the runs' range
            vertices = band.get_paths()[0].vertices
            assert vertices[:, 1].min() >= history[column].min() - 1e-9
            assert vertices[:, 1].max() <= history[column].max() + 1e-9


def test_tanh_losses_add_the_tutorials_rounding_accuracy_as_dashed_lines(study) -> None:
    history = rows(study, "hinge", [0])
    fig = plot_learning_curves(history, "circles: hinge")
    bottom = fig.axes[1]
    dashed = [line for line in bottom.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    assert {to_hex(line.get_color()) for line in dashed} == {BLUE, ORANGE}
    for line in dashed:
        split = "train" if to_hex(line.get_color()) == BLUE else "test"
        expected = history[history["split"] == split].sort_values("epoch")["rounding_accuracy"].to_numpy()
        np.testing.assert_allclose(line.get_ydata(), expected)
    assert len(solid_lines(bottom)) == 2
    assert not [line for line in fig.axes[0].get_lines() if line.get_linestyle() == "--"]  # loss panel unchanged
    bce = plot_learning_curves(rows(study, "binary_crossentropy", [0]), "bce")
    assert not [line for line in bce.axes[1].get_lines() if line.get_linestyle() == "--"]


def test_diverged_runs_are_drawn_without_errors_or_warnings(tmp_path: Path) -> None:
    regression = get_problem("regression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        diverged = losslab.train(regression, ["mean_absolute_percentage_error"], seeds=[0, 1],
                                 settings=default_settings(regression).updated(epochs=4))
    assert diverged.runs["diverged"].all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_learning_curves(diverged.history, "regression: mape", tmp_path / "d.png")
    assert len(fig.axes) == 2 and (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")


def test_mean_curves_draw_two_lines_per_loss(study, tmp_path: Path) -> None:
    fig = plot_mean_curves(study, tmp_path / "mean.png")
    top, bottom = fig.axes
    assert len(top.get_lines()) == len(bottom.get_lines()) == 4
    assert (tmp_path / "mean.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("name", "n_classes"), [("circles", 2), ("blobs", 3)])
def test_the_scatter_plot_has_one_collection_per_class(name: str, n_classes: int, tmp_path: Path) -> None:
    problem = get_problem(name)
    fig = plot_dataset(problem, tmp_path / f"{name}.png")
    assert len(fig.axes) == 1
    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(scatters) == n_classes
    y = np.concatenate([problem.y_train, problem.y_test])
    X = np.concatenate([problem.X_train, problem.X_test])
    for label, scatter in enumerate(scatters):
        assert to_hex(scatter.get_facecolor()[0]) == to_hex(f"C{label}")
        np.testing.assert_allclose(scatter.get_offsets(), X[y == label])
    assert name in fig.axes[0].get_title()
    assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", ["regression", "iris"])
def test_the_scatter_plot_refuses_problems_it_cannot_draw(name: str) -> None:
    with pytest.raises(ValueError, match="classification problem with 2 features"):
        plot_dataset(get_problem(name))
