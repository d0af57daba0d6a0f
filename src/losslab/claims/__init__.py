"""``claims``: the tutorial's prose claims, each tested by a designed experiment on paired seeds.

The tutorial makes more claims in prose than its nine experiments test. Each claim here quotes
the tutorial, states its design in one sentence, runs it (30 paired seeds by default) and ends in
a verdict, ``supported``, ``not supported`` or ``depends`` (on what, in the summary), with the
numbers and a figure. ``claims()`` runs them all (or ``only`` some) and returns :class:`Claim`
records; ``claims_table`` is their one-row-each summary.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from losslab.claims._claim import CLAIMS, VERDICTS, Claim, ClaimSpec, Context, Finding, claim
from losslab.engine import Progress
from losslab.errors import SettingsError
from losslab.results import ensure_out_dir

from losslab.claims import _experiments  # noqa: F401  (registers the claims)


def claims(repeats: int = 30, out: str | Path = "losslab-out", only: Iterable[int | str] | None = None,
           progress: Progress | None = None, quick: bool = False) -> list[Claim]:
    """Test the tutorial's claims (every one, or ``only`` those numbered or keyed so), each on
    ``repeats`` paired seeds per configuration; figures go to ``out``. ``quick`` runs a small
    version of each design (for tests); its verdicts are not the tutorial's answer."""
    if not isinstance(repeats, int) or repeats < 2:
        raise SettingsError(f"claims need at least 2 repeats to judge a distribution, got {repeats!r}; the default is 30")
    chosen = _chosen(only)
    out = ensure_out_dir(out)
    results = []
    for spec in chosen:
        start = time.perf_counter()
        finding = spec.experiment(Context(repeats, out, progress, quick))
        results.append(Claim(spec.number, spec.key, spec.quote, spec.design, finding.verdict, finding.summary,
                             finding.numbers, finding.figure, time.perf_counter() - start))
    return results


def _chosen(only: Iterable[int | str] | None) -> list[ClaimSpec]:
    if only is None:
        return list(CLAIMS)
    wanted = [str(item) for item in only]
    known = {str(spec.number): spec for spec in CLAIMS} | {spec.key: spec for spec in CLAIMS}
    unknown = [item for item in wanted if item not in known]
    if unknown:
        raise SettingsError(f"no claim {', '.join(unknown)}; the claims are "
                            + ", ".join(f"{spec.number} ({spec.key})" for spec in CLAIMS))
    return list(dict.fromkeys(known[item] for item in wanted))


def claims_table(results: Iterable[Claim]) -> pd.DataFrame:
    """One row per claim: number, key, verdict, summary, figure."""
    return pd.DataFrame([{"claim": c.number, "key": c.key, "verdict": c.verdict, "summary": c.summary,
                          "figure": str(c.figure) if c.figure else ""} for c in results])


__all__ = ["CLAIMS", "VERDICTS", "Claim", "ClaimSpec", "Context", "Finding", "claim", "claims", "claims_table"]
