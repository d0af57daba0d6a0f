"""Predictions from a stored study's trained models, on new rows prepared as the training rows were.

The new rows go through the preparation recorded in ``Problem.preparation`` (the training
rows' scaler statistics and one-hot categories), the chosen loss's models (every seed's, or one)
give their outputs, and the outputs are averaged over seeds: class probabilities and the most
probable class for a classifier, values in the target's own units for a regression.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import jax
import numpy as np
import pandas as pd

from losslab.errors import DataError, LosslabError
from losslab.planning import StudyPlan
from losslab.problems import Problem, load_table
from losslab.problems._checks import _convert_feature
from losslab.registry import LossSpec, get_loss
from losslab.store import StudyDirectory, _read_manifest, load


def predict(path: str | Path, data: pd.DataFrame | str | Path, *, loss: str | None = None,
            seed: int | None = None) -> pd.DataFrame:
    """Predictions of the study in ``path`` (trained with ``save_models``) for the rows of ``data``.

    ``loss`` defaults to the study's first loss, ``seed`` to every seed (the mean over the runs
    that neither diverged nor collapsed; a chosen seed whose run collapsed predicts, with a
    warning). Returns one row per input row: ``prediction`` (the class label, or the value in the
    target's units) and, for a classifier, ``probability_<class>`` for every class (a hinge
    loss's tanh output is a margin score, not a probability: ``score_<class 1>``, whose sign is
    the class). The table's ``attrs`` name the loss, the seeds whose models predicted and those
    ``left_out`` (collapsed). The columns of ``data`` that are not features (a row ID, the target,
    the columns left out in training or new to it, a named index) come first, as given (one named
    like an output column as ``input_<name>``), so that each prediction can be matched to its row.
    """
    path = Path(path)
    study = load(path)
    if not (_read_manifest(path) or {}).get("models"):
        raise LosslabError(f"the study in {str(path)!r} kept no models; train it again with --save-models")
    plan = study.plan
    spec = _chosen_loss(plan, loss)
    seeds = plan.seeds if seed is None else _chosen_seed(plan, seed)
    runs = study.runs[(study.runs["loss"] == spec.name) & study.runs["seed"].isin(seeds)]
    runs = runs[~runs["diverged"].astype(bool)]  # a diverged model predicts NaN
    if runs.empty:
        raise LosslabError(f"every chosen run of {spec.name} diverged; its models cannot predict")
    seeds = tuple(int(s) for s in _trusted(runs, spec, seed)["seed"])
    left_out = tuple(int(s) for s in runs["seed"] if s not in seeds)  # collapsed
    frame = load_table(data) if isinstance(data, str | Path) else data
    X = prepare_rows(plan.problem, frame)
    table = _beside(frame, plan.problem, _as_table(plan, spec, _mean_outputs(plan, spec, path, seeds, X)))
    table.attrs.update(loss=spec.name, seeds=seeds, left_out=left_out)
    return table


def _trusted(runs: pd.DataFrame, spec: LossSpec, seed: int | None) -> pd.DataFrame:
    """The runs whose models predict: those that did not collapse (a model no better than a
    constant on its training rows is no result); the one ``seed`` asked for even so, with a warning."""
    collapsed = runs["collapsed"].astype(bool)
    if seed is not None:
        if collapsed.any():
            warnings.warn(f"the run of {spec.name} with seed {seed} collapsed ({runs['collapse_reason'].iloc[0]}); its "
                          "predictions are no better than a constant's", stacklevel=3)
        return runs
    if collapsed.all():
        seeds = ", ".join(str(s) for s in runs["seed"])
        raise LosslabError(f"every run of {spec.name} that did not diverge collapsed ({runs['collapse_reason'].iloc[0]}); "
                           f"its models predict no better than a constant: choose another loss (--loss), or one seed "
                           f"(--seed N, N one of {seeds}) to use it anyway")
    return runs[~collapsed]


def _beside(frame: pd.DataFrame, problem: Problem, table: pd.DataFrame) -> pd.DataFrame:
    """The predictions after the new rows' columns that are not features (a row ID, the target,
    the columns left out in training), as given: each prediction can be matched to its row."""
    features = {*problem.preparation["scaled_columns"], *problem.preparation["one_hot"]}
    carried = [i for i, c in enumerate(frame.columns) if str(c) not in features]  # by position: names may repeat
    named_index = any(name is not None for name in frame.index.names)  # e.g. an ID a Parquet file keeps as its index
    given = frame.iloc[:, carried].reset_index(drop=not named_index)
    taken = {str(c) for c in table.columns}
    names = []
    for column in given.columns:  # one named like an output ('prediction') as input_<name>, kept unique
        name = str(column)
        while name in taken:
            name = f"input_{name}"
        taken.add(name)
        names.append(name)
    given.columns = names
    return pd.concat([given, table], axis=1)


def _chosen_loss(plan: StudyPlan, loss: str | None) -> LossSpec:
    if loss is None:
        return plan.specs[0]
    for spec in plan.specs:
        if loss in (spec.name, *spec.aliases):
            return spec
    try:
        name = get_loss(loss).name  # any other Keras name, as the training commands take them
    except LosslabError:
        name = None
    for spec in plan.specs:
        if name == spec.name:
            return spec
    raise LosslabError(f"the study has no loss {loss!r}; it has {', '.join(plan.losses)}")


def _chosen_seed(plan: StudyPlan, seed: int) -> tuple[int, ...]:
    if seed not in plan.seeds:
        raise LosslabError(f"the study has no seed {seed}; its seeds are {plan.seeds[0]}..{plan.seeds[-1]}")
    return (seed,)


def prepare_rows(problem: Problem, frame: pd.DataFrame) -> np.ndarray:
    """New rows as the model's inputs, with the training rows' recorded preparation.

    Refuses, naming them, feature columns that are missing; other columns (a row ID, the target,
    columns training left out or never had) are ignored here. A row with a missing or infinite
    feature value gets NaN inputs, so no prediction (training refused such rows), with a warning
    that counts them per column.
    """
    preparation = problem.preparation
    if "scaled_columns" not in preparation:
        raise LosslabError(f"the problem {problem.name!r} records no preparation to repeat (the tutorial's "
                           "generated problems); predictions need a study of your own data or a bundled data set")
    numeric, categorical = list(preparation["scaled_columns"]), list(preparation["one_hot"])
    missing = sorted((set(numeric) | set(categorical)) - {str(c) for c in frame.columns})
    if missing:
        raise DataError(f"the new rows lack the feature column{'s' if len(missing) > 1 else ''} "
                        f"{', '.join(map(repr, missing))} that training used; give every feature column")
    frame = frame.rename(columns=str)
    blocks, empty = [], {}
    if numeric:
        values = np.column_stack([_convert_feature(frame[c], c).to_numpy(np.float64, na_value=np.nan) for c in numeric])
        values[~np.isfinite(values)] = np.nan
        empty |= {c: int(n) for c, n in zip(numeric, np.isnan(values).sum(axis=0)) if n}
        scaled = (values - np.asarray(preparation["scaler_mean"])) / np.asarray(preparation["scaler_std"])
        _warn_far_out(scaled, numeric)
        blocks.append(scaled)
    for column in categorical:
        values = _convert_feature(frame[column], column).astype(object).to_numpy()
        absent = pd.isna(values)
        if absent.any():
            empty[column] = int(absent.sum())
        categories = preparation["one_hot"][column]
        unseen = sorted(set(values[~absent]) - set(categories), key=str)
        if unseen:  # encoded as all zeros, as the test rows were: say so, a prediction there is a guess
            warnings.warn(f"column {column!r} has values not seen in training ({', '.join(map(str, unseen[:5]))}); "
                          "they are encoded as no category, and their predictions deserve less trust", UserWarning,
                          stacklevel=3)
        encoded = (values[:, None] == np.asarray(categories, dtype=object)[None, :]).astype(np.float64)
        encoded[absent] = np.nan
        blocks.append(encoded)
    X = np.hstack(blocks)
    if empty:
        rows = int(np.isnan(X).any(axis=1).sum())
        counts = ", ".join(f"{name!r} ({n})" for name, n in empty.items())
        warnings.warn(f"{rows} of {len(frame)} rows have missing or infinite values ({counts}); their predictions are "
                      "left empty: fill the values in to predict them", UserWarning, stacklevel=3)
    return X


#: Standard deviations from the training mean beyond which a new value is outside anything the
#: model saw (a standardised feature of the training rows rarely passes 5).
FAR_OUT_SDS = 10.0


def _warn_far_out(scaled: np.ndarray, columns: list[str]) -> None:
    """Warn about new values far outside the training rows': a prediction there is extrapolation."""
    with np.errstate(invalid="ignore"):
        far = np.abs(scaled) > FAR_OUT_SDS
    if far.any():
        counts = ", ".join(f"{name!r} ({int(n)})" for name, n in zip(columns, far.sum(axis=0)) if n)
        rows = int(far.any(axis=1).sum())
        warnings.warn(f"{rows} {'row has' if rows == 1 else 'rows have'} values more than {FAR_OUT_SDS:g} training standard "
                      f"deviations from the training mean ({counts}); their predictions extrapolate beyond anything "
                      "the models saw", UserWarning, stacklevel=4)


