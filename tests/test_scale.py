"""Scale: epochs and rows in blocks, chunk sizes, sweeps in one compiled program, and Ray."""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import losslab
from losslab import Settings, engine
from losslab._arrays import is_aligned
from losslab.cli import app
from losslab.engine import Backend, _program, run_plan, seed_keys
from losslab.errors import SettingsError
from losslab.planning import StudySize, _memory, estimate_bytes, plan
from losslab.models import MLP
from losslab.problems import Problem, get_problem
from losslab.sweep import sweep

CIRCLES = get_problem("circles")


def _values(study_plan) -> dict[str, np.ndarray]:
    return run_plan(study_plan).values


def test_epochs_in_blocks_train_exactly_as_all_at_once(monkeypatch) -> None:
    study_plan = plan(CIRCLES, ["bce", "hinge"], range(3), Settings(epochs=12))
    whole = _values(study_plan)
    monkeypatch.setattr(_memory, "ORDER_BYTES", 16 * 500 * 4 * 4)  # room for 4 epochs' orders: 3 blocks
    assert _memory.epoch_block(12, 500, 16) == 4
    blocked = _values(study_plan)
    for loss in study_plan.losses:
        np.testing.assert_array_equal(blocked[loss], whole[loss])


def test_a_block_is_a_divisor_of_the_epochs_that_fits() -> None:
    most = _memory.ORDER_BYTES // (16 * 750_000 * 4)  # a 1,000,000-row table's orders per epoch
    block = _memory.epoch_block(100, 750_000, 16)
    assert 100 % block == 0 and block <= most and block > most // 2
    assert _memory.epoch_block(97, 750_000, 16) == 1  # a prime number of epochs: one at a time


def test_rows_evaluated_in_blocks_match_one_pass(monkeypatch) -> None:
    study_plan = plan(get_problem("blobs"), ["cce"], range(2), Settings(epochs=3))
    whole = run_plan(study_plan)
    monkeypatch.setattr(_program, "EVAL_ROWS", 300)  # 1,000 rows in 4 blocks, the last padded
    _program.build_program.cache_clear()
    monkeypatch.setattr(losslab.engine, "_COMPILED", {})
    blocked = run_plan(study_plan)
    _program.build_program.cache_clear()
    np.testing.assert_allclose(blocked.values["categorical_crossentropy"], whole.values["categorical_crossentropy"],
                               rtol=2e-6)
    np.testing.assert_allclose(blocked.outputs["categorical_crossentropy"], whole.outputs["categorical_crossentropy"],
                               rtol=2e-6, atol=1e-7)


