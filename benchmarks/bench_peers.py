"""Per-model wall time and peak memory of losslab against its peers, side by side in one run.

Four ways to train many copies of the blobs case study's network, each with the same work:

- **losslab**: ``losslab.train(problem, ["categorical_crossentropy"], seeds=range(N))``, the call
  users write (the N runs are vectorised by the engine).
- **scikit-learn**: ``MLPClassifier`` (50 relu units, softmax output, SGD, no L2, no Nesterov),
  one model after another. With ``--peer-eval all`` it trains one epoch per ``partial_fit`` call
  and evaluates after each (its ``random_state`` is a ``RandomState`` object, so every epoch draws
  a fresh row order, as ``fit`` would); with ``--peer-eval none`` it is a plain ``fit``.
  Initialisation is scikit-learn's own (Glorot-style); it computes in float32 (the data are float32).
- **Keras 3 on JAX** (``KERAS_BACKEND=jax``): one ``Sequential`` model per fit, as users write it:
  ``clear_session``, ``set_random_seed(seed)``, build (``he_uniform`` hidden kernel, the Keras
  default elsewhere), ``compile``, ``fit(..., batch_size=32, shuffle=True, verbose=0)``. Every
  model's time includes its build, its compilation (JAX traces and compiles each new model's
  train step) and its fit. With ``--peer-eval all`` the fit gets
  ``validation_data=(all 1,000 rows)``, so Keras evaluates loss and accuracy on every row after
  every epoch (in its default validation batches of 32).
- **torch.func ensemble** (PyTorch's idiom for many small models, eager mode, no
  ``torch.compile``): N ``nn.Sequential(Linear(2, 50), ReLU(), Linear(50, 3))`` modules (Keras's
  initialisers: He-uniform hidden, Glorot-uniform output, zero biases), stacked with
  ``torch.func.stack_module_state``; forward ``torch.vmap(functional_call)``; loss = the sum over
  models of each model's mean cross-entropy (so each model gets its own gradient); one
  ``torch.optim.SGD(lr=0.01, momentum=0.9)`` over the stacked tensors (the update is elementwise,
  so this is per-model SGD with momentum; PyTorch's ``v = mu v + g; w -= lr v`` equals Keras's
  ``v = mu v - lr g; w += v`` at a constant rate). Each model has its own row order every epoch
  (``argsort`` of uniform draws per model); batches of 32 with the last partial batch kept.
  ``torch.set_num_threads(--threads)``, default all cores. Module construction and stacking are
  inside the timed call (``setup_s`` in the JSON says how much).

The problem is ``losslab.problems.get_problem("blobs")``: ``make_blobs(1000, centers=3,
n_features=2, cluster_std=2, random_state=2)``, the first 500 rows train, the last 500 test;
2 inputs, 50 relu units, 3 softmax outputs, categorical cross-entropy, SGD learning rate 0.01,
momentum 0.9, batch 32 (16 updates per epoch), 100 epochs. The peers get the same arrays
(float32) from the same generator. losslab always evaluates loss and accuracy on all 1,000 rows
(train and test) after every epoch; with ``--peer-eval all`` (the default) every peer does the
same work (one forward pass over every row, the loss and the accuracy, after every epoch), with
``--peer-eval none`` the peers evaluate nothing and the table says so.

**Model-count mode** (``--mode models``): N = ``--models`` (1, 10, 100, 300, 1000, 10000).
**Rows mode** (``--mode rows``): a fixed ``--rows-models`` (16) models on
``make_blobs(rows, same centres and spread, random_state=2)``, first half train, last half test,
for ``--rows`` 1k, 10k, 100k, 1M total rows; fewer epochs on big data:
``epochs = max(1, round(100 * 1000 / rows))``, i.e. 100, 10, 1, 1 (about 1,600 updates per model,
except 1M rows: 1 epoch = 15,625 updates), or ``--rows-epochs``. The 1k row is the blobs problem
itself (built as a data problem with the fixed split, ``Settings(hidden=(50,), epochs=100)``).

**Timing.** Every (peer, configuration) runs in a fresh Python subprocess. Inside it, after the
imports and the data: one warm-up (losslab: the very same call, reported as "first call", which
includes tracing and compilation or the persistent cache's load; torch.func: the same N models
for 1 epoch of at most 20 batches, with the evaluation; scikit-learn and Keras: one model for 1
epoch), then ``--repeats`` (3) timed repeats, fewer (at least one) once the repeats together
took ``--max-repeat-s`` (300 s; the table marks such cells "[k runs]"), and the best is
reported, divided by the number of models trained in it. losslab's
number is the wall time of the whole ``train()`` call (planning, engine, tidy tables); the
engine's own ``timings["train_s"]`` is reported beside it. scikit-learn and Keras train one model
after another, so their per-model time does not depend on N: they train
``min(N, --sklearn-cap / --keras-cap)`` models per repeat (default 100 and 5) and the table says
"k of N" wherever fewer than N were trained; nothing is extrapolated beyond that per-model mean.
Per-model times on a shared machine vary with other load: run on a quiet machine (the harness
warns when the 1-minute load average is above 0.5, and records it per configuration). On a loaded
2-core machine PyTorch's two OpenMP threads lose 5-50x (1.2-3.5 ms per step with one thread, 7-100 ms
with two, measured under a load of 5), so a torch.func figure taken under load is worthless; XLA's
thread pool suffers too, less.

**Memory.** Peak resident memory of the child process (``ru_maxrss`` from ``os.wait4``),
including the interpreter and the libraries it imported; "after setup" is the child's
``ru_maxrss`` after imports and data, before any training, so peak minus after-setup is about what
training added. scikit-learn's child imports neither JAX nor PyTorch, torch's child no JAX.

**GPU.** ``--device cuda`` runs torch.func on the GPU; losslab and Keras run on whatever device
JAX has (``jax[cuda]`` installed: the GPU); scikit-learn always runs on the CPU. Record a GPU
run only when one was made; never estimate it.

Run (full benchmark, quiet machine; about an hour on the 2-core machine, 45-90 minutes: torch.func
at 10,000 models and Keras, one model at a time, take most of it)::

    pip install -e '.[bench]'
    python benchmarks/bench_peers.py --json benchmarks/peers.json --markdown benchmarks/peers.md

which is the same as::

    python benchmarks/bench_peers.py --mode both --peers losslab sklearn keras torch \\
        --models 1 10 100 300 1000 10000 --repeats 3 --max-repeat-s 300 --sklearn-cap 100 --keras-cap 5 \\
        --rows 1000 10000 100000 1000000 --rows-models 16 \\
        --json benchmarks/peers.json --markdown benchmarks/peers.md

Smoke test of the harness (2-3 minutes; not a measurement)::

    python benchmarks/bench_peers.py --models 1 10 --epochs 2 --repeats 1 --rows 1000 10000 \\
        --rows-epochs 2 1 --keras-cap 2 --sklearn-cap 5 --markdown /tmp/smoke.md

On a GPU machine (with ``jax[cuda]`` and a CUDA build of torch)::

    python benchmarks/bench_peers.py --device cuda --json benchmarks/peers_gpu.json \\
        --markdown benchmarks/peers_gpu.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEERS = ("losslab", "sklearn", "keras", "torch")
PEER_NAMES = {"losslab": "losslab", "sklearn": "scikit-learn", "keras": "Keras 3 (JAX)", "torch": "torch.func"}
HIDDEN, N_CLASSES, BATCH, LR, MOMENTUM = 50, 3, 32, 0.01, 0.9
BLOBS_ROWS, BLOBS_EPOCHS = 1000, 100


def rows_epochs(rows: int) -> int:
    """Epochs for ``rows`` total rows in rows mode: about the tutorial's 1,600 updates, at least 1."""
    return max(1, round(BLOBS_EPOCHS * BLOBS_ROWS / rows))


