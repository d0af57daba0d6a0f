"""Own data and bundled data sets: reading, checking, kind inference and preparation."""

from __future__ import annotations

import re
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest

from losslab.errors import DataError, LosslabError, SettingsError, TargetError, UnknownNameError
from losslab.planning import default_settings, own_data_settings
from losslab.problems import (
    DataNote,
    Problem,
    get_problem,
    infer_kind,
    is_count_like,
    load_table,
    problem_names,
)
from losslab.problems._tabular import BLOCK

# ------------------------------------------------------------------------------------ fixtures


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two numeric features on very different scales, a colour, and three kinds of target."""
    rng = np.random.default_rng(seed)
    a = rng.normal(5.0, 2.0, n)
    b = rng.normal(-100.0, 30.0, n)
    colour = rng.choice(["red", "green", "blue"], n)
    return pd.DataFrame({
        "a": a,
        "b": b,
        "colour": colour,
        "price": 3.0 * a + 0.1 * b + rng.normal(0, 0.5, n) + 50.0,
        "label": np.where(a > 5, "yes", "no"),
    })


def _write_csv(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _numeric_csv(n: int = 20) -> str:
    rows = "\n".join(f"{i},{i * 0.5},{i % 2}" for i in range(n))
    return "x,z,y\n" + rows + "\n"


# ---------------------------------------------------------------------------- reading files


def test_load_table_reads_csv_tsv_and_parquet(tmp_path):
    frame = _frame(30)
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_csv(tmp_path / "d.tsv", index=False, sep="\t")
    frame.to_parquet(tmp_path / "d.parquet")
    for name in ("d.csv", "d.tsv", "d.parquet"):
        loaded = load_table(tmp_path / name)
        assert list(loaded.columns) == list(frame.columns)
        np.testing.assert_allclose(loaded["b"].to_numpy(), frame["b"].to_numpy())


def test_semicolon_csv_is_read_with_its_separator(tmp_path):
    path = _write_csv(tmp_path, "x;y\n1;2\n3;4\n")
    assert list(load_table(path).columns) == ["x", "y"]


def test_missing_file_suggests_a_close_name(tmp_path):
    _write_csv(tmp_path, _numeric_csv(), "iris.csv")
    with pytest.raises(DataError, match="no such file .*did you mean .*iris.csv"):
        load_table(tmp_path / "irsi.csv")


def test_missing_file_without_neighbours(tmp_path):
    with pytest.raises(DataError, match="no such file .*check the path"):
        load_table(tmp_path / "nope" / "data.csv")


def test_directory_is_refused(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_table(tmp_path)


def test_unsupported_extension(tmp_path):
    path = _write_csv(tmp_path, _numeric_csv(), "data.xlsx")
    with pytest.raises(DataError, match=r"unsupported file type \.xlsx.*\.csv, \.tsv or \.parquet"):
        load_table(path)


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    path = _write_csv(tmp_path, text)
    with pytest.raises(DataError, match="is empty"):
        load_table(path)


def test_empty_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_bytes(b"")
    with pytest.raises(DataError, match="is empty"):
        load_table(path)


def test_binary_garbage_as_csv(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(DataError, match="binary data"):
        load_table(path)


def test_parquet_named_csv_is_recognised(tmp_path):
    _frame(20).to_parquet(tmp_path / "d.csv")
    with pytest.raises(DataError, match="Parquet file.*rename"):
        load_table(tmp_path / "d.csv")


def test_garbage_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="cannot read .* as Parquet"):
        load_table(path)


def test_non_utf8_text(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8 text.*0xe9"):
        load_table(path)


def test_ragged_csv_names_the_line(tmp_path):
    path = _write_csv(tmp_path, "x,y\n1,2\n3,4\n5,6,7\n8,9\n")
    with pytest.raises(DataError, match="line 4 has 3 fields but the header has 2"):
        load_table(path)


def test_ragged_first_row_is_not_silently_an_index(tmp_path):
    # pandas alone would make the first column the index and shift every value by one column
    path = _write_csv(tmp_path, "x,y\n1,2,3\n4,5\n")
    with pytest.raises(DataError, match="line 2 has 3 fields"):
        load_table(path)


# ------------------------------------------------------------------------------ bad tables


def test_target_column_missing_suggests_close_names():
    with pytest.raises(DataError, match="no target column 'prise'.*did you mean 'price'.*Columns: a, b"):
        Problem.from_frame(_frame(), target="prise")


def test_missing_values_name_columns_and_counts():
    frame = _frame(50)
    frame.loc[[1, 2, 3], "a"] = np.nan
    frame.loc[7, "b"] = np.inf
    frame.loc[9, "price"] = np.nan
    with pytest.raises(DataError) as info:
        Problem.from_frame(frame, "price")
    message = str(info.value)
    assert "'a' (3 missing)" in message
    assert "'b' (1 infinite)" in message
    assert "target 'price' (1 missing)" in message
    assert "5 of 50 rows" in message and "dropna=True" in message
    assert "\n" not in message


def test_dropna_drops_and_records_rows():
    frame = _frame(50)
    frame.loc[[1, 2, 3], "a"] = np.nan
    frame.loc[7, "b"] = -np.inf
    frame.loc[1, "colour"] = None  # same row as a missing 'a': counted once
    problem = Problem.from_frame(frame, "price", dropna=True)
    assert problem.preparation["dropped_rows"] == 4
    assert problem.preparation["dropped_by_column"] == {"a": 3, "b": 1, "colour": 1}
    assert problem.n_train + problem.n_test == 46
    assert np.isfinite(problem.X_train).all() and np.isfinite(problem.X_test).all()


def test_a_repeated_index_does_not_confuse_rows():
    frame = _frame(60)
    frame.index = [0, 1] * 30
    frame.loc[frame.index[:1], "a"] = np.nan  # label 0: every other row
    problem = Problem.from_frame(frame, "price", dropna=True)
    assert problem.preparation["dropped_rows"] == 30
    assert problem.n_train + problem.n_test == 30


def test_missing_values_in_a_csv(tmp_path):
    path = _write_csv(tmp_path, _numeric_csv().replace("3,1.5,1", "3,,1"))
    with pytest.raises(DataError, match="'z' \\(1 missing\\)"):
        Problem.from_file(path, "y")
    assert Problem.from_file(path, "y", dropna=True).preparation["dropped_rows"] == 1


def test_free_text_feature_is_refused():
    frame = _frame(60)
    frame["comment"] = [f"note number {i}" for i in range(60)]
    with pytest.raises(DataError, match="'comment' has 60 different text values in 60 rows.*free text or an ID"):
        Problem.from_frame(frame, "price")


def test_mostly_numeric_text_column_is_refused(tmp_path):
    lines = ["x,y"] + [f"{i * 1.5},{i}" for i in range(30)]
    lines[5] = "abc,4"
    lines[9] = "?,8"
    path = _write_csv(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(DataError, match="'x' is mostly numbers but 2 of 30 values are text \\(e.g. 'abc', '\\?'\\)"):
        Problem.from_file(path, "y")


def test_mixed_python_types_are_refused():
    frame = _frame(40)
    frame["mixed"] = pd.Series([1, "a"] * 20, dtype=object)
    with pytest.raises(DataError, match="'mixed' mixes value types \\(number, text\\)"):
        Problem.from_frame(frame, "price")


def test_dates_are_refused():
    frame = _frame(40)
    frame["when"] = pd.date_range("2024-01-01", periods=40)
    with pytest.raises(DataError, match="'when' holds dates"):
        Problem.from_frame(frame, "price")


def test_single_class_target():
    frame = _frame(40).assign(label="yes")
    with pytest.raises(TargetError, match="only one class \\('yes'\\) in all 40 rows"):
        Problem.from_frame(frame, "label")


def test_constant_numeric_target():
    frame = _frame(40).assign(price=2.5)
    with pytest.raises(TargetError, match="same value \\(2.5\\) in all 40 rows; nothing to predict"):
        Problem.from_frame(frame, "price")
    with pytest.raises(TargetError, match="only one class \\('1'\\)"):
        Problem.from_frame(frame.assign(price=1), "price", kind="binary")


def test_class_too_small_for_stratified_split():
    frame = _frame(40)
    frame.loc[0, "label"] = "maybe"
    with pytest.raises(TargetError, match="class 'maybe' \\(1 row\\) of target 'label' has fewer than 2 rows"):
        Problem.from_frame(frame, "label")
    frame.loc[1, "label"] = "never"
    with pytest.raises(TargetError, match="classes 'maybe' \\(1 row\\), 'never' \\(1 row\\) .* have fewer"):
        Problem.from_frame(frame, "label")


def test_too_few_rows():
    with pytest.raises(DataError, match="only 9 rows; losslab needs at least 10"):
        Problem.from_frame(_frame(9), "price")


def test_too_few_rows_after_dropping():
    frame = _frame(12)
    frame.loc[[0, 1, 2], "a"] = np.nan
    with pytest.raises(DataError, match="only 9 rows after dropping 3 with missing values"):
        Problem.from_frame(frame, "price", dropna=True)


def test_header_only_csv(tmp_path):
    path = _write_csv(tmp_path, "x,y\n")
    with pytest.raises(DataError, match="only 0 rows"):
        Problem.from_file(path, "y")


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.2, "0.2", True])
def test_test_size_out_of_range(test_size):
    with pytest.raises(SettingsError, match="test_size must be a fraction between 0 and 1"):
        Problem.from_frame(_frame(), "price", test_size=test_size)


def test_test_size_too_small_for_every_class():
    frame = _frame(40)
    frame["label"] = ["a", "b", "c", "d"] * 10
    with pytest.raises(SettingsError, match="gives 2 test rows for 4 classes.*larger test_size"):
        Problem.from_frame(frame, "label", test_size=0.05)


def test_unknown_kind_and_wrong_kind():
    with pytest.raises(DataError, match="kind must be one of regression, binary, multiclass"):
        Problem.from_frame(_frame(), "price", kind="classification")
    with pytest.raises(TargetError, match="holds labels such as .*cannot be a regression target"):
        Problem.from_frame(_frame(), "label", kind="regression")
    frame = _frame(60).assign(label=["a", "b", "c"] * 20)
    with pytest.raises(TargetError, match="kind='binary' needs exactly two classes.*has 3.*use kind='multiclass'"):
        Problem.from_frame(frame, "label", kind="binary")
    with pytest.raises(TargetError, match=r"kind='binary' needs exactly two classes.*use kind='regression' \(--kind regression"):
        Problem.from_frame(_frame(), "price", kind="binary")  # a price in every row: an amount
    with pytest.raises(TargetError, match="too many to be classes; use kind='regression'"):
        Problem.from_frame(_frame(), "price", kind="multiclass")


def test_no_feature_columns_and_duplicates():
    with pytest.raises(DataError, match="no feature columns"):
        Problem.from_frame(pd.DataFrame({"y": np.arange(20.0)}), "y")
    frame = pd.DataFrame(np.ones((20, 3)), columns=["a", "a", "y"])
    with pytest.raises(DataError, match="duplicate column names 'a'"):
        Problem.from_frame(frame, "y")


def test_errors_are_one_line_losslab_errors(tmp_path):
    cases = [
        lambda: load_table(tmp_path / "missing.csv"),
        lambda: Problem.from_frame(_frame(), "nope"),
        lambda: Problem.from_frame(_frame(5), "price"),
        lambda: Problem.from_arrays(np.ones(20), np.ones(20)),
    ]
    for case in cases:
        with pytest.raises(LosslabError) as info:
            case()
        assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- kind inference


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (np.linspace(0.1, 9.9, 50), "regression"),
        ([0.0, 1.0] * 25, "binary"),
        ([0.5, 1.5] * 25, "binary"),
        ([1, 2, 3, 4, 5] * 10, "multiclass"),
        ([1.0, 2.0, 3.0] * 10, "multiclass"),
        (list(range(30)) * 2, "regression"),  # more than 20 whole numbers: a quantity
        (list(range(12)), "regression"),  # whole numbers that do not repeat: a quantity
        ([True, False] * 25, "binary"),
        (["cat", "dog"] * 25, "binary"),
        (["a", "b", "c"] * 10, "multiclass"),
        (pd.Categorical(["lo", "mid", "hi"] * 10), "multiclass"),
    ],
)
def test_infer_kind(values, kind):
    assert infer_kind(values) == kind


def test_kind_inferred_for_float_int_string_and_bool_targets():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    assert Problem.from_arrays(X, rng.normal(size=60)).kind == "regression"
    counts = Problem.from_arrays(X, np.arange(60) % 4)
    assert (counts.kind, counts.n_classes, counts.class_names) == ("multiclass", 4, ("0", "1", "2", "3"))
    words = Problem.from_arrays(X, np.array(["b", "a", "c"] * 20))
    assert (words.kind, words.class_names) == ("multiclass", ("a", "b", "c"))
    flags = Problem.from_arrays(X, np.arange(60) % 3 == 0)
    assert (flags.kind, flags.class_names) == ("binary", ("False", "True"))
    assert flags.preparation["kind_from"] == "inferred from the target"


def test_kind_override_turns_counts_into_regression():
    rng = np.random.default_rng(2)
    problem = Problem.from_arrays(rng.normal(size=(60, 2)), np.arange(60) % 5, kind="regression")
    assert problem.kind == "regression" and problem.n_classes is None
    assert problem.preparation["kind_from"] == "given"


def test_string_labels_map_to_indices():
    frame = _frame(80)
    problem = Problem.from_frame(frame, "label")
    assert problem.kind == "binary" and problem.class_names == ("no", "yes")
    assert problem.y_train.dtype == np.int64 and set(np.unique(problem.y_train)) == {0, 1}
    # the labels follow the rows: 'yes' (index 1) exactly where a > 5 in the original data
    a_train = problem.X_train[:, 0] * problem.preparation["scaler_std"][0] + problem.preparation["scaler_mean"][0]
    np.testing.assert_array_equal(problem.y_train, (a_train > 5).astype(int))


def test_categorical_target_keeps_category_order():
    frame = _frame(60).assign(size=pd.Categorical(["small", "large", "medium"] * 20,
                                                  categories=["small", "medium", "large"]))
    problem = Problem.from_frame(frame.drop(columns=["label"]), "size")
    assert problem.class_names == ("small", "medium", "large")


# ------------------------------------------------------------------------------ preparation


def test_stratified_split_keeps_class_proportions():
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], [200, 60, 140])
    problem = Problem.from_arrays(rng.normal(size=(400, 3)), y, test_size=0.25, seed=4)
    assert problem.preparation["stratified"] is True
    assert (problem.n_train, problem.n_test) == (300, 100)
    np.testing.assert_array_equal(np.bincount(problem.y_test), [50, 15, 35])
    np.testing.assert_array_equal(np.bincount(problem.y_train), [150, 45, 105])


def test_split_depends_on_seed_and_is_reproducible():
    frame = _frame()
    first = Problem.from_frame(frame, "price", seed=1)
    again = Problem.from_frame(frame, "price", seed=1)
    other = Problem.from_frame(frame, "price", seed=2)
    np.testing.assert_array_equal(first.X_train, again.X_train)
    assert not np.array_equal(first.X_train, other.X_train)
    assert first.preparation["stratified"] is False


def test_scaler_is_fitted_on_training_rows_only():
    problem = Problem.from_frame(_frame(400), "price", test_size=0.3)
    numeric = list(problem.preparation["scaled_columns"])
    assert numeric == ["a", "b"]
    train, test = problem.X_train[:, :2].astype(np.float64), problem.X_test[:, :2].astype(np.float64)
    # standardised in float64, then kept as float32 (the engine's precision): each value within 6e-8
    np.testing.assert_allclose(train.mean(axis=0), 0.0, atol=1e-7)
    np.testing.assert_allclose(train.std(axis=0), 1.0, atol=1e-7)
    assert np.all(np.abs(test.mean(axis=0)) > 1e-6)  # scaled with the training statistics, not its own
    assert np.all(np.abs(test.std(axis=0) - 1.0) > 1e-6)
    frame = _frame(400)
    b_train_mean = problem.preparation["scaler_mean"][1]
    assert b_train_mean != pytest.approx(frame["b"].mean(), abs=1e-9)
    assert b_train_mean == pytest.approx(-100.0, abs=5.0)


def test_one_hot_columns_and_values():
    problem = Problem.from_frame(_frame(120).drop(columns=["label"]), "price")
    assert problem.feature_names == ("a", "b", "colour_blue", "colour_green", "colour_red")
    assert problem.preparation["one_hot"] == {"colour": ["blue", "green", "red"]}
    assert problem.preparation["one_hot_columns"] == ["colour_blue", "colour_green", "colour_red"]
    one_hot = np.vstack([problem.X_train[:, 2:], problem.X_test[:, 2:]])
    assert set(np.unique(one_hot)) == {0.0, 1.0}
    np.testing.assert_array_equal(one_hot.sum(axis=1), 1.0)


def test_bool_feature_is_one_hot_encoded():
    frame = _frame(40).assign(flag=[True, False, False, True] * 10)
    problem = Problem.from_frame(frame.drop(columns=["colour"]), "price")
    assert problem.feature_names[-2:] == ("flag_False", "flag_True")


def test_category_unseen_in_training_encodes_as_zeros():
    frame = _frame(40)
    frame["colour"] = ["red", "blue"] * 20
    frame.loc[5, "colour"] = "green"  # one row: lands in train or test
    for seed in range(20):
        problem = Problem.from_frame(frame.drop(columns=["label"]), "price", seed=seed)
        if problem.preparation["one_hot"]["colour"] == ["blue", "red"]:
            break
    else:
        pytest.fail("the 'green' row was in the training rows for every seed")
    rows = problem.X_test[:, 2:].sum(axis=1)
    assert np.sum(rows == 0) == 1 and np.sum(rows == 1) == problem.n_test - 1


def test_regression_target_standardised_on_train():
    frame = _frame(300)
    problem = Problem.from_frame(frame, "price")
    prep = problem.preparation
    np.testing.assert_allclose(problem.y_train.mean(), 0.0, atol=1e-12)
    np.testing.assert_allclose(problem.y_train.std(), 1.0, atol=1e-12)
    assert prep["target_standardized"] is True
    assert problem.target_scale == pytest.approx(prep["target_std"])
    # the scale undoes the standardisation, so an MSE times target_scale**2 is in price units
    raw_test = problem.y_test * problem.target_scale + prep["target_mean"]
    assert raw_test.min() >= frame["price"].min() - 1e-9 and raw_test.max() <= frame["price"].max() + 1e-9
    assert prep["y_raw_min"] == pytest.approx(frame["price"].min())
    assert prep["y_raw_max"] == pytest.approx(frame["price"].max())
    assert prep["y_raw_negative"] == int((frame["price"] < 0).sum())
    assert problem.target_policy == "error"


def test_target_scale_turns_mse_into_target_units():
    frame = _frame(300)
    uncentred = Problem.from_frame(frame, "price", center_target=False)
    scaled = Problem.from_frame(frame, "price")
    np.testing.assert_array_equal(uncentred.X_test, scaled.X_test)
    raw_y_test = uncentred.y_test * uncentred.target_scale
    predict = raw_y_test.mean()  # a constant guess, in raw units
    mse_raw = np.mean((raw_y_test - predict) ** 2)
    guess_scaled = (predict - scaled.preparation["target_mean"]) / scaled.target_scale
    mse_scaled = np.mean((scaled.y_test - guess_scaled) ** 2)
    assert mse_scaled * scaled.target_scale**2 == pytest.approx(mse_raw, rel=1e-10)


def test_center_target_false_only_divides_by_the_training_std():
    frame = _frame(100)
    problem = Problem.from_frame(frame, "price", center_target=False)
    assert problem.preparation["target_standardized"] is False
    assert problem.preparation["target_mean"] is None
    prices = frame["price"].to_numpy()
    # each training target times the scale is the price of a different row (to rounding: an exact
    # isin() misses some), so the scale is the standard deviation of the 75 training prices
    rows = np.abs(prices[None, :] - (problem.y_train * problem.target_scale)[:, None]).argmin(axis=1)
    np.testing.assert_allclose(problem.y_train * problem.target_scale, prices[rows], rtol=1e-12)
    assert len(set(rows)) == problem.n_train == 75
    assert problem.target_scale == pytest.approx(problem.preparation["target_std"])
    restored = np.sort(np.concatenate([problem.y_train, problem.y_test]) * problem.target_scale)
    np.testing.assert_allclose(restored, np.sort(frame["price"].to_numpy()), rtol=1e-12)
    assert np.sign(restored).tolist() == np.sign(np.sort(frame["price"].to_numpy())).tolist()
    assert problem.target_scale == pytest.approx(np.std(prices[rows]), rel=1e-12)
    assert problem.target_scale != pytest.approx(np.std(prices), rel=1e-3)  # not all 100 rows' deviation


def test_from_arrays():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 3))
    y = (X[:, 0] > 0).astype(int)
    problem = Problem.from_arrays(X, y, feature_names=["f", "g", "h"], name="toy", test_size=0.2)
    assert (problem.name, problem.kind, problem.n_classes) == ("toy", "binary", 2)
    assert problem.feature_names == ("f", "g", "h")
    assert (problem.n_train, problem.n_test) == (80, 20)
    assert problem.X_train.dtype == np.float32 and problem.X_train.shape == (80, 3)  # the engine's precision
    with pytest.raises(DataError, match="X has 100 rows but y has 99"):
        Problem.from_arrays(X, y[:-1])
    with pytest.raises(DataError, match="X must be 2-D.*reshape\\(-1, 1\\)"):
        Problem.from_arrays(X[:, 0], y)


def test_from_file_names_problem_after_file(tmp_path):
    path = tmp_path / "houses.csv"
    _frame(50).to_csv(path, index=False)
    problem = Problem.from_file(path, "price")
    assert problem.name == "houses"
    assert problem.preparation["source"] == str(path)
    assert problem.target_name == "price"


def test_own_data_defaults_scale_epochs_with_rows():
    assert own_data_settings(500).epochs == 20  # 400 / 16 batches = 25, rounded to tens
    assert own_data_settings(112).epochs == 100  # 4 batches
    assert own_data_settings(40).epochs == 200  # 2 batches
    assert own_data_settings(100_000).epochs == 20  # floor
    assert own_data_settings(10).epochs == 400
    assert own_data_settings(20).epochs == 400  # 1 batch
    assert own_data_settings(500).hidden == (50,)
    problem = Problem.from_frame(_frame(), "price")
    assert default_settings(problem) == own_data_settings(problem.n_train)
    assert own_data_settings(500, batch_size=128).epochs == 100  # 4 batches of 128, not 16 of 32
    assert own_data_settings(500, batch_size=128).batch_size == 128
    assert default_settings(problem, 128) == own_data_settings(problem.n_train, 128)
    with pytest.raises(SettingsError, match="batch_size must be a positive integer"):
        own_data_settings(500, batch_size=0)


# ---------------------------------------------------------------------------- named problems


@pytest.mark.parametrize(
    ("name", "kind", "n_classes", "n_features", "n_rows"),
    [
        ("diabetes", "regression", None, 10, 442),
        ("breast_cancer", "binary", 2, 30, 569),
        ("iris", "multiclass", 3, 4, 150),
        ("wine", "multiclass", 3, 13, 178),
        ("digits", "multiclass", 10, 64, 1797),
    ],
)
def test_bundled_datasets(name, kind, n_classes, n_features, n_rows):
    problem = get_problem(name)
    assert (problem.kind, problem.n_classes, problem.n_features) == (kind, n_classes, n_features)
    assert problem.n_train + problem.n_test == n_rows
    assert problem.preparation["scaler"] == "StandardScaler fitted on the training rows"
    np.testing.assert_allclose(problem.X_train.mean(axis=0, dtype=np.float64), 0.0, atol=1e-7)  # float32 values
    if kind == "regression":
        assert problem.target_scale > 1.0
    else:
        assert problem.preparation["stratified"] is True
        assert len(np.unique(problem.y_test)) == n_classes


def test_bundled_class_names_and_options():
    assert get_problem("breast-cancer").class_names == ("malignant", "benign")
    assert get_problem("Iris").class_names == ("setosa", "versicolor", "virginica")
    raw = get_problem("diabetes", center_target=False, test_size=0.5, seed=3)
    assert raw.y_train.min() * raw.target_scale >= 25.0 - 1e-9 and raw.y_train.min() > 0
    assert raw.preparation["seed"] == 3 and raw.n_test == 221


def test_tutorial_problems_unchanged_and_fixed():
    assert problem_names()[:3] == ["regression", "circles", "blobs"]
    assert {"diabetes", "breast_cancer", "iris", "wine", "digits"} <= set(problem_names())
    regression = get_problem("regression")
    assert (regression.n_train, regression.target_policy) == (500, "warn")
    assert get_problem("circles").target_policy == "error"
    with pytest.raises(DataError, match="tutorial problem 'circles' is fixed.*seed cannot be set"):
        get_problem("circles", seed=1)
    with pytest.raises(UnknownNameError, match="did you mean 'digits'"):
        get_problem("digit")


# ------------------------------------------------------------- truncated files and split seeds


def _compressed_csv(tmp_path, suffix: str):
    path = tmp_path / f"data.csv{suffix}"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("suffix", "kind"), [(".gz", "gzip"), (".bz2", "bzip2"), (".zip", "zip"), (".xz", "xz")])
def test_a_truncated_compressed_csv_is_a_data_error_naming_the_file_and_the_fix(tmp_path, suffix, kind):
    path = _compressed_csv(tmp_path, suffix)
    assert len(load_table(path)) == 2000  # whole, it reads
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=rf"data\.csv\{suffix}'.*truncated or not a valid {kind} file.*re-download it"):
        load_table(path)


@pytest.mark.parametrize(("suffix", "kind"), [(".gz", "gzip"), (".bz2", "bzip2"), (".zip", "zip"), (".xz", "xz")])
def test_a_corrupt_or_uncompressed_file_with_a_compression_suffix_is_a_data_error(tmp_path, suffix, kind):
    path = _compressed_csv(tmp_path, suffix)
    data = path.read_bytes()
    path.write_bytes(data[:20] + bytes(400) + data[420:])  # the middle of the stream zeroed
    with pytest.raises(DataError, match=f"truncated or not a valid {kind} file"):
        load_table(path)
    path.write_text("x,y\n1,2\n")  # plain text under a compressed name
    with pytest.raises(DataError, match=f"truncated or not a valid {kind} file"):
        load_table(path)


def test_a_zip_holding_several_files_names_them(tmp_path):
    import zipfile

    path = tmp_path / "data.csv.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train.csv", "x,y\n1,2\n")
        archive.writestr("test.csv", "x,y\n3,4\n")
    with pytest.raises(DataError, match="holds 2 files .*'train.csv', 'test.csv'.*unzip it"):
        load_table(path)


def test_a_truncated_parquet_file_is_a_data_error_naming_the_fix(tmp_path):
    path = tmp_path / "d.parquet"
    _frame(200).to_parquet(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=r"'.*d\.parquet' as Parquet: the file is truncated .*write it again or re-download"):
        load_table(path)


@pytest.mark.parametrize("seed", [-1, 2**32, 2.5, True, "3"])
def test_a_split_seed_that_is_not_a_whole_number_in_range_is_refused(seed):
    """Refused at the data check, not by scikit-learn from inside the split (a traceback)."""
    with pytest.raises(SettingsError, match=rf"seed .*whole number from 0 to 2\*\*32 - 1.*got {re.escape(repr(seed))}$"):
        Problem.from_frame(_frame(), "price", seed=seed)
    with pytest.raises(SettingsError, match="--split-seed"):
        get_problem("iris", seed=seed)


def test_a_split_seed_of_none_is_refused_not_drawn_at_random():
    """``random_state=None`` would give a different split on every call."""
    with pytest.raises(SettingsError, match="got None"):
        Problem.from_frame(_frame(), "price", seed=None)


def test_the_largest_split_seed_is_accepted():
    problem = Problem.from_frame(_frame(), "label", seed=np.int64(2**32 - 1))
    assert problem.preparation["seed"] == 2**32 - 1


def test_a_semicolon_file_with_decimal_commas_is_read_as_meant(tmp_path) -> None:
    (tmp_path / "eu.csv").write_text("size;rooms;city;price\n55,5;2;Paris;310000,5\n72,0;3;Lyon;250000\n40,25;1;Paris;199000\n")
    frame = load_table(tmp_path / "eu.csv")
    assert list(frame.columns) == ["size", "rooms", "city", "price"]
    assert frame["size"].tolist() == [55.5, 72.0, 40.25] and frame["price"].tolist() == [310000.5, 250000.0, 199000.0]
    (tmp_path / "dot.csv").write_text("size;price\n55.5;310000\n72.0;250000\n")
    assert load_table(tmp_path / "dot.csv")["size"].tolist() == [55.5, 72.0]  # dots stay decimal points
    (tmp_path / "quoted.csv").write_text('a,b\n"1,5",2\n"3,5",4\n')
    assert load_table(tmp_path / "quoted.csv")["a"].tolist() == ["1,5", "3,5"]  # a comma file keeps its text


# ------------------------------------------------------------------------- choosing the features


def test_features_names_the_columns_to_use_in_that_order():
    problem = Problem.from_frame(_frame(60), "price", features=["colour", "a"])
    assert problem.feature_names == ("a", "colour_blue", "colour_green", "colour_red")  # numbers first, as always
    assert problem.preparation["dropped_columns"] == {"b": "not named in features", "label": "not named in features"}


def test_drop_leaves_columns_out_and_records_them():
    problem = Problem.from_frame(_frame(60), "price", drop=["b", "label"])
    assert problem.feature_names == ("a", "colour_blue", "colour_green", "colour_red")
    assert problem.preparation["dropped_columns"] == {"b": "named in drop", "label": "named in drop"}
    assert Problem.from_frame(_frame(60), "price").preparation["dropped_columns"] == {}


def test_features_and_drop_in_from_arrays_use_the_feature_names():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    assert Problem.from_arrays(X, X[:, 1], features=["x1", "x2"]).feature_names == ("x1", "x2")
    named = Problem.from_arrays(X, X[:, 1], feature_names=["f", "g", "h"], drop=["g"])
    assert named.feature_names == ("f", "h")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"features": ["a", "colur"]}, "features names 'colur', which is not a column of the data; did you mean 'colour'"
                                       r"\? Columns: "),
        ({"drop": ["prise"]}, "drop names 'prise', which is not a column .*did you mean 'price'"),
        ({"features": ["a", "price"]}, "features names the target column 'price'; the target is never a feature"),
        ({"drop": ["price"]}, "drop names the target column 'price'"),
        ({"features": ["a", "b"], "drop": ["b"]}, "column 'b' is named in both features and drop"),
        ({"features": []}, "features is empty; name the feature columns to use, or leave features out"),
        ({"features": "a"}, r"features must be a list of column names, e.g. features=\['a'\]; got 'a'"),
        ({"drop": 3}, r"drop must be a list of column names, e.g. drop=\['column'\]; got 3"),
        ({"drop": ["a", "b", "colour", "label"]}, "no feature columns are left besides the target 'price' "
                                                  r"\(left out: 'a', 'b', 'colour', 'label'\); name the columns"),
    ],
)
def test_bad_feature_choices_are_refused_with_the_fix(options, message):
    with pytest.raises(DataError, match=message) as info:
        Problem.from_frame(_frame(40), "price", **options)
    assert "\n" not in str(info.value)


# ------------------------------------------------- columns a file holds that cannot help predict


def _messy_csv(tmp_path, n: int = 40):
    """A CSV with a row ID, pandas' index, a constant, an empty column and a separator at the end of each line."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({
        "id": np.arange(1, n + 1),
        "code": [f"C-{i:04d}" for i in rng.permutation(n)],
        "size": rng.uniform(50, 200, n).round(2),
        "country": "FR",
        "notes": np.nan,
        "y": rng.normal(size=n).round(3),
    })
    path = tmp_path / "messy.csv"
    text = frame.sample(frac=1, random_state=1).to_csv()  # shuffled: the index is still 0..n-1, out of order
    path.write_text("".join(line + ",\n" for line in text.splitlines()))
    return path


