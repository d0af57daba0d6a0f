"""Tracking: a study logged to a real local MLflow SQLite store and read back with MlflowClient."""

from __future__ import annotations

import dataclasses
import sys

import numpy as np
import pytest

pytest.importorskip("mlflow", reason="mlflow is not installed (pip install 'losslab[mlflow]')")
pytest.importorskip("sqlalchemy", reason="sqlalchemy is not installed (pip install 'losslab[mlflow]')")

from mlflow import MlflowClient  # noqa: E402

import losslab  # noqa: E402
from losslab.errors import LosslabError  # noqa: E402
from losslab.tracking import log_study  # noqa: E402

EPOCHS = 4


@pytest.fixture(scope="module")
def study() -> losslab.Study:
    return losslab.train(losslab.get_problem("blobs"), ["cce", "kld"], seeds=range(3), settings=losslab.Settings(epochs=EPOCHS))


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Nothing lands in the repository, and no tracking server set in the environment is used."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)


@pytest.fixture(scope="module")
def logged(study, tmp_path_factory):
    """The study logged once, with its comparison and two artifacts: (client, parent id, folder)."""
    folder = tmp_path_factory.mktemp("store")
    figure, table = folder / "curves.png", folder / "runs.csv"
    figure.write_bytes(b"\x89PNG\r\n\x1a\n")
    study.runs.to_csv(table, index=False)
    uri = f"sqlite:///{folder}/mlruns.db"
    parent = log_study(study, uri, comparison=losslab.compare(study), artifacts=[figure, table], run_name="blobs study")
    return MlflowClient(uri), parent, folder


def children(client: MlflowClient, parent_id: str):
    experiment = client.get_run(parent_id).info.experiment_id
    return client.search_runs([experiment], f"tags.mlflow.parentRunId = '{parent_id}'", max_results=1000)


def test_one_parent_run_with_one_nested_run_per_loss_and_seed(logged, study):
    client, parent_id, _ = logged
    experiment = client.get_experiment_by_name("losslab")
    every = client.search_runs([experiment.experiment_id], max_results=1000)
    assert len(every) == 7
    parent = client.get_run(parent_id)
    assert "mlflow.parentRunId" not in parent.data.tags
    assert parent.info.run_name == "blobs study" and parent.info.status == "FINISHED"
    nested = children(client, parent_id)
    assert len(nested) == 6
    assert sorted((r.data.params["loss"], int(r.data.params["seed"])) for r in nested) == sorted(
        zip(study.runs["loss"], study.runs["seed"].astype(int)))
    assert {r.info.status for r in nested} == {"FINISHED"}


def test_the_parent_run_records_the_plan_and_the_verdicts(logged, study):
    client, parent_id, _ = logged
    parent = client.get_run(parent_id)
    params = parent.data.params
    assert params["problem"] == "blobs" and params["kind"] == "multiclass"
    assert params["losses"] == "categorical_crossentropy, kl_divergence"
    assert params["n_seeds"] == "3" and params["seeds"] == "0-2"
    assert params["settings.epochs"] == str(EPOCHS) and params["versions.losslab"] == losslab.__version__
    assert parent.data.tags["losslab.version"] == losslab.__version__
    verdict = losslab.compare(study).verdicts[0]
    assert verdict in parent.data.tags["mlflow.note.content"]
    mean = study.runs[study.runs["loss"] == "kl_divergence"]["test_metric"].mean()
    assert parent.data.metrics["kl_divergence.mean_test_accuracy"] == pytest.approx(mean)


