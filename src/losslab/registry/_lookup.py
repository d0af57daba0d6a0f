"""Finding a loss: the registry of names and aliases, user losses, and the table of every loss.

``get_loss`` resolves any Keras name or alias, case- and separator-insensitive, or loads a user's
own loss from ``path/to/file.py:function`` or ``module:function``; ``register_loss`` adds one
from Python. A name owned by a built-in loss is never taken by a user's.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from losslab._names import did_you_mean, normalize
from losslab.errors import LosslabError, UnknownNameError
from losslab.problems import KINDS
from losslab.registry._specs import _BUILTINS, LossFn, LossSpec, default_domain
from losslab.registry._targets import encode_targets

_DEFAULT_OUTPUT = {  # kind -> (activation, encoding) for a user's loss that names neither
    "regression": ("linear", "raw"),
    "binary": ("sigmoid", "{0,1}"),
    "multiclass": ("softmax", "one-hot"),
}

_USER_LOSS_FORM = "path/to/file.py:function or module:function"

_REGISTRY: dict[str, LossSpec] = {}  # canonical name -> spec, built-in first
_ALIASES: dict[str, str] = {}  # every normalised name and alias -> canonical name


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
    domain: str | None = None,
    aliases: Sequence[str] = (),
    description: str = "",
    from_logits: LossFn | None = None,
    overwrite: bool = False,
) -> LossSpec:
    """Add a user's own loss; it is then usable everywhere a built-in loss is.

    ``fn(y_true, y_pred)`` must be a JAX-traceable function returning one value per sample.
    ``activation`` and ``encoding`` default to the usual ones for ``kind`` (linear/raw,
    sigmoid/{0,1}, softmax/one-hot). ``domain`` says which raw targets the loss can use
    (see ``DOMAINS``): ``"real"`` (the default for raw targets), ``"non-negative"`` or
    ``"non-zero"``; a classification loss's domain is its encoding.

    >>> import jax.numpy as jnp
    >>> spec = register_loss("quartic", lambda t, p: jnp.mean((t - p) ** 4, axis=-1), kind="regression")
    >>> get_loss("Quartic").output_layer
    '1 unit, linear'
    """
    if not isinstance(name, str) or not normalize(name):
        raise LosslabError(f"a loss needs a non-empty name, got {name!r}; e.g. register_loss('quartic', fn, kind=...)")
    if kind not in KINDS:
        raise LosslabError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    aliases = _alias_names(aliases)
    if not callable(fn):
        raise LosslabError(f"the loss {name!r} must be a function (y_true, y_pred) -> per-sample loss")
    default_activation, default_encoding = _DEFAULT_OUTPUT[kind]
    encoding = encoding or default_encoding
    spec = LossSpec(normalize(name), fn, kind, activation or default_activation, encoding,
                    domain or default_domain(encoding), description or f"user loss {name}", aliases, from_logits,
                    builtin=False)
    owner = _REGISTRY.get(_ALIASES.get(spec.name, ""))
    if owner is not None and owner.builtin:
        raise LosslabError(f"{spec.name!r} names the built-in loss {owner.name!r}; register yours under another name")
    if spec.name in _REGISTRY and not overwrite:
        raise LosslabError(f"a loss named {spec.name!r} is already registered; pass overwrite=True to replace it")
    _check_per_sample(spec)
    _add(spec, overwrite=overwrite)
    return spec


def _alias_names(aliases: Sequence[str]) -> tuple[str, ...]:
    """``aliases`` as a tuple of names, refusing a bare string (which would be its characters)."""
    if isinstance(aliases, str):
        raise LosslabError(f"aliases must be a list of names, e.g. aliases=[{aliases!r}]")
    try:
        names = tuple(aliases)
    except TypeError:
        raise LosslabError(f"aliases must be a list of names, e.g. aliases=['q'], got {aliases!r}") from None
    for alias in names:
        if not isinstance(alias, str) or not normalize(alias):
            raise LosslabError(f"each alias must be a non-empty string, got {alias!r}; e.g. aliases=['q']")
    return names


def _check_per_sample(spec: LossSpec) -> None:
    """Call the loss once on a small batch and insist on one finite value per sample."""
    n_classes = 3 if spec.units == "n_classes" else None
    y = encode_targets(spec, np.array([0, 1, 1, 0] if spec.kind != "regression" else [0.5, 1.0, 2.0, 1.5]), n_classes)
    z = jnp.zeros((4, spec.output_units(n_classes)), jnp.float32) + 0.1
    try:
        out = jax.jit(spec.objective)(jnp.asarray(y), z)
    except (Exception, SystemExit) as exc:  # a user's function may fail, or exit, in any way: report it as theirs
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        hint = "; the loss must be written with jax.numpy, not numpy" if "Tracer" in type(exc).__name__ else ""
        raise LosslabError(
            f"the loss {spec.name!r} failed on a test batch: {type(exc).__name__}: {first_line}{hint}"
        ) from exc
    if out.shape != (4,):
        raise LosslabError(
            f"the loss {spec.name!r} must return one value per sample (shape (4,) for 4 samples), got shape "
            f"{out.shape}; reduce over the last axis only, e.g. jnp.mean(..., axis=-1)"
        )
    if not bool(jnp.all(jnp.isfinite(out))):
        raise LosslabError(f"the loss {spec.name!r} returned NaN or infinite values on a test batch; check its formula")


def _load_user_loss(ref: str, kind: str | None) -> LossSpec:
    """Load ``file.py:function`` or ``module:function`` and register it for ``kind``."""
    target, _, func_name = ref.strip().rpartition(":")
    if not func_name.isidentifier() or not _is_file_or_module(target):
        raise UnknownNameError(f"cannot read the loss {ref!r}; give {_USER_LOSS_FORM}, e.g. my_losses.py:quartic")
    if kind is None:
        raise LosslabError(f"to use your own loss {ref!r}, say which kind of problem it is for ({', '.join(KINDS)})")
    module = _load_file(target, ref) if target.endswith(".py") else _import_module(target, ref)
    fn = getattr(module, func_name, None)
    if fn is None or not callable(fn):
        names = [n for n, v in inspect.getmembers(module, callable) if not n.startswith("_")]
        raise UnknownNameError(f"{target}: " + did_you_mean(func_name, names, "function"))
    doc = inspect.getdoc(fn)
    return register_loss(func_name, fn, kind=kind, overwrite=True,
                         description=doc.splitlines()[0] if doc else f"user loss from {ref}")


def _is_file_or_module(target: str) -> bool:
    return target.endswith(".py") or (bool(target) and all(part.isidentifier() for part in target.split(".")))


def _load_file(target: str, ref: str) -> ModuleType:
    path = Path(target)
    if not path.is_file():
        raise UnknownNameError(f"no such file {target!r} for the loss {ref!r}; give {_USER_LOSS_FORM}")
    module_name = f"losslab_user_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[module_name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[module_name]
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise _user_code_error(f"the loss file {target!r}", ref, exc) from exc
    return module


def _import_module(target: str, ref: str) -> ModuleType:
    try:
        return importlib.import_module(target)
    except ImportError as exc:
        raise UnknownNameError(f"cannot import module {target!r} for the loss {ref!r}: {exc}") from exc
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the user's module may fail in any way, or exit: report it as theirs
        raise _user_code_error(f"the module {target!r}", ref, exc) from exc


def _user_code_error(what: str, ref: str, exc: BaseException) -> LosslabError:
    """The one-line error for a user's loss file or module that failed (or exited) while loading."""
    if isinstance(exc, SystemExit):
        return LosslabError(f"{what} exited while loading (sys.exit); a loss file must only define functions")
    return LosslabError(f"cannot load {what} for the loss {ref!r}: {type(exc).__name__}: {exc}")