# ----------------------------------------------------------------------------------------------
# Child side: one (peer, configuration) per process. Only the peer's own libraries are imported.
# ----------------------------------------------------------------------------------------------


def _maxrss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _blobs(rows: int):
    """The blobs generator at ``rows`` rows: first half train, last half test (float32, int64)."""
    import numpy as np
    from sklearn.datasets import make_blobs

    X, y = make_blobs(n_samples=rows, centers=N_CLASSES, n_features=2, cluster_std=2, random_state=2)
    n = rows // 2
    X, y = X.astype(np.float32), y.astype(np.int64)
    return X[:n], y[:n], X[n:], y[n:]


def _np_evaluate(proba, y_all, n_train: int):
    """(train loss, train accuracy, test loss, test accuracy) of predicted probabilities."""
    import numpy as np

    p = np.clip(proba[np.arange(len(y_all)), y_all], 1e-7, 1.0)
    nll, hit = -np.log(p), proba.argmax(axis=1) == y_all
    return nll[:n_train].mean(), hit[:n_train].mean(), nll[n_train:].mean(), hit[n_train:].mean()


def _best(times: list[float]) -> float:
    return min(times) if times else math.nan


def _repeat(spec: dict, once) -> list:
    """Call ``once()`` (returning its seconds first) ``spec["repeats"]`` times, or fewer (at least
    one) once the timed calls together have taken ``spec["max_repeat_s"]`` seconds."""
    outcomes = []
    while len(outcomes) < spec["repeats"]:
        outcomes.append(once())
        if sum(o[0] for o in outcomes) > spec["max_repeat_s"]:
            break
    return outcomes


