"""Claims 6 to 9: squared hinge's smoother surface, sparse targets' memory, KL divergence as
cross-entropy, and the minimum loss against the best metric.

Each claim is an experiment (``_claim_*``) and a pure judging function (``judge_*``) that turns
the experiment's numbers into a verdict and a sentence, so that the rule can be tested on
made-up numbers. The engine's trainer (:class:`losslab.engine._Trainer`) is used directly where
an experiment needs what :func:`losslab.results.run` does not keep: the initial and final
weights (claim 6) and the compiled program's memory and one run's training time (claim 7).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Mapping, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from losslab.analysis import bootstrap_ci, bumpiness, compare, paired_tests
from losslab.claims._claim import Context, Finding, claim
from losslab.engine import _Trainer, seed_keys
from losslab.engine._cache import enable_compilation_cache
from losslab.figures._canvas import new_figure, save
from losslab.planning import StudyPlan, plan
from losslab.problems import Problem, get_problem
from losslab.registry import LossSpec, get_loss, probability_form
from losslab.results import run
from losslab.settings import Settings

ALPHA = 0.05


def _tell(ctx: Context, done: int, total: int, what: str) -> None:
    if ctx.progress:
        ctx.progress(done, total, what)


def _figure_path(ctx: Context, number: int, key: str):
    return ctx.out / f"claim{number}_{key}.png"


def _train_chunks(study_plan: StudyPlan, spec: LossSpec) -> tuple[np.ndarray, list[np.ndarray], float]:
    """Every seed of ``spec`` trained chunk by chunk: the values ``(seeds, epochs, splits, 3)``,
    the final parameter leaves (seeds first) and the seconds the training took (compilation
    excluded)."""
    enable_compilation_cache()
    trainer = _Trainer(study_plan, spec)
    values, leaves, seconds = [], [], 0.0
    for seeds in study_plan.chunks():
        start = time.perf_counter()
        chunk, final = trainer.train(seeds)
        seconds += time.perf_counter() - start
        values.append(chunk.values)
        leaves.append(final)
    final = [np.concatenate([part[i] for part in leaves]) for i in range(len(leaves[0]))]
    return np.concatenate(values), final, seconds


# --------------------------------------------------------------------------------------------
# Claim 6: squared hinge smooths the error surface
# --------------------------------------------------------------------------------------------

#: Bumps smaller than this share of a slice's range are not counted: the loss is evaluated in
#: float32, whose rounding (about 1e-7 of the loss) would otherwise read as roughness.
ROUGHNESS_FLOOR = 1e-4


def roughness(values: Sequence[float]) -> float:
    """How bumpy a 1-D slice of the loss surface is: its total variation beyond a valley's,
    in units of its range.

    With ``f_0..f_n`` the loss along the slice, ``TV = sum_i |f_{i+1} - f_i|`` and
    ``R = max(f) - min(f)``::

        roughness = (TV - (f_0 - min f) - (f_n - min f)) / R

    A valley (non-increasing down to its minimum, non-decreasing after it; a monotone slice is
    one) has exactly that much variation, so its roughness is 0 however curved or kinked it is.
    Every extra bump (a local maximum and the dip after it) adds twice its height over ``R``: a
    slice with one bump a tenth of its range high scores 0.2. It is the "total variation minus the
    monotone part" of a curve, allowing the one minimum that a slice through trained weights
    has; it reads the bumps that make a surface rough (local minima and barriers along the
    slice), not the curvature of a smooth bowl. Scale-free, so losses of different sizes
    compare. Values below :data:`ROUGHNESS_FLOOR` are float32 rounding and count as 0; a flat
    slice is 0; fewer than three points, or a non-finite value, give NaN.

    >>> roughness([3.0, 2.0, 1.0, 2.0, 4.0])  # a valley
    0.0
    >>> roughness([3.0, 1.0, 2.0, 1.0, 3.0])  # a bump of height 1 in a range of 2
    1.0
    """
    f = np.asarray(values, dtype=float)
    if f.size < 3 or not np.all(np.isfinite(f)):
        return math.nan
    spread = float(np.ptp(f))
    if spread == 0:
        return 0.0
    excess = (np.abs(np.diff(f)).sum() - (f[0] - f.min()) - (f[-1] - f.min())) / spread
    return float(excess) if excess > ROUGHNESS_FLOOR else 0.0


def _compare_paired(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """The mean paired difference ``a - b`` over the seeds where both are finite, and the
    Wilcoxon signed-rank test's p-value (zero differences dropped; 1 when all are zero)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    kept = np.isfinite(a) & np.isfinite(b)
    tests = paired_tests(a[kept], b[kept])
    return float(tests.mean_diff), float(tests.wilcoxon_pvalue)


def _direction(mean: float, p: float, level: float) -> str:
    """"lower", "higher" or "same": the sign of a paired difference that is significant at ``level``."""
    if not (math.isfinite(p) and p < level) or mean == 0:
        return "same"
    return "lower" if mean < 0 else "higher"


