"""The tutorial's Listings 4.1-4.3 against scikit-learn and against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import log_loss, mean_squared_error

from losslab import reference

# Probabilities kept away from 0 and 1: the listings add 1e-15 inside the log, which shifts
# log(p) by ~1e-15 / p; with p >= 0.05 that is far below the 1e-12 we ask for.
ACTUAL_BIN = [1, 0, 1, 1, 0, 0, 1, 0]
PREDICTED_BIN = [0.9, 0.1, 0.6, 0.75, 0.4, 0.05, 0.55, 0.3]
ACTUAL_CAT = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]]
PREDICTED_CAT = [[0.7, 0.2, 0.1], [0.25, 0.5, 0.25], [0.1, 0.3, 0.6], [0.6, 0.3, 0.1]]


def test_mean_squared_error_agrees_with_sklearn():
    actual = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    predicted = [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]
    assert reference.mean_squared_error(actual, predicted) == pytest.approx(mean_squared_error(actual, predicted),
                                                                            rel=1e-12)


def test_mean_squared_error_by_hand():
    # ((1 - 3)^2 + (2 - 2)^2 + (4 - 3)^2) / 3 = 5 / 3
    assert reference.mean_squared_error([1.0, 2.0, 4.0], [3.0, 2.0, 3.0]) == pytest.approx(5.0 / 3.0, rel=1e-15)


def test_binary_cross_entropy_agrees_with_sklearn_log_loss():
    assert reference.binary_cross_entropy(ACTUAL_BIN, PREDICTED_BIN) == pytest.approx(
        log_loss(ACTUAL_BIN, PREDICTED_BIN), rel=1e-12)


def test_binary_cross_entropy_by_hand():
    # -(log 0.8 + log(1 - 0.25)) / 2
    expected = -(math.log(0.8) + math.log(0.75)) / 2
    assert reference.binary_cross_entropy([1, 0], [0.8, 0.25]) == pytest.approx(expected, rel=1e-12)


def test_binary_cross_entropy_counts_class_zero_examples():
    # A listing that keeps only the a*log(p) term would give 0 here: every label is 0.
    got = reference.binary_cross_entropy([0, 0, 0], [0.2, 0.5, 0.9])
    expected = -(math.log(0.8) + math.log(0.5) + math.log(0.1)) / 3
    assert got > 0.5
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(log_loss([0, 0, 0], [0.2, 0.5, 0.9], labels=[0, 1]), rel=1e-12)


def test_categorical_cross_entropy_agrees_with_sklearn_log_loss_on_one_hot():
    labels = np.argmax(ACTUAL_CAT, axis=1)
    assert reference.categorical_cross_entropy(ACTUAL_CAT, PREDICTED_CAT) == pytest.approx(
        log_loss(labels, PREDICTED_CAT, labels=[0, 1, 2]), rel=1e-12)


def test_categorical_cross_entropy_by_hand():
    # rows: -log 0.7 and -log 0.5, then the mean over rows
    expected = (-math.log(0.7) - math.log(0.5)) / 2
    got = reference.categorical_cross_entropy([[1, 0, 0], [0, 1, 0]], [[0.7, 0.2, 0.1], [0.25, 0.5, 0.25]])
    assert got == pytest.approx(expected, rel=1e-12)


def test_categorical_cross_entropy_is_the_mean_over_rows_not_the_sum():
    one_row = reference.categorical_cross_entropy([[0, 1, 0]], [[0.25, 0.5, 0.25]])
    assert reference.categorical_cross_entropy([[0, 1, 0]] * 4, [[0.25, 0.5, 0.25]] * 4) == pytest.approx(one_row)


def test_the_tutorial_epsilon_keeps_log_of_zero_finite():
    assert reference.TUTORIAL_EPSILON == 1e-15
    assert reference.binary_cross_entropy([1], [0.0]) == pytest.approx(-math.log(1e-15))
    assert reference.categorical_cross_entropy([[1, 0]], [[0.0, 1.0]]) == pytest.approx(-math.log(1e-15))


def test_lists_of_different_lengths_are_refused():
    with pytest.raises(ValueError):
        reference.mean_squared_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        reference.binary_cross_entropy([1, 0], [0.5])
