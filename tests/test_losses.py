"""Every loss against an independent NumPy formula (Keras 3 semantics), scikit-learn, and its gradient.

The NumPy formulas below are written from Keras 3's ``keras/src/losses/losses.py`` and
``keras/src/backend/jax/nn.py`` (epsilon 1e-7, clipping, the x100 of MAPE, the {0,1} -> {-1,1}
conversion of the hinge losses), not from losslab's code. Value tests run in float32, as training
does; gradient and property tests run in float64 so that finite differences and tiny margins mean
something.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from jax.test_util import check_grads
from sklearn import metrics as skm

from losslab import losses as L

EPS = 1e-7
PROPERTY = settings(max_examples=50, deadline=None)


@pytest.fixture
def x64():
    with jax.enable_x64(True):
        yield


# --- independent NumPy formulas (float64), one per loss -----------------------------------------


def np_mse(t, p):
    return np.mean((t - p) ** 2, axis=-1)


def np_mae(t, p):
    return np.mean(np.abs(t - p), axis=-1)


def np_mape(t, p):
    return 100.0 * np.mean(np.abs(t - p) / np.maximum(np.abs(t), EPS), axis=-1)


def np_msle(t, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1.0) - np.log(np.maximum(t, EPS) + 1.0)) ** 2, axis=-1)


def np_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.mean(np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2), axis=-1)


def np_log_cosh(t, p):
    return np.mean(np.log(np.cosh(p - t)), axis=-1)


def np_poisson(t, p):
    return np.mean(p - t * np.log(p + EPS), axis=-1)


def np_bce(t, p):
    q = np.clip(p, EPS, 1 - EPS)
    return -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q), axis=-1)


def _keras_hinge_labels(t):
    return 2.0 * t - 1.0 if np.all((t == 0) | (t == 1)) else t


def np_hinge(t, p):
    return np.mean(np.maximum(1.0 - _keras_hinge_labels(t) * p, 0.0), axis=-1)


def np_squared_hinge(t, p):
    return np.mean(np.maximum(1.0 - _keras_hinge_labels(t) * p, 0.0) ** 2, axis=-1)


def np_cce(t, p):
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(q), axis=-1)


def np_sparse_cce(labels, p):
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return -np.log(q[np.arange(len(labels)), labels])


def np_kl(t, p):
    a, b = np.clip(t, EPS, 1), np.clip(p, EPS, 1)
    return np.sum(a * np.log(a / b), axis=-1)


def np_categorical_hinge(t, p):
    pos = np.sum(t * p, axis=-1)
    neg = np.max((1 - t) * p, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


# --- small fixed arrays ------------------------------------------------------------------------

Y_REG = np.array([[1.0, 2.0, 3.5], [0.5, 4.0, 2.0], [3.0, 0.25, 1.5]])
P_REG = np.array([[1.5, 1.0, 3.0], [0.2, 6.5, 2.0], [2.0, 0.75, -0.5]])  # |errors| both sides of 1
Y_COUNT = np.array([[0.0, 2.0], [1.0, 5.0], [3.0, 0.0]])
P_RATE = np.array([[0.5, 1.5], [2.0, 4.0], [0.1, 0.3]])
Y_BIN = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])
P_BIN = np.array([[0.1], [0.8], [0.35], [0.6], [0.999]])
Y_PM = np.array([[-1.0], [1.0], [1.0], [-1.0], [1.0]])
P_TANH = np.array([[-0.7], [0.2], [-0.4], [0.9], [1.3]])
LABELS = np.array([1, 2, 0, 1])
Y_ONEHOT = np.eye(3)[LABELS]
P_PROB = np.array([[0.2, 0.7, 0.1], [0.25, 0.25, 0.5], [0.6, 0.3, 0.1], [0.05, 0.15, 0.8]])

CASES = {  # name: (loss, y_true, y_pred, independent formula)
    "mean_squared_error": (L.mean_squared_error, Y_REG, P_REG, np_mse),
    "mean_absolute_error": (L.mean_absolute_error, Y_REG, P_REG, np_mae),
    "mean_absolute_percentage_error": (L.mean_absolute_percentage_error, Y_REG, P_REG, np_mape),
    "mean_squared_logarithmic_error": (L.mean_squared_logarithmic_error, Y_REG, P_REG, np_msle),
    "huber": (L.huber, Y_REG, P_REG, np_huber),
    "log_cosh": (L.log_cosh, Y_REG, P_REG, np_log_cosh),
    "poisson": (L.poisson, Y_COUNT, P_RATE, np_poisson),
    "binary_crossentropy": (L.binary_crossentropy, Y_BIN, P_BIN, np_bce),
    "hinge": (L.hinge, Y_PM, P_TANH, np_hinge),
    "squared_hinge": (L.squared_hinge, Y_PM, P_TANH, np_squared_hinge),
    "categorical_crossentropy": (L.categorical_crossentropy, Y_ONEHOT, P_PROB, np_cce),
    "sparse_categorical_crossentropy": (L.sparse_categorical_crossentropy, LABELS, P_PROB, np_sparse_cce),
    "kl_divergence": (L.kl_divergence, Y_ONEHOT, P_PROB, np_kl),
    "categorical_hinge": (L.categorical_hinge, Y_ONEHOT, P_PROB, np_categorical_hinge),
}


def _f32(a):
    return jnp.asarray(a, jnp.int32 if np.asarray(a).dtype.kind == "i" else jnp.float32)


@pytest.mark.parametrize("name", CASES)
def test_loss_matches_numpy_formula(name):
    fn, y, p, reference = CASES[name]
    expected = reference(y, p)
    eager = fn(_f32(y), _f32(p))
    assert eager.shape == (len(y),)
    np.testing.assert_allclose(np.asarray(eager), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", CASES)
def test_loss_under_jit_matches_eager(name):
    fn, y, p, reference = CASES[name]
    jitted = jax.jit(fn)(_f32(y), _f32(p))
    np.testing.assert_allclose(np.asarray(jitted), reference(y, p), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(fn(_f32(y), _f32(p))), rtol=1e-6)


def test_the_fixed_arrays_exercise_both_huber_branches():
    errors = np.abs(P_REG - Y_REG)
    assert np.any(errors < 1.0) and np.any(errors > 1.0)


# --- hand-computed values (some are the examples in Keras's own docstrings) ----------------------


@pytest.mark.parametrize(
    ("fn", "y", "p", "expected"),
    [
        (L.mean_squared_error, [[1.0, 2.0, 3.5]], [[1.5, 1.0, 3.0]], [0.5]),  # (0.25 + 1 + 0.25) / 3
        (L.mean_absolute_error, [[1.0, 2.0, 3.5]], [[1.5, 1.0, 3.0]], [2.0 / 3.0]),
        (L.mean_absolute_percentage_error, [[2.0, -4.0]], [[3.0, -3.0]], [37.5]),  # 100 * (1/2 + 1/4) / 2
        (L.mean_squared_logarithmic_error, [[np.e - 1.0]], [[0.0]], [1.0]),  # (log(1 + 1e-7) - 1)^2 ~ 1
        (L.huber, [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]], [0.18, 0.13]),  # Keras doc: mean 0.155
        (L.huber, [[0.0]], [[3.0]], [2.5]),  # linear branch: 1 * 3 - 0.5
        (L.log_cosh, [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]], [0.5 * np.log(np.cosh(1.0)), 0.0]),
        (L.poisson, [[2.0]], [[1.0]], [1.0 - 2.0 * np.log(1.0 + 1e-7)]),
        (L.binary_crossentropy, [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]],
         [-(np.log(0.4) + np.log(0.4)) / 2, -(np.log(0.6) + np.log(0.4)) / 2]),  # Keras doc: 0.916, 0.714
        (L.hinge, [[-1.0, 1.0]], [[0.5, 0.25]], [(1.5 + 0.75) / 2]),
        (L.squared_hinge, [[-1.0, 1.0]], [[0.5, 0.25]], [(1.5**2 + 0.75**2) / 2]),
        (L.categorical_crossentropy, [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
         [-np.log(0.95), -np.log(0.1)]),  # Keras doc: 0.0513, 2.303
        (L.sparse_categorical_crossentropy, [1, 2], [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]],
         [-np.log(0.95), -np.log(0.1)]),
        (L.kl_divergence, [[0.5, 0.5]], [[0.25, 0.75]], [0.5 * np.log(2.0) + 0.5 * np.log(2.0 / 3.0)]),
        (L.categorical_hinge, [[0.0, 1.0, 0.0]], [[0.5, 0.3, 0.2]], [1.2]),  # 0.5 - 0.3 + 1
    ],
)
def test_hand_computed_values(fn, y, p, expected):
    got = fn(_f32(np.asarray(y)), jnp.asarray(p, jnp.float32))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)


def test_keras_docstring_examples_to_their_printed_precision():
    huber = L.huber(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
    assert float(jnp.mean(huber)) == pytest.approx(0.155, abs=5e-4)
    log_cosh = L.log_cosh(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[1.0, 1.0], [0.0, 0.0]]))
    assert float(jnp.mean(log_cosh)) == pytest.approx(0.108, abs=5e-4)
    bce = L.binary_crossentropy(jnp.array([[0.0, 1.0], [0.0, 0.0]]), jnp.array([[0.6, 0.4], [0.4, 0.6]]))
    np.testing.assert_allclose(np.asarray(bce), [0.916, 0.714], atol=5e-4)
    cce = L.categorical_crossentropy(jnp.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
                                     jnp.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]))
    np.testing.assert_allclose(np.asarray(cce), [0.0513, 2.303], atol=5e-4)


# --- scikit-learn, where it computes the same thing ------------------------------------------------

Y_COL = np.array([3.0, 0.5, 2.0, 7.0, 1.25, 4.0])
P_COL = np.array([2.5, 0.75, 2.0, 8.5, 1.0, 3.0])


def _batch_mean(fn, y, p):
    return float(jnp.mean(fn(jnp.asarray(y, jnp.float32)[:, None], jnp.asarray(p, jnp.float32)[:, None])))


def test_mse_mae_agree_with_sklearn():
    assert _batch_mean(L.mean_squared_error, Y_COL, P_COL) == pytest.approx(skm.mean_squared_error(Y_COL, P_COL),
                                                                             rel=1e-5)
    assert _batch_mean(L.mean_absolute_error, Y_COL, P_COL) == pytest.approx(skm.mean_absolute_error(Y_COL, P_COL),
                                                                              rel=1e-5)


def test_mape_is_100_times_sklearn():
    ours = _batch_mean(L.mean_absolute_percentage_error, Y_COL, P_COL)
    assert ours == pytest.approx(100.0 * skm.mean_absolute_percentage_error(Y_COL, P_COL), rel=1e-5)
    assert ours > 1.0  # a percentage, not a fraction


def test_msle_agrees_with_sklearn_on_non_negative_values():
    y = np.array([3.0, 0.5, 2.0, 7.0, 1.25, 40.0])
    p = np.array([2.5, 0.75, 2.0, 8.5, 1.0, 30.0])
    assert _batch_mean(L.mean_squared_logarithmic_error, y, p) == pytest.approx(
        skm.mean_squared_log_error(y, p), rel=1e-5)


def test_bce_agrees_with_sklearn_log_loss():
    y = Y_BIN[:, 0]
    p = np.array([0.1, 0.8, 0.35, 0.6, 0.97])
    assert _batch_mean(L.binary_crossentropy, y, p) == pytest.approx(skm.log_loss(y, p), rel=1e-5)


def test_cce_and_sparse_cce_agree_with_sklearn_log_loss():
    expected = skm.log_loss(LABELS, P_PROB, labels=[0, 1, 2])
    p = jnp.asarray(P_PROB, jnp.float32)
    cce = float(jnp.mean(L.categorical_crossentropy(jnp.asarray(Y_ONEHOT, jnp.float32), p)))
    sparse = float(jnp.mean(L.sparse_categorical_crossentropy(jnp.asarray(LABELS), p)))
    assert cce == pytest.approx(expected, rel=1e-5)
    assert sparse == pytest.approx(expected, rel=1e-5)


# --- zero at a perfect prediction ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "y", "p"),
    [
        (L.mean_squared_error, Y_REG, Y_REG),
        (L.mean_absolute_error, Y_REG, Y_REG),
        (L.mean_absolute_percentage_error, Y_REG, Y_REG),
        (L.mean_squared_logarithmic_error, Y_REG, Y_REG),
        (L.huber, Y_REG, Y_REG),
        (L.log_cosh, Y_REG, Y_REG),
        (L.hinge, Y_PM, 1.5 * Y_PM),  # |y_pred| >= 1 with the right sign
        (L.squared_hinge, Y_PM, Y_PM),
        (L.hinge, Y_BIN, 2.0 * Y_BIN - 1.0),  # {0, 1} labels are converted first
        (L.kl_divergence, P_PROB, P_PROB),
        (L.categorical_hinge, Y_ONEHOT, Y_ONEHOT),  # max(0 - 1 + 1, 0)
    ],
)
def test_zero_at_perfect_prediction(fn, y, p):
    np.testing.assert_allclose(np.asarray(fn(jnp.asarray(y, jnp.float32), jnp.asarray(p, jnp.float32))), 0.0, atol=1e-7)


def test_cross_entropies_at_perfect_prediction_are_only_the_clipping():
    # Keras clips p to 1 - 1e-7, so a perfect one-hot prediction costs -log(1 - 1e-7) ~ 1e-7, not 0.
    y = jnp.asarray(Y_ONEHOT, jnp.float32)
    for value in (L.categorical_crossentropy(y, y), L.binary_crossentropy(y, y)):
        assert np.all(np.asarray(value) > 0.0)
        np.testing.assert_allclose(np.asarray(value), 0.0, atol=1e-6)


# --- Keras's clipping and epsilons, where they bite -------------------------------------------------


def test_bce_clips_probabilities_to_epsilon(x64):
    got = L.binary_crossentropy(jnp.array([[1.0], [0.0]]), jnp.array([[0.0], [1.0]]))
    np.testing.assert_allclose(np.asarray(got), -np.log(EPS), rtol=1e-9)


def test_cce_renormalises_then_clips(x64):
    y = jnp.asarray(Y_ONEHOT)
    np.testing.assert_allclose(np.asarray(L.categorical_crossentropy(y, 5.0 * jnp.asarray(P_PROB))),
                               np_cce(Y_ONEHOT, P_PROB), rtol=1e-12)
    zero_on_true_class = jnp.array([[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(np.asarray(L.categorical_crossentropy(jnp.array([[1.0, 0.0, 0.0]]), zero_on_true_class)),
                               -np.log(EPS), rtol=1e-9)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy(jnp.array([0]), zero_on_true_class)),
                               -np.log(EPS), rtol=1e-9)


def test_kl_clips_both_arguments(x64):
    y = jnp.array([[1.0, 0.0]])
    p = jnp.array([[0.0, 1.0]])
    expected = 1.0 * np.log(1.0 / EPS) + EPS * np.log(EPS / 1.0)
    np.testing.assert_allclose(np.asarray(L.kl_divergence(y, p)), expected, rtol=1e-9)


def test_poisson_adds_epsilon_inside_the_log(x64):
    np.testing.assert_allclose(np.asarray(L.poisson(jnp.array([[3.0]]), jnp.array([[0.0]]))), -3.0 * np.log(EPS),
                               rtol=1e-9)


def test_mape_divides_by_epsilon_at_a_zero_target(x64):
    np.testing.assert_allclose(np.asarray(L.mean_absolute_percentage_error(jnp.array([[0.0]]), jnp.array([[0.5]]))),
                               100.0 * 0.5 / EPS, rtol=1e-9)


def test_msle_of_negative_values_equals_that_at_zero():
    y = jnp.array([[1.0, 2.0, 0.5]])
    at_zero = L.mean_squared_logarithmic_error(y, jnp.zeros((1, 3)))
    for negative in (-0.1, -3.0, -1e6):
        np.testing.assert_array_equal(np.asarray(L.mean_squared_logarithmic_error(y, jnp.full((1, 3), negative))),
                                      np.asarray(at_zero))
    # and for the target: a negative target counts as (nearly) zero
    np.testing.assert_array_equal(np.asarray(L.mean_squared_logarithmic_error(jnp.array([[-5.0]]), jnp.array([[2.0]]))),
                                  np.asarray(L.mean_squared_logarithmic_error(jnp.array([[0.0]]), jnp.array([[2.0]]))))


def test_from_logits_forms_are_stable_at_extreme_logits():
    z = jnp.array([[100.0], [-100.0]])
    y = jnp.array([[0.0], [1.0]])
    np.testing.assert_allclose(np.asarray(L.binary_crossentropy_from_logits(y, z)), [100.0, 100.0], rtol=1e-6)
    big = jnp.array([[200.0, 0.0, -200.0]])
    assert np.all(np.isfinite(np.asarray(L.categorical_crossentropy_from_logits(jnp.array([[0.0, 0.0, 1.0]]), big))))
    assert np.isfinite(float(L.poisson_from_log_rate(jnp.array([[2.0]]), jnp.array([[-200.0]]))[0]))


# --- the hinge label conversion (a known trap) ------------------------------------------------------


def test_hinge_converts_labels_when_all_are_zero_or_one():
    p = jnp.asarray(P_TANH, jnp.float32)
    for fn in (L.hinge, L.squared_hinge):
        np.testing.assert_allclose(np.asarray(fn(jnp.asarray(Y_BIN, jnp.float32), p)),
                                   np.asarray(fn(jnp.asarray(2 * Y_BIN - 1, jnp.float32), p)), rtol=1e-6)


def test_hinge_does_not_convert_a_mix_of_minus_one_zero_and_one():
    y = jnp.array([[-1.0], [0.0], [1.0]])
    p = jnp.array([[-1.0], [0.5], [1.0]])
    # unconverted: max(1 - (-1)(-1), 0) = 0; max(1 - 0, 0) = 1; max(1 - 1, 0) = 0
    np.testing.assert_allclose(np.asarray(L.hinge(y, p)), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(np.asarray(L.squared_hinge(y, p)), [0.0, 1.0, 0.0])
    # had 0 been mapped to -1, the middle sample would cost 1.5
    np.testing.assert_allclose(np.asarray(L.hinge(jnp.array([[-1.0], [-1.0], [1.0]]), p)), [0.0, 1.5, 0.0])


def test_hinge_conversion_is_decided_under_jit_too():
    p = jnp.array([[0.5], [0.5]])
    np.testing.assert_allclose(np.asarray(jax.jit(L.hinge)(jnp.array([[0.0], [1.0]]), p)), [1.5, 0.5])
    np.testing.assert_allclose(np.asarray(jax.jit(L.hinge)(jnp.array([[0.0], [2.0]]), p)), [1.0, 0.0])


# --- equivalences between losses ------------------------------------------------------------------


def test_cce_equals_sparse_cce_on_the_same_labels():
    p = jnp.asarray(P_PROB, jnp.float32)
    np.testing.assert_allclose(np.asarray(L.categorical_crossentropy(jnp.asarray(Y_ONEHOT, jnp.float32), p)),
                               np.asarray(L.sparse_categorical_crossentropy(jnp.asarray(LABELS), p)), rtol=1e-6)
    z = jnp.log(p) + 0.3
    one_hot = jnp.asarray(Y_ONEHOT, jnp.float32)
    np.testing.assert_allclose(np.asarray(L.categorical_crossentropy_from_logits(one_hot, z)),
                               np.asarray(L.sparse_categorical_crossentropy_from_logits(jnp.asarray(LABELS), z)),
                               rtol=1e-6)


def test_sparse_labels_may_have_a_trailing_unit_axis():
    p = jnp.asarray(P_PROB, jnp.float32)
    column = jnp.asarray(LABELS)[:, None]
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy(column, p)),
                               np_sparse_cce(LABELS, P_PROB), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy_from_logits(column, jnp.log(p))),
                               np_sparse_cce(LABELS, P_PROB), rtol=1e-5)


def test_kl_on_one_hot_targets_is_cce_up_to_clipping():
    y = jnp.asarray(Y_ONEHOT, jnp.float32)
    p = jnp.asarray(P_PROB, jnp.float32)
    np.testing.assert_allclose(np.asarray(L.kl_divergence(y, p)), np.asarray(L.categorical_crossentropy(y, p)),
                               atol=1e-5)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


logits_3 = hnp.arrays(np.float64, (4, 3), elements=st.floats(-6.0, 6.0))
logits_1 = hnp.arrays(np.float64, (5, 1), elements=st.floats(-8.0, 8.0))
labels_4 = hnp.arrays(np.int64, (4,), elements=st.integers(0, 2))
bits_5 = hnp.arrays(np.float64, (5, 1), elements=st.sampled_from([0.0, 1.0]))


@PROPERTY
@given(y=bits_5, z=logits_1)
def test_bce_from_logits_equals_bce_of_sigmoid(y, z):
    with jax.enable_x64(True):
        y, z = jnp.asarray(y), jnp.asarray(z)
        np.testing.assert_allclose(np.asarray(L.binary_crossentropy_from_logits(y, z)),
                                   np.asarray(L.binary_crossentropy(y, jax.nn.sigmoid(z))), rtol=1e-5, atol=1e-7)


@PROPERTY
@given(labels=labels_4, z=logits_3)
def test_cce_and_sparse_from_logits_equal_their_probability_forms(labels, z):
    with jax.enable_x64(True):
        y = jax.nn.one_hot(labels, 3, dtype=jnp.float64)
        z = jnp.asarray(z)
        p = jax.nn.softmax(z)
        np.testing.assert_allclose(np.asarray(L.categorical_crossentropy_from_logits(y, z)),
                                   np.asarray(L.categorical_crossentropy(y, p)), rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy_from_logits(jnp.asarray(labels), z)),
                                   np.asarray(L.sparse_categorical_crossentropy(jnp.asarray(labels), p)),
                                   rtol=1e-5, atol=1e-7)


@PROPERTY
@given(target_logits=logits_3, z=logits_3)
def test_kl_from_logits_equals_kl_of_softmax(target_logits, z):
    with jax.enable_x64(True):
        y = jnp.asarray(_softmax(target_logits / 4.0))  # every entry >= ~2e-3: no clipping
        z = jnp.asarray(z)
        np.testing.assert_allclose(np.asarray(L.kl_divergence_from_logits(y, z)),
                                   np.asarray(L.kl_divergence(y, jax.nn.softmax(z))), rtol=1e-5, atol=1e-9)


@PROPERTY
@given(labels=labels_4, z=logits_3)
def test_kl_from_logits_on_one_hot_equals_cce_from_logits(labels, z):
    with jax.enable_x64(True):
        y = jax.nn.one_hot(labels, 3, dtype=jnp.float64)
        z = jnp.asarray(z)
        np.testing.assert_allclose(np.asarray(L.kl_divergence_from_logits(y, z)),
                                   np.asarray(L.categorical_crossentropy_from_logits(y, z)), rtol=1e-12, atol=1e-12)


@PROPERTY
@given(y=hnp.arrays(np.float64, (4, 2), elements=st.integers(0, 10).map(float)),
       z=hnp.arrays(np.float64, (4, 2), elements=st.floats(-2.0, 3.0)))
def test_poisson_from_log_rate_equals_poisson_of_exp(y, z):
    with jax.enable_x64(True):
        y, z = jnp.asarray(y), jnp.asarray(z)
        np.testing.assert_allclose(np.asarray(L.poisson_from_log_rate(y, z)),
                                   np.asarray(L.poisson(y, jnp.exp(z))), rtol=1e-5, atol=1e-5)


# --- properties -------------------------------------------------------------------------------------

reals = hnp.arrays(np.float64, (3, 2), elements=st.floats(-10.0, 10.0))
probs_1 = hnp.arrays(np.float64, (5, 1), elements=st.floats(0.0, 1.0))
tanh_out = hnp.arrays(np.float64, (5, 1), elements=st.floats(-1.0, 1.0))
hinge_labels = st.sampled_from([(-1.0, 1.0), (0.0, 1.0), (-1.0, 0.0, 1.0)]).flatmap(
    lambda values: hnp.arrays(np.float64, (5, 1), elements=st.sampled_from(values)))
positive_rows = hnp.arrays(np.float64, (4, 3), elements=st.floats(0.0, 1.0)).map(lambda a: a + 1e-3)

REGRESSION = [L.mean_squared_error, L.mean_absolute_error, L.mean_absolute_percentage_error,
              L.mean_squared_logarithmic_error, L.huber, L.log_cosh]


@PROPERTY
@given(y=reals, p=reals)
def test_regression_losses_are_non_negative(y, p):
    with jax.enable_x64(True):
        for fn in REGRESSION:
            assert np.all(np.asarray(fn(jnp.asarray(y), jnp.asarray(p))) >= 0.0), fn.__name__


@PROPERTY
@given(y=bits_5, p=probs_1, z=logits_1)
def test_binary_cross_entropy_is_non_negative(y, p, z):
    with jax.enable_x64(True):
        y = jnp.asarray(y)
        assert np.all(np.asarray(L.binary_crossentropy(y, jnp.asarray(p))) >= 0.0)
        assert np.all(np.asarray(L.binary_crossentropy_from_logits(y, jnp.asarray(z))) >= 0.0)


@PROPERTY
@given(y=hinge_labels, p=tanh_out)
def test_hinge_losses_are_non_negative(y, p):
    with jax.enable_x64(True):
        y, p = jnp.asarray(y), jnp.asarray(p)
        assert np.all(np.asarray(L.hinge(y, p)) >= 0.0)
        assert np.all(np.asarray(L.squared_hinge(y, p)) >= 0.0)


@PROPERTY
@given(labels=labels_4, p=positive_rows, z=logits_3, target=logits_3)
def test_categorical_losses_are_non_negative(labels, p, z, target):
    with jax.enable_x64(True):
        y = jax.nn.one_hot(labels, 3, dtype=jnp.float64)
        p, z = jnp.asarray(p), jnp.asarray(z)
        soft = jnp.asarray(_softmax(target))
        q = p / jnp.sum(p, axis=-1, keepdims=True)
        for value in (L.categorical_crossentropy(y, p), L.sparse_categorical_crossentropy(jnp.asarray(labels), p),
                      L.categorical_hinge(y, p), L.categorical_crossentropy_from_logits(y, z),
                      L.sparse_categorical_crossentropy_from_logits(jnp.asarray(labels), z),
                      L.kl_divergence_from_logits(soft, z)):
            assert np.all(np.asarray(value) >= -1e-12)
        # Keras clips both sides of KL to [1e-7, 1]; the clipped vectors need not sum to 1, so
        # Gibbs' inequality holds only up to (number of classes) * 1e-7.
        assert np.all(np.asarray(L.kl_divergence(y, q)) >= -3e-7)
        assert np.all(np.asarray(L.kl_divergence(soft, q)) >= -3e-7)


def test_poisson_can_be_negative():
    # the reason poisson is left out of the non-negativity properties
    assert float(L.poisson(jnp.array([[10.0]]), jnp.array([[10.0]]))[0]) < 0.0


@PROPERTY
@given(y=reals, p=reals)
def test_symmetric_losses(y, p):
    with jax.enable_x64(True):
        y, p = jnp.asarray(y), jnp.asarray(p)
        for fn in (L.mean_squared_error, L.mean_absolute_error, L.huber, L.log_cosh):
            np.testing.assert_allclose(np.asarray(fn(y, p)), np.asarray(fn(p, y)), rtol=1e-12, atol=1e-12,
                                       err_msg=fn.__name__)


@PROPERTY
@given(y=reals, p=reals)
def test_huber_lies_between_its_quadratic_and_linear_bounds(y, p):
    with jax.enable_x64(True):
        e = np.abs(p - y)
        got = np.asarray(L.huber(jnp.asarray(y), jnp.asarray(p)))
        assert np.all(got <= np.mean(0.5 * e**2, axis=-1) + 1e-12)
        assert np.all(got >= np.mean(e - 0.5, axis=-1) - 1e-12)


# --- gradients, away from kinks ---------------------------------------------------------------------

# Each point keeps clear of every max/abs/clip kink by more than check_grads's step (1e-4):
# no zero or unit-size regression errors, probabilities well inside (1e-7, 1 - 1e-7), hinge margins
# away from 1, a unique largest wrong-class output for categorical hinge.
GRAD_CASES = {
    "mean_squared_error": (L.mean_squared_error, Y_REG, P_REG),
    "mean_absolute_error": (L.mean_absolute_error, Y_REG, P_REG + 0.01),
    "mean_absolute_percentage_error": (L.mean_absolute_percentage_error, Y_REG, P_REG + 0.01),
    "mean_squared_logarithmic_error": (L.mean_squared_logarithmic_error, Y_REG, np.abs(P_REG) + 0.1),
    "huber": (L.huber, Y_REG, P_REG + 0.01),
    "log_cosh": (L.log_cosh, Y_REG, P_REG),
    "poisson": (L.poisson, Y_COUNT, P_RATE),
    "binary_crossentropy": (L.binary_crossentropy, Y_BIN, np.array([[0.1], [0.8], [0.35], [0.6], [0.97]])),
    "hinge": (L.hinge, Y_PM, P_TANH),
    "squared_hinge": (L.squared_hinge, Y_PM, P_TANH),
    "categorical_crossentropy": (L.categorical_crossentropy, Y_ONEHOT, P_PROB),
    "sparse_categorical_crossentropy": (L.sparse_categorical_crossentropy, LABELS, P_PROB),
    "kl_divergence": (L.kl_divergence, _softmax(np.array([[0.3, -0.2, 0.1], [1.0, 0.0, -1.0]])),
                      np.array([[0.2, 0.7, 0.1], [0.3, 0.3, 0.4]])),
    "categorical_hinge": (L.categorical_hinge, Y_ONEHOT, np.array([[0.3, 0.5, 0.2], [0.1, 0.3, 0.6],
                                                                   [0.5, 0.3, 0.2], [0.05, 0.15, 0.8]])),
    "binary_crossentropy_from_logits": (L.binary_crossentropy_from_logits, Y_BIN,
                                        np.array([[-2.0], [1.5], [-0.3], [0.4], [6.0]])),
    "categorical_crossentropy_from_logits": (L.categorical_crossentropy_from_logits, Y_ONEHOT,
                                             np.log(P_PROB) + 0.5),
    "sparse_categorical_crossentropy_from_logits": (L.sparse_categorical_crossentropy_from_logits, LABELS,
                                                    np.log(P_PROB) - 1.0),
    "kl_divergence_from_logits": (L.kl_divergence_from_logits, Y_ONEHOT, np.log(P_PROB) * 2.0),
    "poisson_from_log_rate": (L.poisson_from_log_rate, Y_COUNT, np.log(P_RATE)),
}


def test_every_loss_and_from_logits_form_has_a_gradient_case():
    assert set(GRAD_CASES) == set(L.__all__) - {"EPSILON"}


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradient_matches_finite_differences(name, x64):
    fn, y, p = GRAD_CASES[name]
    y = jnp.asarray(y)
    check_grads(lambda pred: jnp.sum(fn(y, pred)), (jnp.asarray(p, jnp.float64),), order=1, modes=["rev"])


@pytest.mark.parametrize("name", ["mean_squared_error", "huber", "log_cosh", "binary_crossentropy",
                                  "kl_divergence_from_logits"])
def test_gradient_with_respect_to_the_target(name, x64):
    fn, y, p = GRAD_CASES[name]
    check_grads(partial(lambda pred, target: jnp.sum(fn(target, pred)), jnp.asarray(p, jnp.float64)),
                (jnp.asarray(y, jnp.float64) * 0.9 + 0.05,), order=1, modes=["rev"])


def test_gradients_are_the_textbook_ones(x64):
    # d/dz of cross-entropy from logits is softmax(z) - y (sigmoid(z) - y for one unit)
    z = jnp.asarray(np.log(P_PROB) + 0.5)
    y = jnp.asarray(Y_ONEHOT)
    g = jax.grad(lambda z: jnp.sum(L.categorical_crossentropy_from_logits(y, z)))(z)
    np.testing.assert_allclose(np.asarray(g), _softmax(np.asarray(z)) - Y_ONEHOT, rtol=1e-10, atol=1e-12)
    zb = jnp.array([[-2.0], [1.5], [0.0]])
    yb = jnp.array([[0.0], [1.0], [1.0]])
    gb = jax.grad(lambda z: jnp.sum(L.binary_crossentropy_from_logits(yb, z)))(zb)
    np.testing.assert_allclose(np.asarray(gb), np.asarray(jax.nn.sigmoid(zb) - yb), rtol=1e-10, atol=1e-12)


# --- sparse cross-entropy with many classes: the gather form ------------------------------------------

from losslab.losses import _classification  # noqa: E402

MANY = 2_000  # classes: above SPARSE_GATHER_CLASSES, so the sparse losses take the gather form


@pytest.fixture
def one_hot_form(monkeypatch):
    """Call ``fn(*args)`` with the sparse losses forced to their one-hot form (eagerly: a jitted
    function traced before would keep the form it was traced with)."""
    def call(fn, *args):
        with monkeypatch.context() as patch:
            patch.setattr(_classification, "SPARSE_GATHER_CLASSES", 10**9)
            return fn(*args)
    return call


def _many_class_data(dtype=jnp.float32, rows=64, classes=MANY, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, rows)
    logits = rng.normal(scale=3.0, size=(rows, classes))
    return jnp.asarray(labels), jnp.asarray(logits, dtype)


def _jaxpr_has_gather(fn, labels, values):
    return "gather" in str(jax.make_jaxpr(fn)(labels, values))


def test_sparse_form_is_chosen_by_the_class_count():
    threshold = _classification.SPARSE_GATHER_CLASSES
    assert 3 < threshold <= 1_000  # the tutorial's blobs one-hot; 1,000 classes and more gather
    for fn in (L.sparse_categorical_crossentropy, L.sparse_categorical_crossentropy_from_logits):
        for classes, gathers in ((3, False), (threshold - 1, False), (threshold, True), (MANY, True)):
            labels, logits = _many_class_data(rows=4, classes=classes)
            assert _jaxpr_has_gather(fn, labels, logits) is gathers, (fn.__name__, classes)


def test_gather_form_equals_one_hot_form_with_many_classes(one_hot_form):
    labels, z = _many_class_data()
    p = jax.nn.softmax(z)
    raw = jnp.exp(z / 3.0)  # positive, not normalised: the renormalisation is part of the loss
    for fn, pred in ((L.sparse_categorical_crossentropy_from_logits, z), (L.sparse_categorical_crossentropy, p),
                     (L.sparse_categorical_crossentropy, raw)):
        gather = np.asarray(fn(labels, pred))
        one_hot = np.asarray(one_hot_form(fn, labels, pred))
        assert gather.shape == one_hot.shape == (64,)
        np.testing.assert_allclose(gather, one_hot, rtol=1e-6, atol=0, err_msg=fn.__name__)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy(labels, raw)),
                               np_sparse_cce(np.asarray(labels), np.asarray(raw, np.float64)), rtol=1e-5)


def test_gather_form_equals_categorical_crossentropy_with_many_classes():
    labels, z = _many_class_data()
    y = jax.nn.one_hot(labels, MANY)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy_from_logits(labels, z)),
                               np.asarray(L.categorical_crossentropy_from_logits(y, z)), rtol=1e-6)
    p = jax.nn.softmax(z)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy(labels, p)),
                               np.asarray(L.categorical_crossentropy(y, p)), rtol=1e-6)


def test_gather_form_clips_as_keras_does(one_hot_form, x64):
    labels = jnp.array([0, 1, 2, 3])
    p = np.full((4, MANY), 1e-3)
    p[0, 0] = 0.0  # zero on the true class: clipped to epsilon
    p[1] = 0.0
    p[1, 1] = 1.0  # all the mass on the true class: clipped to 1 - epsilon
    p[2] *= 7.0  # not normalised
    p[3, 3] = 1e-12  # below epsilon after normalisation
    p = jnp.asarray(p)
    got = np.asarray(L.sparse_categorical_crossentropy(labels, p))
    np.testing.assert_allclose(got, np.asarray(one_hot_form(L.sparse_categorical_crossentropy, labels, p)),
                               rtol=1e-12, atol=0)
    np.testing.assert_allclose(got[[0, 3]], -np.log(EPS), rtol=1e-12)
    np.testing.assert_allclose(got[1], -np.log(1 - EPS), rtol=1e-9)
    np.testing.assert_allclose(got[2], np.log(MANY), rtol=1e-12)  # uniform, whatever the scale


def test_gather_form_of_extreme_logits_is_finite_and_exact(one_hot_form):
    labels = jnp.array([0, 1, 2])
    z = np.zeros((3, MANY), np.float32)
    z[0, 0] = 1e4  # confidently right
    z[1, 0] = 1e4  # confidently wrong
    z[2, 2], z[2, 5] = -1e4, 1e4
    z = jnp.asarray(z)
    got = np.asarray(L.sparse_categorical_crossentropy_from_logits(labels, z))
    one_hot = one_hot_form(L.sparse_categorical_crossentropy_from_logits, labels, z)
    np.testing.assert_array_equal(got, np.asarray(one_hot))
    np.testing.assert_allclose(got, [0.0, 1e4, 2e4], rtol=1e-6, atol=1e-6)


def test_gather_form_gives_zero_for_a_label_outside_the_classes_as_the_one_hot_form(one_hot_form):
    labels = jnp.array([MANY, -1, 10 * MANY, 3])
    z = jnp.asarray(np.random.default_rng(1).normal(size=(4, MANY)), jnp.float32)
    for fn, pred in ((L.sparse_categorical_crossentropy_from_logits, z), (L.sparse_categorical_crossentropy,
                                                                          jax.nn.softmax(z))):
        got = np.asarray(fn(labels, pred))
        np.testing.assert_allclose(got, np.asarray(one_hot_form(fn, labels, pred)), rtol=1e-6, atol=0)
        np.testing.assert_array_equal(got[:3], 0.0)
        assert got[3] > 0.0
        g = np.asarray(jax.grad(lambda x: jnp.sum(fn(labels, x)))(pred))
        assert np.all(np.isfinite(g)) and not np.any(g[:3]) and np.any(g[3])


def test_gather_form_broadcasts_labels_and_takes_a_unit_axis(one_hot_form):
    # the engine passes labels broadcast to (runs, rows); a bare (rows,) must broadcast the same way
    labels, z = _many_class_data(rows=8)
    runs = jnp.stack([z, 2.0 * z, -z])  # (3, 8, MANY)
    p = jax.nn.softmax(runs)
    for fn, pred in ((L.sparse_categorical_crossentropy_from_logits, runs), (L.sparse_categorical_crossentropy, p)):
        expected = np.asarray(one_hot_form(fn, labels, pred))
        assert expected.shape == (3, 8)
        np.testing.assert_allclose(np.asarray(fn(labels, pred)), expected, rtol=1e-6)
        runs_labels = jnp.broadcast_to(labels, (3, 8))
        np.testing.assert_allclose(np.asarray(fn(runs_labels, pred)), expected, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(fn(runs_labels[..., None], pred)), expected, rtol=1e-6)


def test_gather_form_gradients_equal_the_one_hot_forms(one_hot_form):
    labels, z = _many_class_data()
    w = jnp.linspace(0.5, 1.5, 64)  # per-row weights, as the engine's batch mask
    grad_z = lambda z: jnp.sum(w * L.sparse_categorical_crossentropy_from_logits(labels, z))  # noqa: E731
    g = np.asarray(jax.grad(grad_z)(z))
    np.testing.assert_allclose(g, np.asarray(one_hot_form(jax.grad(grad_z), z)), rtol=1e-6, atol=1e-9)
    textbook = np.asarray(w)[:, None] * (_softmax(np.asarray(z, np.float64)) - np.eye(MANY)[np.asarray(labels)])
    np.testing.assert_allclose(g, textbook, rtol=1e-4, atol=1e-8)

    raw = jnp.exp(z / 3.0).at[0, labels[0]].set(0.0)  # one clipped true class: its gradient is 0
    grad_p = lambda p: jnp.sum(w * L.sparse_categorical_crossentropy(labels, p))  # noqa: E731
    gp = np.asarray(jax.grad(grad_p)(raw))
    np.testing.assert_allclose(gp, np.asarray(one_hot_form(jax.grad(grad_p), raw)), rtol=1e-6, atol=1e-12)
    assert not np.any(gp[0]) and np.any(gp[1])


def test_gather_form_gradients_match_finite_differences(x64):
    labels, z = _many_class_data(jnp.float64, rows=3, classes=300)
    check_grads(lambda z: jnp.sum(L.sparse_categorical_crossentropy_from_logits(labels, z)), (z,), order=1,
                modes=["rev"])
    p = jax.nn.softmax(z / 3.0) + 1e-3  # probabilities ~3e-3: a smaller step than the default 1e-4
    check_grads(lambda p: jnp.sum(L.sparse_categorical_crossentropy(labels, p)), (p,), order=1, modes=["rev"],
                eps=1e-6)


def test_gather_form_does_not_build_a_one_hot(one_hot_form):
    # what integer labels are for: evaluating every row of 16 runs needs no (runs, rows, classes) temporary
    labels = jnp.zeros((16, 200), jnp.int32)
    p = jnp.full((16, 200, MANY), 1.0 / MANY, jnp.float32)

    def temp_bytes():
        return jax.jit(lambda y, q: L.sparse_categorical_crossentropy(y, q)).lower(labels, p).compile() \
            .memory_analysis().temp_size_in_bytes

    assert temp_bytes() < p.nbytes / 10
    assert one_hot_form(temp_bytes) >= p.nbytes / 2  # the measurement would see one, were it built


@pytest.mark.parametrize("classes", [3, 10])
def test_below_the_threshold_sparse_is_bit_identical_to_categorical(classes):
    labels, z = _many_class_data(rows=32, classes=classes)
    y = jax.nn.one_hot(labels, classes)
    p = jax.nn.softmax(z)
    for jit in (lambda f: f, jax.jit):
        np.testing.assert_array_equal(np.asarray(jit(L.sparse_categorical_crossentropy)(labels, p)),
                                      np.asarray(jit(L.categorical_crossentropy)(y, p)))
        np.testing.assert_array_equal(np.asarray(jit(L.sparse_categorical_crossentropy_from_logits)(labels, z)),
                                      np.asarray(jit(L.categorical_crossentropy_from_logits)(y, z)))
        sparse_grad = jit(jax.grad(lambda z: jnp.sum(L.sparse_categorical_crossentropy_from_logits(labels, z))))
        dense_grad = jit(jax.grad(lambda z: jnp.sum(L.categorical_crossentropy_from_logits(y, z))))
        np.testing.assert_array_equal(np.asarray(sparse_grad(z)), np.asarray(dense_grad(z)))
