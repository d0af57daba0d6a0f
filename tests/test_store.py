"""The study store: resume after a kill, never look complete when it is not, never mix plans."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import losslab
from losslab._arrays import mapped_file
from losslab.engine._cache import _decompress
from losslab.errors import LosslabError
from losslab.planning import plan
from losslab.problems import get_problem
from losslab.settings import Settings
from losslab.problems._kept import FEATURES
from losslab.store import MANIFEST, fingerprint, kept_runs, load, run_stored

BLOBS = get_problem("blobs")
LOSSLAB = str(Path(sys.executable).with_name("losslab"))


def small_plan(epochs: int = 3, seeds=range(20)):
    return plan(BLOBS, ["cce", "kld"], seeds=seeds, settings=Settings(epochs=epochs))


def test_a_complete_study_is_read_not_reopened(tmp_path) -> None:
    first = run_stored(small_plan(), tmp_path, "x")
    before = (first.path / MANIFEST).read_text()
    again = run_stored(small_plan(), tmp_path, "x")
    assert (first.path / MANIFEST).read_text() == before and again.reused == 40


def test_two_different_plans_on_one_out_folder_never_mix_their_exports(tmp_path) -> None:
    commands = [[LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "8", "--epochs", str(e),
                 "--out", str(tmp_path)] for e in (20, 21)]
    processes = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for c in commands]
    assert all(p.wait(timeout=300) == 0 for p in processes)
    epochs = pd.read_csv(tmp_path / "compare_blobs_history.csv")["epoch"].max()
    summary_runs = pd.read_csv(tmp_path / "compare_blobs_runs.csv")
    curves = pd.read_parquet(tmp_path / "compare_blobs_history.parquet")["epoch"].max()
    assert epochs == curves and len(summary_runs) == 16  # one command's whole set, whichever wrote last
    assert len(list((tmp_path / "studies").iterdir())) == 2


def test_a_second_run_of_the_same_plan_reuses_every_run_and_equals_the_first(tmp_path) -> None:
    first = run_stored(small_plan(), tmp_path, "compare_blobs")
    second = run_stored(small_plan(), tmp_path, "compare_blobs")
    assert (first.reused, second.reused) == (0, 40) and first.path == second.path
    pd.testing.assert_frame_equal(first.study.runs, second.study.runs)
    pd.testing.assert_frame_equal(first.study.history, second.study.history)
    assert json.loads((first.path / MANIFEST).read_text())["status"] == "complete"
    loaded = load(first.path)
    pd.testing.assert_frame_equal(loaded.runs, first.study.runs)
    assert loaded.losses == first.study.losses and loaded.seeds == first.study.seeds
    assert losslab.compare(loaded).verdicts == losslab.compare(first.study).verdicts


def test_a_different_plan_gets_its_own_directory(tmp_path) -> None:
    a = run_stored(small_plan(epochs=3), tmp_path, "compare_blobs")
    b = run_stored(small_plan(epochs=4), tmp_path, "compare_blobs")
    assert a.path != b.path and b.reused == 0
    assert fingerprint(small_plan(epochs=3)) == fingerprint(small_plan(epochs=3))
    assert fingerprint(small_plan(seeds=range(21))) != fingerprint(small_plan())


def test_an_incomplete_or_foreign_directory_is_refused_with_the_fix(tmp_path) -> None:
    stored = run_stored(small_plan(), tmp_path, "x")
    manifest = json.loads((stored.path / MANIFEST).read_text())
    (stored.path / MANIFEST).write_text(json.dumps({**manifest, "status": "running"}))
    with pytest.raises(LosslabError, match="incomplete .*run the same command again"):
        load(stored.path)
    with pytest.raises(LosslabError, match="not a losslab study directory"):
        load(tmp_path)


def test_an_unreadable_chunk_is_trained_again(tmp_path) -> None:
    first = run_stored(small_plan(), tmp_path, "x")
    chunk = sorted((first.path / "chunks").iterdir())[0]
    chunk.write_bytes(b"not an array")
    manifest = json.loads((first.path / MANIFEST).read_text())  # as if interrupted before the end
    (first.path / MANIFEST).write_text(json.dumps({**manifest, "status": "running"}))
    again = run_stored(small_plan(), tmp_path, "x")
    assert again.reused == 40 - 16
    pd.testing.assert_frame_equal(again.study.runs, first.study.runs)


def _command(out: Path, *extra: str) -> list[str]:
    return [LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "96", "--epochs", "150",
            "--json", "--out", str(out), *extra]


def _wait_for_chunks(out: Path, process: subprocess.Popen, at_least: int = 1) -> None:
    """Until ``at_least`` chunks are finished (their values written, the last file of a chunk)."""
    deadline = time.time() + 120
    while time.time() < deadline and process.poll() is None:
        finished = [p for p in out.glob("studies/*/chunks/*.npy") if not p.name.endswith(".outputs.npy")]
        if len(finished) >= at_least:
            return
        time.sleep(0.02)
    pytest.fail("no chunk was written before the command ended")


def test_killed_midway_the_study_is_never_complete_and_the_rerun_equals_an_uninterrupted_run(tmp_path) -> None:
    killed = tmp_path / "killed"
    process = subprocess.Popen(_command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_chunks(killed, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    (study_dir,) = (killed / "studies").iterdir()
    assert json.loads((study_dir / MANIFEST).read_text())["status"] == "running"
    assert not list(killed.glob("compare_blobs_*.csv"))  # no export claims a result
    with pytest.raises(LosslabError, match="incomplete"):
        load(study_dir)

    resumed = subprocess.run(_command(killed), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    payload = json.loads(resumed.stdout)
    assert 0 < payload["reused"] < 192
    assert json.loads((study_dir / MANIFEST).read_text())["status"] == "complete"

    clean = subprocess.run(_command(tmp_path / "clean"), capture_output=True, text=True, timeout=300)
    assert clean.returncode == 0, clean.stderr
    pd.testing.assert_frame_equal(pd.read_csv(killed / "compare_blobs_runs.csv"), pd.read_csv(tmp_path / "clean" / "compare_blobs_runs.csv"))
    pd.testing.assert_frame_equal(pd.read_parquet(study_dir / "history.parquet"),
                                  load(next((tmp_path / "clean" / "studies").iterdir())).history)


def test_ctrl_c_says_in_one_line_what_was_kept(tmp_path) -> None:
    process = subprocess.Popen(_command(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for_chunks(tmp_path, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("interrupted:") and "run the same command again to resume" in lines[0]
    said = re.search(r"interrupted: (\d+) finished runs? (?:are|is) kept in (\S+);", lines[0])
    assert said and said[2] == str(tmp_path / "studies"), lines[0]
    resumed = subprocess.run(_command(tmp_path), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    # what the line said is what the rerun reused (a chunk landing as the process stopped may add one)
    assert 0 < int(said[1]) <= json.loads(resumed.stdout)["reused"] <= int(said[1]) + 16


def test_kept_runs_counts_the_finished_chunks_of_one_study(tmp_path) -> None:
    kept = run_stored(small_plan(epochs=2, seeds=range(20)), tmp_path, "a", save_models=True)  # chunks of 16 and 4
    other = run_stored(small_plan(epochs=2, seeds=range(3)), tmp_path, "b")  # beside it, in the same folder
    (kept.path / "chunks" / ".cce-0-16-x.npy.123.partial").write_bytes(b"")  # an interrupted write
    assert kept_runs(kept.path, save_models=True) == kept.study.n_runs == 40
    assert kept_runs(other.path) == 6
    next(kept.path.glob("chunks/*.params.npz")).unlink()  # a chunk without its models trains again
    assert kept_runs(kept.path, save_models=True) in (40 - 16, 40 - 4)


def test_two_commands_on_one_study_never_corrupt_it(tmp_path) -> None:
    command = [LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "32", "--epochs", "20",
               "--json", "--out", str(tmp_path)]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in processes]
    assert any(code == 0 for code, _ in results)
    for code, stderr in results:  # the others were refused in one line, or reused the finished study
        assert code == 0 or (code == 2 and "another losslab process is writing the study" in stderr), stderr
    (study_dir,) = (tmp_path / "studies").iterdir()
    assert len(load(study_dir).runs) == 64
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".partial")]
    assert len(pd.read_csv(tmp_path / "compare_blobs_runs.csv")) == 64


def test_show_renders_a_stored_study_without_training(tmp_path) -> None:
    out = tmp_path / "out"
    first = subprocess.run([LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "3",
                            "--epochs", "3", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    shown = subprocess.run([LOSSLAB, "show", str(out), "--out", str(tmp_path / "shown"), "--json"],
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr
    payload = json.loads(shown.stdout)
    assert payload["studies"][0]["verdicts"] == [
        "categorical_crossentropy vs kl_divergence (3 paired seeds): identical on every paired seed (3/3)."]
    assert (tmp_path / "shown" / "compare_blobs_curves.png").exists()
    assert os.path.getsize(tmp_path / "shown" / "compare_blobs_runs.csv") > 0


def test_a_corrupted_compile_cache_entry_is_replaced_not_reread_forever(tmp_path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "LOSSLAB_CACHE_DIR": str(cache)}

    def run(out: str) -> str:
        result = subprocess.run([LOSSLAB, "run", "circles", "--loss", "bce", "--epochs", "2", "--out", str(tmp_path / out)],
                                capture_output=True, text=True, timeout=300, env=env)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "(cached for the next time)" in run("a")
    # the programs of a loss (start, train a block of epochs, outputs); the training program is the
    # largest, and the only one sure to take longer to compile than the cache's 0.2 s threshold
    entries = sorted(cache.glob("*-cache"), key=lambda entry: entry.stat().st_size)
    assert entries
    for entry in entries:
        entry.write_bytes(b"garbage")
    run("b")  # meets the broken entries, removes them, compiles and writes them anew
    for entry in entries:
        _decompress(entry.read_bytes())  # readable again (JAX alone would keep re-reading the garbage)
    assert entries[-1].stat().st_size > 1000


def test_a_study_reused_whole_keeps_the_timings_it_was_trained_with(tmp_path) -> None:
    from losslab.cli._commands import _timing_line

    first = run_stored(small_plan(epochs=2, seeds=[3, 4]), tmp_path, "t")
    again = run_stored(small_plan(epochs=2, seeds=[3, 4]), tmp_path, "t")
    assert first.study.timings["train_s"] > 0 and again.study.timings == pytest.approx(first.study.timings)
    assert again.reused == again.study.n_runs
    assert _timing_line([again]).startswith(f"[dim]all {again.study.n_runs} runs were reused from the study in")
    assert "waiting" not in _timing_line([again])  # this command compiled and trained nothing


def test_no_caching_is_claimed_when_the_cache_cannot_be_written(tmp_path, monkeypatch) -> None:
    from losslab.cli._commands import _timing_line
    from losslab.engine import _cache

    monkeypatch.setenv("LOSSLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(_cache.os, "access", lambda path, mode: False)  # as for a read-only directory
    _cache.enable_compilation_cache.cache_clear()
    try:
        stored = run_stored(small_plan(epochs=2, seeds=[5]), tmp_path, "x")
    finally:
        _cache.enable_compilation_cache.cache_clear()  # the next run enables the real cache again
    assert stored.study.timings["compile_cache"] == ""
    assert "cached for the next time" not in _timing_line([stored])


def test_show_keeps_the_margin_and_alpha_of_the_comparison(tmp_path) -> None:
    out = tmp_path / "out"
    first = subprocess.run([LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "hinge", "--repeats", "3", "--epochs", "3",
                            "--margin", "0.2", "--alpha", "0.2", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert first.returncode == 2 and "hinge is a two-class loss" in first.stderr  # refused: pick valid losses
    first = subprocess.run([LOSSLAB, "compare", "blobs", "--loss", "cce", "--loss", "categorical_hinge", "--repeats", "3",
                            "--epochs", "3", "--margin", "0.2", "--alpha", "0.2", "--out", str(out)],
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    shown = subprocess.run([LOSSLAB, "show", str(out), "--json"], capture_output=True, text=True, timeout=300)
    payload = json.loads(shown.stdout)
    assert payload["studies"][0]["alpha"] == 0.2 and payload["studies"][0]["pairs"][0]["margin"] == 0.2


def test_a_study_keeps_its_features_once_and_maps_them_back(tmp_path) -> None:
    """The features are kept as one float32 ``.npy`` and loaded as a memory map equal to them; a
    problem whose features are such a file (a loaded study, a table kept on disk) is linked into
    the next study, not copied."""
    problem = get_problem("wine")
    first = run_stored(plan(problem, ["cce"], seeds=range(2), settings=Settings(epochs=2)), tmp_path, "a")
    kept = first.path / FEATURES
    np.testing.assert_array_equal(np.load(kept), problem.pool())
    loaded = load(first.path).plan.problem
    assert isinstance(loaded.X_train, np.memmap) and mapped_file(loaded.pool()) == str(kept)
    np.testing.assert_array_equal(loaded.X_train, problem.X_train)
    np.testing.assert_array_equal(loaded.X_test, problem.X_test)
    second = run_stored(plan(loaded, ["cce"], seeds=range(3), settings=Settings(epochs=2)), tmp_path, "b")
    assert os.path.samefile(second.path / FEATURES, kept)
    assert fingerprint(plan(loaded, ["cce"], seeds=range(2), settings=Settings(epochs=2))) == \
        json.loads((first.path / MANIFEST).read_text())["fingerprint"]