def judge_squared_hinge_smooths(rough_hinge: Mapping[str, Sequence[float]],
                                rough_squared: Mapping[str, Sequence[float]], bump_hinge: Sequence[float],
                                bump_squared: Sequence[float], bump_bce: Sequence[float],
                                alpha: float = ALPHA) -> tuple[str, str]:
    """The verdict on claim 6 from per-seed numbers (paired by position).

    ``rough_hinge`` and ``rough_squared`` map each kind of slice (``"path"``: initial to final
    weights; ``"random"``: filter-normalised directions) to the per-seed :func:`roughness`. Two
    parts, each by Wilcoxon signed-rank tests on the paired seeds:

    - the surface claim: squared hinge's slices are smoother than hinge's. Each kind of slice is
      tested, Holm-adjusted over the kinds at ``alpha``; the surface is *smoother* when squared
      hinge is smoother along some kind and rougher along none, *rougher* the other way round,
      *mixed* when it is smoother along one and rougher along another, else *no smoother*;
    - the tutorial's own curve observation: squared hinge's train-loss curve is bumpier
      (:func:`~losslab.analysis.bumpiness`) than both hinge's and cross-entropy's (each at ``alpha``).

    ``supported`` when the surface is smoother and the curve is not bumpier; ``depends`` when the
    surface is smoother but the curve is bumpier (on which surface is meant: the loss surface
    around the weights, or the path training takes on it), or when the kinds of slice disagree;
    ``not supported`` when the surface is no smoother or rougher (whatever the curve).
    """
    kinds = list(rough_hinge)
    tests = {kind: _compare_paired(rough_squared[kind], rough_hinge[kind]) for kind in kinds}
    order = sorted(kinds, key=lambda kind: tests[kind][1] if math.isfinite(tests[kind][1]) else 2.0)
    found, still = {}, True
    for rank, kind in enumerate(order):  # Holm: the k-th smallest p-value against alpha / (m - k)
        mean, p = tests[kind]
        still = still and math.isfinite(p) and p < alpha / (len(kinds) - rank)
        found[kind] = _direction(mean, p if still else 1.0, alpha)
    lower = [kind for kind in kinds if found[kind] == "lower"]
    higher = [kind for kind in kinds if found[kind] == "higher"]
    surface = ("mixed" if lower and higher else "smoother" if lower else "rougher" if higher else "no smoother")
    d_hinge, p_hinge = _compare_paired(bump_squared, bump_hinge)
    d_bce, p_bce = _compare_paired(bump_squared, bump_bce)
    bumpier = _direction(d_hinge, p_hinge, alpha) == "higher" and _direction(d_bce, p_bce, alpha) == "higher"
    per_kind = ", ".join(f"{kind} slices {tests[kind][0]:+.4f} (p = {tests[kind][1]:.2g})" for kind in kinds)
    compared = ("smoother than hinge along one kind of slice and rougher along another" if surface == "mixed"
                else f"{surface} than hinge")
    surface_text = f"along loss-surface slices squared hinge is {compared} (roughness difference {per_kind})"
    curve_text = (f"its train-loss curve is {'bumpier' if bumpier else 'not bumpier'} than hinge's and "
                  f"cross-entropy's (bumpiness {d_hinge:+.4f}, p = {p_hinge:.2g}; {d_bce:+.4f}, p = {p_bce:.2g})")
    if surface == "smoother" and not bumpier:
        return "supported", f"Supported: {surface_text}, and {curve_text}."
    if surface == "smoother":
        return "depends", (f"Depends on which surface is meant: {surface_text}, but {curve_text}, as the "
                           "tutorial's own figure shows.")
    if surface == "mixed":
        return "depends", f"Depends on the slice: {surface_text}; {curve_text}."
    agrees = "as the tutorial's own figure says" if bumpier else "so the tutorial's figure is not borne out either"
    return "not supported", f"Not supported: {surface_text}; {curve_text}, {agrees}."


