"""Claims 2-4: what the tutorial says each regression loss *means*.

- 2 ``likelihood``: MSE is the Gaussian negative log-likelihood (and binary cross-entropy the
  Bernoulli one), checked against SciPy's densities and by training each pair from the same seeds.
- 3 ``msle``: MSLE relaxes the punishment of large differences in large values, on a positive
  target spanning three orders of magnitude made from the tutorial's regression problem.
- 4 ``mae-outliers``: MAE is more robust to outliers, on the regression problem with a share of its
  training targets moved 10 standard deviations away and the test rows left clean.

Each claim has a pure judging function (``judge_<key>``) that turns the numbers into the verdict
and the summary, so that a test can feed it made-up numbers. The engine, JAX and SciPy are
imported inside the experiments: importing ``losslab.claims`` stays cheap.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from losslab.claims._claim import Context, Finding, claim

# --------------------------------------------------------------------------------------------
# Shared plumbing
# --------------------------------------------------------------------------------------------

#: The tutorial's set-up for its regression and circles problems (SGD 0.01, momentum 0.9,
#: batches of 32); ``quick`` trains these many epochs instead.
REGRESSION_EPOCHS, CIRCLES_EPOCHS = 100, 200
QUICK_EPOCHS = 10
#: The level of every paired test of these claims.
ALPHA = 0.05


def _trained(study_plan, progress=None):
    """``(Study, outputs)``: the study as ``losslab.results.run`` returns it, and each loss's final
    activated outputs on the evaluated rows ``(seeds, rows, units)``, which ``run`` drops."""
    from losslab.engine import run_plan
    from losslab.results import Study, baselines, tables

    trained = run_plan(study_plan, progress)
    history, runs = tables(study_plan, trained)
    return Study(study_plan, history, runs, trained.timings, baselines(study_plan)), trained.outputs


def _paired_lower(a: Sequence[float], b: Sequence[float], alpha: float = ALPHA) -> dict[str, float | bool]:
    """Whether ``a`` is lower than ``b`` on paired seeds: the median paired difference is below 0
    and the Wilcoxon signed-rank test (two-sided) has ``p < alpha``; NaN pairs are left out."""
    from scipy import stats

    a, b = np.asarray(a, float), np.asarray(b, float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    if d.size < 2 or not np.any(d):
        p = math.nan if d.size < 2 else 1.0
    else:
        p = float(stats.wilcoxon(d).pvalue)
    median = float(np.median(d)) if d.size else math.nan
    return {"n": int(d.size), "median_diff": median, "wilcoxon_p": p,
            "lower": bool(d.size >= 2 and median < 0 and p < alpha),
            "higher": bool(d.size >= 2 and median > 0 and p < alpha)}


def _figure_path(ctx: Context, number: int, key: str) -> Path:
    return Path(ctx.out) / f"claim{number}_{key}.png"


# --------------------------------------------------------------------------------------------
# Claim 2: MSE and BCE are maximum-likelihood losses
# --------------------------------------------------------------------------------------------

#: The Gaussian NLL's fixed variances in the numerical checks; 0.5 makes its gradient equal MSE's.
SIGMA2S = (0.25, 0.5, 1.0, 2.0, 4.0)
EQUAL_SIGMA2 = 0.5
#: The wider Gaussian trained at ``lr * 2 sigma^2`` (the same updates as MSE) and at ``lr`` (not).
WIDE_SIGMA2 = 2.0
#: Float tolerances. Values and gradients are losslab's float32 against SciPy's float64: float32's
#: eps is 1.2e-7, and a gradient such as BCE's ``sigmoid(z) - y`` near ``p = 0.99`` loses two more
#: digits to cancellation (condition number up to 100), hence 1e-4 for the ratio. The argmin is
#: float64 BFGS against least squares. The trainings are compared curve against curve, every epoch,
#: split and seed: two equal formulas rounded differently (the Bernoulli NLL's ``-log sigmoid(sz)``
#: against BCE's ``softplus(z) - yz``) drift apart through 3,200 SGD updates, which 1e-3 relative
#: allows while staying far below the spread between seeds (reported beside it).
RATIO_RTOL = 1e-4
VALUE_RTOL = 1e-5
ARGMIN_ATOL = 1e-5
TRAINING_RTOL = 1e-3


def gaussian_nll(y_true, y_pred, sigma2: float = EQUAL_SIGMA2):
    r"""Negative log-likelihood of ``y_true`` under :math:`N(\hat y, \sigma^2)`, per sample:
    :math:`\frac{1}{d}\sum_j \tfrac12\log(2\pi\sigma^2) + (y_j - \hat y_j)^2 / (2\sigma^2)`."""
    import jax.numpy as jnp

    return jnp.mean(0.5 * jnp.log(2.0 * jnp.pi * sigma2) + jnp.square(y_true - y_pred) / (2.0 * sigma2), axis=-1)


def _gaussian_nll_wide(y_true, y_pred):
    return gaussian_nll(y_true, y_pred, WIDE_SIGMA2)


def bernoulli_nll(y_true, p):
    r"""Negative log of the Bernoulli pmf :math:`p^y (1-p)^{1-y}` for labels in {0, 1}, with ``p``
    clipped to :math:`[10^{-7}, 1 - 10^{-7}]` as Keras clips probabilities."""
    import jax.numpy as jnp

    p = jnp.clip(p, 1e-7, 1.0 - 1e-7)
    return -jnp.mean(jnp.log(jnp.where(y_true > 0.5, p, 1.0 - p)), axis=-1)


def bernoulli_nll_from_logits(y_true, z):
    r"""The Bernoulli NLL from the log-odds ``z`` (``p = sigmoid(z)``): :math:`-\log\sigma(sz)` with
    :math:`s = 2y - 1`, the probability the model gives the observed label."""
    import jax
    import jax.numpy as jnp

    return -jnp.mean(jax.nn.log_sigmoid(jnp.where(y_true > 0.5, z, -z)), axis=-1)


@functools.cache
def likelihood_specs():
    """The Gaussian NLLs (sigma^2 = 0.5 and 2) and the Bernoulli NLL as loss specs. Made once, so
    the engine's compiled programs are reused; not entered in the global registry, so that running
    a claim leaves ``loss_names()`` as it was."""
    from losslab.registry import LossSpec

    return {
        "gaussian": LossSpec("gaussian_nll", gaussian_nll, "regression", "linear", "raw", "real",
                             "Gaussian NLL, sigma^2 = 0.5", builtin=False),
        "gaussian_wide": LossSpec("gaussian_nll_sigma2_2", _gaussian_nll_wide, "regression", "linear", "raw",
                                  "real", "Gaussian NLL, sigma^2 = 2", builtin=False),
        "bernoulli": LossSpec("bernoulli_nll", bernoulli_nll, "binary", "sigmoid", "{0,1}", "{0,1}",
                              "Bernoulli NLL", from_logits=bernoulli_nll_from_logits, builtin=False),
    }


def judge_likelihood(gaussian: Mapping[str, float], bernoulli: Mapping[str, float]) -> tuple[str, str]:
    """The verdict of claim 2 from its checks.

    ``gaussian`` holds ``value_error`` (largest relative gap between the Gaussian NLL and SciPy's
    ``-norm.logpdf``), ``ratio_spread`` (largest relative deviation of the gradient ratio
    NLL/MSE from ``1 / (2 sigma^2)``), ``argmin_gap`` (largest gap between the weights that
    minimise each) and ``training_gap`` (largest relative gap between the MSE curves of MSE and
    of the NLL trained from the same seeds); ``bernoulli`` the same without ``argmin_gap`` (the
    gradient ratio is then to 1, and the curves are test losses). Each likelihood holds when its
    numbers are within :data:`VALUE_RTOL`, :data:`RATIO_RTOL`, :data:`ARGMIN_ATOL` and
    :data:`TRAINING_RTOL`: supported when both hold, depends when one does (on which), not
    supported when neither does.
    """
    limits = {"value_error": VALUE_RTOL, "ratio_spread": RATIO_RTOL, "argmin_gap": ARGMIN_ATOL,
              "training_gap": TRAINING_RTOL}
    words = {"value_error": "value vs SciPy", "ratio_spread": "gradient ratio", "argmin_gap": "argmin",
             "training_gap": "training"}

    def failures(checks: Mapping[str, float]) -> list[str]:
        return [f"{words[k]} off by {v:.2g} (tolerance {limits[k]:g})" for k, v in checks.items()
                if k in limits and not (math.isfinite(v) and v <= limits[k])]

    g_fail, b_fail = failures(gaussian), failures(bernoulli)
    g_text = (f"MSE is the Gaussian NLL up to 1/(2 sigma^2) and a constant: values match SciPy to "
              f"{gaussian.get('value_error', math.nan):.1g}, gradient ratio constant to "
              f"{gaussian.get('ratio_spread', math.nan):.1g}, same least-squares argmin (gap "
              f"{gaussian.get('argmin_gap', math.nan):.1g}), and the NLL with sigma^2 = 0.5 trains as MSE "
              f"(largest curve gap {gaussian.get('training_gap', math.nan):.1g})")
    b_text = (f"BCE is the Bernoulli NLL (values match SciPy to {bernoulli.get('value_error', math.nan):.1g}, "
              f"gradient ratio 1 to {bernoulli.get('ratio_spread', math.nan):.1g}, trainings agree to "
              f"{bernoulli.get('training_gap', math.nan):.1g})")
    if not g_fail and not b_fail:
        return "supported", f"{g_text}; {b_text}."
    if g_fail and b_fail:
        return "not supported", (f"Neither identity holds numerically: Gaussian {'; '.join(g_fail)}; "
                                 f"Bernoulli {'; '.join(b_fail)}.")
    if g_fail:
        return "depends", (f"Depends on the likelihood: the Bernoulli one holds ({b_text}) but the Gaussian one "
                           f"does not ({'; '.join(g_fail)}).")
    return "depends", (f"Depends on the likelihood: the Gaussian one holds ({g_text}) but the Bernoulli one "
                       f"does not ({'; '.join(b_fail)}).")


def _gaussian_checks() -> dict[str, object]:
    """Values against ``-scipy.stats.norm.logpdf``, gradient ratios against MSE's, and the argmin
    of a linear model on the regression problem's training rows, for each sigma^2 of
    :data:`SIGMA2S`. Predictions are the targets plus residuals of 0.05 to 2 in either sign (away
    from 0, where both gradients vanish and their ratio is noise)."""
    import jax
    import jax.numpy as jnp
    from scipy import optimize, stats

    from losslab.losses import mean_squared_error
    from losslab.problems import get_problem

    rng = np.random.default_rng(0)
    y = rng.normal(size=1000).astype(np.float32)
    y_pred = (y + rng.choice([-1.0, 1.0], 1000) * rng.uniform(0.05, 2.0, 1000)).astype(np.float32)
    y64, p64 = y.astype(np.float64), y_pred.astype(np.float64)
    mse_grad = np.asarray(jax.grad(lambda p: jnp.sum(mean_squared_error(y[:, None], p)))(y_pred[:, None]))[:, 0]

    problem = get_problem("regression")
    X = np.column_stack([problem.X_train, np.ones(problem.n_train)])
    w_ls = np.linalg.lstsq(X, problem.y_train, rcond=None)[0]  # the argmin of the MSE
    rows, step = [], 1e-5
    for sigma2 in SIGMA2S:
        sd = math.sqrt(sigma2)
        reference = -stats.norm.logpdf(y64, loc=p64, scale=sd)
        ours = np.asarray(gaussian_nll(y[:, None], y_pred[:, None], sigma2), np.float64)
        ref_grad = (-stats.norm.logpdf(y64, loc=p64 + step, scale=sd)
                    + stats.norm.logpdf(y64, loc=p64 - step, scale=sd)) / (2 * step)
        ratio = ref_grad / mse_grad
        fit = optimize.minimize(lambda w, s=sd: -np.mean(stats.norm.logpdf(problem.y_train, X @ w, s)),
                                np.zeros(X.shape[1]), method="BFGS", options={"gtol": 1e-10})
        rows.append({"sigma2": sigma2, "expected_ratio": 1 / (2 * sigma2),
                     "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max()),
                     "ratio_spread": float(np.max(np.abs(ratio * 2 * sigma2 - 1))),
                     "value_error": float(np.max(np.abs(ours - reference) / np.abs(reference))),
                     "argmin_gap": float(np.max(np.abs(fit.x - w_ls)))})
    nll_grad = np.asarray(jax.grad(lambda p: jnp.sum(gaussian_nll(y[:, None], p)))(y_pred[:, None]))[:, 0]
    return {"rows": rows, "equal_gradient_gap": float(np.max(np.abs(nll_grad - mse_grad)))}


def _bernoulli_checks() -> dict[str, object]:
    """Losslab's binary cross-entropy against ``-scipy.stats.bernoulli.logpmf`` on random labels
    and probabilities in [0.01, 0.99] (multiples of 1/1024, so that ``1 - p`` is exact in float32
    and the ratio measures the loss, not the rounding of ``1 - p``): values, and the gradient ratio
    in p (against SciPy's central difference) and in the log-odds z (BCE's stable form against the Bernoulli NLL's)."""
    import jax
    import jax.numpy as jnp
    from scipy import special, stats

    from losslab.losses import binary_crossentropy, binary_crossentropy_from_logits

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1000).astype(np.float32)
    p = (rng.integers(11, 1014, 1000) / 1024).astype(np.float32)  # p and 1 - p exact in float32
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    reference = -stats.bernoulli.logpmf(y64, p64)
    ours = np.asarray(binary_crossentropy(y[:, None], p[:, None]), np.float64)
    step = 1e-6
    ref_grad = (-stats.bernoulli.logpmf(y64, p64 + step) + stats.bernoulli.logpmf(y64, p64 - step)) / (2 * step)
    bce_grad = np.asarray(jax.grad(lambda q: jnp.sum(binary_crossentropy(y[:, None], q)))(p[:, None]))[:, 0]
    ratio = ref_grad / bce_grad
    z = special.logit(p64).astype(np.float32)
    grad_z = np.asarray(jax.grad(lambda v: jnp.sum(binary_crossentropy_from_logits(y[:, None], v)))(z[:, None]))
    nll_z = np.asarray(jax.grad(lambda v: jnp.sum(bernoulli_nll_from_logits(y[:, None], v)))(z[:, None]))
    ratio_z = nll_z[:, 0] / grad_z[:, 0]
    return {"value_error": float(np.max(np.abs(ours - reference) / np.abs(reference))),
            "ratio_min": float(min(ratio.min(), ratio_z.min())), "ratio_max": float(max(ratio.max(), ratio_z.max())),
            "ratio_spread": float(max(np.max(np.abs(ratio - 1)), np.max(np.abs(ratio_z - 1))))}


