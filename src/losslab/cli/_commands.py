"""What each command does: load the problem, call the library, render and write the results."""

from __future__ import annotations

import contextlib
import json
import textwrap
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

from losslab._files import atomic_write, ensure_out_dir, held
from losslab._machine import limit_malloc_arenas
from losslab.analysis import Comparison, check_levels, check_metric, compare, verify
from losslab.cli._render import console, err_console, fmt, mean_sd, print_json, table
from losslab.settings import Backend
from losslab.errors import LosslabError
from losslab.outputs import save_comparison, save_replication, save_run
from losslab.planning import SplitDesign, StudyPlan, default_settings, plan, split_design
from losslab.problems import Problem, file_name, get_problem, is_tutorial_problem, problem_from_file, problem_names
from losslab.registry import get_loss, recommend
from losslab.replicate import Replication, judge, replicate
from losslab._plain import slug
from losslab.predict import predict
from losslab.report import save_report
from losslab.tracking import check_store, log_study
from losslab.results import Study
from losslab.store import STUDIES, StoredStudy, fingerprint, load, run_stored
from losslab.settings import Settings, parse_hidden, seeds_for


@dataclass(frozen=True)
class Source:
    """Where a command's problem comes from: a built-in name or a file and target column.

    ``test_size`` and ``split_seed`` are None when not given, so that an option that does not
    apply (a split on the tutorial's fixed problems) is refused rather than ignored.
    """

    name: str | None
    data: Path | None
    target: str | None
    kind: str | None
    test_size: float | None
    split_seed: int | None
    dropna: bool
    features: str | None = None
    drop: str | None = None
    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None
    on_disk: bool | None = None  # None: decided by the table's size
    out: Path | None = None  # a table kept on disk goes to its tables/ folder

    def load(self) -> Problem:
        """The problem, checked and prepared; a problem from a file is named after the file and
        its target, so that two targets of one file never share output files."""
        if self.data is not None and self.name is not None:
            raise LosslabError(f"give either a problem name ({self.name!r}) or --data, not both")
        if self.data is None and self.target is not None:
            raise LosslabError("--target needs --data FILE")
        split = {"test_size": self.test_size, "seed": self.split_seed}
        split = {k: v for k, v in split.items() if v is not None}
        if self.data is not None:
            if self.target is None:
                raise LosslabError(f"--data {self.data} needs --target COLUMN: the column to predict")
            if self.on_disk is not False:  # a table that may be large: memory before the speed of compiling
                limit_malloc_arenas()
            return problem_from_file(self.data, self.target, name=f"{file_name(self.data)}-{self.target}",
                                     kind=self.kind, dropna=self.dropna, **split, **self._reading())
        if self.name is None:
            raise LosslabError(f"give a problem ({', '.join(problem_names())}) or --data FILE --target COLUMN")
        for flag, value in (("--kind", self.kind), ("--dropna", self.dropna or None), ("--features", self.features),
                            ("--drop", self.drop), ("--sep", self.sep), ("--decimal", self.decimal),
                            ("--encoding", self.encoding),
                            ("--on-disk" if self.on_disk else "--in-memory", None if self.on_disk is None else True)):
            if value is not None:
                raise LosslabError(f"{flag} applies to --data only; the built-in problem {self.name!r} is fixed")
        if split and is_tutorial_problem(self.name):
            given = " and ".join(f"--{'split-seed' if k == 'seed' else 'test-size'}" for k in split)
            raise LosslabError(
                f"{given} cannot be used with the tutorial problem {self.name!r}, which keeps the tutorial's split "
                "(first 500 rows train, last 500 test); they apply to the scikit-learn data sets and to --data"
            )
        return get_problem(self.name, **split)

    def _reading(self) -> dict[str, object]:
        """How to read and which columns to use, as given: ``--features A,B``, ``--drop C``,
        ``--sep``, ``--decimal``, ``--encoding``, ``--on-disk`` (a table kept on disk goes to
        ``OUT/tables``)."""
        given = {"features": _names(self.features), "drop": _names(self.drop), "sep": self.sep,
                 "decimal": self.decimal, "encoding": self.encoding, "on_disk": self.on_disk}
        if self.on_disk is not False and self.out is not None:
            given["data_dir"] = self.out / "tables"
        return {k: v for k, v in given.items() if v is not None}


