"""Learning-curve diagnostics: one number per run for how it trained.

Each curve is a 1-D array over epochs ``1..E`` (index ``i`` holds epoch ``i + 1``). A diverged run
has NaN (or inf) from its divergence on; every diagnostic is computed on the run's finite prefix,
the epochs before the first non-finite value, and the run is flagged ``diverged``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from losslab._plain import mean_or_nan, sd_or_nan

RUN_KEYS = ["problem", "loss", "seed"]
DIAGNOSTICS = ("convergence_epoch", "overfitting_onset", "bumpiness", "metric_gap")


def finite_prefix(curve: np.ndarray) -> np.ndarray:
    """The values before the first NaN or inf (all of ``curve`` if it stays finite)."""
    bad = np.flatnonzero(~np.isfinite(curve))
    return curve[: bad[0]] if bad.size else curve


def convergence_epoch(train_loss: np.ndarray, tol: float = 0.02) -> float:
    """The epoch from which the train loss stays within a ``tol`` band of its final value.

    A settling time, as in control engineering: with ``L_1..L_E`` the curve and
    ``R = max(L) - min(L)`` its range, the convergence epoch is the smallest ``e`` such that
    ``|L_k - L_E| <= tol * R`` for every ``k >= e``. The default band is 2% of the range. A flat
    curve (``R = 0``) has converged at epoch 1; fewer than two finite epochs give NaN.

    For ``L_e = exp(-e / tau)`` this is the first integer ``e`` with
    ``exp(-e / tau) - exp(-E / tau) <= tol * (exp(-1 / tau) - exp(-E / tau))``: for long
    training about ``1 + tau * ln(1 / tol)``, epoch 41 for ``tau = 10`` at 2%.
    """
    loss = finite_prefix(train_loss)
    if loss.size < 2:
        return math.nan
    outside = np.flatnonzero(np.abs(loss - loss[-1]) > tol * np.ptp(loss))
    return float(outside[-1] + 2 if outside.size else 1)


def overfitting_onset(test_loss: np.ndarray, rise: float = 0.1, patience: float = 0.1) -> float:
    """The epoch of the best test loss, if the test loss then rises and stays up; else NaN.

    With ``T_1..T_E`` the test loss, ``R = max(T) - min(T)`` and ``e*`` the first epoch of
    ``min(T)``: training overfits when the last ``s`` epochs all have ``T_k > min(T) + rise * R``
    (a rise of at least 10% of the curve's range, visible on the plotted curve) and that final
    stretch lasts at least ``max(2, ceil(patience * E))`` epochs (10% of training by default).
    The onset is then ``e*``, the epoch early stopping would pick. Because the stretch runs to
    the end of training, a temporary bump or a noisy plateau that dips back is not overfitting.
    """
    loss = finite_prefix(test_loss)
    if loss.size < 3:
        return math.nan
    above = loss > loss.min() + rise * np.ptp(loss)
    below = np.flatnonzero(~above)
    stretch = loss.size - (below[-1] + 1)  # below is never empty: min(T) itself is not above
    if stretch < max(2, math.ceil(patience * loss.size)):
        return math.nan
    return float(np.argmin(loss) + 1)


def bumpiness(train_loss: np.ndarray) -> float:
    """Mean absolute second difference of the train loss, divided by its range.

    ``mean_e |L_{e+1} - 2 L_e + L_{e-1}| / (max(L) - min(L))``: 0 for a straight line, small
    for a smooth decay, large for a curve that zig-zags. Scale-free, so losses of different
    sizes compare. A flat curve is 0; fewer than three finite epochs give NaN.
    """
    loss = finite_prefix(train_loss)
    if loss.size < 3:
        return math.nan
    spread = np.ptp(loss)
    return float(np.mean(np.abs(np.diff(loss, n=2))) / spread) if spread > 0 else 0.0


def metric_gap(train_metric: float, test_metric: float, metric: str) -> float:
    """How much better the final metric is on train than on test (positive = better on train).

    ``train - test`` for accuracy (higher is better), ``test - train`` for mse (lower is better),
    in the metric's own units.
    """
    gap = train_metric - test_metric
    return gap if metric == "accuracy" else -gap


def curve_diagnostics(history: pd.DataFrame, held_out: str = "test", runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row of diagnostics per run (``problem, loss, seed``) of a ``history`` table.

    ``held_out`` is the split the held-out curves are read from: ``"validation"`` when the study
    has one (so nothing is chosen on the test rows), else ``"test"``. ``runs``, a study's runs
    table, marks the runs that collapsed (``collapsed``; False for every run without it).
    Columns: ``epochs`` (finite epochs), ``diverged``, ``collapsed``, ``convergence_epoch`` (train loss,
    :func:`convergence_epoch`), ``overfit`` and ``overfitting_onset`` (held-out loss,
    :func:`overfitting_onset`), ``bumpiness`` (train loss, :func:`bumpiness`),
    ``final_train_metric``, ``final_test_metric`` (the held-out split's; last finite epoch; NaN if
    diverged) and ``metric_gap`` (:func:`metric_gap`).
    """
    ordered = history.sort_values(RUN_KEYS + ["split", "epoch"])
    columns = {name: ordered[name].to_numpy() for name in ("split", "metric")}
    columns |= {name: ordered[name].to_numpy(float) for name in ("loss_value", "metric_value")}
    groups = ordered.groupby(RUN_KEYS, sort=True).indices  # each run's rows, in epoch order; runs in groupby's order
    rows = [_run_row(key, {name: values[positions] for name, values in columns.items()}, held_out)
            for key, positions in groups.items()]
    table = pd.DataFrame(rows, columns=[*RUN_KEYS, "metric", "epochs", "diverged", "convergence_epoch", "overfit",
                                        "overfitting_onset", "bumpiness", "final_train_metric",
                                        "final_test_metric", "metric_gap"])
    collapsed = set()
    if runs is not None and "collapsed" in runs.columns:
        flagged = runs[runs["collapsed"].astype(bool) & ~runs["diverged"].astype(bool)]
        collapsed = set(zip(*(flagged[key] for key in RUN_KEYS)))
    table.insert(table.columns.get_loc("diverged") + 1, "collapsed",
                 [key in collapsed for key in zip(*(table[key] for key in RUN_KEYS))])
    return table


def _run_row(key: tuple, run: dict[str, np.ndarray], held_out: str) -> dict[str, object]:
    """One run's diagnostics from its columns (NumPy arrays: a DataFrame per run cost 2 ms a run)."""
    train, test = run["split"] == "train", run["split"] == held_out
    train_loss, test_loss = run["loss_value"][train], run["loss_value"][test]
    train_metric, test_metric = run["metric_value"][train], run["metric_value"][test]
    diverged = any(not np.all(np.isfinite(c)) for c in (train_loss, test_loss, train_metric, test_metric))
    metric = str(run["metric"][0])
    final_train = math.nan if diverged else float(train_metric[-1])
    final_test = math.nan if diverged else float(test_metric[-1])
    onset = overfitting_onset(test_loss)
    return {
        **dict(zip(RUN_KEYS, key)),
        "metric": metric,
        "epochs": int(min(finite_prefix(train_loss).size, finite_prefix(test_loss).size)),
        "diverged": diverged,
        "convergence_epoch": convergence_epoch(train_loss),
        "overfit": not math.isnan(onset),
        "overfitting_onset": onset,
        "bumpiness": bumpiness(train_loss),
        "final_train_metric": final_train,
        "final_test_metric": final_test,
        "metric_gap": metric_gap(final_train, final_test, metric),
    }


def summarise_diagnostics(diagnostics: pd.DataFrame) -> pd.DataFrame:
    """Per ``problem, loss``: run counts, mean and sd of each diagnostic, and how often runs overfit.

    Diverged and collapsed runs (a ``collapsed`` column, as :func:`curve_diagnostics` marks them
    given the runs) are counted (``n_diverged``, ``n_collapsed``) but left out of every other
    column: a run that learned nothing has no train-test gap worth averaging. ``overfit_fraction``
    is the share of the remaining runs with an overfitting onset; ``overfitting_onset_mean/sd``
    average over the runs that overfit only.
    """
    rows = []
    for (problem, loss), group in diagnostics.groupby(["problem", "loss"], sort=False):
        diverged = group["diverged"].astype(bool)
        collapsed = (group["collapsed"].astype(bool) if "collapsed" in group.columns else diverged & False) & ~diverged
        kept = group[~diverged & ~collapsed]
        row: dict[str, object] = {"problem": problem, "loss": loss, "n_runs": len(group),
                                  "n_diverged": int(diverged.sum()), "n_collapsed": int(collapsed.sum())}
        for name in DIAGNOSTICS:
            values = kept[name].dropna()
            row[f"{name}_mean"], row[f"{name}_sd"] = mean_or_nan(values), sd_or_nan(values)
        row["overfit_fraction"] = float(kept["overfit"].mean()) if len(kept) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)
