"""Models the engine trains: a small interface (:class:`Model`) and the dense :class:`MLP`.

A model is a frozen, hashable configuration plus pure functions of a parameter pytree whose
leaves carry the run axis first: ``init(keys, n_in, n_out)``, ``forward(params, x) -> (z, cache)``
with ``z`` feature-major ``(runs, out, rows)``, and ``backward(params, x, cache, dz)``, which
defaults to autodiff.

>>> from losslab.models import MLP
>>> str(MLP(hidden=(64, 32), activation="elu"))
'MLP(64, 32; elu)'
"""

from losslab.models._activations import ACTIVATIONS, Activation, get_activation
from losslab.models._initializers import INITIALIZERS, glorot_uniform, he_uniform
from losslab.models._mlp import MLP
from losslab.models._model import Model

__all__ = [
    "ACTIVATIONS",
    "INITIALIZERS",
    "MLP",
    "Activation",
    "Model",
    "get_activation",
    "glorot_uniform",
    "he_uniform",
]