def _names(text: str | None) -> list[str] | None:
    """``"a, b"`` as ``["a", "b"]``."""
    return None if text is None else [name.strip() for name in text.split(",") if name.strip()]


@dataclass(frozen=True)
class SettingsOptions:
    """Training options given on the command line; ``None`` keeps the plan's default."""

    epochs: int | None = None
    lr: float | None = None
    momentum: float | None = None
    batch_size: int | None = None
    hidden: str | None = None
    optimizer: str | None = None
    activation: str | None = None
    split: str | None = None
    backend: str = "local"
    address: str | None = None
    shuffle: str | None = None

    @property
    def engine(self) -> Backend:
        """Where the chunks train (``--backend``, ``--address``)."""
        return Backend(self.backend, self.address)

    def settings_for(self, problem: Problem) -> Settings:
        """``problem``'s default settings with these options applied; on data the default epochs
        are those of ``--batch-size`` (about 400 updates in any batch size)."""
        return default_settings(problem, self.batch_size).updated(
            epochs=self.epochs, learning_rate=self.lr, momentum=self.momentum, batch_size=self.batch_size,
            hidden=parse_hidden(self.hidden) if self.hidden is not None else None, optimizer=self.optimizer,
            activation=self.activation, shuffle=self.shuffle,
        )


def _plan(source: Source, losses: Sequence[str], seeds: range, options: SettingsOptions) -> StudyPlan:
    """The checked plan, before anything is trained or written."""
    for name in losses:  # a typo in a built-in name fails before the data are read
        if ":" not in name:
            get_loss(name)
    problem = source.load()
    study_plan = plan(problem, losses, seeds, options.settings_for(problem), split=options.split)
    if source.split_seed is not None and study_plan.split.varies:
        raise LosslabError(f"--split-seed fixes one train/test split; with --split {study_plan.split.label()} every seed "
                           "draws its own, so leave --split-seed out or add --split fixed")
    return study_plan


@dataclass(frozen=True)
class Extras:
    """What a training command writes besides its tables and figures: an HTML report (``--report``)
    and an MLflow record (``--mlflow [URI]``; ``mlflow_uri`` None is MLflow's default store)."""

    report: bool = False
    mlflow_uri: str | None = None
    mlflow: bool = False

    def check(self) -> None:
        """Refuse a tracking store that cannot be opened before anything is trained."""
        if self.mlflow:
            check_store(self.mlflow_uri)

    def finish(self, out: Path, stem: str, title: str, studies: Sequence[Study], files: list[Path], **results: object) -> list[str]:
        """Write the report and log to MLflow as asked; the lines that say where they went."""
        said = []
        if self.report:
            provenance = {"written": time.strftime("%Y-%m-%d %H:%M:%S"), "output folder": str(out),
                          "plan fingerprints (SHA-256)": {study.problem.name: fingerprint(study.plan) for study in studies}}
            files.append(save_report(out / f"{stem}_report.html", title=title, studies=list(studies),
                                     provenance=provenance, **results))
            said.append(f"report: {files[-1]}")
        if self.mlflow:
            comparison = results.get("comparison")
            verification = results.get("verification")
            comparison = comparison or (verification.comparison if verification else None)
            ids = [log_study(study, self.mlflow_uri, comparison=comparison, artifacts=files,
                             run_name=stem if len(studies) == 1 else f"{stem}_{study.problem.name}")
                   for study in studies]
            said.append(f"logged to MLflow ({self.mlflow_uri or 'sqlite:///mlruns.db'}): parent run{'s' if len(ids) > 1 else ''} "
                        f"{', '.join(ids)}")
        return said


@contextlib.contextmanager
def _exporting(out: Path) -> Iterator[None]:
    """Hold ``out`` while a command writes its tables and figures there, so that two commands
    never interleave their files (the second waits, then writes its whole set); temporary files
    that a killed command left behind are removed first."""
    with held(out / ".exports.lock"):
        for leftover in out.glob(".*.partial"):
            leftover.unlink(missing_ok=True)
        yield


