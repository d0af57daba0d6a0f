"""``report_html``, ``save_report`` and ``html_fragment``: results rendered through the Jinja2
templates in ``templates/`` (autoescaped: every text from the results is shown as text)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from losslab._files import atomic_write
from losslab._version import __version__
from losslab.analysis import Comparison, Verification
from losslab.claims import Claim
from losslab.replicate import Replication
from losslab.report._parts import (
    DIAGNOSTIC_DEFINITIONS,
    Charts,
    ClaimsPart,
    Part,
    claims_part,
    comparison_part,
    entries,
    replication_part,
    study_part,
    verification_part,
)
from losslab.results import Study

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("losslab.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)



def _breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity after each underscore: a long loss name
    in a narrow column then wraps at its words (copying it still gives the name)."""
    return Markup.escape(text).replace("_", Markup("_<wbr>"))


_ENVIRONMENT.filters["breakable"] = _breakable

SECTIONS = (
    ("verdicts", "Verdicts"), ("claims", "The tutorial's claims, tested"), ("tables", "Tables"),
    ("figures", "Figures"),
    ("diagnostics", "Diagnostics"), ("notes", "Notes and warnings"), ("provenance", "Plan and provenance"),
)


def report_html(
    *,
    title: str,
    studies: Sequence[Study] = (),
    comparison: Comparison | None = None,
    replication: Replication | None = None,
    verification: Verification | None = None,
    notes: Sequence[str] = (),
    provenance: Mapping[str, object] | None = None,
    claims: Sequence[Claim] = (),
) -> str:
    """One self-contained HTML page for the given results: the verdicts in words first, then
    the tutorial's prose claims as :func:`losslab.claims.claims` tested them (each claim's
    verdict, quote, design, finding and its PNG figure inline as a data URI, and the losses
    drawn), then the tables (sortable by a click on a header), every figure as inline SVG, the
    learning-curve diagnostics, notes and warnings (diverged runs), and the plan and provenance
    of each study (problem, preparation, settings, model, losses, seeds, versions, timings) with
    ``provenance`` (for example a data fingerprint and the time) at its head.

    The page loads nothing from the network (no fonts, scripts, styles or images from elsewhere)
    and reads on a phone as on a laptop: wide tables scroll sideways in their box, figures scale
    to the width.

    >>> page = report_html(title="No results yet", notes=["nothing was trained"])
    >>> page.startswith("<!DOCTYPE html>"), "nothing was trained" in page
    (True, True)
    """
    context = _context(title, studies, comparison, replication, verification, notes, provenance, claims)
    return _ENVIRONMENT.get_template("report.html.j2").render(**context, prefix="", fragment=False)


def save_report(path: str | Path, **results: object) -> Path:
    """Write :func:`report_html` ``(**results)`` to ``path`` and return the path.

    The page is rendered first and written to a temporary name unique to the process in the
    same directory, then renamed over ``path``: a reader never sees a half-written report, and
    an error while rendering leaves an earlier report in place.
    """
    page = report_html(**results)  # type: ignore[arg-type]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(target, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def html_fragment(obj: Study | Comparison | Replication | Verification) -> str:
    """The report's body for one result, to display in a notebook: no ``<html>`` wrapper, its
    styles scoped to the fragment and ids unique to it.

    A :class:`~losslab.Study` shows its tables, figures, warnings and plan; a
    :class:`~losslab.Comparison` its verdicts and tables (it holds no curves to draw); a
    :class:`~losslab.Replication` and a :class:`~losslab.Verification` everything.
    """
    if isinstance(obj, Study):
        results, title = {"studies": [obj]}, f"Study: {obj.problem.name}"
    elif isinstance(obj, Comparison):
        results, title = {"comparison": obj}, f"Comparison on {obj.problem}"
    elif isinstance(obj, Replication):
        results, title = {"replication": obj}, "Replication of the tutorial"
    elif isinstance(obj, Verification):
        results, title = {"verification": obj}, f"Recommendation for {obj.study.problem.name}"
    else:
        raise TypeError(f"html_fragment shows a Study, Comparison, Replication or Verification, "
                        f"not {type(obj).__name__}; for several results use report_html")
    context = _context(title, **results)  # type: ignore[arg-type]
    prefix = f"losslab-{uuid.uuid4().hex[:8]}-"
    return _ENVIRONMENT.get_template("fragment.html.j2").render(**context, prefix=prefix, fragment=True)


