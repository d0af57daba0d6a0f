"""Analysis: honest statistical verdicts from a study's runs.

``compare(study)`` is the entry point: per-loss summaries with bootstrap intervals, paired tests
between every pair of losses (t-test, Wilcoxon, Holm adjustment, TOST equivalence), learning-curve
diagnostics and one plain-English verdict per pair. The statistical building blocks are public too.
"""

from __future__ import annotations

from losslab.analysis._compare import Comparison, check_levels, compare, default_margin
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
    PairedTest,
    Tost,
    bootstrap_ci,
    holm,
    paired_tests,
    repeats_needed,
    tost_paired,
)

__all__ = [
    "Comparison", "PairedTest", "Tost", "Verification",
    "bootstrap_ci", "bumpiness", "check_levels", "compare", "convergence_epoch", "curve_diagnostics", "default_margin",
    "holm", "metric_gap", "overfitting_onset", "paired_tests", "repeats_needed", "summarise_diagnostics",
    "tost_paired", "verify",
]