def child_losslab(spec: dict) -> dict:
    import jax
    import numpy as np

    import losslab
    from losslab.problems import Problem, get_problem
    from losslab.results import train
    from losslab.settings import Settings

    rows, epochs, n = spec["rows"], spec["epochs"], spec["models"]
    settings = Settings(hidden=(HIDDEN,), epochs=epochs)
    if spec["mode"] == "models":
        problem, options = get_problem("blobs"), {}
        X_tr, y_tr, X_te, y_te = _blobs(rows)  # the same arrays, checked
        assert np.allclose(problem.X_train, X_tr) and (problem.y_test == y_te).all()
    else:
        X_tr, y_tr, X_te, y_te = _blobs(rows)
        problem = Problem(name=f"blobs_{rows}", kind="multiclass", X_train=X_tr, y_train=y_tr, X_test=X_te,
                          y_test=y_te, n_classes=N_CLASSES, class_names=("0", "1", "2"))
        options = {"split": "fixed", "validation": 0.0}
    setup = _maxrss_mib()

    def once():
        start = time.perf_counter()
        study = train(problem, ["categorical_crossentropy"], seeds=range(n), settings=settings, **options)
        return time.perf_counter() - start, study

    first, study = once()
    outcomes = _repeat(spec, once)
    walls = [wall for wall, _ in outcomes]
    engine = [study.timings["train_s"] for _, study in outcomes]
    study = outcomes[-1][1]
    runs = study.runs
    accuracy = float(((runs["train_metric"] + runs["test_metric"]) / 2).mean())
    return {
        "timed_models": n, "times_s": walls, "best_s": _best(walls), "first_s": first,
        "warmup": "the same call (first call: tracing + compilation or the persistent cache's load)",
        "extra": {"engine_train_s": engine, "engine_best_s": _best(engine), "compile_s": study.timings.get("compile_s"),
                  "splits": list(study.plan.splits), "epochs_trained": int(study.history["epoch"].max())},
        "accuracy_all_rows": accuracy, "rss_setup_mib": setup,
        "versions": {"losslab": losslab.__version__, "jax": jax.__version__},
        "device": str(jax.devices()[0].platform),
    }