def _curve_gap(history, loss_a: str, loss_b: str, column: str, scale: float = 1.0, shift: float = 0.0) -> float:
    """The largest relative gap, over every seed, epoch and split, between ``column`` of ``loss_a``
    and ``(column of loss_b - shift) * scale``, relative to ``loss_a``'s value."""
    key = ["seed", "epoch", "split"]
    a = history[history["loss"] == loss_a].set_index(key)[column].sort_index()
    b = history[history["loss"] == loss_b].set_index(key)[column].sort_index()
    b = (b.reindex(a.index) - shift) * scale
    return float(np.nanmax(np.abs(a.to_numpy() - b.to_numpy()) / np.maximum(np.abs(a.to_numpy()), 1e-12)))


@claim(
    2, "likelihood",
    "under the framework of maximum likelihood estimation and assuming a Gaussian distribution for the target "
    "variable, mean squared error can be considered the cross-entropy between the distribution of the model "
    "predictions and the distribution of the target variable. (Also: binary cross-entropy \"is the preferred loss "
    "function under the inference framework of Maximum Likelihood\".)",
    "The Gaussian NLL with fixed variance sigma^2 (checked against scipy.stats.norm.logpdf) is compared with "
    "losslab's MSE for sigma^2 = 0.25..4: values, the gradient ratio on 1,000 random predictions (1/(2 sigma^2) "
    "expected) and the least-squares weights of a linear model on the regression problem; then the NLL with "
    "sigma^2 = 0.5 (the same gradient) and with sigma^2 = 2 at learning rate 4 x 0.01 (the same updates) is "
    "trained beside MSE from the same seeds on the regression problem (tutorial set-up, 100 epochs), with "
    "sigma^2 = 2 at 0.01 as the contrast; likewise binary cross-entropy against the Bernoulli NLL "
    "(scipy.stats.bernoulli.logpmf), trained on circles (200 epochs). Supported when the values, ratios and "
    "argmins agree to float tolerance and the learning curves coincide.",
)
def likelihood_experiment(ctx: Context) -> Finding:
    from losslab.figures._canvas import new_figure, save
    from losslab.planning import plan
    from losslab.problems import get_problem
    from losslab.settings import Settings

    specs = likelihood_specs()
    seeds = range(ctx.repeats)
    gauss, bern = _gaussian_checks(), _bernoulli_checks()

    reg_epochs = QUICK_EPOCHS if ctx.quick else REGRESSION_EPOCHS
    regression = get_problem("regression")
    settings = Settings(hidden=(25,), epochs=reg_epochs)
    study, _ = _trained(plan(regression, ["mse", specs["gaussian"]], seeds, settings), ctx.progress)
    history = study.history
    wide_scaled = wide_plain = None
    if not ctx.quick:  # the sigma^2 = 2 runs show that the gradient's factor is a learning-rate factor
        lr = settings.learning_rate * 2 * WIDE_SIGMA2
        wide_scaled, _ = _trained(plan(regression, [specs["gaussian_wide"]], seeds, settings.updated(learning_rate=lr)),
                                  ctx.progress)
        wide_plain, _ = _trained(plan(regression, [specs["gaussian_wide"]], seeds, settings), ctx.progress)
    gauss_gap = _curve_gap(history, "mean_squared_error", "gaussian_nll", "metric_value")
    # The reported NLL is 0.5 log(pi) + MSE, each row's value about 0.57 summed in float32: taking
    # the constant off again leaves rounding of 1e-6 on an MSE of 0.006. Reported, not judged: the
    # MSE curves (the same quantity computed the same way) are the comparison.
    nll = history[history["loss"] == "gaussian_nll"].set_index(["seed", "epoch", "split"])["loss_value"].sort_index()
    mse = history[history["loss"] == "mean_squared_error"].set_index(["seed", "epoch", "split"])["loss_value"]
    loss_gap = float(np.nanmax(np.abs(nll - 0.5 * math.log(2 * math.pi * EQUAL_SIGMA2) - mse.reindex(nll.index))))

    def versus_mse(other) -> float:
        import pandas as pd

        both = pd.concat([history[history["loss"] == "mean_squared_error"], other.history])
        return _curve_gap(both, "mean_squared_error", other.losses[0], "metric_value")

    circles = get_problem("circles")
    circ_settings = Settings(hidden=(50,), epochs=QUICK_EPOCHS if ctx.quick else CIRCLES_EPOCHS)
    circ, _ = _trained(plan(circles, ["bce", specs["bernoulli"]], seeds, circ_settings), ctx.progress)
    bern_gap = _curve_gap(circ.history, "binary_crossentropy", "bernoulli_nll", "loss_value")
    bce_test = circ.history[(circ.history["loss"] == "binary_crossentropy") & (circ.history["split"] == "test")]
    by_epoch = bce_test.groupby("epoch")["loss_value"]
    seed_spread = float(np.median(by_epoch.std() / by_epoch.mean())) if ctx.repeats > 1 else math.nan
    accuracy = circ.runs.pivot(index="seed", columns="loss", values="test_metric")
    same_accuracy = int((accuracy["binary_crossentropy"] == accuracy["bernoulli_nll"]).sum())

    worst = lambda key: max(row[key] for row in gauss["rows"])  # noqa: E731
    g_checks = {"value_error": worst("value_error"), "ratio_spread": worst("ratio_spread"),
                "argmin_gap": worst("argmin_gap"), "training_gap": gauss_gap}
    b_checks = {"value_error": bern["value_error"], "ratio_spread": bern["ratio_spread"], "training_gap": bern_gap}
    numbers: dict[str, object] = {
        "gaussian_checks": gauss["rows"],
        "gaussian_gradient_gap_sigma2_0.5": gauss["equal_gradient_gap"],
        "gaussian_training_gap_mse_curves": gauss_gap,
        "gaussian_loss_curves_abs_gap_after_removing_constant (float32 rounding)": loss_gap,
        "bernoulli_value_error": bern["value_error"],
        "bernoulli_gradient_ratio_range": [bern["ratio_min"], bern["ratio_max"]],
        "bernoulli_training_gap_loss_curves": bern_gap,
        "bce_test_loss_seed_spread (median sd/mean over epochs)": seed_spread,
        "bernoulli_same_final_test_accuracy": f"{same_accuracy}/{len(accuracy)}",
        "final_test_mse_mean": {loss: float(v) for loss, v in
                                study.runs.groupby("loss")["test_mse"].mean().items()},
        "final_test_accuracy_mean": {loss: float(v) for loss, v in
                                     circ.runs.groupby("loss")["test_metric"].mean().items()},
        "epochs": {"regression": reg_epochs, "circles": circ_settings.epochs}, "seeds": ctx.repeats,
    }
    if wide_scaled is not None:
        numbers["gaussian_sigma2_2_lr_0.04_gap"] = versus_mse(wide_scaled)
        numbers["gaussian_sigma2_2_lr_0.01_gap (contrast)"] = versus_mse(wide_plain)
        numbers["gaussian_sigma2_2_lr_0.01_test_mse_mean"] = float(wide_plain.runs["test_mse"].mean())
    verdict, summary = judge_likelihood(g_checks, b_checks)
    summary += (f" For scale: BCE's test loss varies by {seed_spread:.2g} (sd/mean) between seeds, and "
                f"{same_accuracy}/{len(accuracy)} final test accuracies of the pair are equal.")
    if wide_scaled is not None:
        summary += (f" Sigma^2 = 2 at learning rate 0.04 also trains as MSE (gap "
                    f"{numbers['gaussian_sigma2_2_lr_0.04_gap']:.1g}); at 0.01 it does not (gap "
                    f"{numbers['gaussian_sigma2_2_lr_0.01_gap (contrast)']:.2g}): "
                    "the 1/(2 sigma^2) is a learning rate.")

    fig = new_figure((11, 3.8))
    left, middle, right = fig.subplots(1, 3)
    for row in gauss["rows"]:
        middle.plot([row["sigma2"]] * 2, [row["ratio_min"], row["ratio_max"]], "o-", color="C0")
    s = np.geomspace(min(SIGMA2S), max(SIGMA2S), 50)
    middle.plot(s, 1 / (2 * s), "--", color="grey", label="1 / (2 sigma^2)")
    middle.set(xscale="log", yscale="log", xlabel="sigma^2", ylabel="grad NLL / grad MSE",
               title="Gradient ratio on 1,000 predictions (min and max)")
    middle.set_xticks(SIGMA2S, [f"{v:g}" for v in SIGMA2S])
    middle.set_yticks([1 / (2 * v) for v in SIGMA2S], [f"{1 / (2 * v):g}" for v in SIGMA2S])
    middle.minorticks_off()
    middle.legend(fontsize=8)
    _mean_curve(left, history, "mean_squared_error", "C0", "MSE", "-")
    _mean_curve(left, history, "gaussian_nll", "C1", "Gaussian NLL, sigma^2 = 0.5", "--")
    if wide_scaled is not None:
        _mean_curve(left, wide_scaled.history, "gaussian_nll_sigma2_2", "C2", "sigma^2 = 2, lr 0.04", ":")
        _mean_curve(left, wide_plain.history, "gaussian_nll_sigma2_2", "C3", "sigma^2 = 2, lr 0.01", "-.")
    left.set(yscale="log", xlabel="epoch", ylabel="test MSE", title="Regression: test MSE per epoch (mean of seeds)")
    left.legend(fontsize=8)
    _mean_curve(right, circ.history, "binary_crossentropy", "C0", "binary cross-entropy", "-", column="loss_value")
    _mean_curve(right, circ.history, "bernoulli_nll", "C1", "Bernoulli NLL", "--", column="loss_value")
    right.set(xlabel="epoch", ylabel="test loss", title="Circles: test loss per epoch (mean of seeds)")
    right.legend(fontsize=8)
    path = _figure_path(ctx, 2, "likelihood")
    save(fig, path)
    return Finding(verdict, summary, numbers, path)


