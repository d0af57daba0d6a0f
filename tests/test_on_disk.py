"""Tables kept on disk: read a block of rows at a time, the same problem as a table read whole.

The oracle is losslab's own in-memory path, itself checked against scikit-learn and pandas in
test_data.py: every file below is prepared both ways, with blocks of a few dozen rows so that
every rule meets a block boundary, and must give the same problem to the last bit (features,
targets, names, preparation record, notes) or the same error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from losslab.errors import DataError, LosslabError
from losslab.problems import Problem, _on_disk
from losslab.problems._kept import FEATURES

FIELDS = ("name", "kind", "n_classes", "feature_names", "target_name", "class_names", "description", "target_scale",
          "target_mean", "target_policy")


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    monkeypatch.setattr(_on_disk, "READ_BYTES", 2_000)  # 30-250 rows a block for these tables
    monkeypatch.setattr(_on_disk, "MIN_BLOCK_ROWS", 1)


def _both(path: Path, target: str, tmp_path: Path, **options):
    """The problem (or the error, as its type and message) and the notes, read whole and kept on disk."""
    results = []
    for on_disk in (False, True):
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            try:
                kept = {"data_dir": tmp_path / "tables"} if on_disk else {}
                result = Problem.from_file(path, target, on_disk=on_disk, **kept, **options)
            except LosslabError as exc:
                result = (type(exc), str(exc))
        results.append((result, [(w.category, str(w.message)) for w in said]))
    return results


def assert_same(path: Path, target: str, tmp_path: Path, **options) -> Problem | tuple:
    (memory, notes), (disk, disk_notes) = _both(path, target, tmp_path, **options)
    assert disk_notes == notes
    if isinstance(memory, tuple):
        assert disk == memory
        return memory
    assert isinstance(disk.X_train, np.memmap)
    for name in ("X_train", "X_test", "y_train", "y_test"):
        a, b = getattr(memory, name), getattr(disk, name)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), name
    assert {f: getattr(disk, f) for f in FIELDS} == {f: getattr(memory, f) for f in FIELDS}
    assert dict(disk.preparation) == dict(memory.preparation)
    return disk


def _tables(folder: Path) -> list[Path]:
    """The prepared tables in ``folder`` (not their lock files)."""
    return [path for path in folder.iterdir() if not path.name.startswith(".")]


def _mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "age": rng.integers(18, 90, n),
        "income": rng.lognormal(10, 1, n),
        "score": rng.normal(size=n).astype(np.float32),
        "plan": rng.choice(["basic", "plus", "pro"], n),
        "region": rng.choice(["north", "south", "east", "west", "centre"], n),
        "flag": rng.choice([True, False], n),
        "constant": 7,
        "churn": rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
        "spend": rng.gamma(2.0, 50.0, n),
        "visits": rng.poisson(3.0, n),
    })


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".csv.gz", ".tsv"])
@pytest.mark.parametrize(("target", "options"), [
    ("churn", {}),
    ("spend", {}),
    ("spend", {"center_target": False, "test_size": 0.3, "seed": 4}),
    ("visits", {}),  # counts: a note
    ("plan", {"features": ["age", "income", "region"]}),
    ("region", {"drop": ["plan", "customer_id"], "kind": "multiclass"}),
    ("churn", {"features": ["customer_id", "age"]}),  # a row ID kept when named
    ("churn", {"features": ["constant", "age"]}),  # refused: constant
])
def test_a_table_on_disk_is_the_table_read_whole(tmp_path, suffix, target, options) -> None:
    path = tmp_path / f"table{suffix}"
    frame = _mixed_frame()
    if suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    assert_same(path, target, tmp_path, **options)


def test_parquet_columns_of_every_kind(tmp_path) -> None:
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({
        "cat": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
        "nullable": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n)), dtype="Int64"),
        "small": rng.integers(0, 3, n).astype(np.int8),
        "x": rng.normal(size=n),
        "label": pd.Categorical(rng.choice(["b", "a", "c"], n), categories=["c", "b", "a"]),
        "empty": [None] * n,
        "bool_target": rng.choice([True, False], n),
    })
    frame.index = pd.Index(np.arange(5, 5 + n), name="row")  # a named index: read as the index, not a column
    path = tmp_path / "kinds.parquet"
    frame.to_parquet(path)
    assert_same(path, "label", tmp_path)  # the categories' own order
    assert_same(path, "label", tmp_path, dropna=True)
    assert_same(path, "bool_target", tmp_path, dropna=True)
    assert_same(path, "x", tmp_path, dropna=True)


def test_missing_values_are_refused_or_dropped_alike(tmp_path) -> None:
    frame = _mixed_frame(300)
    frame.loc[[3, 150, 299], "income"] = np.nan
    frame.loc[[10, 150], "plan"] = None
    frame.loc[[40], "spend"] = np.inf
    frame.loc[[77], "churn"] = None
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    error, _ = assert_same(path, "churn", tmp_path)
    assert error is DataError
    assert_same(path, "churn", tmp_path, dropna=True)
    assert_same(path, "spend", tmp_path, dropna=True)


def test_columns_that_read_differently_block_by_block(tmp_path) -> None:
    """A CSV column of numbers at the top and words further down is text read whole (pandas);
    on disk its blocks read as numbers, then as text, and it is read again."""
    n = 400
    rng = np.random.default_rng(2)
    mostly_text = np.where(np.arange(n) < 100, rng.integers(0, 9, n).astype(str), rng.choice(["a", "b"], n))
    mostly_numbers = np.where(np.arange(n) == 350, "n/a?", rng.normal(size=n).round(3).astype(str))
    late_flag = np.where(np.arange(n) < 300, rng.choice(["True", "False"], n), rng.choice(["yes", "no"], n))
    frame = pd.DataFrame({"mostly_text": mostly_text, "x": rng.normal(size=n), "late_flag": late_flag,
                          "y": rng.integers(0, 2, n)})
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    problem = assert_same(path, "y", tmp_path)
    assert "mostly_text_a" in problem.feature_names and "late_flag_True" in problem.feature_names
    frame["mostly_numbers"] = mostly_numbers
    frame.to_csv(path, index=False)
    error, message = assert_same(path, "y", tmp_path)
    assert "mostly numbers but 1 of 400" in message


@pytest.mark.parametrize("column", [
    pd.Series(pd.date_range("2020-01-01", periods=200).strftime("%Y-%m-%d")),  # dates as text
    pd.Series([f"free text number {i}" for i in range(200)]),  # too many categories
    pd.Series([f"code{i}" for i in range(200)]),  # a text row ID: left out with a note
    pd.Series(np.r_[np.arange(199), 5]),  # whole numbers, one repeated: no row ID
    pd.Series(np.arange(2000, 2200)),  # a run named like a year below: a feature
])
def test_the_column_rules_decide_alike(tmp_path, column) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"year": column, "x": rng.normal(size=200), "y": rng.normal(size=200)})
    for suffix in (".csv", ".parquet"):
        path = tmp_path / f"rules{suffix}"
        frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
        assert_same(path, "y", tmp_path)


def _write(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_parquet(path, row_group_size=97) if path.suffix == ".parquet" else frame.to_csv(path, index=False)
    return path


def test_what_a_review_found_reads_alike(tmp_path) -> None:
    """Files whose columns read differently block by block, or whose target has gaps."""
    rng = np.random.default_rng(6)
    n = 600
    x, y = rng.normal(size=n), rng.choice(["a", "b"], n)
    flag = np.where(rng.random(n) < 0.5, "True", "False").astype(object)
    flag[550] = ""  # a boolean column with a gap in its last block only
    assert_same(_write(pd.DataFrame({"x": x, "flag": flag, "y": y}), tmp_path / "a.csv"), "y", tmp_path, dropna=True)
    assert_same(_write(pd.DataFrame({"x": x, "z": rng.normal(size=n), "t": flag}), tmp_path / "b.csv"), "t", tmp_path,
                dropna=True)
    grouped = np.array([f"{int(v):,}" for v in rng.integers(1000, 99999, n)], dtype=object)
    for tail in (["unknown"], ["a", "b", "c"] * 10):  # numbers with thousands separators, then words
        income = grouped.copy()
        income[n - len(tail):] = tail
        assert_same(_write(pd.DataFrame({"x": x, "income": income, "y": y}), tmp_path / "c.csv"), "y", tmp_path)
    small = np.where(np.arange(n) < 500, ["1,000", "2,000", "3,500"] * 200, ["a", "b", "c"] * 200)
    assert_same(_write(pd.DataFrame({"x": x, "size": small, "y": y}), tmp_path / "d.csv"), "y", tmp_path)
    truth = pd.array(rng.choice([True, False], n), dtype="boolean")
    truth[[5, 300]] = pd.NA  # pandas' nullable booleans
    for dropna in (False, True):
        assert_same(_write(pd.DataFrame({"x": x, "t": truth}), tmp_path / "e.parquet"), "t", tmp_path, dropna=dropna)
    numbers_as_text = pd.DataFrame({"x": x, "t": rng.normal(size=n).round(4).astype(str)})
    assert_same(_write(numbers_as_text, tmp_path / "f.parquet"), "t", tmp_path)


def test_rows_that_are_not_there_read_alike(tmp_path) -> None:
    (tmp_path / "header.csv").write_text("x,y\n")
    assert_same(tmp_path / "header.csv", "y", tmp_path)
    empty = pd.DataFrame({"x": pd.Series([], dtype=float), "y": pd.Series([], dtype=int)})
    assert_same(_write(empty, tmp_path / "empty.parquet"), "y", tmp_path)
    nothing = pd.DataFrame({"x": np.arange(50.0), "y": pd.Series([None] * 50, dtype=object)})
    assert_same(_write(nothing, tmp_path / "null.parquet"), "y", tmp_path)
    assert_same(tmp_path / "null.parquet", "y", tmp_path, dropna=True)
    ragged = tmp_path / "ragged.csv"  # a stray field far down the file
    ragged.write_text("a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(300)) + "1,2,3,4\n")
    error, message = assert_same(ragged, "y", tmp_path)
    assert error is DataError and "line 302 has 4 fields but the header has 3" in message


def test_european_csv_and_thousands(tmp_path) -> None:
    path = tmp_path / "euro.csv"
    rows = [f"{1000 + 37 * i:,};{i % 7},5;{'rot' if i % 3 else 'blau'};{i % 2}".replace(",", ".", 1) for i in range(120)]
    path.write_text("\n".join(["preis;menge;farbe;ziel", *rows]) + "\n")  # 1.037;3,5;rot;1
    problem = assert_same(path, "ziel", tmp_path)
    assert problem.feature_names[:2] == ("preis", "menge")


def test_more_rows_than_a_block_of_the_preparation(tmp_path, monkeypatch) -> None:
    """150,000 rows: the scaler is fitted over three blocks of 65,536 training rows, which the
    table's blocks of reading (about 11,000 rows) do not line up with."""
    monkeypatch.setattr(_on_disk, "READ_BYTES", 400_000)
    rng = np.random.default_rng(4)
    n = 150_000
    frame = pd.DataFrame({"a": rng.normal(5, 3, n), "b": rng.integers(0, 100, n), "c": rng.choice(list("pqrs"), n),
                          "y": rng.integers(0, 3, n)})
    path = tmp_path / "long.parquet"
    frame.to_parquet(path, row_group_size=7_000)
    assert_same(path, "y", tmp_path)


