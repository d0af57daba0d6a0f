"""The training commands' outputs beyond tables: --report, --mlflow [URI], --wide, losslab report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from losslab.cli import _with_default_values, app
from losslab.cli import _render

runner = CliRunner()
COMPARE = ["compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "2", "--epochs", "3"]


@pytest.fixture(autouse=True)
def narrow_again():
    yield
    _render.set_wide(False)  # --wide is process-wide; later tests expect fitted tables


def test_mlflow_without_a_value_stands_for_the_default_store() -> None:
    assert _with_default_values(["run", "--mlflow"]) == ["run", "--mlflow", "default"]
    assert _with_default_values(["run", "--mlflow", "--report"]) == ["run", "--mlflow", "default", "--report"]
    assert _with_default_values(["run", "--mlflow", "sqlite:///x.db"]) == ["run", "--mlflow", "sqlite:///x.db"]


def test_report_flag_and_report_command_write_self_contained_pages(tmp_path: Path) -> None:
    result = runner.invoke(app, [*COMPARE, "--report", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "compare_blobs_report.html").read_text()
    assert "identical on every paired seed" in page and "<svg" in page
    assert f"report: {tmp_path / 'compare_blobs_report.html'}" in result.stdout
    again = runner.invoke(app, ["report", str(tmp_path), "--out", str(tmp_path / "again.html")])
    assert again.exit_code == 0, again.output
    assert "identical on every paired seed" in (tmp_path / "again.html").read_text()
    for command in ("report", "show", "predict"):
        missing = runner.invoke(app, [command, str(tmp_path / "nowhere"), *(["--data", "x.csv"] if command == "predict" else [])])
        assert missing.exit_code == 2 and missing.stderr.startswith(f"error: no such folder '{tmp_path / 'nowhere'}'")


def test_mlflow_flag_logs_the_study(tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("mlflow", reason="losslab[mlflow] is not installed")
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*COMPARE, "--mlflow", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "logged to MLflow (sqlite:///mlruns.db)" in result.stdout
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlruns.db'}")
    (experiment,) = [e for e in client.search_experiments() if e.name == "losslab"]
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1 + 4  # the study and its (loss, seed) runs


def test_training_options_without_verify_are_refused_on_recommend() -> None:
    result = runner.invoke(app, ["recommend", "iris", "--report"])
    assert result.exit_code == 2 and "--report is only used with --verify" in result.stderr


def test_wide_prints_the_losses_table_whole(tmp_path: Path) -> None:
    narrow = runner.invoke(app, ["losses"])
    wide = runner.invoke(app, ["losses", "--wide"])
    assert narrow.exit_code == wide.exit_code == 0
    assert max(map(len, narrow.stdout.splitlines())) <= 100
    assert max(map(len, wide.stdout.splitlines())) > 100 and "sparse_categorical_crossentropy" in wide.stdout


def test_version() -> None:
    import losslab

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"losslab {losslab.__version__}"
