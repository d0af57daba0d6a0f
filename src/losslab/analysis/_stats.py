"""Small statistical tools for paired (loss x seed) comparisons.

Every function takes plain 1-D arrays. Paired functions take ``a`` and ``b`` of equal length
``n`` (one value per seed, same seed order) and work on the differences ``d = a - b``; the
``corrected_*`` ones take one value per resampled train/test split of the same data instead, and
allow for the splits sharing rows. :func:`probability_of_improvement` compares unpaired groups of
runs and :func:`interquartile_mean` summarises one group.
Undefined results (fewer than two pairs) come back as NaN rather than raising, so that a table of
many comparisons can still be built and the NaN shows where evidence is missing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

ArrayLike = Sequence[float] | np.ndarray

#: ``repeats_needed`` searches up to this many paired repeats before giving up.
MAX_REPEATS = 10_000


@dataclass(frozen=True)
class PairedTest:
    """Result of :func:`paired_tests` on the differences ``d = a - b``."""

    n: int
    mean_diff: float
    sd_diff: float
    d_z: float
    t_pvalue: float
    wilcoxon_pvalue: float


@dataclass(frozen=True)
class Tost:
    """Result of :func:`tost_paired`: equivalence is claimed at level alpha when ``pvalue < alpha``."""

    pvalue: float
    ci_low: float
    ci_high: float
    margin: float


@dataclass(frozen=True)
class CorrectedTest:
    """Result of :func:`corrected_resampled_ttest` on the per-split differences ``d = a - b``."""

    n: int
    mean_diff: float
    sd_diff: float
    t: float
    pvalue: float
    df: float
    se: float


def bootstrap_ci(
    values: ArrayLike,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
    method: Literal["BCa", "percentile"] = "BCa",
) -> tuple[float, float]:
    """Bootstrap confidence interval for the mean of ``values``.

    Resamples ``values`` with replacement ``n_resamples`` times, takes the mean of each resample,
    and returns the interval of the bootstrap distribution (``scipy.stats.bootstrap``). ``BCa``
    (bias-corrected and accelerated, Efron 1987) corrects the percentile interval
    ``[q_{(1-c)/2}, q_{(1+c)/2}]`` for bias and skew; where BCa is undefined (its acceleration
    ``a = sum(u^3) / (6 sum(u^2)^{3/2})`` of the jackknife deviations ``u`` divides by zero) the
    percentile interval is returned instead.

    With zero variance the interval is degenerate, ``(x, x)``; with fewer than two values it is
    ``(nan, nan)``: one run says nothing about the spread.

    >>> bootstrap_ci([2.0, 2.0, 2.0])
    (2.0, 2.0)
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return (math.nan, math.nan)
    if np.ptp(x) == 0:
        return (float(x[0]), float(x[0]))
    interval = _bootstrap((x,), np.mean, confidence, n_resamples, seed, method)
    if method == "BCa" and not np.all(np.isfinite(interval)):
        interval = _bootstrap((x,), np.mean, confidence, n_resamples, seed, "percentile")
    return interval


def _bootstrap(
    samples: tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray],
    confidence: float, n_resamples: int, seed: int, method: str,
) -> tuple[float, float]:
    """``scipy.stats.bootstrap`` of a vectorised ``statistic``; several samples are resampled
    independently of each other."""
    with warnings.catch_warnings():
        # A degenerate BCa is detected by its NaN result and replaced, so scipy's warning is noise.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.bootstrap(
            samples, statistic, confidence_level=confidence, n_resamples=n_resamples,
            method=method, vectorized=True, rng=np.random.default_rng(seed),
        )
    return (float(result.confidence_interval.low), float(result.confidence_interval.high))


