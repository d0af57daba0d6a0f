"""Replicating the tutorial: the table's rows and columns, how claims are judged, the notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losslab.case_studies import CASE_STUDIES, About, Below, CaseStudy, Like, NearZero, WorseThan, losses_by_problem
from losslab.registry import TargetWarning
from losslab.replicate import ROUNDING_NOTE, Replication, _agrees, _outcome, replicate

KEYS = ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "ext-1", "ext-2"]
TANH = ("hinge", "squared_hinge")


@pytest.fixture(scope="module")
def replication() -> Replication:
    # MSLE on the tutorial's standardised target: Keras goes on, losslab warns (target_policy 'warn')
    with pytest.warns(TargetWarning, match="mean_squared_logarithmic_error"):
        return replicate(repeats=1, epochs=2)


def test_the_table_has_eleven_rows_in_case_order(replication) -> None:
    table = replication.table
    assert len(table) == 11
    assert table["case"].tolist() == KEYS == [case.key for case in CASE_STUDIES]
    assert table["loss"].tolist() == [case.loss for case in CASE_STUDIES]
    assert table["problem"].tolist() == [case.problem for case in CASE_STUDIES]
    assert (table["runs"] == 1).all() and replication.repeats == 1
    assert set(replication.studies) == {"regression", "circles", "blobs"}
    for name, study in replication.studies.items():
        assert study.settings.epochs == 2
        assert list(study.losses) == losses_by_problem()[name]
    assert table["agrees"].isin(["yes", "no", "-"]).all()


def test_the_means_are_the_studies_final_metrics(replication) -> None:
    table = replication.table.set_index("case")
    for case in CASE_STUDIES:
        runs = replication.studies[case.problem].runs
        run = runs[runs["loss"] == case.loss].iloc[0]
        if run["diverged"]:
            assert np.isnan(table.loc[case.key, "train"])
            continue
        assert table.loc[case.key, "train"] == pytest.approx(run["train_metric"])
        assert table.loc[case.key, "test"] == pytest.approx(run["test_metric"])
        assert np.isnan(table.loc[case.key, "train_sd"])  # one repeat: no spread


def test_only_the_hinge_rows_carry_the_tutorials_rounding_accuracy(replication) -> None:
    table = replication.table.set_index("loss")
    circles = replication.studies["circles"].runs.set_index("loss")
    for loss in TANH:
        assert table.loc[loss, "tutorial_train"] == pytest.approx(circles.loc[loss, "train_rounding_accuracy"])
        assert table.loc[loss, "tutorial_test"] == pytest.approx(circles.loc[loss, "test_rounding_accuracy"])
        assert 0 <= table.loc[loss, "tutorial_train"] <= 1
    others = table.drop(index=list(TANH))
    assert others["tutorial_train"].isna().all() and others["tutorial_test"].isna().all()


def test_the_extensions_make_no_claim(replication) -> None:
    table = replication.table.set_index("case")
    assert table.loc["ext-1", "agrees"] == "-" and table.loc["ext-2", "agrees"] == "-"
    assert table.loc["4.8", "agrees"] == "yes"  # sparse CCE is identical to CCE on paired seeds


def test_a_diverged_extension_is_reported_in_the_notes(replication) -> None:
    mape = replication.table.set_index("case").loc["ext-1"]
    assert mape["loss"] == "mean_absolute_percentage_error"
    assert mape["diverged"] == 1 and mape["outcome"] == "diverged in every run"
    notes = replication.notes()
    assert ROUNDING_NOTE in notes
    assert any(note.startswith("ext-1 mean_absolute_percentage_error") and "1 of 1 runs diverged" in note for note in notes)
    assert sum("diverged" in note for note in notes) == int((replication.table["diverged"] > 0).sum())


def test_the_diagnostics_have_one_row_per_case(replication) -> None:
    diagnostics = replication.diagnostics
    assert diagnostics["case"].tolist() == KEYS
    assert diagnostics.set_index("case").loc["4.3", "tutorial_curves"] == CASE_STUDIES[2].curves


def test_a_subset_of_cases_trains_only_their_problems() -> None:
    cases = tuple(case for case in CASE_STUDIES if case.key in ("4.7", "4.8"))
    seen = []
    result = replicate(repeats=2, epochs=2, cases=cases, progress=lambda problem, done, total: seen.append((problem, done, total)))
    assert set(result.studies) == {"blobs"}
    assert result.table["case"].tolist() == ["4.7", "4.8"] and (result.table["runs"] == 2).all()
    assert (result.table["train_sd"] >= 0).all()  # two repeats: a spread
    assert seen[-1] == ("blobs", 4, 4)
    assert result.table.set_index("case").loc["4.8", "agrees"] == "yes"
    assert result.notes() == []  # no tanh rows, nothing diverged


# --------------------------------------------------------------------- judging claims by hand


def _case(key: str, claim) -> CaseStudy:
    return CaseStudy(key, "", "p", "x", "", claim)


@pytest.fixture
def table() -> pd.DataFrame:
    rows = [  # case, train, test, tutorial_train, tutorial_test
        ("bce", 0.84, 0.82, np.nan, np.nan),
        ("bce_far", 0.90, 0.84, np.nan, np.nan),
        ("hinge", 0.85, 0.86, 0.78, 0.76),  # sign agreement high, rounding accuracy below 80%
        ("hinge_high", 0.70, 0.70, 0.82, 0.81),
        ("mse", 0.002, 0.004, np.nan, np.nan),
        ("msle", 0.30, 0.25, np.nan, np.nan),
        ("msle_mixed", 0.30, 0.001, np.nan, np.nan),
        ("scce", 0.842, 0.825, np.nan, np.nan),
        ("kld", 0.86, 0.82, np.nan, np.nan),
        ("nan", np.nan, np.nan, np.nan, np.nan),
    ]
    return pd.DataFrame(rows, columns=["case", "train", "test", "tutorial_train", "tutorial_test"])


def test_about_is_yes_within_the_tolerance_and_no_outside(table) -> None:
    assert _agrees(_case("bce", About(0.83, 0.84)), table) == "yes"
    assert _agrees(_case("bce_far", About(0.83, 0.84)), table) == "no"  # train 7 points off
    assert _agrees(_case("bce", About(0.83, 0.86)), table) == "no"  # test 4 points off
    assert _agrees(_case("bce", About(0.83, 0.86, tolerance=0.05)), table) == "yes"


def test_below_for_hinge_uses_the_tutorials_rounding_accuracy(table) -> None:
    # by sign agreement (0.85, 0.86) the claim "< 80%" would fail; by rounding (0.78, 0.76) it holds
    assert _agrees(_case("hinge", Below(0.80)), table) == "yes"
    assert _agrees(_case("hinge", Below(0.77)), table) == "no"  # train rounding 0.78 is not below
    # and the other way round: sign agreement 0.70 would pass, rounding 0.82 does not
    assert _agrees(_case("hinge_high", Below(0.80)), table) == "no"
    assert _agrees(_case("bce", Below(0.85)), table) == "yes"  # no rounding figure: the metric itself


def test_near_zero_needs_both_errors_small(table) -> None:
    assert _agrees(_case("mse", NearZero(0.01)), table) == "yes"
    assert _agrees(_case("msle_mixed", NearZero(0.01)), table) == "no"


def test_worse_than_and_like_compare_with_another_case(table) -> None:
    assert _agrees(_case("msle", WorseThan("mse")), table) == "yes"  # larger MSE on both sets
    assert _agrees(_case("mse", WorseThan("msle")), table) == "no"
    assert _agrees(_case("msle_mixed", WorseThan("mse")), table) == "no"  # better on test
    assert _agrees(_case("scce", Like("bce", tolerance=0.01)), table) == "yes"
    assert _agrees(_case("kld", Like("bce", tolerance=0.01)), table) == "no"  # train 2 points apart
    assert _agrees(_case("kld", Like("bce", tolerance=0.03)), table) == "yes"


def test_extensions_and_runs_with_nothing_to_judge_give_a_dash(table) -> None:
    assert _agrees(_case("bce", None), table) == "-"
    assert _agrees(_case("nan", About(0.8, 0.8)), table) == "-"  # every run diverged


def test_outcomes_count_diverged_runs() -> None:
    def row(diverged, runs):
        return pd.DataFrame([{"diverged": diverged, "runs": runs}]).iloc[0]

    assert _outcome(row(0, 5)) == "completed"
    assert _outcome(row(2, 5)) == "2 of 5 runs diverged"
    assert _outcome(row(5, 5)) == "diverged in every run"
