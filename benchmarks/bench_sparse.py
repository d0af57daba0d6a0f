"""Peak memory and time of training with one-hot targets vs integer targets, many classes.

For each class count, three ways to train the same multiclass MLP (20 inputs, 50 relu units,
softmax over ``classes`` outputs, SGD, batch 32) on the same synthetic data and seeds:

- ``categorical``: ``categorical_crossentropy``, targets one-hot encoded by the plan
  (a float32 ``(rows, classes)`` array on the host and in the program);
- ``sparse one-hot``: ``sparse_categorical_crossentropy``, int32 targets, with the loss forced to
  its one-hot form (``SPARSE_GATHER_CLASSES`` raised above the class count: losslab before the
  gather form, and still what it does below the threshold);
- ``sparse gather``: ``sparse_categorical_crossentropy`` with the gather form forced (the
  threshold lowered to 1: what losslab does from ``SPARSE_GATHER_CLASSES`` classes up).

Every configuration runs in a fresh Python process, so that one's allocations cannot raise
another's peak; the parent reads the child's peak resident set size from ``os.wait4``
(``ru_maxrss``). The child also reports its peak before training (imports, data, plan), and the
engine's training time (``Study.timings["train_s"]``, compilation excluded; the persistent
compilation cache may make compile times differ between runs).

Data: ``rows`` rows of class labels drawn uniformly from ``classes`` classes, features the
class's random centre plus unit noise, the last quarter of rows the test split (``split="fixed"``,
no validation). The problem is built with the ``Problem`` constructor and an explicit
``n_classes``: ``Problem.from_arrays`` splits with stratification, which needs two rows of every
class (20,000 rows at 10,000 classes), and the engine evaluates every row after each epoch for
16 runs at once, ``16 x rows x classes`` floats, which at 20,000 rows x 10,000 classes is
12.8 GB per copy (the plan refuses it). So the 10,000-class problem has fewer rows (default 4,000).

A second table times the loss alone at the engine's shapes (``runs=16``), one-hot vs gather form,
each compiled by ``jax.jit`` with XLA's own count of its temporary buffers
(``memory_analysis().temp_size_in_bytes``): the probability form on ``(16, rows, classes)``, as
evaluated on every row after each epoch, and the gradient of the from-logits form on
``(16, 32, classes)``, as taken at every training step.

Run: ``python benchmarks/bench_sparse.py [--classes 10 100 300 1000 10000] [--repeats 2] [--skip-training]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time

FORMS = ("categorical", "sparse one-hot", "sparse gather")
#: Rows per class count: 20,000 where the plan's memory check lets 16 runs evaluate them all.
DEFAULT_ROWS = {10_000: 4_000}


def _peak_rss_bytes() -> int:
    """This process's peak resident set size so far (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def child(classes: int, rows: int, form: str, epochs: int, seeds: int) -> dict[str, float]:
    """Train one configuration in this process and return its measurements."""
    import numpy as np

    import losslab
    from losslab.losses import _classification
    from losslab.problems import Problem
    from losslab.results import run

    if form == "sparse one-hot":
        _classification.SPARSE_GATHER_CLASSES = classes + 1
    elif form == "sparse gather":
        _classification.SPARSE_GATHER_CLASSES = 1
    loss = "categorical_crossentropy" if form == "categorical" else "sparse_categorical_crossentropy"

    rng = np.random.default_rng(0)
    y = rng.integers(0, classes, rows)
    X = (rng.normal(size=(classes, 20))[y] + rng.normal(size=(rows, 20))).astype(np.float32)
    n_train = rows * 3 // 4
    problem = Problem("synthetic", "multiclass", X[:n_train], y[:n_train], X[n_train:], y[n_train:],
                      n_classes=classes)
    plan = losslab.plan(problem, [loss], range(seeds), losslab.Settings(epochs=epochs, hidden=(50,)),
                        split="fixed", validation=0.0)
    targets = plan.targets[loss]
    before = _peak_rss_bytes()
    start = time.perf_counter()
    study = run(plan)
    wall = time.perf_counter() - start
    final = study.history[(study.history["epoch"] == epochs) & (study.history["split"] == "train")]
    return {"peak_before_train": before, "wall_s": wall, "train_s": study.timings["train_s"],
            "compile_s": study.timings["compile_s"], "target_bytes": targets.train.nbytes + targets.test.nbytes,
            "train_loss": float(final["loss_value"].mean())}