def test_each_nested_run_holds_every_epoch_of_its_history(logged, study):
    client, parent_id, _ = logged
    history = study.history
    for run in children(client, parent_id):
        loss, seed = run.data.params["loss"], int(run.data.params["seed"])
        mine = history[(history["loss"] == loss) & (history["seed"] == seed)]
        for split in ("train", "test"):
            expected = mine[mine["split"] == split].sort_values("epoch")
            logged_values = sorted(client.get_metric_history(run.info.run_id, f"{split}_accuracy"), key=lambda m: m.step)
            assert [m.step for m in logged_values] == list(range(1, EPOCHS + 1))
            np.testing.assert_allclose([m.value for m in logged_values], expected["metric_value"], rtol=1e-12)
            losses = sorted(client.get_metric_history(run.info.run_id, f"{split}_loss"), key=lambda m: m.step)
            np.testing.assert_allclose([m.value for m in losses], expected["loss_value"], rtol=1e-12)
        final = study.runs[(study.runs["loss"] == loss) & (study.runs["seed"] == seed)].iloc[0]
        assert run.data.metrics["test_accuracy"] == pytest.approx(final["test_metric"])
        assert run.data.tags["diverged"] == "false" and "diverged_epoch" not in run.data.metrics
        assert "test_rounding_accuracy" not in run.data.metrics  # NaN for a softmax output: not logged


def test_artifacts_are_stored_beside_the_database(logged):
    client, parent_id, folder = logged
    names = {a.path for a in client.list_artifacts(parent_id)}
    assert {"curves.png", "runs.csv", "study.json", "verdicts.txt", "comparison.json"} <= names
    assert client.get_run(parent_id).info.artifact_uri.startswith((folder / "mlartifacts").as_uri())
    assert (folder / "mlartifacts").is_dir()


def test_the_default_store_is_a_sqlite_file_in_the_working_directory(study, tmp_path):
    parent = log_study(study)
    assert (tmp_path / "mlruns.db").is_file() and (tmp_path / "mlartifacts").is_dir()
    assert len(children(MlflowClient("sqlite:///mlruns.db"), parent)) == 6


def test_the_epochs_of_a_diverged_run_are_not_logged(study, tmp_path):
    history, runs = study.history.copy(), study.runs.copy()
    first = (history["loss"] == "categorical_crossentropy") & (history["seed"] == 0)
    history.loc[first & (history["epoch"] >= 3), ["loss_value", "metric_value"]] = np.nan
    row = (runs["loss"] == "categorical_crossentropy") & (runs["seed"] == 0)
    runs.loc[row, "diverged"] = True
    runs.loc[row, "diverged_epoch"] = 3
    runs.loc[row, ["train_loss", "test_loss", "train_metric", "test_metric"]] = np.nan
    diverged = dataclasses.replace(study, history=history, runs=runs)
    uri = f"sqlite:///{tmp_path}/mlruns.db"
    parent = log_study(diverged, uri)
    client = MlflowClient(uri)
    run = next(r for r in children(client, parent)
               if r.data.params["loss"] == "categorical_crossentropy" and r.data.params["seed"] == "0")
    assert [m.step for m in client.get_metric_history(run.info.run_id, "test_accuracy")] == [1, 2]
    assert run.data.tags["diverged"] == "true" and run.data.metrics["diverged_epoch"] == 3
    assert client.get_run(parent).data.metrics["categorical_crossentropy.diverged_runs"] == 1


def test_a_store_in_an_unwritable_place_is_a_one_line_error(study, tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(LosslabError, match="cannot write the MLflow store") as error:
        log_study(study, f"sqlite:///{tmp_path}/a-file/mlruns.db")
    assert "\n" not in str(error.value)


def test_a_uri_mlflow_cannot_open_is_a_one_line_error(study, tmp_path):
    (tmp_path / "not-a-database.db").write_text("hello")
    for uri in ("nosuch://host/path", f"sqlite:///{tmp_path}/not-a-database.db"):
        with pytest.raises(LosslabError, match="pass another URI") as error:
            log_study(study, uri)
        assert "\n" not in str(error.value)


def test_a_missing_artifact_is_named_before_anything_is_logged(study, tmp_path):
    with pytest.raises(LosslabError, match="missing.png"):
        log_study(study, artifacts=[tmp_path / "missing.png"])
    assert not (tmp_path / "mlruns.db").exists()


def test_without_mlflow_the_error_says_how_to_install_it(study, monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import mlflow now raises ImportError
    with pytest.raises(LosslabError, match=r"pip install 'losslab\[mlflow\]'"):
        log_study(study)
