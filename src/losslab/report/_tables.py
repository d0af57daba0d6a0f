"""The report's tables: each result frame with readable headers and formatted, sortable cells."""

from __future__ import annotations

import pandas as pd

from losslab.analysis import Comparison
from losslab.replicate import Replication
from losslab.report._cells import Cell, Table, count, finite_any, interval, mean_sd, number, pvalue, text, yes_no
from losslab.results import Study


def study_summary(study: Study) -> Table:
    """Per loss: how many runs finished, and the final metric and loss over the finished ones."""
    metric, runs = study.metric, study.runs
    units = study.problem.target_scale is not None and finite_any(runs["test_metric_target_units"])
    columns = ["loss", "runs", "diverged", f"train {metric} (mean ± sd)", f"test {metric} (mean ± sd)",
               f"test {metric} median", f"test {metric} min", f"test {metric} max", "test loss (mean ± sd)"]
    if units:
        columns.append(f"test {metric} in {study.problem.target_name}'s units (mean)")
    rows = []
    for loss in study.losses:
        mine = runs[runs["loss"] == loss]
        done = mine[~mine["diverged"].astype(bool)]
        test = done["test_metric"]
        row = [text(loss), count(len(mine)), count(int(mine["diverged"].sum())),
               mean_sd(done["train_metric"].mean(), done["train_metric"].std()),
               mean_sd(test.mean(), test.std()), number(test.median()), number(test.min()), number(test.max()),
               mean_sd(done["test_loss"].mean(), done["test_loss"].std())]
        if units:
            row.append(Cell(f"{done['test_metric_target_units'].mean():.4g}", float(done["test_metric_target_units"].mean()))
                       if len(done) else text(None))
        rows.append(row)
    return Table(f"{study.problem.name}: final scores per loss over {len(study.seeds)} seeds", columns, rows,
                 caption="Diverged runs are counted, not averaged: the scores are over the runs that finished.")


def study_runs(study: Study) -> Table:
    """One row per run: its final scores, and the epoch it diverged at."""
    runs, metric = study.runs, study.metric
    extra = [c for c in ("train_rounding_accuracy", "test_rounding_accuracy",
                         "train_metric_target_units", "test_metric_target_units") if finite_any(runs[c])]
    headers = {"train_rounding_accuracy": "train accuracy as the tutorial's Keras scored it",
               "test_rounding_accuracy": "test accuracy as the tutorial's Keras scored it",
               "train_metric_target_units": f"train {metric} in {study.problem.target_name}'s units",
               "test_metric_target_units": f"test {metric} in {study.problem.target_name}'s units"}
    columns = ["loss", "seed", "diverged at epoch", f"train {metric}", f"test {metric}", "train loss", "test loss",
               *(headers[c] for c in extra)]
    rows = [[text(r["loss"]), count(r["seed"]), count(r["diverged_epoch"]) if r["diverged"] else text(None),
             number(r["train_metric"], 4), number(r["test_metric"], 4), number(r["train_loss"], 4),
             number(r["test_loss"], 4), *(number(r[c], 4) for c in extra)]
            for r in runs.to_dict(orient="records")]
    return Table(f"{study.problem.name}: every run", columns, rows, collapsed=True)


def comparison_summary(comparison: Comparison) -> Table:
    metric, level = comparison.metric, f"{100 * (1 - comparison.alpha):.0f}%"
    columns = ["loss", "runs finished", "diverged", "collapsed", f"test {metric} (mean ± sd)",
               f"test {metric} IQM [{level}]", "train metric (mean ± sd)", "test loss (mean ± sd)"]
    rows = [[text(r["loss"]), Cell(f"{r['n']}/{r['n_runs']}", float(r["n"])), count(r["n_diverged"]),
             count(r["n_collapsed"]), mean_sd(r["score_mean"], r["score_sd"]),
             _with_interval(r["score_iqm"], r["score_iqm_low"], r["score_iqm_high"]),
             mean_sd(r["train_metric_mean"], r["train_metric_sd"]), mean_sd(r["test_loss_mean"], r["test_loss_sd"])]
            for r in comparison.summary.to_dict(orient="records")]
    rows += [[text(f"baseline: {r['baseline']}"), count(r["n"]), text(""), text(""), mean_sd(r["mean"], r["sd"]),
              text(""), text(""), text("")] for r in comparison.baselines.to_dict(orient="records")]
    return Table(f"{comparison.problem}: final {metric} per loss, beside the baselines", columns, rows,
                 caption=f"IQM: the mean of the middle half of the runs, with a bootstrap interval ({level}). "
                         "Baselines: scikit-learn's simplest models on the same splits.")


def _with_interval(value: object, low: object, high: object) -> Cell:
    """``value [low, high]``, sorted by the value."""
    shown = number(value, 3)
    return Cell(f"{shown.text} {interval(low, high).text}", shown.sort)