@contextlib.contextmanager
def _progress(description: str, enabled: bool = True) -> Iterator:
    """A rich progress bar on stderr when it is a terminal; yields ``update(done, total)``."""
    if not (enabled and err_console.is_terminal):  # piped or captured: no bar, not even its blank line
        yield lambda done, total, *_: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("[dim]left about[/dim]"), TimeRemainingColumn())  # estimated once a chunk has finished
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, what: str = "") -> None:
            bar.update(task, completed=done, total=total, description=f"{description} {what}".rstrip())

        yield update


def _timing_line(stored: Sequence[StoredStudy]) -> str:
    """How long training took and waited for its programs, and how many runs were reused from the
    study store."""
    timings = [item.study.timings for item in stored if item.reused < item.study.n_runs]  # what this command trained
    programs = sum(t.get("programs", 0) for t in timings)
    compile_s = sum(t.get("compile_s", 0.0) for t in timings)
    train_s = sum(t.get("train_s", 0.0) for t in timings)
    runs = sum(item.study.n_runs for item in stored)
    reused = sum(item.reused for item in stored)
    trained = runs - reused
    where = f"{'the study' if len(stored) == 1 else 'the studies'} in {stored[0].path.parent}" if stored else ""
    if trained == 0:
        line = f"[dim]{'the run was' if runs == 1 else f'all {runs} runs were'} reused from {where}"
    else:
        line = f"[dim]{_count(trained, 'run')} trained in {train_s:.1f} s"
        line += f", {reused} reused from {where}" if reused else ""
    if programs:
        cached = " (cached for the next time)" if all(t.get("compile_cache") for t in timings) else ""
        line += f"; {compile_s:.1f} s waiting for {_count(programs, 'program')} to compile or load{cached}"
    return line + "[/dim]"


def _print_timing(stored: Sequence[StoredStudy]) -> None:
    console.print(_timing_line(stored), soft_wrap=True)  # one line, however narrow the terminal or pipe


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# run --------------------------------------------------------------------------------------------
def run_one(source: Source, losses: Sequence[str], seed: int, options: SettingsOptions, out: Path, as_json: bool,
            save_models: bool = False, extras: Extras = Extras()) -> None:
    if len(losses) != 1:
        raise LosslabError("run trains one loss; to compare several use: losslab compare ... --loss A --loss B")
    study_plan = _plan(source, losses, seeds_for(1, seed), options)
    extras.check()
    out = ensure_out_dir(out)
    loss, problem = study_plan.losses[0], study_plan.problem
    with _progress(f"training {loss} on {problem.name}", not as_json):
        stored = run_stored(study_plan, out / STUDIES, f"run_{slug(problem.name)}_{slug(loss)}_seed{seed}",
                            save_models=save_models)
    study = stored.study
    with _exporting(out):
        files = save_run(study, out)
        said = extras.finish(out, files[-1].stem, f"{problem.name}: {loss}, seed {seed}", [study], files)
    row = study.runs.iloc[0]
    if as_json:
        print_json({"problem": problem.name, "loss": loss, "seed": seed, "run": row.to_dict(), "files": files,
                    "study": stored.path, "reused": stored.reused})
        return
    if row["diverged"]:
        console.print(f"[red]diverged[/red] at epoch {row['diverged_epoch']}: the loss became NaN or infinite; "
                      "try a smaller --lr")
    else:
        console.print(f"Train: {row['train_metric']:.3f}, Test: {row['test_metric']:.3f}")
        if problem.target_scale is not None:
            console.print(f"In {problem.target_name}'s own units (the model saw it divided by {problem.target_scale:.4g}): "
                          f"Train MSE: {row['train_metric_target_units']:.4g}, Test MSE: {row['test_metric_target_units']:.4g}")
        if study_plan.specs[0].activation == "tanh":
            console.print(f"As the tutorial's Keras scored it (round(output) == label): Train: "
                          f"{row['train_rounding_accuracy']:.3f}, Test: {row['test_rounding_accuracy']:.3f}")
        if row["collapsed"]:
            _prose(f"the run collapsed: {row['collapse_reason']}; it learned nothing usable, so its scores say nothing "
                   f"about the loss ({_collapse_fix(str(row['collapse_reason']))})", lead="warning: ", lead_style="yellow")
    console.print(f"metric: {row['metric']}; learning curves: {files[-1]}; history: {files[0]}, {files[1]}")
    for line in said:
        console.print(line)
    _print_timing([stored])


