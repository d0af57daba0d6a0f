"""The engine's training arithmetic against an independent NumPy re-implementation of Keras's."""

from __future__ import annotations

import numpy as np
import pytest

import losslab
from losslab.engine import seed_keys
from losslab.engine._model import init_mlp
from losslab.problems import Problem


def numpy_sgd_losses(params, X, y, epochs, lr=0.01, momentum=0.9):
    """Full-batch training of a relu MLP on MSE with Keras's momentum: v = m*v - lr*g; w += v.

    Returns the train MSE after each epoch. With the batch as large as the training set, the
    row order does not matter, so this needs no shuffling.
    """
    params = [(np.asarray(W, np.float64), np.asarray(b, np.float64)) for W, b in params]
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    y = y[:, None]
    losses = []
    for _ in range(epochs):
        (W1, b1), (W2, b2) = params
        a = X @ W1 + b1
        h = np.maximum(a, 0)
        dz = 2 * (h @ W2 + b2 - y) / len(X)
        dh = dz @ W2.T * (a > 0)
        grads = [(X.T @ dh, dh.sum(0)), (h.T @ dz, dz.sum(0))]
        velocity = [(momentum * vW - lr * gW, momentum * vb - lr * gb) for (vW, vb), (gW, gb) in zip(velocity, grads)]
        params = [(W + vW, b + vb) for (W, b), (vW, vb) in zip(params, velocity)]
        (W1, b1), (W2, b2) = params
        losses.append(np.mean((np.maximum(X @ W1 + b1, 0) @ W2 + b2 - y) ** 2))
    return np.array(losses)


@pytest.mark.parametrize("seed", [0, 7])
def test_sgd_with_momentum_matches_a_numpy_reimplementation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=40)
    problem = Problem("tiny", "regression", X[:30], y[:30], X[30:], y[30:])
    settings = losslab.Settings(epochs=3, batch_size=30, hidden=(4,))
    study = losslab.train(problem, ["mse"], seeds=[seed], settings=settings)
    engine = study.history.query("split == 'train'").sort_values("epoch")["loss_value"].to_numpy()
    expected = numpy_sgd_losses(init_mlp(seed_keys([seed])[0], 3, (4,), 1), X[:30], y[:30], epochs=3)
    np.testing.assert_allclose(engine, expected, rtol=1e-5)
    assert not np.allclose(expected[0], expected[-1])  # training moved the weights


def test_seed_keys_are_jax_prng_keys() -> None:
    import jax

    seeds = [0, 1, 5, 2**31 + 7, 2**32 - 1]
    expected = np.stack([np.asarray(jax.random.PRNGKey(s)) for s in seeds])
    np.testing.assert_array_equal(seed_keys(seeds), expected)
