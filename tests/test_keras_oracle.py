"""Keras 3 (JAX backend) as the oracle: losslab's losses and training equal Keras's own.

``test_losses.py`` checks each loss against a NumPy formula written from Keras's source; here
Keras itself is the reference. Two things are compared:

- every built-in loss's per-sample values against ``keras.losses.<name>`` on the same encoded
  inputs, random and at the edges where Keras's epsilons, clipping and conventions act;
- every case study trained for three epochs from the same initial weights and batch order: a
  Keras ``Sequential`` model with ``train_on_batch`` against ``losslab.train``, the loss on the
  whole train and test split after each epoch (and, for the tanh cases, the tutorial's Keras-2
  rounding accuracy).

Skipped when Keras is not installed (``pip install '.[test,keras]'`` installs it).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from scipy import stats

os.environ.setdefault("KERAS_BACKEND", "jax")  # before the first import of keras, which reads it
keras = pytest.importorskip(
    "keras", minversion="3.0",
    reason="Keras 3 cannot be imported (not installed, or KERAS_BACKEND names a backend that is not); "
    "pip install '.[test,keras]' runs the Keras-oracle tests",
)
if keras.backend.backend() != "jax":
    pytest.skip(
        f"the Keras-oracle tests need Keras's JAX backend, but KERAS_BACKEND selects {keras.backend.backend()!r}",
        allow_module_level=True,
    )

import losslab  # noqa: E402 - after the skips: nothing here runs without Keras
from losslab.case_studies import CASE_STUDIES, CaseStudy  # noqa: E402
from losslab.engine import seed_keys  # noqa: E402
from losslab.engine._program import epoch_orders  # noqa: E402
from losslab.models import MLP  # noqa: E402
from losslab.planning import default_settings  # noqa: E402
from losslab.problems import get_problem  # noqa: E402
from losslab.registry import _BUILTINS, LossSpec, TargetWarning, encode_targets  # noqa: E402

ops = keras.ops
SEED = 7
EPOCHS = 3
SPLITS = ("train", "test")


#: The losses Keras 3 has as functions of ``keras.losses``; losslab builds every one in.
KERAS_LOSSES = (
    "mean_squared_error", "mean_squared_logarithmic_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "huber", "log_cosh", "poisson", "binary_crossentropy", "hinge", "squared_hinge", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge",
)
KERAS_BUILTINS = [spec for spec in _BUILTINS if spec.name in KERAS_LOSSES]


def keras_loss(name: str):
    """Keras's per-sample loss function of that name (``keras.losses.mean_squared_error``, ...)."""
    return getattr(keras.losses, name)


def test_every_keras_loss_is_built_in():
    assert sorted(spec.name for spec in KERAS_BUILTINS) == sorted(KERAS_LOSSES)
    assert all(callable(getattr(keras.losses, name, None)) for name in KERAS_LOSSES)


# --- (a) per-sample values of every built-in loss -------------------------------------------------


