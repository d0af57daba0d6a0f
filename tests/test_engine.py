"""The training engine through its public entry point, ``losslab.train``, and its parts.

Covers the tables' shapes and columns, paired seeds (same initial hidden weights, same batch
order), Keras's batching, the SGD-with-momentum arithmetic against a NumPy re-implementation,
determinism, divergence containment, end-to-end learning and input validation.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import losslab
from losslab.engine import seed_keys
from losslab.models import MLP
from losslab.engine import _program
from losslab.engine._program import batch_mask, batches, epoch_orders
from losslab.errors import IncompatibleLossError, SettingsError, UnknownNameError
from losslab.planning import default_settings
from losslab.problems import Problem, get_problem
from losslab.results import HISTORY_COLUMNS, run_columns
from losslab.settings import Settings

BLOBS = get_problem("blobs")
REGRESSION = get_problem("regression")
EPOCHS = 3
SEEDS = (0, 1, 2)
MAPE, MSE = "mean_absolute_percentage_error", "mean_squared_error"


@pytest.fixture(scope="module")
def blobs_study() -> losslab.Study:
    """Three losses x three seeds, a few epochs: small enough to be quick, big enough to check shapes."""
    return losslab.train(BLOBS, ["cce", "kld", "categorical_hinge"], seeds=SEEDS,
                         settings=default_settings(BLOBS).updated(epochs=EPOCHS))


@pytest.fixture(scope="module")
def diverging_study() -> losslab.Study:
    """MAPE on the tutorial's standardised regression target blows up; MSE beside it must not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MAPE is trained here as the tutorial's extension would be
        return losslab.train(REGRESSION, [MAPE, MSE], seeds=[0, 1], settings=default_settings(REGRESSION).updated(epochs=6))


# ------------------------------------------------------------------------------------------- tables


def test_history_has_one_row_per_run_epoch_and_split_with_the_documented_columns(blobs_study) -> None:
    history = blobs_study.history
    assert tuple(history.columns) == HISTORY_COLUMNS
    n_runs = 3 * len(SEEDS)
    assert len(history) == n_runs * EPOCHS * 2
    keys = history[["loss", "seed", "epoch", "split"]]
    assert not keys.duplicated().any()
    assert sorted(history["epoch"].unique()) == list(range(1, EPOCHS + 1))
    assert (history.groupby(["loss", "seed", "epoch"]).size() == 2).all()
    assert set(history["split"]) == {"train", "test"}
    assert (history["problem"] == "blobs").all() and (history["metric"] == "accuracy").all()
    assert history["metric_value"].between(0, 1).all()
    assert history["rounding_accuracy"].isna().all()  # softmax outputs: the tutorial's rounding does not apply


def test_runs_has_one_row_per_loss_and_seed_with_the_final_epoch(blobs_study) -> None:
    runs = blobs_study.runs
    assert tuple(runs.columns) == run_columns(blobs_study.plan)
    assert blobs_study.n_runs == len(runs) == 9
    assert runs[["loss", "seed"]].values.tolist() == [
        [loss, seed] for loss in ("categorical_crossentropy", "kl_divergence", "categorical_hinge") for seed in SEEDS
    ]
    assert blobs_study.losses == ("categorical_crossentropy", "kl_divergence", "categorical_hinge")
    assert blobs_study.seeds == SEEDS
    assert not runs["diverged"].any() and runs["diverged_epoch"].isna().all()
    last = blobs_study.history[blobs_study.history["epoch"] == EPOCHS]
    for split in ("train", "test"):
        final = last[last["split"] == split].set_index(["loss", "seed"])
        indexed = runs.set_index(["loss", "seed"])
        np.testing.assert_array_equal(indexed[f"{split}_loss"], final.loc[indexed.index, "loss_value"])
        np.testing.assert_array_equal(indexed[f"{split}_metric"], final.loc[indexed.index, "metric_value"])
    # the tutorial's problems are not rescaled, so there are no target units to convert to
    assert runs["test_metric_target_units"].isna().all()
    pd.testing.assert_series_equal(
        blobs_study.final("kl_divergence"),
        runs[runs["loss"] == "kl_divergence"].set_index("seed")["test_metric"],
    )