def _filter_normalised(final: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """A Gaussian direction in weight space, each unit's incoming weights scaled to the norm of
    that unit's weights (Li et al. 2018's filter normalisation for dense layers); biases 0."""
    directions = []
    for leaf in final:
        if leaf.ndim == 3:  # W (runs, out, in): one row per unit
            d = rng.standard_normal(leaf.shape)
            d *= np.linalg.norm(leaf, axis=2, keepdims=True) / np.linalg.norm(d, axis=2, keepdims=True)
        else:
            d = np.zeros_like(leaf)
        directions.append(d.astype(np.float32))
    return directions


def _along(base: list[np.ndarray], direction: list[np.ndarray], steps: np.ndarray) -> list[np.ndarray]:
    """Leaves of ``runs x steps`` models ``base + t direction``, runs major."""
    shape = lambda leaf: (1, -1) + (1,) * (leaf.ndim - 1)  # noqa: E731
    return [(b[:, None] + steps.reshape(shape(b)) * d[:, None]).reshape((-1,) + b.shape[1:]).astype(np.float32)
            for b, d in zip(base, direction)]


def _slice_losses(study_plan: StudyPlan, spec: LossSpec, treedef, leaves: list[np.ndarray], n_runs: int) -> np.ndarray:
    """The training loss (``spec.objective``, mean over the training rows) of every model in
    ``leaves``, as ``(runs, points)``."""
    X = jnp.asarray(study_plan.problem.X_train, jnp.float32)
    y = jnp.asarray(study_plan.targets[spec.name].train)
    z, _ = study_plan.model.forward(jax.tree_util.tree_unflatten(treedef, [jnp.asarray(x) for x in leaves]), X)
    loss = jnp.mean(spec.objective(y, jnp.swapaxes(z, 1, 2)), axis=1)
    return np.asarray(loss, dtype=float).reshape(n_runs, -1)


def _at_hinge_kink(study_plan: StudyPlan, spec: LossSpec, treedef, final: list[np.ndarray]) -> float:
    """Share of (run, training row) pairs whose margin ``y tanh(z)`` reaches 1 at the final weights:
    where the hinge has its kink. A tanh output reaches 1 only when it saturates in float32."""
    X = jnp.asarray(study_plan.problem.X_train, jnp.float32)
    y = np.asarray(study_plan.targets[spec.name].train)[:, 0]
    z, _ = study_plan.model.forward(jax.tree_util.tree_unflatten(treedef, [jnp.asarray(x) for x in final]), X)
    margin = y[None, :] * np.asarray(spec.activate(z[:, 0, :]))
    return float(np.mean(margin >= 1.0))


@claim(
    6, "squared-hinge-smooths",
    "It has the effect of smoothing the surface of the error function and making it numerically easier to work "
    "with. [...] The plot of loss shows that the model converged, but the shape of the error surface is not as "
    "smooth as other loss functions where small changes to the weights are causing large changes in loss.",
    "On circles (the tutorial's MLP and SGD, 200 epochs), hinge, squared hinge and binary cross-entropy from the "
    "same paired seeds; around each run's weights, the training loss along 1-D slices (41 points): the line from "
    "the initial to the final weights, and 4 filter-normalised Gaussian directions through the final weights "
    "(Li et al. 2018, t in [-1, 1]); each slice's roughness (total variation beyond a valley's, over its range) "
    "and each train-loss curve's bumpiness, squared hinge against hinge (surface) and against both (curve), "
    "Wilcoxon signed-rank tests on the paired seeds.",
)
def _claim_squared_hinge(ctx: Context) -> Finding:
    epochs, points, n_directions = (20, 21, 1) if ctx.quick else (200, 41, 4)
    problem = get_problem("circles")
    losses = ("hinge", "squared_hinge", "binary_crossentropy")
    study_plan = plan(problem, list(losses), range(ctx.repeats), Settings(hidden=(50,), epochs=epochs))
    seeds = study_plan.seeds
    alphas, steps = np.linspace(0.0, 1.0, points), np.linspace(-1.0, 1.0, points)
    initial = study_plan.model.init(seed_keys(seeds), problem.n_features, 1)
    start_leaves, treedef = jax.tree_util.tree_flatten(initial)
    start_leaves = [np.asarray(leaf) for leaf in start_leaves]
    per_loss: dict[str, dict[str, object]] = {}
    for i, loss in enumerate(losses):
        _tell(ctx, i, len(losses), loss)
        spec = study_plan.spec(loss)
        values, final, _ = _train_chunks(study_plan, spec)
        path = _slice_losses(study_plan, spec, treedef,
                             _along(start_leaves, [f - s for f, s in zip(final, start_leaves)], alphas), len(seeds))
        around = [_slice_losses(study_plan, spec, treedef,
                                _along(final, _filter_normalised(final, np.random.default_rng([k, 6])), steps),
                                len(seeds)) for k in range(n_directions)]
        rough_path = np.array([roughness(f) for f in path])
        rough_around = np.array([[roughness(f) for f in slices] for slices in around]).mean(axis=0)
        per_loss[loss] = {
            "path": path, "around": around[0], "curve": values[:, :, 0, 0],
            "rough_path": rough_path, "rough_around": rough_around,
            "bumpiness": np.array([bumpiness(curve) for curve in values[:, :, 0, 0]]),
            "test_accuracy": values[:, -1, study_plan.splits.index("test"), 1],
            "at_kink": _at_hinge_kink(study_plan, spec, treedef, final) if spec.activation == "tanh" else math.nan,
        }
    _tell(ctx, len(losses), len(losses), "done")
    hinge, squared, bce = (per_loss[loss] for loss in losses)
    kinds = {"path": "rough_path", "random": "rough_around"}
    verdict, summary = judge_squared_hinge_smooths({kind: hinge[key] for kind, key in kinds.items()},
                                                   {kind: squared[key] for kind, key in kinds.items()},
                                                   hinge["bumpiness"], squared["bumpiness"], bce["bumpiness"])
    kink = (f" With the tutorial's tanh output the hinge's kink (margin 1) is reached only where tanh saturates in "
            f"float32: {hinge['at_kink']:.1%} of training rows at the final weights, so the hinge is smooth in the "
            "weights almost everywhere and the two losses differ mostly in curvature.")
    numbers: dict[str, object] = {"seeds": len(seeds), "epochs": epochs, "slice_points": points,
                                  "random_directions": n_directions}
    for loss in losses:
        rec = per_loss[loss]
        numbers[loss] = {
            "roughness_path_mean": float(np.nanmean(rec["rough_path"])),
            "roughness_random_mean": float(np.nanmean(rec["rough_around"])),
            "seeds_with_a_rough_path": float(np.mean(rec["rough_path"] > 0)),
            "seeds_with_a_rough_random_slice": float(np.mean(rec["rough_around"] > 0)),
            "bumpiness_mean": float(np.nanmean(rec["bumpiness"])),
            "bumpiness_median": float(np.nanmedian(rec["bumpiness"])),
            "test_accuracy_mean": float(np.nanmean(rec["test_accuracy"])),
            "rows_at_hinge_kink": rec["at_kink"],
        }
    figure = _figure_squared_hinge(per_loss, alphas, steps, _figure_path(ctx, 6, "squared-hinge-smooths"))
    return Finding(verdict, summary + kink, numbers, figure)


def _normalised(curve: np.ndarray) -> np.ndarray:
    spread = np.ptp(curve)
    return (curve - curve.min()) / spread if spread > 0 else curve * 0


def _figure_squared_hinge(per_loss: Mapping[str, Mapping[str, object]], alphas: np.ndarray, steps: np.ndarray, path):
    fig = new_figure((13, 3.8))
    axes = fig.subplots(1, 3)
    colours = {"hinge": "C0", "squared_hinge": "C3", "binary_crossentropy": "C2"}
    for loss, rec in per_loss.items():
        label = (f"{loss} (roughness {np.nanmean(rec['rough_path']):.3f} path, {np.nanmean(rec['rough_around']):.3f} "
                 f"random; bumpiness {np.nanmean(rec['bumpiness']):.3f})")
        axes[0].plot(alphas, _normalised(rec["path"][0]), color=colours[loss], label=label)
        axes[1].plot(steps, _normalised(rec["around"][0]), color=colours[loss])
        curve = rec["curve"][0]
        axes[2].plot(np.arange(1, curve.size + 1), _normalised(curve), color=colours[loss])
    axes[0].set(title="initial -> final weights (seed 0)", xlabel="alpha", ylabel="training loss, scaled to [0, 1]")
    axes[1].set(title="filter-normalised random direction (seed 0)", xlabel="t")
    axes[2].set(title="train loss over epochs (seed 0)", xlabel="epoch")
    axes[0].legend(fontsize=7)
    save(fig, path)
    return path


# --------------------------------------------------------------------------------------------
# Claim 7: sparse cross-entropy saves the one-hot targets' memory
# --------------------------------------------------------------------------------------------

#: Rows of the synthetic problem per class count: 20,000 where the one-hot fits comfortably; at
#: 10,000 classes 2,000, because the engine evaluates every row after each epoch, a rows x classes
#: float array per run (20,000 rows took 8 GB and 47 s per epoch on a 2-core machine).
SPARSE_ROWS = {10: 20_000, 1_000: 20_000, 10_000: 2_000}
QUICK_SPARSE_ROWS = {10: 2_000, 1_000: 2_000}
#: "Far less" memory: integer labels take at most this share of the one-hot's bytes.
SPARSE_MAX_SHARE = 0.1
#: Losses "agree" when the per-epoch losses differ by at most this, relative: float32 rounding
#: (the gather form from 256 classes up rounds differently), amplified a little by training.
SPARSE_LOSS_RTOL = 1e-4


def judge_sparse_memory(records: Sequence[Mapping[str, float]], min_classes: int = 1_000,
                        max_share: float = SPARSE_MAX_SHARE, rtol: float = SPARSE_LOSS_RTOL) -> tuple[str, str]:
    """The verdict on claim 7 from one record per class count: ``classes``, ``onehot_bytes`` and
    ``sparse_bytes`` (the targets the plan holds) and ``loss_rel_diff`` (the largest relative
    difference between the two losses' per-epoch values on paired seeds).

    ``supported`` when at every class count from ``min_classes`` up the integer targets take at
    most ``max_share`` of the one-hot's memory and at every class count the losses agree within
    ``rtol``; ``not supported`` when either fails; ``depends`` when no class count reaches
    ``min_classes`` (the claim is about many classes, and few were measured).
    """
    large = [r for r in records if r["classes"] >= min_classes]
    disagree = [r for r in records if not r["loss_rel_diff"] <= rtol]
    ratios = ", ".join(f"{r['onehot_bytes'] / max(r['sparse_bytes'], 1):,.0f}x at {r['classes']:,} classes"
                       for r in records)
    worst = max((r["loss_rel_diff"] for r in records), default=math.nan)
    if disagree:
        where = ", ".join(f"{r['classes']:,}" for r in disagree)
        return "not supported", (f"Not supported: the losses are not the same calculation; they differ by up to "
                                 f"{worst:.2g} (relative) at {where} classes (one-hot needs {ratios} the memory).")
    if not large:
        return "depends", (f"Depends on the number of classes, which stayed below {min_classes:,}: the one-hot "
                           f"targets take {ratios} the integer labels' memory, and the losses agree within {worst:.1g}.")
    heavy = [r for r in large if r["sparse_bytes"] > max_share * r["onehot_bytes"]]
    if heavy:
        return "not supported", (f"Not supported: at {', '.join(str(r['classes']) for r in heavy)} classes the "
                                 f"integer labels take more than {max_share:.0%} of the one-hot's memory ({ratios}).")
    return "supported", (f"Supported: one-hot targets take {ratios} the memory of integer labels, and sparse and "
                         f"categorical cross-entropy give the same losses (largest relative difference {worst:.1g}).")


def _synthetic(classes: int, rows: int) -> Problem:
    """``rows`` rows of ``classes`` classes (each class at least ``rows // classes`` times, in a
    random order), 20 features: the class's random centre plus unit noise; the last quarter tests.
    Built with the :class:`Problem` constructor: ``Problem.from_arrays`` splits with stratification,
    which needs every class in both parts (at 10,000 classes, 40,000 rows or more)."""
    rng = np.random.default_rng(classes)
    y = rng.permutation(np.arange(rows) % classes)
    X = (rng.normal(size=(classes, 20))[y] + rng.normal(size=(rows, 20))).astype(np.float32)
    n_train = rows * 3 // 4
    return Problem(f"synthetic_{classes}", "multiclass", X[:n_train], y[:n_train], X[n_train:], y[n_train:],
                   n_classes=classes)


def _measure_sparse(problem: Problem, loss: str, seeds: Sequence[int], epochs: int) -> dict[str, object]:
    """One loss on ``problem``: the targets' bytes, the plan's peak Python allocation (encoding
    included, :mod:`tracemalloc`), the compiled program's argument and temporary bytes (XLA's
    own count), training seconds per run (compilation excluded) and the per-epoch losses."""
    tracemalloc.start()
    try:
        study_plan = plan(problem, [loss], seeds, Settings(hidden=(50,), epochs=epochs), split="fixed",
                          validation=0.0, chunk=1)  # one run at a time: the time is one run's
        _, plan_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spec = study_plan.spec(loss)
    enable_compilation_cache()
    trainer = _Trainer(study_plan, spec)
    analysis = trainer.compiled.train.memory_analysis()
    values, seconds = [], []
    for chunk in study_plan.chunks():
        start = time.perf_counter()
        trained, _ = trainer.train(chunk)
        seconds.append(time.perf_counter() - start)
        values.append(trained.values[:, :, :, 0])
    targets = study_plan.targets[loss]
    return {"target_bytes": int(targets.train.nbytes), "pool_bytes": int(targets.train.nbytes + targets.test.nbytes),
            "plan_peak_bytes": int(plan_peak),
            "program_argument_bytes": int(analysis.argument_size_in_bytes) if analysis else None,
            "program_temp_bytes": int(analysis.temp_size_in_bytes) if analysis else None,
            "train_s_per_run": float(np.median(seconds)), "losses": np.concatenate(values)}


@claim(
    7, "sparse-memory",
    "This can mean that the target element of each training example may require a one-hot encoded vector with tens "
    "or hundreds of thousands of zero values, requiring significant memory. Sparse cross-entropy addresses this by "
    "performing the same cross-entropy calculation of error without requiring that the target variable be one-hot "
    "encoded prior to training.",
    "On synthetic multiclass data (20 features, the tutorial's MLP and SGD) with 10, 1,000 and 10,000 classes "
    "(20,000, 20,000 and 2,000 rows: the engine evaluates a rows x classes array per run), categorical vs sparse "
    "categorical cross-entropy: the bytes of the training targets each plan holds, the plan's peak allocation and "
    "the compiled program's arguments and temporaries, one run's training time (1 epoch, each seed alone), and "
    "the losses after it on 2 paired seeds (the memory is deterministic), which must agree to float32 rounding.",
)
def _claim_sparse_memory(ctx: Context) -> Finding:
    rows_by_classes = QUICK_SPARSE_ROWS if ctx.quick else SPARSE_ROWS
    epochs, seeds = 1, range(2)  # the memory is deterministic; two seeds check the losses agree
    records, table = [], []
    for i, (classes, rows) in enumerate(rows_by_classes.items()):
        _tell(ctx, i, len(rows_by_classes), f"{classes} classes")
        problem = _synthetic(classes, rows)
        onehot = _measure_sparse(problem, "categorical_crossentropy", seeds, epochs)
        sparse = _measure_sparse(problem, "sparse_categorical_crossentropy", seeds, epochs)
        a, b = onehot.pop("losses"), sparse.pop("losses")
        rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-12)))
        records.append({"classes": classes, "onehot_bytes": onehot["target_bytes"],
                        "sparse_bytes": sparse["target_bytes"], "loss_rel_diff": rel})
        table.append({"classes": classes, "rows": rows, "train_rows": problem.n_train,
                      "memory_ratio": onehot["target_bytes"] / sparse["target_bytes"], "loss_rel_diff": rel,
                      "categorical": onehot, "sparse": sparse})
    _tell(ctx, len(rows_by_classes), len(rows_by_classes), "done")
    verdict, summary = judge_sparse_memory(records)
    context = _sparse_context(table[-1])
    numbers = {"epochs": epochs, "seeds": len(seeds), "by_classes": table}
    figure = _figure_sparse(table, _figure_path(ctx, 7, "sparse-memory"))
    return Finding(verdict, summary + context, numbers, figure)


