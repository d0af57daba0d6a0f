"""Verdicts a practitioner can trust on their own data: resampled splits, a validation split,
baselines, collapsed runs, small-sample honesty and the metrics people report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_squared_error

from losslab import Settings
from losslab.analysis import compare, verify
from losslab.errors import SettingsError
from losslab.planning import SplitDesign, plan
from losslab.problems import Problem, get_problem
from losslab.results import run

from test_cli import assert_one_error_line, invoke

QUICK = Settings(epochs=5)


def small_binary(rows: int = 32, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=rows) > 0).astype(int)
    return Problem.from_arrays(X, y, kind="binary")


def regression_problem(rows: int = 200, seed: int = 0) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(scale=0.5, size=rows) + 10
    return Problem.from_arrays(X, y, kind="regression")


# the split design -------------------------------------------------------------------------------
def test_resampled_splits_are_disjoint_stratified_and_drawn_per_seed() -> None:
    problem = get_problem("breast_cancer")
    study_plan = plan(problem, ["binary_crossentropy"], range(3), QUICK)
    assert study_plan.split.method == "resample" and study_plan.splits == ("train", "validation", "test")
    labels = np.concatenate([problem.y_train, problem.y_test])
    n_pool = len(labels)
    rows = [study_plan.rows(seed) for seed in range(3)]
    for r in rows:
        parts = [r.train, r.validation, r.test]
        assert sum(map(len, parts)) == n_pool
        assert len(np.unique(np.concatenate(parts))) == n_pool  # disjoint and covering the pool
        share = labels.mean()
        for part in parts:  # stratified: each part's class share within one row of the pool's
            assert abs(labels[part].mean() - share) <= 1 / len(part) + 1e-12
    assert not np.array_equal(rows[0].test, rows[1].test)
    np.testing.assert_array_equal(study_plan.rows(1).test, rows[1].test)  # a seed always draws the same split


def test_cv_folds_partition_each_repetition() -> None:
    problem = regression_problem(101)
    study_plan = plan(problem, ["mse"], range(10), QUICK, split="cv:5", validation=0)
    tests = [study_plan.rows(seed).test for seed in range(5)]
    assert {len(t) for t in tests} == {20}  # 101 rows: one left out so that the folds are equal
    covered = np.concatenate(tests)
    assert len(np.unique(covered)) == 100
    second = np.concatenate([study_plan.rows(seed).test for seed in range(5, 10)])
    assert not np.array_equal(np.sort(covered), covered) or not np.array_equal(covered, second)


def test_the_tutorial_problems_keep_their_fixed_split_and_accept_another() -> None:
    problem = get_problem("circles")
    fixed = plan(problem, ["binary_crossentropy"], range(2), QUICK)
    assert fixed.split == SplitDesign() and fixed.splits == ("train", "test")
    np.testing.assert_array_equal(fixed.rows(1).train, np.arange(500))
    resampled = plan(problem, ["binary_crossentropy"], range(2), QUICK, split="resample")
    assert resampled.split.varies and len(resampled.rows(0).test) == 500


def test_a_split_option_that_does_not_parse_is_refused_with_the_fix() -> None:
    with pytest.raises(SettingsError, match="cv:K"):
        plan(get_problem("circles"), ["hinge"], range(2), QUICK, split="kfold")


def test_a_seed_trains_the_same_whatever_else_is_in_the_study() -> None:
    problem = get_problem("wine")
    alone = run(plan(problem, ["categorical_crossentropy"], [3], QUICK))
    together = run(plan(problem, ["categorical_crossentropy"], [1, 2, 3], QUICK))
    columns = ["validation_metric", "test_metric", "test_log_loss"]
    np.testing.assert_array_equal(alone.runs[columns].to_numpy(), together.runs[together.runs["seed"] == 3][columns].to_numpy())


# the scores practitioners report -----------------------------------------------------------------
def test_scores_agree_with_the_in_program_metric_and_scikit_learn() -> None:
    study = run(plan(get_problem("breast_cancer"), ["binary_crossentropy", "hinge"], range(3), QUICK))
    runs = study.runs
    np.testing.assert_allclose(runs["test_accuracy"], runs["test_metric"], atol=1e-12)
    np.testing.assert_allclose(runs["validation_accuracy"], runs["validation_metric"], atol=1e-12)
    assert runs.loc[runs["loss"] == "hinge", "test_log_loss"].isna().all()  # a tanh margin is no probability
    assert runs.loc[runs["loss"] == "binary_crossentropy", "test_log_loss"].notna().all()
    assert runs["test_roc_auc"].between(0.5, 1).all() and runs["test_f1"].between(0, 1).all()


def test_regression_scores_are_in_the_targets_units() -> None:
    problem = regression_problem()
    study = run(plan(problem, ["mse"], range(2), QUICK))
    runs = study.runs
    # the tutorial's MSE is on the standardised target: times the scale squared, the target's units
    np.testing.assert_allclose(runs["test_mse"], runs["test_metric"] * problem.target_scale**2, rtol=1e-5)
    np.testing.assert_allclose(runs["test_rmse"], np.sqrt(runs["test_mse"]), rtol=1e-12)


# baselines -------------------------------------------------------------------------------------
def test_the_mean_baseline_is_the_training_mean_on_the_seeds_split() -> None:
    problem = regression_problem()
    study_plan = plan(problem, ["mse"], range(3), QUICK)
    study = run(study_plan)
    y = np.concatenate([problem.y_train, problem.y_test]) * problem.target_scale + problem.target_mean
    for seed in range(3):
        rows = study_plan.rows(seed)
        expected = mean_squared_error(y[rows.test], np.full(len(rows.test), y[rows.train].mean()))
        got = study.baselines.query("seed == @seed and baseline == 'mean' and split == 'test'")["mse"].item()
        assert got == pytest.approx(expected, rel=1e-9)
    assert set(study.baselines["baseline"]) == {"mean", "linear"}


def test_baselines_of_a_large_table_are_fitted_on_a_sample_and_scored_on_every_row(monkeypatch) -> None:
    """Past :func:`baseline_rows` training rows (671,088 of 50 features), a split's baselines fit
    a random sample of them, which the table and the comparison's notes say."""
    from losslab import results

    problem = regression_problem(400)
    study_plan = plan(problem, ["mse"], range(2), QUICK)
    assert not any("random sample" in note for note in compare(run(study_plan)).notes)
    monkeypatch.setattr(results, "baseline_rows", lambda n_features: 100)
    study = run(study_plan)
    y = np.concatenate([problem.y_train, problem.y_test]) * problem.target_scale + problem.target_mean
    for seed in range(2):
        rows = study_plan.rows(seed)
        sample = np.sort(np.random.default_rng(seed).choice(rows.train, 100, replace=False))
        expected = mean_squared_error(y[rows.test], np.full(len(rows.test), y[sample].mean()))
        got = study.baselines.query("seed == @seed and baseline == 'mean' and split == 'test'")
        assert got["mse"].item() == pytest.approx(expected, rel=1e-9) and got["fit_rows"].item() == 100
    assert any(f"a random sample of 100 of the {study_plan.sizes.train} training rows" in note
               for note in compare(study).notes)


