"""The tutorial's figures, drawn from real (short) studies: learning curves and data-set scatters."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.ticker import MaxNLocator

import losslab
from losslab.figures import plot_dataset, plot_final_distribution, plot_learning_curves, plot_mean_curves
from losslab.figures._axes import LOG_Y_RATIO, use_log_y
from losslab.planning import default_settings
from losslab.problems import get_problem
from losslab.settings import Settings

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


def test_mean_curves_give_each_loss_its_own_panel_and_share_the_metric(study, tmp_path: Path) -> None:
    fig = plot_mean_curves(study, tmp_path / "mean.png")
    *loss_axes, metric = fig.axes
    assert [ax.get_title() for ax in loss_axes] == list(study.losses)  # one panel per loss, in order
    for ax, loss in zip(loss_axes, study.losses):
        lines = ax.get_lines()
        assert sorted(line.get_label() for line in lines) == [f"{loss} (test)", f"{loss} (train)"]
        assert {line.get_linestyle() for line in lines} == {"-", "--"}  # test solid, train dashed
        assert len({to_hex(line.get_color()) for line in lines}) == 1
        values = rows(study, loss)["loss_value"]
        low, high = ax.get_ylim()  # the panel's own scale: this loss's values, not the other's
        assert low <= values.groupby(rows(study, loss)["epoch"]).mean().min() and high < 2 * values.max()
    bce, hinge = loss_axes
    assert not bce.get_shared_y_axes().joined(bce, hinge)
    assert bce.get_ylim() != hinge.get_ylim()
    assert len(metric.get_lines()) == 2 * len(study.losses)  # every loss's metric on the one panel
    assert {to_hex(line.get_color()) for line in metric.get_lines()} == {to_hex("C0"), to_hex("C1")}
    assert len([c for c in metric.collections if isinstance(c, PolyCollection)]) == 4  # the bands stay
    assert (tmp_path / "mean.png").read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- titles that fit


def _inside_the_figure(fig, text) -> bool:
    fig.canvas.draw()
    box, page = text.get_window_extent(fig.canvas.get_renderer()), fig.bbox
    return page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1


def test_a_long_title_is_wrapped_at_spaces_to_fit_the_figure(study) -> None:
    title = "ext-1b positive_regression: mean_absolute_percentage_error with a title far longer than the figure"
    fig = plot_learning_curves(rows(study, "binary_crossentropy"), title)
    shown = fig.axes[0].title
    assert _inside_the_figure(fig, shown)
    assert "\n" in shown.get_text()  # it was too long for one line
    assert shown.get_text().split() == f"{title} (mean of 3 seeds, 10-90% band)".split()  # no word cut or lost


def test_a_title_without_spaces_is_shrunk_until_it_fits(study) -> None:
    title = "x" * 120
    fig = plot_learning_curves(rows(study, "binary_crossentropy", [0]), title)
    shown = fig.axes[0].title
    assert _inside_the_figure(fig, shown) and shown.get_text() == title
    assert shown.get_fontsize() < 12


def test_the_comparison_figures_titles_fit(study) -> None:
    for fig in (plot_mean_curves(study), plot_final_distribution(study)):
        titles = [ax.title for ax in fig.axes if ax.get_title()]
        titles += [fig._suptitle] if fig._suptitle is not None else []
        assert titles
        for text in titles:
            assert _inside_the_figure(fig, text), text.get_text()


# --------------------------------------------------------------------------- log y, integer epochs


def synthetic_history(loss_values, metric_values=None) -> pd.DataFrame:
    """One seed's history with the given loss per epoch (train and test alike)."""
    loss_values = np.asarray(loss_values, float)
    metric_values = loss_values if metric_values is None else np.asarray(metric_values, float)
    return pd.DataFrame([
        {"problem": "regression", "loss": "mean_squared_logarithmic_error", "seed": 0, "epoch": epoch + 1,
         "split": split, "loss_value": loss_values[epoch], "metric": "mse", "metric_value": metric_values[epoch],
         "rounding_accuracy": np.nan}
        for epoch in range(loss_values.size) for split in ("train", "test")])