def _mib(n: float) -> str:
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 / 10 else f"{n / 2**10:,.0f} KiB"


def _sparse_context(row: Mapping[str, object]) -> str:
    """What the largest class count's numbers say beside the verdict: bytes a row, the plan's
    peak (one-hot encoding goes through a classes x classes identity), the program's own memory
    and the training time."""
    onehot, sparse, classes = row["categorical"], row["sparse"], row["classes"]
    text = (f" At {classes:,} classes the one-hot training targets take {_mib(onehot['target_bytes'])} "
            f"({onehot['target_bytes'] / row['train_rows']:,.0f} bytes a row against "
            f"{sparse['target_bytes'] / row['train_rows']:.0f}); the plan's peak allocation is "
            f"{_mib(onehot['plan_peak_bytes'])} against {_mib(sparse['plan_peak_bytes'])}, since losslab's one-hot "
            f"encoding indexes a classes x classes identity ({_mib(4 * classes**2)})")
    if sparse["program_temp_bytes"]:
        text += (f"; the compiled training program's temporaries, dominated by the rows x classes outputs it "
                 f"evaluates, are {_mib(sparse['program_temp_bytes'])} with either loss")
    return text + (f"; one run trains in {onehot['train_s_per_run']:.2f} s with one-hot targets and "
                   f"{sparse['train_s_per_run']:.2f} s with integer labels.")


