"""Classification losses with Keras 3 semantics, and their stable from-logits forms.

Binary and hinge losses take ``y_true`` and ``y_pred`` of shape ``(..., 1)`` (or ``(..., d)``) and
average over the last axis; categorical losses take ``(..., n_classes)`` and sum over it; the sparse
form takes integer labels of shape ``(...)``. Each returns the per-sample loss of shape ``(...)``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array
from jax.scipy.special import xlogy

from losslab.losses._regression import EPSILON


def binary_crossentropy(y_true: Array, y_pred: Array) -> Array:
    r"""Binary cross-entropy on probabilities, with :math:`p` clipped to :math:`[\epsilon, 1-\epsilon]`:

    :math:`-\frac{1}{d}\sum_j y_j \log p_j + (1 - y_j)\log(1 - p_j)`, targets in {0, 1}.
    """
    p = jnp.clip(y_pred, EPSILON, 1.0 - EPSILON)
    return -jnp.mean(y_true * jnp.log(p) + (1.0 - y_true) * jnp.log(1.0 - p), axis=-1)


def binary_crossentropy_from_logits(y_true: Array, logits: Array) -> Array:
    r"""Binary cross-entropy from logits :math:`z` (``p = sigmoid(z)``), computed stably as

    :math:`\frac{1}{d}\sum_j \mathrm{softplus}(z_j) - y_j z_j`, which equals
    :math:`-\frac{1}{d}\sum_j y_j \log\sigma(z_j) + (1 - y_j)\log\sigma(-z_j)` (Keras's from-logits form).

    Written with ``softplus`` rather than the textbook :math:`\max(z, 0) - yz + \log(1 + e^{-|z|})`:
    the value is the same, but autodiff of ``max`` and ``abs`` gives the wrong gradient at exactly
    :math:`z = 0` (:math:`-y` instead of :math:`\tfrac12 - y`), a point a zero-bias output unit can sit on.
    """
    return jnp.mean(jax.nn.softplus(logits) - y_true * logits, axis=-1)


def _to_plus_minus_one(y_true: Array) -> Array:
    """Keras's hinge convention: labels are mapped 0 -> -1 only when *all* of them are in {0, 1}."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Array, y_pred: Array) -> Array:
    r"""Hinge loss: :math:`\frac{1}{d}\sum_j \max(1 - y_j \hat y_j, 0)` with :math:`y_j \in \{-1, 1\}`.

    Labels given as {0, 1} are converted to {-1, 1} first, but only when every label is 0 or 1.
    """
    y = _to_plus_minus_one(y_true)
    return jnp.mean(jnp.maximum(1.0 - y * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Array, y_pred: Array) -> Array:
    r"""Squared hinge loss: :math:`\frac{1}{d}\sum_j \max(1 - y_j \hat y_j, 0)^2`, labels as in :func:`hinge`."""
    y = _to_plus_minus_one(y_true)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - y * y_pred, 0.0)), axis=-1)


def categorical_crossentropy(y_true: Array, y_pred: Array) -> Array:
    r"""Categorical cross-entropy on probabilities: :math:`-\sum_j y_j \log \tilde p_j`.

    As Keras does, ``y_pred`` is first renormalised to sum to 1 and clipped to
    :math:`[\epsilon, 1-\epsilon]`. ``y_true`` is one-hot (or any distribution).
    """
    p = y_pred / jnp.sum(y_pred, axis=-1, keepdims=True)
    p = jnp.clip(p, EPSILON, 1.0 - EPSILON)
    return -jnp.sum(y_true * jnp.log(p), axis=-1)