def paired_tests(a: ArrayLike, b: ArrayLike) -> PairedTest:
    """Paired t-test and Wilcoxon signed-rank test of ``a`` against ``b``, with effect size.

    With ``d_i = a_i - b_i`` (``i = 1..n``), ``mean = sum(d)/n`` and
    ``sd = sqrt(sum((d - mean)^2) / (n - 1))``:

    - t-test: ``t = mean / (sd / sqrt(n))`` on ``n - 1`` degrees of freedom, two-sided
      (``scipy.stats.ttest_rel``).
    - Wilcoxon signed-rank: ranks of ``|d_i|`` summed over the positive ``d_i``, two-sided, zero
      differences dropped (``scipy.stats.wilcoxon``). If every difference is zero there is no
      evidence of a difference and ``p = 1``.
    - Cohen's ``d_z = mean / sd``: the mean difference in units of its own spread.

    Degenerate cases: all differences zero gives ``p = 1`` for both tests and ``d_z = 0``; a
    constant non-zero difference gives ``t`` infinite, ``p_t = 0`` and ``d_z = ±inf``. With
    ``n < 2`` both p-values and ``d_z`` are NaN.

    >>> r = paired_tests([1.0, 2.0, 3.0, 4.0], [0.0, 1.5, 2.0, 2.5])
    >>> round(r.mean_diff, 3), round(r.d_z, 3)
    (1.0, 2.449)
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = int(d.size)
    mean = float(np.mean(d)) if n else math.nan
    if n < 2:
        return PairedTest(n, mean, math.nan, math.nan, math.nan, math.nan)
    sd = float(np.std(d, ddof=1))
    if not np.any(d):
        return PairedTest(n, 0.0, 0.0, 0.0, 1.0, 1.0)
    d_z = mean / sd if sd > 0 else math.copysign(math.inf, mean)
    t_p = 0.0 if sd == 0 else float(stats.ttest_1samp(d, 0.0).pvalue)
    return PairedTest(n, mean, sd, d_z, t_p, float(stats.wilcoxon(d).pvalue))


def corrected_resampled_ttest(a: ArrayLike, b: ArrayLike, test_fraction_ratio: float) -> CorrectedTest:
    """Corrected resampled t-test (Nadeau & Bengio 2003) of ``a`` against ``b``.

    ``a_j`` and ``b_j`` (``j = 1..J``) are the two models' scores on the test part of split ``j``,
    each split drawn at random from the same data set and the models trained on the rest. The
    splits share rows, so their differences ``d_j = a_j - b_j`` are positively correlated and the
    plain paired t-test (``se = sd / sqrt(J)``) is anti-conservative: more splits shrink its ``se``
    without adding data. With ``ratio = n_test / n_train`` (``test_fraction_ratio``, at least 0),
    ``mean = sum(d)/J`` and ``sd^2 = sum((d - mean)^2) / (J - 1)``:

    - ``se = sqrt((1/J + ratio) sd^2)``, ``t = mean / se`` on ``J - 1`` degrees of freedom,
      ``p = 2 P(T >= |t|)``, ``T ~ t(J - 1)``.

    The extra ``ratio`` term is the variance of the mean when two splits' differences correlate
    with ``rho = n_test / n`` (then ``rho / (1 - rho) = ratio``). That ``rho`` is a heuristic, so
    the test is approximately calibrated: far less liberal than the plain test, sometimes a little
    conservative. With ``ratio = 0`` it is ``scipy.stats.ttest_rel``.

    Repeated K-fold cross-validation (R repeats) is the "corrected repeated k-fold cv test" of
    Bouckaert & Frank (2004): the same formula with ``J = K R`` (one ``d`` per fold of every repeat)
    and ``ratio = 1 / (K - 1)``.

    Degenerate cases as in :func:`paired_tests`: all differences zero gives ``t = 0``, ``p = 1``;
    a constant non-zero difference gives ``se = 0``, ``t = ±inf``, ``p = 0``; with ``J < 2``
    everything but ``n`` (and the mean of one difference) is NaN.

    >>> r = corrected_resampled_ttest([1.0, 2.0, 3.0, 4.0], [0.0, 1.5, 2.0, 2.5], test_fraction_ratio=0.25)
    >>> round(r.se, 4), r.df  # sqrt((1/4 + 1/4) / 6): twice the variance of the plain test
    (0.2887, 3)
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = int(d.size)
    mean = float(np.mean(d)) if n else math.nan
    if n < 2:
        return CorrectedTest(n, mean, math.nan, math.nan, math.nan, math.nan, math.nan)
    df = n - 1
    if not np.any(d):
        return CorrectedTest(n, 0.0, 0.0, 0.0, 1.0, df, 0.0)
    sd, se = _corrected_se(d, test_fraction_ratio)
    if se == 0:
        return CorrectedTest(n, mean, sd, math.copysign(math.inf, mean), 0.0, df, se)
    t = mean / se
    return CorrectedTest(n, mean, sd, t, float(2 * stats.t.sf(abs(t), df)), df, se)