def _working_bytes(n_test: int) -> tuple[int, int]:
    """XLA's temporary bytes of the train and outputs programs of a 75,000-row training set with
    ``n_test`` test rows (a pool above EVAL_ROWS: evaluated in blocks)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(75_000 + n_test, 4)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    problem = Problem("rows", "binary", X[:75_000], y[:75_000], X[75_000:], y[75_000:])
    study_plan = plan(problem, ["bce"], [0], Settings(epochs=1, batch_size=1024, hidden=(8,)), split="fixed",
                      validation=0, chunk=16)  # both sizes evaluate whole blocks of 4,096 rows a run
    spec = study_plan.specs[0]
    program = _program.build_program(spec, 1, _program.Shape.of(study_plan.settings), study_plan.model, 4)
    shapes = engine._ChunkInputs.shapes(study_plan, 1)
    data = _program.Data.shapes(len(X), 4, study_plan.targets[spec.name])
    carry = jax.eval_shape(program.start, shapes["keys"], shapes["hypers"])
    train = program.train.lower(data, carry, shapes["rows"], shapes["mask"], shapes["splits"], shapes["hypers"]).compile()
    outputs = program.outputs.lower(data, carry[0], shapes["evaluated"]).compile()
    return train.memory_analysis().temp_size_in_bytes, outputs.memory_analysis().temp_size_in_bytes


def test_evaluating_more_rows_takes_no_more_working_memory() -> None:
    """Each run's rows are evaluated a block at a time, summed as they go: 300,000 more test rows
    (16 runs x 300,000 x 3 values would be 58 MB) leave the programs' working memory as it was."""
    few, many = _working_bytes(25_000), _working_bytes(325_000)
    assert many[0] - few[0] < 2**20 and many[1] - few[1] < 2**20


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="an accelerator copies the pool to its own memory")
def test_the_engine_trains_on_the_problems_own_features() -> None:
    """One float32 copy of the features: a problem from data keeps them as one aligned array,
    which a CPU device uses in place; features held otherwise are copied once, into such an array."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"]).assign(y=rng.integers(0, 2, 200))
    problem = Problem.from_frame(frame, "y")
    assert problem.X_train.dtype == np.float32 and is_aligned(problem.pool())
    study_plan = plan(problem, ["bce"], [0], Settings(epochs=1))
    data = _program.Data.of(study_plan.problem.pool(), study_plan.targets["binary_crossentropy"])
    assert data.X.unsafe_buffer_pointer() == problem.X_train.ctypes.data
    np.testing.assert_array_equal(data.X, np.concatenate([problem.X_train, problem.X_test]))

    pool = CIRCLES.pool()  # the tutorial's problem holds float64 halves
    assert pool.dtype == np.float32 and is_aligned(pool)
    np.testing.assert_array_equal(pool, np.concatenate([CIRCLES.X_train, CIRCLES.X_test]).astype(np.float32))
    data = _program.Data.of(pool, plan(CIRCLES, ["bce"], [0], Settings(epochs=1)).targets["binary_crossentropy"])
    assert data.X.unsafe_buffer_pointer() == pool.ctypes.data


def test_a_wide_table_is_evaluated_fewer_rows_at_a_time() -> None:
    assert _program.eval_blocks(16, 100_000, 50) == (4_096, 25)  # 65,536 rows a block in all
    per_block, n_blocks = _program.eval_blocks(16, 100_000, 2_000)
    assert per_block * 16 * 2_000 * 4 <= _memory.EVAL_BLOCK_BYTES < (per_block + 1) * 16 * 2_000 * 4
    assert per_block * n_blocks >= 100_000 > per_block * (n_blocks - 1)
    assert _program.eval_blocks(16, 100, 50) == (100, 1)  # a split smaller than a block: one block


def test_the_memory_estimate_does_not_grow_with_the_rows_evaluated_or_the_epochs_trained() -> None:
    size = StudySize(750_000, 1_000_000, 4, 1, 1, 16, 16)
    base = Settings(epochs=10, batch_size=1024, hidden=(16,))
    ten, thousand = (estimate_bytes(size, base.updated(epochs=e), base.model) for e in (10, 1000))
    tables = 990 * 16 * 2 * _memory.RESULT_ROW_BYTES  # the tidy tables: one row per run, epoch and split
    per_run_history = 990 * 9 * 4 * 16 * 2  # and the history the program returns, per worker
    assert thousand - ten <= tables + per_run_history + _memory.ORDER_BYTES * 2


def test_chunk_is_chosen_per_backend_and_table_and_overridable() -> None:
    assert plan(CIRCLES, ["bce"], range(2)).chunk == losslab.planning.CHUNK  # a CPU here
    rows = losslab.planning.EVAL_ROWS + 1  # a large table: one run a chunk, no padding
    large = Problem("large", "binary", np.zeros((rows, 2), np.float32), np.arange(rows) % 2,
                    np.zeros((10, 2), np.float32), np.arange(10) % 2)
    assert plan(large, ["bce"], range(2), split="fixed").chunks() == [(0,), (1,)]
    small = plan(CIRCLES, ["bce"], range(5), Settings(epochs=3), chunk=2)
    assert small.chunk == 2 and small.chunks() == [(0, 1), (2, 3), (4,)]
    with pytest.raises(SettingsError, match="chunk must be a positive whole number"):
        plan(CIRCLES, ["bce"], range(2), chunk=0)


def test_with_any_chunk_a_seed_trains_the_same_whatever_else_is_in_the_study() -> None:
    alone = _values(plan(CIRCLES, ["bce"], [3], Settings(epochs=4), chunk=4))
    among = _values(plan(CIRCLES, ["bce"], [0, 1, 2, 3, 4], Settings(epochs=4), chunk=4))
    np.testing.assert_array_equal(alone["binary_crossentropy"][0], among["binary_crossentropy"][3])


# compilation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, n_in, units", [(MLP(), 2, 3), (MLP(hidden=(64, 32), activation="tanh"), 7, 1)])
def test_the_start_program_at_its_lower_optimisation_level_gives_the_default_levels_bits(model, n_in, units) -> None:
    start = _program.build_start(model, n_in, units, _program.Shape("sgd", True, 32))
    keys, hypers = seed_keys(range(16)), (np.float32(0.01), np.float32(0.9))
    default, lowered = (start.lower(keys, hypers).compile(options) for options in ({}, engine.START_OPTIONS))
    for a, b in zip(jax.tree_util.tree_leaves(default(keys, hypers)), jax.tree_util.tree_leaves(lowered(keys, hypers))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_losses_with_the_same_output_units_share_one_start_program() -> None:
    blobs = plan(get_problem("blobs"), ["cce", "scce", "categorical_hinge"], range(2), Settings(epochs=2))
    programs = [_program.build_program(spec, blobs.output_units(spec), _program.Shape.of(blobs.settings), blobs.model, 2)
                for spec in blobs.specs]
    assert programs[0].start is programs[1].start is programs[2].start
    assert programs[0].train is not programs[1].train  # one training program per loss (see engine._program)


def test_programs_compiled_ahead_train_exactly_as_programs_compiled_on_demand() -> None:
    settings = Settings(epochs=3, learning_rate=0.0173)  # a learning rate no other test compiles for
    on_demand = run_plan(plan(CIRCLES, ["bce", "squared_hinge"], range(3), settings, split="resample"))
    ahead_plan, unused = (plan(CIRCLES, ["bce", "squared_hinge"], range(3), settings.updated(epochs=epochs),
                               split="resample") for epochs in (3, 7))
    with engine.compiling_ahead([ahead_plan, unused]):
        assert {(id(ahead_plan), "binary_crossentropy"), (id(unused), "squared_hinge")} <= set(engine._AHEAD)
        ahead = run_plan(ahead_plan)
        assert not any(key[0] == id(ahead_plan) for key in engine._AHEAD)  # the run took its programs
    assert not any(key[0] == id(unused) for key in engine._AHEAD)  # and leaving let go of the unused plan
    for loss in on_demand.values:
        np.testing.assert_array_equal(ahead.values[loss], on_demand.values[loss])
        np.testing.assert_array_equal(ahead.outputs[loss], on_demand.outputs[loss])


# sweeps ------------------------------------------------------------------------------------------
def test_a_sweep_compiles_once_per_loss_and_each_setting_equals_its_own_study() -> None:
    settings = Settings(epochs=5)
    result = sweep(CIRCLES, ["bce", "hinge"], range(3), settings, learning_rate=[0.01, 0.1], momentum=[0.5, 0.9])
    assert len(result.studies) == 4 and result.axes == ("learning_rate", "momentum")
    later = [study.timings for study in result.studies[1:]]
    assert all(t["programs"] == 0 for t in later)  # every other setting reused the loss's programs
    alone = losslab.train(CIRCLES, ["bce", "hinge"], range(3), settings.updated(learning_rate=0.1, momentum=0.5))
    (index,) = [i for i, s in enumerate(result.settings) if s == {"learning_rate": 0.1, "momentum": 0.5}]
    np.testing.assert_array_equal(result.studies[index].history["loss_value"], alone.history["loss_value"])


def test_sweep_tables_say_which_loss_wins_where_and_choose_on_validation() -> None:
    problem = get_problem("breast_cancer")
    result = sweep(problem, ["bce", "hinge"], range(4), Settings(epochs=3), learning_rate=[0.001, 0.05])
    summary = result.summary()
    assert len(summary) == 4 and set(summary.columns) >= {"learning_rate", "loss", "test_mean", "selection_mean"}
    best = result.best()
    for row in best.itertuples():  # the best setting has the highest validation accuracy of that loss
        mine = summary[summary["loss"] == row.loss]
        assert row.selection_mean == mine["selection_mean"].max()
        chosen = mine.loc[mine["selection_mean"].idxmax()]
        assert (row.n, row.n_runs, row.n_collapsed) == (chosen["n"], chosen["n_runs"], chosen["n_collapsed"])  # runs counted
    assert (summary["selection_mean"] != summary["test_mean"]).any()  # validation, not test
    assert set(result.wins()["winner"]) <= {"binary_crossentropy", "hinge", "equivalent", "undecided", "mixed"}
    assert len(result.verdicts()) == 2


def test_a_sweep_refuses_what_settings_refuse_before_training() -> None:
    with pytest.raises(SettingsError, match="momentum applies to the sgd optimizer only"):
        sweep(CIRCLES, ["bce", "hinge"], range(2), Settings(optimizer="adam"), momentum=[0.5, 0.9])
    with pytest.raises(SettingsError, match="lists a value twice"):
        sweep(CIRCLES, ["bce", "hinge"], range(2), learning_rate=[0.1, 0.1])


def test_the_sweep_command_says_where_runs_were_left_out(tmp_path) -> None:
    result = CliRunner().invoke(app, ["sweep", "circles", "--loss", "bce", "--loss", "hinge", "--lr", "0.01,0.1",
                                      "--repeats", "5", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "sweep_circles_summary.csv")
    short = summary[summary["n"] < summary["n_runs"]]
    assert len(short) > 0  # hinge collapses on one of these seeds at each rate (a fixed, seeded outcome)
    for row in short.itertuples():
        left = f"{row.n_collapsed} collapsed" if row.n_collapsed else f"{row.n_diverged} diverged"
        assert (f"warning: learning_rate {row.learning_rate}: {row.loss}: {row.n}/{row.n_runs} ({left}) runs finished; "
                "the others are left out of the statistics") in result.output
    assert result.output.count("warning: learning_rate") == len(short)
    assert "Baselines on the same splits (test accuracy): majority 0.496 ± 0.000, logistic 0.462 ± 0.000." in result.output
    again = CliRunner().invoke(app, ["sweep", "circles", "--loss", "bce", "--loss", "hinge", "--lr", "0.01,0.1",
                                     "--repeats", "5", "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    last = again.output.strip().splitlines()[-1]  # nothing trained or compiled this time, and it says so
    assert last == f"all 20 runs were reused from the studies in {tmp_path / 'studies'}"
    shown = CliRunner().invoke(app, ["show", str(tmp_path)])  # each setting's study named, and its files its own
    assert shown.exit_code == 0, shown.output
    assert "learning rate 0.01, momentum 0.9" in shown.output and "learning rate 0.1, momentum 0.9" in shown.output
    files = list((tmp_path / "shown").iterdir())
    assert f"({len(files)} files)" in shown.output and len(files) == 20
    for lr in ("0.1", "0.05"):  # single-loss studies too
        assert CliRunner().invoke(app, ["run", "circles", "--loss", "hinge", "--epochs", "3", "--lr", lr, "--out",
                                        str(tmp_path / "runs")]).exit_code == 0
    shown = CliRunner().invoke(app, ["show", str(tmp_path / "runs"), "--out", str(tmp_path / "runs_shown")])
    files = list((tmp_path / "runs_shown").iterdir())
    assert shown.exit_code == 0 and f"({len(files)} files)" in shown.output and len(files) == 12


# Ray ---------------------------------------------------------------------------------------------
def test_the_ray_backend_gives_the_local_results() -> None:
    ray = pytest.importorskip("ray")
    study_plan = plan(CIRCLES, ["bce", "hinge"], range(18), Settings(epochs=4))  # two chunks per loss
    local = run_plan(study_plan)
    with warnings.catch_warnings():  # Ray forks and at once execs its processes: JAX's threads are not copied
        warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    try:
        remote = run_plan(study_plan, backend=Backend("ray"))
    finally:
        ray.shutdown()
    for loss in study_plan.losses:
        np.testing.assert_array_equal(remote.values[loss], local.values[loss])
        np.testing.assert_array_equal(remote.outputs[loss], local.outputs[loss])


def test_a_backend_is_checked() -> None:
    with pytest.raises(losslab.errors.LosslabError, match="local or ray"):
        Backend("spark")
    with pytest.raises(losslab.errors.LosslabError, match="--backend ray"):
        Backend("local", "ray://head:10001")


def test_a_large_table_trains_in_blocks_of_rows_and_epochs() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100_000, 3))
    problem = Problem.from_arrays(X, (X[:, 0] > 0).astype(int), kind="binary")
    study = losslab.train(problem, ["bce"], [0], Settings(epochs=2, batch_size=1024, learning_rate=0.1, hidden=(8,)))
    assert study.runs["test_accuracy"].item() > 0.9  # 100,000 > EVAL_ROWS: evaluated in two blocks
    np.testing.assert_allclose(study.runs["test_accuracy"], study.runs["test_metric"], atol=1e-12)


def test_every_run_of_a_chunk_reports_its_own_cross_entropy_on_a_large_pool() -> None:
    """XLA once folded the broadcast one-hot targets into the loss's product and, from about 18,000
    rows on, reported the first run's categorical cross-entropy for every run of the chunk."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 20_000)
    X = (rng.normal(size=(10, 20))[y] + rng.normal(size=(20_000, 20))).astype(np.float32)
    problem = Problem("many rows", "multiclass", X[:15_000], y[:15_000], X[15_000:], y[15_000:], n_classes=10)
    values = {}
    for loss in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        study_plan = plan(problem, [loss], (0, 1), Settings(epochs=2), split="fixed", validation=0, chunk=2)
        values[loss] = run_plan(study_plan).values[loss][:, :, :, 0]
    cce, sparse = values["categorical_crossentropy"], values["sparse_categorical_crossentropy"]
    assert not np.array_equal(cce[0], cce[1])
    np.testing.assert_allclose(cce, sparse, rtol=1e-5)  # the same loss, on integer labels


