"""losslab on scikit-learn's bundled real data sets, with each data set's default settings."""

from __future__ import annotations

import numpy as np

import losslab


def test_breast_cancer_with_binary_crossentropy_reaches_93_percent() -> None:
    study = losslab.train(losslab.get_problem("breast_cancer"), ["binary_crossentropy"], seeds=[0, 1])
    assert study.runs["test_metric"].mean() >= 0.93


def test_diabetes_with_mse_beats_predicting_the_training_mean() -> None:
    problem = losslab.get_problem("diabetes")
    study = losslab.train(problem, ["mean_squared_error"], seeds=[0, 1])
    baseline = np.mean((problem.y_test - problem.y_train.mean()) ** 2)
    assert study.runs["test_metric"].max() < baseline
    np.testing.assert_allclose(study.runs["test_metric_target_units"], study.runs["test_metric"] * problem.target_scale**2)


def test_iris_with_categorical_crossentropy_reaches_85_percent() -> None:
    study = losslab.train(losslab.get_problem("iris"), ["categorical_crossentropy"], seeds=[0, 1])
    assert study.runs["test_metric"].mean() >= 0.85
