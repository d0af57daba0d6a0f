"""Reported scores and scikit-learn baselines: closed forms, scikit-learn's own values, NaN where undefined."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    mean_squared_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)

from losslab.errors import DataError, LosslabError
from losslab.scores import (
    HIGHER_IS_BETTER,
    SCORES,
    batch_scores,
    binary_scores,
    fit_baselines,
    multiclass_scores,
    regression_scores,
)

RNG = np.random.default_rng(0)
TRAIN, SPLITS = np.arange(300), {"validation": np.arange(300, 400), "test": np.arange(400, 500)}


def rows_of(rows: list[dict], baseline: str, split: str = "test") -> dict:
    (row,) = [r for r in rows if r["baseline"] == baseline and r["split"] == split]
    return row


@pytest.fixture(autouse=True)
def _no_convergence_warnings():
    """Every baseline here must converge within its iterations, not merely run out of them."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        yield


# --- the score tables ------------------------------------------------------------------------------


def test_every_score_says_which_way_is_better():
    names = {name for kind in SCORES.values() for name in kind}
    assert names == set(HIGHER_IS_BETTER)
    assert not HIGHER_IS_BETTER["mse"] and not HIGHER_IS_BETTER["log_loss"]
    assert HIGHER_IS_BETTER["accuracy"] and HIGHER_IS_BETTER["r2"] and HIGHER_IS_BETTER["macro_f1"]


@pytest.mark.parametrize(("scores", "kind"), [
    (regression_scores([1.0, 2.0], [1.5, 2.0]), "regression"),
    (binary_scores([0, 1], [-1.0, 1.0], [0.2, 0.7]), "binary"),
    (multiclass_scores([0, 1], np.eye(3)[[0, 1]], True, 3), "multiclass"),
])
def test_each_function_returns_its_kind_s_scores_in_display_order(scores, kind):
    assert tuple(scores) == SCORES[kind]
    assert all(type(value) is float for value in scores.values())


# --- regression ------------------------------------------------------------------------------------


def test_regression_scores_match_their_closed_forms():
    y, pred = np.array([3.0, 0.0, 2.0, 5.0]), np.array([2.5, 0.5, 2.0, 4.0])
    scores = regression_scores(y, pred)
    mse = np.mean((y - pred) ** 2)
    assert scores["mse"] == pytest.approx(mse)
    assert scores["rmse"] == pytest.approx(math.sqrt(mse))
    assert scores["mae"] == pytest.approx(np.mean(np.abs(y - pred)))
    assert scores["r2"] == pytest.approx(1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))
    terms = np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / pred), 0) - y + pred  # 0 log 0 = 0
    assert scores["poisson_deviance"] == pytest.approx(2 * np.mean(terms))


@pytest.mark.parametrize(("y", "pred"), [([1.0, -1.0], [1.0, 1.0]), ([1.0, 2.0], [0.0, 1.0]),
                                         ([1.0, 2.0], [-0.5, 1.0])])
def test_poisson_deviance_is_nan_outside_its_domain(y, pred):
    scores = regression_scores(y, pred)
    assert math.isnan(scores["poisson_deviance"])
    assert math.isfinite(scores["mse"])


def test_diverged_predictions_score_nan_everywhere():
    assert all(math.isnan(v) for v in regression_scores([1.0, 2.0], [np.nan, 1.0]).values())
    assert all(math.isnan(v) for v in binary_scores([0, 1], [np.inf, 1.0]).values())
    assert all(math.isnan(v) for v in multiclass_scores([0, 1], [[np.nan, 0.0], [0.0, 1.0]], False, 2).values())


