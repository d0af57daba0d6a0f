"""The loss registry: for every loss, the output layer, target encoding and domain, and metric it needs.

Four pieces, one module each:

- **Specs** (``_specs``): a :class:`LossSpec` ties a loss function to the problem kind it serves,
  the output layer it expects (``units`` x ``activation``), the encoding and domain of its
  targets and the metric to report (:func:`metric_for_kind`). ``OUTPUT_ACTIVATIONS``,
  ``ENCODINGS`` and ``DOMAINS`` name the values those fields take; the fourteen Keras losses
  are built in.
- **Lookup** (``_lookup``): :func:`get_loss` resolves any Keras name or alias, or loads a user's
  own loss from ``path/to/file.py:function`` or ``module:function``; :func:`register_loss` adds
  one from Python; :func:`loss_names` and :func:`losses_table` list them all.
- **Targets** (``_targets``): :func:`encode_targets` checks raw targets against a spec's domain
  and turns them into what the loss needs; :func:`check_compatible` refuses a loss that does not
  fit a problem, naming the one that would.
- **Advice** (``_advice``): :func:`recommend` gives the tutorial's "what loss function to use?"
  table for a problem kind, refined for a problem by what its target holds
  (:func:`describe_target`: counts, a positive skewed quantity, a proportion, imbalanced classes).

>>> spec = get_loss("msle")
>>> spec.name, spec.output_layer, spec.encoding, spec.domain, spec.metric
('mean_squared_logarithmic_error', '1 unit, linear', 'raw', 'non-negative', 'mse')
>>> spec.keeps_target_sign
True
>>> encode_targets(get_loss("hinge"), [0, 1, 1])[:, 0].tolist()
[-1.0, 1.0, 1.0]
>>> check_compatible(get_loss("hinge"), "multiclass", 3)
Traceback (most recent call last):
...
losslab.errors.IncompatibleLossError: hinge is a two-class loss but this is a multiclass problem with 3 classes; use categorical_hinge
>>> recommend("multiclass").loss
'categorical_crossentropy'
"""

from losslab.registry._advice import Recommendation, describe_target, recommend
from losslab.registry._lookup import _ALIASES, _REGISTRY, get_loss, loss_names, losses_table, register_loss
from losslab.registry._specs import (
    _BUILTINS,
    DOMAINS,
    ENCODINGS,
    OUTPUT_ACTIVATIONS,
    LossFn,
    LossSpec,
    metric_for_kind,
    probability_form,
)
from losslab.registry._targets import TargetWarning, check_compatible, encode_targets

# _BUILTINS, _REGISTRY and _ALIASES are imported for the tests, which list the built-ins and
# restore the registry's state after registering their own losses.

__all__ = [
    "DOMAINS",
    "ENCODINGS",
    "OUTPUT_ACTIVATIONS",
    "LossFn",
    "LossSpec",
    "Recommendation",
    "TargetWarning",
    "check_compatible",
    "describe_target",
    "encode_targets",
    "get_loss",
    "loss_names",
    "losses_table",
    "metric_for_kind",
    "probability_form",
    "recommend",
    "register_loss",
]
