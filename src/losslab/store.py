"""The study store: a study kept on disk as it trains, resumed after an interruption, loaded later.

A study directory is named after what produced it and a hash of its plan (``compare_blobs-
3f2a9c01d4e7``): the data (every array the engine reads, and the preparation), the losses (name,
training form, function), the seeds, the settings, the model, and the losslab and JAX versions.
The same command with the same plan finds the same directory and resumes it; a different plan
gets a different directory, so two plans never mix. Inside:

==========================  ==============================================================
``manifest.json``           the plan, its fingerprint and ``"status"``: ``"running"`` until
                            everything else is written, then ``"complete"``
``chunks/*.npy``            each chunk of runs as it finished (the engine's raw values;
                            ``*.outputs.npy`` its final outputs on the evaluated rows)
``chunks/*.params.npz``     with ``save_models``, each chunk's trained parameters
``features.npy``            the problem's features (float32, the train rows then the test
                            rows; a link to a table kept on disk where it can be), read
                            back as a memory map
``problem.npz``, ``.json``  the problem's targets and description, so the study loads alone
``.lock``                   held by the process writing the study
``history.parquet``         the tidy tables (see :mod:`losslab.results`)
``runs.parquet``
``baselines.parquet``
==========================  ==============================================================

Every file is written to a name unique to the process and renamed into place, so a reader never
sees a partial file; a lock on the directory keeps two processes from writing one study at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from losslab._files import atomic_write, ensure_out_dir, write_binary
from losslab._plain import plain
from losslab.engine import Backend, Chunk, Progress, run_plan
from losslab.errors import LosslabError
from losslab.models import MLP, Model
from losslab.planning import SplitDesign, StudyPlan
from losslab.problems._kept import load_problem, save_problem
from losslab.registry import LossSpec, get_loss, probability_form
from losslab.results import Study, baselines, run, tables
from losslab.settings import Settings

MANIFEST = "manifest.json"
#: The folder under a command's ``--out`` that holds its study directories.
STUDIES = "studies"
#: The tables a complete study directory holds, each as ``<name>.parquet``.
TABLES = ("history", "runs", "baselines")
FORMAT = 3  # the layout's version; a directory of another version is refused, not misread


def fingerprint(plan: StudyPlan) -> str:
    """A SHA-256 of everything that decides a study's numbers (see the module docstring)."""
    digest = hashlib.sha256()
    problem = plan.problem
    for array in (problem.X_train, problem.X_test, problem.y_train, problem.y_test,
                  *(a for t in plan.targets.values() for a in (t.train, t.test))):
        digest.update(np.ascontiguousarray(array).data)  # the buffer itself: no copy of a large table
        digest.update(str((array.dtype, array.shape)).encode())
    described = plan.describe()
    described.pop("preparation")  # as data below: its text may hold values NumPy prints differently
    identity = {**described, "losses": [_loss_identity(spec) for spec in plan.specs],
                "preparation": json.dumps(plain(dict(problem.preparation)), sort_keys=True, default=str)}
    digest.update(json.dumps(plain(identity), sort_keys=True, default=str).encode())
    return digest.hexdigest()


def _loss_identity(spec: LossSpec) -> dict[str, object]:
    """What a loss contributes to the fingerprint: its name, training form and code."""
    try:
        code = inspect.getsource(spec.fn)
    except (OSError, TypeError):
        code = f"{getattr(spec.fn, '__module__', '')}.{getattr(spec.fn, '__qualname__', repr(spec.fn))}"
    return {"name": spec.name, "from_logits": spec.from_logits is not None, "builtin": spec.builtin,
            "code": hashlib.sha256(code.encode()).hexdigest()}


@dataclass
class StoredStudy:
    """A study trained through the store: the study, its directory, and how many runs were reused."""

    study: Study
    path: Path
    reused: int