def test_row_ids_constants_and_empty_columns_of_a_file_are_left_out_with_a_note(tmp_path):
    with pytest.warns(DataNote) as notes:
        problem = Problem.from_file(_messy_csv(tmp_path), "y")
    assert problem.feature_names == ("size",)
    dropped = dict(problem.preparation["dropped_columns"])
    assert re.fullmatch(r"a row ID \(a different text in every row, such as 'C-00\d\d'\)", dropped.pop("code"))
    assert dropped == {
        "Unnamed: 0": "a row ID (a different whole number in every row, 0 to 39)",
        "id": "a row ID (a different whole number in every row, 1 to 40)",
        "country": "constant (the same value, FR, in every row)",
        "notes": "empty (no values)",
        "Unnamed: 7": "empty, with no header and no values (a separator at the end of each line makes one)",
    }
    [note] = [str(n.message) for n in notes if n.category is DataNote]
    assert note.startswith("left out 6 columns that cannot help predict: 'Unnamed: 0' is a row ID")
    assert note.endswith("to choose the feature columns yourself, pass features=[...] (--features on the command line)")
    assert "'notes' is empty (no values)" in note and "\n" not in note


def test_a_row_id_named_in_features_is_kept_but_a_constant_or_empty_one_is_refused(tmp_path):
    path = _messy_csv(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNote)  # named columns are used as they are, with no note
        problem = Problem.from_file(path, "y", features=["id", "size"])
    assert problem.feature_names == ("id", "size")
    with pytest.raises(DataError, match=r"feature column 'country' is constant \(the same value, FR, in every row\), so "
                                        "it cannot help predict; take it out of features"):
        Problem.from_file(path, "y", features=["size", "country"])
    with pytest.raises(DataError, match="feature column 'notes' is empty \\(no values\\), so it cannot help predict"):
        Problem.from_file(path, "y", features=["notes"])


