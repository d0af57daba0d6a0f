"""What losslab knows about each loss: :class:`LossSpec` and the fourteen built-in specs.

A spec ties a loss function to the problem kind it serves, the output layer it expects
(``units`` x ``activation``), the encoding of the targets, the domain those targets must lie in
and the metric to report. The tables below name every value these fields may take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import jax
import jax.numpy as jnp
from jax import Array

from losslab import losses as L
from losslab.errors import LosslabError
from losslab.metrics import Metric, metric_for
from losslab.problems import KINDS

LossFn = Callable[[Array, Array], Array]

#: Output-layer activations a loss may expect, applied to the pre-activation output ``z``.
OUTPUT_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "linear": lambda z: z,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
    "softmax": jax.nn.softmax,
    "exponential": jnp.exp,
}

#: Target encodings: what each means and the array shape a loss receives.
ENCODINGS: dict[str, str] = {
    "raw": "real values, shape (n, 1)",
    "{0,1}": "binary labels 0/1, shape (n, 1)",
    "{-1,1}": "binary labels -1/+1, shape (n, 1)",
    "one-hot": "one column per class, shape (n, n_classes)",
    "integer": "class index 0..n_classes-1, shape (n,)",
}

#: Target domains: the raw target values a loss can use well. A loss on raw (regression)
#: targets has one of the first three; a classification loss's domain is its encoding.
DOMAINS: dict[str, str] = {
    "real": "any real value",
    "non-negative": "real values >= 0 (MSLE takes log(1 + y), Poisson models counts)",
    "non-zero": "real values away from 0 (MAPE divides by the target)",
    "{0,1}": ENCODINGS["{0,1}"],
    "{-1,1}": ENCODINGS["{-1,1}"],
    "one-hot": ENCODINGS["one-hot"],
    "integer": ENCODINGS["integer"],
}

_RAW_DOMAINS = ("real", "non-negative", "non-zero")


def default_domain(encoding: str) -> str:
    """The domain a loss has unless it says otherwise: any real value, or the classes it encodes."""
    return "real" if encoding == "raw" else encoding


def metric_for_kind(kind: str) -> str:
    """The metric reported for a problem of ``kind``: ``"mse"`` for regression, else ``"accuracy"``.

    >>> metric_for_kind("regression"), metric_for_kind("multiclass")
    ('mse', 'accuracy')
    """
    if kind not in KINDS:
        raise LosslabError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return "mse" if kind == "regression" else "accuracy"


@dataclass(frozen=True)
class LossSpec:
    """Everything losslab knows about one loss.

    ``fn(y_true, y_pred)`` takes the encoded targets and the *activated* output and returns the
    per-sample loss, exactly as Keras computes it. ``from_logits(y_true, z)``, where present, is
    the numerically stable form computed from the pre-activation output ``z``; training uses it.
    ``activation``, ``encoding`` and ``domain`` take the values named in
    :data:`OUTPUT_ACTIVATIONS`, :data:`ENCODINGS` and :data:`DOMAINS`; ``metric`` follows from
    ``kind`` (:func:`metric_for_kind`) and ``units`` from the activation.

    >>> spec = LossSpec("log_mse", L.mean_squared_logarithmic_error, "regression", "linear", "raw",
    ...                 "non-negative", "MSE of log(1+y)")
    >>> spec.metric, spec.output_layer, spec.keeps_target_sign
    ('mse', '1 unit, linear', True)
    """

    name: str
    fn: LossFn
    kind: str
    activation: str
    encoding: str
    domain: str
    description: str
    aliases: tuple[str, ...] = ()
    from_logits: LossFn | None = None
    builtin: bool = True
    metric: str = field(init=False)
    units: str = field(init=False)

    def __post_init__(self) -> None:
        if self.activation not in OUTPUT_ACTIVATIONS:
            raise LosslabError(f"activation must be one of {', '.join(OUTPUT_ACTIVATIONS)}, got {self.activation!r}")
        if self.encoding not in ENCODINGS:
            raise LosslabError(f"encoding must be one of {', '.join(ENCODINGS)}, got {self.encoding!r}")
        allowed = _RAW_DOMAINS if self.encoding == "raw" else (self.encoding,)
        if self.domain not in allowed:
            raise LosslabError(
                f"domain must be {' or '.join(map(repr, allowed))} for {self.encoding!r} targets, got {self.domain!r}"
            )
        object.__setattr__(self, "metric", metric_for_kind(self.kind))
        object.__setattr__(self, "units", "n_classes" if self.activation == "softmax" else "1")

    def output_units(self, n_classes: int | None) -> int:
        """Number of output units for a problem with ``n_classes`` classes."""
        return int(n_classes) if self.units == "n_classes" else 1

    @property
    def output_layer(self) -> str:
        """The output layer in words, e.g. ``'1 unit, sigmoid'``."""
        return f"{'1 unit' if self.units == '1' else 'n_classes units'}, {self.activation}"

    @property
    def keeps_target_sign(self) -> bool:
        """Whether a regression target must keep its signs and zeros (so must not be centred).

        True for the ``"non-negative"`` and ``"non-zero"`` domains (MSLE, Poisson, MAPE): centring
        would make half the targets negative, or move some onto zero.
        """
        return self.domain in ("non-negative", "non-zero")

    def activate(self, z: Array) -> Array:
        """Apply the output activation to the pre-activation output ``z``."""
        return OUTPUT_ACTIVATIONS[self.activation](z)

    def objective(self, y_true: Array, z: Array) -> Array:
        """Per-sample training loss from the pre-activation output ``z`` (stable form if any)."""
        if self.from_logits is not None:
            return self.from_logits(y_true, z)
        return self.fn(y_true, self.activate(z))

    @property
    def metric_fn(self) -> Metric:
        """Per-sample metric, correct for this output layer and encoding."""
        return metric_for(self.metric, self.activation)

    def row(self) -> dict[str, str]:
        """This spec as one row of :func:`~losslab.registry.losses_table`."""
        return {
            "loss": self.name,
            "kind": self.kind,
            "output layer": self.output_layer,
            "targets": self.encoding,
            "target domain": self.domain,
            "metric": "accuracy" if self.metric == "accuracy" else "mean squared error",
            "aliases": ", ".join(self.aliases),
            "description": self.description,
        }


def probability_form(spec: LossSpec) -> LossSpec:
    """``spec`` trained as Keras trains it by default: on the activated output, with its epsilons
    and clipping, instead of the stable from-logits form losslab trains with elsewhere.

    For KL divergence this matters: from logits its gradient on one-hot targets is exactly
    cross-entropy's (``softmax(z) - y``), so the two train identically; Keras's form clips the
    one-hot zeros to 1e-7, which adds ``1e-7 * log(1e-7 / p_j)`` per other class and moves every
    run a little.
    """
    return replace(spec, from_logits=None)


def _spec(name, fn, kind, activation, encoding, description, aliases=(), from_logits=None, domain=None) -> LossSpec:
    return LossSpec(name, fn, kind, activation, encoding, domain or default_domain(encoding), description,
                    tuple(aliases), from_logits)


_BUILTINS: tuple[LossSpec, ...] = (
    _spec("mean_squared_error", L.mean_squared_error, "regression", "linear", "raw",
          "Default for regression: maximum likelihood under Gaussian noise.",
          ("mse", "MeanSquaredError")),
    _spec("mean_squared_logarithmic_error", L.mean_squared_logarithmic_error, "regression", "linear", "raw",
          "MSE of log(1+y): relative errors, for non-negative targets spanning magnitudes.",
          ("msle", "MeanSquaredLogarithmicError"), domain="non-negative"),
    _spec("mean_absolute_error", L.mean_absolute_error, "regression", "linear", "raw",
          "Robust to outliers: the median, not the mean, minimises it.",
          ("mae", "MeanAbsoluteError")),
    _spec("mean_absolute_percentage_error", L.mean_absolute_percentage_error, "regression", "linear", "raw",
          "Percentage error x100; needs targets away from zero.",
          ("mape", "MeanAbsolutePercentageError"), domain="non-zero"),
    _spec("huber", L.huber, "regression", "linear", "raw",
          "Quadratic near zero, linear beyond delta=1: MSE's smoothness with MAE's robustness.",
          ("huber_loss", "Huber")),
    _spec("log_cosh", L.log_cosh, "regression", "linear", "raw",
          "log(cosh(error)): like MSE for small errors, like MAE for large ones.",
          ("logcosh", "LogCosh")),
    _spec("poisson", L.poisson, "regression", "exponential", "raw",
          "Poisson likelihood for non-negative counts; exponential output keeps the rate positive.",
          ("Poisson",), L.poisson_from_log_rate, domain="non-negative"),
    _spec("binary_crossentropy", L.binary_crossentropy, "binary", "sigmoid", "{0,1}",
          "Default for two classes: maximum likelihood for a Bernoulli target.",
          ("bce", "binary_cross_entropy", "log_loss", "logloss", "BinaryCrossentropy"),
          L.binary_crossentropy_from_logits),
    _spec("hinge", L.hinge, "binary", "tanh", "{-1,1}",
          "SVM margin loss max(1 - y*f, 0) on {-1, 1} targets.",
          ("Hinge",)),
    _spec("squared_hinge", L.squared_hinge, "binary", "tanh", "{-1,1}",
          "Square of the hinge loss: smoother, punishes margin violations more.",
          ("SquaredHinge",)),
    _spec("categorical_crossentropy", L.categorical_crossentropy, "multiclass", "softmax", "one-hot",
          "Default for several classes: maximum likelihood for a categorical target.",
          ("cce", "categorical_cross_entropy", "CategoricalCrossentropy"),
          L.categorical_crossentropy_from_logits),
    _spec("sparse_categorical_crossentropy", L.sparse_categorical_crossentropy, "multiclass", "softmax", "integer",
          "Categorical cross-entropy on integer labels: no one-hot encoding needed.",
          ("scce", "sparse_categorical_cross_entropy", "SparseCategoricalCrossentropy"),
          L.sparse_categorical_crossentropy_from_logits),
    _spec("kl_divergence", L.kl_divergence, "multiclass", "softmax", "one-hot",
          "KL(y_true || y_pred); on one-hot targets it equals categorical cross-entropy.",
          ("kld", "kullback_leibler_divergence", "KLDivergence"),
          L.kl_divergence_from_logits),
    _spec("categorical_hinge", L.categorical_hinge, "multiclass", "softmax", "one-hot",
          "Multiclass margin loss max(max_other p - p_true + 1, 0) over softmax outputs (Keras form).",
          ("CategoricalHinge",)),
)