def _collapse_fix(reason: str) -> str:
    """What to try after a run collapsed for ``reason`` (:func:`losslab.results.collapse_reasons`)."""
    if reason.startswith("never moved"):
        return "try a larger --lr"
    if reason.startswith("trained on"):
        return "use more rows, or a smaller --test-size"
    return "try another --lr or more --epochs, and check that the features can predict the target"


def _prose(text: str, *, lead: str = "", lead_style: str = "", style: str = "", indent: int = 2) -> None:
    """A line of prose (a flag, note, verdict or conclusion) wrapped at word boundaries to the
    console's width, never mid-word; its continuation lines are indented by ``indent`` so that
    each item stays one visible item. ``lead`` (``"- "``, ``"warning: "``) starts the first line
    in ``lead_style``; ``style`` is the whole item's."""
    width = max(console.width, 20)
    lines = textwrap.wrap(lead + text, width, subsequent_indent=" " * indent, break_long_words=False,
                          break_on_hyphens=False) or [lead]
    rendered = Text("\n".join(lines), style=style)
    if lead_style and lead:
        rendered.stylize(lead_style, 0, len(lead.rstrip()))
    console.print(rendered, soft_wrap=True)  # already wrapped: rich must not fold it again


# replicate --------------------------------------------------------------------------------------
def replicate_all(repeats: int, epochs: int | None, out: Path, as_json: bool, extras: Extras = Extras()) -> None:
    seeds_for(repeats)
    extras.check()
    if epochs is not None:
        Settings(epochs=epochs)
    out = ensure_out_dir(out)
    with _progress("replicating", not as_json) as update:
        result = replicate(repeats, epochs, progress=lambda problem, done, total: update(done, total, problem),
                           store=out / STUDIES)
    with _exporting(out):
        files = save_replication(result, out)
        said = extras.finish(out, "replicate", f"The tutorial replicated: {repeats} runs per case study",
                             list(result.studies.values()), files, replication=result)
    if as_json:
        print_json({"repeats": repeats, "cases": result.table, "diagnostics": result.diagnostics,
                    "notes": result.notes(), "files": [str(f) for f in files],
                    "studies": [item.path for item in result.stored], "reused": sum(item.reused for item in result.stored)})
        return
    _print_replication(result)
    console.print(f"figures and tables in {out}/ ({len(files)} files); the studies in {out / STUDIES}")
    for line in said:
        console.print(line)
    _print_timing(result.stored)


def _print_replication(result: Replication) -> None:
    runs = f"{result.repeats} run{'s' if result.repeats > 1 else ''}"
    rows = []
    for r in result.table.itertuples():
        units = "1" if r.units == "1" else "n"
        tutorial_acc = "" if np.isnan(r.tutorial_train) else f"{fmt(r.tutorial_train)} / {fmt(r.tutorial_test)}"
        spread = "" if np.isnan(r.test_median) else f"{fmt(r.test_median)} [{fmt(r.test_q25)}, {fmt(r.test_q75)}]"
        rows.append([f"{r.case} {r.problem}", r.loss, f"{units} x {r.activation}; {r.targets}", r.metric,
                     mean_sd(r.train, r.train_sd), mean_sd(r.test, r.test_sd), spread, tutorial_acc])
    columns = ["case", "loss", "output; targets", "metric", "train (mean ± sd)", "test (mean ± sd)",
               "test median [IQR]", "tutorial's Keras\naccuracy"]
    console.print(table(f"The tutorial's case studies, {runs} each", columns, rows))
    rows = []
    for r in result.table.itertuples():
        if r.agrees == "-" and r.outcome == "completed":
            continue
        where = "" if np.isnan(r.reported_test_percentile) else \
            f"{r.reported_train_percentile:.0f} / {r.reported_test_percentile:.0f}"
        agrees = r.agrees if r.outcome == "completed" else f"{r.agrees} ({r.outcome})"
        rows.append([f"{r.case} {r.loss}", r.reported, where, agrees, r.reason])
    console.print(table(f"The tutorial's claims, judged over {runs}",
                        ["case", "tutorial reported", "percentile of its\nfigure (train / test)", "agrees", "why"], rows))
    rows = [[f"{r.case} {r.problem}", r.loss, r.tutorial_curves, fmt(r.convergence_epoch, 0), fmt(r.bumpiness, 4),
             f"{fmt(r.overfit_fraction, 2)}" + (f" (from epoch {r.overfitting_onset:.0f})" if r.overfit_fraction > 0 else "")]
            for r in result.diagnostics.itertuples()]
    console.print(table("The learning curves: the tutorial's words and losslab's diagnostics (means over runs)",
                        ["case", "loss", "the tutorial says", "converged by epoch", "bumpiness", "runs overfitting"], rows))
    for note in result.notes():
        console.print(f"- {note}", soft_wrap=True)