def test_progress_is_reported_per_loss_and_at_the_end() -> None:
    calls = []
    losslab.train(BLOBS, ["cce", "kld"], seeds=[0, 1], settings=default_settings(BLOBS).updated(epochs=2),
                  progress=lambda done, total, what: calls.append((done, total, what)))
    # each loss as it starts, each chunk (here one per loss) as it ends, and the end
    assert calls == [(0, 4, "categorical_crossentropy"), (2, 4, "categorical_crossentropy"),
                     (2, 4, "kl_divergence"), (4, 4, "kl_divergence"), (4, 4, "done")]


# ---------------------------------------------------------------------------------- paired seeds


@pytest.mark.parametrize("seed", [0, 11])
def test_a_seed_gives_every_loss_the_same_initial_hidden_weights(seed: int) -> None:
    key = seed_keys([seed])[0]
    # one output unit (sigmoid, tanh, regression) and three (softmax): the hidden layers must match
    one, three = MLP((50, 7)).keras_params(key, 2, 1), MLP((50, 7)).keras_params(key, 2, 3)
    for (W1, b1), (W3, b3) in zip(one[:-1], three[:-1]):
        np.testing.assert_array_equal(np.asarray(W1), np.asarray(W3))
        np.testing.assert_array_equal(np.asarray(b1), np.asarray(b3))
    assert one[-1][0].shape == (7, 1) and three[-1][0].shape == (7, 3)
    other = MLP((50, 7)).keras_params(seed_keys([seed + 1])[0], 2, 3)
    assert not np.array_equal(np.asarray(other[0][0]), np.asarray(three[0][0]))


def test_initial_weights_are_kerass_he_and_glorot_uniform() -> None:
    (W1, b1), (W2, b2) = MLP((400,)).keras_params(seed_keys([0])[0], 10, 200)
    W1, W2 = np.asarray(W1), np.asarray(W2)
    he, glorot = math.sqrt(6 / 10), math.sqrt(6 / (400 + 200))
    assert W1.shape == (10, 400) and np.abs(W1).max() <= he and np.abs(W1).max() > 0.95 * he
    assert W2.shape == (400, 200) and np.abs(W2).max() <= glorot and np.abs(W2).max() > 0.95 * glorot
    assert abs(W1.mean()) < 0.05 * he  # centred
    assert not np.asarray(b1).any() and not np.asarray(b2).any()


def test_batch_order_is_a_function_of_the_seed_only() -> None:
    orders = epoch_orders(4, epochs=5, n_rows=500)
    assert orders.shape == (5, 500)
    np.testing.assert_array_equal(orders, epoch_orders(4, epochs=5, n_rows=500))
    for order in orders:  # every epoch is a permutation of all rows ...
        np.testing.assert_array_equal(np.sort(order), np.arange(500))
    assert len({order.tobytes() for order in orders}) == 5  # ... reshuffled every epoch
    assert not np.array_equal(orders, epoch_orders(5, epochs=5, n_rows=500))


