"""The split design: which rows each seed trains on, selects on (validation) and is judged on (test).

A problem's rows are pooled (its train rows, then its test rows) and each seed of a study gets
three disjoint sets of pool rows:

- ``fixed``: every seed shares one split, the problem's own train/test rows (the tutorial's
  design: first 500 rows train, last 500 test). Seeds then vary only the initial weights and the
  batch order, so a verdict says nothing about data the model has not seen in another split.
- ``resample`` (the default for your own data): seed ``s`` draws its own split of the pool, with
  the problem's test share, stratified by class (``sklearn.model_selection.train_test_split``
  with ``random_state=s``). Paired losses share the seed, so they share the split too.
- ``cv:K``: repeated K-fold cross-validation; seed ``s`` is fold ``s % K`` of repetition
  ``s // K`` (a stratified K-fold shuffled with ``random_state = s // K``). When K does not divide
  the pool, the few rows left over are left out of that repetition, so every fold has the same
  size (the engine trains runs of one chunk together, which needs equal shapes).

A validation set is then carved from each seed's training rows (``validation`` share, stratified,
``random_state=s``): learning curves, diagnostics and every choice read it; the test rows are
reported, never selected on. The tutorial's problems have no validation set (``validation=0``).

The split's variance enters the verdicts through Nadeau and Bengio's corrected resampled t-test,
which needs ``n_test / n_train`` (:meth:`StudyPlan.test_train_ratio`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.model_selection import StratifiedKFold, KFold, train_test_split

from losslab.errors import SettingsError
from losslab.problems import Problem

Method = Literal["fixed", "resample", "cv"]
#: The validation share of the training rows for a problem from data.
VALIDATION = 0.2


@dataclass(frozen=True)
class Rows:
    """One seed's pool rows: ``train``, ``validation`` (possibly empty) and ``test``."""

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray


