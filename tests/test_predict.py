"""Predictions from stored models: the same preparation as training, the same numbers as the study."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import train_test_split
from typer.testing import CliRunner

import losslab
from losslab.cli import app
from losslab.errors import DataError, LosslabError
from losslab.predict import predict, prepare_rows
from losslab.settings import Settings
from losslab.store import run_stored

IRIS = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
IRIS["species"] = pd.Categorical.from_codes(IRIS["species"], ["setosa", "versicolor", "virginica"])
IRIS["colour"] = np.where(np.arange(len(IRIS)) % 3 == 0, "red", "blue")  # a text feature, one-hot encoded
DIABETES = load_diabetes(as_frame=True).frame


def _split_rows(frame: pd.DataFrame, problem: losslab.Problem, stratify=None) -> tuple[np.ndarray, np.ndarray]:
    rows = np.arange(len(frame))
    train, test = train_test_split(rows, test_size=problem.preparation["test_size"],
                                   random_state=problem.preparation["seed"], stratify=stratify)
    return np.sort(train), np.sort(test)  # a problem keeps each part in the table's order


def test_new_rows_are_prepared_exactly_as_the_training_rows_were() -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    train, test = _split_rows(IRIS, problem, stratify=IRIS["species"].cat.codes)
    # the same float64 values, which the problem keeps rounded to float32 (the models' precision)
    np.testing.assert_array_equal(prepare_rows(problem, IRIS.iloc[train]).astype(np.float32), problem.X_train)
    np.testing.assert_array_equal(prepare_rows(problem, IRIS.iloc[test].drop(columns="species")).astype(np.float32),
                                  problem.X_test)


@pytest.mark.parametrize(("losses", "centred"), [(["mse"], True), (["mse", "msle"], False)])
def test_one_seed_s_predictions_reproduce_its_test_metric(tmp_path, losses, centred) -> None:
    problem = losslab.Problem.from_frame(DIABETES, "target")
    study_plan = losslab.plan(problem, losses, seeds=range(2), settings=Settings(epochs=30))
    assert study_plan.centred is centred  # MSLE un-centres the target; the prediction then adds no mean back
    stored = run_stored(study_plan, tmp_path, "diabetes", save_models=True)
    pool = np.concatenate(_split_rows(DIABETES, problem))  # the pool: the train rows, then the test rows
    rows = DIABETES.iloc[pool[study_plan.rows(1).test]]  # seed 1's own test rows
    for loss in study_plan.losses:
        predicted = predict(stored.path, rows, loss=loss, seed=1)["prediction"].to_numpy()
        mse = float(np.mean((predicted - rows["target"].to_numpy()) ** 2))
        expected = stored.study.runs.set_index(["loss", "seed"]).loc[(loss, 1), "test_metric_target_units"]
        assert mse == pytest.approx(expected, rel=1e-4)  # float32 model, float64 here


@pytest.mark.parametrize("chunk", [None, 1])  # the default, or one run a chunk (a table of 65,537 rows or more)
def test_classifier_predictions_are_probabilities_averaged_over_seeds(tmp_path, chunk) -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    stored = run_stored(losslab.plan(problem, ["cce"], seeds=range(3), chunk=chunk), tmp_path, "iris", save_models=True)
    assert losslab.load(stored.path).plan.chunk == stored.study.plan.chunk
    table = predict(stored.path, IRIS.drop(columns="species"))
    probabilities = table[["probability_setosa", "probability_versicolor", "probability_virginica"]].to_numpy()
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    one_by_one = [predict(stored.path, IRIS, seed=s)[["probability_setosa"]].to_numpy() for s in range(3)]
    np.testing.assert_allclose(np.mean(one_by_one, axis=0)[:, 0], probabilities[:, 0], rtol=1e-5)
    assert (table["prediction"] == IRIS["species"].astype(str)).mean() > 0.9


def test_columns_that_differ_and_studies_without_models_are_refused(tmp_path) -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    stored = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=2)), tmp_path, "m", save_models=True)
    with pytest.raises(DataError, match="lack the feature column 'colour' that training used"):
        predict(stored.path, IRIS.drop(columns=["colour"]).assign(petal_size=1.0))
    with pytest.raises(LosslabError, match="has no loss 'bce'"):
        predict(stored.path, IRIS, loss="bce")
    bare = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=3)), tmp_path, "bare")
    with pytest.raises(LosslabError, match="kept no models; train it again with --save-models"):
        predict(bare.path, IRIS)
    # asking for models later trains the chunks again, with their parameters
    again = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=3)), tmp_path, "bare", save_models=True)
    assert again.reused == 0 and len(predict(again.path, IRIS)) == len(IRIS)


def test_predict_on_the_command_line(tmp_path) -> None:
    IRIS.to_csv(tmp_path / "iris.csv", index=False)
    runner = CliRunner()
    trained = runner.invoke(app, ["compare", "--data", str(tmp_path / "iris.csv"), "--target", "species", "--loss", "cce",
                                  "--loss", "scce", "--repeats", "2", "--epochs", "5", "--save-models", "--out", str(tmp_path / "out")])
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["predict", str(tmp_path / "out"), "--data", str(tmp_path / "iris.csv"), "--loss", "scce",
                                 "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(IRIS)
    first = (tmp_path / "p.csv").read_text().splitlines()[1].split(",")
    assert max(len(field) for field in first[-3:]) <= 12  # the probabilities as float32 hold them, not 17 digits
    assert f"the mean of 2 models trained with sparse_categorical_crossentropy, from {tmp_path / 'out'}" in result.stdout
    IRIS.drop(columns="colour").to_csv(tmp_path / "fewer.csv", index=False)
    refused = runner.invoke(app, ["predict", str(tmp_path / "out"), "--data", str(tmp_path / "fewer.csv")])
    assert refused.exit_code == 2 and refused.stderr.startswith("error: the new rows lack the feature column 'colour'")
    nested = runner.invoke(app, ["predict", str(tmp_path / "out"), "--data", str(tmp_path / "iris.csv"), "--out",
                                 str(tmp_path / "new" / "p.parquet"), "--loss", "sparse categorical crossentropy"])
    assert nested.exit_code == 0, nested.output  # the folder is made, the Parquet is Parquet, the tutorial's name works
    assert len(pd.read_parquet(tmp_path / "new" / "p.parquet")) == len(IRIS)


def test_unseen_categories_are_warned_about_and_hinge_scores_are_not_called_probabilities(tmp_path) -> None:
    frame = IRIS.assign(big=(IRIS["species"] == "virginica").astype(int)).drop(columns="species")
    problem = losslab.Problem.from_frame(frame, "big")
    study_plan = losslab.plan(problem, ["hinge"], seeds=[1], settings=Settings(epochs=20))  # seed 0 collapses
    stored = run_stored(study_plan, tmp_path, "h", save_models=True)
    with pytest.warns(UserWarning, match="column 'colour' has values not seen in training \\(green\\)"):
        table = predict(stored.path, frame.assign(colour="green"))
    assert list(table.columns) == ["big", "prediction", "score_1"]  # the target, given, is carried over
    assert ((table["score_1"] > 0) == (table["prediction"] == "1")).all()


def test_columns_left_out_in_training_may_be_given_again(tmp_path) -> None:
    frame = IRIS.assign(id=np.arange(1, len(IRIS) + 1))  # a row ID: left out of the features when read
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(UserWarning, match="row ID"):
        problem = losslab.Problem.from_file(path, "species")
    assert "id" not in problem.feature_names
    stored = run_stored(losslab.plan(problem, ["cce"], seeds=range(2), settings=Settings(epochs=3)), tmp_path,
                        "iris", save_models=True)
    table = predict(stored.path, frame.drop(columns="species").iloc[::-1])
    assert list(table.columns[:2]) == ["id", "prediction"]  # the row ID first: each prediction matches its row
    np.testing.assert_array_equal(table["id"], frame["id"].to_numpy()[::-1])
    assert (table["prediction"] == frame["species"].astype(str).to_numpy()[::-1]).mean() > 0.5


def test_carried_columns_keep_their_place_and_reach_json(tmp_path) -> None:
    frame = IRIS.assign(when=pd.date_range("2026-01-01", periods=len(IRIS)), prediction="given")
    problem = losslab.Problem.from_frame(frame, "species", drop=["when", "prediction"])
    stored = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=2)), tmp_path, "iris", save_models=True)
    table = predict(stored.path, frame)
    assert list(table.columns[:4]) == ["species", "when", "input_prediction", "prediction"]
    assert (table["input_prediction"] == "given").all() and table["when"].iloc[3] == pd.Timestamp("2026-01-04")
    frame.to_parquet(tmp_path / "new.parquet")
    result = CliRunner().invoke(app, ["predict", str(stored.path), "--data", str(tmp_path / "new.parquet"), "--out",
                                      str(tmp_path / "p.csv"), "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["predictions"][0]
    assert first["when"] == "2026-01-01T00:00:00" and first["input_prediction"] == "given"


def test_new_columns_are_carried_and_rows_with_missing_values_predict_nothing(tmp_path) -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    stored = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=2)), tmp_path, "iris", save_models=True)
    new = IRIS.drop(columns="species").assign(batch_id=np.arange(len(IRIS)) + 1000).iloc[:, ::-1].copy()
    new.loc[[3, 7], "sepal length (cm)"] = np.nan
    new.loc[7, "petal width (cm)"] = np.inf
    new.loc[9, "colour"] = None
    with pytest.warns(UserWarning, match=r"3 of 150 rows have missing or infinite values \('sepal length \(cm\)' \(2\), "
                                         r"'petal width \(cm\)' \(1\), 'colour' \(1\)\)"):
        table = predict(stored.path, new)
    assert list(table.columns[:2]) == ["batch_id", "prediction"]  # a column training never had, carried
    assert table["prediction"].isna().tolist() == [i in (3, 7, 9) for i in range(len(IRIS))]
    assert table.loc[[3, 7, 9], "probability_setosa"].isna().all()
    complete = predict(stored.path, IRIS.drop(columns="species"))
    np.testing.assert_allclose(table.drop(index=[3, 7, 9])["probability_setosa"],
                               complete.drop(index=[3, 7, 9])["probability_setosa"], rtol=1e-6)


def test_a_regression_prediction_keeps_its_precision_and_a_named_index_is_carried(tmp_path) -> None:
    frame = DIABETES.assign(target=DIABETES["target"] + 1e8)  # a large level, a small spread
    problem = losslab.Problem.from_frame(frame, "target")
    stored = run_stored(losslab.plan(problem, ["mse"], settings=Settings(epochs=30)), tmp_path, "d", save_models=True)
    new = frame.drop(columns="target").assign(prediction=1, input_prediction=2).rename_axis("patient")
    table = predict(stored.path, new)
    assert table["prediction"].dtype == np.float64 and (table["prediction"] % 8 != 0).any()  # not float32 after the level
    assert list(table.columns[:4]) == ["patient", "input_prediction", "input_input_prediction", "prediction"]
    np.testing.assert_array_equal(table["patient"], new.index)


def test_values_far_outside_the_training_rows_are_warned_about(tmp_path) -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    stored = run_stored(losslab.plan(problem, ["cce"], settings=Settings(epochs=2)), tmp_path, "iris", save_models=True)
    new = IRIS.drop(columns="species").head(5).copy()
    new.loc[2, "petal length (cm)"] = 100.0  # about 56 training sds above the mean
    with pytest.warns(UserWarning, match=r"1 row has values more than 10 training standard deviations from the "
                                         r"training mean \('petal length \(cm\)' \(1\)\)"):
        table = predict(stored.path, new)
    assert table["prediction"].notna().all()  # predicted all the same, with the warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        predict(stored.path, IRIS.drop(columns="species"))  # the training rows themselves: no warning


def test_a_sweep_keeps_its_models_for_predict(tmp_path) -> None:
    IRIS.to_csv(tmp_path / "iris.csv", index=False)
    runner = CliRunner()
    swept = runner.invoke(app, ["sweep", "--data", str(tmp_path / "iris.csv"), "--target", "species", "--loss", "cce",
                                "--loss", "scce", "--lr", "0.01,0.1", "--repeats", "2", "--epochs", "2", "--save-models",
                                "--out", str(tmp_path / "out")])
    assert swept.exit_code == 0, swept.output
    refused = runner.invoke(app, ["predict", str(tmp_path / "out"), "--data", str(tmp_path / "iris.csv")])
    assert refused.exit_code == 2 and "holds 2 studies; give one study's directory" in refused.stderr
    study = sorted((tmp_path / "out" / "studies").iterdir())[0]
    table = predict(study, IRIS, loss="scce")
    assert len(table) == len(IRIS) and table.attrs["seeds"] == (0, 1)


def test_collapsed_runs_do_not_predict_unless_their_seed_is_asked_for(tmp_path) -> None:
    problem = losslab.Problem.from_frame(IRIS, "species")
    stored = run_stored(losslab.plan(problem, ["cce"], seeds=range(3), settings=Settings(epochs=20)), tmp_path, "iris",
                        save_models=True)
    runs_file = stored.path / "runs.parquet"
    runs = pd.read_parquet(runs_file)
    runs.loc[runs["seed"] == 1, ["collapsed", "collapse_reason"]] = (True, "no better than chance")
    runs.to_parquet(runs_file)  # as if seed 1 had learned nothing
    table = predict(stored.path, IRIS)
    assert table.attrs["seeds"] == (0, 2) and table.attrs["left_out"] == (1,)
    by_seed = {s: predict(stored.path, IRIS, seed=s)["probability_setosa"].to_numpy() for s in (0, 2)}
    np.testing.assert_allclose(table["probability_setosa"], (by_seed[0] + by_seed[2]) / 2, rtol=1e-5)
    with pytest.warns(UserWarning, match=r"the run of categorical_crossentropy with seed 1 collapsed \(no better than"):
        assert predict(stored.path, IRIS, seed=1).attrs["seeds"] == (1,)
    runs.loc[:, ["collapsed", "collapse_reason"]] = (True, "no better than chance")
    runs.to_parquet(runs_file)
    with pytest.raises(LosslabError, match=r"every run of categorical_crossentropy that did not diverge collapsed .*"
                                           r"choose another loss \(--loss\), or one seed \(--seed N, N one of 0, 1, 2\)"):
        predict(stored.path, IRIS)
