"""Real data (issue 6): scikit-learn's bundled data sets with each one's default settings learn
something real: they beat chance or the trivial predictor by a clear margin."""

from __future__ import annotations

import numpy as np

import losslab
from losslab.planning import default_settings
from losslab.problems import get_problem

SEEDS = (0, 1, 2)


def _train(name: str, loss: str) -> tuple[losslab.Problem, losslab.Study]:
    problem = get_problem(name)
    study = losslab.train(problem, [loss], seeds=SEEDS)  # no settings: the data set's defaults
    assert study.settings == default_settings(problem).updated(shuffle="rows")  # the shuffle decided by the plan
    assert not study.runs["diverged"].any()
    return problem, study


def test_breast_cancer_with_binary_crossentropy_reaches_93_percent_test_accuracy() -> None:
    problem, study = _train("breast_cancer", "binary_crossentropy")
    assert (problem.kind, problem.n_classes) == ("binary", 2)
    majority = max(np.mean(problem.y_test == 0), np.mean(problem.y_test == 1))
    assert majority < 0.7  # 0.93 is far above always answering the larger class
    assert study.runs["test_metric"].mean() >= 0.93


def test_diabetes_with_mse_beats_predicting_the_training_mean() -> None:
    problem, study = _train("diabetes", "mean_squared_error")
    assert problem.kind == "regression" and problem.target_scale is not None
    # the target is standardised on the training rows, so these are both in standardised units
    assert abs(problem.y_train.mean()) < 1e-9 and abs(problem.y_train.std() - 1) < 0.01
    baseline = np.mean((problem.y_test - problem.y_train.mean()) ** 2)
    test_mse = study.runs["test_metric"].to_numpy()
    assert test_mse.mean() < 0.9 * baseline, (test_mse, baseline)
    assert (test_mse < baseline).all(), (test_mse, baseline)
    np.testing.assert_allclose(study.runs["test_metric_target_units"], test_mse * problem.target_scale**2, rtol=1e-12)


def test_iris_with_categorical_crossentropy_reaches_85_percent_test_accuracy() -> None:
    problem, study = _train("iris", "categorical_crossentropy")
    assert (problem.kind, problem.n_classes) == ("multiclass", 3)
    assert study.runs["test_metric"].mean() >= 0.85