def test_only_files_have_columns_left_out_a_dataframe_is_taken_as_it_is(tmp_path):
    frame = pd.read_csv(_messy_csv(tmp_path)).drop(columns=["notes", "Unnamed: 7"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNote)
        problem = Problem.from_frame(frame, "y", drop=["code"])
    assert "id" in problem.feature_names and "country_FR" in problem.feature_names


def test_short_tables_gaps_and_spaces_are_no_row_ids(tmp_path):
    rng = np.random.default_rng(2)
    n = 30
    frame = pd.DataFrame({
        "step": np.arange(n),  # 0..n-1, but in a file too short to tell an ID from a count
        "year": np.arange(1990, 1990 + n),  # a run, but named as a year: a feature
        "sparse": np.arange(n) * 3,  # unique whole numbers with gaps
        "x": rng.normal(size=n),
        "y": rng.normal(size=n),
    })
    frame.iloc[:19].to_csv(tmp_path / "short.csv", index=False)
    assert "step" in Problem.from_file(tmp_path / "short.csv", "y").feature_names
    frame.to_csv(tmp_path / "long.csv", index=False)
    with pytest.warns(DataNote, match="'step' is a row ID"):
        problem = Problem.from_file(tmp_path / "long.csv", "y")
    assert problem.feature_names == ("year", "sparse", "x")
    frame.assign(name=[f"person number {i}" for i in range(n)]).to_csv(tmp_path / "text.csv", index=False)
    with pytest.raises(DataError, match="'name' has 30 different text values in 30 rows.*free text or an ID"):
        Problem.from_file(tmp_path / "text.csv", "y", drop=["step"])  # words with spaces: free text, not an ID


def test_a_run_of_unique_whole_numbers_from_any_start_is_a_row_id_unless_named_as_a_year(tmp_path):
    rng = np.random.default_rng(4)
    n = 250
    frame = pd.DataFrame({
        "customer_id": rng.permutation(np.arange(1000, 1000 + n)),  # contiguous from 1000: an ID
        "order_no": np.delete(np.arange(500, 500 + n + 20), rng.choice(n + 20, 20, replace=False)),  # a few gaps
        "year": np.arange(1770, 1770 + n),  # one row per year: a feature
        "spend": rng.normal(size=n),
        "y": rng.normal(size=n),
    })
    frame.to_csv(tmp_path / "customers.csv", index=False)
    with pytest.warns(DataNote, match="'customer_id' is a row ID"):
        problem = Problem.from_file(tmp_path / "customers.csv", "y")
    assert problem.feature_names == ("year", "spend")
    dropped = problem.preparation["dropped_columns"]
    assert dropped["customer_id"] == "a row ID (a different whole number in every row, 1000 to 1249)"
    assert dropped["order_no"].startswith("a row ID")


# ------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize("dates", [
    [f"2024-01-{d:02d}" for d in range(1, 29)] * 2,
    [f"{d:02d}/03/2023" for d in range(1, 29)] * 2,
    [f"2023-05-{d:02d}T10:30:00" for d in range(1, 29)] * 2,
    [f"{d} Mar 2023" for d in range(1, 29)] * 2,
])
def test_date_text_is_refused_naming_the_column_and_the_fix(tmp_path, dates):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"when": dates, "x": rng.normal(size=56), "y": rng.normal(size=56)})
    frame.loc[5, "when"] = "unknown"  # nearly every row is enough
    frame.to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(DataError, match=r"feature column 'when' holds dates \(e.g. '.+'\); leave the column out with "
                                        r"drop=\['when'\] \(--drop on the command line\), or derive numbers from it "
                                        "yourself, such as the year"):
        Problem.from_file(tmp_path / "d.csv", "y")
    assert Problem.from_file(tmp_path / "d.csv", "y", drop=["when"]).feature_names == ("x",)


