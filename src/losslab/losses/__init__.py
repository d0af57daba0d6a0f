"""Loss functions: ``(y_true, y_pred) -> per-sample loss``, with Keras 3 semantics.

Each is a small pure JAX function; see its docstring for the formula. Use
``losslab.get_loss(name)`` to find a loss by any Keras name or alias together with the output
layer and target encoding it needs.
"""

from losslab.losses._classification import (
    binary_crossentropy,
    binary_crossentropy_from_logits,
    categorical_crossentropy,
    categorical_crossentropy_from_logits,
    categorical_hinge,
    hinge,
    kl_divergence,
    kl_divergence_from_logits,
    sparse_categorical_crossentropy,
    sparse_categorical_crossentropy_from_logits,
    squared_hinge,
)
from losslab.losses._regression import (
    EPSILON,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    poisson_from_log_rate,
)

__all__ = [
    "EPSILON",
    "binary_crossentropy",
    "binary_crossentropy_from_logits",
    "categorical_crossentropy",
    "categorical_crossentropy_from_logits",
    "categorical_hinge",
    "hinge",
    "huber",
    "kl_divergence",
    "kl_divergence_from_logits",
    "log_cosh",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "poisson_from_log_rate",
    "sparse_categorical_crossentropy",
    "sparse_categorical_crossentropy_from_logits",
    "squared_hinge",
]