def corrected_ci(test: CorrectedTest, confidence: float = 0.95) -> tuple[float, float]:
    """The interval of the mean difference that :func:`corrected_resampled_ttest` implies:
    ``mean ± q x se`` with ``q`` the ``(1 + confidence) / 2`` quantile of ``t(J - 1)``, so that it
    excludes 0 exactly when the test's p-value is below ``1 - confidence``; NaN for ``J < 2``.

    >>> r = corrected_resampled_ttest([1.0, 2.0, 3.0, 4.0], [0.0, 1.5, 2.0, 2.5], test_fraction_ratio=0.25)
    >>> [round(v, 3) for v in corrected_ci(r)], round(r.pvalue, 3)  # 1.0 ± 3.182 x 0.2887, and p < 0.05
    ([0.081, 1.919], 0.041)
    """
    if test.n < 2 or not math.isfinite(test.se):
        return math.nan, math.nan
    half = float(stats.t.ppf((1 + confidence) / 2, test.df)) * test.se
    return test.mean_diff - half, test.mean_diff + half


def _corrected_se(d: np.ndarray, ratio: float) -> tuple[float, float]:
    """``sd`` of ``d`` and the corrected ``se = sqrt((1/J + ratio) sd^2)``."""
    sd = float(np.std(d, ddof=1))
    # Written as the plain sd / sqrt(J) times an inflation, so that ratio 0 gives it to the last bit.
    return sd, sd / math.sqrt(d.size) * math.sqrt(1.0 + d.size * ratio)


def holm(pvalues: ArrayLike) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (Holm 1979), in the input order.

    Sort the ``m`` finite p-values ascending, ``p_(1) <= ... <= p_(m)``; then
    ``adj_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))``. Rejecting where ``adj < alpha`` controls
    the family-wise error rate at ``alpha``. The running maximum keeps the adjusted values in
    the same order as the raw ones. NaN p-values stay NaN and do not count towards ``m``.

    >>> holm([0.01, 0.04, 0.03]).tolist()
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    order = finite[np.argsort(p[finite], kind="stable")]
    m = order.size
    scaled = (m - np.arange(m)) * p[order]
    out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return out


def tost_paired(a: ArrayLike, b: ArrayLike, margin: float, alpha: float = 0.05) -> Tost:
    """Paired two one-sided tests (TOST, Schuirmann 1987) for equivalence within ``±margin``.

    With ``d = a - b``, ``se = sd / sqrt(n)`` and ``T ~ t(n - 1)``:

    - H0 lower: ``mean(d) <= -margin``; ``p_lower = P(T >= (mean + margin) / se)``.
    - H0 upper: ``mean(d) >= +margin``; ``p_upper = P(T <= (mean - margin) / se)``.
    - ``pvalue = max(p_lower, p_upper)``; equivalence is established when ``pvalue < alpha``,
      which is the same as the ``1 - 2 alpha`` confidence interval
      ``mean ± t_{1-alpha, n-1} se`` (90% at alpha 0.05) lying inside ``(-margin, margin)``.

    With ``se = 0`` the differences are known exactly: ``pvalue`` is 0 when
    ``|mean| < margin`` and 1 otherwise. With ``n < 2`` everything is NaN.
    """
    return corrected_tost(a, b, margin, 0.0, alpha)


def corrected_tost(a: ArrayLike, b: ArrayLike, margin: float, test_fraction_ratio: float, alpha: float = 0.05) -> Tost:
    """TOST equivalence within ``±margin`` for scores on resampled train/test splits of one data set.

    :func:`tost_paired` with the standard error of :func:`corrected_resampled_ttest` (Nadeau &
    Bengio 2003), ``se = sqrt((1/J + ratio) sd^2)`` with ``ratio = n_test / n_train``, in place of
    ``sd / sqrt(J)``: ``p_lower = P(T >= (mean + margin) / se)``,
    ``p_upper = P(T <= (mean - margin) / se)``, ``T ~ t(J - 1)``, ``pvalue = max(p_lower, p_upper)``,
    and the ``1 - 2 alpha`` interval ``mean ± t_{1-alpha, J-1} se``. Without the correction,
    overlapping splits would claim equivalence too readily. With ``ratio = 0`` it is
    :func:`tost_paired`; for repeated K-fold cross-validation ``J = K R`` and ``ratio = 1 / (K - 1)``.
    Degenerate cases as in :func:`tost_paired`.
    """
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    if n < 2:
        return Tost(math.nan, math.nan, math.nan, margin)
    mean = float(np.mean(d))
    se = _corrected_se(d, test_fraction_ratio)[1]
    if se == 0:
        return Tost(0.0 if abs(mean) < margin else 1.0, mean, mean, margin)
    df = n - 1
    p_lower = stats.t.sf((mean + margin) / se, df)
    p_upper = stats.t.cdf((mean - margin) / se, df)
    half = stats.t.ppf(1 - alpha, df) * se
    return Tost(float(max(p_lower, p_upper)), mean - half, mean + half, margin)


