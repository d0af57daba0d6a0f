"""Claims 6 to 9 (claims/_experiments/_other.py): the judging rules on made-up numbers, each checked
in both directions, the roughness number on slices whose answer is known, and one quick run of
each experiment end to end."""

from __future__ import annotations

import math

import numpy as np
import pytest

from losslab.claims import VERDICTS, claims
from losslab.claims._experiments._other import (
    DIFFER_SHARE,
    judge_kl_equals_ce,
    judge_min_loss_vs_best_metric,
    judge_sparse_memory,
    judge_squared_hinge_smooths,
    roughness,
)

RNG = np.random.default_rng(0)
SEEDS = 30


def around(centre: float, spread: float = 0.002) -> np.ndarray:
    """Per-seed values near ``centre``."""
    return centre + RNG.normal(0.0, spread, SEEDS)


# roughness -----------------------------------------------------------------------------------------
T = np.linspace(-1.0, 1.0, 41)


@pytest.mark.parametrize("smooth", [T**2, np.exp(-3 * (T + 1)), np.cosh(2 * T), np.abs(T), 1 / (1 + np.exp(-8 * T)),
                                    np.zeros_like(T)],
                         ids=["bowl", "decay", "cosh", "kink", "sigmoid", "flat"])
def test_a_valley_or_monotone_slice_has_no_roughness(smooth: np.ndarray) -> None:
    assert roughness(smooth) == 0.0


def test_bumps_are_rough_in_proportion_to_their_height() -> None:
    assert roughness([3.0, 1.0, 2.0, 1.0, 3.0]) == pytest.approx(1.0)  # a bump of 1 in a range of 2
    bowl = T**2
    wiggle = 0.02 * (-1.0) ** np.arange(T.size)  # a zig-zag of 0.04 on a bowl of range 1
    assert roughness(bowl + wiggle) > 0.2
    assert roughness(bowl + 2 * wiggle) > roughness(bowl + wiggle) > roughness(bowl) == 0.0


def test_roughness_is_scale_free_and_ignores_float32_rounding() -> None:
    rough = T**2 + 0.02 * np.sin(40 * T)
    assert roughness(1000 * rough + 7) == pytest.approx(roughness(rough))
    assert roughness(T**2 + RNG.normal(0, 1e-8, T.size)) == 0.0  # float32-sized noise is no bump


def test_roughness_of_a_diverged_or_short_slice_is_nan() -> None:
    assert math.isnan(roughness([1.0, math.nan, 0.5]))
    assert math.isnan(roughness([1.0, 0.5]))


# claim 6 -------------------------------------------------------------------------------------------
def smooth_config(squared_smoother: bool = True, squared_bumpier: bool = False) -> dict:
    low, high = around(0.01), around(0.05)
    rough_squared, rough_hinge = (low, high) if squared_smoother else (high, low)
    return dict(rough_hinge={"path": rough_hinge, "random": rough_hinge + 0.001},
                rough_squared={"path": rough_squared, "random": rough_squared + 0.001},
                bump_hinge=around(0.005), bump_squared=around(0.05 if squared_bumpier else 0.003),
                bump_bce=around(0.004))


def test_claim_6_supported_when_the_slices_are_smoother_and_the_curve_is_not_bumpier() -> None:
    verdict, summary = judge_squared_hinge_smooths(**smooth_config())
    assert verdict == "supported", summary


def test_claim_6_not_supported_when_the_inputs_are_inverted() -> None:
    verdict, summary = judge_squared_hinge_smooths(**smooth_config(squared_smoother=False, squared_bumpier=True))
    assert verdict == "not supported", summary
    assert "rougher" in summary and "bumpier" in summary


def test_claim_6_depends_when_the_surface_is_smoother_but_the_curve_bumpier() -> None:
    verdict, summary = judge_squared_hinge_smooths(**smooth_config(squared_bumpier=True))
    assert verdict == "depends" and "which surface" in summary


def test_claim_6_depends_when_the_kinds_of_slice_disagree() -> None:
    config = smooth_config()
    config["rough_squared"]["random"] = around(0.2)
    verdict, summary = judge_squared_hinge_smooths(**config)
    assert verdict == "depends" and "slice" in summary


def test_claim_6_no_difference_is_not_smoother() -> None:
    same = around(0.03)
    verdict, _ = judge_squared_hinge_smooths({"path": same, "random": same}, {"path": same, "random": same},
                                             around(0.005), around(0.005), around(0.005))
    assert verdict == "not supported"