def test_datetime_columns_and_parquet_dates_are_refused(tmp_path):
    frame = _frame(40).assign(when=pd.date_range("2024-01-01", periods=40))
    with pytest.raises(DataError, match=r"'when' holds dates or times; leave the column out with drop=\['when'\]"):
        Problem.from_frame(frame, "price")
    frame.assign(day=frame["when"].dt.date).drop(columns="when").to_parquet(tmp_path / "d.parquet")
    with pytest.raises(DataError, match=r"feature column 'day' holds dates; leave the column out"):
        Problem.from_file(tmp_path / "d.parquet", "price")


def test_text_with_a_few_dates_is_a_category():
    frame = _frame(60).assign(shift=["early", "late", "2024-01-01"] * 20)
    assert "shift_2024-01-01" in Problem.from_frame(frame, "price").feature_names


# ------------------------------------------------------------------- numbers with stray text


def test_a_numeric_target_with_a_few_text_values_is_refused_naming_them(tmp_path):
    lines = ["x,y"] + [f"{i * 0.7},{i % 3}" for i in range(40)]
    lines[8], lines[20] = "5.6,three", "13.3,n.a"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"target 'y' holds numbers except for 2 of its 40 values \('three', 'n.a'\); "
                                        r"correct those values or drop those rows \(if the values are class labels, "
                                        r"pass kind='multiclass', --kind multiclass on the command line\)"):
        Problem.from_file(tmp_path / "d.csv", "y")
    with pytest.raises(DataError, match="holds numbers except for 2"):
        Problem.from_file(tmp_path / "d.csv", "y", kind="regression")
    lines[30] = "20.3,three"
    lines[31] = "20.4,n.a"
    (tmp_path / "labels.csv").write_text("\n".join(lines) + "\n")
    labels = Problem.from_file(tmp_path / "labels.csv", "y", kind="multiclass")  # labels, as the kind says
    assert labels.class_names == ("0", "1", "2", "n.a", "three")