def repeats_needed(
    diff_mean: float, diff_sd: float, margin: float, alpha: float = 0.05, power: float = 0.8
) -> int | None:
    """How many paired repeats (seeds, in total) would likely decide the comparison.

    Plugs the observed mean and sd of the differences in as if they were the true values (a rough
    planning figure: with few seeds both are uncertain) and returns the smallest ``n >= 2`` at
    which either test reaches ``power``:

    - detect the difference with the two-sided paired t-test:
      ``P(|T'| > t_{1-alpha/2, n-1})`` with ``T' ~ nct(n - 1, |mean| sqrt(n) / sd)``;
    - establish equivalence within ``±margin`` with TOST, using the standard approximation
      ``P(T1 > c) + P(T2 < -c) - 1`` with ``c = t_{1-alpha, n-1}``,
      ``T1 ~ nct(n-1, (mean + margin) sqrt(n) / sd)`` and ``T2 ~ nct(n-1, (mean - margin) sqrt(n) / sd)``
      (it ignores the correlation of the two tests and is slightly conservative when power is low).

    Returns ``None`` when more than ``MAX_REPEATS`` would be needed (for example a true
    difference sitting right at the margin). With ``sd = 0`` two repeats already decide.

    >>> repeats_needed(0.5, 1.0, margin=0.1) < repeats_needed(0.25, 1.0, margin=0.1)
    True
    """
    return splits_needed(diff_mean, diff_sd, margin, 0.0, alpha, power)


def splits_needed(
    diff_mean: float, diff_sd: float, margin: float, test_fraction_ratio: float,
    alpha: float = 0.05, power: float = 0.8,
) -> int | None:
    """How many resampled train/test splits ``J`` (in total) would likely decide the comparison.

    :func:`repeats_needed` for :func:`corrected_resampled_ttest` and :func:`corrected_tost`: the
    same plug-in planning figure and power formulas, with the corrected
    ``se(J) = sd sqrt(1/J + ratio)`` (``ratio = n_test / n_train``) in place of ``sd / sqrt(J)``,
    so the noncentralities are ``|mean| / se(J)`` for the t-test and ``(mean ± margin) / se(J)``
    for TOST, on ``J - 1`` degrees of freedom. ``diff_mean`` and ``diff_sd`` are those of the
    per-split differences, at the split sizes that will be used.

    With ``ratio > 0``, ``se(J)`` never falls below ``sqrt(ratio) sd`` however many splits are
    drawn: new splits reuse the same rows. The power climbs only towards that of a z-test at
    ``mean / (sqrt(ratio) sd)``, which may lie below ``power``; then ``None`` is returned (as it is
    when more than ``MAX_REPEATS`` splits would be needed). More splits of the same data cannot
    decide then; more data can: larger test sets (at the same ratio), whose differences have a
    smaller ``sd``. With ``ratio = 0`` this is :func:`repeats_needed`. For repeated K-fold
    cross-validation ``ratio = 1 / (K - 1)`` and ``J = K R``: round up to a multiple of ``K``.

    >>> splits_needed(0.5, 1.0, margin=0.01, test_fraction_ratio=0.0)
    34
    >>> splits_needed(0.5, 1.0, margin=0.01, test_fraction_ratio=1 / 3) is None  # power 0.14 at most
    True
    """
    if diff_sd == 0:
        return 2
    start = 2
    while start <= MAX_REPEATS:  # blocks [2, 4), [4, 8), ...: cost grows with the answer, not MAX_REPEATS
        n = np.arange(start, min(2 * start, MAX_REPEATS + 1))
        decided = np.flatnonzero(_power_to_decide(n, diff_mean, diff_sd, margin, alpha, test_fraction_ratio) >= power)
        if decided.size:
            return int(n[decided[0]])
        start *= 2
    return None