def _figure_sparse(table: list[dict[str, object]], path):
    fig = new_figure((10, 3.8))
    memory, timing = fig.subplots(1, 2)
    x = np.arange(len(table))
    labels = [f"{row['classes']:,}\n({row['train_rows']:,} rows)" for row in table]
    for offset, (form, colour) in zip((-0.2, 0.2), (("categorical", "C0"), ("sparse", "C1"))):
        memory.bar(x + offset, [row[form]["target_bytes"] / 2**20 for row in table], 0.4, color=colour,
                   label=f"{form} cross-entropy")
        timing.bar(x + offset, [row[form]["train_s_per_run"] for row in table], 0.4, color=colour)
    memory.set_yscale("log")
    memory.set(title="training targets held by the plan", ylabel="MiB (log scale)", xticks=x, xticklabels=labels)
    timing.set(title="one run's training time (1 epoch)", ylabel="seconds", xticks=x, xticklabels=labels)
    memory.legend(fontsize=8, loc="upper left")
    save(fig, path)
    return path


# --------------------------------------------------------------------------------------------
# Claim 8: KL divergence is functionally equivalent to cross-entropy
# --------------------------------------------------------------------------------------------

#: The equivalence margin: one point of test accuracy.
KL_MARGIN = 0.01
#: The probability forms' names in the study (Keras computes KL divergence this way).
CCE_PROBABILITY, KLD_PROBABILITY = "categorical_crossentropy_probability_form", "kl_divergence_probability_form"
#: The like-for-like pairs the verdict reads: (form, cross-entropy, KL divergence).
KL_PAIRS = (("from logits", "categorical_crossentropy", "kl_divergence"),
            ("from clipped probabilities", CCE_PROBABILITY, KLD_PROBABILITY))