@dataclass(frozen=True)
class SplitDesign:
    """How each seed splits the pool (module docstring): ``method``, the ``folds`` of ``cv``,
    the ``test_size`` share of ``resample`` and the ``validation`` share of the training rows."""

    method: Method = "fixed"
    folds: int | None = None
    test_size: float | None = None
    validation: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in ("fixed", "resample", "cv"):
            raise SettingsError(f"split must be fixed, resample or cv:K, got {self.method!r}")
        if self.method == "cv" and (self.folds is None or self.folds < 2):
            raise SettingsError(f"cv needs at least 2 folds, got {self.folds}; try --split cv:5")
        if not 0 <= self.validation < 1:
            raise SettingsError(f"the validation share must be in [0, 1), got {self.validation}; try 0.2")

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits every run reports, in order."""
        return ("train", "validation", "test") if self.validation else ("train", "test")

    @property
    def varies(self) -> bool:
        """Whether seeds draw different splits (so the split's variance is in the results)."""
        return self.method != "fixed"

    def label(self) -> str:
        return f"cv:{self.folds}" if self.method == "cv" else self.method

    def describe(self) -> dict[str, object]:
        return {"method": self.method, "folds": self.folds, "test_size": self.test_size, "validation": self.validation}

    def rows(self, problem: Problem, seed: int) -> Rows:
        """Seed ``seed``'s rows of ``problem``'s pool (train rows, then test rows)."""
        n_pool = problem.n_train + problem.n_test
        strata = pooled_labels(problem)
        if self.method == "fixed":
            train, test = np.arange(problem.n_train), np.arange(problem.n_train, n_pool)
            seed = 0  # one validation set for every seed: the split is fixed
        elif self.method == "resample":
            train, test = train_test_split(np.arange(n_pool), test_size=self.test_size or problem.n_test / n_pool,
                                           random_state=seed, stratify=strata)
        else:
            train, test = self._fold(n_pool, strata, seed)
        train, validation = self._validation(train, strata, seed)
        return Rows(*(np.sort(part).astype(np.int32) for part in (train, validation, test)))

    def _fold(self, n_pool: int, strata: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        repetition, fold = divmod(seed, self.folds)
        rng = np.random.default_rng(repetition)
        kept = np.sort(rng.permutation(n_pool)[: n_pool - n_pool % self.folds])  # equal folds
        splitter = (StratifiedKFold if strata is not None else KFold)(self.folds, shuffle=True, random_state=repetition)
        train, test = list(splitter.split(kept, None if strata is None else strata[kept]))[fold]
        return kept[train], kept[test]

    def _validation(self, train: np.ndarray, strata: np.ndarray | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.validation:
            return train, np.zeros(0, np.int64)
        return tuple(train_test_split(train, test_size=self.validation, random_state=seed,
                                      stratify=None if strata is None else strata[train]))

    def sizes(self, problem: Problem) -> Rows:
        """The number of rows of each split (the same for every seed), as a :class:`Rows` of ints."""
        return counts(self.rows(problem, 0))


def counts(rows: Rows) -> Rows:
    """The number of rows of each part of ``rows``, as a :class:`Rows` of ints."""
    return Rows(len(rows.train), len(rows.validation), len(rows.test))


def pooled_labels(problem: Problem) -> np.ndarray | None:
    """The class of every pool row (to stratify on), or None for regression."""
    if problem.kind == "regression":
        return None
    return np.concatenate([problem.y_train, problem.y_test])


def parse_split(text: str) -> tuple[Method, int | None]:
    """``"resample"``, ``"fixed"`` or ``"cv:K"`` as (method, folds)."""
    value = text.strip().lower()
    if value in ("fixed", "resample"):
        return value, None
    if value.startswith("cv:"):
        folds = value[3:]
        if folds.isdigit() and int(folds) >= 2:
            return "cv", int(folds)
    raise SettingsError(f"--split must be fixed, resample or cv:K with K >= 2 folds, got {text!r}; e.g. --split cv:5")


def split_design(problem: Problem, split: str | SplitDesign | None = None, validation: float | None = None) -> SplitDesign:
    """The design for ``problem``: ``split`` as given (a name or a design), else ``resample`` for a
    problem from data and ``fixed`` for the tutorial's problems (their design). ``validation``
    defaults to 0.2 of the training rows for data and 0 for the tutorial's problems."""
    if isinstance(split, SplitDesign):
        design = split
    else:
        method, folds = parse_split(split) if split is not None else ("fixed" if problem.tutorial else "resample", None)
        share = (0.0 if problem.tutorial else VALIDATION) if validation is None else validation
        test_size = problem.n_test / (problem.n_train + problem.n_test) if method == "resample" else None
        design = SplitDesign(method, folds, test_size, share)
    _check_fits(problem, design)
    return design


def _check_fits(problem: Problem, design: SplitDesign) -> None:
    """Refuse a design whose splits cannot be drawn (too few rows or too small a class), before
    anything is trained: scikit-learn's stratified splitters need every class in every part."""
    n_pool = problem.n_train + problem.n_test
    if design.method == "cv" and design.folds > n_pool // 2:
        raise SettingsError(f"cv:{design.folds} needs at least 2 rows per fold and the problem has {n_pool} rows; "
                            f"use fewer folds, e.g. --split cv:{max(2, min(5, n_pool // 2))}")
    try:
        rows = design.rows(problem, 0)
    except ValueError:
        raise SettingsError(_too_small(problem, design)) from None
    if min(len(rows.train), len(rows.test)) < 1 or (design.validation and len(rows.validation) < 1):
        raise SettingsError(f"the {design.label()} split leaves an empty part ({len(rows.train)} train, "
                            f"{len(rows.validation)} validation, {len(rows.test)} test rows); use more rows")


def _too_small(problem: Problem, design: SplitDesign) -> str:
    """What part of the split is too small (to hold every class, or any row), and the fix that
    applies to ``design``, said in losslab's terms rather than scikit-learn's."""
    n_pool = problem.n_train + problem.n_test
    if design.method == "cv":
        given, smaller = f"with --split {design.label()}", "use more rows"
    elif problem.tutorial:
        given, smaller = "with the tutorial's fixed split", "use a smaller validation share"
    else:
        share = design.test_size if design.method == "resample" else problem.n_test / n_pool
        given, smaller = f"with --test-size {share:.2g}", "use a smaller --test-size"
    strata = pooled_labels(problem)
    try:
        outer = SplitDesign(design.method, design.folds, design.test_size).rows(problem, 0)
    except ValueError:  # train and test of the pool (resample or cv) cannot be drawn
        return _outer_too_small(problem, design, strata, given, smaller)
    n_train = len(outer.train)
    n_validation = int(np.ceil(design.validation * n_train))
    parts = f"train, validation ({design.validation:.0%} of it) and test"
    if strata is None:
        return f"{given} the training part holds {_rows(n_train)}, too few to split into {parts}; {smaller}"
    names = _class_names(problem, strata)
    counts = np.bincount(strata[outer.train], minlength=len(names))
    rare = int(counts.argmin())
    if counts[rare] >= 2 or min(n_validation, n_train - n_validation) < len(names):
        return (f"{given} the training part holds {_rows(n_train)}, too few to hold each of the {len(names)} classes in "
                f"{parts}; {smaller}")
    return (f"class {names[rare]!r} has {_rows(counts[rare])} in the training part, "
            "too few to put one in both train and validation; drop those rows or merge the class with another")


def _outer_too_small(problem: Problem, design: SplitDesign, strata: np.ndarray | None, given: str, smaller: str) -> str:
    """Why the pool's train and test (resample) or folds (cv) cannot be drawn."""
    n_pool = problem.n_train + problem.n_test
    k = 1 if strata is None else len(_class_names(problem, strata))
    counts = np.bincount(strata, minlength=k) if strata is not None else np.array([n_pool])
    if design.method == "cv":
        return (f"{given} each class needs at least {design.folds} rows and the largest has {counts.max()}; "
                f"use fewer folds (--split cv:{max(2, int(counts.max()))}) or --split resample")
    n_test = int(np.ceil(design.test_size * n_pool))
    what = "any" if strata is None else f"each of the {k} classes"
    if n_pool - n_test < k or strata is None:
        return f"{given} the training part holds {_rows(n_pool - n_test)}, too few to hold {what}; {smaller}"
    if n_test < k:
        return f"{given} the test part holds {_rows(n_test)}, too few to hold {what}; use a larger --test-size"
    names = _class_names(problem, strata)
    rare = int(counts.argmin())
    return (f"class {names[rare]!r} has {_rows(counts[rare])}, too few to put one in "
            "both train and test; drop those rows or merge the class with another")


def _class_names(problem: Problem, strata: np.ndarray) -> tuple[str, ...]:
    k = max(problem.n_classes or 0, int(strata.max()) + 1)
    return problem.class_names if len(problem.class_names) == k else tuple(str(c) for c in range(k))


def _rows(n: int) -> str:
    return f"{n} row{'' if n == 1 else 's'}"