class StudyDirectory:
    """One study's directory: its manifest, its chunks, its tables (the engine's ``ChunkStore``).

    With ``save_models`` each chunk's trained parameters are kept beside its values
    (``*.params.npz``), and a chunk kept without them is trained again.
    """

    def __init__(self, path: Path, plan: StudyPlan, key: str, save_models: bool = False) -> None:
        self.path, self.plan, self.key, self.save_models = path, plan, key, save_models

    def _chunk_path(self, loss: str, seeds: tuple[int, ...]) -> Path:
        tag = hashlib.sha256(np.asarray(seeds, np.int64).tobytes()).hexdigest()[:16]
        return self.path / "chunks" / f"{loss}-{seeds[0]}-{len(seeds)}-{tag}.npy"

    def params_path(self, loss: str, seeds: tuple[int, ...]) -> Path:
        return self._chunk_path(loss, seeds).with_suffix(".params.npz")

    def outputs_path(self, loss: str, seeds: tuple[int, ...]) -> Path:
        return self._chunk_path(loss, seeds).with_suffix(".outputs.npy")

    def get(self, loss: str, seeds: tuple[int, ...]) -> Chunk | None:
        path = self._chunk_path(loss, seeds)
        if not path.exists() or (self.save_models and not self.params_path(loss, seeds).exists()):
            return None
        try:
            chunk = Chunk(np.load(path, allow_pickle=False), np.load(self.outputs_path(loss, seeds), allow_pickle=False))
        except (OSError, ValueError):  # unreadable: train the chunk again rather than trust it
            return None
        expected = (len(seeds), self.plan.settings.epochs, len(self.plan.splits), 3)
        return chunk if chunk.values.shape == expected and len(chunk.outputs) == len(seeds) else None

    def put(self, loss: str, seeds: tuple[int, ...], chunk: Chunk, params: list[np.ndarray]) -> None:
        path = self._chunk_path(loss, seeds)
        path.parent.mkdir(exist_ok=True)
        if self.save_models:  # the parameters and outputs first: a chunk whose values exist is complete
            leaves = {f"leaf{i}": leaf for i, leaf in enumerate(params)}
            atomic_write(self.params_path(loss, seeds), lambda p: write_binary(p, np.savez, **leaves))
        atomic_write(self.outputs_path(loss, seeds), lambda p: write_binary(p, np.save, chunk.outputs, allow_pickle=False))
        atomic_write(path, lambda p: write_binary(p, np.save, chunk.values, allow_pickle=False))

    def chunks(self) -> list[tuple[str, tuple[int, ...]]]:
        """Every (loss, seeds) chunk of the plan, in the engine's order."""
        return [(spec.name, seeds) for spec in self.plan.specs for seeds in self.plan.chunks()]

    def write_manifest(self, status: str, **extra: object) -> None:
        manifest = {"format": FORMAT, "status": status, "fingerprint": self.key, "updated": time.time(),
                    "plan": self.plan.describe(),
                    "losses": [{"name": spec.name, "from_logits": spec.from_logits is not None, "kind": spec.kind,
                                "activation": spec.activation, "encoding": spec.encoding, "domain": spec.domain}
                               for spec in self.plan.specs],
                    **extra}
        atomic_write(self.path / MANIFEST, lambda p: p.write_text(json.dumps(plain(manifest), indent=2, default=str)))