def judge_kl_equals_ce(forms: Mapping[str, Mapping[str, float]], alpha: float = ALPHA,
                       margin: float = KL_MARGIN) -> tuple[str, str]:
    """The verdict on claim 8 from one record per form of computation, each KL divergence against
    categorical cross-entropy computed the same way, on paired seeds: ``identical`` (every paired
    seed's final train and test accuracy equal), ``tost_pvalue`` (TOST within ``±margin`` of test
    accuracy) and ``mean_diff`` (cross-entropy minus KL divergence).

    ``supported`` when every form is identical or equivalent (TOST p < ``alpha``); ``not supported``
    when none is; ``depends`` (on the form) when some are and some are not.
    """
    def equivalent(record: Mapping[str, float]) -> bool:
        return bool(record["identical"]) or (math.isfinite(record["tost_pvalue"]) and record["tost_pvalue"] < alpha)

    def said(name: str, record: Mapping[str, float]) -> str:
        if record["identical"]:
            return f"{name}: identical on every paired seed"
        return (f"{name}: mean difference {record['mean_diff'] * 100:+.2f} pt, TOST p = {record['tost_pvalue']:.2g} "
                f"within ±{margin * 100:g} pt")

    texts = "; ".join(said(name, record) for name, record in forms.items())
    held = [name for name, record in forms.items() if equivalent(record)]
    if forms and len(held) == len(forms):
        return "supported", (f"Supported: KL divergence is equivalent in test accuracy to categorical cross-entropy "
                             f"computed the same way ({texts}).")
    if not held:
        return "not supported", f"Not supported: not shown equivalent within ±{margin * 100:g} pt ({texts})."
    return "depends", f"Depends on how the losses are computed ({texts})."


def _pair_row(pairs, a: str, b: str):
    return pairs[(pairs["loss_a"] == a) & (pairs["loss_b"] == b)].iloc[0]


@claim(
    8, "kl-equals-ce",
    "Nevertheless, it can be used for multiclass classification, in which case it is functionally equivalent to "
    "multiclass cross-entropy.",
    "On blobs (the tutorial's MLP, SGD and 100 epochs), categorical cross-entropy and KL divergence from the same "
    "paired seeds, each computed two ways: from logits (losslab's stable form) and from clipped probabilities "
    "(Keras's form for KL divergence); KL divergence against cross-entropy computed the same way, TOST "
    "equivalence within ±1 point of test accuracy (analysis.compare's verdict), and per seed the largest "
    "difference between their loss curves (every epoch, train and test); the two forms against each other beside.",
)
def _claim_kl_equals_ce(ctx: Context) -> Finding:
    epochs = 10 if ctx.quick else 100
    cce, kld = get_loss("categorical_crossentropy"), get_loss("kl_divergence")
    losses = [cce, kld, replace(probability_form(cce), name=CCE_PROBABILITY),
              replace(probability_form(kld), name=KLD_PROBABILITY)]
    study_plan = plan(get_problem("blobs"), losses, range(ctx.repeats), Settings(hidden=(50,), epochs=epochs))
    study = run(study_plan, ctx.progress)
    pairs = compare(study, margin=KL_MARGIN).pairs
    history = study.history.sort_values(["loss", "seed", "split", "epoch"])
    curves = {loss: rows[["loss_value", "metric_value"]].to_numpy(float).reshape(len(study.seeds), -1, 2)
              for loss, rows in history.groupby("loss")}  # (seeds, splits x epochs, loss and accuracy)
    forms: dict[str, dict[str, float]] = {}
    numbers: dict[str, object] = {"seeds": len(study.seeds), "epochs": epochs, "margin": KL_MARGIN}
    for form, ce, kl in KL_PAIRS:
        row = _pair_row(pairs, ce, kl)
        gap = np.abs(curves[kl] - curves[ce])
        loss_gap, accuracy_gap = np.nanmax(gap[:, :, 0], axis=1), np.nanmax(gap[:, :, 1], axis=1)
        forms[form] = {"identical": bool(row["identical"]), "tost_pvalue": float(row["tost_pvalue"]),
                       "mean_diff": float(row["mean_diff"])}
        numbers[form] = {"pair": f"{ce} vs {kl}", "verdict": row["verdict"], "n_pairs": int(row["n_pairs"]),
                         **forms[form], "ci": [float(row["ci_low"]), float(row["ci_high"])],
                         "loss_curve_max_diff_median_seed": float(np.median(loss_gap)),
                         "loss_curve_max_diff_largest": float(np.max(loss_gap)),
                         "accuracy_curve_max_diff_largest": float(np.max(accuracy_gap)),
                         "seeds_with_any_accuracy_difference": int(np.sum(accuracy_gap > 0))}
    across = {}
    for name, (logits, clipped) in (("cross-entropy", (cce.name, CCE_PROBABILITY)),
                                    ("KL divergence", (kld.name, KLD_PROBABILITY))):
        row = _pair_row(pairs, logits, clipped)
        across[name] = {"verdict": row["verdict"], "mean_diff": float(row["mean_diff"]),
                        "tost_pvalue": float(row["tost_pvalue"])}
    numbers["from logits vs from clipped probabilities"] = across
    finals = {loss: study.final(loss) for loss in study.losses}
    numbers["test_accuracy"] = {loss: {"mean": float(v.mean()), "min": float(v.min())} for loss, v in finals.items()}
    verdict, summary = judge_kl_equals_ce(forms)
    logits, clipped = numbers[KL_PAIRS[0][0]], numbers[KL_PAIRS[1][0]]
    worst = finals[KLD_PROBABILITY]
    summary += (f" Their loss curves differ per seed by at most {logits['loss_curve_max_diff_largest']:.2g} from logits "
                f"and {clipped['loss_curve_max_diff_largest']:.2g} from clipped probabilities. Each loss's two forms "
                f"against each other: KL divergence {across['KL divergence']['verdict']}; cross-entropy "
                f"{across['cross-entropy']['verdict']}. The worst seed of KL divergence from clipped probabilities ends "
                f"at {worst.min():.1%} test accuracy (clipping at 1e-7 stops the gradient of a row whose true class "
                "is that improbable).")
    figure = _figure_kl(curves, finals, len(study.plan.splits), _figure_path(ctx, 8, "kl-equals-ce"))
    return Finding(verdict, summary, numbers, figure)