def test_a_loss_worse_than_the_mean_is_flagged() -> None:
    rng = np.random.default_rng(0)  # a target of pure noise: a network overfits it and predicts worse than its mean
    problem = Problem.from_arrays(rng.normal(size=(60, 20)), rng.normal(size=60), kind="regression")
    study = run(plan(problem, ["mse", "mae"], range(6), Settings(epochs=100, hidden=(50,))))
    assert not study.runs["collapsed"].any()  # they learned the training rows: not collapsed, just useless
    comparison = compare(study)
    assert set(comparison.below_baseline) == {"mean_squared_error", "mean_absolute_error"}
    assert any("does worse than predicting the training mean" in flag for flag in comparison.flags)
    assert "mean" in set(comparison.baselines["baseline"])


# collapsed runs ---------------------------------------------------------------------------------
def test_a_learning_rate_that_underflows_leaves_runs_collapsed_never_equivalent() -> None:
    study = run(plan(get_problem("circles"), ["binary_crossentropy", "hinge"], range(5), Settings(epochs=3, learning_rate=1e-50)))
    assert study.runs["collapsed"].all()
    assert study.runs["collapse_reason"].str.startswith("never moved").all()
    comparison = compare(study)
    assert comparison.pairs["verdict"].iloc[0].startswith("not comparable")
    assert "5 collapsed" in comparison.flags[0]
    # a run that learned nothing has no diagnostics worth averaging: counted, left out as diverged ones are
    assert comparison.diagnostics["collapsed"].all()
    summary = comparison.diagnostics_summary
    assert (summary["n_collapsed"] == 5).all() and summary["metric_gap_mean"].isna().all()


