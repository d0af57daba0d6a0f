"""Statistical building blocks, checked against SciPy, hand-worked values and simulation."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from losslab.analysis import bootstrap_ci, holm, paired_tests, repeats_needed, tost_paired


def test_bootstrap_ci_covers_the_known_mean_of_a_normal_sample() -> None:
    sample = np.random.default_rng(1).normal(5.0, 2.0, size=50)
    low, high = bootstrap_ci(sample)
    assert low < 5.0 < high
    assert high - low < 2.0  # about 2 * 1.96 * 2 / sqrt(50) = 1.1


def test_bootstrap_ci_coverage_is_close_to_nominal() -> None:
    rng = np.random.default_rng(2)
    covered = [
        low <= 0.0 <= high
        for low, high in (bootstrap_ci(rng.normal(0.0, 1.0, 30), n_resamples=999, seed=i) for i in range(200))
    ]
    assert 0.88 <= np.mean(covered) <= 0.99


def test_bootstrap_ci_zero_variance_is_degenerate_and_one_value_has_none() -> None:
    assert bootstrap_ci([0.8, 0.8, 0.8, 0.8]) == (0.8, 0.8)
    assert all(math.isnan(x) for x in bootstrap_ci([0.8]))


def test_bootstrap_ci_falls_back_where_bca_is_undefined() -> None:
    low, high = bootstrap_ci([0.8, 0.8, 0.8, 0.8, 0.82])
    assert 0.8 <= low <= high <= 0.82


def test_paired_tests_agree_with_scipy_and_hand_computed_effect_size() -> None:
    a = np.array([0.81, 0.83, 0.79, 0.85, 0.80, 0.84, 0.82, 0.86])
    b = np.array([0.80, 0.80, 0.78, 0.81, 0.81, 0.80, 0.79, 0.82])
    result = paired_tests(a, b)
    assert result.n == 8
    assert result.t_pvalue == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert result.wilcoxon_pvalue == pytest.approx(stats.wilcoxon(a - b).pvalue, rel=1e-12)
    d = [0.01, 0.03, 0.01, 0.04, -0.01, 0.04, 0.03, 0.04]
    mean = sum(d) / 8
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / 7)
    assert result.mean_diff == pytest.approx(mean)
    assert result.sd_diff == pytest.approx(sd)
    assert result.d_z == pytest.approx(mean / sd)


def test_paired_tests_small_example_d_z_is_sqrt_6() -> None:
    # d = [1, 0.5, 1, 1.5]: mean 1, sd = sqrt(0.5 / 3), so d_z = sqrt(6).
    assert paired_tests([1.0, 2.0, 3.0, 4.0], [0.0, 1.5, 2.0, 2.5]).d_z == pytest.approx(math.sqrt(6))


def test_paired_tests_all_zero_differences_give_p_one_without_warnings() -> None:
    a = np.array([0.8, 0.82, 0.79, 0.81])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = paired_tests(a, a.copy())
    assert (result.t_pvalue, result.wilcoxon_pvalue, result.d_z) == (1.0, 1.0, 0.0)


def test_paired_tests_constant_shift_is_certain_for_t_and_too_few_is_nan() -> None:
    a = np.array([0.8, 0.82, 0.79, 0.81, 0.83, 0.77])
    result = paired_tests(a + 0.05, a)
    assert result.t_pvalue == 0.0 and result.d_z == math.inf
    assert result.wilcoxon_pvalue == pytest.approx(2 / 2**6)
    assert math.isnan(paired_tests([0.8], [0.7]).t_pvalue)


def test_holm_hand_worked_example() -> None:
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])


def test_holm_is_monotone_capped_and_skips_nan() -> None:
    np.testing.assert_allclose(holm([0.5, 0.6, 0.001]), [1.0, 1.0, 0.003])
    adjusted = holm([0.02, np.nan, 0.01])
    assert math.isnan(adjusted[1])
    np.testing.assert_allclose(adjusted[[0, 2]], [0.02, 0.02])
    raw = np.random.default_rng(3).uniform(size=20)
    adjusted = holm(raw)
    assert np.all(adjusted >= raw) and np.all(adjusted <= 1.0)
    order = np.argsort(raw)
    assert np.all(np.diff(adjusted[order]) >= 0)


def test_paired_t_test_is_honest_under_the_null() -> None:
    """Under a true null, p < 0.05 must happen about 5% of the time, not more."""
    rng = np.random.default_rng(20240601)
    rejections = []
    for _ in range(200):
        shared = rng.normal(0.8, 0.03, size=10)  # the seed effect both losses share
        a = shared + rng.normal(0.0, 0.01, size=10)
        b = shared + rng.normal(0.0, 0.01, size=10)
        rejections.append(paired_tests(a, b).t_pvalue < 0.05)
    assert 0.02 <= np.mean(rejections) <= 0.09


def test_tost_refuses_equivalence_for_a_clear_difference() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(0.80, 0.01, size=10)
    b = a - 0.05 + rng.normal(0.0, 0.005, size=10)
    result = tost_paired(a, b, margin=0.01)
    assert result.pvalue > 0.5
    assert result.ci_low > 0.01


def test_tost_claims_equivalence_for_near_identical_pairs_with_many_repeats() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(0.80, 0.02, size=50)
    b = a + rng.normal(0.0, 0.002, size=50)
    result = tost_paired(a, b, margin=0.01)
    assert result.pvalue < 0.05
    assert -0.01 < result.ci_low < result.ci_high < 0.01


def test_tost_p_below_alpha_exactly_when_the_90_percent_ci_is_inside_the_margin() -> None:
    rng = np.random.default_rng(6)
    for _ in range(50):
        d = rng.normal(rng.uniform(-0.02, 0.02), 0.01, size=8)
        result = tost_paired(d, np.zeros(8), margin=0.01)
        half = stats.t.ppf(0.95, 7) * d.std(ddof=1) / math.sqrt(8)
        assert result.ci_low == pytest.approx(d.mean() - half)
        assert (result.pvalue < 0.05) == (-0.01 < result.ci_low and result.ci_high < 0.01)


def test_repeats_needed_matches_the_textbook_t_test_sample_size() -> None:
    # Paired t-test, d_z = 0.5, alpha 0.05 two-sided, power 0.8: n = 34 (G*Power).
    assert repeats_needed(0.5, 1.0, margin=0.01) == 34


def test_repeats_needed_grows_as_the_effect_shrinks() -> None:
    sizes = [repeats_needed(effect, 1.0, margin=0.05) for effect in (0.8, 0.5, 0.3, 0.2)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4


def test_repeats_needed_for_equivalence_reaches_the_stated_power() -> None:
    n = repeats_needed(0.0, 1.0, margin=0.5)
    assert n is not None
    rng = np.random.default_rng(7)
    decided = [tost_paired(rng.normal(0.0, 1.0, n), np.zeros(n), margin=0.5).pvalue < 0.05 for _ in range(1000)]
    assert 0.74 <= np.mean(decided) <= 0.88


def test_repeats_needed_gives_up_at_the_margin_and_is_two_without_noise() -> None:
    assert repeats_needed(0.01, 0.5, margin=0.01) is None
    assert repeats_needed(0.01, 0.0, margin=0.01) == 2