def test_a_numeric_feature_with_a_few_text_values_names_the_drop_fix(tmp_path):
    lines = ["x,z,y"] + [f"{i * 1.5},{i % 4},{i * 0.1}" for i in range(30)]
    lines[3] = "oops,1,0.2"
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"'x' is mostly numbers but 1 of 30 values are text \(e.g. 'oops'\); fix or "
                                        r"blank out those values, or leave the column out with drop=\['x'\]"):
        Problem.from_file(tmp_path / "d.csv", "y")


def test_mostly_text_target_stays_classes():
    frame = _frame(60).assign(grade=["A", "B", "3"] * 20)
    assert Problem.from_frame(frame, "grade").class_names == ("3", "A", "B")


# ------------------------------------------------------------------ whole-number targets: the kind


def _independent_counts(values) -> bool:
    """The definition of counts the registry uses, written out again."""
    from scipy.stats import skew

    values = np.asarray(values, dtype=float)
    distinct = np.unique(values)
    return bool(values.min() >= 0 and len(distinct) >= 5 and (0 in distinct or skew(values, bias=True) >= 1.0))


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([0, 1, 2, 3, 4, 0, 1, 0, 2, 7] * 3, "regression"),  # counts with zeros
        ([1, 1, 1, 1, 2, 2, 3, 4, 9, 15] * 3, "regression"),  # no zero, but skewed right: counts
        ([0, 1, 2, 3] * 10, "multiclass"),  # four values: too few to be counts
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10] * 4, "multiclass"),  # a 1-10 rating: classes, as before
        ([-2, -1, 0, 1, 2] * 8, "multiclass"),  # negative: not counts
        (list(range(1, 26)) * 2, "regression"),  # 25 values, 2 rows each: a quantity
        ([v - 12 for v in range(25)] * 6, "regression"),  # many repeated values, some negative: a quantity
        ([1, 1] * 20, "binary"),  # one value: left to the target checks
        ([3, 7] * 20, "binary"),
    ],
)
def test_whole_number_targets_follow_the_counts_rule(values, kind):
    assert infer_kind(values) == kind
    assert is_count_like(values) == _independent_counts(values)


