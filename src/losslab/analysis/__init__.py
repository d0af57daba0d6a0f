"""Analysis: honest statistical verdicts from a study's runs.

``compare(study)`` is the entry point: per-loss summaries with bootstrap intervals, paired tests
between every pair of losses (t-test, Wilcoxon, Holm adjustment, TOST equivalence), learning-curve
diagnostics and one plain-English verdict per pair. The statistical building blocks are public too.
"""

from __future__ import annotations

from losslab.analysis._compare import Comparison, check_levels, check_metric, compare, default_margin
from losslab.analysis._diagnostics import (
    bumpiness,
    convergence_epoch,
    curve_diagnostics,
    metric_gap,
    overfitting_onset,
    summarise_diagnostics,
)
from losslab.analysis._verify import Verification, verify
from losslab.analysis._stats import (
    CorrectedTest,
    PairedTest,
    Tost,
    bootstrap_ci,
    corrected_ci,
    corrected_resampled_ttest,
    corrected_tost,
    holm,
    interquartile_mean,
    iqm_ci,
    paired_tests,
    probability_of_improvement,
    repeats_needed,
    splits_needed,
    tost_paired,
)

__all__ = [
    "Comparison", "CorrectedTest", "PairedTest", "Tost", "Verification",
    "bootstrap_ci", "bumpiness", "check_levels", "check_metric", "compare", "convergence_epoch", "corrected_ci", "corrected_resampled_ttest",
    "corrected_tost", "curve_diagnostics", "default_margin", "holm", "interquartile_mean", "iqm_ci", "metric_gap",
    "overfitting_onset", "paired_tests", "probability_of_improvement", "repeats_needed", "splits_needed",
    "summarise_diagnostics", "tost_paired", "verify",
]