def _mean_curve(ax, history, loss: str, colour: str, label: str, style: str, column: str = "metric_value",
                split: str = "test") -> None:
    rows = history[(history["loss"] == loss) & (history["split"] == split)]
    mean = rows.groupby("epoch")[column].mean()
    ax.plot(mean.index, mean.to_numpy(), style, color=colour, label=label)


# --------------------------------------------------------------------------------------------
# Claim 3: MSLE relaxes the punishment of large differences in large values
# --------------------------------------------------------------------------------------------

#: The target spans this ratio from its smallest to its largest value over all 1,000 rows.
MSLE_SPAN = 1000.0
#: The share of the largest targets whose part of the loss is measured.
TOP_SHARE = 0.10


def exponential_problem():
    """The regression problem with target ``y = exp(k z)``, ``z`` its standardised target and
    ``k = ln(1000) / (max z - min z)`` over all rows: strictly positive, geometric mean 1,
    spanning 3 orders of magnitude (0.050 to 50), and kept unscaled, so every loss sees the
    raw quantity. The features, the fixed split and the rows are the tutorial's."""
    from losslab.problems import Problem, get_problem

    base = get_problem("regression")
    z = np.concatenate([base.y_train, base.y_test])
    k = math.log(MSLE_SPAN) / float(z.max() - z.min())
    return Problem(
        name="regression_exp", kind="regression",
        X_train=base.X_train, y_train=np.exp(k * base.y_train), X_test=base.X_test, y_test=np.exp(k * base.y_test),
        description=f"the regression problem with target exp({k:.4f} z): positive, 3 orders of magnitude, unscaled",
        tutorial=True,
        preparation={**base.preparation, "target_transform": f"y = exp({k:.6f} * standardised y), not rescaled"},
    ), k


