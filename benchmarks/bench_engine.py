"""Per-model wall time of the engine on the blobs case study, against scikit-learn's MLP.

The engine trains N models (categorical cross-entropy, N seeds) with ``losslab.train``; the
reference is ``sklearn.neural_network.MLPClassifier`` with the same network (50 relu units,
softmax output), optimizer (SGD, learning rate 0.01, momentum 0.9, no Nesterov, no L2), batch
size 32 and 100 epochs, trained once per model in the same process. scikit-learn evaluates
nothing per epoch, while the engine also evaluates loss and accuracy on all 1,000 rows after
every epoch, so the comparison favours scikit-learn. The engine's time is the training call's
wall time after compilation (best of 3); "first call" includes tracing and compilation (or the
persistent cache's load).

Run: ``python benchmarks/bench_engine.py [--models 1 10 100 300] [--sklearn-models 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import jax
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from losslab.results import train
from losslab.problems import get_problem


def engine_ms_per_model(n_models: int, repeats: int = 3) -> tuple[float, float]:
    """(best ms per model over ``repeats`` timed runs, first-call seconds incl. compile)."""
    problem = get_problem("blobs")
    start = time.perf_counter()
    train(problem, ["categorical_crossentropy"], seeds=range(n_models))
    first = time.perf_counter() - start
    best = min(
        train(problem, ["categorical_crossentropy"], seeds=range(n_models)).timings["train_s"]
        for _ in range(repeats)
    )
    return 1000 * best / n_models, first


def sklearn_ms_per_model(n_models: int) -> float:
    """Mean ms per model of scikit-learn's MLPClassifier with the tutorial's settings."""
    problem = get_problem("blobs")
    start = time.perf_counter()
    for seed in range(n_models):
        model = MLPClassifier(
            hidden_layer_sizes=(50,), activation="relu", solver="sgd", learning_rate_init=0.01,
            momentum=0.9, nesterovs_momentum=False, batch_size=32, max_iter=100, shuffle=True,
            alpha=0.0, tol=0.0, n_iter_no_change=10**9, random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(problem.X_train, problem.y_train)
    return 1000 * (time.perf_counter() - start) / n_models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[1, 10, 100, 300])
    parser.add_argument("--sklearn-models", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"jax {jax.__version__} on {jax.devices()[0].platform}")
    sk = sklearn_ms_per_model(args.sklearn_models)
    print(f"scikit-learn MLPClassifier: {sk:.1f} ms/model (mean of {args.sklearn_models})")
    print(f"{'models':>7} {'engine ms/model':>16} {'first call s':>13} {'sklearn/engine':>15}")
    for n in args.models:
        ms, first = engine_ms_per_model(n)
        print(f"{n:>7} {ms:>16.2f} {first:>13.2f} {sk / ms:>15.1f}")


if __name__ == "__main__":
    main()
