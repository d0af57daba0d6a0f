"""Learning-curve diagnostics on synthetic curves whose answers are known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from losslab.analysis import (
    bumpiness,
    convergence_epoch,
    curve_diagnostics,
    overfitting_onset,
    summarise_diagnostics,
)

EPOCHS = np.arange(1, 101)


def u_shaped(best: int = 30, noise: float = 0.005, seed: int = 0) -> np.ndarray:
    """Test loss falling to ``best``, then rising steadily to the end of training."""
    curve = np.where(EPOCHS <= best, 1.0 - 0.8 * EPOCHS / best, 0.2 + 0.006 * (EPOCHS - best))
    return curve + np.random.default_rng(seed).normal(0.0, noise, EPOCHS.size)


def test_overfitting_onset_recovers_a_known_minimum() -> None:
    for seed in range(5):
        assert overfitting_onset(u_shaped(seed=seed)) == pytest.approx(30, abs=3)


def test_no_overfitting_for_a_monotone_decreasing_curve() -> None:
    assert math.isnan(overfitting_onset(np.exp(-EPOCHS / 10)))


def test_no_overfitting_for_a_noisy_plateau() -> None:
    plateau = 0.3 + 0.7 * np.exp(-EPOCHS / 8) + np.random.default_rng(1).normal(0.0, 0.01, EPOCHS.size)
    assert math.isnan(overfitting_onset(plateau))


def test_no_overfitting_for_a_rise_in_the_last_few_epochs_only() -> None:
    curve = np.exp(-EPOCHS / 10)
    curve[-3:] += 0.5
    assert math.isnan(overfitting_onset(curve))


def test_a_bumpy_curve_ranks_above_a_smooth_one() -> None:
    smooth = np.exp(-EPOCHS / 10)
    bumpy = smooth + 0.03 * (-1.0) ** EPOCHS
    assert bumpiness(bumpy) > 5 * bumpiness(smooth)
    assert bumpiness(np.linspace(1.0, 0.0, 100)) == pytest.approx(0.0, abs=1e-12)
    assert bumpiness(np.full(100, 0.5)) == 0.0


def test_convergence_epoch_of_an_exponential_decay_is_the_documented_settling_time() -> None:
    curve = np.exp(-EPOCHS / 10)
    band = 0.02 * (curve[0] - curve[-1])
    expected = next(e for e in EPOCHS if curve[e - 1] - curve[-1] <= band)  # decreasing, so stays inside
    assert expected == 41
    assert convergence_epoch(curve) == expected
    assert convergence_epoch(np.full(50, 0.3)) == 1


def test_diagnostics_use_the_finite_prefix_of_a_diverged_curve() -> None:
    curve = np.exp(-EPOCHS / 5)
    curve[60:] = np.nan
    assert convergence_epoch(curve) == convergence_epoch(curve[:60])
    assert bumpiness(curve) == bumpiness(curve[:60])
    assert math.isnan(convergence_epoch(np.full(10, np.nan)))


def history_table(curves: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]], metric: str = "accuracy") -> pd.DataFrame:
    """A long ``history`` table from ``(loss, seed) -> (train_loss, test_loss)`` curves."""
    frames = []
    for (loss, seed), (train_loss, test_loss) in curves.items():
        for split, values in (("train", train_loss), ("test", test_loss)):
            metric_value = 0.9 - 0.1 * values if metric == "accuracy" else values
            metric_value = metric_value - (0.0 if split == "train" else 0.05 * (1 if metric == "accuracy" else -1))
            frames.append(pd.DataFrame({
                "problem": "blobs", "loss": loss, "seed": seed, "epoch": EPOCHS, "split": split,
                "loss_value": values, "metric": metric, "metric_value": metric_value, "rounding_accuracy": np.nan,
            }))
    return pd.concat(frames, ignore_index=True).sample(frac=1.0, random_state=0)  # order must not matter


def test_curve_diagnostics_one_row_per_run_with_known_values() -> None:
    smooth = np.exp(-EPOCHS / 10)
    diverged = smooth.copy()
    diverged[50:] = np.nan
    history = history_table({
        ("a", 0): (smooth, u_shaped()),
        ("a", 1): (smooth, smooth + 0.1),
        ("b", 0): (smooth, u_shaped(seed=3)),
        ("b", 1): (diverged, diverged),
    })
    table = curve_diagnostics(history)
    assert list(zip(table["loss"], table["seed"])) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert table["overfit"].tolist() == [True, False, True, False]
    assert table["overfitting_onset"].iloc[0] == pytest.approx(30, abs=3)
    assert table["convergence_epoch"].iloc[0] == 41
    assert table["diverged"].tolist() == [False, False, False, True]
    assert table["epochs"].tolist() == [100, 100, 100, 50]
    assert table["metric_gap"].iloc[1] == pytest.approx(0.06)  # 0.1 * (test loss + 0.1) + 0.05 lower on test
    assert math.isnan(table["metric_gap"].iloc[3])


def test_metric_gap_is_positive_when_train_is_better_for_mse_too() -> None:
    smooth = np.exp(-EPOCHS / 10)
    table = curve_diagnostics(history_table({("mse", 0): (smooth, smooth)}, metric="mse"))
    assert table["metric_gap"].iloc[0] == pytest.approx(0.05)


def test_summarise_diagnostics_excludes_diverged_runs_and_counts_overfitting() -> None:
    smooth = np.exp(-EPOCHS / 10)
    diverged = smooth.copy()
    diverged[50:] = np.nan
    history = history_table({
        ("a", 0): (smooth, u_shaped(seed=0)),
        ("a", 1): (smooth, u_shaped(best=40, seed=1)),
        ("a", 2): (smooth, smooth),
        ("a", 3): (smooth, smooth),
        ("a", 4): (diverged, diverged),
    })
    summary = summarise_diagnostics(curve_diagnostics(history))
    row = summary.iloc[0]
    assert (row["n_runs"], row["n_diverged"]) == (5, 1)
    assert row["overfit_fraction"] == pytest.approx(0.5)
    assert row["overfitting_onset_mean"] == pytest.approx(35, abs=3)
    assert row["convergence_epoch_mean"] == 41
    assert row["convergence_epoch_sd"] == 0.0