SMOOTH = [1.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4]
SPIKY = [400.0, 0.8, 0.6, 0.5, 0.45, 0.42, 0.4]  # one spike: on a linear axis the rest is a flat line


def test_a_log_axis_is_chosen_for_a_spike_and_not_for_a_smooth_curve() -> None:
    assert [ax.get_yscale() for ax in plot_learning_curves(synthetic_history(SPIKY), "spiky").axes] == ["log", "log"]
    assert [ax.get_yscale() for ax in plot_learning_curves(synthetic_history(SMOOTH), "smooth").axes] == ["linear"] * 2
    mixed = plot_learning_curves(synthetic_history(SPIKY, SMOOTH), "spiky loss, smooth metric")
    assert [ax.get_yscale() for ax in mixed.axes] == ["log", "linear"]  # each panel decides for itself


def test_log_y_true_or_false_overrides_the_rule(study) -> None:
    assert {ax.get_yscale() for ax in plot_learning_curves(synthetic_history(SPIKY), "s", log_y=False).axes} == {"linear"}
    assert {ax.get_yscale() for ax in plot_learning_curves(synthetic_history(SMOOTH), "s", log_y=True).axes} == {"log"}
    assert {ax.get_yscale() for ax in plot_mean_curves(study, log_y=True).axes} == {"log"}
    assert {ax.get_yscale() for ax in plot_mean_curves(study, log_y=False).axes} == {"linear"}


def test_the_log_rule_needs_positive_values_and_a_ratio_above_the_threshold() -> None:
    assert use_log_y(np.array([1.0, 1.0, 1.0, LOG_Y_RATIO * 1.01]))
    assert not use_log_y(np.array([1.0, 1.0, 1.0, LOG_Y_RATIO * 0.99]))
    assert not use_log_y(np.array([0.0, 1.0, 1.0, 1e6]))  # zero has no place on a log axis
    assert not use_log_y(np.array([np.nan, np.nan]))
    assert use_log_y(np.array([1.0, 1.0]), log_y=True) and not use_log_y(np.array([1.0, 1e9, 1.0]), log_y=False)


def _integer_ticks(fig) -> bool:
    fig.canvas.draw()
    return all(isinstance(ax.xaxis.get_major_locator(), MaxNLocator)
               and np.allclose(ax.get_xticks(), np.round(ax.get_xticks())) for ax in fig.axes)


def test_epoch_axes_have_integer_ticks(study, diverged) -> None:
    assert _integer_ticks(plot_learning_curves(rows(study, "binary_crossentropy"), "bce"))  # 5 epochs: not 1.5, 2.5
    assert _integer_ticks(plot_mean_curves(study))
    assert _integer_ticks(plot_learning_curves(rows(diverged, "mean_absolute_percentage_error"), "mape"))


# --------------------------------------------------------------------------- runs that all diverged


@pytest.fixture(scope="module")
def diverged() -> losslab.Study:
    """MSE, and MAPE on the zero-centred regression target, whose runs all diverge at once."""
    regression = get_problem("regression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return losslab.train(regression, ["mean_squared_error", "mean_absolute_percentage_error"], seeds=[0, 1],
                             settings=default_settings(regression).updated(epochs=4))


def test_a_loss_whose_runs_all_diverged_gets_a_panel_that_says_so(diverged) -> None:
    assert diverged.runs.groupby("loss")["diverged"].all().to_dict() == {
        "mean_absolute_percentage_error": True, "mean_squared_error": False}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_mean_curves(diverged)
    mse, mape, metric = fig.axes
    assert len(mse.get_lines()) == 2 and not mse.texts
    assert not mape.get_lines() and "2 of 2 runs diverged" in mape.get_title()
    assert len(mape.texts) == 1 and "all 2 runs diverged" in mape.texts[0].get_text()
    assert len(mape.get_yticks()) == 0  # no scale for values that do not exist (no 1e20 offsets)
    assert [line.get_label() for line in metric.get_lines()] == ["mean_squared_error (test)", "mean_squared_error (train)"]
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert "mean_absolute_percentage_error (every run diverged)" in legend


