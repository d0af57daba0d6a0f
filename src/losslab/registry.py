"""The loss registry: for every loss, the output layer, target encoding and metric it needs.

A :class:`LossSpec` ties a loss function to the problem kind it serves, the output layer it
expects (``units`` x ``activation``), the encoding of the targets and the metric to report.
``get_loss`` resolves any Keras name or alias, ``encode_targets`` turns raw labels or values into
what the loss needs, ``check_compatible`` refuses a loss that does not fit a problem, and
``recommend`` gives the tutorial's "what loss function to use?" table.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from jax import Array

from losslab import losses as L
from losslab._names import did_you_mean, normalize
from losslab.errors import IncompatibleLossError, LosslabError, TargetError, UnknownNameError
from losslab.metrics import Metric, metric_for
from losslab.problems import KINDS

LossFn = Callable[[Array, Array], Array]

ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
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

_DEFAULT_OUTPUT = {  # kind -> (activation, encoding) for a user's loss that names neither
    "regression": ("linear", "raw"),
    "binary": ("sigmoid", "{0,1}"),
    "multiclass": ("softmax", "one-hot"),
}


class TargetWarning(UserWarning):
    """Targets a loss accepts but handles in a way the user should know about."""


@dataclass(frozen=True)
class LossSpec:
    """Everything losslab knows about one loss.

    ``fn(y_true, y_pred)`` takes the encoded targets and the *activated* output and returns the
    per-sample loss, exactly as Keras computes it. ``from_logits(y_true, z)``, where present, is
    the numerically stable form computed from the pre-activation output ``z``; training uses it.
    """

    name: str
    fn: LossFn
    kind: str
    activation: str
    encoding: str
    metric: str
    description: str
    aliases: tuple[str, ...] = ()
    from_logits: LossFn | None = None
    builtin: bool = True
    units: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "units", "n_classes" if self.activation == "softmax" else "1")

    def output_units(self, n_classes: int | None) -> int:
        """Number of output units for a problem with ``n_classes`` classes."""
        return int(n_classes) if self.units == "n_classes" else 1

    @property
    def output_layer(self) -> str:
        """The output layer in words, e.g. ``'1 unit, sigmoid'``."""
        return f"{'1 unit' if self.units == '1' else 'n_classes units'}, {self.activation}"

    def activate(self, z: Array) -> Array:
        """Apply the output activation to the pre-activation output ``z``."""
        return ACTIVATIONS[self.activation](z)

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
        """This spec as one row of :func:`losses_table`."""
        return {
            "loss": self.name,
            "kind": self.kind,
            "output layer": self.output_layer,
            "targets": self.encoding,
            "metric": "accuracy" if self.metric == "accuracy" else "mean squared error",
            "aliases": ", ".join(self.aliases),
            "description": self.description,
        }


def _spec(name, fn, kind, activation, encoding, description, aliases=(), from_logits=None) -> LossSpec:
    metric = "mse" if kind == "regression" else "accuracy"
    return LossSpec(name, fn, kind, activation, encoding, metric, description, tuple(aliases), from_logits)


_BUILTINS: tuple[LossSpec, ...] = (
    _spec("mean_squared_error", L.mean_squared_error, "regression", "linear", "raw",
          "Default for regression: maximum likelihood under Gaussian noise.",
          ("mse", "MeanSquaredError")),
    _spec("mean_squared_logarithmic_error", L.mean_squared_logarithmic_error, "regression", "linear", "raw",
          "MSE of log(1+y): relative errors, for non-negative targets spanning magnitudes.",
          ("msle", "MeanSquaredLogarithmicError")),
    _spec("mean_absolute_error", L.mean_absolute_error, "regression", "linear", "raw",
          "Robust to outliers: the median, not the mean, minimises it.",
          ("mae", "MeanAbsoluteError")),
    _spec("mean_absolute_percentage_error", L.mean_absolute_percentage_error, "regression", "linear", "raw",
          "Percentage error x100; needs targets away from zero.",
          ("mape", "MeanAbsolutePercentageError")),
    _spec("huber", L.huber, "regression", "linear", "raw",
          "Quadratic near zero, linear beyond delta=1: MSE's smoothness with MAE's robustness.",
          ("huber_loss", "Huber")),
    _spec("log_cosh", L.log_cosh, "regression", "linear", "raw",
          "log(cosh(error)): like MSE for small errors, like MAE for large ones.",
          ("logcosh", "LogCosh")),
    _spec("poisson", L.poisson, "regression", "exponential", "raw",
          "Poisson likelihood for non-negative counts; exponential output keeps the rate positive.",
          ("Poisson",), L.poisson_from_log_rate),
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

_REGISTRY: dict[str, LossSpec] = {}
_ALIASES: dict[str, str] = {}


def _add(spec: LossSpec, overwrite: bool = False) -> None:
    """Enter ``spec`` under its name and aliases. A name owned by a built-in loss is never taken;
    one owned by another user loss only with ``overwrite``."""
    keys = {normalize(spec.name), *(normalize(a) for a in spec.aliases)}
    for key in keys:
        owner = _ALIASES.get(key)
        if owner is None or owner == spec.name:
            continue
        if _REGISTRY[owner].builtin or not overwrite:
            raise LosslabError(
                f"the name {key!r} already belongs to loss {owner!r}; choose another name"
                + ("" if _REGISTRY[owner].builtin else " or pass overwrite=True")
            )
    for key in [k for k, v in _ALIASES.items() if v == spec.name]:
        del _ALIASES[key]
    _REGISTRY[spec.name] = spec
    for key in keys:
        _ALIASES[key] = spec.name


for _s in _BUILTINS:
    _add(_s)


def loss_names() -> list[str]:
    """Canonical names of every registered loss, built-in first."""
    return list(_REGISTRY)


def get_loss(name: str | LossSpec, kind: str | None = None) -> LossSpec:
    """The :class:`LossSpec` for any Keras name or alias, case-insensitive.

    Spaces, hyphens and underscores are interchangeable, so the tutorial's ``'mean squared error'``
    works. A reference of the form ``'path/to/file.py:function'`` or ``'module:function'`` loads a
    user's own loss and registers it for problems of ``kind``.

    >>> get_loss("Mean Squared Error").name
    'mean_squared_error'
    >>> get_loss("kld").name
    'kl_divergence'
    """
    if isinstance(name, LossSpec):
        return name
    if not isinstance(name, str):
        raise LosslabError(f"a loss is named by a string, got {type(name).__name__}; register a function with register_loss")
    if ":" in name and normalize(name) not in _ALIASES:
        return _load_user_loss(name, kind)
    key = normalize(name)
    if key not in _ALIASES:
        raise UnknownNameError(did_you_mean(name, _ALIASES, "loss"))
    return _REGISTRY[_ALIASES[key]]


def losses_table() -> pd.DataFrame:
    """Every registered loss with its kind, output layer, target encoding, metric and aliases."""
    return pd.DataFrame([spec.row() for spec in _REGISTRY.values()])


def register_loss(
    name: str,
    fn: LossFn,
    *,
    kind: str,
    activation: str | None = None,
    encoding: str | None = None,
    aliases: Sequence[str] = (),
    description: str = "",
    from_logits: LossFn | None = None,
    overwrite: bool = False,
) -> LossSpec:
    """Add a user's own loss; it is then usable everywhere a built-in loss is.

    ``fn(y_true, y_pred)`` must be a JAX-traceable function returning one value per sample.
    ``activation`` and ``encoding`` default to the usual ones for ``kind`` (linear/raw,
    sigmoid/{0,1}, softmax/one-hot).

    >>> import jax.numpy as jnp
    >>> spec = register_loss("quartic", lambda t, p: jnp.mean((t - p) ** 4, axis=-1), kind="regression")
    >>> get_loss("Quartic").output_layer
    '1 unit, linear'
    """
    if kind not in KINDS:
        raise LosslabError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    default_activation, default_encoding = _DEFAULT_OUTPUT[kind]
    activation = activation or default_activation
    encoding = encoding or default_encoding
    if activation not in ACTIVATIONS:
        raise LosslabError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    if encoding not in ENCODINGS:
        raise LosslabError(f"encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
    if not callable(fn):
        raise LosslabError(f"the loss {name!r} must be a function (y_true, y_pred) -> per-sample loss")
    metric = "mse" if kind == "regression" else "accuracy"
    spec = LossSpec(normalize(name), fn, kind, activation, encoding, metric, description or f"user loss {name}",
                    tuple(aliases), from_logits, builtin=False)
    owner = _REGISTRY.get(_ALIASES.get(spec.name, ""))
    if owner is not None and owner.builtin:
        raise LosslabError(f"{spec.name!r} names the built-in loss {owner.name!r}; register yours under another name")
    if spec.name in _REGISTRY and not overwrite:
        raise LosslabError(f"a loss named {spec.name!r} is already registered; pass overwrite=True to replace it")
    _check_per_sample(spec)
    _add(spec, overwrite=overwrite)
    return spec


def _check_per_sample(spec: LossSpec) -> None:
    """Call the loss once on a small batch and insist on one finite value per sample."""
    n_classes = 3 if spec.units == "n_classes" else None
    y = encode_targets(spec, np.array([0, 1, 1, 0] if spec.kind != "regression" else [0.5, 1.0, 2.0, 1.5]), n_classes)
    z = jnp.zeros((4, spec.output_units(n_classes)), jnp.float32) + 0.1
    try:
        out = jax.jit(spec.objective)(jnp.asarray(y), z)
    except Exception as exc:  # a user's function may fail in any way; report it as their error
        raise LosslabError(f"the loss {spec.name!r} failed on a test batch: {type(exc).__name__}: {exc}") from exc
    if out.shape != (4,):
        raise LosslabError(
            f"the loss {spec.name!r} must return one value per sample (shape (4,) for 4 samples), got shape "
            f"{out.shape}; reduce over the last axis only, e.g. jnp.mean(..., axis=-1)"
        )
    if not bool(jnp.all(jnp.isfinite(out))):
        raise LosslabError(f"the loss {spec.name!r} returned NaN or infinite values on a test batch; check its formula")


def _load_user_loss(ref: str, kind: str | None) -> LossSpec:
    """Load ``file.py:function`` or ``module:function`` and register it for ``kind``."""
    target, _, func_name = ref.rpartition(":")
    if kind is None:
        raise LosslabError(f"to use your own loss {ref!r}, say which kind of problem it is for")
    if target.endswith(".py"):
        path = Path(target)
        if not path.is_file():
            raise UnknownNameError(f"no such file {target!r} for the loss {ref!r}; give path/to/file.py:function")
        module_name = f"losslab_user_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # the user's file may fail in any way: report it as theirs
            del sys.modules[module_name]
            raise LosslabError(f"cannot load {target!r} for the loss {ref!r}: {type(exc).__name__}: {exc}") from exc
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as exc:
            raise UnknownNameError(f"cannot import module {target!r} for the loss {ref!r}: {exc}") from exc
    fn = getattr(module, func_name, None)
    if fn is None or not callable(fn):
        names = [n for n, v in inspect.getmembers(module, callable) if not n.startswith("_")]
        raise UnknownNameError(f"{target}: " + did_you_mean(func_name, names, "function"))
    return register_loss(func_name, fn, kind=kind, overwrite=True,
                         description=inspect.getdoc(fn).splitlines()[0] if inspect.getdoc(fn) else f"user loss from {ref}")


def check_compatible(spec: LossSpec, problem_kind: str, n_classes: int | None = None) -> None:
    """Refuse a loss that does not fit the problem, naming the loss that would.

    Losses for several classes (softmax) also serve binary problems; two-class losses and
    regression losses serve only their own kind.
    """
    if spec.kind == problem_kind or (spec.kind == "multiclass" and problem_kind == "binary"):
        return
    what = {"regression": "a regression problem", "binary": "a binary classification problem",
            "multiclass": f"a multiclass problem with {n_classes} classes"}[problem_kind]
    if spec.kind == "binary" and problem_kind == "multiclass":
        fix = "categorical_hinge" if spec.activation == "tanh" else "categorical_crossentropy"
        raise IncompatibleLossError(f"{spec.name} is a two-class loss but this is {what}; use {fix}")
    fix = recommend(problem_kind).loss
    kind_word = "a regression loss" if spec.kind == "regression" else "a classification loss"
    raise IncompatibleLossError(f"{spec.name} is {kind_word} but this is {what}; use {fix}")


def encode_targets(spec: LossSpec, y: np.ndarray, n_classes: int | None = None, *, policy: str = "error") -> np.ndarray:
    """Turn raw targets into what ``spec`` needs, validating them.

    ``y`` holds real values (regression) or class labels; binary labels may be {0, 1}, {-1, 1} or
    booleans, multiclass labels integers ``0..n_classes-1``. Returns float32 ``(n, 1)`` for
    one-unit losses, float32 ``(n, n_classes)`` for one-hot, int32 ``(n,)`` for integer labels.

    Targets that a loss accepts but cannot use well (negative values for MSLE and Poisson, zeros
    for MAPE) raise :class:`TargetError` with ``policy='error'`` and give a :class:`TargetWarning`
    with ``policy='warn'`` (Keras's behaviour: MSLE clamps negatives to ~0, MAPE divides by
    ``max(|y|, 1e-7)``).

    >>> encode_targets(get_loss("hinge"), np.array([0, 1, 1]))[:, 0]
    array([-1.,  1.,  1.], dtype=float32)
    """
    if policy not in ("error", "warn"):
        raise LosslabError(f"policy must be 'error' or 'warn', got {policy!r}")
    y = np.asarray(y)
    if y.size == 0:
        raise TargetError("there are no targets (0 rows); give at least one row")
    if y.ndim != 1:
        raise TargetError(f"targets must be one value per row (shape (n,)), got shape {y.shape}")
    if y.dtype.kind not in "biuf":
        raise TargetError(f"{spec.name} needs numeric targets, got {y.dtype}; encode labels as integers first")
    if not np.all(np.isfinite(y)):
        bad = int(np.sum(~np.isfinite(y)))
        raise TargetError(f"{bad} of {len(y)} targets are NaN or infinite; drop or impute those rows")
    if spec.encoding == "raw":
        _check_raw_targets(spec, y.astype(np.float64), policy)
        return y.astype(np.float32)[:, None]
    if spec.encoding in ("{0,1}", "{-1,1}"):
        labels = _binary_labels(spec, y)
        return (labels if spec.encoding == "{0,1}" else 2 * labels - 1).astype(np.float32)[:, None]
    labels = _class_indices(spec, y, n_classes)
    if spec.encoding == "integer":
        return labels.astype(np.int32)
    k = int(n_classes) if n_classes is not None else int(labels.max()) + 1
    return np.eye(k, dtype=np.float32)[labels]


def _check_raw_targets(spec: LossSpec, y: np.ndarray, policy: str) -> None:
    problem = None
    if spec.name in ("mean_squared_logarithmic_error", "poisson") and np.any(y < 0):
        problem = (f"{spec.name} needs non-negative targets; {int(np.sum(y < 0))} of {len(y)} are negative. "
                   "Use mean_squared_error, or shift the target")
    elif spec.name == "mean_absolute_percentage_error" and np.any(y == 0):
        problem = (f"{spec.name} divides by the target; {int(np.sum(y == 0))} of {len(y)} targets are zero. "
                   "Use mean_absolute_error, or shift the target away from zero")
    if problem is None:
        return
    if policy == "error":
        raise TargetError(problem)
    warnings.warn(problem + " (continuing as Keras would)", TargetWarning, stacklevel=3)


def _binary_labels(spec: LossSpec, y: np.ndarray) -> np.ndarray:
    values = set(np.unique(y).tolist())
    if values <= {0, 1}:
        return y.astype(np.int64)
    if values <= {-1, 1}:
        return (y > 0).astype(np.int64)
    shown = ", ".join(map(str, sorted(values)[:6]))
    fix = "categorical_hinge" if spec.activation == "tanh" else "categorical_crossentropy"
    raise TargetError(
        f"{spec.name} needs two classes labelled {{0, 1}} or {{-1, 1}}; found labels {{{shown}}}. "
        f"For more classes use {fix}"
    )


def _class_indices(spec: LossSpec, y: np.ndarray, n_classes: int | None) -> np.ndarray:
    labels = y.astype(np.int64)
    if not np.array_equal(labels, y) or labels.min() < 0:
        raise TargetError(f"{spec.name} needs integer class labels 0..n_classes-1; encode the labels first")
    if n_classes is not None and labels.max() >= n_classes:
        raise TargetError(
            f"{spec.name}: label {int(labels.max())} is outside 0..{n_classes - 1} for {n_classes} classes"
        )
    return labels


@dataclass(frozen=True)
class Recommendation:
    """The tutorial's advice for one kind of problem."""

    kind: str
    loss: str
    output_layer: str
    encoding: str
    reason: str
    alternatives: tuple[tuple[str, str], ...]