def comparison_pairs(comparison: Comparison) -> Table:
    columns = ["loss A", "loss B", "paired seeds", "mean difference (A - B)", "median difference",
               "95% CI of the difference", "effect size d_z", "test p (Holm)", "Wilcoxon p (Holm)",
               "P(A beats B)", "equivalence margin", "TOST p", "identical on every seed", "seeds that would decide",
               "verdict"]
    rows = [[text(r["loss_a"]), text(r["loss_b"]), count(r["n_pairs"]), number(r["mean_diff"], 4),
             number(r["median_diff"], 4), interval(r["ci_low"], r["ci_high"], 4), number(r["d_z"], 2),
             pvalue(r["t_pvalue_holm"]), pvalue(r["wilcoxon_pvalue_holm"]),
             _with_interval(r["prob_a_better"], r["prob_a_better_low"], r["prob_a_better_high"]),
             number(r["margin"], 4), pvalue(r["tost_pvalue"]), yes_no(r["identical"]), count(r["repeats_needed"]),
             text(r["verdict"])]
            for r in comparison.pairs.to_dict(orient="records")]
    direction = "higher is better" if comparison.higher_is_better else "lower is better"
    return Table(f"{comparison.problem}: every pair of losses, on paired seeds", columns, rows,
                 caption=f"Differences of the final test {comparison.metric} ({direction}); {comparison.test}; "
                         f"alpha = {comparison.alpha}.")


def comparison_diagnostics(comparison: Comparison) -> Table:
    columns = ["loss", "runs", "diverged", "convergence epoch", "runs overfitting", "overfitting onset (epoch)",
               "bumpiness", "train-test gap"]
    rows = [[text(r["loss"]), count(r["n_runs"]), count(r["n_diverged"]),
             mean_sd(r["convergence_epoch_mean"], r["convergence_epoch_sd"], 1), number(r["overfit_fraction"], 2),
             mean_sd(r["overfitting_onset_mean"], r["overfitting_onset_sd"], 1),
             mean_sd(r["bumpiness_mean"], r["bumpiness_sd"], 4), mean_sd(r["metric_gap_mean"], r["metric_gap_sd"])]
            for r in comparison.diagnostics_summary.to_dict(orient="records")]
    return Table(f"{comparison.problem}: learning-curve diagnostics (mean ± sd over runs)", columns, rows)


def replication_cases(replication: Replication) -> Table:
    """The replicate table: each case study's distribution over the repeats."""
    columns = ["case", "problem", "loss", "output; targets", "metric", "runs", "diverged", "train (mean ± sd)",
               "test (mean ± sd)", "test median [IQR]", "tutorial's Keras accuracy (train / test)"]
    rows = []
    for r in replication.table.to_dict(orient="records"):
        units = "1" if r["units"] == "1" else "n"
        spread = (Cell(f"{r['test_median']:.3f} [{r['test_q25']:.3f}, {r['test_q75']:.3f}]", float(r["test_median"]))
                  if not pd.isna(r["test_median"]) else text(None))
        keras = (Cell(f"{r['tutorial_train']:.3f} / {r['tutorial_test']:.3f}", float(r["tutorial_train"]))
                 if not pd.isna(r["tutorial_train"]) else text(None))
        rows.append([text(r["case"]), text(r["problem"]), text(r["loss"]),
                     text(f"{units} x {r['activation']}; {r['targets']}"), text(r["metric"]), count(r["runs"]),
                     count(r["diverged"]), mean_sd(r["train"], r["train_sd"]), mean_sd(r["test"], r["test_sd"]),
                     spread, keras])
    return Table(f"The tutorial's case studies, {_runs(replication)} each", columns, rows)


def replication_claims(replication: Replication) -> Table:
    """Each claim of the tutorial beside the share of runs on which it holds."""
    columns = ["case", "loss", "the tutorial reported", "percentile of its figure (train / test)", "runs it holds on",
               "agrees", "why"]
    rows = []
    for r in replication.table.to_dict(orient="records"):
        where = (Cell(f"{r['reported_train_percentile']:.0f} / {r['reported_test_percentile']:.0f}",
                      float(r["reported_train_percentile"]))
                 if not pd.isna(r["reported_test_percentile"]) else text(None))
        share = (Cell(f"{int(r['claim_runs'])}/{int(r['claim_of'])}", float(r["claim_share"]))
                 if not pd.isna(r["claim_share"]) else text(None))
        agrees = r["agrees"] if r["outcome"] == "completed" else f"{r['agrees']} ({r['outcome']})"
        rows.append([text(r["case"]), text(r["loss"]), text(r["reported"]), where, share, text(agrees), text(r["reason"])])
    return Table(f"The tutorial's claims, judged over {_runs(replication)}", columns, rows)


def replication_diagnostics(replication: Replication) -> Table:
    columns = ["case", "problem", "loss", "the tutorial says", "converged by epoch", "bumpiness", "runs overfitting",
               "overfitting onset (epoch)"]
    rows = [[text(r["case"]), text(r["problem"]), text(r["loss"]), text(r["tutorial_curves"] or None),
             number(r["convergence_epoch"], 0), number(r["bumpiness"], 4), number(r["overfit_fraction"], 2),
             number(r["overfitting_onset"], 0)]
            for r in replication.diagnostics.to_dict(orient="records")]
    return Table("The learning curves: the tutorial's words and losslab's diagnostics (means over runs)", columns, rows)


def _runs(replication: Replication) -> str:
    return f"{replication.repeats} run{'s' if replication.repeats != 1 else ''}"
