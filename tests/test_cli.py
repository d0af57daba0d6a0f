"""The command line: every command through typer's runner, and the installed ``losslab`` program.

User errors must end with exit code 2 and one line (no traceback); successful commands print the
tutorial's lines and write the figures and tables they announce.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from losslab.cli import _render, app
from losslab.case_studies import CASE_STUDIES
from losslab.registry import _BUILTINS

runner = CliRunner()
PNG = b"\x89PNG\r\n\x1a\n"
LOSSES = [spec.name for spec in _BUILTINS]
TUTORIAL_LINE = re.compile(r"^Train: (\d\.\d{3}), Test: (\d\.\d{3})$", re.MULTILINE)


def invoke(*args: object):
    return runner.invoke(app, [str(a) for a in args])


def assert_one_error_line(result, phrase: str) -> None:
    """Exit code 2 and exactly one line of output, on stderr, containing ``phrase``; no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stdout == "", result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{result.stderr}"
    assert lines[0].startswith("error: ") and phrase in lines[0], lines[0]


# ---------------------------------------------------------------------------- losses / problems


def test_losses_lists_all_fourteen_losses() -> None:
    result = invoke("losses")
    assert result.exit_code == 0, result.output
    assert len(LOSSES) == 14
    for name in LOSSES:
        assert re.search(rf"\b{name}\b", result.stdout), name


def test_losses_json_has_one_row_per_loss() -> None:
    result = invoke("losses", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 14
    assert sorted(row["loss"] for row in rows) == sorted(LOSSES)
    by_name = {row["loss"]: row for row in rows}
    assert by_name["hinge"]["output layer"] == "1 unit, tanh" and by_name["hinge"]["targets"] == "{-1,1}"
    assert by_name["sparse_categorical_crossentropy"]["targets"] == "integer"
    assert "mse" in by_name["mean_squared_error"]["aliases"]


def test_problems_json_has_the_tutorials_problems_and_the_sklearn_datasets() -> None:
    result = invoke("problems", "--json")
    assert result.exit_code == 0
    by_name = {row["problem"]: row for row in json.loads(result.stdout)}
    assert {"regression", "circles", "blobs", "diabetes", "breast_cancer", "iris", "wine", "digits"} <= set(by_name)
    assert by_name["regression"]["kind"] == "regression" and by_name["circles"]["kind"] == "binary"
    assert by_name["blobs"]["n_classes"] == 3 and by_name["iris"]["n_classes"] == 3
    assert (by_name["circles"]["train"], by_name["circles"]["test"], by_name["circles"]["epochs"]) == (500, 500, 200)
    table = invoke("problems")
    assert table.exit_code == 0 and "breast_cancer" in table.stdout


# ------------------------------------------------------------------------------------------ run


def test_run_prints_the_tutorials_line_and_writes_the_figure_and_history(tmp_path: Path) -> None:
    result = invoke("run", "circles", "--loss", "bce", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    match = TUTORIAL_LINE.search(result.stdout)
    assert match, result.stdout
    stem = "circles_binary_crossentropy_seed0"
    assert (tmp_path / f"{stem}.png").read_bytes().startswith(PNG)
    history = pd.read_parquet(tmp_path / f"{stem}_history.parquet")
    assert len(history) == 3 * 2 and history["loss"].eq("binary_crossentropy").all()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / f"{stem}_history.csv"), history, check_dtype=False, rtol=1e-6)
    runs = pd.read_csv(tmp_path / f"{stem}_runs.csv")
    assert match.groups() == (f"{runs['train_metric'].item():.3f}", f"{runs['test_metric'].item():.3f}")
    assert "round(output)" not in result.stdout  # the sigmoid output needs no second accuracy


