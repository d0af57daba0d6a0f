"""Result files: what ``run``, ``compare``, ``recommend --verify`` and ``replicate`` write.

Each function writes a study's tables (through ``Study.save``, atomically) and its figures under
``out`` and returns the paths, so that Python users get the same files as the command line.
"""

from __future__ import annotations

from pathlib import Path

from losslab._files import atomic_write, ensure_out_dir
from losslab._plain import slug
from losslab.analysis import Comparison
from losslab.figures import plot_dataset, plot_final_distribution, plot_learning_curves, plot_mean_curves
from losslab.figures._many import Job, draw_all
from losslab.replicate import Replication
from losslab.results import Study


def save_run(study: Study, out: str | Path, stem: str | None = None) -> list[Path]:
    """One run's history (Parquet, CSV), runs table, metadata and the tutorial's two-panel
    figure, named ``<stem>*`` (by default ``<problem>_<loss>_seed<seed>``); the figure is the
    last path."""
    loss, seed = study.losses[0], study.seeds[0]
    stem = stem or f"{slug(study.problem.name)}_{slug(loss)}_seed{seed}"
    files = study.save(out, stem)
    files.append(Path(out) / f"{stem}.png")
    plot_learning_curves(study.history, f"{study.problem.name}: {loss}", files[-1])
    return files


def save_comparison(study: Study, comparison: Comparison, out: str | Path, stem: str | None = None) -> list[Path]:
    """A comparison's study tables, its mean curves and final-metric figures, and its summary,
    pairs and diagnostics tables as CSV, named ``<stem>_*`` (by default ``compare_<problem>``)."""
    out = ensure_out_dir(out)
    stem = stem or f"compare_{slug(study.problem.name)}"
    files = study.save(out, stem)
    files.append(out / f"{stem}_curves.png")
    plot_mean_curves(study, files[-1])
    files.append(out / f"{stem}_final.png")
    plot_final_distribution(study, files[-1])
    for name, frame in (("summary", comparison.summary), ("pairs", comparison.pairs), ("diagnostics", comparison.diagnostics)):
        files.append(atomic_write(out / f"{stem}_{name}.csv", lambda p, frame=frame: frame.to_csv(p, index=False)))
    return files


def save_replication(result: Replication, out: str | Path) -> list[Path]:
    """Every case study's learning-curve figure, the circles and blobs scatter plots, each
    problem's study tables (the history as Parquet only: as CSV the four histories took 8 MB and
    most of the writing time; ``study.save(out, stem)`` writes one) and the replication table
    (``replicate.csv``).

    The fourteen figures are drawn two at a time where there are two cores
    (:func:`~losslab.figures._many.draw_all`)."""
    out = ensure_out_dir(out)
    curves = []
    for case in result.table.itertuples():
        history = result.studies[case.problem].history
        rows, title = history[history["loss"] == case.loss], f"{case.case} {case.problem}: {case.loss}"
        curves.append(Job(plot_learning_curves, (rows, title), out / f"case-{case.case}-{case.problem}-{case.loss}.png"))
    datasets = [Job(plot_dataset, (result.studies[name].problem,), out / f"{name}.png")
                for name in ("circles", "blobs") if name in result.studies]
    draw_all(datasets + curves)  # the scatter plots first: this process draws them, the worker starts at the back
    files = [job.path for job in curves + datasets]
    for name, study in result.studies.items():
        files.extend(study.save(out, f"replicate_{name}", csv=False))
    files.append(atomic_write(out / "replicate.csv", lambda p: result.table.to_csv(p, index=False)))
    return files