def test_a_study_whose_runs_all_collapsed_prints_no_nan() -> None:
    study = run(plan(get_problem("breast_cancer"), ["binary_crossentropy", "hinge"], range(3),
                     Settings(epochs=2, learning_rate=1e-50)))
    assert study.runs["collapsed"].all()
    notes = compare(study).notes
    assert not any("nan" in note.lower() for note in notes), notes
    assert any(note.startswith("Variance by source: the split alone moves the logistic baseline") for note in notes)


def test_runs_at_chance_are_collapsed() -> None:
    study = run(plan(get_problem("circles"), ["binary_crossentropy", "hinge"], range(4), Settings(epochs=20, learning_rate=10)))
    at_chance = study.runs[study.runs["collapse_reason"].str.startswith("no better than chance")]
    majority = np.bincount(study.problem.y_train).max() / study.problem.n_train
    assert len(at_chance) and (at_chance["train_metric"] <= majority + 1 / 500).all() and at_chance["collapsed"].all()
    assert not compare(study).pairs["verdict"].str.startswith("equivalent").any()


def test_a_handful_of_training_rows_is_collapsed() -> None:
    problem = Problem.from_arrays(np.arange(60.0).reshape(30, 2), np.arange(30) % 2, kind="binary", test_size=0.8)
    study = run(plan(problem, ["binary_crossentropy"], range(2), QUICK, split="fixed", validation=0))
    assert study.runs["collapsed"].all() and study.runs["collapse_reason"].str.contains("trained on 6 rows").all()


# small samples ----------------------------------------------------------------------------------
def test_a_32_row_table_ends_inconclusive_with_the_test_it_used() -> None:
    study = run(plan(small_binary(), ["binary_crossentropy", "hinge"], range(10)))
    comparison = compare(study)
    assert comparison.pairs["verdict"].iloc[0].startswith("inconclusive")
    assert comparison.test.startswith("Nadeau-Bengio corrected resampled t-test")
    assert any("One test row is 12.5 pt" in note for note in comparison.notes)


def test_a_difference_within_one_test_row_is_never_a_win() -> None:
    runs = pd.DataFrame({"loss": ["a"] * 10 + ["b"] * 10, "seed": list(range(10)) * 2})
    # b is ahead by half a row on every seed: significant, yet smaller than what one row moves
    from losslab.analysis._compare import _Context, _pairs_table
    usable = runs.assign(test_metric=[0.8] * 10 + [0.8 + 0.5 / 8 + 1e-3 * i for i in range(10)],
                         train_metric=0.9, collapsed=False)
    context = _Context("accuracy", "test_metric", 0.05, 0.0, 1 / 8, False)
    verdict = _pairs_table(("a", "b"), usable, context, None)["verdict"].iloc[0]
    assert verdict.startswith("inconclusive: the difference") and "within one test row (12.5 pt)" in verdict