# compare ----------------------------------------------------------------------------------------
def compare_losses(source: Source, losses: Sequence[str], repeats: int, margin: float | None, alpha: float,
                   options: SettingsOptions, out: Path, as_json: bool, save_models: bool = False,
                   extras: Extras = Extras(), metric: str | None = None) -> None:
    if len(losses) < 2:
        raise LosslabError("compare needs at least two losses: --loss A --loss B")
    check_levels(margin, alpha)  # before the training, not after it
    study_plan = _plan(source, losses, seeds_for(repeats), options)
    check_metric(study_plan.problem.kind, study_plan.metric, metric)
    extras.check()
    out = ensure_out_dir(out)
    with _progress(f"training {len(losses)} losses x {repeats} seeds on {study_plan.problem.name}", not as_json) as update:
        stored = run_stored(study_plan, out / STUDIES, f"compare_{slug(study_plan.problem.name)}", update,
                            save_models=save_models, backend=options.engine)
    comparison = compare(stored.study, margin=margin, alpha=alpha, metric=metric)
    atomic_write(stored.path / COMPARE_OPTIONS,
                 lambda p: p.write_text(json.dumps({"margin": margin, "alpha": alpha, "metric": metric})))
    stem = f"compare_{slug(study_plan.problem.name)}"
    with _exporting(out):
        files = save_comparison(stored.study, comparison, out)
        said = extras.finish(out, stem, f"{study_plan.problem.name}: {', '.join(study_plan.losses)}", [stored.study],
                             files, comparison=comparison)
    if as_json:
        print_json({**comparison.to_dict(), "files": files, "study": stored.path, "reused": stored.reused})
        return
    print_comparison(stored.study, comparison)
    console.print(f"figures and tables in {out}/ ({len(files)} files); the study in {stored.path}")
    for line in said:
        console.print(line)
    _print_timing([stored])


def print_mse_units(study: Study, metric: str, where: str = "") -> None:
    """How an MSE on a standardised regression target converts to the target's own units."""
    scale = study.problem.target_scale
    if metric == study.metric == "mse" and scale is not None:
        target = study.problem.target_name
        _prose(f"MSE on {target} divided by its sd ({scale:.4g}); times {scale**2:.4g} gives the MSE in the units of "
               f"{target}{where}.", style="dim")


def print_comparison(study: Study, comparison: Comparison) -> None:
    metric = comparison.metric
    rows = []
    for r in comparison.summary.to_dict(orient="records"):
        rows.append([r["loss"], _runs_cell(r), mean_sd(r["score_mean"], r["score_sd"]),
                     f"{fmt(r['score_iqm'])} [{fmt(r['score_iqm_low'])}, {fmt(r['score_iqm_high'])}]",
                     mean_sd(r["train_metric_mean"], r["train_metric_sd"])])
    level = f"{100 * (1 - comparison.alpha):.0f}%"
    columns = ["loss", "runs", f"test {metric}", f"IQM [{level}]", f"train {study.metric}"]
    rows += [[f"baseline: {r['baseline']}", f"{r['n']}", mean_sd(r["mean"], r["sd"]), "", ""]
             for r in comparison.baselines.to_dict(orient="records")]
    console.print(table(f"{study.problem.name}: final {metric} over {len(study.seeds)} paired seeds "
                        f"(split {comparison.split})", columns, rows))
    print_mse_units(study, metric, " (the runs' test_mse column)")
    diag = comparison.diagnostics_summary
    rows = [[r["loss"], fmt(r["convergence_epoch_mean"], 1), f"{fmt(r['overfit_fraction'], 2)}",
             fmt(r["overfitting_onset_mean"], 1), fmt(r["bumpiness_mean"], 4), fmt(r["metric_gap_mean"], 3)]
            for r in diag.to_dict(orient="records")]
    held_out = study.plan.selection_split
    console.print(table(f"Learning-curve diagnostics (means over runs; held-out curves: {held_out})",
                        ["loss", "convergence epoch", "runs overfitting", "overfitting onset", "bumpiness",
                         f"train-{held_out} gap"], rows))
    for flag in comparison.flags:
        _prose(flag, lead="warning: ", lead_style="yellow")
    for note in comparison.notes:
        _prose(note, style="dim")
    console.print("[bold]Verdicts[/bold]")
    for verdict in comparison.verdicts:  # one item each, wrapped at words to the width
        _prose(verdict, lead="- ")


