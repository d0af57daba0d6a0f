"""Claims 1, 5 and 10 (claims/_experiments/_training.py): the judging rules on made-up numbers, each
checked in both directions, and one quick run of each experiment end to end."""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
import pytest

from losslab.claims import VERDICTS, claims
from losslab.claims._experiments._training import (
    PROBABILITY_MSE,
    epochs_to_fraction,
    judge_ce_vs_mse,
    judge_hinge_vs_ce,
    judge_smoothing_by_lr_and_batch,
    probability_mse_specs,
)
from losslab.registry import loss_names


# epochs_to_fraction ------------------------------------------------------------------------------
def test_epochs_to_fraction_is_the_first_epoch_at_95_percent_of_the_final_value() -> None:
    assert epochs_to_fraction([0.5, 0.6, 0.95, 0.9, 1.0]) == 3
    assert epochs_to_fraction([0.5, 0.6, 0.94, 0.9, 1.0]) == 5
    assert epochs_to_fraction([1.0, 1.0, 1.0]) == 1


def test_epochs_to_fraction_reads_a_diverged_curve_up_to_its_divergence() -> None:
    assert epochs_to_fraction([0.5, 0.8, 0.8, math.nan, math.nan]) == 2
    assert math.isnan(epochs_to_fraction([math.nan, 0.5]))


# claim 1 -------------------------------------------------------------------------------------------
def ce_config(problem: str = "circles", lr: float = 0.01, *, ce_epochs: float = 20, mse_epochs: float = 40,
              epochs_p: float = 0.001, ce_accuracy: float = 0.85, mse_accuracy: float = 0.84,
              accuracy_better: str = "", ce_sd: float = 0.01, mse_sd: float = 0.01, spread_p: float = 0.5,
              ce_failed: int = 0, mse_failed: int = 0) -> dict:
    return dict(problem=problem, learning_rate=lr, ce_epochs=ce_epochs, mse_epochs=mse_epochs, epochs_p=epochs_p,
                ce_accuracy=ce_accuracy, mse_accuracy=mse_accuracy, accuracy_better=accuracy_better, ce_sd=ce_sd,
                mse_sd=mse_sd, spread_p=spread_p, ce_failed=ce_failed, mse_failed=mse_failed)


def swapped(config: dict) -> dict:
    """The same configuration with the two losses' numbers exchanged."""
    out = dict(config)
    for name in ("epochs", "accuracy", "sd", "failed"):
        out[f"ce_{name}"], out[f"mse_{name}"] = config[f"mse_{name}"], config[f"ce_{name}"]
    out["accuracy_better"] = {"ce": "mse", "mse": "ce", "": ""}[config["accuracy_better"]]
    return out


CE_FASTER = [ce_config("circles", lr, accuracy_better="ce" if lr == 0.001 else "") for lr in (0.001, 0.01, 0.1)] + \
            [ce_config("blobs", lr) for lr in (0.001, 0.01, 0.1)]


def test_claim_1_is_supported_when_cross_entropy_is_faster_and_as_good_everywhere() -> None:
    verdict, summary = judge_ce_vs_mse(CE_FASTER)
    assert verdict == "supported"
    assert "6 of 6" in summary and "circles lr 0.01: 20 vs 40 epochs" in summary


def test_claim_1_is_not_supported_when_the_numbers_are_inverted() -> None:
    verdict, summary = judge_ce_vs_mse([swapped(c) for c in CE_FASTER])
    assert verdict == "not supported"
    assert "0 of 6" in summary and "MSE did so at" in summary


def test_claim_1_depends_on_the_learning_rate_when_the_winner_flips() -> None:
    configs = [ce_config(lr=0.001), ce_config(lr=0.01), swapped(ce_config(lr=0.1))]
    verdict, summary = judge_ce_vs_mse(configs)
    assert verdict == "depends"
    assert "learning rate" in summary and "MSE at circles lr 0.1" in summary


def test_claim_1_counts_no_win_for_a_faster_loss_that_is_less_accurate_or_robust() -> None:
    less_accurate = ce_config(accuracy_better="mse")
    more_failures = ce_config(ce_failed=3, mse_failed=0)
    wider = ce_config(ce_sd=0.05, mse_sd=0.01, spread_p=0.001)
    not_significant = ce_config(epochs_p=0.2)
    for config in (less_accurate, more_failures, wider, not_significant):
        assert judge_ce_vs_mse([config, config, config])[0] == "not supported", config
    assert judge_ce_vs_mse([ce_config()] * 3)[0] == "supported"


def test_claim_1_needs_a_majority_of_settings() -> None:
    tie = ce_config(epochs_p=0.5)
    assert judge_ce_vs_mse([ce_config(), tie, tie])[0] == "depends"
    assert judge_ce_vs_mse([ce_config(), ce_config(), tie])[0] == "supported"


# claim 5 -------------------------------------------------------------------------------------------
def hinge_setting(lr: float, better: str, rounding_better: str = "binary_crossentropy") -> dict:
    return dict(learning_rate=lr, better=better, verdict="made up", hinge_accuracy=0.84, bce_accuracy=0.83,
                hinge_rounding=0.75, bce_rounding=0.83, rounding_better=rounding_better)


def test_claim_5_is_supported_when_hinge_is_better_somewhere() -> None:
    settings = [hinge_setting(0.001, ""), hinge_setting(0.01, "hinge"), hinge_setting(0.1, "binary_crossentropy")]
    verdict, summary = judge_hinge_vs_ce(settings)
    assert verdict == "supported"
    assert "at lr 0.01" in summary and "worse at lr 0.1" in summary