def _figure_kl(curves: Mapping[str, np.ndarray], finals: Mapping[str, object], n_splits: int, path):
    fig = new_figure((10, 3.8))
    difference, accuracy = fig.subplots(1, 2)
    for (form, ce, kl), colour in zip(KL_PAIRS, ("C0", "C3")):
        gap = np.abs(curves[kl] - curves[ce]).reshape(curves[ce].shape[0], n_splits, -1, 2)[:, -1, :, 0]  # train
        epochs = np.arange(1, gap.shape[1] + 1)
        difference.plot(epochs, np.median(gap, axis=0), color=colour, label=f"{form}: median seed")
        difference.plot(epochs, np.max(gap, axis=0), ":", color=colour, label=f"{form}: largest")
        accuracy.scatter(np.asarray(finals[ce]), np.asarray(finals[kl]), s=14, color=colour, alpha=0.7, label=form)
    difference.set_yscale("symlog", linthresh=1e-7)
    difference.set(title="|KL divergence - cross-entropy| train loss", xlabel="epoch")
    difference.legend(fontsize=7)
    low = min(accuracy.get_xlim()[0], accuracy.get_ylim()[0])
    accuracy.plot([low, 1], [low, 1], color="grey", lw=0.8)
    accuracy.set(title="final test accuracy per seed", xlabel="categorical cross-entropy", ylabel="KL divergence")
    accuracy.legend(fontsize=7)
    save(fig, path)
    return path


# --------------------------------------------------------------------------------------------
# Claim 9: the model with the minimum loss may not have the best metric
# --------------------------------------------------------------------------------------------

#: A "substantial share" of runs: more than one in five. A practitioner who keeps the best
#: checkpoint of five trainings then meets the difference at least once with probability
#: 1 - 0.8**5 = 67%: routine, not a curiosity. Below it the two criteria almost always agree.
DIFFER_SHARE = 0.2
#: Groups of this many seeds: a practitioner training a handful of models and keeping one.
GROUP = 5


def judge_min_loss_vs_best_metric(differ: Sequence[bool], cost: Sequence[float], n_test: int,
                                  threshold: float = DIFFER_SHARE, alpha: float = ALPHA) -> tuple[str, str]:
    """The verdict on claim 9 from one entry per run: ``differ`` (the minimum-validation-loss
    epoch does not reach the best validation accuracy) and ``cost`` (test accuracy of the epoch
    chosen by validation accuracy minus that of the epoch chosen by validation loss; only the
    runs that differ are read).

    ``not supported`` when they differ in at most ``threshold`` of the runs (:data:`DIFFER_SHARE`);
    otherwise ``supported`` when, where they differ, choosing by the metric gains more than one
    test row (``1 / n_test``) on average, significantly (paired t-test against 0, ``alpha``);
    ``depends`` when the gain is within one row or not significant (they differ on validation,
    but not in what a stakeholder sees on new data), or when choosing by the loss does better.
    """
    differ = np.asarray(differ, dtype=bool)
    cost = np.asarray(cost, dtype=float)
    share = float(differ.mean()) if differ.size else math.nan
    where = cost[differ & np.isfinite(cost)]
    row = 1 / n_test
    if not share > threshold:
        return "not supported", (f"Not supported: the epoch of minimum validation loss also has the best validation "
                                 f"accuracy in {1 - share:.0%} of runs; they differ in {share:.0%}, at most the "
                                 f"{threshold:.0%} taken as substantial.")
    gain = float(where.mean()) if where.size else math.nan
    p = float(paired_tests(where, np.zeros_like(where)).t_pvalue) if where.size > 1 else math.nan
    text = (f"they differ in {share:.0%} of runs (> {threshold:.0%}); where they differ, choosing by validation "
            f"accuracy changes test accuracy by {gain * 100:+.2f} pt ({gain / row:+.1f} test rows, p = {p:.2g})")
    if gain > row and p < alpha:
        return "supported", f"Supported: {text}."
    if gain < -row and p < alpha:
        return "depends", (f"Depends on where the metric is read: {text}: the model with the best validation "
                           "metric does worse on new data than the one with the minimum loss.")
    return "depends", f"Depends on whether a test row matters: {text}, within one row or noise."


def _first_best(values: np.ndarray, highest: bool) -> int:
    return int(np.nanargmax(values) if highest else np.nanargmin(values))


