"""Tracking: a study logged to MLflow, one parent run per study and one nested run per (loss, seed).

The parent run holds the plan (problem, kind, losses, number of seeds, settings, model, versions)
as parameters, the comparison's verdicts as its description and as ``verdicts.txt``, the plan and
comparison as JSON, and any files given (figures, report, CSV tables) as artifacts. Each child run
(tag ``mlflow.parentRunId``) holds ``loss``, ``seed`` and ``problem`` as parameters and every
epoch's values with ``step=epoch``:

=============================  ===================================================================
metric                         value at each epoch
=============================  ===================================================================
``train_loss``, ``test_loss``  the loss on the split (the ``history`` table's ``loss_value``)
``train_<m>``, ``test_<m>``    the study's metric, ``<m>`` = ``accuracy`` or ``mse``
``*_rounding_accuracy``        one-unit classifiers only: Keras's ``round(output) == label``
=============================  ===================================================================

so the latest value MLflow shows for each is the final epoch's. A diverged run has the tag
``diverged=true`` and the metric ``diverged_epoch``; its NaN epochs are not logged (MLflow would
plot them as gaps at best). A regression target that was scaled adds ``*_mse_target_units`` at the
last epoch.

Metrics go through ``MlflowClient.log_batch`` in chunks of at most 1,000 entities (MLflow's limit
per call), never one call per value: 2 losses x 30 seeds x 100 epochs log in a few seconds to a
local SQLite store.

MLflow is an optional dependency (``pip install 'losslab[mlflow]'``) imported only when
:func:`log_study` is called, so ``import losslab`` stays fast without it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from losslab._plain import plain
from losslab._version import __version__
from losslab.analysis import Comparison
from losslab.errors import LosslabError
from losslab.results import Study

DEFAULT_URI = "sqlite:///mlruns.db"
ARTIFACT_FOLDER = "mlartifacts"  # beside a SQLite store, so nothing goes to a server
INSTALL = "pip install 'losslab[mlflow]'"

# MLflow's limits: entities (metrics + params + tags) per log_batch call, characters per value.
_BATCH = 1000
_PARAM_CHARS = 6000
_TAG_CHARS = 8000

# Loggers that announce a new SQLite store's schema migration on every first use.
_CHATTY = ("mlflow.store.db.utils", "alembic", "alembic.runtime.migration")


def log_study(
    study: Study,
    uri: str | None = None,
    *,
    experiment: str = "losslab",
    comparison: Comparison | None = None,
    artifacts: Sequence[str | Path] = (),
    run_name: str | None = None,
) -> str:
    """Log every run of ``study`` to MLflow and return the parent run's id.

    Parameters
    ----------
    study : the trained :class:`~losslab.results.Study`.
    uri : the MLflow tracking URI. ``None`` takes ``MLFLOW_TRACKING_URI`` when it is set, else
        ``sqlite:///mlruns.db`` (a SQLite file in the working directory, MLflow's default
        backend); artifacts of a SQLite store go to ``mlartifacts/`` beside the file.
    experiment : the MLflow experiment, created when missing.
    comparison : a :class:`~losslab.analysis.Comparison` of ``study``; its verdicts become the
        parent run's description and ``verdicts.txt``, its tables ``comparison.json``.
    artifacts : files or folders (figures, report, CSV tables) logged on the parent run.
    run_name : the parent run's name; by default the problem, losses and number of seeds.

    Returns
    -------
    The parent run's id; ``mlflow ui --backend-store-uri URI`` shows it with its nested runs.

    Raises
    ------
    LosslabError : MLflow is not installed, ``uri`` cannot be opened or written, an artifact
        does not exist, or the experiment was deleted.

    Examples
    --------
    With ``study = losslab.train(...)`` and ``comparison = losslab.compare(study)``:

    >>> log_study(study, "sqlite:///mlruns.db", comparison=comparison)  # doctest: +SKIP
    '3f2c...'
    """
    uri = _absolute(uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
    files = _check_artifacts(artifacts)
    with _quiet():
        client, experiment_id = _open(uri, experiment)
        return _log(client, experiment_id, study, comparison, files, run_name)


def check_store(uri: str | None = None, experiment: str = "losslab") -> None:
    """Open the tracking store (creating the experiment if needed), so that a bad URI or a
    missing package is refused before a study trains rather than after."""
    uri = _absolute(uri or os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_URI)
    with _quiet():
        _open(uri, experiment)


def _absolute(uri: str) -> str:
    """A SQLite URI with a relative path made absolute: MLflow keeps one store per URI text, so
    ``sqlite:///mlruns.db`` would go on writing to the first working directory's file after a
    change of directory (a notebook's ``%cd``)."""
    prefix = "sqlite:///"
    if uri.startswith(prefix) and not uri.startswith(prefix + "/") and uri != prefix + ":memory:":
        return prefix + str(Path(uri[len(prefix):]).resolve())
    return uri


def _check_artifacts(artifacts: Iterable[str | Path]) -> list[Path]:
    files = [Path(a) for a in artifacts]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise LosslabError(f"artifacts to log do not exist: {', '.join(missing)}; write them first or leave them out")
    return files


def _mlflow():
    """The ``mlflow`` module and the pieces used here; a LosslabError with the fix if missing."""
    try:
        import mlflow
        from mlflow import MlflowClient
        from mlflow.entities import Metric, Param
    except ImportError as exc:
        raise LosslabError(f"logging to MLflow needs the mlflow package ({exc.name} is missing); install it: {INSTALL}") from exc
    return mlflow, MlflowClient, Metric, Param


def _sqlite_path(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI (relative to the working directory, or absolute
    with four slashes); None for any other store."""
    if not uri.startswith("sqlite:///"):
        return None
    return Path(uri.removeprefix("sqlite:///").split("?", 1)[0])


def _open(uri: str, experiment: str):
    """A client for ``uri`` and the id of ``experiment`` in it (created when missing)."""
    mlflow, MlflowClient, *_ = _mlflow()
    database = _sqlite_path(uri)
    artifact_location = None
    if database is not None and str(database) not in ("", ":memory:"):
        _check_sqlite(uri, database)
        artifact_location = (database.resolve().parent / ARTIFACT_FOLDER).as_uri()
    try:
        from sqlalchemy.exc import SQLAlchemyError  # a file that is not a database, a server that refuses
    except ImportError:
        SQLAlchemyError = mlflow.exceptions.MlflowException
    try:
        client = MlflowClient(tracking_uri=uri)
        found = client.get_experiment_by_name(experiment)
        if found is None:
            return client, client.create_experiment(experiment, artifact_location=artifact_location)
    except (mlflow.exceptions.MlflowException, SQLAlchemyError) as exc:
        raise LosslabError(f"cannot use the MLflow store {uri!r}: {_first_line(exc).rstrip('.')}; pass another URI, e.g. {DEFAULT_URI}") from exc
    except ImportError as exc:  # a database driver (psycopg, pymysql, ...) that MLflow needs for this URI
        raise LosslabError(f"the MLflow store {uri!r} needs the module {exc.name}, which is not installed; install it, "
                           f"or pass another URI, e.g. {DEFAULT_URI}") from exc
    if found.lifecycle_stage == "deleted":
        raise LosslabError(f"MLflow experiment {experiment!r} in {uri!r} was deleted; restore it "
                           f"(mlflow experiments restore --experiment-id {found.experiment_id}) or choose another experiment name")
    return client, found.experiment_id


def _check_sqlite(uri: str, database: Path) -> None:
    """The store's folder exists (created if needed) and takes a new file: SQLite's own error for
    either is "unable to open database file", which names neither the file nor the fix."""
    for module in ("sqlalchemy", "alembic"):  # MLflow's SQL store needs both; mlflow-skinny has neither
        try:
            __import__(module)
        except ImportError as exc:
            raise LosslabError(f"an MLflow SQLite store needs {module}, which is not installed; install it: {INSTALL}") from exc
    folder = database.resolve().parent
    if folder.exists() and not folder.is_dir():
        raise LosslabError(f"cannot write the MLflow store {uri!r}: {str(folder)!r} is a file, not a folder; "
                           f"pass a URI in a writable folder, e.g. {DEFAULT_URI}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".losslab-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LosslabError(f"cannot write the MLflow store {uri!r} in {str(folder)!r} ({exc.strerror}); "
                           f"pass a URI in a writable folder, e.g. {DEFAULT_URI}") from exc


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """The start of ``exc``'s message on one line: whole sentences up to ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    if len(text) <= limit:
        return text
    cut = text.rfind(". ", 0, limit)
    return text[: cut + 1] if cut > 0 else text[: limit - 3] + "..."


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the INFO lines of MLflow's schema migration; warnings still show."""
    loggers = [logging.getLogger(name) for name in _CHATTY]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.level, logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def _log(client, experiment_id: str, study: Study, comparison: Comparison | None, files: list[Path],
         run_name: str | None) -> str:
    _, _, Metric, Param = _mlflow()
    now = int(time.time() * 1000)
    description = _verdicts(comparison)
    tags = {"losslab.version": __version__, "losslab.problem": study.problem.name}
    if description:
        tags["mlflow.note.content"] = _cut(description, _TAG_CHARS)
    parent = client.create_run(experiment_id, start_time=now, tags=tags, run_name=run_name or _default_name(study))
    parent_id = parent.info.run_id
    child_id = None
    try:
        _batches(client, parent_id, _params(Param, _study_params(study)),
                 [Metric(k, v, now, 0) for k, v in _summary(study).items()])
        client.log_dict(parent_id, plain(study.metadata()), "study.json")
        if comparison is not None:
            client.log_text(parent_id, description + "\n", "verdicts.txt")
            client.log_dict(parent_id, comparison.to_dict(), "comparison.json")
        for path in files:
            if path.is_dir():
                client.log_artifacts(parent_id, str(path), artifact_path=path.name)
            else:
                client.log_artifact(parent_id, str(path))
        for (loss, seed), row, epochs in _runs(study):
            diverged = bool(row["diverged"])
            child_id = client.create_run(
                experiment_id, start_time=now, run_name=f"{loss} seed {seed}",
                tags={"mlflow.parentRunId": parent_id, "diverged": str(diverged).lower()},
            ).info.run_id
            metrics = [Metric(key, value, now, step) for key, step, value in epochs]
            if diverged:
                metrics.append(Metric("diverged_epoch", float(row["diverged_epoch"]), now, 0))
            _batches(client, child_id, _params(Param, {"problem": study.problem.name, "loss": loss, "seed": str(seed)}),
                     metrics)
            client.set_terminated(child_id, "FINISHED")
            child_id = None
    except BaseException as exc:
        status = "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
        for run_id in (child_id, parent_id):
            if run_id is not None:
                client.set_terminated(run_id, status)
        raise
    client.set_terminated(parent_id, "FINISHED")
    return parent_id


def _batches(client, run_id: str, params: list, metrics: list) -> None:
    """Params and metrics in as few calls as MLflow takes: at most 100 params and ``_BATCH``
    entities in all per call (each call is one transaction of the store)."""
    while params or metrics:
        head, params = params[:100], params[100:]
        room = _BATCH - len(head)
        client.log_batch(run_id, metrics=metrics[:room], params=head)
        metrics = metrics[room:]


def _params(Param, values: dict[str, str]) -> list:
    return [Param(key, _cut(value, _PARAM_CHARS)) for key, value in values.items()]


def _runs(study: Study) -> Iterator[tuple[tuple[str, int], dict, list[tuple[str, int, float]]]]:
    """Per run in the runs table's order: its row and every finite (key, epoch, value) of its
    history; NaN (a diverged run's epochs, rounding accuracy where it does not apply) is left out."""
    metric = study.metric
    columns = {"loss_value": "loss", "metric_value": metric, "rounding_accuracy": "rounding_accuracy"}
    by_run = dict(tuple(study.history.groupby(["loss", "seed"], sort=False)))
    for row in study.runs.to_dict(orient="records"):
        key = (row["loss"], int(row["seed"]))
        history = by_run.get((row["loss"], row["seed"]))
        values: list[tuple[str, int, float]] = []
        last = 0
        if history is not None:
            epochs = history["epoch"].to_numpy(dtype=np.int64)
            last = int(epochs.max(initial=0))
            splits = history["split"].to_numpy()
            for column, name in columns.items():
                data = history[column].to_numpy(dtype=np.float64)
                keep = np.isfinite(data)
                labels = np.char.add(splits.astype(str), f"_{name}")
                values += zip(labels[keep].tolist(), epochs[keep].tolist(), data[keep].tolist())
        for split in ("train", "test"):
            units = row.get(f"{split}_metric_target_units")
            if units is not None and math.isfinite(units):
                values.append((f"{split}_{metric}_target_units", last, float(units)))
        yield key, row, values


def _study_params(study: Study) -> dict[str, str]:
    described = plain(study.plan.describe())
    params = {
        "problem": study.problem.name,
        "kind": str(described["kind"]),
        "n_classes": str(described["n_classes"]),
        "n_train": str(described["n_train"]),
        "n_test": str(described["n_test"]),
        "losses": ", ".join(study.losses),
        "n_seeds": str(len(study.seeds)),
        "seeds": _seeds_text(study.seeds),
        "metric": study.metric,
        "model": json.dumps(described["model"]),
        "preparation": json.dumps(described["preparation"]),
    }
    for name, value in described["settings"].items():
        params[f"settings.{name}"] = json.dumps(value) if isinstance(value, list | dict) else str(value)
    for name, value in described["versions"].items():
        params[f"versions.{name}"] = str(value)
    return params


def _seeds_text(seeds: Sequence[int]) -> str:
    """``0-29`` for consecutive seeds, else the list."""
    seeds = list(seeds)
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ", ".join(map(str, seeds))


def _summary(study: Study) -> dict[str, float]:
    """Per loss on the parent run: the mean final test metric of the runs that did not diverge and
    the number that did, for a first look across studies in MLflow's table."""
    out = {}
    for loss, rows in study.runs.groupby("loss", sort=False):
        finished = rows.loc[~rows["diverged"].astype(bool), "test_metric"].astype(float)
        finished = finished[np.isfinite(finished)]
        if len(finished):
            out[f"{loss}.mean_test_{study.metric}"] = float(finished.mean())
        out[f"{loss}.diverged_runs"] = float(rows["diverged"].astype(bool).sum())
    return out


def _verdicts(comparison: Comparison | None) -> str:
    if comparison is None or not comparison.verdicts:
        return ""
    return "\n".join(f"- {line}" for line in comparison.verdicts)


def _default_name(study: Study) -> str:
    seeds = "seed" if len(study.seeds) == 1 else "seeds"
    return _cut(f"{study.problem.name}: {', '.join(study.losses)} x {len(study.seeds)} {seeds}", 250)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
