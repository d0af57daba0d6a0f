"""What the engine needs of a model: ``init``, ``forward`` and ``backward``, for many runs at once.

Axes: runs first. ``keys`` is ``(runs, 2)`` uint32 raw PRNG keys; ``x`` is ``(runs, rows,
features)`` (each run its own rows) or ``(rows, features)`` (the same rows for every run); the
output ``z`` is feature-major, ``(runs, out, rows)``; parameters are a pytree whose every leaf has
the run axis first.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any

import jax
from jax import Array

Params = Any  # a pytree of arrays, run axis first
Cache = Any  # whatever forward keeps for backward


@dataclasses.dataclass(frozen=True)
class Model(abc.ABC):
    """A model is data (its frozen, hashable configuration) plus pure functions of parameters.

    Being hashable, a model can key the engine's cache of compiled programs. A new model defines
    :meth:`init` and :meth:`forward`; :meth:`backward` defaults to autodiff, and a model may
    override it with a hand-written pass that a test holds equal to autodiff.
    """

    @abc.abstractmethod
    def init(self, keys: Array, n_in: int, n_out: int) -> Params:
        """Initial parameters of ``runs`` models, one key each (``keys`` is ``(runs, 2)`` uint32)."""

    @abc.abstractmethod
    def forward(self, params: Params, x: Array) -> tuple[Array, Cache]:
        """Pre-activation output ``z`` (runs, out, rows) and what :meth:`backward` needs."""

    def backward(self, params: Params, x: Array, cache: Cache, dz: Array) -> Params:
        """d loss / d params, given ``dz`` = d loss / d z (runs, out, rows); same pytree as ``params``.

        The default is the vector-Jacobian product of :meth:`forward`, so it ignores ``cache``.
        """
        _, pullback = jax.vjp(lambda p: self.forward(p, x)[0], params)
        return pullback(dz)[0]

    def describe(self) -> dict[str, Any]:
        """The model as plain JSON-able data: its kind and its fields (tuples become lists)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {"kind": type(self).__name__, **{k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}}

    def __str__(self) -> str:
        fields = ", ".join(f"{k}={v}" for k, v in self.describe().items() if k != "kind")
        return f"{type(self).__name__}({fields})"