def test_the_final_distribution_says_which_loss_has_no_finished_run(diverged) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_final_distribution(diverged)
    ax = fig.axes[0]
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert labels == ["mean_squared_error", "mean_absolute_percentage_error\n(all 2 diverged)"]
    assert len(ax.texts) == 1 and "diverged" in ax.texts[0].get_text()
    assert ax.texts[0].get_position()[0] == 2  # in the diverged loss's place


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


# --------------------------------------------------------------------- drawing fast, and only once


def test_the_png_is_what_savefig_writes_though_drawn_once(study, tmp_path: Path) -> None:
    """The figure is drawn once, at the PNG's resolution, and that drawing is written: pixel for
    pixel the file matplotlib's own ``savefig`` writes at that resolution."""
    from losslab.figures._canvas import PNG_DPI

    fig = plot_learning_curves(rows(study, "hinge"), "circles: hinge", tmp_path / "once.png")
    fig.savefig(tmp_path / "savefig.png", dpi=PNG_DPI)
    np.testing.assert_array_equal(matplotlib.image.imread(tmp_path / "once.png"), matplotlib.image.imread(tmp_path / "savefig.png"))
    assert fig.get_dpi() == 100  # the figure handed back keeps its own resolution


def test_a_figure_can_be_written_into_a_binary_file_object(study, tmp_path: Path) -> None:
    import io

    buffer = io.BytesIO()
    plot_learning_curves(rows(study, "hinge"), "circles: hinge", buffer)
    plot_learning_curves(rows(study, "hinge"), "circles: hinge", tmp_path / "file.png")
    assert buffer.getvalue() == (tmp_path / "file.png").read_bytes()


def test_the_curves_table_and_band_equal_pandas_and_numpy(study) -> None:
    """The NumPy pivot and percentiles that replaced pandas' pivot table and ``nanpercentile``
    give the same numbers: missing cells and NaN rows included, and rows that share an epoch
    and seed averaged."""
    from losslab.figures._canvas import BAND, _by_epoch_and_seed, _nanpercentiles

    history = rows(study, "hinge")
    history = history[history["split"] == "test"].copy()
    history.loc[history.index[::4], "loss_value"] = np.nan
    history = history.drop(index=history.index[3])  # a seed without that epoch
    for frame in (history, pd.concat([history, history.assign(loss_value=history["loss_value"] * 2)])):  # the second: duplicates
        table = frame.pivot_table(index="epoch", columns="seed", values="loss_value", dropna=False)
        epochs, values = _by_epoch_and_seed(frame, "loss_value")
        np.testing.assert_array_equal(epochs, table.index.to_numpy())
        np.testing.assert_array_equal(values, table.to_numpy(dtype=float))
        values = values[np.isfinite(values).any(axis=1)]
        assert np.isnan(values).any()
        np.testing.assert_array_equal(_nanpercentiles(values, BAND), np.nanpercentile(values, BAND, axis=1))


def _jobs(study, out: Path):
    from losslab.figures._many import Job

    history = study.history
    jobs = [Job(plot_dataset, (CIRCLES,), out / "circles.png")]
    for loss in study.losses:
        for seeds in ([0], [1], [2], [0, 1, 2]):
            jobs.append(Job(plot_learning_curves, (rows(study, loss, seeds), f"circles: {loss} {seeds}"),
                            out / f"{loss}-{len(seeds)}-{seeds[0]}.png"))
    assert len(jobs) >= 6  # enough for the worker process
    return jobs


def test_many_figures_drawn_beside_a_worker_process_are_the_ones_drawn_here(study, tmp_path: Path, monkeypatch) -> None:
    from losslab.figures import _many

    jobs = _jobs(study, tmp_path / "worker")
    helpers, helper = [], _many._Helper
    monkeypatch.setattr(_many, "_Helper", lambda *a: helpers.append(helper(*a)) or helpers[-1])
    monkeypatch.setattr(_many, "_workers", lambda since: 1)
    assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs)
    assert len(helpers) == 1 and helpers[0].ready.is_set()  # the worker started and took figures
    monkeypatch.setattr(_many, "_workers", lambda since: 0)
    here = [_many.Job(job.plot, job.args, tmp_path / "here" / job.path.name) for job in jobs]
    _many.draw_all(here)
    for job, again in zip(jobs, here):
        assert job.path.read_bytes() == again.path.read_bytes(), job.path.name
    assert not list((tmp_path / "worker").glob(".*partial"))