def test_an_epoch_shuffled_by_blocks_reads_a_window_of_blocks_at_a_time(monkeypatch) -> None:
    """Each epoch a permutation of every row, drawn anew, in which each window of 4 blocks of 10
    positions covers at most 5 blocks (the short last block may fall in it)."""
    monkeypatch.setattr(_program, "SHUFFLE_BLOCK", 10)
    monkeypatch.setattr(_program, "SHUFFLE_WINDOW", 4)
    orders = epoch_orders(4, epochs=6, n_rows=95, shuffle="blocks")
    np.testing.assert_array_equal(orders, epoch_orders(4, epochs=6, n_rows=95, shuffle="blocks"))
    assert len({order.tobytes() for order in orders}) == 6
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(95))
        windows = [set(order[start:start + 40] // 10) for start in range(0, 95, 40)]
        assert all(len(blocks) <= 5 for blocks in windows) and max(map(len, windows)) >= 4
    assert not np.array_equal(orders, epoch_orders(4, epochs=6, n_rows=95))  # not the rows' shuffle
    with pytest.raises(SettingsError, match="shuffle must be rows .* or blocks"):
        Settings(shuffle="window")


def test_paired_runs_of_equivalent_losses_see_the_same_batches(blobs_study) -> None:
    """CCE and KL divergence on one-hot targets have the same gradient; on the same seed (same
    initial weights, same batches) they must train to the same accuracy."""
    history = blobs_study.history
    cce = history[history["loss"] == "categorical_crossentropy"]["metric_value"].to_numpy()
    kld = history[history["loss"] == "kl_divergence"]["metric_value"].to_numpy()
    np.testing.assert_allclose(cce, kld, atol=1 / 500 + 1e-9)  # at most one borderline row apart
    by_seed = history[history["loss"] == "categorical_crossentropy"].groupby("seed")["loss_value"].apply(tuple)
    assert by_seed.nunique() == len(SEEDS)  # different seeds: different runs


def test_500_rows_in_batches_of_32_are_16_updates_the_last_of_20_rows() -> None:
    orders = np.stack([np.random.default_rng(seed).permuted(np.tile(np.arange(500, dtype=np.int32), (3, 1)), axis=1)
                       for seed in range(2)])  # 2 runs, 3 epochs
    rows, mask = batches(orders, 32), batch_mask(500, 32)
    assert rows.shape == (3, 16, 2, 32) and mask.shape == (16, 32)
    assert mask.sum() == 500
    assert mask[-1].sum() == 20 and (mask[:-1].sum(axis=1) == 32).all()
    for epoch in range(3):
        for run in range(2):  # each run's epoch order, cut in sequence; the padding is row 0
            np.testing.assert_array_equal(rows[epoch, :, run][mask > 0], orders[run, epoch])
            assert (rows[epoch, :, run][mask == 0] == 0).all()
    assert set(np.unique(mask)) == {0.0, 1.0}
    assert rows.ctypes.data % 64 == 0  # aligned: a CPU device takes it as it is


def test_a_batch_size_that_divides_the_rows_has_no_padding() -> None:
    rows = batches(np.arange(64, dtype=np.int32).reshape(1, 1, 64), 16)
    assert rows.shape == (1, 4, 1, 16) and float(batch_mask(64, 16).min()) == 1.0
    np.testing.assert_array_equal(rows.ravel(), np.arange(64))


# ----------------------------------------------------------- the arithmetic, checked with NumPy


def _numpy_training(problem: Problem, loss: str, params, settings: Settings, seed: int) -> np.ndarray:
    """Keras's training loop in float64 NumPy: shuffled mini-batches (the last one partial, its
    gradient the mean over its own rows) and SGD with momentum ``v = m*v - lr*g; w += v``.

    Returns ``(epochs, 2 splits, 2)``: loss and metric on train and test after every epoch.
    """
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    X_train, X_test = problem.X_train.astype(np.float64), problem.X_test.astype(np.float64)
    k = params[-1][0].shape[1]

    def targets(y):
        if loss == "mse":
            return y.astype(np.float64)[:, None]
        if loss == "bce":
            return y.astype(np.float64)[:, None]
        return np.eye(k)[y]

    def forward(X):
        pre, a = [], X
        for W, b in params[:-1]:
            z = a @ W + b
            pre.append(z)
            a = np.maximum(z, 0)
        return a @ params[-1][0] + params[-1][1], pre

    def output_gradient(z, t):  # d(mean loss over the batch)/dz
        if loss == "mse":
            return 2 * (z - t) / len(z)
        if loss == "bce":
            return (1 / (1 + np.exp(-z)) - t) / len(z)
        p = np.exp(z - z.max(axis=1, keepdims=True))
        return (p / p.sum(axis=1, keepdims=True) - t) / len(z)

    def report(X, y):
        z, _ = forward(X)
        t = targets(y)
        if loss == "mse":
            return np.mean((z - t) ** 2), np.mean((z - t) ** 2)
        eps = 1e-7
        if loss == "bce":
            p = np.clip(1 / (1 + np.exp(-z)), eps, 1 - eps)
            return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p))), np.mean((p[:, 0] > 0.5) == (y == 1))
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p = np.clip(p / p.sum(axis=1, keepdims=True), eps, 1 - eps)
        return np.mean(-(t * np.log(p)).sum(axis=1)), np.mean(p.argmax(axis=1) == y)

    y_train = targets(problem.y_train)
    out = []
    for order in epoch_orders(seed, settings.epochs, problem.n_train, settings.shuffle):
        for start in range(0, len(order), settings.batch_size):
            rows = order[start:start + settings.batch_size]
            x, t = X_train[rows], y_train[rows]
            z, pre = forward(x)
            delta = output_gradient(z, t)
            grads = []
            for layer in range(len(params) - 1, -1, -1):
                a = x if layer == 0 else np.maximum(pre[layer - 1], 0)
                grads.append((a.T @ delta, delta.sum(axis=0)))
                if layer:
                    delta = (delta @ params[layer][0].T) * (pre[layer - 1] > 0)
            grads = grads[::-1]
            m, lr = settings.momentum, settings.learning_rate
            velocity = [(m * vW - lr * gW, m * vb - lr * gb) for (vW, vb), (gW, gb) in zip(velocity, grads)]
            params = [(W + vW, b + vb) for (W, b), (vW, vb) in zip(params, velocity)]
        out.append([report(X_train, problem.y_train), report(X_test, problem.y_test)])
    return np.array(out)


