"""The ``losslab`` command line, through typer's runner and as the installed program."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from losslab.cli import app

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def assert_user_error(result, phrase: str) -> None:
    """Exit code 2, the phrase on one 'error:' line, no traceback."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and phrase in lines[0], result.output
    assert "Traceback" not in result.output


def test_losses_lists_every_loss_and_json_is_parseable() -> None:
    result = invoke("losses")
    assert result.exit_code == 0
    for name in ("mean_squared_error", "hinge", "categorical_hinge", "kl_divergence", "poisson"):
        assert name in result.output
    rows = json.loads(invoke("losses", "--json").output)
    assert len(rows) == 14
    hinge = next(r for r in rows if r["loss"] == "hinge")
    assert (hinge["output layer"], hinge["targets"]) == ("1 unit, tanh", "{-1,1}")


def test_problems_lists_tutorial_and_bundled_problems() -> None:
    rows = json.loads(invoke("problems", "--json").output)
    by_name = {r["problem"]: r for r in rows}
    assert {"regression", "circles", "blobs", "iris", "wine", "digits", "diabetes", "breast_cancer"} <= set(by_name)
    assert (by_name["circles"]["epochs"], by_name["circles"]["hidden"]) == (200, "50")
    assert by_name["regression"]["hidden"] == "25"


def test_run_prints_the_tutorial_line_and_writes_figure_and_history(tmp_path: Path) -> None:
    result = invoke("run", "circles", "--loss", "bce", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"^Train: \d\.\d{3}, Test: \d\.\d{3}$", result.output, re.M)
    figure = tmp_path / "circles_binary_crossentropy_seed0.png"
    assert figure.read_bytes().startswith(PNG)
    history = pd.read_parquet(tmp_path / "circles_binary_crossentropy_seed0_history.parquet")
    assert len(history) == 3 * 2
    assert len(pd.read_csv(tmp_path / "circles_binary_crossentropy_seed0_history.csv")) == 6


def test_run_with_a_tanh_loss_also_prints_the_tutorials_rounding_accuracy(tmp_path: Path) -> None:
    result = invoke("run", "circles", "--loss", "hinge", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 0
    assert re.search(r"round\(output\) == label\): Train: \d\.\d{3}, Test: \d\.\d{3}", result.output)


def test_run_json(tmp_path: Path) -> None:
    result = invoke("run", "blobs", "--loss", "kld", "--epochs", "2", "--seed", "4", "--out", tmp_path, "--json")
    payload = json.loads(result.output)
    assert payload["loss"] == "kl_divergence" and payload["seed"] == 4
    assert 0 <= payload["run"]["test_metric"] <= 1
    assert all(Path(f).exists() for f in payload["files"])


def test_replicate_prints_every_case_and_writes_every_figure(tmp_path: Path) -> None:
    result = invoke("replicate", "--repeats", "2", "--epochs", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    for key in ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "ext-1", "ext-2"):
        assert re.search(rf"│ {re.escape(key)} ", result.output), key
    figures = sorted(p.name for p in tmp_path.glob("case-*.png"))
    assert len(figures) == 11
    for name in [*figures, "circles.png", "blobs.png"]:
        assert (tmp_path / name).read_bytes().startswith(PNG)
    table = pd.read_csv(tmp_path / "replicate.csv")
    assert len(table) == 11 and table["runs"].eq(2).all()


def test_compare_says_identical_for_cce_and_sparse_cce(tmp_path: Path) -> None:
    result = invoke("compare", "blobs", "--loss", "cce", "--loss", "scce", "--repeats", "3", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "identical on every paired seed (3/3)" in result.output
    for name in ("compare_blobs_curves.png", "compare_blobs_final.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)


def test_recommend_for_a_built_in_problem_and_for_a_csv(tmp_path: Path) -> None:
    assert "categorical_crossentropy" in invoke("recommend", "iris").output
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["label"] = np.where(frame["a"] + frame["b"] > 0, "yes", "no")
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    payload = json.loads(invoke("recommend", "--data", path, "--target", "label", "--json").output)
    assert (payload["kind"], payload["loss"], payload["output_layer"]) == ("binary", "binary_crossentropy", "1 unit, sigmoid")


def test_a_users_own_loss_file(tmp_path: Path, restore_registry) -> None:
    source = tmp_path / "mine.py"
    source.write_text("import jax.numpy as jnp\n\ndef quartic(y_true, y_pred):\n"
                      "    return jnp.mean((y_true - y_pred) ** 4, axis=-1)\n")
    result = invoke("run", "regression", "--loss", f"{source}:quartic", "--epochs", "2", "--lr", "0.001", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"Train: \d+\.\d{3}, Test: \d+\.\d{3}", result.output)
    assert_user_error(invoke("run", "regression", "--loss", f"{source}:quartc"), "did you mean 'quartic'")


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("run", "blob", "--loss", "cce"), "did you mean 'blobs'"),
        (("run", "regression", "--loss", "mean_squred_error"), "did you mean 'mean_squared_error'"),
        (("run", "blobs", "--loss", "hinge"), "use categorical_hinge"),
        (("run", "circles", "--loss", "mse"), "use binary_crossentropy"),
        (("run", "blobs", "--loss", "cce", "--epochs", "0"), "epochs must be a positive integer"),
        (("replicate", "--repeats", "-1"), "repeats must be a positive integer"),
        (("run", "blobs", "--loss", "cce", "--lr", "nan"), "learning rate must be a positive finite number"),
        (("compare", "blobs", "--loss", "cce"), "at least two losses"),
        (("run", "--data", "missing.csv", "--target", "y", "--loss", "mse"), "no such file"),
        (("run", "--data", "missing.csv", "--loss", "mse"), "--target"),
        (("run", "blobs", "--loss", "cce", "--hidden", "5,x"), "hidden sizes"),
    ],
)
def test_bad_input_ends_with_one_line_and_exit_code_2(args, phrase) -> None:
    assert_user_error(invoke(*args), phrase)


def test_an_unwritable_out_directory_is_refused_before_training(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    assert_user_error(invoke("run", "blobs", "--loss", "cce", "--out", blocker / "sub"), "cannot write to the output directory")


def test_every_command_has_help_with_an_example() -> None:
    for command in ("losses", "problems", "run", "replicate", "compare", "recommend"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Example: losslab" in result.output


def test_the_installed_program() -> None:
    program = Path(sys.executable).parent / "losslab"
    listing = subprocess.run([program, "losses", "--json"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and len(json.loads(listing.stdout)) == 14
    failing = subprocess.run([program, "run", "blobs", "--loss", "hinge"], capture_output=True, text=True, timeout=120)
    assert failing.returncode == 2
    assert "use categorical_hinge" in failing.stderr and "Traceback" not in failing.stderr + failing.stdout