def _runs_cell(row: dict) -> str:
    """Finished runs of all, with what was left out."""
    left = [f"{row[k]} {word}" for k, word in (("n_diverged", "diverged"), ("n_collapsed", "collapsed")) if row[k]]
    return f"{row['n']}/{row['n_runs']}" + (f" ({', '.join(left)})" if left else "")


# show -------------------------------------------------------------------------------------------
def show_studies(path: Path, out: Path | None, as_json: bool) -> None:
    """Re-render a stored study (or a folder of them) without training: tables, verdicts, figures."""
    studies = load_studies(path)
    out = ensure_out_dir(out or (path / "shown"))
    replication = _replication_of(studies)
    if replication is not None:
        files = save_replication(replication, out)
        if as_json:
            print_json({"cases": replication.table, "diagnostics": replication.diagnostics,
                        "notes": replication.notes(), "files": files})
            return
        _print_replication(replication)
    else:
        files, payload, several = [], [], len(studies) > 1
        for directory, study in studies.items():
            comparison = _recorded_comparison(directory, study)
            stem = directory.name if several else None  # a sweep's settings share a problem: name by study
            files += save_comparison(study, comparison, out, stem) if comparison else save_run(study, out, stem)
            payload.append({"study": directory.name, "settings": _settings_line(study.settings),
                            **(comparison.to_dict() if comparison else {"problem": study.problem.name, "runs": study.runs})})
            if several and not as_json:
                console.print(f"[bold]{directory.name}[/bold]: {_settings_line(study.settings)}", soft_wrap=True)
            if not as_json:
                print_comparison(study, comparison) if comparison else console.print(table(
                    f"{study.problem.name}: {study.losses[0]}", ["seed", "train metric", "test metric", "diverged"],
                    study.runs[["seed", "train_metric", "test_metric", "diverged"]].itertuples(index=False)))
        if as_json:
            print_json({"studies": payload, "files": files})
            return
    console.print(f"figures and tables in {out}/ ({len(files)} files)", soft_wrap=True)


def _settings_line(settings: Settings) -> str:
    """The settings a study trained with, in a line (what tells a sweep's studies apart)."""
    momentum = f", momentum {0.9 if settings.momentum is None else settings.momentum:g}" if settings.optimizer == "sgd" else ""
    hidden = ",".join(map(str, settings.hidden))
    blocks = ", shuffled by blocks" if settings.shuffle == "blocks" else ""
    return (f"{settings.optimizer}, learning rate {settings.learning_rate:g}{momentum}, batch {settings.batch_size}, "
            f"hidden {hidden} {settings.activation}, {settings.epochs} epochs{blocks}")


def report_studies(path: Path, out: Path | None) -> None:
    """One HTML report of the stored studies at ``path``, without training."""
    studies = load_studies(path)
    target = out or (path / "report.html")
    provenance = {"studies": {d.name: _read_json(d / "manifest.json").get("fingerprint", "") for d in studies},
                  "written": time.strftime("%Y-%m-%d %H:%M:%S")}
    replication = _replication_of(studies)
    if replication is not None:
        save_report(target, title=f"The tutorial replicated: {replication.repeats} runs per case study",
                    studies=list(studies.values()), replication=replication, provenance=provenance)
    else:
        (directory, study), *more = studies.items()
        comparison = _recorded_comparison(directory, study) if not more else None
        title = ", ".join(f"{s.problem.name}: {', '.join(s.losses)}" for s in studies.values())
        save_report(target, title=title, studies=list(studies.values()), comparison=comparison, provenance=provenance)
    console.print(f"report: {target}")