def _tiny_problem(kind: str, n_train: int = 40, n_test: int = 12) -> Problem:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n_train + n_test, 3))
    score = X @ np.array([1.0, -2.0, 0.5])
    if kind == "regression":
        y = score + 0.1 * rng.normal(size=len(X))
        n_classes = None
    elif kind == "binary":
        y = (score > 0).astype(np.int64)
        n_classes = 2
    else:
        y = np.digitize(score, [-1.0, 1.0]).astype(np.int64)
        n_classes = 3
    return Problem("tiny", kind, X[:n_train], y[:n_train], X[n_train:], y[n_train:], n_classes=n_classes)


@pytest.mark.parametrize(
    ("kind", "loss", "batch_size", "hidden", "shuffle"),
    [
        ("regression", "mse", 40, (8,), "rows"),  # one full-batch step per epoch
        ("regression", "mse", 16, (6, 4), "rows"),  # batches of 16, 16 and a partial 8; two hidden layers
        ("binary", "bce", 16, (8,), "rows"),
        ("multiclass", "cce", 16, (8,), "rows"),
        ("binary", "bce", 16, (8,), "blocks"),  # blocks of 8 rows, windows of 2 blocks
    ],
)
def test_sgd_with_momentum_matches_a_numpy_reimplementation(kind, loss, batch_size, hidden, shuffle,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(_program, "SHUFFLE_BLOCK", 8)
    monkeypatch.setattr(_program, "SHUFFLE_WINDOW", 2)
    problem = _tiny_problem(kind)
    seed = 5
    settings = Settings(epochs=3, batch_size=batch_size, hidden=hidden, learning_rate=0.05, momentum=0.9,
                        shuffle=shuffle)
    study = losslab.train(problem, [loss], seeds=[seed], settings=settings, split="fixed", validation=0)
    init = MLP(hidden).keras_params(seed_keys([seed])[0], problem.n_features, 3 if loss == "cce" else 1)
    expected = _numpy_training(problem, loss, init, settings, seed)
    history = study.history  # one run: rows in (epoch, split) order, train before test
    assert history["split"].tolist() == ["train", "test"] * 3 and history["epoch"].tolist() == [1, 1, 2, 2, 3, 3]
    engine = history[["loss_value", "metric_value"]].to_numpy().reshape(3, 2, 2)
    np.testing.assert_allclose(engine[:, :, 0], expected[:, :, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(engine[:, :, 1], expected[:, :, 1], rtol=1e-5, atol=1e-7)
    # the check has teeth: the weights moved, and plain SGD (no momentum) would give other numbers
    assert not np.isclose(expected[0, 0, 0], expected[-1, 0, 0], rtol=1e-3)
    no_momentum = _numpy_training(problem, loss, init, settings.updated(momentum=0.0), seed)
    assert not np.allclose(no_momentum[:, 0, 0], expected[:, 0, 0], rtol=1e-4)


# ------------------------------------------------------------------------------- determinism


def test_the_same_call_twice_gives_a_bitwise_identical_history(blobs_study, diverging_study) -> None:
    again = losslab.train(BLOBS, ["cce", "kld", "categorical_hinge"], seeds=SEEDS,
                          settings=default_settings(BLOBS).updated(epochs=EPOCHS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again_diverging = losslab.train(REGRESSION, [MAPE, MSE], seeds=[0, 1],
                                        settings=default_settings(REGRESSION).updated(epochs=6))
    for first, second in ((blobs_study, again), (diverging_study, again_diverging)):
        for column in ("loss_value", "metric_value", "rounding_accuracy"):
            assert np.array_equal(first.history[column].to_numpy(), second.history[column].to_numpy(), equal_nan=True)
        pd.testing.assert_frame_equal(first.runs, second.runs)


def test_a_runs_result_does_not_depend_on_the_other_seeds_in_the_study(blobs_study) -> None:
    alone = losslab.train(BLOBS, ["kld"], seeds=[2], settings=default_settings(BLOBS).updated(epochs=EPOCHS)).history
    among = blobs_study.history
    among = among[(among["loss"] == "kl_divergence") & (among["seed"] == 2)]
    np.testing.assert_array_equal(alone["loss_value"].to_numpy(), among["loss_value"].to_numpy())


# ---------------------------------------------------------------------------------- divergence


def test_a_diverging_loss_is_marked_and_nan_from_its_divergence_epoch_on(diverging_study) -> None:
    runs = diverging_study.runs.set_index(["loss", "seed"])
    history = diverging_study.history
    for seed in (0, 1):
        run = runs.loc[(MAPE, seed)]
        assert bool(run["diverged"]) is True
        epoch = int(run["diverged_epoch"])
        assert 1 <= epoch <= 6
        rows = history[(history["loss"] == MAPE) & (history["seed"] == seed)]
        after = rows[rows["epoch"] >= epoch]
        before = rows[rows["epoch"] < epoch]
        assert after[["loss_value", "metric_value"]].isna().all().all()
        assert np.isfinite(before[["loss_value", "metric_value"]].to_numpy()).all()
        assert math.isnan(run["test_metric"]) and math.isnan(run["train_loss"])


def test_a_diverging_loss_leaves_the_other_losses_of_its_study_untouched(diverging_study) -> None:
    runs = diverging_study.runs
    mse = runs[runs["loss"] == MSE]
    assert not mse["diverged"].any() and mse["diverged_epoch"].isna().all()
    assert np.isfinite(mse[["train_loss", "test_loss", "train_metric", "test_metric"]].to_numpy()).all()
    assert (mse["test_metric"] < 0.5).all()  # it learned (the target is standardised: the mean scores 1)
    mse_history = diverging_study.history[diverging_study.history["loss"] == MSE]
    assert np.isfinite(mse_history["loss_value"]).all()
    np.testing.assert_allclose(mse_history["loss_value"], mse_history["metric_value"], rtol=1e-6)  # MSE's metric is itself
    alone = losslab.train(REGRESSION, [MSE], seeds=[0, 1], settings=default_settings(REGRESSION).updated(epochs=6)).history
    np.testing.assert_array_equal(alone["loss_value"].to_numpy(), mse_history["loss_value"].to_numpy())


def test_a_huge_learning_rate_diverges_every_run_at_once() -> None:
    study = losslab.train(REGRESSION, [MSE], seeds=[0, 1], settings=default_settings(REGRESSION).updated(epochs=3, learning_rate=1e6))
    assert study.runs["diverged"].all()
    assert (study.runs["diverged_epoch"] == 1).all()
    assert study.history["loss_value"].isna().all()


# ---------------------------------------------------------------------------------- learning


@pytest.fixture(scope="module")
def blobs_full() -> losslab.Study:
    """The tutorial's case studies 4.7 and 4.8: 100 epochs, default settings, 5 paired seeds."""
    return losslab.train(BLOBS, ["categorical_crossentropy", "sparse_categorical_crossentropy"], seeds=range(5))


def test_blobs_with_categorical_crossentropy_learns_like_the_tutorial(blobs_full) -> None:
    # the defaults, the shuffle decided by the plan (every row anew: the tutorial's table fits)
    assert blobs_full.settings == default_settings(BLOBS).updated(shuffle="rows") and blobs_full.settings.epochs == 100
    cce = blobs_full.runs[blobs_full.runs["loss"] == "categorical_crossentropy"]
    assert cce["test_metric"].mean() >= 0.78
    assert cce["train_metric"].mean() >= 0.78
    history = blobs_full.history
    train_loss = history[(history["loss"] == "categorical_crossentropy") & (history["split"] == "train")]
    by_epoch = train_loss.groupby("epoch")["loss_value"].mean()
    assert by_epoch.loc[100] < 0.75 * by_epoch.loc[1]


def test_categorical_and_sparse_categorical_crossentropy_are_identical_on_paired_seeds(blobs_full) -> None:
    history = blobs_full.history
    cce = history[history["loss"] == "categorical_crossentropy"]
    sparse = history[history["loss"] == "sparse_categorical_crossentropy"]
    assert cce["seed"].tolist() == sparse["seed"].tolist()
    for column in ("loss_value", "metric_value"):
        np.testing.assert_allclose(cce[column].to_numpy(), sparse[column].to_numpy(), rtol=1e-6, atol=0)


# ------------------------------------------------------------------------------ bad requests


def test_an_unknown_loss_is_an_unknown_name_error_that_suggests_the_right_one() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'mean_squared_error'"):
        losslab.train(REGRESSION, ["mean_squred_error"], settings=Settings(epochs=1))


@pytest.mark.parametrize(
    ("problem", "loss", "fix"),
    [("blobs", "hinge", "categorical_hinge"), ("blobs", "binary_crossentropy", "categorical_crossentropy"),
     ("circles", "mse", "binary_crossentropy"), ("regression", "cce", "mean_squared_error")],
)
def test_a_loss_that_does_not_fit_the_problem_is_refused_naming_the_fix(problem, loss, fix) -> None:
    with pytest.raises(IncompatibleLossError, match=fix):
        losslab.train(get_problem(problem), [loss], settings=Settings(epochs=1))


@pytest.mark.parametrize("seeds", [[1, 1], [-1], [], [0, 2**32], (3, 4, 3)])
def test_bad_seeds_are_settings_errors(seeds) -> None:
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, ["cce"], seeds=seeds, settings=Settings(epochs=1))


def test_a_fractional_seed_is_refused_not_truncated() -> None:
    """A seed of 2.5 is a mistake; silently training seed 2 instead would hide it."""
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, ["cce"], seeds=[2.5], settings=Settings(epochs=1))


def test_seeds_may_be_any_iterable_of_integers() -> None:
    study = losslab.train(BLOBS, ["cce"], seeds=np.arange(2), settings=default_settings(BLOBS).updated(epochs=1))
    assert study.seeds == (0, 1) and study.runs["seed"].tolist() == [0, 1]
    assert len(losslab.train(BLOBS, ["cce"], seeds=[2**32 - 1], settings=default_settings(BLOBS).updated(epochs=1)).runs) == 1


def test_a_loss_named_twice_is_refused() -> None:
    with pytest.raises(SettingsError, match="once"):
        losslab.train(BLOBS, ["cce", "categorical_crossentropy"], settings=Settings(epochs=1))
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, [], settings=Settings(epochs=1))


@pytest.mark.parametrize(
    "bad",
    [{"epochs": 0}, {"epochs": -3}, {"epochs": 2.0}, {"epochs": True}, {"learning_rate": float("nan")},
     {"learning_rate": 0.0}, {"learning_rate": -0.1}, {"learning_rate": float("inf")}, {"momentum": 1.5},
     {"momentum": 1.0}, {"momentum": -0.1}, {"momentum": float("nan")}, {"batch_size": 0}, {"hidden": ()},
     {"hidden": (50, 0)}, {"optimizer": "lbfgs"}],
)
def test_settings_out_of_range_are_settings_errors(bad) -> None:
    with pytest.raises(SettingsError):
        Settings(**bad)


def test_hidden_sizes_given_as_a_list_work_like_a_tuple() -> None:
    """``hidden=[8]`` is taken as ``(8,)`` when the settings are made, so it trains exactly the
    network ``hidden=(8,)`` does (not a TypeError from inside the engine, nor a refusal)."""
    as_list = Settings(epochs=2, hidden=[8])
    assert as_list.hidden == (8,) and as_list == Settings(epochs=2, hidden=(8,))
    study = losslab.train(BLOBS, ["cce"], seeds=[0], settings=as_list)
    reference = losslab.train(BLOBS, ["cce"], seeds=[0], settings=Settings(epochs=2, hidden=(8,)))
    assert len(study.runs) == 1 and study.settings.hidden == (8,)
    pd.testing.assert_frame_equal(study.history, reference.history)


# -------------------------------------------------------------------------------------- files


def test_save_writes_parquet_csv_and_json_that_read_back_equal(diverging_study, tmp_path) -> None:
    files = diverging_study.save(tmp_path / "out", "st")
    assert [f.name for f in files] == ["st_history.parquet", "st_history.csv", "st_runs.csv", "st_baselines.csv", "st.json"]
    assert all(f.exists() for f in files) and not list((tmp_path / "out").glob("*.partial"))
    history = diverging_study.history
    assert history["loss_value"].isna().any()  # NaN must survive the round trip
    pd.testing.assert_frame_equal(pd.read_parquet(files[0]), history)
    from_csv = pd.read_csv(files[1])
    assert list(from_csv.columns) == list(HISTORY_COLUMNS)
    pd.testing.assert_frame_equal(from_csv, history, check_dtype=False, rtol=1e-6)
    runs = pd.read_csv(files[2])
    runs["collapse_reason"] = runs["collapse_reason"].astype("string").fillna("")  # CSV reads an empty reason as NaN
    assert list(runs.columns) == list(run_columns(diverging_study.plan))
    expected = diverging_study.runs.astype({"diverged_epoch": float})
    pd.testing.assert_frame_equal(runs, expected, check_dtype=False, rtol=1e-6)
    meta = json.loads(files[4].read_text())
    assert meta["problem"] == "regression" and meta["losses"] == [MAPE, MSE] and meta["seeds"] == [0, 1]
    assert meta["settings"]["epochs"] == 6 and meta["settings"]["hidden"] == [25]
    assert meta["n_train"] == 500 and meta["n_test"] == 500


def test_a_number_of_repeats_given_as_seeds_names_the_fix() -> None:
    with pytest.raises(SettingsError, match=r"range\(5\)"):
        losslab.train(BLOBS, ["cce"], seeds=5)


def test_seed_keys_are_jax_prng_keys() -> None:
    import jax

    seeds = [0, 1, 5, 2**31 + 7, 2**32 - 1]
    expected = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])
    np.testing.assert_array_equal(seed_keys(seeds), expected)


