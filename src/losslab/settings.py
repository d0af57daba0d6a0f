"""Training settings: everything about an experiment that is a choice rather than data."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from losslab.errors import SettingsError

OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "adamw")


@dataclass(frozen=True)
class Settings:
    """How one model is trained.

    The defaults are the tutorial's Keras set-up: SGD with learning rate 0.01 and momentum 0.9
    (``v = momentum * v - lr * g; w += v``), batches of 32 with the last partial batch kept, rows
    reshuffled every epoch. ``momentum`` applies to ``sgd`` only; the other optimizers take optax's
    defaults for everything but the learning rate.
    """

    epochs: int = 100
    learning_rate: float = 0.01
    momentum: float = 0.9
    batch_size: int = 32
    hidden: tuple[int, ...] = (50,)
    optimizer: str = "sgd"

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list):  # hidden=[64, 32] means the same as (64, 32)
            object.__setattr__(self, "hidden", tuple(self.hidden))
        _check_positive_int("epochs", self.epochs)
        _check_positive_int("batch_size", self.batch_size)
        if not self.hidden:
            raise SettingsError("hidden must name at least one layer size, e.g. hidden=(50,)")
        for units in self.hidden:
            _check_positive_int("hidden layer size", units)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise SettingsError(
                f"learning rate must be a positive finite number, got {self.learning_rate}; "
                "try 0.01"
            )
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise SettingsError(f"momentum must be in [0, 1), got {self.momentum}; try 0.9")
        if self.optimizer not in OPTIMIZERS:
            raise SettingsError(
                f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}"
            )

    def updated(self, **changes: object) -> Settings:
        """A copy with the given fields changed; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _check_positive_int(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{what} must be a positive integer, got {value!r}")


def seeds_for(repeats: int, first_seed: int = 0) -> range:
    """The seeds of ``repeats`` repeated runs: ``first_seed .. first_seed + repeats - 1``."""
    _check_positive_int("repeats", repeats)
    if isinstance(first_seed, bool) or not isinstance(first_seed, int) or first_seed < 0:
        raise SettingsError(f"seed must be a non-negative integer, got {first_seed!r}")
    return range(first_seed, first_seed + repeats)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``'50'`` or ``'64,32'`` as hidden layer sizes."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SettingsError(f"hidden sizes must be whole numbers separated by commas, e.g. 50 or 64,32; got {text!r}") from None
    for units in sizes:
        _check_positive_int("hidden layer size", units)
    return sizes