def _loss_inputs(spec: LossSpec, rng: np.random.Generator) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``(what, y_true, y_pred)`` pairs in the encoding and output range ``spec`` takes: random
    rows, and rows at the edges where Keras's epsilons, clipping and label conventions act."""
    n = 64
    if spec.activation == "exponential":  # Poisson: counts and positive rates, some of them ~0
        counts = rng.poisson(3.0, size=(n, 1)).astype(float)
        rates = np.exp(rng.normal(size=(n, 1)))
        rates[:6, 0] = [0.0, 1e-9, 1e-7, 1e-3, 0.0, 1e-9]
        counts[:6, 0] = [0.0, 0.0, 0.0, 0.0, 2.0, 5.0]
        reals = np.abs(rng.normal(size=(n, 2))), np.exp(rng.normal(size=(n, 2)))
        return [("counts", counts, rates), ("real targets, two outputs", *reals)]
    if spec.encoding == "raw":
        t, p = rng.normal(size=(n, 1)), rng.normal(size=(n, 1))
        cases = [("random", t, p), ("two outputs", rng.normal(size=(n, 2)), rng.normal(size=(n, 2)))]
        edge_t = np.array([0.0, 0.0, -1.0, -3.0, -0.1, 1e-4, -1e-4, 2.0, 0.0, 5.0, 100.0, -100.0])[:, None]
        edge_p = np.array([0.0, 1.0, -1.0, 2.0, -0.1, 0.0, 1e-4, -2.0, -5.0, 5.0, -100.0, 100.0])[:, None]
        cases += [("zeros, negatives, large errors", edge_t, edge_p)]
        return cases
    if spec.encoding in ("{0,1}", "{-1,1}"):
        labels = rng.integers(0, 2, size=(n, 1)).astype(float)
        if spec.activation == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-3.0 * rng.normal(size=(n, 1))))
            edge_p = np.array([0.0, 1.0, 0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 1 - 1e-7, 1e-5, 1 - 1e-5, 0.5, 0.5])[:, None]
        else:
            p = np.tanh(2.0 * rng.normal(size=(n, 1)))
            edge_p = np.array([-1.0, 1.0, -1.0, 1.0, 0.0, 0.0, 0.5, -0.5, 1e-7, -1e-7, 0.999, -0.999])[:, None]
        edge_t = np.array([0, 0, 1, 1] * 3, dtype=float)[:, None]
        cases = [("random {0,1} labels", labels, p), ("edge {0,1} labels", edge_t, edge_p)]
        if spec.activation == "tanh":  # hinge: {-1,1} labels are used as they are, {0,1} mapped to them
            cases += [("random {-1,1} labels", 2 * labels - 1, p), ("edge {-1,1} labels", 2 * edge_t - 1, edge_p)]
        return cases
    k = 4
    labels = rng.integers(0, k, size=n)
    logits = 3.0 * rng.normal(size=(n, k))
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    edge = np.array([
        [1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1 - 3e-9, 1e-9, 1e-9, 1e-9], [1e-9, 1 - 3e-9, 1e-9, 1e-9],
        [0.25, 0.25, 0.25, 0.25], [1 - 3e-7, 1e-7, 1e-7, 1e-7], [0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0],
    ])
    edge_labels = np.array([0, 0, 0, 0, 2, 1, 3, 3])
    unnormalised = 2.0 * p  # Keras's cross-entropies renormalise y_pred to sum to 1
    if spec.encoding == "integer":
        return [("random", labels, p), ("edge probabilities", edge_labels, edge),
                ("unnormalised", labels, unnormalised)]
    one_hot = np.eye(k)[labels]
    cases = [("random", one_hot, p), ("edge probabilities", np.eye(k)[edge_labels], edge),
             ("unnormalised", one_hot, unnormalised)]
    if spec.name == "kl_divergence":  # KL takes any distribution as y_true
        soft = rng.dirichlet(np.ones(k), size=n)
        soft[:4] = edge[:4]
        cases += [("soft targets", soft, p)]
    return cases


@pytest.mark.parametrize("spec", KERAS_BUILTINS, ids=lambda spec: spec.name)
def test_per_sample_loss_equals_keras(spec: LossSpec):
    rng = np.random.default_rng(0)
    for what, y_true, y_pred in _loss_inputs(spec, rng):
        y_true = y_true.astype(np.int32 if spec.encoding == "integer" else np.float32)
        y_pred = y_pred.astype(np.float32)
        ours = np.asarray(spec.fn(y_true, y_pred))
        theirs = np.asarray(keras_loss(spec.name)(y_true, y_pred))
        assert ours.shape == theirs.shape == (len(y_pred),), what
        assert ours.dtype == theirs.dtype == np.float32, what
        assert np.isfinite(theirs).all(), what  # inputs where the values mean something
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7, err_msg=f"{spec.name}, {what}")


