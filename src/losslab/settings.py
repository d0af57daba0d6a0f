"""Training settings: everything about an experiment that is a choice rather than data.

:class:`Settings` is checked once, when it is made, with one-line errors that name the fix;
everything after it (the plan, the engine) trusts it. The defaults a study gets when it names no
settings are chosen by the plan (``losslab.planning.default_settings``): the tutorial's set-up
for the tutorial's problems, their own for data.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from numbers import Real

import numpy as np

from losslab.errors import SettingsError
from losslab.models import MLP, Model

OPTIMIZERS = ("sgd", "adam", "rmsprop", "adagrad", "adamw")
#: How an epoch orders the training rows: ``rows``, every row anew (Keras's shuffle); ``blocks``,
#: blocks of consecutive rows anew and the rows within each window of blocks (a table too large
#: for memory then reads its rows a window at a time; see ``losslab.engine``).
SHUFFLES = ("rows", "blocks")
#: Training rows in a block, and blocks in a window, of an epoch shuffled by blocks: a window is
#: 262,144 rows (52 MB of 50 float32 features).
SHUFFLE_BLOCK = 4_096
SHUFFLE_WINDOW = 64

#: SGD's momentum when none is given: the tutorial's Keras set-up.
DEFAULT_MOMENTUM = 0.9


@dataclass(frozen=True)
class Settings:
    """How one model is trained.

    The defaults are the tutorial's Keras set-up: SGD with learning rate 0.01 and momentum 0.9
    (``v = momentum * v - lr * g; w += v``), batches of 32 with the last partial batch kept, rows
    reshuffled every epoch, one hidden layer of 50 relu units. ``momentum`` belongs to ``sgd``
    (``None`` there means 0.9); the other optimizers take optax's defaults for everything but the
    learning rate and refuse a momentum, so that no setting is recorded that was not applied.
    ``hidden`` and ``activation`` describe the multilayer perceptron of :attr:`model`.
    ``shuffle`` is how each epoch orders the training rows (:data:`SHUFFLES`): ``"rows"`` as Keras
    does, or ``"blocks"`` for a table kept on disk that is larger than memory; None (the default)
    lets the plan choose (``losslab.planning.plan``: rows, unless such a table needs blocks).
    """

    epochs: int = 100
    learning_rate: float = 0.01
    momentum: float | None = None
    batch_size: int = 32
    hidden: tuple[int, ...] = (50,)
    optimizer: str = "sgd"
    activation: str = "relu"
    shuffle: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.hidden, list | tuple):  # hidden=[64, 32] means (64, 32); NumPy sizes are plain ints
            object.__setattr__(self, "hidden", tuple(int(h) if isinstance(h, np.integer) else h for h in self.hidden))
        _check_positive_int("epochs", self.epochs)
        _check_positive_int("batch_size", self.batch_size)
        if not isinstance(self.hidden, tuple):
            raise SettingsError(f"hidden is a sequence of layer sizes, e.g. hidden=(50,) or (64, 32); got {self.hidden!r}")
        _check_real("learning_rate", self.learning_rate)
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise SettingsError(f"learning rate must be a positive finite number, got {self.learning_rate}; try 0.01")
        if not isinstance(self.optimizer, str) or self.optimizer not in OPTIMIZERS:
            raise SettingsError(f"unknown optimizer {self.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
        self._check_momentum()
        if self.shuffle is not None and self.shuffle not in SHUFFLES:
            raise SettingsError(f"shuffle must be rows (every row anew each epoch, as Keras) or blocks (blocks of rows, "
                                f"for a table larger than memory); got {self.shuffle!r}")
        self.model  # noqa: B018 - building the model checks hidden and activation

    def _check_momentum(self) -> None:
        if self.optimizer != "sgd":
            if self.momentum is not None:
                raise SettingsError(
                    f"momentum applies to the sgd optimizer only, not {self.optimizer}; "
                    "leave the momentum (--momentum) out, or use the sgd optimizer"
                )
            return
        if self.momentum is None:
            object.__setattr__(self, "momentum", DEFAULT_MOMENTUM)
        _check_real("momentum", self.momentum)
        if not (math.isfinite(self.momentum) and 0 <= self.momentum < 1):
            raise SettingsError(f"momentum must be in [0, 1), got {self.momentum}; try 0.9")

    @property
    def model(self) -> Model:
        """The network these settings describe: ``MLP(hidden, activation)``."""
        return MLP(self.hidden, self.activation)

    def updated(self, **changes: object) -> Settings:
        """A copy with the given fields changed; ``None`` values are ignored.

        A change of optimizer resets the momentum to the new optimizer's default unless one is
        given (which an optimizer other than SGD refuses).
        """
        unknown = sorted(set(changes) - set(self.__dataclass_fields__))
        if unknown:
            raise SettingsError(f"Settings has no field {', '.join(unknown)}; its fields are {', '.join(self.__dataclass_fields__)}")
        given = {k: v for k, v in changes.items() if v is not None}
        if "momentum" not in given and given.get("optimizer", self.optimizer) != self.optimizer:
            given["momentum"] = None  # the new optimizer's own default
        return replace(self, **given)


def _check_positive_int(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise SettingsError(f"{what} must be a positive integer, got {value!r}")


def _check_real(what: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise SettingsError(f"{what} must be a number, got {value!r} ({type(value).__name__})")


def check_seeds(seeds: Iterable[int]) -> tuple[int, ...]:
    """Seeds as a tuple of distinct integers from 0 to 2**32 - 1.

    A fractional seed is refused, not truncated; a single integer is refused with the fix
    (``range(n)``). How many seeds fit in memory is the plan's to check.
    """
    if isinstance(seeds, int | np.integer):
        raise SettingsError(f"seeds is a collection of seeds; for {seeds} repeats pass range({seeds})")
    if seeds is None or isinstance(seeds, str) or not isinstance(seeds, Iterable):
        raise SettingsError(f"seeds must be a collection of whole numbers such as range(30), got {seeds!r}")
    seeds = tuple(seeds)
    if not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in seeds):
        raise SettingsError(f"seeds must be whole numbers, got {', '.join(map(repr, seeds[:5]))}")
    seeds = tuple(int(s) for s in seeds)
    if not seeds:
        raise SettingsError("give at least one seed (repeats must be >= 1)")
    if len(set(seeds)) != len(seeds) or min(seeds) < 0 or max(seeds) >= 2**32:
        raise SettingsError("seeds must be distinct integers from 0 to 2**32 - 1")
    return seeds


def seeds_for(repeats: int, first_seed: int = 0) -> range:
    """The seeds of ``repeats`` repeated runs: ``first_seed .. first_seed + repeats - 1``."""
    _check_positive_int("repeats", repeats)
    if isinstance(first_seed, bool) or not isinstance(first_seed, int) or not 0 <= first_seed < 2**32:
        raise SettingsError(f"seed must be an integer from 0 to 2**32 - 1, got {first_seed!r}")
    return range(first_seed, first_seed + repeats)


def parse_hidden(text: str) -> tuple[int, ...]:
    """``'50'`` or ``'64,32'`` as hidden layer sizes."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise SettingsError(f"hidden sizes must be whole numbers separated by commas, e.g. 50 or 64,32; got {text!r}") from None
    return sizes


@dataclass(frozen=True)
class Backend:
    """Where chunks train: ``"local"`` (a thread per core of this machine) or ``"ray"`` (a Ray
    cluster at ``address``, or a local Ray started for the purpose when ``address`` is None).
    Each Ray task trains one whole chunk (``plan.chunk`` runs, tens of milliseconds at least):
    Ray's own guidance is that tasks much shorter than that do not pay for their overhead."""

    name: str = "local"
    address: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ("local", "ray"):
            raise SettingsError(f"the backend must be local or ray, got {self.name!r}")
        if self.address is not None and self.name != "ray":
            raise SettingsError("an address applies to the ray backend only; add --backend ray or leave --address out")