def test_run_with_hinge_also_prints_the_tutorials_rounding_accuracy(tmp_path: Path) -> None:
    result = invoke("run", "circles", "--loss", "hinge", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert TUTORIAL_LINE.search(result.stdout)
    match = re.search(r"round\(output\) == label\): Train: (\d\.\d{3}), Test: (\d\.\d{3})", result.stdout)
    assert match, result.stdout
    runs = pd.read_csv(tmp_path / "circles_hinge_seed0_runs.csv")
    assert match.groups() == (f"{runs['train_rounding_accuracy'].item():.3f}", f"{runs['test_rounding_accuracy'].item():.3f}")


def test_run_flags_a_collapsed_run_and_its_json_says_so(tmp_path: Path) -> None:
    args = ("run", "circles", "--loss", "bce", "--lr", "1e-50", "--epochs", "3", "--out", tmp_path)
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert "warning: the run collapsed: never moved" in result.stdout and "try a larger --lr" in result.stdout
    row = json.loads(invoke(*args, "--json").stdout)["run"]
    assert row["collapsed"] is True and row["collapse_reason"].startswith("never moved")


# ------------------------------------------------------------------------------------ replicate


def test_replicate_prints_every_case_and_writes_one_figure_per_case(tmp_path: Path) -> None:
    result = invoke("replicate", "--repeats", "1", "--epochs", "2", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    keys = ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "ext-1", "ext-1b", "ext-2"]
    assert [case.key for case in CASE_STUDIES] == keys
    for case in CASE_STUDIES:
        assert f"{case.key} {case.problem}" in result.stdout, case.key
    figures = sorted(tmp_path.glob("case-*.png"))
    assert len(figures) == 12
    assert "The tutorial's claims, judged over 1 run" in result.stdout
    for case in CASE_STUDIES:
        figure = tmp_path / f"case-{case.key}-{case.problem}-{case.loss}.png"
        assert figure.read_bytes().startswith(PNG), figure
    for name in ("circles.png", "blobs.png"):
        assert (tmp_path / name).read_bytes().startswith(PNG)
    for problem in ("regression", "circles", "blobs", "positive_regression"):  # the history as Parquet only
        assert len(pd.read_parquet(tmp_path / f"replicate_{problem}_history.parquet")) > 0
        assert not (tmp_path / f"replicate_{problem}_history.csv").exists()
        assert (tmp_path / f"replicate_{problem}_runs.csv").exists()
    table = pd.read_csv(tmp_path / "replicate.csv")
    assert table["case"].astype(str).tolist() == keys and table["runs"].eq(1).all()


# -------------------------------------------------------------------------------------- compare


def test_compare_finds_cce_and_sparse_cce_identical(tmp_path: Path) -> None:
    try:  # a wide terminal: the verdict stays on one line
        result = invoke("compare", "blobs", "--loss", "cce", "--loss", "scce", "--repeats", "3", "--epochs", "3",
                        "--out", tmp_path, "--wide")
    finally:
        _render.set_wide(False)
    assert result.exit_code == 0, result.output
    assert "- categorical_crossentropy vs sparse_categorical_crossentropy (3 paired seeds): identical on every paired " \
           "seed (3/3)." in result.stdout.splitlines()
    assert (tmp_path / "compare_blobs_curves.png").read_bytes().startswith(PNG)
    assert len(pd.read_csv(tmp_path / "compare_blobs_runs.csv")) == 6


def test_prose_lines_wrap_at_words_to_the_width(tmp_path: Path) -> None:
    result = invoke("compare", "blobs", "--loss", "cce", "--loss", "categorical_hinge", "--repeats", "2", "--epochs", "2",
                    "--lr", "1e-50", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 100  # piped output is 100 columns wide
    payload = json.loads(invoke("compare", "blobs", "--loss", "cce", "--loss", "categorical_hinge", "--repeats", "2", "--epochs", "2",
                                "--lr", "1e-50", "--out", tmp_path, "--json").stdout)
    text = "\n".join(lines)
    for item in [*payload["flags"], *payload["notes"], *payload["verdicts"]]:
        words = re.escape(item).replace("\\ ", r"\s+")  # the item's words in order, only ever broken at a space
        assert re.search(words, text), item


# ------------------------------------------------------------------------------------ recommend


def test_recommend_for_iris_names_categorical_crossentropy(tmp_path: Path) -> None:
    result = invoke("recommend", "iris", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"Recommended loss: categorical_crossentropy", result.stdout), result.stdout
    assert "softmax" in result.stdout


def test_recommend_on_a_csv_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.uniform(50, 200, 80), "rooms": rng.integers(1, 6, 80).astype(float)})
    frame["y"] = 3 * frame["size"] + 10 * frame["rooms"] + rng.normal(0, 5, 80)
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)
    result = invoke("recommend", "--data", path, "--target", "y", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert "Recommended loss: mean_squared_error" in result.stdout
    assert "regression, 80 rows (48 train, 12 validation, 20 test per split)" in result.stdout
    payload = json.loads(invoke("recommend", "--data", path, "--target", "y", "--json", "--out", tmp_path).stdout)
    assert (payload["kind"], payload["loss"], payload["output_layer"]) == ("regression", "mean_squared_error", "1 unit, linear")


def test_a_test_size_that_leaves_too_few_training_rows_says_so_and_the_fix_that_applies(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    path = tmp_path / "binary.csv"
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=(X[:, 0] > 0).astype(int)).to_csv(path, index=False)
    for split in ("fixed", "resample"):
        result = invoke("run", "--data", path, "--target", "label", "--loss", "bce", "--test-size", "0.99",
                        "--split", split, "--out", tmp_path / "out")
        assert_one_error_line(result, "with --test-size 0.99 the training part holds 3 rows, too few to hold each of the "
                                      "2 classes in train, validation (20% of it) and test; use a smaller --test-size")
        assert "fewer folds" not in result.stderr and "least populated" not in result.stderr


# ----------------------------------------------------------------------------------- user errors


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("run", "blob", "--loss", "cce"), "did you mean 'blobs'"),
        (("compare", "blob", "--loss", "cce", "--loss", "kld"), "did you mean 'blobs'"),
        (("run", "circles", "--loss", "bce", "--epochs", "0"), "epochs must be a positive integer"),
        (("replicate", "--repeats", "-1"), "repeats must be a positive integer"),
        (("replicate", "--repeats", "1", "--epochs", "0"), "epochs must be a positive integer"),
        (("compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "0"), "repeats must be a positive integer"),
        (("run", "circles", "--loss", "bce", "--lr", "nan"), "learning rate must be a positive finite number"),
        (("run", "circles", "--loss", "bce", "--momentum", "1"), "momentum must be in [0, 1)"),
        (("run", "circles", "--loss", "bce", "--seed", "-1"), "seed must be an integer from 0 to 2**32 - 1"),
        (("run", "circles", "--loss", "mse"), "use binary_crossentropy"),
        (("compare", "blobs", "--loss", "cce"), "at least two losses"),
        (("run", "blobs", "--loss", "cce", "--hidden", "5,x"), "hidden sizes"),
        (("run", "blobs", "--loss", "cce", "--optimizer", "lbfgs"), "unknown optimizer"),
        (("run", "blobs", "--loss", "cce", "--kind", "binary"), "--kind applies to --data only"),
    ],
)
def test_bad_input_ends_with_one_line_and_exit_code_2(args, phrase, tmp_path: Path) -> None:
    assert_one_error_line(invoke(*args, "--out", tmp_path / "out"), phrase)