# claim 7 -------------------------------------------------------------------------------------------
def sparse_records(ratio_ok: bool = True, agree: bool = True, classes=(10, 1_000, 10_000)) -> list[dict]:
    rows = 15_000
    records = []
    for k in classes:
        onehot, sparse = 4 * k * rows, 4 * rows
        if not ratio_ok:
            onehot, sparse = sparse, onehot
        records.append({"classes": k, "onehot_bytes": onehot, "sparse_bytes": sparse,
                        "loss_rel_diff": 1e-7 if agree else 0.05})
    return records


def test_claim_7_supported_when_labels_take_far_less_memory_and_losses_agree() -> None:
    verdict, summary = judge_sparse_memory(sparse_records())
    assert verdict == "supported", summary
    assert "10,000x at 10,000 classes" in summary


def test_claim_7_not_supported_when_the_memory_is_inverted() -> None:
    verdict, summary = judge_sparse_memory(sparse_records(ratio_ok=False))
    assert verdict == "not supported", summary


def test_claim_7_not_supported_when_the_losses_disagree() -> None:
    verdict, summary = judge_sparse_memory(sparse_records(agree=False))
    assert verdict == "not supported" and "not the same calculation" in summary


def test_claim_7_depends_without_many_classes() -> None:
    verdict, _ = judge_sparse_memory(sparse_records(classes=(10, 100)))
    assert verdict == "depends"


# claim 8 -------------------------------------------------------------------------------------------
EQUIVALENT = {"identical": False, "tost_pvalue": 1e-6, "mean_diff": 0.0005}
IDENTICAL = {"identical": True, "tost_pvalue": 0.0, "mean_diff": 0.0}
DIFFERENT = {"identical": False, "tost_pvalue": 0.6, "mean_diff": 0.03}


def test_claim_8_supported_when_every_form_is_equivalent() -> None:
    verdict, summary = judge_kl_equals_ce({"from logits": IDENTICAL, "from clipped probabilities": EQUIVALENT})
    assert verdict == "supported", summary


def test_claim_8_not_supported_when_the_inputs_are_inverted() -> None:
    verdict, summary = judge_kl_equals_ce({"from logits": DIFFERENT, "from clipped probabilities": DIFFERENT})
    assert verdict == "not supported", summary


def test_claim_8_depends_on_the_form_when_one_is_not_equivalent() -> None:
    verdict, summary = judge_kl_equals_ce({"from logits": IDENTICAL, "from clipped probabilities": DIFFERENT})
    assert verdict == "depends" and "computed" in summary


# claim 9 -------------------------------------------------------------------------------------------
N_TEST = 500


def selection(share: float, cost_rows: float, spread_rows: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Runs where a ``share`` differ, each costing about ``cost_rows`` test rows there."""
    differ = np.arange(SEEDS) < round(share * SEEDS)
    cost = np.where(differ, (cost_rows + RNG.normal(0, spread_rows, SEEDS)) / N_TEST, 0.0)
    return differ, cost


def test_claim_9_supported_when_they_often_differ_and_the_metric_choice_gains() -> None:
    verdict, summary = judge_min_loss_vs_best_metric(*selection(0.5, 4.0), N_TEST)
    assert verdict == "supported", summary


def test_claim_9_not_supported_when_the_inputs_are_inverted() -> None:
    verdict, summary = judge_min_loss_vs_best_metric(*selection(0.1, 4.0), N_TEST)
    assert verdict == "not supported", summary
    verdict, _ = judge_min_loss_vs_best_metric(*selection(DIFFER_SHARE, 4.0), N_TEST)  # at the threshold: not more
    assert verdict == "not supported"


def test_claim_9_depends_when_the_cost_is_within_one_test_row() -> None:
    verdict, summary = judge_min_loss_vs_best_metric(*selection(0.5, 0.3, 0.2), N_TEST)
    assert verdict == "depends" and "within one row" in summary


def test_claim_9_depends_when_choosing_by_the_metric_does_worse_on_new_data() -> None:
    verdict, summary = judge_min_loss_vs_best_metric(*selection(0.5, -4.0), N_TEST)
    assert verdict == "depends" and "does worse on new data" in summary


# end to end ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("number", [6, 7, 8, 9])
def test_each_claim_runs_quickly_end_to_end(number: int, tmp_path) -> None:
    (found,) = claims(repeats=2, out=tmp_path, only=[number], quick=True)
    assert found.number == number
    assert found.quote and found.design and found.summary
    assert found.verdict in VERDICTS
    assert found.figure is not None and found.figure.exists() and found.figure.stat().st_size > 0
    assert found.numbers
    assert found.to_dict()["verdict"] == found.verdict