def child_sklearn(spec: dict) -> dict:
    import warnings

    import numpy as np
    import sklearn
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X_tr, y_tr, X_te, y_te = _blobs(spec["rows"])
    X_all, y_all = np.concatenate([X_tr, X_te]), np.concatenate([y_tr, y_te])
    classes = np.arange(N_CLASSES)
    evaluate = spec["peer_eval"] == "all"
    setup = _maxrss_mib()

    def one(seed: int, epochs: int) -> float:
        model = MLPClassifier(
            hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd", learning_rate_init=LR,
            momentum=MOMENTUM, nesterovs_momentum=False, batch_size=BATCH, max_iter=epochs, shuffle=True,
            alpha=0.0, tol=0.0, n_iter_no_change=10**9, random_state=np.random.RandomState(seed),
        )
        if not evaluate:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X_tr, y_tr)
            return float("nan")
        history = np.empty((epochs, 4))
        for epoch in range(epochs):  # one epoch per call; the RandomState object keeps drawing new orders
            model.partial_fit(X_tr, y_tr, classes=classes)
            history[epoch] = _np_evaluate(model.predict_proba(X_all), y_all, len(y_tr))
        return float((history[-1, 1] + history[-1, 3]) / 2)

    return _sequential(spec, one, spec["sklearn_cap"], setup,
                       {"scikit-learn": sklearn.__version__, "numpy": np.__version__}, "cpu")


