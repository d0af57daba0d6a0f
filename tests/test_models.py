"""Models: every backward pass against autodiff, the activations' derivatives, Keras's initial
weights and the checks on a model's settings.

Axes as in ``losslab.models``: runs first, ``z`` feature-major ``(runs, out, rows)``.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from losslab.engine import seed_keys
from losslab.errors import SettingsError
from losslab.models import ACTIVATIONS, MLP, Model, get_activation, glorot_uniform, he_uniform

RUNS, ROWS, N_IN, N_OUT = 3, 7, 4, 2


@dataclass(frozen=True)
class Linear(Model):
    """``z = W x + b``: only ``init`` and ``forward``, so ``backward`` is the default (autodiff)."""

    def init(self, keys, n_in, n_out):
        W = jax.vmap(lambda key: jax.random.normal(key, (n_out, n_in)))(keys)
        return {"W": W, "b": jnp.zeros((keys.shape[0], n_out))}

    def forward(self, params, x):
        spec = "roi,rbi->rob" if x.ndim == 3 else "roi,bi->rob"
        return jnp.einsum(spec, params["W"], x) + params["b"][:, :, None], None


# A new model or activation is one more entry here.
MODELS = [
    *(MLP((5,), name) for name in ACTIVATIONS),
    *(MLP((5, 3), name) for name in ACTIVATIONS),
    Linear(),
]


# ----------------------------------------------------------------------- backward vs autodiff


@pytest.mark.parametrize("x_ndim", [3, 2], ids=["own-rows", "shared-rows"])
@pytest.mark.parametrize("model", MODELS, ids=str)
def test_backward_equals_autodiff_of_forward(model: Model, x_ndim: int) -> None:
    with jax.enable_x64(True):
        k_params, k_x, k_target = jax.random.split(jax.random.key(0), 3)
        params = model.init(jnp.asarray(seed_keys(range(RUNS))), N_IN, N_OUT)
        # random biases too, so that every pre-activation is shifted and no gradient is trivially 0
        leaves, tree = jax.tree.flatten(params)
        noise = jax.random.split(k_params, len(leaves))
        params = jax.tree.unflatten(tree, [
            leaf.astype(jnp.float64) + 0.3 * jax.random.normal(k, leaf.shape, jnp.float64)
            for leaf, k in zip(leaves, noise)
        ])
        x = jax.random.normal(k_x, (RUNS, ROWS, N_IN)[-x_ndim:], jnp.float64)
        target = jax.random.normal(k_target, (RUNS, N_OUT, ROWS), jnp.float64)

        def loss(z):  # per (run, unit, row); summed, since runs are independent
            return 0.5 * (z - target) ** 2 + jnp.sin(z)

        def backward(params, x):
            z, cache = model.forward(params, x)
            dz = jax.grad(lambda z: jnp.sum(loss(z)))(z)
            return model.backward(params, x, cache, dz)

        expected = jax.grad(lambda p: jnp.sum(loss(model.forward(p, x)[0])))(params)
        for run in (backward, jax.jit(backward)):
            got = run(params, x)
            assert jax.tree.structure(got) == jax.tree.structure(params)
            for g, e in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
                assert g.dtype == jnp.float64 and g.shape == e.shape
                np.testing.assert_allclose(np.asarray(g), np.asarray(e), rtol=1e-10, atol=1e-12)


# -------------------------------------------------------------------------------- activations

POINTS = np.array([-4.0, -1.3, -0.2, 0.1, 0.6, 2.7])  # no exact 0: relu-like kinks


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_derivative_equals_autodiff_of_the_function(name: str) -> None:
    act = ACTIVATIONS[name]
    with jax.enable_x64(True):
        a = jnp.asarray(POINTS)
        expected = jax.vmap(jax.grad(act.fn))(a)
        np.testing.assert_allclose(np.asarray(act.derivative(a)), np.asarray(expected), rtol=1e-12, atol=1e-15)
        g = jnp.linspace(-2.0, 3.0, len(POINTS))
        np.testing.assert_allclose(np.asarray(act.through(a, g)), np.asarray(g * expected), rtol=1e-12, atol=1e-15)


def test_activations_take_kerass_default_parameters() -> None:
    x = np.array([-1.0, 2.0])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"].fn(x), [-0.2, 2.0], rtol=1e-6)  # slope 0.2
    np.testing.assert_allclose(ACTIVATIONS["elu"].fn(x), [math.exp(-1) - 1, 2.0], rtol=1e-6)  # alpha 1
    exact_gelu = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x]  # approximate=False
    np.testing.assert_allclose(ACTIVATIONS["gelu"].fn(x), exact_gelu, rtol=1e-6)


def test_relu_family_starts_from_he_uniform_the_rest_from_glorot_uniform() -> None:
    assert {n: a.initializer for n, a in ACTIVATIONS.items()} == {
        "relu": "he_uniform", "leaky_relu": "he_uniform", "elu": "he_uniform",
        "tanh": "glorot_uniform", "sigmoid": "glorot_uniform", "gelu": "glorot_uniform",
    }


def test_activation_names_are_forgiving_about_spelling() -> None:
    assert get_activation("Leaky ReLU").name == "leaky_relu"
    assert MLP(activation="TANH").activation == "tanh"


# ------------------------------------------------------------------------------ initial weights


@pytest.mark.parametrize(("init", "limit"), [(he_uniform, math.sqrt(6 / 10)), (glorot_uniform, math.sqrt(6 / 410))])
def test_uniform_initializers_have_kerass_limits(init, limit: float) -> None:
    W = np.asarray(init(jax.random.key(3), 10, 400))
    assert W.shape == (10, 400) and W.dtype == np.float32
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert abs(W.mean()) < 0.05 * limit  # centred


def test_mlp_init_is_kerass_layer_by_layer_draw_for_every_run() -> None:
    """What the engine has always drawn: layer ``l`` from ``fold_in(key, l)``, hidden he_uniform
    (relu), output glorot_uniform, zero biases, float32, stored ``(runs, out, in)``."""
    keys = seed_keys([0, 7, 11])
    params = MLP((50, 7)).init(jnp.asarray(keys), 2, 3)
    assert [(W.shape, b.shape) for W, b in params] == [((3, 50, 2), (3, 50)), ((3, 7, 50), (3, 7)), ((3, 3, 7), (3, 3))]
    limits = [jnp.sqrt(6.0 / 2), jnp.sqrt(6.0 / 50), jnp.sqrt(6.0 / (7 + 3))]
    for run, key in enumerate(keys):
        for layer, ((W, b), limit) in enumerate(zip(params, limits)):
            fan_out, fan_in = W.shape[1:]
            kernel = jax.random.uniform(jax.random.fold_in(key, layer), (fan_in, fan_out), jnp.float32, -limit, limit)
            np.testing.assert_array_equal(np.asarray(W[run]), np.asarray(kernel).T)
            assert W.dtype == jnp.float32 and not np.asarray(b).any()


def test_tanh_hidden_layers_start_from_glorot_uniform() -> None:
    (W1, _), _ = MLP((400,), "tanh").init(jnp.asarray(seed_keys([0])), 10, 200)
    limit = math.sqrt(6 / (10 + 400))
    assert np.abs(np.asarray(W1)).max() <= limit and np.abs(np.asarray(W1)).max() > 0.95 * limit


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_hidden_weights_of_a_seed_do_not_depend_on_the_output_size(activation: str) -> None:
    model, keys = MLP((50, 7), activation), jnp.asarray(seed_keys([0, 11]))
    one, three = model.init(keys, 2, 1), model.init(keys, 2, 3)
    for (W1, b1), (W3, b3) in zip(one[:-1], three[:-1]):
        np.testing.assert_array_equal(np.asarray(W1), np.asarray(W3))
        np.testing.assert_array_equal(np.asarray(b1), np.asarray(b3))
    assert one[-1][0].shape == (2, 1, 7) and three[-1][0].shape == (2, 3, 7)
    assert not np.array_equal(np.asarray(three[0][0][0]), np.asarray(three[0][0][1]))  # seeds differ


# ------------------------------------------------------------------------ a model as settings


def test_a_model_is_hashable_data_that_keys_a_cache() -> None:
    calls = []

    @functools.cache
    def compiled(model: Model) -> int:
        calls.append(model)
        return len(calls)

    assert MLP([64, 32]) == MLP((64, 32)) and compiled(MLP([64, 32])) == compiled(MLP((64, 32)))
    assert compiled(MLP((64, 32), "elu")) == 2 and compiled(Linear()) == 3 and len(calls) == 3
    description = MLP([64, 32], "elu").describe()
    assert description == {"kind": "MLP", "hidden": [64, 32], "activation": "elu"}
    assert json.loads(json.dumps(description)) == description
    assert str(MLP((64, 32), "elu")) == "MLP(64, 32; elu)" and str(Linear()) == "Linear()"


@pytest.mark.parametrize(
    ("kwargs", "fix"),
    [
        ({"hidden": ()}, r"at least one layer size, e\.g\. hidden=\(50,\)"),
        ({"hidden": (0,)}, r"positive integers, got 0 .*e\.g\. hidden=\(50,\)"),
        ({"hidden": (50, -3)}, r"positive integers, got -3"),
        ({"hidden": (True,)}, r"positive integers, got True"),
        ({"hidden": (2.5,)}, r"positive integers, got 2\.5"),
        ({"hidden": 50}, r"write hidden=\(50,\)"),
        ({"activation": "rellu"}, r"unknown activation 'rellu'; did you mean 'relu'.*\? Known activations: elu, gelu"),
        ({"activation": "softmax"}, r"unknown activation 'softmax'; Known activations: elu, gelu, leaky_relu, relu"),
    ],
)
def test_bad_model_settings_raise_a_settings_error_that_names_the_fix(kwargs, fix: str) -> None:
    with pytest.raises(SettingsError, match=fix) as error:
        MLP(**kwargs)
    assert "\n" not in str(error.value)
