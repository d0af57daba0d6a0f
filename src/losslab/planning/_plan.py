"""The plan: a study checked and resolved once, before anything is trained.

:func:`plan` is the boundary where a study is validated (scikit-learn's ``check_array`` habit):
it resolves each loss name once and checks it against the problem, picks the settings, applies
the target-centring rule, encodes the targets each loss needs, checks the seeds and estimates the
memory. The engine runs a :class:`StudyPlan` and trusts it; the results are built from the plan
and what the engine returns.
"""

from __future__ import annotations

import functools
import itertools
import platform
import warnings
from collections.abc import Iterable, Mapping, Sequence, Sized
from dataclasses import dataclass, replace
from types import MappingProxyType

import jax
import numpy as np

from losslab._version import __version__
from losslab.errors import LosslabError, SettingsError, TargetError
from losslab.models import Model
from losslab.planning._defaults import default_settings
from losslab.planning._memory import EVAL_ROWS, StudySize, check_memory, estimate_bytes, largest_seeds, memory_budget
from losslab.planning._splits import Rows, SplitDesign, counts, split_design
from losslab.problems import DataNote, Problem
from losslab.registry import LossSpec, check_compatible, encode_targets, get_loss, metric_for_kind
from losslab.settings import SHUFFLE_BLOCK, SHUFFLE_WINDOW, Settings, check_seeds

#: Runs per compiled chunk on a CPU. Fixed for a problem, so that a run's result does not depend
#: on how many other runs share its study (XLA's arithmetic can vary with the batch shape), and
#: one compiled program per loss and problem serves any number of seeds. 16 runs of a small
#: table's networks keep a chunk's working set in the core's cache and share each step's fixed
#: cost; see benchmarks/RESULTS.md.
CHUNK = 16
#: Runs per chunk on a CPU for a table of more than :data:`EVAL_ROWS` training rows: a step has
#: work enough for one run, and a chunk of 16 would train 14 copies beside a study of 2 seeds
#: (measured on 1,000,000 rows x 50, 2 seeds: 4.3 s a run in chunks of 16, 1.1 s alone) and hold
#: every run's row numbers of the table.
LARGE_TABLE_CHUNK = 1
#: Runs per chunk on a GPU or TPU, where thousands of small models fit at once; a plan lowers it
#: to what fits the device's memory.
ACCELERATOR_CHUNK = 1024


def default_chunk(n_train: int = 0) -> int:
    """Runs per compiled chunk for the backend JAX runs on and a table of ``n_train`` training
    rows: :data:`CHUNK` on a CPU (the measured optimum for small tables), :data:`LARGE_TABLE_CHUNK`
    for more than :data:`EVAL_ROWS` training rows, :data:`ACCELERATOR_CHUNK` on an accelerator."""
    if jax.default_backend() != "cpu":
        return ACCELERATOR_CHUNK
    return CHUNK if n_train <= EVAL_ROWS else LARGE_TABLE_CHUNK


@dataclass(frozen=True)
class Targets:
    """One loss's encoded targets: ``train`` and ``test`` in the shape the loss takes."""

    train: np.ndarray
    test: np.ndarray

    @property
    def pool(self) -> np.ndarray:
        """Every row's target, train rows then test rows: the pool the splits index."""
        return np.concatenate([self.train, self.test])