@pytest.mark.parametrize("spec", [s for s in KERAS_BUILTINS if s.kind == "binary"], ids=lambda spec: spec.name)
def test_encoded_binary_targets_give_keras_value_on_raw_labels(spec: LossSpec):
    """losslab on ``encode_targets``' output equals Keras on the raw {0,1} labels: hinge's {-1,1}
    encoding is the conversion Keras makes itself."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=32)
    low = 0.0 if spec.activation == "sigmoid" else -1.0
    y_pred = rng.uniform(low, 1.0, size=(32, 1)).astype(np.float32)
    ours = spec.fn(encode_targets(spec, y), y_pred)
    theirs = keras_loss(spec.name)(y.astype(np.float32)[:, None], y_pred)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-7)


# --- (b), (c) a case study trained in Keras and in losslab ----------------------------------------


def _encoded(spec: LossSpec, problem) -> tuple[np.ndarray, np.ndarray]:
    """Train and test targets as the loss takes them; the tutorial's regression problem warns
    (MSLE on negative, MAPE on near-zero targets) and goes on as Keras does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TargetWarning)
        return tuple(encode_targets(spec, y, problem.n_classes, policy=problem.target_policy)
                     for y in (problem.y_train, problem.y_test))


def _tutorial_model(spec: LossSpec, problem, settings) -> keras.Model:
    """The tutorial's network in Keras, with Keras's own initial weights: relu hidden layers
    drawn from ``he_uniform``, the output layer from ``glorot_uniform`` (Dense's default)."""
    assert settings.activation == "relu", "the tutorial's hidden layers are relu"
    layers = [keras.Input((problem.n_features,))]
    layers += [keras.layers.Dense(width, activation="relu", kernel_initializer="he_uniform")
               for width in settings.hidden]
    layers += [keras.layers.Dense(spec.output_units(problem.n_classes), activation=spec.activation)]
    return keras.Sequential(layers)


def _losslab_initial_weights(spec: LossSpec, problem, settings) -> list[np.ndarray]:
    """losslab's initial weights for ``SEED`` in Keras's order: kernel (in, out), bias (out,) per layer."""
    units = spec.output_units(problem.n_classes)
    params = MLP(settings.hidden, settings.activation).keras_params(seed_keys([SEED])[0], problem.n_features, units)
    return [np.asarray(array) for layer in params for array in layer]


def _keras_model(spec: LossSpec, problem, settings) -> keras.Model:
    """The replication's network in Keras, from losslab's initial weights for ``SEED``."""
    model = _tutorial_model(spec, problem, settings)
    model.set_weights(_losslab_initial_weights(spec, problem, settings))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=settings.learning_rate, momentum=settings.momentum),
                  loss=spec.name)
    return model


def _keras_epochs(spec: LossSpec, problem, settings) -> dict[str, np.ndarray]:
    """Keras trained on losslab's batches. Per split, ``(epochs,)`` arrays: the loss, the mean
    squared error of the output (regression; where a diverging run overflows first) and, for a
    tanh output, the tutorial's rounding accuracy."""
    y_train, y_test = _encoded(spec, problem)
    model = _keras_model(spec, problem, settings)
    loss_fn = keras_loss(spec.name)
    X = {"train": problem.X_train.astype(np.float32), "test": problem.X_test.astype(np.float32)}
    y = {"train": y_train, "test": y_test}
    out = {f"{split}_{what}": [] for split in SPLITS for what in ("loss", "mse", "rounding")}
    for order in epoch_orders(SEED, settings.epochs, problem.n_train):
        for start in range(0, problem.n_train, settings.batch_size):  # the last partial batch kept
            rows = order[start:start + settings.batch_size]
            model.train_on_batch(X["train"][rows], y_train[rows])
        for split in SPLITS:
            y_pred = model.predict_on_batch(X[split])
            out[f"{split}_loss"].append(float(ops.mean(loss_fn(y[split], y_pred))))
            if spec.kind == "regression":
                out[f"{split}_mse"].append(float(ops.mean(keras.losses.mean_squared_error(y[split], y_pred))))
            if spec.activation == "tanh":  # Keras 2's "accuracy" of a one-unit output
                hits = ops.equal(ops.round(y_pred[:, 0]), ops.convert_to_tensor(y[split][:, 0]))
                out[f"{split}_rounding"].append(float(ops.mean(ops.cast(hits, "float32"))))
    return {key: np.asarray(values) for key, values in out.items()}