def child_keras(spec: dict) -> dict:
    os.environ["KERAS_BACKEND"] = "jax"
    import jax
    import keras
    import numpy as np

    X_tr, y_tr, X_te, y_te = _blobs(spec["rows"])
    X_all, y_all = np.concatenate([X_tr, X_te]), np.concatenate([y_tr, y_te])
    Y_tr, Y_all = np.eye(N_CLASSES, dtype=np.float32)[y_tr], np.eye(N_CLASSES, dtype=np.float32)[y_all]
    evaluate = spec["peer_eval"] == "all"
    setup = _maxrss_mib()

    def one(seed: int, epochs: int) -> float:
        keras.backend.clear_session()
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([
            keras.Input(shape=(2,)),
            keras.layers.Dense(HIDDEN, activation="relu", kernel_initializer="he_uniform"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=LR, momentum=MOMENTUM),
                      loss="categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(X_tr, Y_tr, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0,
                            validation_data=(X_all, Y_all) if evaluate else None)
        return float(history.history["val_accuracy"][-1]) if evaluate else float("nan")

    return _sequential(spec, one, spec["keras_cap"], setup,
                       {"keras": keras.__version__, "jax": jax.__version__}, str(jax.devices()[0].platform))


def _sequential(spec: dict, one, cap: int, setup: float, versions: dict, device: str) -> dict:
    """Time a peer that trains one model after another: ``min(models, cap)`` models per repeat."""
    k = min(spec["models"], cap)
    start = time.perf_counter()
    one(10**6, 1)  # warm-up: one model, one epoch (imports, first compilations)
    first = time.perf_counter() - start

    def once():
        start = time.perf_counter()
        accuracy = [one(seed, spec["epochs"]) for seed in range(k)]
        return time.perf_counter() - start, accuracy

    outcomes = _repeat(spec, once)
    times, accuracy = [t for t, _ in outcomes], outcomes[-1][1]
    return {
        "timed_models": k, "times_s": times, "best_s": _best(times), "first_s": first,
        "warmup": "one model, 1 epoch", "extra": {},
        "accuracy_all_rows": float(sum(accuracy) / len(accuracy)) if accuracy else math.nan,
        "rss_setup_mib": setup, "versions": versions, "device": device,
    }


def child_torch(spec: dict) -> dict:
    import copy

    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.func import functional_call, stack_module_state

    torch.set_num_threads(spec["threads"])
    device = torch.device("cuda" if spec["device"] == "cuda" else "cpu")
    X_tr, y_tr, X_te, y_te = _blobs(spec["rows"])
    n_train = len(y_tr)
    X_tr_t, y_tr_t = torch.from_numpy(X_tr).to(device), torch.from_numpy(y_tr).to(device)
    X_all = torch.from_numpy(np.concatenate([X_tr, X_te])).to(device)
    y_all = torch.from_numpy(np.concatenate([y_tr, y_te])).to(device)
    evaluate = spec["peer_eval"] == "all"
    n_batches = math.ceil(n_train / BATCH)
    setup = _maxrss_mib()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def fit(n: int, epochs: int, most_batches: int | None = None) -> tuple[float, float]:
        """Train ``n`` models (``most_batches`` per epoch at most: the warm-up); (setup seconds,
        mean final accuracy on all rows)."""
        start = time.perf_counter()
        torch.manual_seed(0)
        generator = torch.Generator(device=device).manual_seed(0)
        models = []
        for _ in range(n):
            model = nn.Sequential(nn.Linear(2, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, N_CLASSES))
            nn.init.kaiming_uniform_(model[0].weight, nonlinearity="relu")  # = Keras he_uniform
            nn.init.xavier_uniform_(model[2].weight)  # = Keras glorot_uniform
            nn.init.zeros_(model[0].bias)
            nn.init.zeros_(model[2].bias)
            models.append(model)
        params, buffers = stack_module_state(models)
        params = {name: p.detach().to(device).requires_grad_(True) for name, p in params.items()}
        buffers = {name: b.to(device) for name, b in buffers.items()}
        base = copy.deepcopy(models[0]).to("meta")
        del models

        def forward(p, b, x):
            return functional_call(base, (p, b), (x,))

        batched = torch.vmap(forward)  # each model its own batch
        shared = torch.vmap(forward, in_dims=(0, 0, None))  # every model on the same rows
        optimizer = torch.optim.SGD(params.values(), lr=LR, momentum=MOMENTUM)
        history = torch.empty(n, epochs, 4, device=device)
        sync()
        setup_s = time.perf_counter() - start
        for epoch in range(epochs):
            order = torch.rand(n, n_train, generator=generator, device=device).argsort(dim=1)
            for b in range(n_batches if most_batches is None else min(n_batches, most_batches)):
                index = order[:, b * BATCH:(b + 1) * BATCH]
                logits = batched(params, buffers, X_tr_t[index])  # (n, batch, classes)
                # the sum over models of each model's mean loss: every model gets its own gradient
                loss = F.cross_entropy(logits.reshape(-1, N_CLASSES), y_tr_t[index].reshape(-1),
                                       reduction="sum") / index.shape[1]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            if evaluate:
                with torch.no_grad():
                    logits = shared(params, buffers, X_all)  # (n, rows, classes)
                    nll = F.cross_entropy(logits.reshape(-1, N_CLASSES), y_all.repeat(n),
                                          reduction="none").view(n, -1)
                    hit = (logits.argmax(dim=-1) == y_all).float()
                    history[:, epoch, 0], history[:, epoch, 1] = nll[:, :n_train].mean(1), hit[:, :n_train].mean(1)
                    history[:, epoch, 2], history[:, epoch, 3] = nll[:, n_train:].mean(1), hit[:, n_train:].mean(1)
        final = history[:, -1].cpu().numpy()  # waits for the device
        return setup_s, float(((final[:, 1] + final[:, 3]) / 2).mean()) if evaluate else math.nan

    n = spec["models"]
    start = time.perf_counter()
    fit(n, 1, most_batches=20)
    first = time.perf_counter() - start

    def once():
        start = time.perf_counter()
        setup_s, accuracy = fit(n, spec["epochs"])
        return time.perf_counter() - start, setup_s, accuracy

    outcomes = _repeat(spec, once)
    times, setups, accuracy = [o[0] for o in outcomes], [o[1] for o in outcomes], outcomes[-1][2]
    return {
        "timed_models": n, "times_s": times, "best_s": _best(times), "first_s": first,
        "warmup": "the same models, 1 epoch of at most 20 batches, with the evaluation", "extra": {"setup_s": setups, "threads": torch.get_num_threads()},
        "accuracy_all_rows": accuracy, "rss_setup_mib": setup,
        "versions": {"torch": torch.__version__}, "device": str(device),
    }


CHILDREN = {"losslab": child_losslab, "sklearn": child_sklearn, "keras": child_keras, "torch": child_torch}


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    load_before = os.getloadavg()[0]
    result = CHILDREN[spec["peer"]](spec)
    result["rss_end_mib"] = _maxrss_mib()
    result["load_1min"] = [load_before, os.getloadavg()[0]]
    print("RESULT " + json.dumps(result), flush=True)


# ----------------------------------------------------------------------------------------------
# Parent side: spawn the children, collect the results, print and write the tables.
# ----------------------------------------------------------------------------------------------


def run_child(spec: dict, timeout: float) -> dict:
    """Run one configuration in a fresh interpreter; its result with the peak RSS of the process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen([sys.executable, os.path.abspath(__file__), "_child", json.dumps(spec)],
                                   stdout=out, stderr=err)
        deadline, status, usage, timed_out = time.monotonic() + timeout, None, None, False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()  # our own child, by its id
                _, status, usage = os.wait4(process.pid, 0)
                timed_out = True
                break
            time.sleep(0.2)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("RESULT ")]
        errors = err.read().strip().splitlines()
    peak = usage.ru_maxrss / 1024
    if timed_out:
        return {"status": f"timeout after {timeout:.0f} s", "peak_rss_mib": peak}
    if process.returncode != 0 or not lines:
        tail = " | ".join(errors[-3:]) if errors else "no output"
        return {"status": f"failed (exit {process.returncode}): {tail}", "peak_rss_mib": peak}
    result = json.loads(lines[-1][len("RESULT "):])
    result.update(status="ok", peak_rss_mib=peak,
                  ms_per_model=1000 * result["best_s"] / result["timed_models"])
    return result


def machine() -> dict:
    info = {"python": platform.python_version(), "cores": os.cpu_count(), "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)}
    try:
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor() or platform.machine()
    if shutil.which("nvidia-smi"):
        query = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True, check=False)
        info["gpu"] = query.stdout.strip() or None
    return info


def _cell_time(result: dict | None, sampled: bool) -> str:
    if result is None:
        return "-"
    if result["status"] != "ok":
        return "failed" if result["status"].startswith("failed") else result["status"].split(" after")[0]
    ms = result["ms_per_model"]
    text = f"{ms:.3g}" if ms < 100 else f"{ms:.0f}"
    if sampled and result["timed_models"] < result["models"]:
        text += f" ({result['timed_models']} of {result['models']})"
    if len(result["times_s"]) < result["repeats"]:
        text += f" [{len(result['times_s'])} run{'s' if len(result['times_s']) > 1 else ''}]"
    return text


def _cell_memory(result: dict | None) -> str:
    if result is None:
        return "-"
    setup = result.get("rss_setup_mib")
    return f"{result['peak_rss_mib']:.0f}" + (f" ({setup:.0f})" if setup is not None else "")


def _ratio(peer: dict | None, ours: dict | None) -> str:
    if not peer or not ours or peer["status"] != "ok" or ours["status"] != "ok":
        return "-"
    return f"{peer['ms_per_model'] / ours['ms_per_model']:.3g}"


def markdown(results: list[dict], args: argparse.Namespace, info: dict) -> str:
    peers = [p for p in PEERS if p in args.peers]
    by = {(r["mode"], r["peer"], r["models"], r["rows"]): r for r in results}
    versions: dict[str, str] = {}
    for r in results:
        versions.update(r.get("versions", {}))
    devices = sorted({f"{PEER_NAMES[r['peer']]}: {r['device']}" for r in results if r.get("device")})
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB"
        + (f", GPU {info['gpu']}" if info.get("gpu") else ", no GPU") + f"; Python {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".",
        f"Devices: {'; '.join(devices)}. Measured {time.strftime('%Y-%m-%d')}.",
        "Per-model evaluation: losslab evaluates loss and accuracy on every row after every epoch; the peers "
        + ("do the same (--peer-eval all)." if args.peer_eval == "all" else "evaluate nothing (--peer-eval none)."),
        f"Best of {args.repeats} (fewer where the repeats passed {args.max_repeat_s:.0f} s) after a warm-up, ms per model; 'k of N': the peer trains one model after another "
        "and k models were timed.",
        "",
    ]
    if "models" in args.modes:
        lines += [f"### Per-model time, blobs, {args.epochs} epochs", ""]
        head = ["models"] + [f"{PEER_NAMES[p]} ms/model" for p in peers]
        if "losslab" in peers:
            head.insert(2, "losslab engine ms/model")
            head.insert(3, "losslab first call s")
        head += [f"{PEER_NAMES[p]} / losslab" for p in peers if p != "losslab" and "losslab" in peers]
        lines += ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for n in args.models:
            get = {p: by.get(("models", p, n, BLOBS_ROWS)) for p in peers}
            row = [str(n)] + [_cell_time(get[p], True) for p in peers]
            if "losslab" in peers:
                ours = get["losslab"]
                ok = ours and ours["status"] == "ok"
                row.insert(2, f"{1000 * ours['extra']['engine_best_s'] / n:.3g}" if ok else "-")
                row.insert(3, f"{ours['first_s']:.2f}" if ok else "-")
                row += [_ratio(get[p], ours) for p in peers if p != "losslab"]
            lines.append("| " + " | ".join(row) + " |")
        lines += ["", "Peak memory, MiB (after imports and data, before training, in brackets):", ""]
        head = ["models"] + [PEER_NAMES[p] for p in peers]
        lines += ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for n in args.models:
            lines.append("| " + " | ".join([str(n)] + [_cell_memory(by.get(("models", p, n, BLOBS_ROWS)))
                                                       for p in peers]) + " |")
        lines.append("")
    if "rows" in args.modes:
        lines += [f"### Rows scaling, {args.rows_models} models", ""]
        head = ["rows", "epochs"] + [f"{PEER_NAMES[p]} ms/model" for p in peers] + \
            [f"{PEER_NAMES[p]} ms/model/epoch" for p in peers]
        lines += ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for rows, epochs in zip(args.rows, args.rows_epochs):
            get = {p: by.get(("rows", p, args.rows_models, rows)) for p in peers}
            per_epoch = [f"{get[p]['ms_per_model'] / epochs:.3g}" if get[p] and get[p]["status"] == "ok" else "-"
                         for p in peers]
            lines.append("| " + " | ".join([f"{rows:,}", str(epochs)] + [_cell_time(get[p], True) for p in peers]
                                           + per_epoch) + " |")
        lines += ["", "Peak memory, MiB (after imports and data in brackets):", ""]
        head = ["rows"] + [PEER_NAMES[p] for p in peers]
        lines += ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
        for rows in args.rows:
            lines.append("| " + " | ".join([f"{rows:,}"] + [_cell_memory(by.get(("rows", p, args.rows_models, rows)))
                                                            for p in peers]) + " |")
        lines.append("")
    problems = [r for r in results if r["status"] != "ok"]
    if problems:
        lines += ["Failures:", ""] + [f"- {PEER_NAMES[r['peer']]}, {r['mode']} mode, {r['models']} models, "
                                      f"{r['rows']:,} rows: {r['status']}" for r in problems] + [""]
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["models", "rows", "both"], default="both")
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--models", type=int, nargs="+", default=[1, 10, 100, 300, 1000, 10000])
    parser.add_argument("--epochs", type=int, default=BLOBS_EPOCHS, help="epochs in model-count mode (100)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats after the warm-up; the best is kept")
    parser.add_argument("--max-repeat-s", type=float, default=300,
                        help="stop repeating a configuration once its timed repeats took this long (at least one)")
    parser.add_argument("--sklearn-cap", type=int, default=100, help="most scikit-learn models timed per repeat")
    parser.add_argument("--keras-cap", type=int, default=5, help="most Keras models timed per repeat")
    parser.add_argument("--rows", type=int, nargs="+", default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--rows-models", type=int, default=16, help="models in rows mode")
    parser.add_argument("--rows-epochs", type=int, nargs="+", default=None,
                        help="epochs per --rows entry (default max(1, round(100 * 1000 / rows)))")
    parser.add_argument("--peer-eval", choices=["all", "none"], default="all",
                        help="whether the peers evaluate loss and accuracy on every row after every epoch, as losslab does")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="torch.func's device")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per configuration")
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    args.modes = ["models", "rows"] if args.mode == "both" else [args.mode]
    if args.rows_epochs is None:
        args.rows_epochs = [rows_epochs(r) for r in args.rows]
    if len(args.rows_epochs) != len(args.rows):
        parser.error("--rows-epochs needs one value per --rows entry")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB, gpu: {info.get('gpu')}", flush=True)
    load = os.getloadavg()[0]
    if load > 0.5:
        print(f"warning: 1-minute load average {load:.1f}: the machine is not quiet, timings will be inflated "
              "(torch's and XLA's thread pools suffer most)", flush=True)
    configs = []
    if "models" in args.modes:
        configs += [("models", n, BLOBS_ROWS, args.epochs) for n in args.models]
    if "rows" in args.modes:
        configs += [("rows", args.rows_models, rows, epochs) for rows, epochs in zip(args.rows, args.rows_epochs)]
    results = []
    for mode, n, rows, epochs in configs:
        for peer in (p for p in PEERS if p in args.peers):
            spec = {"peer": peer, "mode": mode, "models": n, "rows": rows, "epochs": epochs, "repeats": args.repeats,
                    "max_repeat_s": args.max_repeat_s, "sklearn_cap": args.sklearn_cap, "keras_cap": args.keras_cap, "peer_eval": args.peer_eval,
                    "device": args.device, "threads": args.threads}
            start = time.perf_counter()
            result = {**spec, **run_child(spec, args.timeout), "child_wall_s": None}
            result["child_wall_s"] = time.perf_counter() - start
            results.append(result)
            shown = (f"{result['ms_per_model']:.3f} ms/model ({result['timed_models']} timed), "
                     f"acc {result['accuracy_all_rows']:.3f}" if result["status"] == "ok" else result["status"])
            load = result.get("load_1min")
            print(f"{mode:>6} {PEER_NAMES[peer]:>14} models={n:<6} rows={rows:<8} epochs={epochs:<4} {shown}, "
                  f"peak {result['peak_rss_mib']:.0f} MiB, child {result['child_wall_s']:.1f} s"
                  + (f", load {load[0]:.1f}->{load[1]:.1f}" if load else ""), flush=True)
            if args.json:  # after every configuration, so an interrupted run keeps what it measured
                args.json.write_text(json.dumps({"machine": info, "args": {k: (str(v) if isinstance(v, Path) else v)
                                                                           for k, v in vars(args).items()},
                                                 "results": results}, indent=1))
    table = markdown(results, args, info)
    if args.markdown:
        args.markdown.write_text(table)
    print("\n" + table, flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "_child":
        child_main(sys.argv[2])
    else:
        main()
