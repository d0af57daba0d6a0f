"""The tutorial's figures: two-panel learning curves and the data sets' scatter plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex

import losslab
from losslab.figures import plot_dataset, plot_learning_curves

CIRCLES = losslab.get_problem("circles")


@pytest.fixture(scope="module")
def study() -> losslab.Study:
    return losslab.train(CIRCLES, ["binary_crossentropy", "hinge"], seeds=[0, 1, 2], settings=CIRCLES.defaults.updated(epochs=4))


def curves(study, loss, seeds):
    history = study.history
    return history[(history["loss"] == loss) & history["seed"].isin(seeds)]


def test_learning_curves_have_loss_on_top_and_metric_below_train_blue_test_orange(study, tmp_path: Path) -> None:
    fig = plot_learning_curves(curves(study, "binary_crossentropy", [0]), "circles: binary_crossentropy", tmp_path / "f.png")
    top, bottom = fig.axes
    assert top.get_ylabel() == "Loss" and bottom.get_ylabel() == "Accuracy"
    assert "circles" in top.get_title() and "binary_crossentropy" in top.get_title()
    for ax in (top, bottom):
        colours = {line.get_label(): to_hex(line.get_color()) for line in ax.get_lines()}
        assert colours == {"train": to_hex("C0"), "test": to_hex("C1")}
        assert len(ax.get_lines()[0].get_xdata()) == 4
    assert (tmp_path / "f.png").read_bytes().startswith(b"\x89PNG")


def test_several_seeds_draw_a_mean_with_a_band(study) -> None:
    fig = plot_learning_curves(curves(study, "binary_crossentropy", [0, 1, 2]), "bands")
    top = fig.axes[0]
    assert sum(isinstance(c, PolyCollection) for c in top.collections) == 2
    assert "mean of 3 seeds" in top.get_title()


def test_tanh_losses_also_draw_the_tutorials_rounding_accuracy_dashed(study) -> None:
    fig = plot_learning_curves(curves(study, "hinge", [0]), "hinge")
    dashed = [line for line in fig.axes[1].get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2 and all("tutorial" in line.get_label() for line in dashed)
    assert not [l for l in plot_learning_curves(curves(study, "binary_crossentropy", [0]), "bce").axes[1].get_lines()
                if l.get_linestyle() == "--"]


@pytest.mark.parametrize(("name", "classes"), [("circles", 2), ("blobs", 3)])
def test_scatter_plots_colour_each_class(name: str, classes: int, tmp_path: Path) -> None:
    fig = plot_dataset(losslab.get_problem(name), tmp_path / "s.png")
    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(scatters) == classes
    assert sum(len(s.get_offsets()) for s in scatters) == 1000
    assert [to_hex(s.get_facecolor()[0]) for s in scatters] == [to_hex(f"C{i}") for i in range(classes)]


def test_scatter_plots_refuse_regression() -> None:
    with pytest.raises(ValueError, match="classification"):
        plot_dataset(losslab.get_problem("regression"))