def test_claim_5_is_not_supported_when_the_verdicts_are_inverted() -> None:
    settings = [hinge_setting(0.001, ""), hinge_setting(0.01, "binary_crossentropy"),
                hinge_setting(0.1, "binary_crossentropy")]
    verdict, summary = judge_hinge_vs_ce(settings)
    assert verdict == "not supported"
    assert "cross-entropy was better at lr 0.01, 0.1" in summary and "neither was called better at lr 0.001" in summary


def test_claim_5_judges_by_sign_accuracy_not_rounding_accuracy() -> None:
    only_rounding = [hinge_setting(0.01, "", rounding_better="hinge")]
    verdict, summary = judge_hinge_vs_ce(only_rounding)
    assert verdict == "not supported"
    assert "rounding accuracy hinge is better at lr 0.01" in summary
    assert judge_hinge_vs_ce([hinge_setting(0.01, "hinge", rounding_better="binary_crossentropy")])[0] == "supported"


# claim 10 ------------------------------------------------------------------------------------------
REFERENCE = dict(learning_rate=0.01, batch_size=32, loss_bumpiness=0.04, accuracy_bumpiness=0.09, accuracy=0.82,
                 failed=0)


def smooth_setting(lr: float, batch: int, *, loss_ratio: float = 0.5, accuracy_ratio: float = 0.5, p: float = 0.001,
                   accuracy_change: float = 0.0, failed: int = 0) -> dict:
    return dict(learning_rate=lr, batch_size=batch, loss_ratio=loss_ratio, loss_p=p, accuracy_ratio=accuracy_ratio,
                accuracy_p=p, accuracy_change=accuracy_change, failed=failed)


def test_claim_10_is_supported_when_a_setting_is_clearly_smoother_and_as_accurate() -> None:
    settings = [smooth_setting(0.03, 128), smooth_setting(0.01, 64, loss_ratio=1.1, accuracy_ratio=1.0, p=0.5)]
    verdict, summary = judge_smoothing_by_lr_and_batch(settings, REFERENCE)
    assert verdict == "supported"
    assert "lr 0.03, batch 128" in summary and "0.50x" in summary


def test_claim_10_is_not_supported_when_the_ratios_are_inverted() -> None:
    settings = [smooth_setting(0.03, 128, loss_ratio=2.0, accuracy_ratio=2.0),
                smooth_setting(0.01, 64, loss_ratio=1 / 1.1, accuracy_ratio=1.0, p=0.5)]
    assert judge_smoothing_by_lr_and_batch(settings, REFERENCE)[0] == "not supported"


def test_claim_10_does_not_count_a_smoother_setting_that_loses_accuracy_or_runs() -> None:
    loses = smooth_setting(0.001, 128, accuracy_change=-0.02)
    fails = smooth_setting(0.001, 64, failed=2)
    unclear = smooth_setting(0.03, 64, p=0.2)
    small = smooth_setting(0.03, 32, loss_ratio=0.9, accuracy_ratio=0.9)
    verdict, summary = judge_smoothing_by_lr_and_batch([loses, fails, unclear, small], REFERENCE)
    assert verdict == "not supported"
    assert "at a cost in accuracy" in summary
    assert judge_smoothing_by_lr_and_batch([smooth_setting(0.001, 128, accuracy_change=-0.009)],
                                           REFERENCE)[0] == "supported"


def test_claim_10_depends_on_the_curve_when_only_one_is_smoother() -> None:
    settings = [smooth_setting(0.03, 128, accuracy_ratio=1.0)]
    verdict, summary = judge_smoothing_by_lr_and_batch(settings, REFERENCE)
    assert verdict == "depends"
    assert "Depends on the curve" in summary and "the train loss curve" in summary


# the MSE losses of claim 1 are specs of their own, never registered ------------------------------------
def test_the_probability_mse_losses_are_mse_on_the_probabilities() -> None:
    specs = probability_mse_specs()
    for name, kind, activation in PROBABILITY_MSE:
        spec = specs[name]
        assert (spec.kind, spec.activation, spec.builtin) == (kind, activation, False)
        assert name not in loss_names()
    y, p = jnp.array([[1.0], [0.0]]), jnp.array([[0.75], [0.5]])
    np.testing.assert_allclose(specs["mean_squared_error_sigmoid"].fn(y, p), [0.0625, 0.25])


# end to end (quick) --------------------------------------------------------------------------------
@pytest.mark.parametrize("number", [1, 5, 10])
def test_each_claim_runs_quickly_end_to_end(number: int, tmp_path) -> None:
    before = loss_names()
    (result,) = claims(repeats=2, out=tmp_path, only=[number], quick=True)
    assert result.number == number
    assert result.key in {1: "ce-vs-mse", 5: "hinge-vs-ce", 10: "smoothing-by-lr-and-batch"}[number]
    assert result.quote and result.quote[-1] == "." and result.design
    assert result.verdict in VERDICTS and result.summary
    assert result.numbers and any(isinstance(value, list) and value for value in result.numbers.values())
    assert result.figure is not None and result.figure.exists() and result.figure.stat().st_size > 0
    assert result.figure.parent == tmp_path
    assert result.to_dict()["verdict"] == result.verdict
    assert loss_names() == before