def test_a_prepared_table_is_kept_and_found_again(tmp_path) -> None:
    path = tmp_path / "t.csv"
    _mixed_frame().to_csv(path, index=False)
    with warnings.catch_warnings(record=True) as first:
        warnings.simplefilter("always")
        one = Problem.from_file(path, "churn", on_disk=True, data_dir=tmp_path / "tables")
    (folder,) = _tables(tmp_path / "tables")
    assert sorted(p.name for p in folder.iterdir()) == [FEATURES, "problem.json", "problem.npz", "table.json"]
    stamp = (folder / FEATURES).stat().st_mtime_ns
    with warnings.catch_warnings(record=True) as again:
        warnings.simplefilter("always")
        two = Problem.from_file(path, "churn", on_disk=True, data_dir=tmp_path / "tables")
    assert (folder / FEATURES).stat().st_mtime_ns == stamp  # found, not prepared again
    assert [str(w.message) for w in again] == [str(w.message) for w in first] and first  # the notes said again
    assert np.array_equal(one.X_train, two.X_train)
    Problem.from_file(path, "churn", on_disk=True, data_dir=tmp_path / "tables", seed=1)
    assert len(_tables(tmp_path / "tables")) == 2  # other options: another table
    os.utime(path, ns=(stamp + 10**9, stamp + 10**9))
    Problem.from_file(path, "churn", on_disk=True, data_dir=tmp_path / "tables")
    assert len(_tables(tmp_path / "tables")) == 3  # the file changed: prepared again