@claim(
    9, "min-loss-vs-best-metric",
    "This is an important consideration, as the model with the minimum loss may not be the model with the best "
    "metric that is important to project stakeholders.",
    "On circles with binary cross-entropy (the tutorial's MLP, SGD and 200 epochs), a fifth of the training rows "
    "held out for validation (the same for every seed); per run, the epoch of minimum validation loss against the "
    "first epoch of maximum validation accuracy: how often the first misses the best accuracy, and the test "
    "accuracy each choice gives; across seeds (final weights, all seeds and random groups of 5), the seed each "
    "criterion picks and the same cost.",
)
def _claim_min_loss(ctx: Context) -> Finding:
    epochs = 20 if ctx.quick else 200
    study_plan = plan(get_problem("circles"), ["binary_crossentropy"], range(ctx.repeats),
                      Settings(hidden=(50,), epochs=epochs), validation=0.2)
    study = run(study_plan, ctx.progress)
    kept = study.runs[~study.runs["diverged"].astype(bool) & ~study.runs["collapsed"].astype(bool)]["seed"].to_numpy()
    history = study.history[study.history["seed"].isin(kept)].sort_values(["seed", "epoch"])
    table = {split: {what: rows[column].to_numpy(float).reshape(len(kept), -1)
                     for what, column in (("loss", "loss_value"), ("accuracy", "metric_value"))}
             for split, rows in history.groupby("split")}
    val_loss, val_acc = table["validation"]["loss"], table["validation"]["accuracy"]
    test_acc = table["test"]["accuracy"]
    by_loss = np.array([_first_best(curve, False) for curve in val_loss])
    by_accuracy = np.array([_first_best(curve, True) for curve in val_acc])
    runs = np.arange(len(kept))
    differ = val_acc[runs, by_loss] < val_acc[runs, by_accuracy]
    cost = test_acc[runs, by_accuracy] - test_acc[runs, by_loss]
    n_test = study_plan.sizes.test
    verdict, summary = judge_min_loss_vs_best_metric(differ, cost, n_test)
    seeds = _across_seeds(val_loss[:, -1], val_acc[:, -1], test_acc[:, -1])
    where = cost[differ]
    numbers = {
        "runs": int(len(kept)), "excluded_runs": int(len(study.runs) - len(kept)), "epochs": epochs,
        "validation_rows": int(study_plan.sizes.validation), "test_rows": int(n_test),
        "share_differ": float(differ.mean()) if len(differ) else math.nan,
        "share_different_epoch": float(np.mean(by_loss != by_accuracy)) if len(differ) else math.nan,
        "share_differ_ci": list(_wilson(int(differ.sum()), len(differ))),
        "cost_where_differ_mean": float(where.mean()) if where.size else math.nan,
        "cost_where_differ_ci": list(bootstrap_ci(where)) if where.size > 1 else [math.nan, math.nan],
        "cost_all_runs_mean": float(cost.mean()) if cost.size else math.nan,
        "epoch_by_loss_median": float(np.median(by_loss + 1)),
        "epoch_by_accuracy_median": float(np.median(by_accuracy + 1)),
        "test_accuracy_by_loss_mean": float(test_acc[runs, by_loss].mean()),
        "test_accuracy_by_accuracy_mean": float(test_acc[runs, by_accuracy].mean()),
        "across_seeds": {**seeds, "seed_by_loss": int(kept[seeds["seed_by_loss"]]),
                         "seed_by_accuracy": int(kept[seeds["seed_by_accuracy"]])},
    }
    summary += (f" Across seeds (final weights): in groups of {GROUP} seeds the minimum-loss seed misses the best "
                f"validation accuracy in {seeds['groups_differ_share']:.0%} of groups, at a test cost of "
                f"{seeds['groups_cost_where_differ_mean'] * 100:+.2f} pt where it does.")
    figure = _figure_min_loss(val_loss[0], val_acc[0], by_loss[0], by_accuracy[0], cost[differ] * n_test,
                              _figure_path(ctx, 9, "min-loss-vs-best-metric"))
    return Finding(verdict, summary, numbers, figure)


def _wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share (95% by default)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _across_seeds(val_loss: np.ndarray, val_acc: np.ndarray, test_acc: np.ndarray,
                  groups: int = 2_000) -> dict[str, float]:
    """Model selection across seeds: the seed of minimum final validation loss against the first
    seed of maximum final validation accuracy, over all seeds and over ``groups`` random groups of
    :data:`GROUP` seeds; whether the loss's pick misses the best accuracy, and the test cost."""
    by_loss, by_accuracy = _first_best(val_loss, False), _first_best(val_acc, True)
    result: dict[str, float] = {"seed_by_loss": by_loss, "seed_by_accuracy": by_accuracy,
                                "all_differ": bool(val_acc[by_loss] < val_acc[by_accuracy]),
                                "all_cost": float(test_acc[by_accuracy] - test_acc[by_loss])}
    size = min(GROUP, len(val_loss))
    rng = np.random.default_rng(9)
    differ, cost = [], []
    for _ in range(groups if size > 1 else 0):
        pick = rng.choice(len(val_loss), size, replace=False)
        a, b = pick[_first_best(val_loss[pick], False)], pick[_first_best(val_acc[pick], True)]
        differ.append(val_acc[a] < val_acc[b])
        cost.append(test_acc[b] - test_acc[a])
    differ, cost = np.array(differ, bool), np.array(cost, float)
    result["groups_differ_share"] = float(differ.mean()) if differ.size else math.nan
    result["groups_cost_where_differ_mean"] = float(cost[differ].mean()) if differ.any() else 0.0
    return result


def _figure_min_loss(val_loss: np.ndarray, val_acc: np.ndarray, by_loss: int, by_accuracy: int,
                     cost_rows: np.ndarray, path):
    fig = new_figure((10, 3.8))
    curves, costs = fig.subplots(1, 2)
    epochs = np.arange(1, val_loss.size + 1)
    curves.plot(epochs, val_loss, color="C0", label="validation loss")
    curves.axvline(by_loss + 1, color="C0", ls=":", label=f"min loss: epoch {by_loss + 1}")
    twin = curves.twinx()
    twin.plot(epochs, val_acc, color="C1", label="validation accuracy")
    twin.axvline(by_accuracy + 1, color="C1", ls="--", label=f"max accuracy: epoch {by_accuracy + 1}")
    curves.set(title="seed 0: the two choices of epoch", xlabel="epoch", ylabel="validation loss")
    twin.set_ylabel("validation accuracy")
    handles = curves.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    curves.legend(handles[0] + more[0], handles[1] + more[1], fontsize=7, loc="center right")
    if cost_rows.size:
        costs.hist(cost_rows, bins=np.arange(cost_rows.min() - 0.5, cost_rows.max() + 1.5), color="C2")
    costs.axvline(0, color="grey", lw=0.8)
    costs.set(title="runs where the two choices differ", xlabel="test rows gained by choosing by validation "
              "accuracy instead of loss", ylabel="runs")
    save(fig, path)
    return path
