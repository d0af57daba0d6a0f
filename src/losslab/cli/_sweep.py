"""``losslab sweep``: the losses compared at every setting of a grid, and where each one wins."""

from __future__ import annotations

from pathlib import Path

from losslab._files import atomic_write, ensure_out_dir
from losslab._plain import slug
from losslab.cli._commands import (Source, SettingsOptions, _exporting, _print_timing, _progress, _prose, _runs_cell,
                                   print_mse_units)
from losslab.cli._render import console, fmt, mean_sd, print_json, table
from losslab.errors import LosslabError
from losslab.figures._sweep import plot_sweep_wins

from losslab.settings import seeds_for
from losslab.store import STUDIES
from losslab.sweep import Sweep, sweep


def sweep_losses(source: Source, losses: list[str], repeats: int, grid: dict[str, str | None], options: SettingsOptions,
                 out: Path, as_json: bool, metric: str | None = None, save_models: bool = False) -> None:
    """Train and compare ``losses`` at every setting of ``grid`` (comma-separated values per
    axis), print the verdicts per setting and the best setting per loss, and write the tables and
    the "which loss wins where" figure under ``out``."""
    if len(losses) < 2:
        raise LosslabError("sweep compares at least two losses: --loss A --loss B")
    axes = {axis: _parsed(flag, text) for axis, (flag, text) in grid.items() if text is not None}
    if not axes:
        raise LosslabError("give the values to sweep, e.g. --lr 0.001,0.01,0.1 (or --momentum, --batch-size, --hidden)")
    problem = source.load()
    settings = options.settings_for(problem)
    out = ensure_out_dir(out)
    with _progress(f"sweeping {len(losses)} losses on {problem.name}", not as_json) as update:
        result = sweep(problem, losses, seeds_for(repeats), settings, split=options.split, metric=metric,
                       progress=update, store=out / STUDIES, backend=options.engine, save_models=save_models,
                       keep_epochs=options.epochs is not None, **axes)
    with _exporting(out):
        files = _save(result, out, f"sweep_{slug(problem.name)}")
    if as_json:
        print_json({**result.to_dict(), "files": files})
        return
    _print(result)
    console.print(f"tables and the figure in {out}/ ({len(files)} files)")
    _print_timing(result.stored)


def _cell(row) -> str:
    """A loss's score at one setting, with the finished runs where some were left out."""
    cell = mean_sd(row["test_mean"], row["test_sd"])
    return cell if row["n"] == row["n_runs"] else f"{cell} ({int(row['n'])}/{int(row['n_runs'])})"


def _parsed(flag: str, text: str) -> list[object]:
    """``"0.001,0.01"`` as numbers (``--hidden`` values stay text such as ``64x32``: one per layer set)."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if flag == "--hidden":
        return [part.replace("x", ",") for part in parts]
    cast = int if flag == "--batch-size" else float
    try:
        return [cast(part) for part in parts]
    except ValueError:
        kind = "whole numbers" if cast is int else "numbers"
        raise LosslabError(f"{flag} takes {kind} separated by commas, e.g. {flag} "
                           f"{'16,32,64' if cast is int else '0.001,0.01,0.1'}; got {text!r}") from None


def _save(result: Sweep, out: Path, stem: str) -> list[Path]:
    files = []
    for name, frame in (("summary", result.summary()), ("verdicts", result.verdicts()), ("best", result.best()),
                        ("wins", result.wins())):
        files.append(atomic_write(out / f"{stem}_{name}.csv", lambda p, frame=frame: frame.to_csv(p, index=False)))
    files.append(out / f"{stem}_wins.png")
    plot_sweep_wins(result, files[-1])
    return files


def _print(result: Sweep) -> None:
    summary, wins = result.summary(), result.wins()
    losses = list(dict.fromkeys(summary["loss"]))
    rows = []
    for values, winner in zip(result.settings, wins["winner"]):
        cells = summary
        for axis in result.axes:
            cells = cells[cells[axis].astype(str) == str(values[axis])]
        means = cells.set_index("loss")
        rows.append([*(str(values[a]) for a in result.axes), *(_cell(means.loc[loss]) for loss in losses), winner])
    console.print(table(f"{result.problem}: test {result.metric} at each setting (mean ± sd over paired seeds)",
                        [*result.axes, *losses, "wins"], rows))
    _print_baselines(result)
    for r in summary.to_dict(orient="records"):  # as compare says it: runs left out are never silent
        if r["n"] < r["n_runs"]:
            where = ", ".join(f"{a} {r[a]}" for a in result.axes)
            console.print(f"[yellow]warning:[/yellow] {where}: {r['loss']}: {_runs_cell(r)} runs finished; the others "
                          "are left out of the statistics", soft_wrap=True)
    best = result.best()
    validation = result.studies[0].plan.selection_split == "validation"
    chosen_on = f"validation {result.metric}" if validation else f"test {result.metric} (no validation split)"
    console.print(table(f"Best setting per loss (chosen on the {chosen_on}, reported on test)",
                        ["loss", *result.axes, "chosen on", "test", "runs"],
                        [[r["loss"], *(str(r[a]) for a in result.axes), fmt(r["selection_mean"]),
                          mean_sd(r["test_mean"], r["test_sd"]), _runs_cell(r)] for r in best.to_dict(orient="records")]))
    console.print("[bold]Verdicts that decide something[/bold]")
    decided = result.verdicts()
    decided = decided[~decided["verdict"].str.startswith("inconclusive")]
    for r in decided.to_dict(orient="records"):
        where = ", ".join(f"{a} {r[a]}" for a in result.axes)
        console.print(f"- {where}: {r['loss_a']} vs {r['loss_b']}: {r['verdict']}")
    if decided.empty:
        console.print(f"- none: at every setting the verdicts are inconclusive; sweep_{slug(result.problem)}_verdicts.csv "
                      "says for each what would decide it", soft_wrap=True)


def _print_baselines(result: Sweep) -> None:
    """The baselines, fitted on the same splits at every setting, and where a learned one beats
    every loss; the units of a standardised regression target, as compare says them."""
    first = result.comparisons[0]
    scores = ", ".join(f"{r['baseline']} {mean_sd(r['mean'], r['sd'])}" for r in first.baselines.to_dict(orient="records"))
    _prose(f"Baselines on the same splits (test {result.metric}): {scores}.", style="dim")
    ahead = [comparison.baseline_ahead for comparison in result.comparisons if comparison.baseline_ahead]
    if ahead:
        _prose(f"The {ahead[0]} baseline scores better than every loss at {len(ahead)} of {len(result.settings)} "
               "settings: the network may be the wrong model for this data, or other settings need trying.",
               lead="note: ", lead_style="yellow")
    print_mse_units(result.studies[0], result.metric)