def _first_non_finite_epoch(keras_values: dict[str, np.ndarray]) -> int:
    """The first epoch (1-based) at which a Keras loss or MSE is NaN or infinite; EPOCHS + 1 if none."""
    finite = np.ones(EPOCHS, bool)
    for key in [f"{split}_{what}" for split in SPLITS for what in ("loss", "mse")]:
        if len(keras_values[key]):
            finite &= np.isfinite(keras_values[key])
    return int(np.argmin(finite)) + 1 if not finite.all() else EPOCHS + 1


@pytest.fixture(scope="module")
def problems():
    return {name: get_problem(name) for name in {case.problem for case in CASE_STUDIES}}


@pytest.mark.parametrize("case", CASE_STUDIES, ids=lambda case: case.key)
def test_initial_weights_are_drawn_as_keras_draws_them(case: CaseStudy, problems):
    """The training comparison starts Keras from losslab's weights, so it cannot see how they were
    drawn: here each kernel is compared with many draws of the Keras layer's own initializer
    (two-sample Kolmogorov-Smirnov; deterministic for the fixed seed), and the biases are zero."""
    problem = problems[case.problem]
    spec = case.spec()
    settings = default_settings(problem)
    model = _tutorial_model(spec, problem, settings)
    ours = _losslab_initial_weights(spec, problem, settings)
    for layer, kernel, bias in zip(model.layers, ours[::2], ours[1::2]):
        init = layer.kernel_initializer
        assert kernel.shape == tuple(layer.kernel.shape) and bias.shape == tuple(layer.bias.shape)
        draws = [np.asarray(type(init).from_config({**init.get_config(), "seed": s})(kernel.shape)) for s in range(50)]
        p_value = stats.ks_2samp(kernel.ravel(), np.concatenate(draws).ravel()).pvalue
        assert p_value > 1e-3, f"{layer.name}: kernel not drawn like Keras's {type(init).__name__} (p = {p_value:.2g})"
        np.testing.assert_array_equal(bias, np.asarray(layer.bias))


@pytest.mark.parametrize("case", CASE_STUDIES, ids=lambda case: case.key)
def test_case_study_trains_as_keras_does(case: CaseStudy, problems):
    problem = problems[case.problem]
    spec = case.spec()
    settings = default_settings(problem).updated(epochs=EPOCHS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TargetWarning)
        study = losslab.train(problem, [spec], seeds=[SEED], settings=settings)
    y_train, y_test = _encoded(spec, problem)
    trained_on = study.plan.targets[spec.name]  # Keras gets the targets losslab trained on
    np.testing.assert_array_equal(trained_on.train, y_train)
    np.testing.assert_array_equal(trained_on.test, y_test)
    keras_values = _keras_epochs(spec, problem, settings)

    # MAPE on the tutorial's regression problem (ext-1) divides by targets within 2e-4 of zero:
    # both frameworks blow up together (train loss 4.03e18 after epoch 1 in each, 1.74e32 after
    # epoch 2, inf after epoch 3). losslab marks a run diverged from the first epoch whose loss or
    # metric is not finite and reports NaN from there on; there its MSE has overflowed while the
    # loss is still finite. So: the run diverges at the epoch where Keras's loss or MSE first
    # stops being finite, and the values before it are compared.
    diverged_at = _first_non_finite_epoch(keras_values)
    run = study.runs.iloc[0]
    assert bool(run["diverged"]) == (diverged_at <= EPOCHS), case.key
    if run["diverged"]:
        assert run["diverged_epoch"] == diverged_at, case.key
    for split in SPLITS:
        ours = study.history[study.history["split"] == split].sort_values("epoch")
        assert ours["epoch"].tolist() == list(range(1, EPOCHS + 1))
        kept = ours["epoch"].to_numpy() < diverged_at
        assert np.isnan(ours["loss_value"].to_numpy()[~kept]).all()
        np.testing.assert_allclose(ours["loss_value"].to_numpy()[kept], keras_values[f"{split}_loss"][kept],
                                   rtol=1e-4, err_msg=f"{case.key} {split} loss")
        if spec.activation == "tanh":
            np.testing.assert_array_equal(ours["rounding_accuracy"].to_numpy(), keras_values[f"{split}_rounding"],
                                          err_msg=f"{case.key} {split} rounding accuracy")