def test_a_mismatched_loss_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert_one_error_line(invoke("run", "blobs", "--loss", "hinge", "--out", out), "use categorical_hinge")
    assert not out.exists()


def test_an_unwritable_out_directory_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a directory")
    for args in (("run", "circles", "--loss", "bce", "--epochs", "1"), ("replicate", "--repeats", "1", "--epochs", "1")):
        assert_one_error_line(invoke(*args, "--out", blocker / "sub"), "cannot write to the output directory")
    assert blocker.read_text() == "not a directory"


def test_a_missing_data_file_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    for command in (("run", "--loss", "mse"), ("recommend",)):
        result = invoke(*command, "--data", missing, "--target", "y", "--out", tmp_path / "out")
        assert_one_error_line(result, "no such file")
        assert "missing.csv" in result.stderr


def test_data_without_target_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"a": np.arange(30.0), "y": np.arange(30.0) % 7}).to_csv(path, index=False)
    for command in (("run", "--loss", "mse"), ("recommend",)):
        assert_one_error_line(invoke(*command, "--data", path, "--out", tmp_path / "out"), "--target")
    assert_one_error_line(invoke("run", "--loss", "mse", "--data", path, "--target", "nope", "--out", tmp_path / "out"), "nope")


def test_an_unknown_loss_message_stays_on_one_line_even_when_it_lists_every_loss(tmp_path: Path) -> None:
    """The did-you-mean message lists all 14 losses (about 400 characters); it must not be
    wrapped into several lines when stderr is not a terminal."""
    result = invoke("run", "regression", "--loss", "mean_squred_error", "--out", tmp_path)
    assert_one_error_line(result, "did you mean 'mean_squared_error'")
    assert all(name in result.stderr.splitlines()[0] for name in LOSSES)


