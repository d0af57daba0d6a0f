"""``compare`` and its figures on synthetic studies whose right verdict is known."""

from __future__ import annotations

import dataclasses
import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from losslab.analysis import Comparison, compare
from losslab.errors import SettingsError
from losslab.figures._compare import plot_final_distribution, plot_mean_curves
from losslab.planning import SplitDesign, StudyPlan, plan
from losslab.problems import Problem, get_problem
from losslab.registry import get_loss, metric_for_kind
from losslab.results import Study, baselines
from losslab.settings import Settings

EPOCHS = 20


@cache
def problem(name: str) -> Problem:
    return get_problem(name)


def make_study(finals: dict[str, np.ndarray], name: str = "blobs", diverged: frozenset = frozenset()) -> Study:
    """A study whose runs end at ``finals[loss][seed]`` (final test metric), with simple curves.

    Curves decay exponentially towards their final value; the train metric ends 0.01 better than
    the test metric. ``diverged`` holds ``(loss, seed)`` runs that turn NaN from epoch 10.
    """
    metric = metric_for_kind(problem(name).kind)
    better = 1.0 if metric == "accuracy" else -1.0
    epochs = np.arange(1, EPOCHS + 1)
    decay = np.exp(-epochs / 4)
    history, runs = [], []
    for loss, values in finals.items():
        for seed, final in enumerate(values):
            curves = {
                ("train", "loss_value"): 0.2 + decay,
                ("test", "loss_value"): 0.25 + decay,
                ("train", "metric_value"): final + better * (0.01 - 0.3 * decay + 0.3 * decay[-1]),
                ("test", "metric_value"): final - better * (0.3 * decay - 0.3 * decay[-1]),
            }
            if (loss, seed) in diverged:
                curves = {key: np.where(epochs >= 10, np.nan, curve) for key, curve in curves.items()}
            for split in ("train", "test"):
                history.append(pd.DataFrame({
                    "problem": name, "loss": loss, "seed": seed, "epoch": epochs, "split": split,
                    "loss_value": curves[split, "loss_value"], "metric": metric,
                    "metric_value": curves[split, "metric_value"], "rounding_accuracy": np.nan,
                }))
            runs.append({
                "problem": name, "loss": loss, "seed": seed, "diverged": (loss, seed) in diverged,
                "diverged_epoch": 10 if (loss, seed) in diverged else np.nan, "collapsed": False,
                "collapse_reason": "", "metric": metric,
                **{f"{split}_{kind}": curves[split, f"{kind}_value"][-1]
                   for split in ("train", "test") for kind in ("loss", "metric")},
                "train_rounding_accuracy": np.nan, "test_rounding_accuracy": np.nan,
            })
    n_seeds = len(next(iter(finals.values())))
    base = get_loss("mean_squared_error" if metric == "mse" else "categorical_crossentropy")
    specs = tuple(dataclasses.replace(base, name=loss, aliases=()) for loss in finals)  # stand-ins named as the test needs
    settings = Settings(epochs=EPOCHS)
    study_plan = StudyPlan(problem(name), specs, tuple(range(n_seeds)), settings, settings.model, {}, None)
    return Study(study_plan, pd.concat(history, ignore_index=True), pd.DataFrame(runs))


def verdict(comparison: Comparison, a: str, b: str) -> str:
    pairs = comparison.pairs
    return pairs.loc[(pairs["loss_a"] == a) & (pairs["loss_b"] == b), "verdict"].item()


def test_identical_losses_get_the_identical_verdict() -> None:
    a = np.random.default_rng(0).normal(0.82, 0.02, size=12)
    result = compare(make_study({"categorical": a, "sparse": a.copy()}))
    assert verdict(result, "categorical", "sparse") == "identical on every paired seed (12/12)"
    assert result.pairs["identical"].item()
    assert result.verdicts == ["categorical vs sparse (12 paired seeds): identical on every paired seed (12/12)."]


def test_a_clearly_better_loss_is_named_with_its_margin_in_points() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(0.80, 0.01, size=10)
    b = a + 0.05 + rng.normal(0.0, 0.005, size=10)
    result = compare(make_study({"hinge": a, "bce": b}))
    text = verdict(result, "hinge", "bce")
    assert text.startswith("bce better by ")
    points = float(text.split("better by ")[1].split(" pt")[0])
    assert points == pytest.approx(100 * np.mean(b - a), abs=0.05)
    assert "Holm-adjusted p < 0.001" in text


