"""Claims 2-4 (likelihood, msle, mae-outliers): the judges on made-up numbers, the problems they
build, and one quick run of each experiment end to end."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from losslab import registry
from losslab.claims import VERDICTS, claims
from losslab.claims._experiments._likelihood import (
    CLEAN_TOLERANCE,
    MSLE_SPAN,
    OUTLIER_SDS,
    corrupted_problem,
    exponential_problem,
    judge_likelihood,
    judge_mae_outliers,
    judge_msle,
    top_share,
)

TUTORIAL = Path("/work/shared/reference/loss-functions-tutorial.txt")

# ---- claim 2 --------------------------------------------------------------------------------

GOOD_GAUSSIAN = {"value_error": 2e-7, "ratio_spread": 6e-8, "argmin_gap": 7e-8, "training_gap": 0.0}
GOOD_BERNOULLI = {"value_error": 7e-8, "ratio_spread": 7e-6, "training_gap": 2e-4}
#: The same checks inverted: gaps of order one, as two losses that are not the same function give.
BAD_GAUSSIAN = {"value_error": 0.3, "ratio_spread": 0.8, "argmin_gap": 0.5, "training_gap": 2.0}
BAD_BERNOULLI = {"value_error": 0.4, "ratio_spread": 0.9, "training_gap": 1.5}


def test_likelihood_supported_when_every_check_is_within_float_tolerance():
    verdict, summary = judge_likelihood(GOOD_GAUSSIAN, GOOD_BERNOULLI)
    assert verdict == "supported"
    assert "Gaussian NLL" in summary and "Bernoulli NLL" in summary


def test_likelihood_not_supported_when_the_checks_are_inverted():
    verdict, summary = judge_likelihood(BAD_GAUSSIAN, BAD_BERNOULLI)
    assert verdict == "not supported"
    assert "gradient ratio off by 0.8" in summary


def test_likelihood_depends_on_which_identity_fails():
    verdict, summary = judge_likelihood(GOOD_GAUSSIAN, {**GOOD_BERNOULLI, "training_gap": 0.05})
    assert verdict == "depends" and "the Bernoulli one does not" in summary and "training" in summary
    verdict, summary = judge_likelihood({**GOOD_GAUSSIAN, "argmin_gap": 0.1}, GOOD_BERNOULLI)
    assert verdict == "depends" and "the Gaussian one does not" in summary and "argmin" in summary


def test_likelihood_treats_a_missing_number_as_a_failure():
    verdict, _ = judge_likelihood({**GOOD_GAUSSIAN, "ratio_spread": math.nan}, GOOD_BERNOULLI)
    assert verdict == "depends"


# ---- claim 3 --------------------------------------------------------------------------------

RNG = np.random.default_rng(3)
LOW_REL, HIGH_REL = list(0.10 + 0.01 * RNG.random(30)), list(0.20 + 0.01 * RNG.random(30))
LOW_SHARE, HIGH_SHARE = list(0.60 + 0.02 * RNG.random(30)), list(0.90 + 0.02 * RNG.random(30))
MSE_OF_MSLE, MSE_OF_MSE = list(4.0 + RNG.random(30)), list(1.0 + RNG.random(30))


def test_msle_supported_when_it_wins_both_criteria():
    verdict, summary = judge_msle({"msle": LOW_REL, "mse": HIGH_REL}, {"msle": LOW_SHARE, "mse": HIGH_SHARE},
                                  {"msle": MSE_OF_MSLE, "mse": MSE_OF_MSE})
    assert verdict == "supported"
    assert "test MSE is higher" in summary  # reported beside the verdict, not judged


def test_msle_not_supported_when_the_inputs_are_inverted():
    verdict, _ = judge_msle({"msle": HIGH_REL, "mse": LOW_REL}, {"msle": HIGH_SHARE, "mse": LOW_SHARE},
                            {"msle": MSE_OF_MSE, "mse": MSE_OF_MSLE})
    assert verdict == "not supported"


def test_msle_depends_names_the_criterion_it_wins():
    verdict, summary = judge_msle({"msle": HIGH_REL, "mse": LOW_REL}, {"msle": LOW_SHARE, "mse": HIGH_SHARE})
    assert verdict == "depends" and "the large targets weigh less" in summary
    assert "relative error is not lower" in summary
    verdict, summary = judge_msle({"msle": LOW_REL, "mse": HIGH_REL}, {"msle": HIGH_SHARE, "mse": LOW_SHARE})
    assert verdict == "depends" and "the relative error is lower" in summary


def test_msle_noise_is_not_a_win():
    same = list(0.15 + 0.01 * RNG.standard_normal(30))
    other = list(np.array(same) + 0.01 * RNG.standard_normal(30))
    assert judge_msle({"msle": same, "mse": other}, {"msle": same, "mse": other})[0] == "not supported"


def test_the_msle_target_spans_three_orders_of_magnitude_unscaled():
    problem, k = exponential_problem()
    y = np.concatenate([problem.y_train, problem.y_test])
    assert y.min() > 0 and y.max() / y.min() == pytest.approx(MSLE_SPAN)
    assert math.exp(np.mean(np.log(y))) == pytest.approx(1.0, abs=1e-9)  # geometric mean 1
    assert problem.target_scale is None and problem.target_mean is None
    from losslab.planning import plan

    study_plan = plan(problem, ["mse", "msle"])
    for loss in study_plan.losses:  # every loss sees the raw positive quantity
        np.testing.assert_allclose(study_plan.targets[loss].train[:, 0], problem.y_train)


def test_top_share():
    y = np.arange(1.0, 11.0)
    assert top_share(y, np.ones(10)) == pytest.approx(0.1)
    assert top_share(y, y**2) == pytest.approx(100 / np.sum(y**2))


# ---- claim 4 --------------------------------------------------------------------------------

def records(mae_outcomes, huber_outcomes, excesses, mae_metric=None):
    """Records of the judge: one per share (0, 5%, 20%), loss and metric."""
    rows = []
    for share, mae, huber, excess in zip((0.0, 0.05, 0.20), mae_outcomes, huber_outcomes, excesses):
        rows.append({"share": share, "loss": "mean_absolute_error", "metric": "mse", "outcome": mae, "excess": excess})
        rows.append({"share": share, "loss": "huber", "metric": "mse", "outcome": huber, "excess": excess})
        rows.append({"share": share, "loss": "mean_absolute_error", "metric": "mae",
                     "outcome": (mae_metric or {}).get(share, mae), "excess": excess})
    return rows


def test_mae_supported_when_it_wins_with_outliers_and_loses_little_without():
    verdict, summary = judge_mae_outliers(records(("worse", "better", "better"), ("equivalent", "better", "better"),
                                                  (CLEAN_TOLERANCE / 2, -6.8, -28.7)))
    assert verdict == "supported"
    assert "MAE 0%: worse (+0.005), 5%: better (-6.8), 20%: better (-28.7)" in summary


def test_mae_not_supported_when_the_outcomes_are_inverted():
    verdict, _ = judge_mae_outliers(records(("better", "worse", "worse"), ("better", "worse", "worse"),
                                            (-CLEAN_TOLERANCE / 2, 6.8, 28.7)))
    assert verdict == "not supported"


def test_mae_depends_on_outliers_when_it_costs_on_clean_data():
    verdict, summary = judge_mae_outliers(records(("worse", "better", "better"), ("worse", "better", "better"),
                                                  (0.5, -6.8, -28.7)))
    assert verdict == "depends" and "whether the data have outliers" in summary


def test_mae_depends_on_the_share_when_it_wins_at_one():
    verdict, summary = judge_mae_outliers(records(("equivalent", "inconclusive", "better"), ("worse",) * 3,
                                                  (0.0, -1.0, -28.7)))
    assert verdict == "depends" and "on test MSE at 20%" in summary


def test_the_corrupted_problem_moves_training_targets_only():
    clean, five, twenty = (corrupted_problem(s) for s in (0.0, 0.05, 0.20))
    np.testing.assert_array_equal(clean.y_train, corrupted_problem(0.0).y_train)
    for problem, n in ((five, 25), (twenty, 100)):
        moved = np.flatnonzero(problem.y_train != clean.y_train)
        assert len(moved) == n
        np.testing.assert_allclose(np.abs(problem.y_train - clean.y_train)[moved],
                                   OUTLIER_SDS * clean.y_train.std())
        np.testing.assert_array_equal(problem.y_test, clean.y_test)
    assert set(np.flatnonzero(five.y_train != clean.y_train)) <= set(np.flatnonzero(twenty.y_train != clean.y_train))


# ---- end to end -----------------------------------------------------------------------------

def _quoted(text: str) -> list[str]:
    """The tutorial's words in a claim's quote: the sentence before the parenthesis and each
    passage quoted inside it."""
    return [text.split(" (")[0], *re.findall(r'"([^"]+)"', text)]


@pytest.mark.parametrize("number,key", [(2, "likelihood"), (3, "msle"), (4, "mae-outliers")])
def test_quick_claim_end_to_end(tmp_path, number, key):
    names = registry.loss_names()
    (result,) = claims(repeats=2, out=tmp_path, only=[number], quick=True)
    assert (result.number, result.key) == (number, key)
    assert result.verdict in VERDICTS
    assert result.quote and result.design and result.summary
    assert result.numbers and result.numbers["seeds"] == 2
    assert result.figure is not None and Path(result.figure).is_file() and Path(result.figure).parent == tmp_path
    assert result.to_dict()["verdict"] == result.verdict
    assert registry.loss_names() == names  # the NLLs are not left in the registry
    if TUTORIAL.is_file():
        tutorial = " ".join(TUTORIAL.read_text().split())
        for words in _quoted(result.quote):
            assert words.rstrip(".") in tutorial, words