@dataclass(frozen=True, eq=False)
class StudyPlan:
    """Every run of a study, resolved and checked: what the engine trains.

    ``specs`` are the losses (each checked against the problem), ``seeds`` the paired seeds,
    ``targets[loss]`` that loss's encoded targets, ``centred`` whether a regression target is
    centred (False when a loss in the study needs its signs and zeros), ``chunk`` the runs per
    compiled program, ``split`` the split design (which rows each seed trains, selects and is
    judged on; see :mod:`losslab.planning._splits`).
    """

    problem: Problem
    specs: tuple[LossSpec, ...]
    seeds: tuple[int, ...]
    settings: Settings
    model: Model
    targets: Mapping[str, Targets]
    centred: bool | None
    split: SplitDesign = SplitDesign()
    chunk: int = CHUNK

    @property
    def losses(self) -> tuple[str, ...]:
        """The canonical loss names, in the study's order."""
        return tuple(spec.name for spec in self.specs)

    @property
    def metric(self) -> str:
        """The metric every run reports: ``"mse"`` or ``"accuracy"``."""
        return metric_for_kind(self.problem.kind)

    @property
    def n_runs(self) -> int:
        return len(self.specs) * len(self.seeds)

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits every run reports: ``("train", "test")`` or ``("train", "validation", "test")``."""
        return self.split.splits

    @property
    def selection_split(self) -> str:
        """The split that curves, diagnostics and choices read: validation when there is one."""
        return "validation" if "validation" in self.splits else "test"

    def rows(self, seed: int) -> Rows:
        """Seed ``seed``'s train, validation and test rows of the pool (train rows, then test rows),
        drawn once per plan (the engine, the scores, the baselines and the collapse checks all ask)."""
        key = seed if self.split.varies else 0  # a fixed split is the same for every seed
        if key not in self._rows:
            self._rows[key] = self.split.rows(self.problem, seed)
        return self._rows[key]

    @functools.cached_property
    def _rows(self) -> dict[int, Rows]:
        return {}

    @property
    def sizes(self) -> Rows:
        """The number of rows of each split, the same for every seed (from the plan's drawn rows)."""
        return counts(self.rows(self.seeds[0] if self.seeds else 0))

    def test_train_ratio(self, split: str = "test") -> float:
        """``n_test / n_train`` (or ``n_validation / n_train``): the correlation term of the
        corrected resampled t-test (0 when the split is fixed: no split variance is estimated)."""
        if not self.split.varies:
            return 0.0
        sizes = self.sizes
        return getattr(sizes, split) / sizes.train

    def spec(self, loss: str) -> LossSpec:
        """The spec of the study's loss named ``loss`` (its canonical name)."""
        return self.specs[self.losses.index(loss)]

    def chunks(self) -> list[tuple[int, ...]]:
        """The seeds of each compiled chunk, in order: ``plan.chunk`` at a time."""
        return [self.seeds[i:i + self.chunk] for i in range(0, len(self.seeds), self.chunk)]

    def output_units(self, spec: LossSpec) -> int:
        """Output units of ``spec``'s model on this problem."""
        return spec.output_units(self.problem.n_classes)

    def describe(self) -> dict[str, object]:
        """The plan as plain values: problem, preparation, settings, model, losses, seeds, versions."""
        problem = self.problem
        preparation = dict(problem.preparation)
        if self.centred is False and problem.target_mean is not None:
            preparation.update(target_standardized=False, target_mean=None,
                               target_uncentred_by_plan="the mean was added back: a loss of the study needs signs and zeros")
        settings = {**self.settings.__dict__, "hidden": list(self.settings.hidden)}
        if self.model != self.settings.model:  # a model given to the plan: the settings' MLP was not used
            del settings["hidden"], settings["activation"]
        return {
            "problem": problem.name,
            "kind": problem.kind,
            "n_classes": problem.n_classes,
            "n_train": problem.n_train,
            "n_test": problem.n_test,
            "preparation": preparation,
            "target_centred": self.centred,
            "split": self.split.describe(),
            "chunk": self.chunk,
            "settings": settings,
            "model": self.model.describe(),
            "losses": list(self.losses),
            "seeds": list(self.seeds),
            "versions": {"losslab": __version__, "jax": jax.__version__, "python": platform.python_version()},
        }


def plan(
    problem: Problem,
    losses: str | LossSpec | Sequence[str | LossSpec],
    seeds: Iterable[int] = (0,),
    settings: Settings | None = None,
    *,
    model: Model | None = None,
    center_target: bool | None = None,
    split: str | SplitDesign | None = None,
    validation: float | None = None,
    chunk: int | None = None,
) -> StudyPlan:
    """Resolve and check a study of ``losses`` x ``seeds`` on ``problem``; nothing is trained.

    ``settings`` default to :func:`~losslab.planning.default_settings` (the tutorial's set-up
    for its problems); ``model`` to the settings' ``MLP(hidden, activation)``. A regression
    target that losslab centred is un-centred (its mean added back, in units of its deviation)
    when a loss of the study needs signs and zeros kept (MSLE, Poisson, MAPE), so every loss of
    the study sees the same targets; ``center_target=True`` keeps it centred, and such a loss is
    then judged on the centred targets.

    ``split`` is ``"resample"`` (each seed draws its own stratified split: the default for data),
    ``"fixed"`` (the problem's own split for every seed: the default for the tutorial's problems)
    or ``"cv:K"`` (repeated K-fold); ``validation`` is the share of each seed's training rows held
    out for validation (default 0.2 for data, 0 for the tutorial's problems). ``chunk`` is the
    number of runs trained together in one compiled program (default :func:`default_chunk`: 16 on
    a CPU, one for a table of more than 65,536 training rows, up to 1,024 on an accelerator, fewer
    when they would not fit); a run's result depends on it in the last bits, never on the other
    runs of the study.

    >>> from losslab.problems import get_problem
    >>> p = plan(get_problem("blobs"), ["cce", "kld"], seeds=range(3))
    >>> p.losses, p.n_runs, p.settings.epochs
    (('categorical_crossentropy', 'kl_divergence'), 6, 100)
    """
    _check_problem(problem)
    specs = _resolve_losses(problem, losses)
    settings = default_settings(problem) if settings is None else settings
    if not isinstance(settings, Settings):
        raise SettingsError(f"settings must be a losslab.Settings, got {type(settings).__name__}; e.g. Settings(epochs=50)")
    model = settings.model if model is None else model
    if not isinstance(model, Model):
        raise SettingsError(f"model must be a losslab.models.Model such as MLP((50,)), got {type(model).__name__}")
    design = split_design(problem, split, validation)
    chunk = _chunk(problem, specs, settings, model, chunk)
    seeds = _seeds_within_memory(problem, specs, seeds, settings, model, chunk)
    settings = _shuffle(problem, specs, seeds, settings, model, chunk)
    centred = _centring(problem, specs, center_target)
    y_train, y_test = _regression_targets(problem, centred)
    targets = {spec.name: _encode(spec, problem, y_train, y_test) for spec in specs}
    return StudyPlan(problem, specs, seeds, settings, model, MappingProxyType(targets), centred, design, chunk)


def usable_losses(problem: Problem, losses: Sequence[str | LossSpec]) -> tuple[list[LossSpec], list[str]]:
    """The losses whose targets ``problem`` can provide, and for each one it cannot, why.

    Each loss must fit the problem's kind (or the error is raised); a loss whose targets are out
    of its domain (MSLE on negative values, MAPE on zeros) is set aside with the message, so that
    a comparison of candidates (``recommend --verify``) trains the rest.
    """
    _check_problem(problem)
    specs = _resolve_losses(problem, losses)
    y_train, y_test = _regression_targets(problem, _centring(problem, specs, None))
    usable, skipped = [], []
    for spec in specs:
        try:  # strictly, even where the problem only warns (the tutorial's regression): a candidate
            # that Keras would train on clamped targets is not worth recommending
            _encode(spec, problem, y_train, y_test, policy="error")
        except TargetError as exc:
            skipped.append(str(exc))
            continue
        usable.append(spec)
    return usable, skipped


def _check_problem(problem: object) -> None:
    if not isinstance(problem, Problem):
        hint = f"losslab.get_problem({problem!r})" if isinstance(problem, str) else "losslab.Problem.from_frame(...)"
        raise LosslabError(f"problem must be a losslab.Problem, got {type(problem).__name__}; build one with {hint}")


def _resolve_losses(problem: Problem, losses: object) -> tuple[LossSpec, ...]:
    """The specs for ``losses`` (one name or several), each checked against the problem."""
    if isinstance(losses, str | LossSpec):
        losses = [losses]
    if not isinstance(losses, Iterable):
        raise SettingsError(f"losses must be a loss name or a list of them, got {losses!r}")
    specs = tuple(get_loss(name, kind=problem.kind) for name in losses)
    if not specs:
        raise SettingsError("name at least one loss to train")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise SettingsError(f"each loss may be named once; got {', '.join(names)}")
    for spec in specs:
        check_compatible(spec, problem.kind, problem.n_classes)
    return specs


def _chunk(problem: Problem, specs: tuple[LossSpec, ...], settings: Settings, model: Model, chunk: object) -> int:
    """The runs per chunk: as given (checked), else the backend's default lowered to what fits."""
    if chunk is not None:
        if not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1:
            raise SettingsError(f"chunk must be a positive whole number of runs, got {chunk!r}; e.g. 16")
        return chunk
    best = default_chunk(problem.n_train)
    while best > CHUNK and estimate_bytes(_size(problem, specs, best, best), settings, model) > memory_budget():
        best //= 2
    return best


def _shuffle(problem: Problem, specs: tuple[LossSpec, ...], seeds: tuple[int, ...], settings: Settings, model: Model,
             chunk: int) -> Settings:
    """The settings with their shuffle decided where they leave it to the plan: every row anew
    (Keras's), unless the features are kept on disk and larger than the memory the study leaves
    (the budget less its estimate): shuffled by blocks then, with a note, since a batch of rows from
    all over such a file reads at the disk's random speed."""
    if settings.shuffle is not None:
        return settings
    if problem.features_file is None:  # in memory: every row anew costs nothing more
        return settings.updated(shuffle="rows")
    features = (problem.n_train + problem.n_test) * problem.n_features * 4
    room = memory_budget() - estimate_bytes(_size(problem, specs, len(seeds), chunk), settings, model)
    if features <= room:
        return settings.updated(shuffle="rows")
    warnings.warn(
        f"the features of {problem.name!r} ({features / 2**30:,.1f} GiB, kept on disk) are larger than the "
        f"{max(room, 0) / 2**30:,.1f} GiB of memory left here beside the training: each epoch shuffles blocks of "
        f"{SHUFFLE_BLOCK:,} rows, and the rows within windows of {SHUFFLE_WINDOW} blocks, not every row, so that it "
        "reads the file a window at a time (--shuffle rows, Settings(shuffle='rows') in Python, shuffles every row, "
        "reading the file at the speed of the disk's random reads)", DataNote, stacklevel=3)
    return settings.updated(shuffle="blocks")


def _size(problem: Problem, specs: tuple[LossSpec, ...], n_seeds: int, chunk: int) -> StudySize:
    units = max(spec.output_units(problem.n_classes) for spec in specs)
    return StudySize(problem.n_train, problem.n_train + problem.n_test, problem.n_features, units, len(specs),
                     n_seeds, chunk, features_on_disk=problem.features_file is not None)


def _seeds_within_memory(problem: Problem, specs: tuple[LossSpec, ...], seeds: object, settings: Settings,
                         model: Model, chunk: int) -> tuple[int, ...]:
    """The checked seeds, refused before they are materialised when the study would not fit:
    ``range(10**9)`` is measured by its length, a generator read no further than what fits."""
    size = _size(problem, specs, 1, chunk)
    if isinstance(seeds, Iterable) and not isinstance(seeds, Sized | str):
        seeds = tuple(itertools.islice(seeds, largest_seeds(size, settings, model) + 1))
    if isinstance(seeds, Sized) and not isinstance(seeds, str) and len(seeds):
        check_memory(replace(size, n_seeds=len(seeds)), settings, model)
    return check_seeds(seeds)


def _centring(problem: Problem, specs: tuple[LossSpec, ...], center_target: bool | None) -> bool | None:
    """Whether a regression target stays centred (None for classification and the tutorial's
    problems, whose targets are as the tutorial scaled them)."""
    if problem.kind != "regression":
        if center_target is not None:
            raise SettingsError(f"center_target applies to regression targets; {problem.name!r} is {problem.kind} "
                                "classification, so leave it out")
        return None
    if problem.tutorial:
        if center_target is not None:
            raise SettingsError(f"the tutorial problem {problem.name!r} keeps the targets as the tutorial scaled them; "
                                "leave center_target out")
        return None
    if problem.target_mean is None:  # the tutorial's own scaling, or prepared uncentred
        if center_target:
            raise SettingsError(
                f"the target of {problem.name!r} was not centred when the problem was prepared; "
                "prepare it with center_target=True"
            )
        return False
    if center_target is not None:
        return center_target
    return not any(spec.keeps_target_sign for spec in specs)


def _regression_targets(problem: Problem, centred: bool | None) -> tuple[np.ndarray, np.ndarray]:
    """The problem's targets, with the centring undone when the plan says so."""
    if centred is False and problem.target_mean is not None:
        shift = problem.target_mean / problem.target_scale
        return problem.y_train + shift, problem.y_test + shift
    return problem.y_train, problem.y_test


def _encode(spec: LossSpec, problem: Problem, y_train: np.ndarray, y_test: np.ndarray,
            policy: str | None = None) -> Targets:
    """Encode train and test targets together, so that a problem with them is reported once;
    read-only, since a frozen plan's targets must not change under the engine."""
    encoded = encode_targets(spec, np.concatenate([y_train, y_test]), problem.n_classes,
                             policy=policy or problem.target_policy)
    encoded.setflags(write=False)
    return Targets(encoded[: problem.n_train], encoded[problem.n_train:])