def _mean_outputs(plan: StudyPlan, spec: LossSpec, path: Path, seeds: tuple[int, ...], X: np.ndarray) -> np.ndarray:
    """The activated outputs (rows, units), averaged over ``seeds``' models."""
    directory = StudyDirectory(path, plan, key="")
    template = plan.model.init(np.zeros((1, 2), np.uint32), X.shape[1], spec.output_units(plan.problem.n_classes))
    treedef = jax.tree_util.tree_structure(template)
    total, count = 0.0, 0
    for chunk in (c for c in plan.chunks() if set(c) & set(seeds)):
        with np.load(directory.params_path(spec.name, chunk), allow_pickle=False) as kept:
            leaves = [kept[f"leaf{i}"] for i in range(len(kept.files))]
        rows = np.array([i for i, s in enumerate(chunk) if s in seeds])
        params = jax.tree_util.tree_unflatten(treedef, [leaf[rows] for leaf in leaves])
        z, _ = plan.model.forward(params, np.asarray(X, np.float32))  # (runs, out, rows)
        out = np.asarray(spec.activate(np.swapaxes(np.asarray(z), 1, 2)), np.float64)  # (runs, rows, out)
        total, count = total + out.sum(axis=0), count + len(rows)
    return total / count


def _as_table(plan: StudyPlan, spec: LossSpec, outputs: np.ndarray) -> pd.DataFrame:
    """The table of predictions; a row whose outputs are NaN (inputs missing) predicts nothing.
    Probabilities and scores are float32, the precision of the models' outputs (a CSV would show
    17 digits); a value in the target's units stays float64, its mean added back."""
    table = _predictions(plan, spec, outputs)
    table.loc[np.isnan(outputs).any(axis=1), "prediction"] = None
    outputs_only = [c for c in table.columns if c.startswith(("probability_", "score_"))]
    return table.astype(dict.fromkeys(outputs_only, np.float32))


def _predictions(plan: StudyPlan, spec: LossSpec, outputs: np.ndarray) -> pd.DataFrame:
    problem = plan.problem
    if problem.kind == "regression":
        values = outputs[:, 0] * problem.target_scale
        if plan.centred:
            values = values + problem.target_mean
        return pd.DataFrame({"prediction": values})
    names = list(problem.class_names) or [str(i) for i in range(max(2, outputs.shape[1]))]
    if spec.activation == "tanh":  # a margin score in (-1, 1), not a probability: its sign is the class
        return pd.DataFrame({"prediction": np.asarray(names, dtype=object)[(outputs[:, 0] > 0).astype(int)],
                             f"score_{names[1]}": outputs[:, 0]})
    probabilities = outputs if spec.activation == "softmax" else np.column_stack([1 - outputs[:, 0], outputs[:, 0]])
    table = pd.DataFrame({"prediction": np.asarray(names, dtype=object)[probabilities.argmax(axis=1)]})
    for name, column in zip(names, probabilities.T):
        table[f"probability_{name}"] = column
    return table