def top_share(y: np.ndarray, per_row_loss: np.ndarray, share: float = TOP_SHARE) -> float:
    """The part of the summed ``per_row_loss`` that the rows with the largest ``share`` of ``y`` make."""
    cut = np.quantile(y, 1 - share)
    total = float(np.sum(per_row_loss))
    return float(np.sum(per_row_loss[y >= cut]) / total) if total > 0 else math.nan


def judge_msle(relative_error: Mapping[str, Sequence[float]], top_loss_share: Mapping[str, Sequence[float]],
               test_mse: Mapping[str, Sequence[float]] | None = None) -> tuple[str, str]:
    """The verdict of claim 3 from per-seed numbers of ``"msle"`` and ``"mse"`` (paired by position).

    ``relative_error``: each seed's median ``|pred - y| / y`` on the test rows; ``top_loss_share``:
    the part of each model's own test loss that the largest 10% of targets make; ``test_mse``
    (reported, not judged): the test MSE. MSLE *wins* a criterion when its paired values are lower
    (median difference below 0, Wilcoxon ``p < 0.05``). Supported when it wins both, depends when it
    wins one (named), not supported when it wins neither.
    """
    rel = _paired_lower(relative_error["msle"], relative_error["mse"])
    top = _paired_lower(top_loss_share["msle"], top_loss_share["mse"])
    med = lambda values: float(np.nanmedian(np.asarray(values, float)))  # noqa: E731
    rel_text = (f"median relative error {med(relative_error['msle']):.3g} with MSLE vs "
                f"{med(relative_error['mse']):.3g} with MSE (Wilcoxon p = {rel['wilcoxon_p']:.2g}, "
                f"{rel['n']} paired seeds)")
    top_text = (f"the largest 10% of targets make {100 * med(top_loss_share['msle']):.0f}% of MSLE's test loss vs "
                f"{100 * med(top_loss_share['mse']):.0f}% of MSE's (p = {top['wilcoxon_p']:.2g})")
    mse_text = ""
    if test_mse is not None:
        mse = _paired_lower(test_mse["msle"], test_mse["mse"])
        direction = "lower" if mse["lower"] else "higher" if mse["higher"] else "not clearly different"
        mse_text = (f"; MSLE's test MSE is {direction} ({med(test_mse['msle']):.3g} vs "
                    f"{med(test_mse['mse']):.3g} with MSE, p = {mse['wilcoxon_p']:.2g})")
    if rel["lower"] and top["lower"]:
        return "supported", f"MSLE relaxes the large values: {top_text}, and {rel_text}{mse_text}."
    if top["lower"]:
        return "depends", (f"Depends on the criterion: the large targets weigh less ({top_text}) but the relative "
                           f"error is not lower ({rel_text}){mse_text}.")
    if rel["lower"]:
        return "depends", (f"Depends on the criterion: the relative error is lower ({rel_text}) but the large "
                           f"targets do not weigh less ({top_text}){mse_text}.")
    return "not supported", (f"MSLE neither weighs the large targets less ({top_text}) nor errs less relatively "
                             f"({rel_text}){mse_text}.")