_RECOMMENDATIONS = {
    "regression": Recommendation(
        "regression", "mean_squared_error", "1 unit, linear", "raw",
        "Maximum likelihood for a Gaussian target; the tutorial's default for predicting a quantity.",
        (("mean_absolute_error", "if the target has outliers"),
         ("huber", "a compromise between MSE and MAE"),
         ("mean_squared_logarithmic_error", "for non-negative targets spanning orders of magnitude"))),
    "binary": Recommendation(
        "binary", "binary_crossentropy", "1 unit, sigmoid", "{0,1}",
        "Maximum likelihood for a two-class target; learns faster and more robustly than MSE with a sigmoid.",
        (("hinge", "SVM-style margin; tanh output with {-1, 1} targets"),
         ("squared_hinge", "a smoother hinge"))),
    "multiclass": Recommendation(
        "multiclass", "categorical_crossentropy", "n_classes units, softmax", "one-hot",
        "Maximum likelihood for a categorical target; the tutorial's default for several classes.",
        (("sparse_categorical_crossentropy", "the same loss on integer labels, no one-hot needed"),
         ("kl_divergence", "equal to cross-entropy on one-hot targets"),
         ("categorical_hinge", "a multiclass margin loss"))),
}


def recommend(problem_kind: str) -> Recommendation:
    """The tutorial's "What loss function to use?" answer for ``problem_kind``.

    >>> recommend("binary").loss
    'binary_crossentropy'
    """
    if problem_kind not in _RECOMMENDATIONS:
        raise LosslabError(f"problem kind must be one of {', '.join(KINDS)}, got {problem_kind!r}")
    return _RECOMMENDATIONS[problem_kind]