def categorical_crossentropy_from_logits(y_true: Array, logits: Array) -> Array:
    r"""Categorical cross-entropy from logits: :math:`-\sum_j y_j \,\mathrm{log\_softmax}(z)_j`."""
    return -jnp.sum(y_true * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def _class_indices(y_true: Array, y_pred: Array) -> Array:
    """Integer labels of shape ``(...)``; like Keras, also accept them as ``(..., 1)``."""
    y_true = jnp.asarray(y_true)
    if y_true.ndim == jnp.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true.astype(jnp.int32)


#: From this many classes up, the sparse losses pick the true class's term out with a gather
#: instead of multiplying by a one-hot of the labels. Below it they one-hot encode, which keeps
#: them bit-identical to :func:`categorical_crossentropy` (the same operations on the same
#: numbers; on the tutorial's 3-class blobs, training is bit-identical too, and checked).
#: Measured with ``benchmarks/bench_sparse.py`` (benchmarks/RESULTS.md, 16 runs, 20,000 rows):
#: the one-hot form's evaluation of every row holds a (runs, rows, classes) float temporary and
#: takes a log per class; in whole training runs its peak memory was within the run-to-run spread
#: of the gather form's at 10, 100 and 300 classes, and 5% above it at 1,000 and 10,000. 512 sits
#: between: every problem where the one-hot costs nothing measurable keeps the exact agreement.
SPARSE_GATHER_CLASSES = 512


def _true_class_terms(y_true: Array, values: Array) -> tuple[Array, Array]:
    """``values[..., c]`` for each label :math:`c`, and whether :math:`c` is a class at all
    (``0 <= c < k``), both of shape ``(...)``: the labels broadcast against ``values``'s leading
    axes as a one-hot of them would. A label outside the classes has an all-zero one-hot, so the
    one-hot form's loss is 0 there (Keras's too); the gather form masks it to 0 likewise, so both
    forms agree on every input."""
    labels = _class_indices(y_true, values)
    shape = jnp.broadcast_shapes(labels.shape, values.shape[:-1])
    labels = jnp.broadcast_to(labels, shape)
    n_classes = values.shape[-1]
    values = jnp.broadcast_to(values, shape + (n_classes,))
    terms = jnp.take_along_axis(values, jnp.clip(labels, 0, n_classes - 1)[..., None], axis=-1)[..., 0]
    return terms, (labels >= 0) & (labels < n_classes)


def _uses_gather(y_pred: Array) -> bool:
    """Whether the sparse losses take the gather form: decided from the static class count, at
    trace time, so a compiled program contains one form only."""
    return y_pred.shape[-1] >= SPARSE_GATHER_CLASSES


def sparse_categorical_crossentropy(y_true: Array, y_pred: Array) -> Array:
    r"""Categorical cross-entropy with integer labels :math:`c`: :math:`-\log \tilde p_c`, with
    :math:`\tilde p = \mathrm{clip}(p / \sum_j p_j, \epsilon, 1 - \epsilon)` as in
    :func:`categorical_crossentropy`.

    Labels have shape ``(...)`` or ``(..., 1)``; ``y_pred`` has shape ``(..., n_classes)``.

    Two forms compute it, chosen by the number of classes :math:`k` (static, so at trace time):

    - :math:`k <` :data:`SPARSE_GATHER_CLASSES`: :math:`-\sum_j \mathrm{onehot}(c)_j \log \tilde p_j`,
      i.e. :func:`categorical_crossentropy` of the one-hot labels, the same operations on the same
      numbers, so the two losses agree exactly (what Keras itself does at any :math:`k`).
    - :math:`k \ge` :data:`SPARSE_GATHER_CLASSES`: the gather form
      :math:`-\log \mathrm{clip}(p_c / \sum_j p_j, \epsilon, 1 - \epsilon)`, which builds no
      ``(..., k)`` one-hot and takes one log per row instead of :math:`k`. Clipping one term
      before or after picking it out is the same number, so the forms agree to rounding, and so do
      their gradients (both flow through :math:`\sum_j p_j` to every class).

    Why two: with integer labels a study should not pay for a one-hot, and evaluating every row of
    16 runs, the one-hot form holds a ``(runs, rows, k)`` temporary as large as the outputs; but
    below a few hundred classes that cost is not measurable in a whole training run, while exact
    agreement with :func:`categorical_crossentropy` is what makes "sparse and non-sparse are the
    same loss" checkable exactly (see :data:`SPARSE_GATHER_CLASSES`, benchmarks/RESULTS.md).
    A label outside ``0..k-1`` gives a loss of 0 in both forms, as Keras's one-hot does.
    """
    if not _uses_gather(y_pred):
        one_hot = jax.nn.one_hot(_class_indices(y_true, y_pred), y_pred.shape[-1], dtype=y_pred.dtype)
        return categorical_crossentropy(one_hot, y_pred)
    p_true, is_class = _true_class_terms(y_true, y_pred)
    p_true = p_true / jnp.sum(y_pred, axis=-1)
    return jnp.where(is_class, -jnp.log(jnp.clip(p_true, EPSILON, 1.0 - EPSILON)), 0.0)


def sparse_categorical_crossentropy_from_logits(y_true: Array, logits: Array) -> Array:
    r"""Sparse categorical cross-entropy from logits: :math:`-\mathrm{log\_softmax}(z)_c`.

    Like :func:`sparse_categorical_crossentropy`, two forms by the number of classes :math:`k`:

    - :math:`k <` :data:`SPARSE_GATHER_CLASSES`: :func:`categorical_crossentropy_from_logits` of
      the one-hot labels, :math:`-\sum_j \mathrm{onehot}(c)_j \,\mathrm{log\_softmax}(z)_j`, so
      that both losses run the same floating-point operations: trained from the same seed they
      give bit-identical models, which makes "sparse and non-sparse are the same loss" checkable
      exactly. The optimisation barrier keeps XLA from specialising the arithmetic to a one-hot it
      can see (it would then round differently from the same product with one-hot data).
    - :math:`k \ge` :data:`SPARSE_GATHER_CLASSES`: the gather form
      :math:`-\mathrm{log\_softmax}(z)_c = \log\sum_j e^{z_j} - z_c`, taking the true class's
      term of ``log_softmax`` (the same number the one-hot product sums) without a one-hot.
      Its gradient is the same :math:`\mathrm{softmax}(z) - \mathrm{onehot}(c)`. Above the
      threshold, training is equal to categorical cross-entropy's to rounding, not bit for bit.
    """
    if not _uses_gather(logits):
        one_hot = jax.nn.one_hot(_class_indices(y_true, logits), logits.shape[-1], dtype=logits.dtype)
        return categorical_crossentropy_from_logits(jax.lax.optimization_barrier(one_hot), logits)
    log_p_true, is_class = _true_class_terms(y_true, jax.nn.log_softmax(logits, axis=-1))
    return jnp.where(is_class, -log_p_true, 0.0)


def kl_divergence(y_true: Array, y_pred: Array) -> Array:
    r"""Kullback-Leibler divergence :math:`\mathrm{KL}(y \,\|\, p) = \sum_j y_j \log(y_j / p_j)`,

    both clipped to :math:`[\epsilon, 1]` as Keras does. Takes probabilities (PyTorch's
    ``kl_div`` and Optax take log-probabilities). On one-hot targets and a ``y_pred`` that sums to
    1 it equals categorical cross-entropy, up to the clipping (each zero target becomes
    :math:`\epsilon`, adding :math:`\epsilon \log(\epsilon / p_j)`, of order :math:`10^{-6}`).
    """
    y = jnp.clip(y_true, EPSILON, 1.0)
    p = jnp.clip(y_pred, EPSILON, 1.0)
    return jnp.sum(y * jnp.log(y / p), axis=-1)


def kl_divergence_from_logits(y_true: Array, logits: Array) -> Array:
    r"""KL divergence from logits: :math:`\sum_j y_j \log y_j - y_j\,\mathrm{log\_softmax}(z)_j`,
    with :math:`0 \log 0 = 0`."""
    return jnp.sum(xlogy(y_true, y_true) - y_true * jax.nn.log_softmax(logits, axis=-1), axis=-1)


def categorical_hinge(y_true: Array, y_pred: Array) -> Array:
    r"""Keras's categorical hinge on one-hot ``y_true`` and (softmax) outputs :math:`p`:

    :math:`\max(\max_j (1 - y_j) p_j - \sum_j y_j p_j + 1, 0)`, i.e. the largest wrong-class output
    minus the true-class output plus a margin of 1. This is not the Crammer-Singer loss of
    scikit-learn or Optax, which works on unbounded scores.
    """
    positive = jnp.sum(y_true * y_pred, axis=-1)
    negative = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(negative - positive + 1.0, 0.0)