#: The comparison options a compare command used, kept beside its study for show and report.
COMPARE_OPTIONS = "compare.json"


def _recorded_comparison(directory: Path, study: Study) -> Comparison | None:
    """The study's comparison with the margin and alpha its command used (defaults otherwise)."""
    if len(study.losses) < 2:
        return None
    options = _read_json(directory / COMPARE_OPTIONS)
    return compare(study, margin=options.get("margin"), alpha=options.get("alpha", 0.05))


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _replication_of(studies: dict[Path, Study]) -> Replication | None:
    """The replication the studies make up, if they are all ``replicate_*`` studies of one run."""
    names = [directory.name.rsplit("-", 1)[0] for directory in studies]
    if not all(name.startswith("replicate_") for name in names):
        return None
    if len(set(names)) < len(names):
        raise LosslabError("this folder holds more than one replication of a problem (different --repeats or "
                           "--epochs); give a folder with one replication, or one study directory")
    return judge({name.removeprefix("replicate_"): study for name, study in zip(names, studies.values())})


def _with_article(target: str) -> str:
    """``"quantity"`` -> ``"a quantity"``: the target readings that are singular nouns take one."""
    return f"a {target}" if target in ("proportion", "quantity") else target


def predict_file(path: Path, data: Path, loss: str | None, seed: int | None, out: Path, as_json: bool) -> None:
    directories = _study_directories(path)
    if len(directories) != 1:
        raise LosslabError(f"{str(path)!r} holds {len(directories)} studies; give one study's directory: "
                           + ", ".join(str(d) for d in directories[:4]))
    table = predict(directories[0], data, loss=loss, seed=seed)
    ensure_out_dir(out.parent)
    parquet = out.suffix.lower() in (".parquet", ".pq")
    atomic_write(out, lambda p: table.to_parquet(p, index=False) if parquet else table.to_csv(p, index=False))
    if as_json:
        print_json({"study": directories[0], "loss": table.attrs["loss"], "seeds": list(table.attrs["seeds"]),
                    "left_out": list(table.attrs["left_out"]),
                    "rows": len(table), "file": out, "predictions": table.head(20)})
        return
    models = _count(len(table.attrs["seeds"]), "model")
    left_out = table.attrs["left_out"]
    collapsed = f" ({_count(len(left_out), 'collapsed run')} left out: seed {', '.join(map(str, left_out))})" if left_out else ""
    console.print(f"{_count(len(table), 'prediction')} written to {out}: the mean of {models} trained with {table.attrs['loss']}"
                  f"{collapsed}, from {directories[0]}", soft_wrap=True)


def _study_directories(path: Path) -> list[Path]:
    """The study directories at ``path``: itself, or those in it or in its studies folder."""
    if not path.exists():
        raise LosslabError(f"no such folder {str(path)!r}; give a command's --out folder or a study directory in it")
    if (path / "manifest.json").exists():
        return [path]
    folder = path / STUDIES if (path / STUDIES).is_dir() else path
    found = sorted(p.parent for p in folder.glob("*/manifest.json")) if folder.is_dir() else []
    if not found:
        raise LosslabError(f"no losslab study in {str(path)!r}; give a command's --out folder or a study directory in it")
    return found


def load_studies(path: Path) -> dict[Path, Study]:
    """The complete studies at ``path`` (one study directory, or a folder or a command's --out
    holding them), by directory; an incomplete one in a folder is passed over with a warning."""
    directories = _study_directories(path)
    if len(directories) == 1:
        return {directories[0]: load(directories[0])}
    studies = {}
    for directory in directories:
        try:
            studies[directory] = load(directory)
        except LosslabError as exc:
            warnings.warn(f"left out: {exc}", UserWarning, stacklevel=2)
    if not studies:
        raise LosslabError(f"no complete study in {str(path)!r}; run the command that made them again to finish them")
    return studies