def test_malformed_inputs_are_user_errors():
    with pytest.raises(DataError, match=r"one value per row, shape \(2,\)"):
        regression_scores([1.0, 2.0], [[1.0], [2.0]])
    with pytest.raises(DataError, match="NaN or infinite"):
        regression_scores([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(DataError, match="class indices 0..1"):
        binary_scores([0, 2], [0.1, 0.2])
    with pytest.raises(DataError, match=r"shape \(rows, n_classes\)"):
        multiclass_scores([0, 1], np.ones((2, 2)), True, 3)
    with pytest.raises(LosslabError, match="kind must be one of"):
        fit_baselines("ranking", np.ones((4, 1)), np.ones(4), [0, 1], {"test": [2, 3]})


# --- binary ----------------------------------------------------------------------------------------


def test_binary_scores_from_probabilities_match_scikit_learn():
    y = np.array([0, 0, 1, 1, 1, 0])
    proba = np.array([0.1, 0.6, 0.8, 0.4, 0.9, 0.3])
    scores = binary_scores(y, np.log(proba / (1 - proba)), proba)
    predicted = (proba > 0.5).astype(int)
    assert scores["accuracy"] == pytest.approx(np.mean(predicted == y))
    assert scores["log_loss"] == pytest.approx(-np.mean(y * np.log(proba) + (1 - y) * np.log(1 - proba)))
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, proba))
    assert scores["f1"] == pytest.approx(f1_score(y, predicted))


def test_log_loss_clips_as_keras_does():
    # a certain wrong answer costs -log(1e-7), not infinity
    scores = binary_scores([1, 0], [-1.0, -1.0], [0.0, 0.0])
    assert scores["log_loss"] == pytest.approx(-math.log(1e-7) / 2, rel=1e-6)


def test_hinge_margins_without_probabilities_give_no_log_loss_but_a_valid_auc():
    y = np.array([0, 1, 1, 0, 1])
    margin = np.array([-0.8, 0.3, -0.1, 0.2, 0.9])  # tanh outputs: class 1 when positive
    scores = binary_scores(y, margin)
    assert math.isnan(scores["log_loss"])
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["roc_auc"] == pytest.approx(roc_auc_score(y, margin)) and 0 < scores["roc_auc"] <= 1


def test_auc_is_nan_with_one_class_and_f1_with_nothing_to_find():
    scores = binary_scores([0, 0, 0], [-1.0, 0.5, -0.2])
    assert math.isnan(scores["roc_auc"]) and scores["f1"] == 0.0  # a false positive: F1 is 0
    assert math.isnan(binary_scores([0, 0], [-1.0, -2.0])["f1"])  # no positives, none predicted


# --- multiclass ------------------------------------------------------------------------------------


def test_multiclass_scores_match_scikit_learn():
    y = np.array([0, 1, 2, 2, 1])
    proba = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    scores = multiclass_scores(y, proba, True, 3)
    assert scores["accuracy"] == pytest.approx(3 / 5)
    assert scores["log_loss"] == pytest.approx(log_loss(y, proba))
    assert scores["log_loss"] == pytest.approx(-np.mean(np.log(proba[np.arange(5), y])))
    assert scores["macro_f1"] == pytest.approx(f1_score(y, proba.argmax(1), average="macro"))