def test_a_prepared_table_is_found_by_everything_that_makes_it(tmp_path) -> None:
    """The name and the path as given, the feature columns in any form: another of any is another
    table (a name or a long selection once found the wrong one)."""
    frame = pd.DataFrame(np.random.default_rng(7).normal(size=(200, 130)), columns=[f"c{i}" for i in range(130)])
    frame["y"] = np.arange(200) % 2
    path = _write(frame, tmp_path / "t.csv")
    tables = tmp_path / "tables"
    some, others = pd.Index([f"c{i}" for i in range(120)]), pd.Index([f"c{i}" for i in range(1, 121)])
    first = Problem.from_file(path, "y", on_disk=True, data_dir=tables, features=some)
    assert Problem.from_file(path, "y", on_disk=True, data_dir=tables, features=others).feature_names[0] == "c1"
    assert Problem.from_file(path, "y", on_disk=True, data_dir=tables, features=(c for c in some)).feature_names == \
        first.feature_names  # a generator, as read whole
    assert Problem.from_file(path, "y", on_disk=True, data_dir=tables, features=some, name="my data").name == "my data"
    assert Problem.from_file(path, "y", on_disk=True, data_dir=tables, features=some, name="my-data").name == "my-data"
    os.chdir(tmp_path)
    assert Problem.from_file("t.csv", "y", on_disk=True, data_dir=tables, features=some).preparation["source"] == "t.csv"