def test_equivalence_finer_than_one_test_row_is_never_claimed() -> None:
    """Two losses scoring alike on each of 10 splits of 8 test rows differ by less than one row
    (12.5 pt), which says nothing about a 1-point margin: TOST's p is tiny (no spread), yet the
    verdict is inconclusive; a margin of a whole row can be shown."""
    from losslab.analysis._compare import _Context, _pairs_table
    runs = pd.DataFrame({"loss": ["a"] * 10 + ["b"] * 10, "seed": list(range(10)) * 2,
                         "test_metric": [0.75 + 0.125 * (i % 2) for i in range(10)] * 2,
                         "train_metric": [0.9] * 10 + [0.8] * 10, "collapsed": False})
    fine = _Context("accuracy", "test_metric", 0.05, 0.0, 1 / 8, False)
    verdict = _pairs_table(("a", "b"), runs, fine, 0.01)["verdict"].iloc[0]
    assert verdict == ("inconclusive: the test rows cannot show equivalence within ±1.0 pt (one test row is 12.5 pt); "
                       "a larger test set would decide")
    assert _pairs_table(("a", "b"), runs, fine, 0.125)["verdict"].iloc[0].startswith("equivalent within ±12.5 pt")


def test_the_corrected_test_is_wider_than_the_plain_one_on_resampled_splits() -> None:
    study = run(plan(get_problem("breast_cancer"), ["binary_crossentropy", "hinge"], range(8), QUICK))
    resampled = compare(study).pairs.iloc[0]
    from losslab.analysis import paired_tests
    a, b = (study.final(loss) for loss in study.losses)
    assert resampled["t_pvalue"] > paired_tests(a, b).t_pvalue


# metric choice and the validation split ----------------------------------------------------------
def test_metric_picks_the_verdicts_score() -> None:
    study = run(plan(get_problem("breast_cancer"), ["binary_crossentropy", "hinge"], range(3), QUICK))
    comparison = compare(study, metric="f1")
    assert comparison.metric == "f1"
    assert comparison.summary.set_index("loss").at["hinge", "score_mean"] == pytest.approx(
        study.runs.loc[study.runs["loss"] == "hinge", "test_f1"].mean())
    with pytest.raises(SettingsError, match="choose one of accuracy, log_loss, roc_auc, f1"):
        compare(study, metric="r2")


def test_diagnostics_and_choices_read_the_validation_split() -> None:
    study = run(plan(get_problem("breast_cancer"), ["binary_crossentropy"], range(2), QUICK))
    diagnostics = compare(study).diagnostics
    np.testing.assert_allclose(diagnostics["final_test_metric"], study.runs["validation_metric"])
    selection = compare(study, split="validation")
    assert "validation rows per seed" in selection.notes[0]


def test_verify_ends_in_one_sentence() -> None:
    verification = verify(get_problem("breast_cancer"), range(4), QUICK)
    sentence = verification.sentence
    assert sentence.startswith(f"Use {verification.choice}: ") and verification.choice == "binary_crossentropy"
    assert sentence.count(". ") == 0 and sentence.endswith(").")  # one sentence
    assert "(4 splits; " in sentence
    assert "; sure: every comparison is decided)." in sentence or "; not sure: " in sentence
    assert len(sentence) < 400


def test_the_target_left_uncentred_for_a_loss_that_needs_its_signs_is_said() -> None:
    problem = regression_problem(100)
    with_poisson = compare(run(plan(problem, ["mse", "poisson"], range(2), Settings(epochs=2))))
    [note] = [note for note in with_poisson.notes if note.startswith("The target was not centred")]
    assert "because poisson needs its signs and zeros, so every loss here trained on it" in note
    assert "a study without poisson trains the others on the centred target" in note
    without = compare(run(plan(problem, ["mse", "mae"], range(2), Settings(epochs=2))))
    assert not any("centred" in note for note in without.notes)


