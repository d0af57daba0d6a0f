"""The training engine: tables, pairing, batching, determinism, divergence, learning."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import losslab
from losslab.engine import CHUNK, seed_keys
from losslab.engine._model import init_mlp
from losslab.engine._program import batches, epoch_orders
from losslab.errors import IncompatibleLossError, SettingsError, UnknownNameError
from losslab.results import HISTORY_COLUMNS, RUN_COLUMNS
from losslab.settings import Settings

BLOBS = losslab.get_problem("blobs")


@pytest.fixture(scope="module")
def small_study() -> losslab.Study:
    return losslab.train(BLOBS, ["categorical_crossentropy", "sparse_categorical_crossentropy"], seeds=[0, 1, 2],
                         settings=BLOBS.defaults.updated(epochs=4))


def test_tables_have_the_documented_columns_and_one_row_per_run_epoch_and_split(small_study) -> None:
    assert tuple(small_study.history.columns) == HISTORY_COLUMNS
    assert tuple(small_study.runs.columns) == RUN_COLUMNS
    assert len(small_study.history) == 2 * 3 * 4 * 2
    assert len(small_study.runs) == 6
    assert small_study.runs[["loss", "seed"]].values.tolist() == [
        ["categorical_crossentropy", 0], ["categorical_crossentropy", 1], ["categorical_crossentropy", 2],
        ["sparse_categorical_crossentropy", 0], ["sparse_categorical_crossentropy", 1], ["sparse_categorical_crossentropy", 2],
    ]
    assert set(small_study.history["split"]) == {"train", "test"}
    assert small_study.history["epoch"].between(1, 4).all()
    accuracy = small_study.history["metric_value"]
    assert ((accuracy >= 0) & (accuracy <= 1)).all() and (small_study.history["metric"] == "accuracy").all()


def test_final_scores_are_the_last_epoch_of_the_history(small_study) -> None:
    last = small_study.history.query("epoch == 4 and split == 'test'").set_index(["loss", "seed"])["metric_value"]
    runs = small_study.runs.set_index(["loss", "seed"])["test_metric"]
    pd.testing.assert_series_equal(last.sort_index(), runs.sort_index(), check_names=False)


def test_cce_and_sparse_cce_give_identical_histories_on_paired_seeds(small_study) -> None:
    history = small_study.history
    cce = history[history["loss"] == "categorical_crossentropy"]["metric_value"].to_numpy()
    sparse = history[history["loss"] == "sparse_categorical_crossentropy"]["metric_value"].to_numpy()
    np.testing.assert_array_equal(cce, sparse)


def test_paired_seeds_share_initial_hidden_weights_whatever_the_output_size() -> None:
    key = seed_keys([3])[0]
    one_unit, three_units = init_mlp(key, 2, (50,), 1), init_mlp(key, 2, (50,), 3)
    np.testing.assert_array_equal(one_unit[0][0], three_units[0][0])
    other_seed = init_mlp(seed_keys([4])[0], 2, (50,), 3)
    assert not np.array_equal(other_seed[0][0], three_units[0][0])


def test_initial_weights_follow_keras_initialisers() -> None:
    (W1, b1), (W2, b2) = init_mlp(seed_keys([0])[0], 20, (500,), 300)
    assert np.abs(W1).max() <= np.sqrt(6 / 20) and np.abs(W1).max() > 0.9 * np.sqrt(6 / 20)  # he_uniform
    assert np.abs(W2).max() <= np.sqrt(6 / 800) and np.abs(W2).max() > 0.9 * np.sqrt(6 / 800)  # glorot_uniform
    assert not b1.any() and not b2.any()


def test_batch_order_depends_on_the_seed_only_and_is_reshuffled_every_epoch() -> None:
    orders = epoch_orders(5, epochs=3, n_rows=500)
    np.testing.assert_array_equal(orders, epoch_orders(5, epochs=3, n_rows=500))
    assert all(sorted(order) == list(range(500)) for order in orders)
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[0], epoch_orders(6, epochs=3, n_rows=500)[0])


def test_500_rows_in_batches_of_32_make_16_updates_with_a_last_batch_of_20() -> None:
    rows, mask = batches(np.arange(500, dtype=np.int32), 32)
    assert rows.shape == (16, 32) and mask.shape == (16, 32)
    assert float(mask.sum()) == 500 and float(mask[-1].sum()) == 20 and float(mask[0].sum()) == 32
    assert sorted(np.asarray(rows)[np.asarray(mask) > 0].tolist()) == list(range(500))


def test_the_same_call_gives_a_bitwise_identical_history() -> None:
    settings = BLOBS.defaults.updated(epochs=3)
    first = losslab.train(BLOBS, ["kl_divergence"], seeds=[1, 2], settings=settings).history
    second = losslab.train(BLOBS, ["kl_divergence"], seeds=[1, 2], settings=settings).history
    for column in ("loss_value", "metric_value"):
        np.testing.assert_array_equal(first[column].to_numpy(), second[column].to_numpy())


def test_a_seed_gives_the_same_run_whatever_else_is_in_the_study() -> None:
    settings = BLOBS.defaults.updated(epochs=3)
    alone = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=[3], settings=settings).runs
    among = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=list(range(CHUNK + 2)), settings=settings).runs
    assert alone["test_loss"].item() == among.set_index("seed").loc[3, "test_loss"]


def test_a_diverging_run_is_marked_and_the_others_complete() -> None:
    regression = losslab.get_problem("regression")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study = losslab.train(regression, ["mean_absolute_percentage_error", "mean_squared_error"], seeds=[0, 1],
                              settings=regression.defaults.updated(epochs=5))
    runs = study.runs.set_index("loss")
    mape, mse = runs.loc["mean_absolute_percentage_error"], runs.loc["mean_squared_error"]
    assert mape["diverged"].all() and (mape["diverged_epoch"] >= 1).all()
    assert not mse["diverged"].any() and np.isfinite(mse["test_metric"]).all()
    history = study.history[study.history["loss"] == "mean_absolute_percentage_error"]
    first = int(mape["diverged_epoch"].iloc[0])
    assert history[(history["seed"] == 0) & (history["epoch"] >= first)]["loss_value"].isna().all()


def test_a_huge_learning_rate_diverges_without_touching_other_seeds() -> None:
    study = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=[0, 1],
                          settings=BLOBS.defaults.updated(epochs=3, learning_rate=1e30))
    assert study.runs["diverged"].all()


def test_blobs_with_categorical_crossentropy_learns() -> None:
    study = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=range(5))
    assert study.runs["test_metric"].mean() >= 0.78
    assert study.timings["train_s"] > 0 and study.timings["compile_s"] >= 0


def test_other_optimizers_and_deeper_networks_train() -> None:
    settings = BLOBS.defaults.updated(epochs=20, optimizer="adam", learning_rate=0.01, hidden=(16, 8))
    study = losslab.train(BLOBS, ["categorical_crossentropy"], seeds=[0], settings=settings)
    assert study.runs["test_metric"].item() > 0.7


def test_bad_requests_raise_the_library_errors() -> None:
    with pytest.raises(UnknownNameError, match="mean_squared_error"):
        losslab.train(BLOBS, ["mean_squred_error"])
    with pytest.raises(IncompatibleLossError, match="categorical_hinge"):
        losslab.train(BLOBS, ["hinge"])
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, ["cce"], seeds=[1, 1])
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, ["cce"], seeds=[-1])
    with pytest.raises(SettingsError):
        losslab.train(BLOBS, ["cce", "categorical_crossentropy"])
    for bad in ({"epochs": 0}, {"learning_rate": float("nan")}, {"momentum": 1.5}, {"batch_size": 0}, {"optimizer": "lbfgs"}):
        with pytest.raises(SettingsError):
            Settings(**bad)


def test_save_writes_files_that_read_back(small_study, tmp_path) -> None:
    files = small_study.save(tmp_path, "s")
    assert [f.name for f in files] == ["s_history.parquet", "s_history.csv", "s_runs.csv", "s.json"]
    pd.testing.assert_frame_equal(pd.read_parquet(files[0]), small_study.history)
    back = pd.read_csv(files[1])
    np.testing.assert_allclose(back["loss_value"], small_study.history["loss_value"], rtol=1e-6)
    assert not list(tmp_path.glob("*.partial"))