def _power_to_decide(
    n: np.ndarray, diff_mean: float, diff_sd: float, margin: float, alpha: float, ratio: float
) -> np.ndarray:
    """The larger of the t-test's and TOST's power at each ``n`` (formulas in ``repeats_needed``
    and ``splits_needed``)."""
    df = n - 1
    # 1 / se(n); the inflation factor is exactly 1 at ratio 0, so repeats_needed is unchanged.
    root_n = np.sqrt(n) / (diff_sd * np.sqrt(1.0 + n * ratio))
    t_two = stats.t.ppf(1 - alpha / 2, df)
    shift = abs(diff_mean) * root_n
    detect = stats.nct.sf(t_two, df, shift) + stats.nct.cdf(-t_two, df, shift)
    t_one = stats.t.ppf(1 - alpha, df)
    equivalent = (
        stats.nct.sf(t_one, df, (diff_mean + margin) * root_n)
        + stats.nct.cdf(-t_one, df, (diff_mean - margin) * root_n)
        - 1.0
    )
    return np.maximum(detect, equivalent)


def probability_of_improvement(
    a: ArrayLike, b: ArrayLike, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """Probability that a run of A beats a run of B, with a stratified bootstrap interval.

    As rliable defines it (Agarwal et al. 2021), over all ``n m`` pairs of ``a``'s ``n`` runs and
    ``b``'s ``m`` runs:
    ``P(A > B) = 1/(n m) sum_i sum_j ([a_i > b_j] + 1/2 [a_i = b_j])``, the Mann-Whitney ``U`` of
    ``a`` against ``b`` divided by ``n m``. 0.5 means neither tends to win; it says how often A
    wins, not by how much. The runs are unpaired: lengths may differ and order does not matter.

    Greater is better: for a loss or error metric pass the negated values,
    ``probability_of_improvement(-err_a, -err_b)``, to get the probability that A's error is lower.

    The interval resamples ``a`` and ``b`` with replacement, each on its own (stratified: every
    resample keeps ``n`` runs of A and ``m`` of B), and returns the percentile interval
    ``[q_{(1-c)/2}, q_{(1+c)/2}]`` of the re-estimates.

    Returns ``(estimate, low, high)``; all NaN when ``a`` or ``b`` is empty. With fewer than two runs
    in either group the interval is ``(nan, nan)``, as in :func:`bootstrap_ci`.

    >>> probability_of_improvement([3.0, 4.0], [1.0, 2.0])
    (1.0, 1.0, 1.0)
    >>> probability_of_improvement([1.0, 2.0], [2.0, 3.0])[0]  # one tie among 4 pairs, counted 1/2
    0.125
    """
    x = np.asarray(a, dtype=float)
    y = np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return (math.nan, math.nan, math.nan)
    estimate = float(_win_rate(x, y))
    if x.size < 2 or y.size < 2:
        return (estimate, math.nan, math.nan)
    return (estimate, *_bootstrap((x, y), _win_rate, confidence, n_resamples, seed, "percentile"))


def _win_rate(a: np.ndarray, b: np.ndarray, axis: int = -1) -> np.ndarray:
    """``U / (n m)`` along ``axis``, from the joint ranks: ``U = sum(ranks of a) - n (n + 1) / 2``
    (average ranks for ties give the 1/2 per tied pair). Ranking keeps a bootstrap batch at
    ``(n + m)`` values per resample where comparing all pairs would need ``n m``."""
    n, m = a.shape[axis], b.shape[axis]
    ranks = stats.rankdata(np.concatenate([a, b], axis=axis), axis=axis)
    u = np.take(ranks, np.arange(n), axis=axis).sum(axis=axis) - n * (n + 1) / 2
    return u / (n * m)


def interquartile_mean(values: ArrayLike) -> float:
    """Interquartile mean (IQM): the mean of the middle 50% of ``values``.

    Sort the ``n`` values, drop ``floor(n / 4)`` from each end and average the rest
    (``scipy.stats.trim_mean(values, 0.25)``, as rliable does). Less swayed by one bad run than
    the mean, less wasteful of the runs than the median. NaN for no values.

    >>> interquartile_mean([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 100.0])
    4.5
    """
    x = np.asarray(values, dtype=float)
    return float(_iqm(x)) if x.size else math.nan


def iqm_ci(
    values: ArrayLike, confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval for the :func:`interquartile_mean` of ``values``.

    Resamples ``values`` with replacement ``n_resamples`` times and returns
    ``[q_{(1-c)/2}, q_{(1+c)/2}]`` of the resamples' IQMs. With zero variance the interval collapses
    to the IQM; with fewer than two values it is ``(nan, nan)``, as in :func:`bootstrap_ci`.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return (math.nan, math.nan)
    return _bootstrap((x,), _iqm, confidence, n_resamples, seed, "percentile")


def _iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """The interquartile mean along ``axis``, vectorised for ``scipy.stats.bootstrap``."""
    return stats.trim_mean(x, 0.25, axis=axis)