def test_a_setting_where_every_pair_is_equivalent_is_said_to_be_so() -> None:
    from types import SimpleNamespace

    from losslab.sweep import _winner

    def pairs(*rows):
        return SimpleNamespace(pairs=pd.DataFrame(rows, columns=["better", "verdict"]))

    losses = ("a", "b", "c")
    same = pairs(("", "equivalent within ±1.0 pt (TOST p = 0.01)"), ("", "identical on every paired seed (5/5)"),
                 ("", "equivalent within ±1.0 pt (TOST p = 0.03)"))
    assert _winner(losses, same) == "equivalent"
    assert _winner(losses, pairs(("", "equivalent within ±1.0 pt"), ("", "inconclusive: ..."), ("", "equivalent"))) \
        == "undecided"
    assert _winner(losses, pairs(("a", "a better by 2.0 pt"), ("a", "a better by 1.5 pt"), ("", "inconclusive"))) == "a"
    assert _winner(losses, pairs(("a", "a better"), ("", "equivalent"), ("", "equivalent"))) == "mixed"


def test_a_sweep_says_where_a_simple_model_beats_every_loss_and_in_which_units(tmp_path) -> None:
    result = CliRunner().invoke(app, ["sweep", "diabetes", "--loss", "mse", "--loss", "mae", "--lr", "0.001,0.01",
                                      "--repeats", "3", "--epochs", "10", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "note: The poisson_glm baseline scores better than every loss at 2 of 2 settings" in text
    assert "MSE on target divided by its sd (79.08); times 6253 gives the MSE in the units of target." in text


def test_a_batch_size_axis_trains_each_batch_size_for_its_own_default_epochs() -> None:
    """As ``compare --batch-size`` does: about 400 updates at every batch size of own data, unless
    the epochs were chosen (given settings, or ``--epochs``)."""
    from losslab.planning import default_settings

    iris = get_problem("iris")
    result = sweep(iris, ["cce", "kld"], range(1), batch_size=[16, 128])
    epochs = [study.plan.settings.epochs for study in result.studies]
    assert epochs == [default_settings(iris, 16).epochs, default_settings(iris, 128).epochs] and epochs[0] < epochs[1]
    kept = sweep(iris, ["cce", "kld"], range(1), Settings(epochs=3), batch_size=[16, 128])
    assert [study.plan.settings.epochs for study in kept.studies] == [3, 3]