@claim(
    3, "msle",
    "It has the effect of relaxing the punishing impact of large differences in large predicted values. "
    "(MSLE is for problems in which \"the target value has a spread of values\" and \"may be more appropriate "
    "when the model is predicting unscaled quantities directly\".)",
    "A strictly positive target spanning three orders of magnitude is made from the regression problem: "
    "y = exp(k z), z its standardised target, k = ln(1000) / (max z - min z) = 1.043 (y from 0.050 to 50, "
    "geometric mean 1), not rescaled: both networks see and predict the raw y. MSE and MSLE are trained on the "
    "same seeds (tutorial set-up: 25 relu units, SGD 0.01, momentum 0.9, 100 epochs) and judged on the test "
    "rows by the median relative error |pred - y| / y and by the share of each model's own test loss that the "
    "largest 10% of targets make (what relaxing the punishment of large values means), with the test MSE "
    "reported. Supported when MSLE is lower on both (paired Wilcoxon, p < 0.05); depends when on one.",
)
def msle_experiment(ctx: Context) -> Finding:
    from losslab.analysis import compare
    from losslab.figures._canvas import new_figure, save
    from losslab.losses import mean_squared_logarithmic_error
    from losslab.planning import plan
    from losslab.settings import Settings

    problem, k = exponential_problem()
    settings = Settings(hidden=(25,), epochs=QUICK_EPOCHS if ctx.quick else REGRESSION_EPOCHS)
    study, outputs = _trained(plan(problem, ["mse", "msle"], range(ctx.repeats), settings), ctx.progress)
    y = problem.y_test
    names = {"mse": "mean_squared_error", "msle": "mean_squared_logarithmic_error"}
    per_row = {"mse": lambda pred: (y - pred) ** 2,
               "msle": lambda pred: np.asarray(mean_squared_logarithmic_error(y[:, None], pred[:, None]), float)}
    relative, share, test_mse, diverged, by_size = {}, {}, {}, {}, {}
    small, large = y <= np.median(y), y >= np.quantile(y, 1 - TOP_SHARE)
    for short, name in names.items():
        runs = study.runs[study.runs["loss"] == name].set_index("seed").sort_index()
        usable = ~(runs["diverged"] | runs["collapsed"]).to_numpy()
        preds = outputs[name][:, -problem.n_test:, 0].astype(np.float64)
        relative[short] = [float(np.median(np.abs(p - y) / y)) if ok else math.nan for p, ok in zip(preds, usable)]
        share[short] = [top_share(y, per_row[short](p.astype(np.float32))) if ok else math.nan
                        for p, ok in zip(preds, usable)]
        test_mse[short] = [float(v) if ok else math.nan for v, ok in zip(runs["test_mse"], usable)]
        diverged[short] = int((~usable).sum())
        rel, kept = np.abs(preds[usable] - y) / y, bool(usable.any())
        by_size[short] = {"median_relative_error_smaller_half": float(np.median(rel[:, small])) if kept else math.nan,
                          "median_relative_error_largest_10pct": float(np.median(rel[:, large])) if kept else math.nan,
                          "share_of_test_predictions_at_or_below_0": float(np.mean(preds[usable] <= 0)) if kept
                          else math.nan}
    verdict, summary = judge_msle(relative, share, test_mse)
    comparison = compare(study)
    numbers = {
        "k": k,
        "target_range": [float(min(problem.y_train.min(), y.min())), float(max(problem.y_train.max(), y.max()))],
        "median_relative_error": {s: float(np.nanmedian(v)) for s, v in relative.items()},
        "top10_loss_share": {s: float(np.nanmedian(v)) for s, v in share.items()},
        "test_mse_mean": {s: float(np.nanmean(v)) for s, v in test_mse.items()},
        "relative_error_test": _paired_lower(relative["msle"], relative["mse"]),
        "top10_share_test": _paired_lower(share["msle"], share["mse"]),
        "test_mse_verdicts": comparison.verdicts,
        "by_target_size (pooled over seeds)": by_size,
        "runs_left_out (diverged or collapsed)": diverged,
        "epochs": settings.epochs, "seeds": ctx.repeats,
    }
    half, top10 = "median_relative_error_smaller_half", "median_relative_error_largest_10pct"
    summary += (f" By target size, MSLE's median relative error is {by_size['msle'][half]:.3g} vs MSE's "
                f"{by_size['mse'][half]:.3g} on the smaller half of the targets and {by_size['msle'][top10]:.3g} vs "
                f"{by_size['mse'][top10]:.3g} on the largest 10%. "
                f"compare on test MSE: {comparison.verdicts[0]}")

    fig = new_figure((10, 4))
    left, right = fig.subplots(1, 2)
    order = np.argsort(y)
    for short, colour in (("mse", "C0"), ("msle", "C1")):
        pred = outputs[names[short]][0, -problem.n_test:, 0]
        left.scatter(y, np.clip(pred, 1e-3, None), s=5, alpha=0.5, color=colour, label=short.upper())
        deciles = np.array_split(order, 10)
        loss = per_row[short](pred.astype(np.float32))
        right.plot(range(1, 11), [loss[d].sum() / loss.sum() for d in deciles], "o-", color=colour,
                   label=short.upper())
    left.plot([y.min(), y.max()], [y.min(), y.max()], "--", color="grey")
    left.set(xscale="log", yscale="log", xlabel="target y (test)", ylabel="prediction (clipped at 0.001)",
             title="Seed 0: predictions against targets")
    left.legend(fontsize=8)
    right.set(xlabel="decile of the target (1 = smallest)", ylabel="share of the model's own test loss",
              title="Seed 0: where each loss's weight lies")
    right.legend(fontsize=8)
    path = _figure_path(ctx, 3, "msle")
    save(fig, path)
    return Finding(verdict, summary, numbers, path)


