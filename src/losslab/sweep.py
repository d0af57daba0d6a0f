"""``sweep``: the same losses compared at every setting of a grid of hyperparameters.

Does a verdict ("hinge is worse") survive another learning rate? A sweep trains the losses x
seeds at every combination of the values given (learning rate, momentum, batch size, hidden
layers) and compares them at each setting. The learning rate and the momentum are inputs of the
compiled program, so every value of them trains in the program compiled once per loss and
shape; batch size and hidden layers change the shapes, so each of their values compiles its own.

Every setting is its own study (its own plan, its own directory in a store): seeds are paired
across the losses of a setting, and a setting's runs are exactly those of a ``compare`` at that
setting. Choices read the validation split; the tables report the test split.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from losslab._plain import slug
from losslab.analysis import Comparison, compare
from losslab.engine import Backend, Progress
from losslab.errors import SettingsError
from losslab.planning import default_settings, plan
from losslab.problems import Problem
from losslab.registry import LossSpec
from losslab.results import Study
from losslab.settings import Settings, parse_hidden
from losslab.store import StoredStudy, run_kept

#: The hyperparameters a sweep varies, as ``Settings`` fields, in the order the tables show them.
AXES = ("learning_rate", "momentum", "batch_size", "hidden")


@dataclass
class Sweep:
    """Every setting's study and comparison, and the tidy tables that sum them up.

    ``settings`` lists each setting's values (one dict per setting, keys from :data:`AXES`);
    ``studies[i]`` and ``comparisons[i]`` (test split, reported) and ``selections[i]``
    (validation split, chosen on) belong to ``settings[i]``.
    """

    problem: str
    metric: str
    higher_is_better: bool
    axes: tuple[str, ...]
    settings: list[dict[str, object]]
    studies: list[Study]
    comparisons: list[Comparison]
    selections: list[Comparison] = field(default_factory=list)
    stored: list[StoredStudy] = field(default_factory=list)  # with a store: where each setting's study is kept

    def summary(self) -> pd.DataFrame:
        """One row per setting and loss: finished runs, the test score's mean, sd and IQM, and
        the score on the split the choices read."""
        rows = []
        for values, comparison, selection in zip(self.settings, self.comparisons, self.selections):
            chosen = selection.summary.set_index("loss")["score_mean"]
            for r in comparison.summary.itertuples():
                rows.append({**values, "loss": r.loss, "n": r.n, "n_runs": r.n_runs, "n_diverged": r.n_diverged,
                             "n_collapsed": r.n_collapsed, "test_mean": r.score_mean, "test_sd": r.score_sd,
                             "test_iqm": r.score_iqm, "selection_mean": chosen[r.loss]})
        return pd.DataFrame(rows)

    def verdicts(self) -> pd.DataFrame:
        """One row per setting and pair of losses: the verdict on the test rows and the loss it
        calls better (empty when none)."""
        rows = [{**values, "loss_a": r.loss_a, "loss_b": r.loss_b, "verdict": r.verdict, "better": r.better}
                for values, comparison in zip(self.settings, self.comparisons) for r in comparison.pairs.itertuples()]
        return pd.DataFrame(rows)

    def best(self) -> pd.DataFrame:
        """Per loss, the setting with the best mean score on the selection split (validation when
        the study holds one out), its test score (chosen on one split, reported on another), and
        how many of its runs the scores count (``n`` of ``n_runs``: the others diverged or collapsed)."""
        columns = ["loss", *self.axes, "selection_mean", "test_mean", "test_sd", "n", "n_runs", "n_diverged",
                   "n_collapsed"]
        summary = self.summary().dropna(subset=["selection_mean"])
        if summary.empty:
            return pd.DataFrame(columns=columns)
        sign = -1 if self.higher_is_better else 1
        ordered = summary.assign(key=sign * summary["selection_mean"]).sort_values("key", kind="stable")
        best = ordered.groupby("loss", sort=False).head(1)
        return best[columns].reset_index(drop=True)

    def wins(self) -> pd.DataFrame:
        """Per setting, which loss wins: the loss called better than every other loss at that
        setting, ``"equivalent"`` when every pair is called equivalent (or identical),
        ``"undecided"`` when no verdict calls a loss better otherwise, else ``"mixed"``."""
        rows = []
        for values, study, comparison in zip(self.settings, self.studies, self.comparisons):
            rows.append({**values, "winner": _winner(study.losses, comparison)})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, object]:
        from losslab._plain import plain

        return {"problem": self.problem, "metric": self.metric, "higher_is_better": self.higher_is_better,
                "axes": list(self.axes), "summary": plain(self.summary()), "verdicts": plain(self.verdicts()),
                "best": plain(self.best()), "wins": plain(self.wins())}


def _winner(losses: tuple[str, ...], comparison: Comparison) -> str:
    better = [b for b in comparison.pairs["better"] if b]
    for loss in losses:
        if better.count(loss) == len(losses) - 1:
            return loss
    if better:
        return "mixed"
    same = all(verdict.startswith(("equivalent", "identical")) for verdict in comparison.pairs["verdict"])
    return "equivalent" if same and len(comparison.pairs) else "undecided"


def sweep(
    problem: Problem,
    losses: Sequence[str | LossSpec],
    seeds: Iterable[int] = range(10),
    settings: Settings | None = None,
    *,
    learning_rate: Sequence[float] | None = None,
    momentum: Sequence[float] | None = None,
    batch_size: Sequence[int] | None = None,
    hidden: Sequence[str | tuple[int, ...]] | None = None,
    split: str | None = None,
    metric: str | None = None,
    progress: Progress | None = None,
    store: str | Path | None = None,
    backend: Backend = Backend(),
    save_models: bool = False,
    keep_epochs: bool | None = None,
) -> Sweep:
    """Compare ``losses`` on paired ``seeds`` at every combination of the values given.

    Each axis left out keeps ``settings``' value (default: :func:`default_settings`). Each batch
    size trains ``settings``' epochs when ``keep_epochs`` (by default, when ``settings`` is given),
    else the default epochs for that batch size (on data, about 400 updates each). The
    learning rates and momenta train in the loss's one compiled program; each batch size and
    hidden-layer shape compiles its own. With a ``store`` directory every setting is kept there
    (``sweep_<problem>-<hash>``) and resumes, with ``save_models`` its trained parameters too (for
    :func:`losslab.predict` with one setting's study); ``backend`` trains the chunks here or on a
    Ray cluster. Returns a :class:`Sweep`.

    >>> from losslab.problems import get_problem
    >>> s = sweep(get_problem("circles"), ["bce", "hinge"], range(2), Settings(epochs=2), learning_rate=[0.01, 0.1])
    >>> s.summary()[["learning_rate", "loss"]].values.tolist()
    [[0.01, 'binary_crossentropy'], [0.01, 'hinge'], [0.1, 'binary_crossentropy'], [0.1, 'hinge']]
    """
    base = default_settings(problem) if settings is None else settings
    grid = _grid(base, learning_rate=learning_rate, momentum=momentum, batch_size=batch_size, hidden=hidden)
    if not (settings is not None if keep_epochs is None else keep_epochs):
        grid = [(values, setting.updated(epochs=default_settings(problem, setting.batch_size).epochs))
                for values, setting in grid]
    seeds = tuple(seeds)
    plans = [(values, plan(problem, losses, seeds, setting, split=split)) for values, setting in grid]
    axes = tuple(axis for axis in AXES if len({str(values[axis]) for values, _ in grid}) > 1) or ("learning_rate",)
    total, studies, stored = sum(study_plan.n_runs for _, study_plan in plans), [], []
    for _, study_plan in plans:  # one progress count over the whole sweep
        offset = sum(study.n_runs for study in studies)
        step = (lambda done, _, what, offset=offset: progress(offset + done, total, what)) if progress else None
        studies.append(run_kept(study_plan, store, f"sweep_{slug(study_plan.problem.name)}", stored, step, backend,
                                save_models))
    reported = [compare(study, metric=metric) for study in studies]
    chosen = [compare(study, metric=metric, split=study.plan.selection_split) for study in studies]
    return Sweep(problem.name, reported[0].metric, reported[0].higher_is_better, axes,
                 [{axis: values[axis] for axis in axes} for values, _ in plans], studies, reported, chosen, stored)


def _grid(base: Settings, **axes: Sequence[object] | None) -> list[tuple[dict[str, object], Settings]]:
    """Every combination of the given values, as (the values, the settings) pairs; a value that
    Settings refuses (a momentum for adam) is refused here, before anything is trained."""
    given = {name: _values(name, values) for name, values in axes.items() if values is not None}
    if not given:
        raise SettingsError("a sweep needs at least one axis with values, e.g. --lr 0.001,0.01,0.1")
    fields = {"learning_rate": "learning_rate", "momentum": "momentum", "batch_size": "batch_size", "hidden": "hidden"}
    grid = []
    for combination in itertools.product(*given.values()):
        changes = {fields[name]: value for name, value in zip(given, combination)}
        setting = base.updated(**changes)
        values = {"learning_rate": setting.learning_rate, "momentum": setting.momentum,
                  "batch_size": setting.batch_size, "hidden": ",".join(map(str, setting.hidden))}
        grid.append((values, setting))
    return grid


def _values(name: str, values: Sequence[object]) -> list[object]:
    values = list(values)
    if not values:
        raise SettingsError(f"the sweep's {name} has no values; give at least one, e.g. --lr 0.01,0.1")
    if len(set(map(str, values))) != len(values):
        raise SettingsError(f"the sweep's {name} lists a value twice ({', '.join(map(str, values))}); list each once")
    if name == "hidden":
        return [parse_hidden(v) if isinstance(v, str) else tuple(v) for v in values]
    return values


__all__ = ["AXES", "Sweep", "sweep"]