@pytest.fixture
def early_workers_stopped():
    """Whatever a test leaves of a worker started early (an assertion failed) is stopped."""
    from losslab.figures import _early

    yield
    _early.stop()


@pytest.mark.usefixtures("early_workers_stopped")
def test_a_worker_started_early_is_the_one_that_draws(study, tmp_path: Path, monkeypatch) -> None:
    from losslab.figures import _early, _many

    helpers, helper = [], _many._Helper
    monkeypatch.setattr(_many, "_Helper", lambda *a: helpers.append(helper(*a)) or helpers[-1])
    monkeypatch.setattr(_many, "_workers", lambda since: 1)
    monkeypatch.delenv(_many.WORKERS_VARIABLE, raising=False)
    _early.start()
    (started,) = _early._STARTED
    jobs = _jobs(study, tmp_path)
    assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs)
    assert len(helpers) == 1 and helpers[0].process is started and helpers[0].ready.is_set()
    assert started.returncode == 0 and _early.claim() is None  # it drew, then ended with its input
    assert all(_many.drawn_from(job.path) for job in jobs)


@pytest.mark.usefixtures("early_workers_stopped")
@pytest.mark.parametrize("how", ["unclaimed", "few figures", "no free core"])
def test_a_worker_started_early_and_not_needed_ends(study, tmp_path: Path, monkeypatch, how: str) -> None:
    """A command that fails before it draws stops its early worker; a drawing that does not
    need it (fewer than six figures, or no free core) ends it. Either way no process is left."""
    from losslab.figures import _early, _many

    monkeypatch.delenv(_many.WORKERS_VARIABLE, raising=False)
    monkeypatch.setattr(_many, "_workers", lambda since: 0 if how == "no free core" else 1)
    _early.start()
    (started,) = _early._STARTED
    if how == "unclaimed":
        _early.stop()
    else:
        jobs = _jobs(study, tmp_path)[: 2 if how == "few figures" else None]
        assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs)
    assert started.returncode is not None and not _early._STARTED


def test_a_worker_whose_command_ended_before_drawing_exits_quietly() -> None:
    """Its input closed before it was told matplotlib's settings: no traceback, exit code 0."""
    import subprocess

    from losslab.figures import _early

    done = subprocess.run([sys.executable, "-m", _early.WORKER_MODULE], input=b"", capture_output=True, timeout=120,
                          check=False)
    assert done.returncode == 0 and done.stderr == b"" and done.stdout == b""