def _context(
    title: str,
    studies: Sequence[Study] = (),
    comparison: Comparison | None = None,
    replication: Replication | None = None,
    verification: Verification | None = None,
    notes: Sequence[str] = (),
    provenance: Mapping[str, object] | None = None,
    claims: Sequence[Claim] = (),
) -> dict[str, object]:
    studies, claims = _checked(title, studies, comparison, replication, verification, notes, provenance, claims)
    charts = Charts()
    tested: ClaimsPart | None = claims_part(claims, charts) if claims else None
    parts: list[Part] = []
    if verification is not None:
        parts.append(verification_part(verification, charts, "verification"))
    if replication is not None:
        parts.append(replication_part(replication, charts, "replication"))
    if comparison is not None:
        parts.append(comparison_part(comparison, "comparison"))
    parts += [study_part(study, charts, f"study-{i + 1}") for i, study in enumerate(studies)]
    notes = [str(note) for note in notes]
    present = {
        "verdicts": any(p.lead or p.verdicts or p.findings for p in parts),
        "claims": tested is not None,
        "tables": any(p.tables for p in parts),
        "figures": any(p.figures for p in parts),
        "diagnostics": any(p.diagnostics for p in parts),
        "notes": bool(notes) or any(p.warnings for p in parts),
        "provenance": bool(provenance) or any(p.records for p in parts),
    }
    n_warnings = sum(len(p.warnings) for p in parts)
    return {
        "title": title,
        "version": __version__,
        "parts": parts,
        "claims": tested,
        "notes": notes,
        "provenance": entries(provenance or {}),
        "definitions": DIAGNOSTIC_DEFINITIONS,
        "sections": [(key, name) for key, name in SECTIONS if present[key]],
        "section_ids": {key for key, shown in present.items() if shown},
        "warnings": "" if not n_warnings else
                    f"{n_warnings} warning{'s' if n_warnings > 1 else ''} about runs that diverged",
    }


def _checked(title, studies, comparison, replication, verification, notes, provenance,
             claims=()) -> tuple[list[Study], list[Claim]]:
    """The arguments checked once, with the fix in each message; a single Study (or Claim) is
    taken as one."""
    if not isinstance(title, str):
        raise TypeError(f"title must be text, got {type(title).__name__}")
    if isinstance(studies, Study):
        studies = [studies]
    studies = list(studies)
    for given, expected, name in [*((s, Study, "studies[]") for s in studies), (comparison, Comparison, "comparison"),
                                  (replication, Replication, "replication"), (verification, Verification, "verification")]:
        if given is not None and not isinstance(given, expected):
            raise TypeError(f"{name} must be a losslab {expected.__name__}, got {type(given).__name__}")
    if isinstance(notes, str):
        raise TypeError("notes must be a list of sentences, not one string; use notes=[text]")
    if provenance is not None and not isinstance(provenance, Mapping):
        raise TypeError(f"provenance must be a mapping such as {{'data fingerprint': ..., 'time': ...}}, "
                        f"got {type(provenance).__name__}")
    if isinstance(claims, Claim):
        claims = [claims]
    claims = list(claims)
    for given in claims:
        if not isinstance(given, Claim):
            raise TypeError(f"claims[] must be losslab Claim records, as losslab.claims.claims() returns, "
                            f"got {type(given).__name__}")
    return studies, claims