# recommend --------------------------------------------------------------------------------------
def recommend_loss(source: Source, verify_it: bool, repeats: int | None, options: SettingsOptions, out: Path | None,
                   as_json: bool, extras: Extras = Extras(), metric: str | None = None) -> None:
    if not verify_it:
        training = (("--repeats", repeats), ("--epochs", options.epochs), ("--batch-size", options.batch_size),
                    ("--shuffle", options.shuffle), ("--report", extras.report), ("--mlflow", extras.mlflow),
                    ("--split", options.split), ("--metric", metric))
        given = [flag for flag, value in training if value is not None and value is not False]
        if given:
            one = len(given) == 1
            raise LosslabError(f"{' and '.join(given)} {'is' if one else 'are'} only used with --verify, which trains; "
                               f"add --verify or leave {'it' if one else 'them'} out")
    repeats, out = repeats or 10, out or Path("losslab-out")
    extras.check()
    problem = source.load()
    advice = recommend(problem)
    payload = {"problem": problem.name, "kind": problem.kind, "n_classes": problem.n_classes, "target": advice.target,
               "loss": advice.loss, "output_layer": advice.output_layer, "targets": advice.encoding,
               "reason": advice.reason, "notes": list(advice.notes),
               "alternatives": [{"loss": loss, "when": why} for loss, why in advice.alternatives]}
    verification = None
    if verify_it:
        check_metric(problem.kind, "accuracy" if problem.kind != "regression" else "mse", metric)
        seeds = seeds_for(repeats)
        out = ensure_out_dir(out)
        with _progress(f"verifying on {problem.name}", not as_json) as update:
            verification = verify(problem, seeds, options.settings_for(problem), progress=update,
                                  store=out / STUDIES, split=options.split, metric=metric)
        payload["skipped"] = verification.skipped
        with _exporting(out):
            payload["files"] = save_comparison(verification.study, verification.comparison, out)
            payload["said"] = extras.finish(out, f"recommend_{slug(problem.name)}", f"{problem.name}: the recommended loss, verified",
                                            [verification.study], payload["files"], verification=verification)
        payload["verification"] = verification.comparison.to_dict()
        payload["selection"] = verification.selection.to_dict()
        payload["use"], payload["conclusion"] = verification.choice, verification.sentence
    if as_json:
        print_json(payload)
        return
    kind = problem.kind if problem.kind == "regression" else f"{problem.kind} classification ({problem.n_classes} classes)"
    read = f"; the target reads as {_with_article(advice.target)}" if advice.target else ""
    rows = _rows_line(problem, verification.study.plan.split if verification is not None else None)
    console.print(f"[bold]{problem.name}[/bold]: {kind}, {rows}, {problem.n_features} features{read}")
    console.print(f"Recommended loss: [bold]{advice.loss}[/bold]; output layer: {advice.output_layer}; targets: {advice.encoding}")
    _prose(advice.reason, lead="Why: ")
    for note in advice.notes:
        _prose(note, lead="Note: ")
    console.print(table("Alternatives worth trying", ["loss", "when"], advice.alternatives))
    for note in payload.get("skipped", []):
        _prose(note, lead="- not verified: ")
    if verification is not None:
        print_comparison(verification.study, verification.comparison)
        console.print(f"figures and tables in {out}/ ({len(payload['files'])} files)", soft_wrap=True)
        for line in payload["said"]:
            console.print(line)
        _prose(verification.sentence, style="bold")


def _rows_line(problem: Problem, design: SplitDesign | None = None) -> str:
    """The problem's rows as its split design divides them: ``300 rows (180 train, 45 validation,
    75 test per split)``; ``design`` None is the design a study of the problem gets by default."""
    n_rows = problem.n_train + problem.n_test
    try:
        design = design or split_design(problem)
    except LosslabError:  # a split that cannot be drawn is refused when a study is planned
        return f"{n_rows} rows ({problem.n_train} to train and validate, {problem.n_test} to test)"
    sizes = design.sizes(problem)
    parts = [f"{sizes.train} train"] + ([f"{sizes.validation} validation"] if sizes.validation else [])
    per = " per split" if design.varies else ""
    return f"{n_rows} rows ({', '.join(parts)}, {sizes.test} test{per})"