def test_a_killed_preparation_leaves_nothing_that_counts(tmp_path) -> None:
    """A preparation killed midway leaves a temporary folder, never the table's; the next one
    removes it and prepares the table whole. Two at once: one prepares, the other waits and finds it."""
    path = _write(_mixed_frame(3000), tmp_path / "t.csv")
    script = ("import sys; from losslab.problems import Problem, _on_disk; _on_disk.READ_BYTES = 2000; "
              "_on_disk.MIN_BLOCK_ROWS = 1; "
              f"Problem.from_file({str(path)!r}, 'churn', on_disk=True, data_dir={str(tmp_path / 'tables')!r}); "
              "print('done')")
    slow = script.replace("_on_disk.MIN_BLOCK_ROWS = 1;", "_on_disk.MIN_BLOCK_ROWS = 1; import time; "
                          "add = _on_disk._Column.add; _on_disk._Column.add = lambda *a: (time.sleep(0.002), add(*a))[1];")
    killed = subprocess.Popen([sys.executable, "-c", slow], stdout=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "tables").glob(".*.partial")) and time.monotonic() < deadline:
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    assert list((tmp_path / "tables").glob(".*.partial")) and not _tables(tmp_path / "tables")
    both = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    assert [process.communicate(timeout=120)[0].strip() for process in both] == ["done", "done"]
    assert len(_tables(tmp_path / "tables")) == 1 and not list((tmp_path / "tables").glob(".*.partial"))


def test_options_that_do_not_apply_are_refused(tmp_path) -> None:
    path = tmp_path / "t.csv"
    _mixed_frame().to_csv(path, index=False)
    with pytest.raises(DataError, match="data_dir .* does not apply with on_disk=False"):
        Problem.from_file(path, "churn", on_disk=False, data_dir=tmp_path)
    with pytest.raises(DataError, match="on_disk must be True, False or None"):
        Problem.from_file(path, "churn", on_disk="yes")


def test_a_table_too_large_for_memory_is_kept_on_disk_with_a_note(tmp_path, monkeypatch) -> None:
    path = tmp_path / "t.csv"
    _mixed_frame().to_csv(path, index=False)
    monkeypatch.setattr(_on_disk, "memory_budget", lambda: 10_000)
    monkeypatch.setenv("LOSSLAB_TABLES_DIR", str(tmp_path / "cache"))
    with pytest.warns(UserWarning, match=r"read a block of rows at a time and its features kept on disk"):
        problem = Problem.from_file(path, "churn")
    assert isinstance(problem.X_train, np.memmap) and (tmp_path / "cache").is_dir()