def measure(classes: int, rows: int, form: str, epochs: int, seeds: int) -> dict[str, float]:
    """Run one configuration in a fresh process; add its peak RSS (bytes) from the kernel."""
    command = [sys.executable, __file__, "--child", str(classes), str(rows), form, str(epochs), str(seeds)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{form} at {classes} classes failed (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss"] = usage.ru_maxrss * 1024  # Linux reports KiB
    return result


def loss_only(classes: int, rows: int, repeats: int = 3) -> dict[str, tuple[float, float, float, float]]:
    """Per form: best ms and XLA temp MiB of the evaluation (probability form, ``(16, rows,
    classes)``) and of the training step's gradient (from logits, ``(16, 32, classes)``)."""
    import jax
    import jax.numpy as jnp

    from losslab.losses import _classification

    key_p, key_z, key_l, key_b = jax.random.split(jax.random.PRNGKey(0), 4)
    p = jax.random.uniform(key_p, (16, rows, classes), jnp.float32) + 1e-3
    labels = jax.random.randint(key_l, (16, rows), 0, classes)
    z = jax.random.normal(key_z, (16, 32, classes), jnp.float32)
    batch_labels = jax.random.randint(key_b, (16, 32), 0, classes)

    def best_ms(compiled, *args, n: int) -> float:
        jax.block_until_ready(compiled(*args))
        times = []
        for _ in range(n):
            start = time.perf_counter()
            jax.block_until_ready(compiled(*args))
            times.append(time.perf_counter() - start)
        return 1000 * min(times)

    result = {}
    saved = _classification.SPARSE_GATHER_CLASSES
    try:
        for form, threshold in (("sparse one-hot", classes + 1), ("sparse gather", 1)):
            _classification.SPARSE_GATHER_CLASSES = threshold
            evaluate = jax.jit(lambda y, q: _classification.sparse_categorical_crossentropy(y, q))
            evaluate = evaluate.lower(labels, p).compile()
            gradient = jax.jit(jax.grad(lambda logits, y: jnp.sum(
                _classification.sparse_categorical_crossentropy_from_logits(y, logits))))
            gradient = gradient.lower(z, batch_labels).compile()
            result[form] = (best_ms(evaluate, labels, p, n=repeats), _temp_mib(evaluate),
                            best_ms(gradient, z, batch_labels, n=20 * repeats), _temp_mib(gradient))
    finally:
        _classification.SPARSE_GATHER_CLASSES = saved
    return result


def _temp_mib(compiled) -> float:
    """XLA's temporary buffers of a compiled function, MiB."""
    return compiled.memory_analysis().temp_size_in_bytes / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, nargs="+", default=[10, 100, 300, 1_000, 10_000])
    parser.add_argument("--rows", type=int, default=None, help="rows for every class count (default: DEFAULT_ROWS)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2, help="fresh processes per configuration")
    parser.add_argument("--forms", nargs="+", choices=FORMS, default=list(FORMS))
    parser.add_argument("--skip-training", action="store_true", help="only the loss-alone table")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        classes, rows, form, epochs, seeds = args.child
        print(json.dumps(child(int(classes), int(rows), form, int(epochs), int(seeds))))
        return

    import jax

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
          f"jax {jax.__version__} on {jax.devices()[0].platform}; {args.epochs} epochs, {args.seeds} seeds "
          f"(padded to a 16-run chunk); of {args.repeats} fresh processes per row, the highest peak "
          f"and the fastest training")
    row_counts = {classes: args.rows or DEFAULT_ROWS.get(classes, 20_000) for classes in args.classes}
    if not args.skip_training:
        training_table(args, row_counts)
    print("\nThe loss alone, 16 runs: evaluation of every row (probability form) and one training step's gradient")
    print("| classes | rows | form | evaluation ms | evaluation temp MiB | step gradient ms | step gradient temp MiB |")
    print("|---:|---:|---|---:|---:|---:|---:|")
    for classes in args.classes:
        for form, (eval_ms, eval_mib, grad_ms, grad_mib) in loss_only(classes, row_counts[classes]).items():
            print(f"| {classes:,} | {row_counts[classes]:,} | {form} | {eval_ms:,.1f} | {eval_mib:,.1f} | "
                  f"{grad_ms:.3f} | {grad_mib:,.1f} |", flush=True)


def training_table(args: argparse.Namespace, row_counts: dict[int, int]) -> None:
    """One fresh process per (classes, form, repeat); the table of peak memory and time."""
    mib = 2**20
    print("| classes | rows | form | targets MiB | peak RSS MiB | spread MiB | before training MiB | "
          "training adds MiB | train s | final train loss |")
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for classes in args.classes:
        rows = row_counts[classes]
        for form in args.forms:
            runs = [measure(classes, rows, form, args.epochs, args.seeds) for _ in range(args.repeats)]
            peak = max(r["peak_rss"] for r in runs)
            spread = peak - min(r["peak_rss"] for r in runs)
            before = max(r["peak_before_train"] for r in runs)
            train_s = min(r["train_s"] for r in runs)
            print(f"| {classes:,} | {rows:,} | {form} | {runs[0]['target_bytes'] / mib:,.1f} | {peak / mib:,.0f} | "
                  f"{spread / mib:,.0f} | {before / mib:,.0f} | {(peak - before) / mib:,.0f} | {train_s:.1f} | "
                  f"{runs[0]['train_loss']:.4f} |", flush=True)


if __name__ == "__main__":
    main()
