"""Replicating the tutorial: the table's rows and columns, how claims are judged, the notes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from losslab.case_studies import CASE_STUDIES, About, Below, CaseStudy, Like, NearZero, WorseThan, losses_by_problem
from losslab.registry import TargetWarning
from losslab.analysis import compare
from losslab.figures import plot_learning_curves
from losslab.replicate import KERAS_FORM_NOTE, KL_NOTE, ROUNDING_NOTE, Replication, _judge, _outcome, _percentiles, _tails, replicate, tail_mask

KEYS = ["4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.8", "4.9", "ext-1", "ext-1b", "ext-2"]
TANH = ("hinge", "squared_hinge")


@pytest.fixture(scope="module")
def replication() -> Replication:
    # MSLE on the tutorial's standardised target: Keras goes on, losslab warns (target_policy 'warn')
    with pytest.warns(TargetWarning, match="mean_squared_logarithmic_error"):
        return replicate(repeats=1, epochs=2)


def test_the_table_has_a_row_per_case_in_case_order(replication) -> None:
    table = replication.table
    assert len(table) == 12
    assert table["case"].tolist() == KEYS == [case.key for case in CASE_STUDIES]
    assert table["loss"].tolist() == [case.loss for case in CASE_STUDIES]
    assert table["problem"].tolist() == [case.problem for case in CASE_STUDIES]
    assert (table["runs"] == 1).all() and replication.repeats == 1
    assert set(replication.studies) == {"regression", "circles", "blobs", "positive_regression"}
    for name, study in replication.studies.items():
        assert study.settings.epochs == 2
        assert list(study.losses) == [spec.name for spec in losses_by_problem()[name]]
    assert table["agrees"].isin(["yes", "partly", "no", "-"]).all()


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
        assert table.loc[case.key, "test_median"] == pytest.approx(run["test_metric"])
        assert table.loc[case.key, "test_q25"] == table.loc[case.key, "test_q75"] == table.loc[case.key, "test_median"]
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
    assert (table.loc[["ext-1", "ext-1b", "ext-2"], "agrees"] == "-").all()
    assert table.loc["4.8", "agrees"] == "yes"  # sparse CCE is identical to CCE on paired seeds
    assert table.loc["4.8", "reason"] == "within 0.01 of 4.7: 1/1 runs"


def test_every_loss_is_trained_as_keras_trains_it_and_the_notes_say_why(replication) -> None:
    for study in replication.studies.values():
        assert all(spec.from_logits is None for spec in study.plan.specs)
    blobs = replication.studies["blobs"]
    # Keras's clip of the one-hot zeros moves the run: KL is no longer bitwise cross-entropy
    assert blobs.final("kl_divergence", "test_loss").item() != blobs.final("categorical_crossentropy", "test_loss").item()
    assert KL_NOTE in replication.notes() and KERAS_FORM_NOTE in replication.notes()


def test_mape_gets_an_answer_on_the_positive_target(replication) -> None:
    table = replication.table.set_index("case")
    assert table.loc["ext-1", "outcome"] == "diverged in every run"
    assert table.loc["ext-1b", "outcome"] == "completed" and np.isfinite(table.loc["ext-1b", "test"])
    positive = replication.studies["positive_regression"].problem
    assert min(positive.y_train.min(), positive.y_test.min()) == pytest.approx(1.0)


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
    assert result.notes() == [KERAS_FORM_NOTE]  # no tanh rows, nothing diverged, no KL


# ------------------------------------------------------------------- judging claims by hand


def _case(key: str, claim) -> CaseStudy:
    return CaseStudy(key, "", "p", "x", "", claim)


def _finals(train, test) -> pd.DataFrame:
    return pd.DataFrame({"train": train, "test": test}, index=pd.Index(range(len(train)), name="seed"))


def test_the_share_of_runs_decides_yes_partly_or_no() -> None:
    ten = np.full(10, 0.83)
    for within, agrees in ((10, "yes"), (8, "yes"), (7, "partly"), (3, "partly"), (2, "no"), (0, "no")):
        train = np.where(np.arange(10) < within, 0.83, 0.70)
        verdict = _judge(_case("c", About(0.83, 0.83)), {"c": _finals(train, ten)})
        assert verdict["agrees"] == agrees, within
        assert verdict["claim_runs"] == within and verdict["claim_of"] == 10
        assert verdict["reason"] == f"within 0.03 of 0.83 / 0.83: {within}/10 runs"


def test_claims_about_another_case_are_judged_on_the_same_seed() -> None:
    mse = _finals([0.01, 0.01, 0.50], [0.01, 0.01, 0.50])
    # worse on seeds 0 and 1; better than seed 2's collapsed MSE run: 2 of 3
    msle = _finals([0.20, 0.30, 0.25], [0.20, 0.30, 0.25])
    verdict = _judge(_case("msle", WorseThan("mse")), {"msle": msle, "mse": mse})
    assert (verdict["claim_runs"], verdict["claim_of"], verdict["agrees"]) == (2, 3, "partly")
    like = _judge(_case("b", Like("a", tolerance=0.01)), {"a": _finals([0.8, 0.9], [0.8, 0.9]), "b": _finals([0.9, 0.8], [0.9, 0.8])})
    assert like["claim_runs"] == 0  # the same values, but on other seeds


def test_slightly_worse_needs_the_medians_within_a_factor_of_two() -> None:
    mse = _finals([0.01] * 5, [0.01] * 5)
    far = _judge(_case("msle", WorseThan("mse", slightly=True)), {"msle": _finals([0.25] * 5, [0.25] * 5), "mse": mse})
    assert far["agrees"] == "partly" and far["claim_runs"] == 5
    assert far["reason"] == "worse than mse: 5/5 runs; slightly: no, the median is 25x mse's"
    near = _judge(_case("msle", WorseThan("mse", slightly=True)), {"msle": _finals([0.015] * 5, [0.015] * 5), "mse": mse})
    assert near["agrees"] == "yes" and "slightly: yes, the median is 1.5x" in near["reason"]


def test_below_and_near_zero_need_both_splits() -> None:
    assert _judge(_case("h", Below(0.80)), {"h": _finals([0.78, 0.81], [0.76, 0.70])})["claim_runs"] == 1
    assert _judge(_case("m", NearZero(0.01)), {"m": _finals([0.002, 0.004], [0.004, 0.02])})["claim_runs"] == 1


def test_extensions_and_cases_without_finished_runs_give_a_dash() -> None:
    assert _judge(_case("x", None), {"x": _finals([0.8], [0.8])})["agrees"] == "-"
    nothing = _judge(_case("x", About(0.8, 0.8)), {"x": _finals([], [])})
    assert nothing["agrees"] == "-" and nothing["reason"] == "no finished run"


def test_the_tanh_claims_are_judged_on_the_tutorials_rounding_accuracy(replication) -> None:
    from losslab.replicate import _judged_finals

    hinge = next(case for case in CASE_STUDIES if case.loss == "hinge")
    runs = replication.studies["circles"].runs.set_index("loss")
    judged = _judged_finals(hinge, replication.studies["circles"])
    assert judged["train"].item() == runs.loc["hinge", "train_rounding_accuracy"]
    assert judged["test"].item() == runs.loc["hinge", "test_rounding_accuracy"]


def test_the_tutorials_number_is_placed_in_the_distribution() -> None:
    case = CaseStudy("c", "", "p", "x", "", NearZero(0.01), numbers=(3.0, 4.0))
    finals = _finals(np.arange(10.0), np.arange(10.0))  # 0, 1, ..., 9
    placed = _percentiles(case, finals)
    assert placed["reported_train_percentile"] == pytest.approx(35.0)  # 3 below, 1 equal: (30 + 40) / 2
    assert placed["reported_test_percentile"] == pytest.approx(45.0)


def test_heavy_tails_are_named_with_their_mechanism() -> None:
    typical = np.linspace(0.83, 0.85, 28)
    accuracy = np.concatenate([typical, [0.50, 0.52]])
    assert tail_mask(accuracy, "accuracy").sum() == 2
    assert not tail_mask(np.concatenate([typical, [0.80]]), "accuracy").any()  # 3 points off: not a tail
    mse = np.concatenate([np.linspace(0.10, 0.20, 28), [6.0, 8.4]])
    assert tail_mask(mse, "mse").sum() == 2
    case = CaseStudy("4.2", "", "p", "msle", "", None, tails="the output drifts below 0")
    named = _tails(case, mse, "mse")
    assert named["tail_runs"] == 2 and named["tails"].startswith("heavy-tailed, 2 of 30 runs far worse than the rest")
    assert named["tails"].endswith(": the output drifts below 0")


def test_two_modes_are_named_when_a_gap_splits_the_runs() -> None:
    bimodal = np.concatenate([np.full(17, 0.55), np.full(13, 0.82), [0.34]])
    named = _tails(CaseStudy("x", "", "p", "x", "", None), bimodal, "accuracy")
    assert "two modes, 18 of 31 runs end near 0.55 and 13 near 0.82" in named["tails"]
    assert _tails(CaseStudy("x", "", "p", "x", "", None), np.linspace(0.8, 0.85, 30), "accuracy")["tails"] == ""


def test_the_repeated_evaluation_answers_the_third_extension() -> None:
    cases = tuple(case for case in CASE_STUDIES if case.key in ("4.7", "4.8", "4.9"))
    result = replicate(repeats=3, epochs=3, cases=cases)
    assert len(result.repeated) == 3
    assert result.repeated[0].startswith("categorical_crossentropy vs sparse_categorical_crossentropy: ")
    assert result.repeated[1].startswith("categorical_crossentropy vs kl_divergence: ")
    assert result.repeated[2].startswith("sparse_categorical_crossentropy vs kl_divergence: ")
    comparison = compare(result.studies["blobs"])
    assert [line.split(": ", 1)[1] for line in result.repeated] == [
        f"{verdict}." for verdict in comparison.pairs["verdict"]]  # compare's verdicts, word for word
    assert any(note.startswith("Repeated evaluation") for note in result.notes())


def test_a_figure_of_runs_that_all_diverged_says_so(replication) -> None:
    history = replication.studies["regression"].history
    figure = plot_learning_curves(history[history["loss"] == "mean_absolute_percentage_error"], "ext-1")
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert len(texts) == 2 and all("diverged" in text for text in texts)
    assert all(not ax.lines for ax in figure.axes)


def test_outcomes_count_diverged_runs() -> None:
    assert _outcome(0, 5) == "completed"
    assert _outcome(2, 5) == "2 of 5 runs diverged"
    assert _outcome(5, 5) == "diverged in every run"