def test_other_optimizers_and_deeper_networks_train() -> None:
    settings = default_settings(BLOBS).updated(epochs=20, optimizer="adam", learning_rate=0.01, hidden=(16, 8))
    study = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=[0], settings=settings)
    assert study.runs["test_metric"].item() > 0.7


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adamw"])
def test_each_optimizer_steps_as_optax_applied_by_hand(optimizer: str) -> None:
    """Full-batch training (batch_size >= the training rows: one step per epoch) against the same
    optax optimizer applied by hand to ``jax.grad`` of the mean squared error, from the initial
    parameters ``MLP.init`` gives the seed's key. Two steps, so that SGD's momentum (0.9, the
    default) and the other optimizers' running statistics take part, not only their first step."""
    import jax
    import jax.numpy as jnp
    import optax

    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    problem = Problem.from_arrays(X, X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40), kind="regression")
    settings = Settings(epochs=2, learning_rate=0.05, batch_size=64, hidden=(6,), optimizer=optimizer)
    history = losslab.train(problem, ["mean_squared_error"], seeds=[3], settings=settings, split="fixed", validation=0).history

    model = MLP(hidden=(6,), activation="relu")
    params = model.init(jnp.asarray(seed_keys([3])), problem.n_features, 1)
    train = jnp.asarray(problem.X_train, jnp.float32), jnp.asarray(problem.y_train, jnp.float32)
    test = jnp.asarray(problem.X_test, jnp.float32), jnp.asarray(problem.y_test, jnp.float32)

    def mean_loss(params, X, y):
        z, _ = model.forward(params, X)  # (runs, 1 unit, rows)
        return jnp.mean((z[0, 0] - y) ** 2)

    by_hand = {  # written out, not looked up by name as the engine does, so a wrong mapping fails
        "sgd": lambda: optax.sgd(0.05, momentum=0.9), "adam": lambda: optax.adam(0.05),
        "rmsprop": lambda: optax.rmsprop(0.05), "adagrad": lambda: optax.adagrad(0.05), "adamw": lambda: optax.adamw(0.05),
    }[optimizer]()
    state = by_hand.init(params)
    expected = []
    for _ in range(2):
        updates, state = by_hand.update(jax.grad(mean_loss)(params, *train), state, params)
        params = optax.apply_updates(params, updates)
        expected.append([float(mean_loss(params, *train)), float(mean_loss(params, *test))])

    reported = history.pivot_table(index="epoch", columns="split", values="loss_value")[["train", "test"]]
    np.testing.assert_allclose(reported.to_numpy(), expected, rtol=1e-5)