# --------------------------------------------------------------------------------------------
# Claim 4: MAE is more robust to outliers
# --------------------------------------------------------------------------------------------

#: Shares of training targets corrupted, and by how many standard deviations of the target.
CORRUPTED_SHARES = (0.0, 0.05, 0.20)
OUTLIER_SDS = 10.0
#: "Not losing much" on clean data: MAE's mean test MSE at most this much above MSE's, in the
#: standardised target's variance (an R^2 lower by at most 0.01).
CLEAN_TOLERANCE = 0.01
ROBUST = ("mean_absolute_error", "huber")
OUTCOMES = ("better", "worse", "equivalent", "identical", "inconclusive")


def corrupted_problem(share: float):
    """The tutorial's regression problem with ``share`` of its 500 training targets moved by
    +/-10 standard deviations (rows and signs drawn once, ``default_rng(0)``, so the 5% rows are
    among the 20%); the test rows are clean."""
    from losslab.problems import Problem, get_problem

    base = get_problem("regression")
    rng = np.random.default_rng(0)
    order = rng.permutation(base.n_train)
    signs = rng.choice([-1.0, 1.0], base.n_train)
    rows = order[: int(round(share * base.n_train))]
    y = base.y_train.copy()
    y[rows] += OUTLIER_SDS * base.y_train.std() * signs[rows]
    return Problem(
        name=f"regression_{round(100 * share)}pct_outliers", kind="regression",
        X_train=base.X_train, y_train=y, X_test=base.X_test, y_test=base.y_test,
        description=f"the regression problem with {len(rows)} training targets moved by +/-{OUTLIER_SDS:g} sd",
        tutorial=True, target_policy=base.target_policy,
        preparation={**base.preparation, "outliers": f"{len(rows)} training targets +/-{OUTLIER_SDS:g} sd; test clean"},
    )