def test_a_worker_whose_command_ended_while_it_drew_exits_quietly(study, tmp_path: Path) -> None:
    """Ctrl-C ends the command while the worker draws: its answer meets a closed pipe."""
    import pickle
    import subprocess

    from losslab.figures import _early, _many

    worker = subprocess.Popen([sys.executable, "-m", _early.WORKER_MODULE], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    worker.stdin.write(pickle.dumps(_many._style()) + pickle.dumps(_jobs(study, tmp_path)[1]))
    worker.stdin.close()
    worker.stdout.close()  # the command is gone before the figure is drawn
    assert worker.wait(timeout=120) == 0 and worker.stderr.read() == b""
    worker.stderr.close()


def test_the_figures_package_starts_its_worker_before_importing_matplotlib() -> None:
    import subprocess

    code = ("import sys\nfrom losslab.figures import _early\n"
            "print([m for m in ('matplotlib', 'pandas', 'numpy') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout.strip() == "[]", done.stderr


def test_a_figure_already_drawn_from_the_same_inputs_is_kept(study, tmp_path: Path, monkeypatch) -> None:
    from losslab.figures import _many

    monkeypatch.setenv(_many.WORKERS_VARIABLE, "0")
    jobs = _jobs(study, tmp_path)
    assert len(_many.draw_all(jobs)) == len(jobs)
    assert all(_many.drawn_from(job.path) for job in jobs)
    assert _many.draw_all(jobs) == []  # nothing changed: nothing drawn
    first, second, third = jobs[1], jobs[2], jobs[3]
    first.path.unlink()  # missing
    damaged = bytearray(second.path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    second.path.write_bytes(bytes(damaged))  # no longer the PNG drawn, though its record is intact
    changed = rows(study, "hinge", [2]).assign(loss_value=lambda frame: frame["loss_value"] + 1)
    jobs[3] = _many.Job(third.plot, (changed, third.args[1]), third.path)  # other data
    jobs[4] = _many.Job(jobs[4].plot, (jobs[4].args[0], "another title"), jobs[4].path)
    assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs[1:5])
    assert _many.draw_all(jobs) == []


def test_a_worker_that_cannot_start_leaves_every_figure_drawn_here(study, tmp_path: Path, monkeypatch) -> None:
    from losslab.figures import _many

    monkeypatch.setattr(_many, "_workers", lambda since: 1)
    monkeypatch.setattr(_many.sys, "executable", str(tmp_path / "no-python-here"))
    jobs = _jobs(study, tmp_path)
    assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs)
    assert all(job.path.read_bytes().startswith(b"\x89PNG") for job in jobs)


def _warning_curves(history, title, path):
    """A plot function the worker cannot import (the tests are not on its path), which warns."""
    warnings.warn(f"drawn here: {title}", UserWarning, stacklevel=1)
    return plot_learning_curves(history, title, path)


def test_figures_the_worker_cannot_draw_are_drawn_here_with_their_warnings(study, tmp_path: Path, monkeypatch) -> None:
    from losslab.figures import _many

    monkeypatch.setattr(_many, "_workers", lambda since: 1)
    jobs = [_many.Job(_warning_curves, job.args, job.path) for job in _jobs(study, tmp_path)[1:]]
    with pytest.warns(UserWarning, match="drawn here") as caught:
        assert sorted(_many.draw_all(jobs)) == sorted(job.path for job in jobs)
    assert len(caught) == len(jobs)
    assert all(job.path.read_bytes().startswith(b"\x89PNG") for job in jobs)


@pytest.mark.parametrize(("idle_ticks", "workers"), [(100, 1), (50, 1), (10, 0), (0, 0)])
def test_the_worker_starts_only_when_a_core_was_idle(idle_ticks: int, workers: int, monkeypatch) -> None:
    """Over 200 ticks of a 2-core machine's time, ``idle_ticks`` idle: a worker when half a core
    or more was free while this process drew its first figure (its own core being busy)."""
    from losslab.figures import _many

    monkeypatch.delenv(_many.WORKERS_VARIABLE, raising=False)
    monkeypatch.setattr(_many.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_many.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(_many, "_cpu_times", lambda: (1000 + idle_ticks, 2000 + 200))
    assert _many._workers((1000, 2000)) == workers
    monkeypatch.setenv(_many.WORKERS_VARIABLE, "0")
    assert _many._workers((1000, 2000)) == 0


def test_a_study_of_one_epoch_draws_its_points_and_never_says_its_runs_diverged() -> None:
    """One epoch is one point per split: drawn, with the epoch as the only tick; the panels of
    runs that truly diverged within two epochs still say so."""
    study = losslab.train(get_problem("iris"), ["cce", "kld"], seeds=range(3), settings=Settings(epochs=1))
    fig = plot_mean_curves(study)
    loss_panel = fig.axes[0]
    assert [line.get_marker() for line in loss_panel.get_lines()] == ["o", "x"]  # held out, then train
    assert not any("diverged" in text.get_text() for ax in fig.axes for text in ax.texts)
    assert list(loss_panel.get_xticks()) == [1]
    history = study.history.assign(loss_value=np.nan)
    from losslab.figures._canvas import has_curve
    assert has_curve(study.history) and not has_curve(history)