def test_lower_mse_is_better_for_regression() -> None:
    rng = np.random.default_rng(2)
    mse = rng.normal(0.010, 0.001, size=10)
    result = compare(make_study({"mse": mse, "msle": 2 * mse}, name="regression"))
    assert result.metric == "mse" and not result.higher_is_better
    assert verdict(result, "mse", "msle").startswith("mse better by ")
    assert " MSE " in verdict(result, "mse", "msle")
    # default margin: 10% of the pooled mean test MSE of the two losses
    assert result.pairs["margin"].item() == pytest.approx(0.1 * np.mean(np.concatenate([mse, 2 * mse])))


def test_noisy_equal_losses_are_never_called_better() -> None:
    """Eight losses with the same true accuracy: 28 pairs, and not one may be called better.

    A single null pair is called "better" 5% of the time by design (alpha); across the family,
    Holm's adjustment keeps the chance of any such call at or below 5%, so this must hold.
    """
    rng = np.random.default_rng(11)
    result = compare(make_study({f"loss{i}": rng.normal(0.8, 0.02, 15) for i in range(8)}))
    assert len(result.pairs) == 28
    # Holm multiplies the smallest raw p-value by the 28 tests of the family: that is what keeps the
    # null pairs that look "better" on their own (28 x 5% = 1.4 expected) from being called so;
    # test_pairs_significant_on_their_own_are_not_called_better_in_a_family shows it on known p-values.
    assert result.pairs["t_pvalue_holm"].min() == pytest.approx(min(1.0, 28 * result.pairs["t_pvalue"].min()))
    for text in result.pairs["verdict"]:
        assert text.startswith(("equivalent", "inconclusive")), text


def test_pairs_significant_on_their_own_are_not_called_better_in_a_family() -> None:
    """Eight losses 1 point apart in turn, ``loss_i = base + i * d`` with a fixed ``d``: every pair
    differs by a multiple of ``d``, so all 28 paired t-tests give the p-value of ``d`` itself,
    p0 = 0.030 < 0.05. Alone, a pair is called better; in the family of 28, Holm's adjusted p-value
    is 28 * p0 = 0.83 for every pair and none is."""
    n = 15
    z = np.linspace(-1.0, 1.0, n)
    d = 0.01 + 0.016 * z / z.std(ddof=1)  # mean 1 point, sd 1.6 points
    t = d.mean() / (d.std(ddof=1) / math.sqrt(n))
    p0 = 2 * scipy_stats.t.sf(t, n - 1)
    assert p0 < 0.05 < 28 * p0
    base = 0.8 + 0.02 * np.sin(np.arange(n))
    finals = {f"loss{i}": base + i * d for i in range(8)}

    result = compare(make_study(finals))
    assert len(result.pairs) == 28
    np.testing.assert_allclose(result.pairs["t_pvalue"], p0, rtol=1e-6)
    np.testing.assert_allclose(result.pairs["t_pvalue_holm"], min(1.0, 28 * p0))
    for text in result.pairs["verdict"]:
        assert text.startswith("inconclusive"), text

    alone = compare(make_study({"loss0": finals["loss0"], "loss1": finals["loss1"]}))
    assert alone.pairs["t_pvalue_holm"].item() == pytest.approx(p0, rel=1e-6)
    assert verdict(alone, "loss0", "loss1").startswith("loss1 better by 1.0 pt")


def test_inconclusive_verdict_says_how_many_repeats_would_decide() -> None:
    rng = np.random.default_rng(3)
    result = compare(make_study({"a": rng.normal(0.8, 0.03, 5), "b": rng.normal(0.8, 0.03, 5)}))
    text = verdict(result, "a", "b")
    n = int(text.removeprefix("inconclusive: about ").removesuffix(" repeats would decide"))
    assert n == result.pairs["repeats_needed"].item() and n > 5


def test_inconclusive_verdict_notes_a_wilcoxon_signal_that_outliers_hide_from_the_t_test() -> None:
    rng = np.random.default_rng(13)
    a = rng.normal(0.80, 0.02, size=15)
    b = a + rng.normal(0.02, 0.005, size=15)
    b[7] = a[7] - 0.5  # one collapsed run: B is ahead on 14 of 15 seeds but the mean says otherwise
    result = compare(make_study({"a": a, "b": b}))
    row = result.pairs.iloc[0]
    assert row["t_pvalue_holm"] > 0.5 and row["wilcoxon_pvalue_holm"] < 0.01
    text = row["verdict"]
    assert text.startswith("inconclusive: about ")
    assert "the Wilcoxon test, less swayed by outlying seeds, favours b: Holm-adjusted p = 0.00" in text