def outcome(pairs, loss: str, reference: str = "mean_squared_error") -> str:
    """What compare's pairs table says of ``loss`` against ``reference``: one of :data:`OUTCOMES`."""
    row = pairs[((pairs["loss_a"] == loss) & (pairs["loss_b"] == reference))
                | ((pairs["loss_a"] == reference) & (pairs["loss_b"] == loss))].iloc[0]
    if row["better"] == loss:
        return "better"
    if row["better"] == reference:
        return "worse"
    for word in ("identical", "equivalent"):
        if str(row["verdict"]).startswith(word):
            return word
    return "inconclusive"


def judge_mae_outliers(records: Sequence[Mapping[str, object]]) -> tuple[str, str]:
    """The verdict of claim 4 from one record per corruption ``share``, ``loss`` (MAE or Huber)
    and ``metric`` (``"mse"`` or ``"mae"`` on the clean test rows): ``outcome`` against MSE (one
    of :data:`OUTCOMES`, compare's verdict) and ``excess``, the loss's mean test score minus MSE's.

    MAE must be better than MSE on test MSE at every corrupted share and, on clean data (share
    0), not worse by more than :data:`CLEAN_TOLERANCE` (or not worse at all by compare's verdict).
    Supported when both hold; not supported when MAE is better at no corrupted share on either
    metric; depends otherwise (on the share, the metric, or whether the data have outliers).
    Huber's outcomes are reported beside MAE's.
    """
    def get(share, loss, metric):
        return next((r for r in records if r["share"] == share and r["loss"] == loss and r["metric"] == metric), None)

    shares = sorted({float(r["share"]) for r in records})
    corrupted = [s for s in shares if s > 0]
    mae = "mean_absolute_error"
    wins = {s: (get(s, mae, "mse") or {}).get("outcome") == "better" for s in corrupted}
    wins_mae_metric = {s: (get(s, mae, "mae") or {}).get("outcome") == "better" for s in corrupted}
    clean = get(0.0, mae, "mse")
    clean_ok = clean is None or clean["outcome"] != "worse" or float(clean["excess"]) <= CLEAN_TOLERANCE

    def describe(loss: str) -> str:
        parts = []
        for s in shares:
            r = get(s, loss, "mse")
            if r is not None:
                parts.append(f"{100 * s:.0f}%: {r['outcome']} ({float(r['excess']):+.3g})")
        return ", ".join(parts)

    detail = (f"test MSE against MSE's by share of corrupted training targets: MAE {describe(mae)}; "
              f"Huber {describe('huber')}")
    if corrupted and all(wins.values()) and clean_ok:
        return "supported", f"MAE beats MSE wherever there are outliers and loses little without them: {detail}."
    if not any(wins.values()) and not any(wins_mae_metric.values()):
        return "not supported", f"MAE is better than MSE at no share of outliers: {detail}."
    if all(wins.values()) and not clean_ok:
        return "depends", (f"Depends on whether the data have outliers: MAE wins with them but costs "
                           f"{float(clean['excess']):.3g} test MSE on clean data: {detail}.")
    won = [f"{100 * s:.0f}%" for s in corrupted if wins[s]]
    won_mae = [f"{100 * s:.0f}%" for s in corrupted if wins_mae_metric[s]]
    return "depends", (f"Depends on the share of outliers and the metric: MAE wins on test MSE at "
                       f"{', '.join(won) or 'no share'} and on test MAE at {', '.join(won_mae) or 'no share'}: "
                       f"{detail}.")