def test_is_count_like_at_the_skew_threshold():
    from scipy.stats import skew

    below, above = [*range(1, 13), 20], [*range(1, 13), 21]
    assert skew(below, bias=True) < 1.0 <= skew(above, bias=True)
    assert (is_count_like(below), is_count_like(above)) == (False, True)
    assert not is_count_like([True, False, True, True, False]) and not is_count_like([0.5, 1.5, 2, 3, 4])


def test_counts_are_regression_with_a_note_and_kind_multiclass_takes_them_as_labels():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(80, 2))
    y = rng.poisson(2.0, 80)
    assert len(np.unique(y)) >= 5 and 0 in y
    with pytest.warns(DataNote, match=rf"target 'y' reads as counts \(whole numbers >= 0, {len(np.unique(y))} different "
                                      r"values\), so it is taken as a quantity to predict \(regression\); if they are "
                                      r"class labels, pass kind='multiclass' \(--kind multiclass on the command line\)"):
        counts = Problem.from_arrays(X, y)
    assert counts.kind == "regression" and counts.preparation["kind_from"] == "inferred from the target"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNote)  # an explicit kind wins, with nothing to say
        labels = Problem.from_arrays(X, np.clip(y, 0, 4), kind="multiclass")
        assert labels.kind == "multiclass" and labels.n_classes == 5
        assert Problem.from_arrays(X, y, kind="regression").kind == "regression"