def test_a_better_verdict_on_one_fixed_split_of_own_data_says_so() -> None:
    from losslab.analysis._compare import _Context, _pairs_table
    runs = pd.DataFrame({"loss": ["a"] * 10 + ["b"] * 10, "seed": list(range(10)) * 2})
    usable = runs.assign(test_metric=[0.7 + 1e-3 * i for i in range(10)] + [0.8 + 2e-3 * i for i in range(10)],
                         train_metric=0.9, collapsed=False)
    verdicts = {one: _pairs_table(("a", "b"), usable, _Context("accuracy", "test_metric", 0.05, 0.0, 1 / 100, False,
                                                              one_split=one), None)["verdict"].iloc[0]
                for one in (True, False)}
    assert verdicts[True].startswith("b better by 10.5 pt on this one split (Holm-adjusted")
    assert verdicts[False].startswith("b better by 10.5 pt (Holm-adjusted")


# the command line -------------------------------------------------------------------------------
def test_compare_json_shows_baselines_flags_and_the_test(tmp_path) -> None:
    path = tmp_path / "small.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3))
    pd.DataFrame(X, columns=["a", "b", "c"]).assign(label=(X[:, 0] > 0).astype(int)).to_csv(path, index=False)
    result = invoke("compare", "--data", path, "--target", "label", "--loss", "bce", "--loss", "hinge",
                    "--repeats", "6", "--epochs", "5", "--out", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["test"].startswith("Nadeau-Bengio") and payload["split"] == "resample"
    assert {row["baseline"] for row in payload["baselines"]} == {"majority", "logistic"}
    assert "below_baseline" in payload and payload["verdicts"][0].split(": ", 1)[1].startswith("inconclusive")
    assert (tmp_path / "out" / "compare_small-label_baselines.csv").exists()  # named after the file and its target


def test_a_metric_that_does_not_apply_is_one_line_and_exit_2(tmp_path) -> None:
    result = invoke("compare", "circles", "--loss", "bce", "--loss", "hinge", "--metric", "r2", "--out", tmp_path)
    assert_one_error_line(result, "choose one of")


def test_split_seed_with_a_resampled_split_is_refused(tmp_path) -> None:
    result = invoke("compare", "iris", "--loss", "cce", "--loss", "kld", "--split-seed", "3", "--out", tmp_path)
    assert_one_error_line(result, "--split fixed")


@pytest.mark.parametrize(("name", "losses"), [
    ("iris", ["categorical_crossentropy", "categorical_hinge"]),
    ("wine", ["categorical_crossentropy", "kl_divergence", "categorical_hinge"]),
    ("diabetes", ["mean_squared_error", "mean_absolute_error", "huber"]),
])
def test_no_better_verdict_on_a_small_real_table_is_overturned_by_other_splits(name, losses) -> None:
    """Two disjoint sets of seeds draw different splits: a loss called better on one draw is never
    the worse one on the other."""
    problem = get_problem(name)
    settings = Settings(epochs=10)
    first, second = (compare(run(plan(problem, losses, seeds, settings))) for seeds in (range(10), range(10, 20)))
    for a, b in zip(first.pairs.itertuples(), second.pairs.itertuples()):
        assert not ({a.better, b.better} == {a.loss_a, a.loss_b}), (a.verdict, b.verdict)


def test_verify_says_when_a_simple_model_beats_every_loss() -> None:
    """The choice among the losses stands, but the sentence must not read as an all-clear when
    logistic regression beats every network (here: a linear rule, networks trained 2 epochs)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 5))
    problem = Problem.from_arrays(X, (X @ np.array([1.0, -2.0, 0.5, 1.5, -1.0]) > 0).astype(int), kind="binary")
    verification = verify(problem, range(5), Settings(epochs=2, learning_rate=0.001))
    assert verification.comparison.baseline_ahead == "logistic"
    sentence = verification.sentence
    assert sentence.startswith(f"Use {verification.choice}: ") and sentence.count(". ") == 0
    assert sentence.endswith("; but the logistic baseline scores better than every loss on the test rows, so the "
                             "network may be the wrong model for this data, or its settings need tuning.")
    assert compare(verification.study).to_dict()["baseline_ahead"] == "logistic"