@claim(
    4, "mae-outliers",
    "The Mean Absolute Error, or MAE, loss is an appropriate loss function in this case as it is more robust to "
    "outliers. (The case: \"the distribution of the target variable may be mostly Gaussian but may have outliers\".)",
    "On the tutorial's regression problem, 0%, 5% and 20% of the 500 training targets are moved by +/-10 standard "
    "deviations (the same rows and signs for every seed; the test rows stay clean), and MSE, MAE and Huber "
    "(delta 1) are trained on paired seeds with the tutorial's set-up (25 relu units, SGD 0.01, momentum 0.9, "
    "100 epochs). compare's paired verdicts on the clean test MSE (and MAE) decide: supported when MAE beats MSE "
    "at 5% and 20% and, at 0%, is not worse by more than 0.01 (an R^2 lower by 0.01).",
)
def mae_outliers_experiment(ctx: Context) -> Finding:
    from losslab.analysis import compare
    from losslab.figures._canvas import new_figure, save
    from losslab.planning import plan
    from losslab.results import run
    from losslab.settings import Settings

    settings = Settings(hidden=(25,), epochs=QUICK_EPOCHS if ctx.quick else REGRESSION_EPOCHS)
    losses = ["mse", "mae", "huber"]
    shares = (0.0, 0.20) if ctx.quick else CORRUPTED_SHARES
    records, summary_rows, scores, verdicts = [], [], {}, {}
    for share in shares:
        study = run(plan(corrupted_problem(share), losses, range(ctx.repeats), settings), ctx.progress)
        for metric in ("mse", "mae"):
            comparison = compare(study, metric=None if metric == "mse" else "mae")
            means = study.runs.groupby("loss")[f"test_{metric}"].mean()
            for loss in ROBUST:
                records.append({"share": share, "loss": loss, "metric": metric,
                                "outcome": outcome(comparison.pairs, loss),
                                "excess": float(means[loss] - means["mean_squared_error"])})
            for loss in study.losses:
                values = study.runs.loc[study.runs["loss"] == loss, f"test_{metric}"].to_numpy(float)
                scores[(share, loss, metric)] = values
                summary_rows.append({"share": share, "loss": loss, "metric": f"test_{metric}",
                                     "mean": float(np.nanmean(values)), "median": float(np.nanmedian(values)),
                                     "n_left_out": int(study.runs.loc[study.runs["loss"] == loss,
                                                                      ["diverged", "collapsed"]].any(axis=1).sum())})
            verdicts[f"{100 * share:.0f}% test {metric}"] = comparison.verdicts
    verdict, summary = judge_mae_outliers(records)
    numbers = {"outcomes": records, "compare_verdicts": verdicts,
               "scores": summary_rows, "epochs": settings.epochs, "seeds": ctx.repeats,
               "outlier_sds": OUTLIER_SDS}

    fig = new_figure((10, 4))
    for ax, metric in zip(fig.subplots(1, 2), ("mse", "mae")):
        for loss, colour, label in (("mean_squared_error", "C0", "MSE"), ("mean_absolute_error", "C1", "MAE"),
                                    ("huber", "C2", "Huber")):
            values = [scores[(s, loss, metric)] for s in shares]
            x = 100 * np.asarray(shares)
            ax.plot(x, [np.nanmedian(v) for v in values], "o-", color=colour, label=label)
            ax.fill_between(x, [np.nanpercentile(v, 10) for v in values], [np.nanpercentile(v, 90) for v in values],
                            color=colour, alpha=0.2, linewidth=0)
        ax.set(yscale="log", xlabel="% of training targets moved by +/-10 sd", ylabel=f"clean test {metric.upper()}",
               title=f"Clean test {metric.upper()} (median, 10-90% of seeds)")
        ax.legend(fontsize=8)
    path = _figure_path(ctx, 4, "mae-outliers")
    save(fig, path)
    return Finding(verdict, summary, numbers, path)