#: Peak anonymous memory of preparing a file, sampled every 2 ms in a fresh process: the pages
#: of a file mapped into memory count in the resident size too, but go back to the file, not swap.
PEAK_SCRIPT = """
import sys, threading, time
from losslab.problems import Problem, _on_disk

def anonymous():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("RssAnon:"))

peak, done = [anonymous()], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], anonymous())
        time.sleep(0.002)
start = anonymous()
threading.Thread(target=sample, daemon=True).start()
path, how, tables, block = sys.argv[1:]
_on_disk.READ_BYTES = int(block)
Problem.from_file(path, "y", on_disk=how == "disk", **({"data_dir": tables} if how == "disk" else {}))
done.set()
print(max(peak[0], anonymous()) - start)
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="anonymous memory read from Linux's /proc")
def test_memory_grows_with_the_rows_not_with_the_table(tmp_path) -> None:
    """Tables of 64 float columns (512 bytes a row as float64): read whole, each row more takes
    more memory than its values; kept on disk, only the per-row vectors grow (the target, the
    rows kept, the split: under 100 bytes a row), whatever the width. (Memory taken once, for
    the libraries and a block of rows, is the same for both sizes.)"""
    rng = np.random.default_rng(5)
    grown = {}
    for n in (200_000, 600_000):
        path = tmp_path / f"wide{n}.parquet"
        frame = pd.DataFrame(rng.normal(size=(n, 64)), columns=[f"x{i}" for i in range(64)])
        frame["y"] = (frame["x0"] > 0).astype(np.int8)
        frame.to_parquet(path, row_group_size=50_000)
        del frame
        grown[n] = {how: int(subprocess.run([sys.executable, "-c", PEAK_SCRIPT, str(path), how, str(tmp_path / "tables"),
                                             str(4 * 2**20)], capture_output=True, text=True, check=True).stdout)
                    for how in ("memory", "disk")}
    per_row = {how: (grown[600_000][how] - grown[200_000][how]) / 400_000 for how in ("memory", "disk")}
    assert per_row["memory"] > 512 and per_row["disk"] < 100, per_row


def test_the_command_line_keeps_a_table_on_disk_in_its_out_folder(tmp_path) -> None:
    from test_cli import assert_one_error_line, invoke

    path = tmp_path / "churn.csv"
    _mixed_frame(300).to_csv(path, index=False)
    out = tmp_path / "out"
    result = invoke("compare", "--data", path, "--target", "churn", "--loss", "bce", "--loss", "hinge", "--repeats", 2,
                    "--epochs", 2, "--on-disk", "--out", out)
    assert result.exit_code == 0, result.output
    (table,) = _tables(out / "tables")
    (study,) = (out / "studies").iterdir()
    assert (study / FEATURES).samefile(table / FEATURES)  # linked, not copied
    again = invoke("compare", "--data", path, "--target", "churn", "--loss", "bce", "--loss", "hinge", "--repeats", 2,
                   "--epochs", 2, "--in-memory", "--out", out)  # the same problem read whole: the same study, reused
    assert again.exit_code == 0 and "all 4 runs were reused" in again.output, again.output
    assert_one_error_line(invoke("compare", "blobs", "--loss", "cce", "--loss", "kld", "--on-disk"),
                          "--on-disk applies to --data only")
    (tmp_path / "a_file").write_text("")
    assert_one_error_line(invoke("run", "--data", path, "--target", "churn", "--loss", "bce", "--on-disk",
                                 "--out", tmp_path / "a_file"), "cannot write to the output directory")


def test_features_on_disk_larger_than_memory_are_shuffled_by_blocks(tmp_path, monkeypatch) -> None:
    """Every row of such a table anew each epoch would read the file at the disk's random speed;
    blocks of rows anew, and rows within windows of blocks, read it a window at a time. The plan
    decides where the settings leave it, whatever else they say; a shuffle given is kept."""
    from losslab.planning import _plan, plan
    from losslab.settings import Settings

    path = _write(_mixed_frame(), tmp_path / "t.csv")
    disk = Problem.from_file(path, "churn", on_disk=True, data_dir=tmp_path / "tables")
    memory = Problem.from_file(path, "churn", on_disk=False)
    assert plan(disk, ["bce"], range(2)).settings.shuffle == "rows"  # fits in memory
    monkeypatch.setattr(_plan, "memory_budget", lambda: 10_000)
    with pytest.warns(UserWarning, match="memory left here beside the training: each epoch shuffles blocks of 4,096 "
                                         "rows, and the rows within windows of 64 blocks"):
        assert plan(disk, ["bce"], range(2), Settings(epochs=3)).settings.shuffle == "blocks"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plan(disk, ["bce"], range(2), Settings(epochs=3, shuffle="rows")).settings.shuffle == "rows"
        assert plan(memory, ["bce"], range(2)).settings.shuffle == "rows"  # in memory: no pages to read from disk


def test_ctrl_c_while_a_table_is_prepared_leaves_no_half_of_it(tmp_path) -> None:
    rng = np.random.default_rng(8)
    frame = pd.DataFrame(rng.normal(size=(300_000, 12)), columns=[f"x{i}" for i in range(12)])
    frame["y"] = (frame["x0"] > 0).astype(int)
    path = _write(frame, tmp_path / "big.csv")
    losslab = str(Path(sys.executable).with_name("losslab"))
    command = subprocess.Popen([losslab, "compare", "--data", str(path), "--target", "y", "--loss", "bce", "--loss",
                                "hinge", "--repeats", "2", "--epochs", "1", "--on-disk", "--out", str(tmp_path / "out")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "out").glob("tables/.*.partial")) and time.monotonic() < deadline:
        time.sleep(0.02)
    command.send_signal(signal.SIGINT)
    assert command.wait(timeout=30) == 130 and "interrupted" in command.stderr.read()
    assert [p.name for p in (tmp_path / "out" / "tables").iterdir() if not p.name.endswith(".lock")] == []