def test_many_repeated_whole_numbers_ask_for_the_kind():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 2))
    y = np.repeat(np.arange(1, 26), 6)  # 25 values from 1, 6 rows each, not skewed: labels or amounts?
    with pytest.raises(DataError, match=r"target 'y' holds 25 different whole numbers from 1 to 25, each in 6 rows on "
                                        r"average, so they could be class labels or a quantity; pass kind='multiclass' "
                                        r"if they are labels or kind='regression' if they are amounts \(--kind"):
        Problem.from_arrays(X, y)
    with pytest.raises(DataError, match="the target holds 25 different whole numbers"):
        infer_kind(y)
    assert Problem.from_arrays(X, y, kind="multiclass").n_classes == 25
    assert Problem.from_arrays(X, y, kind="regression").kind == "regression"


def test_bundled_and_tutorial_problems_keep_their_kinds_without_notes():
    expected = {"diabetes": "regression", "breast_cancer": "binary", "iris": "multiclass", "wine": "multiclass",
                "digits": "multiclass", "regression": "regression", "circles": "binary", "blobs": "multiclass",
                "positive_regression": "regression"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataNote)
        kinds = {name: get_problem(name).kind for name in expected}
    assert kinds == expected
    assert get_problem("digits").n_features == 64  # its constant pixels stay: a DataFrame is taken as it is