def test_multiclass_scores_without_probabilities_and_with_classes_absent():
    y = np.array([0, 1, 1])
    scores = multiclass_scores(y, [[2.0, -1.0, 0.0, 0.0], [0.0, 3.0, 1.0, 0.0], [0.0, 1.0, 2.0, 0.0]], False, 4)
    assert math.isnan(scores["log_loss"])
    # class 0: F1 1; class 1: TP 1, FN 1, F1 2/3; class 2: predicted once, never present, F1 0;
    # class 3 neither present nor predicted, so left out of the mean
    assert scores["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    certain = multiclass_scores([0, 3], np.eye(4)[[0, 0]], True, 4)  # a certain wrong answer
    assert certain["log_loss"] == pytest.approx(-math.log(1e-7) / 2, rel=1e-5)


# --- many runs at once, against scikit-learn ----------------------------------------------------------
#
# batch_scores computes every score with NumPy for a whole batch of runs; scikit-learn, called on
# each run alone, is the oracle. The runs are drawn to hit the edges: tied outputs, a class absent
# from the split (or from both the split and the predictions), perfect and inverted predictions,
# outputs clipped at 0 and 1, constant targets, and diverged runs (NaN or infinite outputs).


def sklearn_regression(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    if not np.all(np.isfinite(pred)):
        return dict.fromkeys(SCORES["regression"], math.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R² of one row: scikit-learn warns and says NaN
        r2 = r2_score(y, pred)
    return {"mse": mean_squared_error(y, pred), "rmse": root_mean_squared_error(y, pred),
            "mae": mean_absolute_error(y, pred), "r2": r2,
            "poisson_deviance": mean_poisson_deviance(y, pred) if y.min() >= 0 and pred.min() > 0 else math.nan}


def sklearn_binary(y: np.ndarray, out: np.ndarray, activation: str) -> dict[str, float]:
    if not np.all(np.isfinite(out)):
        return dict.fromkeys(SCORES["binary"], math.nan)
    is_proba = activation in ("sigmoid", "softmax")
    ranking = out[:, 1] if activation == "softmax" else out[:, 0]
    predicted = (ranking > (0.5 if is_proba else 0)).astype(int)
    return {
        "accuracy": accuracy_score(y, predicted),
        "log_loss": log_loss(y, np.clip(ranking, 1e-7, 1 - 1e-7), labels=[0, 1]) if is_proba else math.nan,
        "roc_auc": roc_auc_score(y, ranking) if len(np.unique(y)) == 2 else math.nan,
        "f1": f1_score(y, predicted, zero_division=np.nan),
    }


def sklearn_multiclass(y: np.ndarray, out: np.ndarray, activation: str, n_classes: int) -> dict[str, float]:
    if not np.all(np.isfinite(out)):
        return dict.fromkeys(SCORES["multiclass"], math.nan)
    predicted, clipped = out.argmax(axis=1), np.clip(out, 1e-7, 1 - 1e-7)
    return {
        "accuracy": accuracy_score(y, predicted),
        "log_loss": log_loss(y, clipped / clipped.sum(axis=1, keepdims=True), labels=range(n_classes))
        if activation == "softmax" else math.nan,
        "macro_f1": f1_score(y, predicted, labels=range(n_classes), average="macro", zero_division=np.nan),
    }


def assert_matches(batch: dict[str, np.ndarray], expected: list[dict[str, float]], kind: str) -> None:
    """``batch`` (a value per run) equals scikit-learn's value for each run alone, NaN for NaN."""
    assert tuple(batch) == SCORES[kind]
    for name, values in batch.items():
        assert values.shape == (len(expected),) and values.dtype == np.float64
        want = np.array([scores[name] for scores in expected])
        np.testing.assert_allclose(values, want, rtol=1e-12, atol=1e-12, equal_nan=True, err_msg=name)


def tied(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``values``, half the time rounded to one decimal so that many tie."""
    return np.round(values, 1) if rng.random() < 0.5 else values


def diverge(outputs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``outputs`` with a NaN or an infinity in a few random runs (any row, any unit)."""
    outputs = outputs.copy()
    for run in rng.choice(len(outputs), size=max(1, len(outputs) // 8), replace=False):
        row, unit = rng.integers(outputs.shape[1]), rng.integers(outputs.shape[2])
        outputs[run, row, unit] = rng.choice([np.nan, np.inf, -np.inf])
    return outputs


def binary_outputs(y: np.ndarray, activation: str, runs: int, rng: np.random.Generator) -> np.ndarray:
    """Random runs' outputs for labels ``y`` (runs, rows): some perfect, some inverted, some clipped."""
    rows = y.shape[-1]
    y = np.broadcast_to(y, (runs, rows))
    if activation == "tanh":
        first = tied(rng.uniform(-1, 1, (runs, rows)), rng)
        first[0], first[1] = np.where(y[0] == 1, 0.7, -0.7), np.where(y[1] == 1, -0.7, 0.7)  # perfect, inverted
    else:
        first = tied(rng.uniform(0, 1, (runs, rows)), rng)
        first[0], first[1] = y[0], 1 - y[1]  # certain and right, certain and wrong (clipped to 1e-7)
        first[2] = 0.5  # every row tied, and none predicted positive
    if activation == "softmax":
        return np.stack([1 - first, first], axis=2)
    return first[:, :, None]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("activation", ["sigmoid", "softmax", "tanh"])
def test_binary_batch_scores_match_scikit_learn(seed, activation):
    rng = np.random.default_rng(seed)
    rows, runs = int(rng.integers(2, 40)), 24
    y = (rng.random(rows) < rng.uniform(0.1, 0.9)).astype(int)
    if seed % 4 == 0:
        y[:] = seed % 8 // 4  # one class only: no AUC; with no positives, F1 is NaN unless one is predicted
    outputs = diverge(binary_outputs(y, activation, runs, rng), rng)
    scores = batch_scores("binary", y, outputs, activation)
    assert_matches(scores, [sklearn_binary(y, out, activation) for out in outputs], "binary")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("activation", ["softmax", "tanh"])
def test_multiclass_batch_scores_match_scikit_learn(seed, activation):
    rng = np.random.default_rng(seed)
    n_classes, rows, runs = int(rng.integers(3, 7)), int(rng.integers(1, 60)), 24
    present = rng.choice(n_classes, size=int(rng.integers(1, n_classes + 1)), replace=False)  # classes absent too
    y = rng.choice(present, size=rows)
    if activation == "softmax":
        outputs = tied(rng.dirichlet(np.full(n_classes, 0.5), size=(runs, rows)), rng)
    else:
        outputs = tied(rng.uniform(-1, 1, (runs, rows, n_classes)), rng)
    outputs[0] = np.eye(n_classes)[y]  # perfect
    outputs[1] = np.eye(n_classes)[(y + 1) % n_classes]  # always wrong, certain of it
    outputs[2] = 1 / n_classes  # every class tied: argmax says class 0
    outputs[3] = np.eye(n_classes)[np.zeros(rows, dtype=int)]  # a constant: most classes neither present nor predicted
    outputs = diverge(outputs, rng)
    scores = batch_scores("multiclass", y, outputs, activation, n_classes)
    assert_matches(scores, [sklearn_multiclass(y, out, activation, n_classes) for out in outputs], "multiclass")


@pytest.mark.parametrize("seed", range(16))
def test_regression_batch_scores_match_scikit_learn_in_the_target_s_units(seed):
    rng = np.random.default_rng(seed)
    rows, runs = 1 if seed == 3 else int(rng.integers(2, 50)), 24  # one row: R² is NaN
    scale, offset = rng.uniform(0.5, 3), rng.choice([0.0, rng.uniform(-2, 5)])
    units = lambda values: values * scale + offset  # noqa: E731
    if seed % 4 == 0:
        y = np.full(rows, 1.5)  # a constant target: R² is 1 when exact, else 0 (not -inf)
    elif seed % 4 == 1:
        y = (rng.poisson(2.0, rows) - offset) / scale  # counts in their own units: the Poisson deviance applies
    else:
        y = rng.normal(size=rows)
    outputs = y + tied(rng.normal(scale=rng.uniform(0.1, 2), size=(runs, rows)), rng)
    outputs[0] = y  # exact
    outputs[1] = (np.abs(units(y)) + 0.5 - offset) / scale  # positive predictions in the target's units
    outputs[2] = (-offset - 1) / scale  # negative predictions: no Poisson deviance
    outputs = diverge(outputs[:, :, None], rng)
    scores = batch_scores("regression", y, outputs, "linear", scale=scale, offset=offset)
    assert_matches(scores, [sklearn_regression(units(y), units(out[:, 0])) for out in outputs], "regression")


@pytest.mark.parametrize(("kind", "activation", "n_classes"),
                         [("binary", "sigmoid", 2), ("binary", "tanh", 2), ("multiclass", "softmax", 4),
                          ("regression", "exponential", None)])
def test_each_run_may_have_its_own_rows(kind, activation, n_classes):
    rng = np.random.default_rng(1)
    runs, rows = 30, 25
    if kind == "regression":
        y, outputs = rng.poisson(3.0, (runs, rows)), rng.uniform(0.5, 5, (runs, rows, 1))
    else:
        y = rng.integers(0, n_classes, (runs, rows))
        y[0] = 0  # one run's rows hold one class only
        if kind == "binary" and activation == "sigmoid":
            outputs = rng.uniform(0, 1, (runs, rows, 1))
        elif kind == "binary":
            outputs = rng.uniform(-1, 1, (runs, rows, 1))
        else:
            outputs = rng.dirichlet(np.ones(n_classes), size=(runs, rows))
    outputs = diverge(np.round(outputs, 1), rng)
    scores = batch_scores(kind, y, outputs, activation, n_classes)
    oracle = {"regression": lambda t, o: sklearn_regression(t, o[:, 0]),
              "binary": lambda t, o: sklearn_binary(t, o, activation),
              "multiclass": lambda t, o: sklearn_multiclass(t, o, activation, n_classes)}[kind]
    assert_matches(scores, [oracle(t, o) for t, o in zip(y, outputs)], kind)


def test_a_diverged_run_scores_nan_even_in_a_unit_no_score_reads():
    y = np.array([0, 1, 1, 0])
    outputs = np.tile(np.array([[0.8, 0.2], [0.3, 0.7], [0.1, 0.9], [0.6, 0.4]]), (3, 1, 1))
    outputs[1, 2, 0] = np.nan  # the scores read unit 1 only
    scores = batch_scores("binary", y, outputs, "softmax")
    assert all(np.isnan(values[1]) and np.isfinite(values[[0, 2]]).all() for values in scores.values())
    assert scores["roc_auc"][0] == 1.0 and scores["accuracy"][0] == 1.0


def test_the_single_run_functions_are_a_batch_of_one():
    rng = np.random.default_rng(2)
    y, proba = rng.integers(0, 3, 40), rng.dirichlet(np.ones(3), size=40)
    assert multiclass_scores(y, proba, True, 3) == {
        name: float(values[0]) for name, values in batch_scores("multiclass", y, proba[None], "softmax", 3).items()}
    score = rng.normal(size=40)
    np.testing.assert_equal(binary_scores(y % 2, score), {  # NaN == NaN: a margin has no log-loss
        name: float(values[0]) for name, values in batch_scores("binary", y % 2, score[None, :, None], "tanh").items()})


def test_malformed_batches_are_user_errors():
    with pytest.raises(DataError, match=r"shape \(runs, rows, units\)"):
        batch_scores("binary", [0, 1], [[0.2, 0.7]], "sigmoid")
    with pytest.raises(DataError, match=r"shape \(2,\) or \(1, 2\)"):
        batch_scores("binary", [0, 1, 1], [[[0.2], [0.7]]], "sigmoid")
    with pytest.raises(DataError, match="has 2 output units"):
        batch_scores("binary", [0, 1], [[[0.2], [0.7]]], "softmax")
    with pytest.raises(DataError, match="one output unit per class"):
        batch_scores("multiclass", [0, 1], np.ones((1, 2, 3)), "softmax", 4)
    with pytest.raises(DataError, match="class indices 0..2"):
        batch_scores("multiclass", [0, 3], np.ones((1, 2, 3)), "softmax", 3)
    with pytest.raises(DataError, match="NaN or infinite"):
        batch_scores("regression", [0.0, np.nan], np.ones((1, 2, 1)), "linear")
    with pytest.raises(LosslabError, match="kind must be one of"):
        batch_scores("ranking", [0.0, 1.0], np.ones((1, 2, 1)), "linear")


# --- baselines -------------------------------------------------------------------------------------


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    X = RNG.normal(size=(500, 3))
    return X, 2.0 + X @ np.array([1.0, -0.5, 0.0]) + RNG.normal(scale=0.1, size=500)


def test_the_mean_baseline_predicts_the_training_mean():
    X, y = regression_data()
    rows = fit_baselines("regression", X, y, TRAIN, SPLITS)
    assert [(r["baseline"], r["split"]) for r in rows] == [
        ("mean", "validation"), ("mean", "test"), ("linear", "validation"), ("linear", "test")]
    test = y[SPLITS["test"]]
    assert rows_of(rows, "mean")["mse"] == pytest.approx(np.mean((test - y[TRAIN].mean()) ** 2))
    assert rows_of(rows, "linear")["r2"] > 0.99  # the target is linear with little noise
    assert rows_of(rows, "linear")["rmse"] == pytest.approx(0.1, rel=0.3)


def test_poisson_glm_beats_the_mean_on_poisson_counts():
    X = RNG.normal(size=(500, 2))
    y = RNG.poisson(np.exp(0.5 + 0.7 * X[:, 0]))
    rows = fit_baselines("regression", X, y, TRAIN, SPLITS, counts=True)
    glm, mean = rows_of(rows, "poisson_glm"), rows_of(rows, "mean")
    assert glm["poisson_deviance"] < 0.8 * mean["poisson_deviance"]
    expected = mean_poisson_deviance(y[SPLITS["test"]], np.full(100, y[TRAIN].mean()))
    assert mean["poisson_deviance"] == pytest.approx(expected)
    assert "poisson_glm" not in {r["baseline"] for r in fit_baselines("regression", X, y, TRAIN, SPLITS)}


def test_poisson_glm_refuses_a_standardised_target():
    X = RNG.normal(size=(20, 1))
    with pytest.raises(DataError, match="non-negative counts"):
        fit_baselines("regression", X, RNG.normal(size=20), np.arange(10), {"test": np.arange(10, 20)}, counts=True)


def test_the_majority_baseline_scores_the_training_majority_s_test_share():
    X = RNG.normal(size=(500, 2))
    y = (RNG.random(500) < 0.3).astype(int)  # class 0 is the majority
    rows = fit_baselines("binary", X, y, TRAIN, SPLITS)
    majority = rows_of(rows, "majority")
    assert majority["accuracy"] == pytest.approx(np.mean(y[SPLITS["test"]] == 0))
    prior = y[TRAIN].mean()  # its probability of class 1 is the training share, so its log-loss is finite
    assert majority["log_loss"] == pytest.approx(log_loss(y[SPLITS["test"]], np.full(100, prior)))
    assert majority["roc_auc"] == 0.5 and majority["f1"] == 0.0


def test_logistic_regression_separates_separable_data():
    X = RNG.normal(size=(500, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    logistic = rows_of(fit_baselines("binary", X, y, TRAIN, SPLITS), "logistic")
    assert logistic["accuracy"] >= 0.97 and logistic["roc_auc"] > 0.99


def test_multiclass_baselines_cover_every_class_even_one_unseen_in_training():
    X = RNG.normal(size=(500, 2))
    y = np.digitize(X[:, 0], [-0.5, 0.5])
    y[SPLITS["test"][:3]] = 3  # a fourth class, met only at test time
    rows = fit_baselines("multiclass", X, y, TRAIN, SPLITS, n_classes=4)
    majority, logistic = rows_of(rows, "majority"), rows_of(rows, "logistic")
    counts = np.bincount(y[TRAIN], minlength=4)
    assert majority["accuracy"] == pytest.approx(np.mean(y[SPLITS["test"]] == counts.argmax()))
    assert math.isfinite(majority["log_loss"]) and math.isfinite(logistic["log_loss"])  # clipped, not infinite
    assert logistic["accuracy"] > 0.9 and logistic["macro_f1"] > majority["macro_f1"]


def test_a_classifier_needs_two_classes_to_fit():
    with pytest.raises(DataError, match="one class only"):
        fit_baselines("binary", np.ones((4, 1)), np.array([0, 0, 1, 1]), [0, 1], {"test": [2, 3]})


@pytest.mark.parametrize("kind", ["regression", "binary"])
def test_baselines_are_deterministic(kind):
    X = RNG.normal(size=(500, 3))
    y = RNG.poisson(2.0, size=500) if kind == "regression" else (X[:, 0] > 0).astype(int)
    first = fit_baselines(kind, X, y, TRAIN, SPLITS, counts=kind == "regression")
    np.testing.assert_equal(fit_baselines(kind, X, y, TRAIN, SPLITS, counts=kind == "regression"), first)  # NaN == NaN


class _Rows:
    """Features read by row index only, as a table on disk is: no array of the whole."""

    def __init__(self, X: np.ndarray) -> None:
        self.X, self.asked = X, []

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, rows):
        self.asked.append(len(self.X[rows]))
        return self.X[rows]


def test_baselines_read_features_by_rows_in_blocks(monkeypatch) -> None:
    """Fitted on the training rows taken once, each split predicted a block of rows at a time:
    the same scores as from the array."""
    import losslab.scores as scores

    X = RNG.normal(size=(500, 3))
    y = (X[:, 0] + RNG.normal(size=500) > 0).astype(int)
    splits = {"validation": np.arange(300, 400), "test": np.arange(400, 500)}
    whole = fit_baselines("binary", X, y, np.arange(300), splits)
    monkeypatch.setattr(scores, "PREDICT_ROWS", 30)
    rows = _Rows(X)
    assert fit_baselines("binary", rows, y, np.arange(300), splits) == whole
    assert max(rows.asked) == 300 and rows.asked.count(30) == 2 * 2 * 3  # 2 baselines x 2 splits x 3 whole blocks
