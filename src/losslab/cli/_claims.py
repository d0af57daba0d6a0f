"""``losslab claims`` and ``losslab plot-losses``: the tutorial's prose claims tested, and the losses drawn."""

from __future__ import annotations

import time
from pathlib import Path

from losslab._files import atomic_write, ensure_out_dir
from losslab.claims import Claim, claims, claims_table
from losslab.cli._commands import _exporting, _progress
from losslab.cli._render import console, print_json, table
from losslab.figures._losses import AXES, loss_group, plot_losses
from losslab.registry import LossSpec, get_loss
from losslab.report import save_report


#: How a verdict is coloured in the terminal.
COLOURS = {"supported": "green", "not supported": "red", "depends": "yellow"}


#: The file ``--report`` writes in the output folder.
REPORT_NAME = "claims_report.html"


def test_claims(repeats: int, only: str | None, out: Path, as_json: bool, report: bool = False) -> Path | None:
    """Run the claims' experiments, print a verdict per claim, write ``claims.csv`` and the figures,
    and with ``report`` one self-contained HTML page of them (``claims_report.html``, whose path
    is returned; None without ``report``)."""
    chosen = [part.strip() for part in only.split(",") if part.strip()] if only else None
    out = ensure_out_dir(out)
    with _progress("testing the tutorial's claims", not as_json) as update:
        results = claims(repeats=repeats, out=out, only=chosen, progress=update)
    with _exporting(out):
        summary = claims_table(results)
        path = atomic_write(out / "claims.csv", lambda p: summary.to_csv(p, index=False))
        page = _report(results, repeats, out) if report else None
    if as_json:
        print_json({"claims": [c.to_dict() for c in results], "table": str(path),
                    **({"report": str(page)} if page else {})})
        return page
    for c in results:
        colour = COLOURS[c.verdict]
        console.print(f"[bold]{c.number}. {c.key}[/bold]: [{colour}]{c.verdict}[/{colour}] ({c.seconds:.0f} s)")
        console.print(f'  the tutorial: "{c.quote}"', highlight=False)
        console.print(f"  design: {c.design}", highlight=False)
        console.print(f"  found: {c.summary}", highlight=False)
        if c.figure:
            console.print(f"  figure: {c.figure}")
    total = sum(c.seconds for c in results)
    console.print(f"{len(results)} claims in {total:.0f} s; the table in {path}")
    if page:
        console.print(f"report: {page}")
    return page


def _report(results: list[Claim], repeats: int, out: Path) -> Path:
    """The claims as one self-contained HTML page in ``out``."""
    provenance = {"written": time.strftime("%Y-%m-%d %H:%M:%S"), "output folder": str(out),
                  "paired seeds per configuration": repeats, "claims": [c.number for c in results]}
    return save_report(out / REPORT_NAME, title=f"The tutorial's claims, tested on {repeats} paired seeds", claims=results,
                       provenance=provenance)


def draw_losses(names: list[str], out: Path, as_json: bool) -> None:
    """Draw each named loss and its gradient into ``out`` (a .png file)."""
    specs = [get_loss(name) for name in names]
    out.parent.mkdir(parents=True, exist_ok=True)
    plot_losses(specs, out)  # written to a temporary name and renamed into place
    path = out
    if as_json:
        print_json({"losses": [spec.name for spec in specs], "figure": str(path)})
        return
    console.print(table("Losses drawn", ["loss", "drawn against"],
                        [[spec.name, _against(spec)] for spec in specs]))
    console.print(f"figure: {path}")


def _against(spec: LossSpec) -> str:
    return AXES[loss_group(spec)][0]