def test_near_identical_losses_with_many_seeds_are_equivalent_within_one_point() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(0.82, 0.02, size=30)
    result = compare(make_study({"categorical": a, "kld": a + rng.normal(0.0, 0.002, size=30)}))
    assert verdict(result, "categorical", "kld").startswith("equivalent within ±1.0 pt (TOST p")


def test_holm_adjusts_across_all_pairs_and_summary_has_bootstrap_intervals() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(0.8, 0.02, 10)
    finals = {"a": base, "b": base + rng.normal(0.004, 0.01, 10), "c": base + rng.normal(0.0, 0.01, 10)}
    result = compare(make_study(finals))
    pairs = result.pairs
    assert list(zip(pairs["loss_a"], pairs["loss_b"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert np.all(pairs["t_pvalue_holm"] >= pairs["t_pvalue"])
    assert pairs["t_pvalue_holm"].min() == pytest.approx(min(1.0, 3 * pairs["t_pvalue"].min()))
    summary = result.summary.set_index("loss")
    for loss, values in finals.items():
        assert summary.loc[loss, "test_metric_mean"] == pytest.approx(values.mean())
        assert summary.loc[loss, "test_metric_ci_low"] < values.mean() < summary.loc[loss, "test_metric_ci_high"]


def test_diverged_runs_are_counted_reported_and_left_out() -> None:
    rng = np.random.default_rng(6)
    a = rng.normal(0.8, 0.02, 8)
    study = make_study({"bce": a, "hinge": a + 0.001}, diverged=frozenset({("hinge", 2), ("hinge", 5)}))
    result = compare(study)
    row = result.summary.set_index("loss").loc["hinge"]
    assert (row["n_runs"], row["n"], row["n_diverged"]) == (8, 6, 2)
    assert row["test_metric_mean"] == pytest.approx(np.delete(a + 0.001, [2, 5]).mean())
    assert result.pairs["n_pairs"].item() == 6
    assert "hinge: 2 diverged of 8 runs; left out of the statistics." in result.flags
    assert result.diagnostics["diverged"].sum() == 2
    assert result.diagnostics_summary.set_index("loss").loc["hinge", "n_diverged"] == 2


def test_tables_follow_the_study_order_of_losses() -> None:
    rng = np.random.default_rng(12)
    result = compare(make_study({"zeta": rng.normal(0.8, 0.02, 4), "alpha": rng.normal(0.8, 0.02, 4)}))
    assert result.summary["loss"].tolist() == ["zeta", "alpha"]
    assert result.diagnostics_summary["loss"].tolist() == ["zeta", "alpha"]
    assert result.diagnostics["loss"].tolist() == ["zeta"] * 4 + ["alpha"] * 4


def test_to_dict_is_plain_json() -> None:
    rng = np.random.default_rng(7)
    result = compare(make_study({"a": rng.normal(0.8, 0.02, 6), "b": rng.normal(0.8, 0.02, 6)}))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["metric"] == "accuracy" and len(data["pairs"]) == 1
    assert data["verdicts"] == result.verdicts


def test_bad_alpha_and_margin_are_refused_with_a_fix() -> None:
    study = make_study({"a": np.full(3, 0.8), "b": np.full(3, 0.8)})
    with pytest.raises(SettingsError, match="alpha"):
        compare(study, alpha=1.5)
    with pytest.raises(SettingsError, match="margin"):
        compare(study, margin=-0.01)


def test_mean_curves_figure_has_a_loss_panel_per_loss_and_one_metric_panel(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    study = make_study({"a": rng.normal(0.8, 0.02, 4), "b": rng.normal(0.8, 0.02, 4), "c": rng.normal(0.8, 0.02, 4)},
                       diverged=frozenset({("c", 1)}))
    path = tmp_path / "figs" / "curves.png"
    fig = plot_mean_curves(study, path)
    *loss_axes, metric = fig.axes
    assert [ax.get_title() for ax in loss_axes] == ["a", "b", "c (1 of 4 runs diverged)"]
    assert [len(ax.get_lines()) for ax in fig.axes] == [2, 2, 2, 6]
    assert len(fig.legends[0].get_texts()) == 5  # a colour per loss, then test and train
    test_curve = metric.get_lines()[0]
    assert test_curve.get_linestyle() == "-"
    np.testing.assert_allclose(test_curve.get_ydata()[-1], study.final("a").mean())
    assert path.read_bytes().startswith(b"\x89PNG")


def test_final_distribution_figure_shows_every_loss(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    study = make_study({"a": rng.normal(0.8, 0.02, 5), "b": rng.normal(0.8, 0.02, 5)},
                       diverged=frozenset({("b", 0)}))
    path = tmp_path / "final.png"
    fig = plot_final_distribution(study, path)
    assert len(fig.axes) == 1
    labels = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert labels == ["a", "b\n(1 diverged)"]
    points = [line for line in fig.axes[0].get_lines() if line.get_marker() == "o"]
    assert [len(line.get_ydata()) for line in points] == [5, 4]
    assert path.read_bytes().startswith(b"\x89PNG")
    assert not math.isnan(fig.axes[0].get_ylim()[0])


def test_a_constant_difference_on_too_few_seeds_is_not_called_better() -> None:
    # On 3 seeds the same 5-point gap gives a t-test p of 0, yet 3 seeds cannot show a winner.
    a = np.array([0.80, 0.82, 0.81])
    comparison = compare(make_study({"a": a, "b": a - 0.05}))
    text = verdict(comparison, "a", "b")
    assert "better" not in text and text.startswith("inconclusive")
    five = np.array([0.80, 0.82, 0.81, 0.83, 0.79])
    assert "a better by 5.0 pt" in verdict(compare(make_study({"a": five, "b": five - 0.05})), "a", "b")


# ------------------------------------------------------------------ a simple model that does better


def _summary(rows: list[tuple[str, int, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["loss", "n", "score_mean", "score_sd"])


def _learned(rows: list[tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame([(name, 10, mean, 0.01) for name, mean in rows], columns=["baseline", "n", "mean", "sd"])


def test_a_simple_model_is_said_to_win_only_by_more_than_one_test_row() -> None:
    from losslab.analysis._compare import _Context, _simple_model_wins
    context = _Context("accuracy", "test_metric", 0.05, 0.3, 1 / 50, True)  # one test row: 2 points
    summary = _summary([("bce", 10, 0.80, 0.01), ("hinge", 10, 0.78, 0.01)])
    assert _simple_model_wins(_learned([("logistic", 0.81)]), summary, context) == []  # half a row: noise
    [note] = _simple_model_wins(_learned([("logistic", 0.83)]), summary, context)
    assert note.startswith("The logistic baseline scores better than every loss here (mean test accuracy 83.0% vs "
                           "80.0% for the best loss, bce")


def test_the_best_learned_baseline_is_judged_beyond_the_losses_standard_error() -> None:
    from losslab.analysis._compare import _Context, _simple_model_wins
    context = _Context("mse", "test_metric", 0.05, 0.3, None, True)
    summary = _summary([("poisson", 9, 0.65, 0.18), ("mse", 9, 0.70, 0.18)])  # standard error 0.06
    within = _learned([("linear", 0.66), ("poisson_glm", 0.61)])
    assert _simple_model_wins(within, summary, context) == []
    [note] = _simple_model_wins(_learned([("linear", 0.66), ("poisson_glm", 0.55)]), summary, context)
    assert note.startswith("The poisson_glm baseline scores better than every loss here (mean test mse 0.55 vs 0.65 "
                           "for the best loss, poisson")


# ------------------------------------------------------------------------------- verify's sentence


def test_the_verify_sentence_names_an_alternative_that_collapsed_and_how_sure_plainly() -> None:
    from losslab.analysis._verify import _choose
    rng = np.random.default_rng(3)
    a = rng.normal(0.8, 0.02, 8)
    study = make_study({"a": a, "b": a + rng.normal(0, 0.02, 8), "c": a - 0.001})
    collapsed = (study.runs["loss"] == "c") & (study.runs["seed"] < 6)
    study.runs.loc[collapsed, "collapsed"] = True
    study.runs.loc[collapsed, "collapse_reason"] = "never moved (its training loss did not change)"
    comparison = compare(study)
    choice, sentence = _choose("a", study.losses, comparison, comparison, "test")
    assert choice == "a"
    assert sentence.startswith("Use a: the recommended loss; no alternative did significantly better on the test rows, and on the "
                               "test rows the data cannot separate it from b; c collapsed on most runs (8 seeds on one "
                               "split; not sure: the test rows do not decide every comparison).")
    assert "undecided" not in sentence and sentence.count(". ") == 0


def test_a_poisson_glm_baseline_is_explained_where_the_target_reads_as_counts() -> None:
    rng = np.random.default_rng(4)
    finals = {"mse": rng.normal(0.6, 0.02, 5), "mae": rng.normal(0.6, 0.02, 5)}
    studies = {name: make_study(finals, name=name) for name in ("diabetes", "regression")}
    for name, study in studies.items():  # the baselines a real plan of the problem fits
        study.baselines = baselines(plan(problem(name), ["mse", "mae"], range(5), Settings(epochs=EPOCHS)))
    counts = compare(studies["diabetes"])  # disease progression: whole numbers, none negative
    assert "poisson_glm" in set(counts.baselines["baseline"])
    assert any(note.startswith("The poisson_glm baseline is a Poisson GLM with a log link") for note in counts.notes)
    measured = compare(studies["regression"])
    assert set(measured.baselines["baseline"]) == {"mean", "linear"}
    assert not any("Poisson GLM" in note for note in measured.notes)


def test_on_resampled_splits_the_intervals_follow_the_corrected_test() -> None:
    """A plain bootstrap of the differences ignores that resampled splits share rows: it excluded
    zero beside an inconclusive verdict. The pair's interval is now the corrected test's, and the
    summary's intervals are widened by its factor."""
    rng = np.random.default_rng(11)
    a = rng.normal(0.80, 0.01, 10)
    fixed = make_study({"a": a, "b": a - 0.02 + rng.normal(0, 0.015, 10)}, name="iris")
    resampled = dataclasses.replace(fixed, plan=dataclasses.replace(fixed.plan, split=SplitDesign("resample", test_size=0.3)))
    ratio = resampled.plan.test_train_ratio()
    assert ratio > 0.3
    plain_result, corrected_result = compare(fixed), compare(resampled)
    plain_pair, pair = plain_result.pairs.iloc[0], corrected_result.pairs.iloc[0]
    assert plain_pair["ci_low"] > 0  # the bootstrap excludes zero ...
    assert "inconclusive" in pair["verdict"] and pair["t_pvalue"] > 0.05
    assert pair["ci_low"] < 0 < pair["ci_high"]  # ... the corrected interval, like the test, does not
    d = a - fixed.runs.set_index(["loss", "seed"]).loc["b", "test_metric"].to_numpy()
    half = scipy_stats.t.ppf(0.975, 9) * d.std(ddof=1) * math.sqrt(1 / 10 + ratio)
    np.testing.assert_allclose([pair["ci_low"], pair["ci_high"]], [d.mean() - half, d.mean() + half], rtol=1e-9)
    widen, columns = math.sqrt(1 + 10 * ratio), ["score_iqm_low", "score_iqm_high"]
    plain_summary, summary = (result.summary.set_index("loss") for result in (plain_result, corrected_result))
    iqm = plain_summary.loc["a", "score_iqm"]
    np.testing.assert_allclose(summary.loc["a", columns].to_numpy(float),
                               iqm + widen * (plain_summary.loc["a", columns].to_numpy(float) - iqm), rtol=1e-12)


def test_a_widened_interval_stays_within_what_the_metric_can_be() -> None:
    from losslab.analysis._compare import _widened

    accuracies = np.array([1, 1, 1, 0.96, 1, 1, 1, 1, 0.96, 1.0])
    low, high = _widened((0.976, 1.0), accuracies.mean(), accuracies, 0.25, "accuracy")
    assert high == 1.0 and low == pytest.approx(0.992 - math.sqrt(3.5) * (0.992 - 0.976))
    errors = np.array([0.02, 0.03, 0.5, 0.021, 0.025, 0.02, 0.03, 0.022, 0.019, 0.6])
    assert _widened((0.019, 0.3), errors.mean(), errors, 0.25, "mse")[0] == 0.0  # an MSE is never negative
    assert _widened((-0.5, 0.9), 0.2, np.array([0.2, -0.1]), 0.25, "r2")[0] < -0.5  # R² can be
    assert all(math.isnan(v) for v in _widened((math.nan, math.nan), math.nan, np.array([]), 0.25, "mse"))


@pytest.mark.parametrize(("n", "expected"), [
    (3, "inconclusive: 3 paired splits are too few to tell whether more splits would decide (at least 5 paired "
        "splits are needed)"),
    (8, "inconclusive: more splits would hardly help (they reuse the same rows, so the corrected test's error "
        "stops shrinking); more data would"),
])
def test_more_splits_are_said_not_to_help_only_from_enough_splits(n: int, expected: str) -> None:
    """Resampled splits share rows, so the corrected test's error has a floor; whether a pair's
    difference lies below it is judged from the splits' mean and spread, too unsure from 3."""
    a = 0.8 + 0.02 * np.sin(np.arange(n))
    b = a + np.resize([0.02, -0.019], n)  # a mean difference far below the spread
    fixed = make_study({"a": a, "b": b}, name="iris")
    resampled = dataclasses.replace(fixed, plan=dataclasses.replace(fixed.plan, split=SplitDesign("resample", test_size=0.3)))
    result = compare(resampled)
    assert pd.isna(result.pairs["repeats_needed"].item())
    assert verdict(result, "a", "b") == expected
