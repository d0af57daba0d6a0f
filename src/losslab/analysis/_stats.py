"""Small statistical tools for paired (loss x seed) comparisons.

Every function takes plain 1-D arrays. Paired functions take ``a`` and ``b`` of equal length
``n`` (one value per seed, same seed order) and work on the differences ``d = a - b``.
Undefined results (fewer than two pairs) come back as NaN rather than raising, so that a table of
many comparisons can still be built and the NaN shows where evidence is missing.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
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
    interval = _bootstrap_mean(x, confidence, n_resamples, seed, method)
    if method == "BCa" and not np.all(np.isfinite(interval)):
        interval = _bootstrap_mean(x, confidence, n_resamples, seed, "percentile")
    return (float(interval[0]), float(interval[1]))


def _bootstrap_mean(x: np.ndarray, confidence: float, n_resamples: int, seed: int, method: str) -> tuple[float, float]:
    with warnings.catch_warnings():
        # A degenerate BCa is detected by its NaN result and replaced, so scipy's warning is noise.
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.bootstrap(
            (x,), np.mean, confidence_level=confidence, n_resamples=n_resamples,
            method=method, vectorized=True, rng=np.random.default_rng(seed),
        )
    return (result.confidence_interval.low, result.confidence_interval.high)


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
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = d.size
    if n < 2:
        return Tost(math.nan, math.nan, math.nan, margin)
    mean = float(np.mean(d))
    se = float(np.std(d, ddof=1)) / math.sqrt(n)
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
    if diff_sd == 0:
        return 2
    start = 2
    while start <= MAX_REPEATS:  # blocks [2, 4), [4, 8), ...: cost grows with the answer, not MAX_REPEATS
        n = np.arange(start, min(2 * start, MAX_REPEATS + 1))
        decided = np.flatnonzero(_power_to_decide(n, diff_mean, diff_sd, margin, alpha) >= power)
        if decided.size:
            return int(n[decided[0]])
        start *= 2
    return None


def _power_to_decide(n: np.ndarray, diff_mean: float, diff_sd: float, margin: float, alpha: float) -> np.ndarray:
    """The larger of the t-test's and TOST's power at each ``n`` (formulas in ``repeats_needed``)."""
    df = n - 1
    root_n = np.sqrt(n) / diff_sd
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