def test_preparing_a_large_float32_table_copies_it_once() -> None:
    """The features are prepared a block of rows at a time straight into one float32 array: the
    peak is that array and a block's float64 copies, not a float64 copy of the table per column,
    another to stack them, and another per transform (3.2 times the float64 table, 6.4 times the
    prepared float32 table, in an earlier version)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200_000, 20)).astype(np.float32), columns=[f"x{i}" for i in range(20)])
    frame["y"] = (frame["x0"] > 0).astype(int)
    tracemalloc.start()
    try:
        problem = Problem.from_frame(frame, "y")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    prepared = problem.X_train.nbytes + problem.X_test.nbytes
    block = BLOCK * 20 * 8  # one block of rows in float64
    assert prepared == 200_000 * 20 * 4 and peak < prepared + 2 * block  # a float64 copy of the table is 2 * prepared
    # scaled on the train rows, in float64 before the values were rounded to float32
    np.testing.assert_allclose(problem.X_train.mean(axis=0, dtype=np.float64), 0, atol=1e-7)
    np.testing.assert_allclose(problem.X_train.std(axis=0, dtype=np.float64), 1, rtol=1e-7)


def test_a_text_column_of_many_well_filled_categories_is_taken() -> None:
    """51 values (the US states and DC) in 12,000 rows are categories; 51 in 600 rows (12 rows
    each) and 201 in 20,000 look like free text or an ID."""
    rng = np.random.default_rng(0)

    def frame(levels: int, rows: int) -> pd.DataFrame:
        return pd.DataFrame({"state": [f"S{i}" for i in rng.integers(0, levels, rows)], "x": rng.normal(size=rows),
                             "y": rng.integers(0, 2, rows)})

    problem = Problem.from_frame(frame(51, 12_000), "y")
    assert len(problem.preparation["one_hot"]["state"]) == 51 and problem.n_features == 52
    for levels, rows in ((51, 600), (201, 20_000)):
        with pytest.raises(DataError, match=f"'state' has {levels} different text values in {rows} rows"):
            Problem.from_frame(frame(levels, rows), "y")