# ---------------------------------------------------------------------- the installed program


def _program() -> Path:
    path = Path(sys.executable).parent / "losslab"
    assert path.is_file() and os.access(path, os.X_OK), f"the console script is not installed at {path}"
    return path


def _run_program(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    return subprocess.run([str(_program()), *map(str, args)], check=False, capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def test_the_installed_program_lists_the_losses_as_json(tmp_path: Path) -> None:
    done = _run_program("losses", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert sorted(row["loss"] for row in rows) == sorted(LOSSES)


def test_the_installed_program_ends_a_user_error_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    done = _run_program("run", "blobs", "--loss", "hinge", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and "use categorical_hinge" in lines[0]
    assert "\x1b[" not in done.stderr  # no colour codes when stderr is not a terminal

    typo = _run_program("run", "blob", "--loss", "cce", cwd=tmp_path)
    assert typo.returncode == 2 and typo.stderr.splitlines() == [typo.stderr.strip()]
    assert "did you mean 'blobs'" in typo.stderr and "Traceback" not in typo.stderr
    assert not (tmp_path / "losslab-out").exists()


_ENTRY = """
import atexit, sys, threading, time
from pathlib import Path
import losslab.cli

def late(path):
    time.sleep(0.3)
    path.write_text("thread")

def command_then_more():  # as the command ends: a thread still working, output still buffered
    try:
        command()
    finally:
        threading.Thread(target=late, args=(folder / "thread",)).start()
        print("the last line")

folder, command = Path(sys.argv[1]), losslab.cli.app
losslab.cli.app = command_then_more
atexit.register(lambda: (folder / "handler").write_text("handler"))
sys.argv = ["losslab", *sys.argv[2:]]
losslab.cli.main()
"""


def test_the_entry_point_exits_alike_with_its_output_closed_or_profiled(tmp_path: Path) -> None:
    """Standard output closed (``>&-``): the same exit code, no traceback. Under a profiler, the
    ordinary exit, after which the profiler writes its results."""
    entry = "import sys; from losslab.cli import main; sys.argv[0] = 'losslab'; main()"
    closed = subprocess.run(f"{sys.executable} -c \"{entry}\" --version >&-", shell=True, capture_output=True,
                            text=True, timeout=120, check=False)
    assert closed.returncode == 0 and "Traceback" not in closed.stderr, closed.stderr
    script = tmp_path / "entry.py"
    script.write_text(entry.replace("; ", "\n"))
    profiled = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(tmp_path / "p.out"), str(script), "--version"],
                              capture_output=True, text=True, timeout=120, check=False)
    assert profiled.returncode == 0 and (tmp_path / "p.out").stat().st_size > 0, profiled.stderr


@pytest.mark.parametrize("args, code", [(["losses", "--json"], 0), (["run", "blob", "--loss", "cce"], 2)])
def test_the_entry_point_ends_as_the_interpreter_would(tmp_path: Path, args: list[str], code: int) -> None:
    """The entry point skips the interpreter's teardown, not what happens before it: its exit code,
    its whole output through a pipe (flushed), threads still working and the exit handlers."""
    done = subprocess.run([sys.executable, "-c", _ENTRY, tmp_path, *args], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == code, done.stderr
    assert done.stdout.endswith("the last line\n")
    if code == 0:
        assert sorted(row["loss"] for row in json.loads(done.stdout.removesuffix("the last line\n"))) == sorted(LOSSES)
    else:
        assert done.stderr.startswith("error: ") and "did you mean 'blobs'" in done.stderr
    assert (tmp_path / "thread").read_text() == "thread" and (tmp_path / "handler").read_text() == "handler"


def test_run_json(tmp_path: Path) -> None:
    result = invoke("run", "blobs", "--loss", "kld", "--epochs", "2", "--seed", "4", "--out", tmp_path, "--json")
    payload = json.loads(result.stdout)
    assert payload["loss"] == "kl_divergence" and payload["seed"] == 4
    assert 0 <= payload["run"]["test_metric"] <= 1
    assert all(Path(f).exists() for f in payload["files"])


def test_a_users_own_loss_file(tmp_path: Path, restore_registry) -> None:
    source = tmp_path / "mine.py"
    source.write_text("import jax.numpy as jnp\n\ndef quartic(y_true, y_pred):\n"
                      "    return jnp.mean((y_true - y_pred) ** 4, axis=-1)\n")
    result = invoke("run", "regression", "--loss", f"{source}:quartic", "--epochs", "2", "--lr", "0.001", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"Train: \d+\.\d{3}, Test: \d+\.\d{3}", result.stdout)
    assert_one_error_line(invoke("run", "regression", "--loss", f"{source}:quartc", "--out", tmp_path), "did you mean 'quartic'")


def test_every_command_has_help_with_an_example() -> None:
    for command in ("losses", "problems", "run", "replicate", "compare", "recommend"):
        result = invoke(command, "--help")
        assert result.exit_code == 0 and "Example: losslab" in result.stdout


# ------------------------------------------------------------- usage errors, bad files, bad seeds


RUN_HELP = "; run 'losslab run --help' to see its options"
USAGE_ERRORS = [
    (("run", "blobs", "--loss", "cce", "--lr", "abc"), "error: invalid value for '--lr': ", RUN_HELP),
    (("frobnicate",), "error: no such command 'frobnicate'", "; run 'losslab --help' to see the commands"),
    (("run", "blobs", "--loss", "cce", "--frobnicate"), "error: no such option: --frobnicate", RUN_HELP),
    (("--frobnicate",), "error: no such option: --frobnicate", "; run 'losslab --help' to see the commands"),
    (("run", "blobs", "--loss", "cce", "--lr"), "error: option '--lr' requires an argument", RUN_HELP),
    (("run", "blobs"), "error: missing option '--loss'", RUN_HELP),
    (("compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "2.5"), "error: invalid value for '--repeats'",
     "; run 'losslab compare --help' to see its options"),
    (("run", "blobs", "--loss", "cce", "--repeats", "3"), "error: no such option: --repeats",
     "; run trains one seed (--seed N); compare trains --repeats seeds of each loss"),
]


@pytest.mark.parametrize(("args", "what", "fix"), USAGE_ERRORS)
def test_a_usage_error_is_one_line_naming_the_problem_and_the_fix(args, what, fix) -> None:
    """Click's boxed usage message becomes the library's one line: ``error: <what>; <fix>``."""
    result = invoke(*args)
    assert_one_error_line(result, what)
    assert result.stderr.startswith(what) and result.stderr.rstrip("\n").endswith(fix), result.stderr


@pytest.mark.parametrize(("args", "what", "fix"), USAGE_ERRORS[:5])
def test_the_installed_program_ends_a_usage_error_with_one_line_and_exit_code_2(args, what, fix, tmp_path: Path) -> None:
    done = _run_program(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stdout == "" and "Traceback" not in done.stderr and "╭" not in done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith(what) and done.stderr.rstrip("\n").endswith(fix), done.stderr
    assert "\x1b[" not in done.stderr


def test_the_installed_program_still_shows_help_with_exit_code_0(tmp_path: Path) -> None:
    for args in (("--help",), ("run", "--help")):
        done = _run_program(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "Usage: losslab" in done.stdout and done.stderr == ""
    bare = _run_program(cwd=tmp_path)  # no command: the help, not an error line
    assert "Usage: losslab" in bare.stdout and "recommend" in bare.stdout and "error:" not in bare.stderr


#: What only a command that trains or draws needs: ``--help`` and option parsing must not load them.
HEAVY = ("jax", "scipy", "pandas", "matplotlib", "sklearn", "optax", "losslab.cli._commands", "losslab.engine")


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["replicate", "--help"], ["--version"],
                                  ["run", "--seed", "x"], ["nonsense"]])
def test_help_and_usage_errors_load_no_heavy_module(args: list[str]) -> None:
    code = ("import sys\nfrom losslab.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print('loaded:', [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, check=False)
    assert "loaded: []" in done.stderr, done.stderr


@pytest.mark.parametrize("command, listed", [("losses", "categorical_crossentropy"), ("problems", "blobs")])
def test_the_catalogues_load_neither_the_engine_nor_the_statistics_nor_the_figures(command: str, listed: str) -> None:
    code = ("import sys\nfrom losslab.cli import app\ntry:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('loaded:', [m for m in ('losslab.cli._commands', 'losslab.engine', 'losslab.analysis', 'optax', "
            "'matplotlib') if m in sys.modules], file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code, command], capture_output=True, text=True, timeout=120, check=False)
    assert "loaded: []" in done.stderr and listed in done.stdout, done.stderr


def test_the_package_root_loads_its_names_when_first_used() -> None:
    code = """
import sys
import losslab
assert not [m for m in ("jax", "scipy", "pandas", "matplotlib", "losslab.results") if m in sys.modules]
import losslab.replicate, losslab.predict  # the submodules do not hide the functions of the same names
assert callable(losslab.replicate) and callable(losslab.predict) and losslab.Settings(epochs=2).epochs == 2
assert set(losslab.__all__) <= set(dir(losslab)) and all(hasattr(losslab, name) for name in losslab.__all__)
from losslab.results import Study  # imported on its own, a result still shows itself in a notebook
from losslab.analysis import Comparison, Verification
assert all(callable(cls._repr_html_) for cls in (Study, Comparison, Verification, losslab.Replication))
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_a_truncated_gzip_file_is_refused_with_one_line(tmp_path: Path) -> None:
    """A truncated .csv.gz used to end in click's "Aborted!" with exit code 1."""
    path = tmp_path / "houses.csv.gz"
    rng = np.random.default_rng(0)
    pd.DataFrame({"x": rng.normal(size=2000), "y": rng.normal(size=2000)}).to_csv(path, index=False)
    path.write_bytes(path.read_bytes()[:-200])
    done = _run_program("run", "--data", path, "--target", "y", "--loss", "mse", "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert "houses.csv.gz" in done.stderr and "truncated or not a valid gzip file" in done.stderr
    assert "Aborted" not in done.stderr and not (tmp_path / "out").exists()
    assert_one_error_line(invoke("run", "--data", path, "--target", "y", "--loss", "mse", "--out", tmp_path / "out"),
                          "truncated or not a valid gzip file")


@pytest.mark.parametrize("seed", ["-1", "4294967296"])
def test_a_split_seed_out_of_range_is_refused_with_one_line(seed: str, tmp_path: Path) -> None:
    assert_one_error_line(invoke("run", "iris", "--loss", "cce", "--split-seed", seed, "--out", tmp_path), "--split-seed")
    done = _run_program("recommend", "iris", "--split-seed", seed, "--out", tmp_path, cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith("error: ") and f"got {seed}" in done.stderr and "Traceback" not in done.stderr


def test_replicate_json_carries_the_distribution_and_the_reasoned_verdict(tmp_path: Path) -> None:
    result = invoke("replicate", "--repeats", "3", "--epochs", "3", "--json", "--out", tmp_path)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    cases = {row["case"]: row for row in payload["cases"]}
    for key in ("4.1", "4.4", "4.9"):
        row = cases[key]
        assert {"test_median", "test_q25", "test_q75", "claim_share", "agrees", "reason"} <= set(row)
        assert row["test_q25"] <= row["test_median"] <= row["test_q75"]
        assert row["agrees"] in ("yes", "partly", "no") and row["reason"].endswith(f"/{row['claim_of']} runs")
    assert cases["4.4"]["reported_test_percentile"] is not None
    assert cases["ext-2"]["agrees"] == "-"
    assert any(note.startswith("Repeated evaluation") for note in payload["notes"])