#: The study directories this process has opened to train into, and whether they keep the models, so
#: that an interrupted command can say what it kept (also in the studies it had finished).
OPENED: dict[Path, bool] = {}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on the study directory, or refuse at once with the fix."""
    with (path / ".lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LosslabError(
                f"another losslab process is writing the study {str(path)!r}; wait for it to finish "
                "(the same command then reuses its runs) or choose another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def kept_runs(path: str | Path, save_models: bool = False) -> int:
    """How many runs the study directory ``path`` keeps: each finished chunk's values file
    (``<loss>-<first seed>-<runs>-<tag>.npy``, written after its outputs and parameters) counts its
    runs, with ``save_models`` only where its parameters are kept too (else the chunk trains again);
    temporary files of an interrupted write do not count."""
    kept = 0
    for values in Path(path).glob("chunks/*.npy"):
        name = values.name
        if name.startswith(".") or name.endswith(".outputs.npy"):
            continue
        if save_models and not values.with_suffix(".params.npz").exists():
            continue
        kept += int(name.removesuffix(".npy").rsplit("-", 3)[2])
    return kept


def study_path(root: str | Path, name: str, plan: StudyPlan) -> Path:
    """Where the study of ``plan`` lives under ``root``: ``root/<name>-<first 12 of its hash>``."""
    return _study_dir(root, name, fingerprint(plan))


def _study_dir(root: str | Path, name: str, key: str) -> Path:
    return Path(root) / f"{name}-{key[:12]}"


def _holds_complete(manifest: dict | None, key: str, save_models: bool = False) -> bool:
    """Whether a manifest is of the study ``key`` kept complete (with its models where asked)."""
    return (bool(manifest) and manifest.get("fingerprint") == key and manifest.get("status") == "complete"
            and bool(manifest.get("models") or not save_models))


def is_complete(plan: StudyPlan, root: str | Path, name: str) -> bool:
    """Whether the study of ``plan`` is kept complete under ``root`` (running it trains nothing)."""
    key = fingerprint(plan)
    path = _study_dir(root, name, key)
    return _holds_complete(_read_manifest(path) if path.is_dir() else None, key)


def run_kept(plan: StudyPlan, root: str | Path | None, name: str, kept: list[StoredStudy],
             progress: Progress | None = None, backend: Backend = Backend(), save_models: bool = False) -> Study:
    """``plan``'s study: trained in memory when ``root`` is None, else with :func:`run_stored`
    (``save_models`` as there), its :class:`StoredStudy` appended to ``kept`` (what a command
    that trains several plans reports as reused or trained)."""
    if root is None:
        return run(plan, progress, backend)
    kept.append(run_stored(plan, root, name, progress, save_models, backend))
    return kept[-1].study


def run_stored(plan: StudyPlan, root: str | Path, name: str, progress: Progress | None = None,
               save_models: bool = False, backend: Backend = Backend()) -> StoredStudy:
    """Train ``plan`` in its study directory under ``root``, reusing every chunk already there.

    The manifest says ``"running"`` from the start and ``"complete"`` only once the tables are
    written, so an interrupted study never looks complete; running the same plan again trains
    only the chunks that are missing, and its tables equal an uninterrupted run's. With
    ``save_models`` the trained parameters are kept too (for :func:`losslab.predict`).
    """
    key = fingerprint(plan)
    path = ensure_out_dir(_study_dir(root, name, key))
    with _locked(path):
        for leftover in [*path.glob(".*.partial"), *path.glob("chunks/.*.partial")]:  # from a killed writer
            leftover.unlink(missing_ok=True)
        existing = _read_manifest(path)
        if existing is not None and existing.get("fingerprint") != key:
            raise LosslabError(f"{str(path)!r} holds another study (its plan differs); remove it or choose another --out")
        directory = StudyDirectory(path, plan, key, save_models)
        OPENED[path] = save_models
        if _holds_complete(existing, key, save_models):
            # complete already: read it, never mark it running again
            history, runs, fitted = (pd.read_parquet(path / f"{name}.parquet") for name in TABLES)
            timings = existing.get("timings") or {"programs": 0, "compile_s": 0.0, "train_s": 0.0}  # how it trained
            return StoredStudy(Study(plan, history, runs, timings, fitted), path, len(runs))
        directory.write_manifest("running")
        trained = run_plan(plan, progress, store=directory, backend=backend)
        history, runs = tables(plan, trained)
        fitted = baselines(plan)
        for name, frame in zip(TABLES, (history, runs, fitted)):
            atomic_write(path / f"{name}.parquet", lambda p, frame=frame: frame.to_parquet(p, index=False))
        save_problem(path, plan.problem)
        models = all(directory.params_path(loss, seeds).exists() for loss, seeds in directory.chunks())
        directory.write_manifest("complete", runs=len(runs), reused=trained.reused, timings=trained.timings, models=models)
    return StoredStudy(Study(plan, history, runs, trained.timings, fitted), path, trained.reused)


def _read_manifest(path: Path) -> dict | None:
    try:
        return json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LosslabError(f"cannot read {str(path / MANIFEST)!r} ({exc}); remove the directory and train again") from exc


def load(path: str | Path) -> Study:
    """The study kept in ``path`` (a directory written by a command or by :func:`run_stored`).

    Refused with the fix when the directory is not a study or its study is incomplete (it was
    interrupted: running the same command again finishes it).
    """
    path = Path(path)
    manifest = _read_manifest(path) if path.is_dir() else None
    if manifest is None:
        raise LosslabError(f"{str(path)!r} is not a losslab study directory (no {MANIFEST}); give a directory "
                           "under --out/studies")
    if manifest.get("format") != FORMAT:
        raise LosslabError(f"{str(path)!r} was written by another version of losslab (format "
                           f"{manifest.get('format')}); train it again")
    if manifest["status"] != "complete":
        raise LosslabError(f"the study in {str(path)!r} is incomplete (it was interrupted); run the same command "
                           "again to finish it")
    plan = _recorded_plan(path, manifest)
    history, runs, fitted = (pd.read_parquet(path / f"{name}.parquet") for name in TABLES)
    return Study(plan, history, runs, dict(manifest.get("timings", {})), fitted)


def _recorded_plan(path: Path, manifest: dict) -> StudyPlan:
    """The plan a stored study was trained with, rebuilt from its manifest and saved problem."""
    described = manifest["plan"]
    problem = load_problem(path)
    specs = tuple(_recorded_loss(entry) for entry in manifest["losses"])
    settings_fields = {k: tuple(v) if isinstance(v, list) else v for k, v in described["settings"].items()}
    settings = Settings(**settings_fields)
    model = _recorded_model(described["model"])
    return StudyPlan(problem, specs, tuple(described["seeds"]), settings, model, {}, described["target_centred"],
                     SplitDesign(**described["split"]), described["chunk"])


def _recorded_loss(entry: dict) -> LossSpec:
    try:
        spec = get_loss(entry["name"])
    except LosslabError:  # a user's loss not registered here: its results and outputs need no function
        return LossSpec(entry["name"], _not_loaded(entry["name"]), entry["kind"], entry["activation"], entry["encoding"],
                        entry["domain"], "a user's loss, recorded by a stored study", builtin=False)
    return spec if entry["from_logits"] or spec.from_logits is None else probability_form(spec)


def _not_loaded(name: str):
    def fn(y_true, y_pred):
        raise LosslabError(f"the loss {name!r} of this stored study is not registered here; register it to train with it")
    return fn


@dataclass(frozen=True)
class RecordedModel(Model):
    """A model a stored study was trained with that losslab cannot rebuild: described, not run."""

    description: str = ""

    def init(self, keys, n_in, n_out):
        raise LosslabError(f"the model {self.description} of a loaded study cannot be run; train the study again")

    forward = init

    def describe(self) -> dict[str, object]:
        return json.loads(self.description)


def _recorded_model(described: dict) -> Model:
    if described.get("kind") == "MLP":
        return MLP(tuple(described["hidden"]), described["activation"])
    return RecordedModel(json.dumps(described, sort_keys=True))
