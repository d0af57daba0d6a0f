"""The loss registry: Keras names and aliases, target encoding, compatibility, advice, user losses."""

from __future__ import annotations

import dataclasses

import sys
import textwrap
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from losslab import losses
from losslab.errors import IncompatibleLossError, LosslabError, TargetError, UnknownNameError
from losslab.problems import Problem
from losslab.registry import (
    DOMAINS,
    ENCODINGS,
    OUTPUT_ACTIVATIONS,
    LossSpec,
    TargetWarning,
    check_compatible,
    describe_target,
    encode_targets,
    get_loss,
    loss_names,
    losses_table,
    metric_for_kind,
    recommend,
    register_loss,
)

BUILTIN_NAMES = [
    "mean_squared_error", "mean_squared_logarithmic_error", "mean_absolute_error",
    "mean_absolute_percentage_error", "huber", "log_cosh", "poisson", "binary_crossentropy", "hinge",
    "squared_hinge", "categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
    "categorical_hinge",
]


@pytest.fixture(autouse=True)
def _clean(restore_registry):
    """Undo every registration a test makes, so that tests stay independent."""


def quartic(y_true, y_pred):
    """Mean fourth power of the error."""
    return jnp.mean((y_true - y_pred) ** 4, axis=-1)


# --- names -------------------------------------------------------------------------------------

# Keras 3 (keras/src/losses/__init__.py: function and class names plus ALL_OBJECTS_DICT's short
# names), Keras 3's legacy exports (keras/src/losses/losses.py) and Keras 2's module aliases.
KERAS_NAMES = {
    "mean_squared_error": ["mean_squared_error", "MeanSquaredError", "mse", "MSE"],
    "mean_absolute_error": ["mean_absolute_error", "MeanAbsoluteError", "mae", "MAE"],
    "mean_absolute_percentage_error": ["mean_absolute_percentage_error", "MeanAbsolutePercentageError", "mape",
                                       "MAPE"],
    "mean_squared_logarithmic_error": ["mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", "msle",
                                       "MSLE"],
    "huber": ["huber", "Huber", "huber_loss"],
    "log_cosh": ["log_cosh", "LogCosh", "logcosh"],
    "poisson": ["poisson", "Poisson"],
    "binary_crossentropy": ["binary_crossentropy", "BinaryCrossentropy", "bce", "BCE"],
    "hinge": ["hinge", "Hinge"],
    "squared_hinge": ["squared_hinge", "SquaredHinge"],
    "categorical_crossentropy": ["categorical_crossentropy", "CategoricalCrossentropy"],
    "sparse_categorical_crossentropy": ["sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"],
    "kl_divergence": ["kl_divergence", "KLDivergence", "kld", "KLD", "kullback_leibler_divergence"],
    "categorical_hinge": ["categorical_hinge", "CategoricalHinge"],
}


def test_builtins_are_the_fourteen_keras_losses():
    assert loss_names() == BUILTIN_NAMES
    assert set(KERAS_NAMES) == set(BUILTIN_NAMES)


@pytest.mark.parametrize(("alias", "canonical"),
                         [(alias, name) for name, aliases in KERAS_NAMES.items() for alias in aliases])
def test_every_keras_name_and_alias_resolves(alias, canonical):
    assert get_loss(alias).name == canonical


@pytest.mark.parametrize(
    ("spelling", "canonical"),
    [
        ("mean squared error", "mean_squared_error"),  # the tutorial's prose
        ("Mean_Squared_Error", "mean_squared_error"),
        ("mean-squared-error", "mean_squared_error"),
        ("  MSE ", "mean_squared_error"),
        ("Mean Squared Logarithmic Error", "mean_squared_logarithmic_error"),
        ("KLD", "kl_divergence"),
        ("Kullback-Leibler Divergence", "kl_divergence"),
        ("kullback_leibler_divergence", "kl_divergence"),
        ("logcosh", "log_cosh"),
        ("Log Cosh", "log_cosh"),
        ("MeanSquaredError", "mean_squared_error"),
        ("meansquarederror", "mean_squared_error"),
        ("Squared Hinge", "squared_hinge"),
        ("sparse categorical crossentropy", "sparse_categorical_crossentropy"),
        ("Binary Crossentropy", "binary_crossentropy"),
    ],
)
def test_names_are_case_and_separator_insensitive(spelling, canonical):
    assert get_loss(spelling).name == canonical


def test_every_alias_in_the_table_resolves_to_its_own_loss():
    for spec in (get_loss(name) for name in BUILTIN_NAMES):
        for alias in spec.aliases:
            assert get_loss(alias) is spec, alias


def test_get_loss_passes_a_spec_through():
    spec = get_loss("mse")
    assert get_loss(spec) is spec


@pytest.mark.parametrize(("typo", "suggestion"),
                         [("mean_squred_error", "mean_squared_error"), ("kl_divergance", "kl_divergence"),
                          ("hinje", "hinge"), ("categorical_crossentropi", "categorical_crossentropy")])
def test_unknown_name_suggests_the_closest(typo, suggestion):
    with pytest.raises(UnknownNameError) as info:
        get_loss(typo)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert repr(typo) in message
    assert f"did you mean {suggestion!r}" in message


def test_unknown_name_with_nothing_close_lists_the_known_losses():
    with pytest.raises(UnknownNameError, match="Known losses: binary_crossentropy"):
        get_loss("zzzz")


# --- the table -------------------------------------------------------------------------------------


def test_losses_table_has_one_row_per_builtin():
    table = losses_table()
    assert list(table["loss"]) == BUILTIN_NAMES
    assert {"loss", "kind", "output layer", "targets", "metric", "aliases", "description"} <= set(table.columns)


@pytest.mark.parametrize(
    ("name", "kind", "output_layer", "targets", "metric"),
    [
        ("mean_squared_error", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("mean_squared_logarithmic_error", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("mean_absolute_error", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("mean_absolute_percentage_error", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("huber", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("log_cosh", "regression", "1 unit, linear", "raw", "mean squared error"),
        ("poisson", "regression", "1 unit, exponential", "raw", "mean squared error"),
        ("binary_crossentropy", "binary", "1 unit, sigmoid", "{0,1}", "accuracy"),
        ("hinge", "binary", "1 unit, tanh", "{-1,1}", "accuracy"),
        ("squared_hinge", "binary", "1 unit, tanh", "{-1,1}", "accuracy"),
        ("categorical_crossentropy", "multiclass", "n_classes units, softmax", "one-hot", "accuracy"),
        ("sparse_categorical_crossentropy", "multiclass", "n_classes units, softmax", "integer", "accuracy"),
        ("kl_divergence", "multiclass", "n_classes units, softmax", "one-hot", "accuracy"),
        ("categorical_hinge", "multiclass", "n_classes units, softmax", "one-hot", "accuracy"),
    ],
)
def test_table_row(name, kind, output_layer, targets, metric):
    row = losses_table().set_index("loss").loc[name]
    assert (row["kind"], row["output layer"], row["targets"], row["metric"]) == (kind, output_layer, targets, metric)


# --- domains and metrics -------------------------------------------------------------------------------

BUILTIN_DOMAINS = {
    "mean_squared_error": "real",
    "mean_squared_logarithmic_error": "non-negative",
    "mean_absolute_error": "real",
    "mean_absolute_percentage_error": "non-zero",
    "huber": "real",
    "log_cosh": "real",
    "poisson": "non-negative",
    "binary_crossentropy": "{0,1}",
    "hinge": "{-1,1}",
    "squared_hinge": "{-1,1}",
    "categorical_crossentropy": "one-hot",
    "sparse_categorical_crossentropy": "integer",
    "kl_divergence": "one-hot",
    "categorical_hinge": "one-hot",
}


def test_every_builtin_has_a_domain_in_the_table():
    assert set(BUILTIN_DOMAINS) == set(BUILTIN_NAMES)
    assert {name: get_loss(name).domain for name in BUILTIN_NAMES} == BUILTIN_DOMAINS
    assert set(BUILTIN_DOMAINS.values()) <= set(DOMAINS)


def test_a_spec_whose_domain_contradicts_its_encoding_is_refused():
    base = get_loss("hinge")
    with pytest.raises(LosslabError, match="domain"):
        dataclasses.replace(base, domain="one-hot")
    with pytest.raises(LosslabError, match="domain"):
        dataclasses.replace(get_loss("mse"), domain="{0,1}")


def test_keeps_target_sign_exactly_for_msle_poisson_and_mape():
    keeping = {name for name in BUILTIN_NAMES if get_loss(name).keeps_target_sign}
    assert keeping == {"mean_squared_logarithmic_error", "poisson", "mean_absolute_percentage_error"}


def test_metric_follows_the_kind():
    assert [metric_for_kind(k) for k in ("regression", "binary", "multiclass")] == ["mse", "accuracy", "accuracy"]
    for spec in map(get_loss, BUILTIN_NAMES):
        assert spec.metric == metric_for_kind(spec.kind)
    with pytest.raises(LosslabError, match="kind must be one of regression, binary, multiclass, got 'ranking'"):
        metric_for_kind("ranking")


def test_a_spec_computes_its_metric_and_checks_its_fields():
    spec = LossSpec("quartic", quartic, "regression", "linear", "raw", "real", "fourth power")
    assert (spec.metric, spec.units, spec.builtin, spec.keeps_target_sign) == ("mse", "1", True, False)
    assert set(OUTPUT_ACTIVATIONS) == {"linear", "sigmoid", "tanh", "softmax", "exponential"}
    assert set(ENCODINGS) == {"raw", "{0,1}", "{-1,1}", "one-hot", "integer"}
    with pytest.raises(LosslabError, match="domain must be 'one-hot' for 'one-hot' targets, got 'real'"):
        LossSpec("q", quartic, "multiclass", "softmax", "one-hot", "real", "")
    with pytest.raises(LosslabError, match="domain must be 'real' or 'non-negative' or 'non-zero'"):
        LossSpec("q", quartic, "regression", "linear", "raw", "positive", "")
    with pytest.raises(LosslabError, match="kind must be one of"):
        LossSpec("q", quartic, "ranking", "linear", "raw", "real", "")


def test_output_units():
    assert get_loss("categorical_crossentropy").output_units(3) == 3
    assert get_loss("sparse_categorical_crossentropy").output_units(5) == 5
    assert get_loss("binary_crossentropy").output_units(2) == 1
    assert get_loss("mse").output_units(None) == 1


# --- each spec's pieces fit together ----------------------------------------------------------------

SAMPLE_TARGETS = {
    "regression": (np.array([0.5, 1.0, 2.0, 3.5]), None),
    "binary": (np.array([0, 1, 1, 0]), None),
    "multiclass": (np.array([0, 2, 1, 2]), 3),
}


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_encoded_targets_and_objective_give_one_value_per_sample(name):
    spec = get_loss(name)
    y, n_classes = SAMPLE_TARGETS[spec.kind]
    encoded = jnp.asarray(encode_targets(spec, y, n_classes))
    z = jnp.array([[0.3, -0.2, 0.1], [-0.5, 0.4, 0.2], [0.1, 0.1, -0.3], [0.7, -0.1, 0.0]])
    z = z[:, : spec.output_units(n_classes)]
    objective = jax.jit(spec.objective)(encoded, z)
    assert objective.shape == (4,)
    assert np.all(np.isfinite(np.asarray(objective)))
    # the stable form, where there is one, is the same loss as fn on the activated output
    np.testing.assert_allclose(np.asarray(objective), np.asarray(spec.fn(encoded, spec.activate(z))),
                               rtol=1e-5, atol=1e-5)


# --- encode_targets -------------------------------------------------------------------------------


def test_hinge_targets_become_minus_one_and_one():
    for name in ("hinge", "squared_hinge"):
        encoded = encode_targets(get_loss(name), np.array([0, 1, 1, 0]))
        assert encoded.dtype == np.float32 and encoded.shape == (4, 1)
        np.testing.assert_array_equal(encoded[:, 0], [-1, 1, 1, -1])
    np.testing.assert_array_equal(encode_targets(get_loss("hinge"), np.array([-1, 1, 1]))[:, 0], [-1, 1, 1])
    np.testing.assert_array_equal(encode_targets(get_loss("hinge"), np.array([True, False]))[:, 0], [1, -1])


def test_binary_crossentropy_targets_are_zero_one():
    np.testing.assert_array_equal(encode_targets(get_loss("bce"), np.array([-1, 1, 1]))[:, 0], [0, 1, 1])
    encoded = encode_targets(get_loss("bce"), np.array([0, 1, 0]))
    assert encoded.dtype == np.float32 and encoded.shape == (3, 1)


def test_categorical_targets_are_one_hot():
    encoded = encode_targets(get_loss("categorical_crossentropy"), np.array([0, 2, 1]), 3)
    assert encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded, np.eye(3)[[0, 2, 1]])
    # n_classes wider than the labels seen
    assert encode_targets(get_loss("kld"), np.array([0, 1]), 4).shape == (2, 4)
    # without n_classes: as many columns as the largest label needs
    assert encode_targets(get_loss("categorical_hinge"), np.array([0, 1])).shape == (2, 2)


def test_sparse_targets_are_int32_labels():
    encoded = encode_targets(get_loss("sparse_categorical_crossentropy"), np.array([0.0, 2.0, 1.0]), 3)
    assert encoded.dtype == np.int32 and encoded.shape == (3,)
    np.testing.assert_array_equal(encoded, [0, 2, 1])


def test_regression_targets_are_a_float32_column():
    encoded = encode_targets(get_loss("mse"), np.array([1, -2, 3]))
    assert encoded.dtype == np.float32 and encoded.shape == (3, 1)


def test_binary_loss_on_three_labels_points_to_the_categorical_loss():
    with pytest.raises(TargetError, match="categorical_crossentropy"):
        encode_targets(get_loss("binary_crossentropy"), np.array([0, 1, 2]))
    with pytest.raises(TargetError, match="categorical_hinge"):
        encode_targets(get_loss("hinge"), np.array([0, 1, 2]))


@pytest.mark.parametrize(("name", "y"), [("msle", np.array([1.0, -0.5, 2.0])), ("poisson", np.array([1.0, -2.0])),
                                         ("mape", np.array([1.0, 0.0, 2.0]))])
def test_targets_a_loss_cannot_use_well_raise_or_warn(name, y):
    spec = get_loss(name)
    with pytest.raises(TargetError, match=spec.name):
        encode_targets(spec, y)
    with pytest.raises(TargetError):
        encode_targets(spec, y, policy="error")
    with pytest.warns(TargetWarning, match=spec.name):
        encoded = encode_targets(spec, y, policy="warn")
    np.testing.assert_array_equal(encoded[:, 0], y.astype(np.float32))  # kept as they are, as Keras would


@pytest.mark.parametrize("y", [np.array([-1.5, 0.3, 2.0]), np.array([0.0, 1.0, 2.0]), np.array([-2.0, 0.0])])
def test_mape_refuses_a_target_that_crosses_or_touches_zero(y):
    spec = get_loss("mape")
    with pytest.raises(TargetError, match="mean_absolute_percentage_error needs .*(one sign|non-zero)"):
        encode_targets(spec, y)
    with pytest.warns(TargetWarning, match="continuing as Keras would"):
        encode_targets(spec, y, policy="warn")


def test_mape_message_for_a_target_crossing_zero_counts_the_negatives():
    with pytest.raises(TargetError) as info:
        encode_targets(get_loss("mape"), np.array([-1.0, -0.2, 0.5, 3.0]))
    assert str(info.value) == ("mean_absolute_percentage_error needs targets of one sign, away from zero; 2 of 4 are "
                               "negative and the rest positive, so the target crosses zero. Use mean_absolute_error, "
                               "or shift the target away from zero")


@pytest.mark.parametrize("y", [np.array([0.5, 1.0, 20.0]), np.array([-3.0, -0.1])])
def test_mape_takes_a_target_of_one_sign_away_from_zero(y):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode_targets(get_loss("mape"), y)


def test_a_centred_target_is_refused_for_mape_as_for_msle_and_poisson():
    y = np.linspace(1.0, 5.0, 9)
    centred = (y - y.mean()) / y.std()  # no value is exactly zero here, yet half are negative
    centred = centred[centred != 0]
    for name in ("mape", "msle", "poisson"):
        with pytest.raises(TargetError, match=get_loss(name).name):
            encode_targets(get_loss(name), centred)
        encode_targets(get_loss(name), y / y.std())  # divided by its deviation only: signs and zeros kept


def test_negative_msle_targets_message_counts_them():
    with pytest.raises(TargetError, match="2 of 4 are negative"):
        encode_targets(get_loss("msle"), np.array([1.0, -1.0, -2.0, 3.0]))


def test_the_same_targets_are_fine_for_mse():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode_targets(get_loss("mse"), np.array([1.0, -1.0, 0.0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("name", ["mse", "bce", "categorical_crossentropy"])
def test_non_finite_targets_raise(name, bad):
    with pytest.raises(TargetError, match="NaN or infinite"):
        encode_targets(get_loss(name), np.array([0.0, bad, 1.0]), 3)


def test_malformed_targets_raise():
    with pytest.raises(TargetError, match="shape"):
        encode_targets(get_loss("mse"), np.zeros((3, 2)))
    with pytest.raises(TargetError, match="numeric"):
        encode_targets(get_loss("cce"), np.array(["a", "b"]))
    with pytest.raises(TargetError, match="integer class labels"):
        encode_targets(get_loss("cce"), np.array([0.5, 1.0]), 3)
    with pytest.raises(TargetError, match="integer class labels"):
        encode_targets(get_loss("scce"), np.array([-1, 1]), 3)
    with pytest.raises(TargetError, match="outside 0..2"):
        encode_targets(get_loss("scce"), np.array([0, 3]), 3)


# --- check_compatible and recommend ----------------------------------------------------------------


def test_hinge_on_multiclass_points_to_categorical_hinge():
    with pytest.raises(IncompatibleLossError, match="categorical_hinge"):
        check_compatible(get_loss("hinge"), "multiclass", 3)
    with pytest.raises(IncompatibleLossError, match="categorical_hinge"):
        check_compatible(get_loss("squared_hinge"), "multiclass", 3)


def test_binary_crossentropy_on_multiclass_points_to_categorical_crossentropy():
    with pytest.raises(IncompatibleLossError, match="categorical_crossentropy"):
        check_compatible(get_loss("bce"), "multiclass", 3)


def test_regression_loss_on_a_classification_problem_points_to_its_default():
    with pytest.raises(IncompatibleLossError, match="binary_crossentropy"):
        check_compatible(get_loss("mse"), "binary", 2)
    with pytest.raises(IncompatibleLossError, match="categorical_crossentropy"):
        check_compatible(get_loss("mae"), "multiclass", 3)


def test_classification_loss_on_regression_points_to_mse():
    with pytest.raises(IncompatibleLossError, match="mean_squared_error"):
        check_compatible(get_loss("binary_crossentropy"), "regression")
    with pytest.raises(IncompatibleLossError, match="mean_squared_error"):
        check_compatible(get_loss("categorical_crossentropy"), "regression")


def test_incompatibility_is_one_line_that_the_cli_boundary_catches():
    with pytest.raises(LosslabError) as info:  # what the command line catches
        check_compatible(get_loss("poisson"), "multiclass", 4)
    assert type(info.value) is IncompatibleLossError
    assert str(info.value) == ("poisson is a regression loss but this is a multiclass problem with 4 classes; "
                               "use categorical_crossentropy, or, if the target is a quantity (a count, an amount), "
                               "make it a regression problem (--kind regression)")


def test_multiclass_losses_also_serve_binary_problems():
    for name in ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence", "categorical_hinge"):
        check_compatible(get_loss(name), "binary", 2)


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_every_loss_fits_its_own_kind(name):
    spec = get_loss(name)
    check_compatible(spec, spec.kind, 3 if spec.kind == "multiclass" else 2)


@pytest.mark.parametrize(("kind", "loss"), [("regression", "mean_squared_error"), ("binary", "binary_crossentropy"),
                                            ("multiclass", "categorical_crossentropy")])
def test_recommend_gives_the_tutorial_defaults(kind, loss):
    advice = recommend(kind)
    assert advice.kind == kind and advice.loss == loss
    spec = get_loss(advice.loss)
    assert (advice.output_layer, advice.encoding) == (spec.output_layer, spec.encoding)
    for alternative, _reason in advice.alternatives:
        check_compatible(get_loss(alternative), kind, 3)


def test_recommend_unknown_kind():
    with pytest.raises(LosslabError, match="regression, binary, multiclass"):
        recommend("clustering")


# --- recommend reads the target -----------------------------------------------------------------------


def problem_with(y: np.ndarray, kind: str = "regression", **options) -> Problem:
    """A problem with target ``y`` and two noise features; ``kind`` always given, never inferred."""
    X = np.random.default_rng(1).normal(size=(len(y), 2))
    return Problem.from_arrays(X, y, kind=kind, **options)


def assert_alternatives_fit(advice, problem: Problem, raw: np.ndarray) -> None:
    """Every alternative fits the problem's kind, and takes its raw target without complaint."""
    for alternative, _when in advice.alternatives:
        check_compatible(get_loss(alternative), problem.kind, problem.n_classes)
        if problem.kind == "regression":
            encode_targets(get_loss(alternative), raw)


@pytest.mark.parametrize("center_target", [True, False])
def test_a_poisson_count_target_gets_the_poisson_loss(center_target):
    y = np.random.default_rng(0).poisson(2.0, size=400)
    problem = problem_with(y, center_target=center_target)
    assert problem.y_train.min() < 0 or not center_target  # stored standardised: read in its own units
    advice = recommend(problem)
    spec = get_loss("poisson")
    assert (advice.target, advice.loss) == ("counts", spec.name)
    assert (advice.output_layer, advice.encoding) == (spec.output_layer, spec.encoding)
    assert advice.output_layer == "1 unit, exponential"
    assert "maximum likelihood for counts" in advice.reason.lower()
    assert dict(advice.alternatives)["mean_squared_error"].startswith("as alternative")
    assert advice.notes == (f"Read as counts: whole numbers from 0 to {y.max()}, {np.mean(y == 0):.0%} zeros, "
                            f"skew {stats.skew(y):.1f}.",)
    assert_alternatives_fit(advice, problem, y.astype(float))
    assert describe_target(problem) == "counts"


def test_counts_read_from_zero_never_from_minus_zero():
    rng = np.random.default_rng(2)  # un-standardising these counts leaves a zero a rounding error below 0
    y = rng.poisson(rng.uniform(1, 5), size=int(rng.integers(50, 400)))
    [note] = recommend(problem_with(y)).notes
    assert note.startswith(f"Read as counts: whole numbers from 0 to {y.max()}, "), note


def test_counts_without_zeros_need_a_right_skew():
    rng = np.random.default_rng(0)
    skewed = 1 + rng.geometric(0.3, size=400)  # 2, 3, ...: no zero, skew ~ 2
    assert stats.skew(skewed) >= 1 and recommend(problem_with(skewed)).target == "counts"
    flat = rng.integers(1, 11, size=400)  # 1..10 uniformly, like a rating: a quantity
    assert recommend(problem_with(flat)).target == "quantity"
    few = rng.integers(0, 4, size=400)  # only 4 distinct values, zeros or not
    assert recommend(problem_with(few)).target == "quantity"
    negative = rng.poisson(2.0, size=400) - 1
    assert recommend(problem_with(negative)).target == "quantity"


def test_a_lognormal_target_gets_msle_and_the_log_target_alternative():
    y = np.random.default_rng(0).lognormal(0.0, 1.5, size=400)
    problem = problem_with(y)
    advice = recommend(problem)
    assert (advice.target, advice.loss) == ("positive, right-skewed", "mean_squared_logarithmic_error")
    assert (advice.output_layer, advice.encoding) == (get_loss("msle").output_layer, "raw")
    assert "relative" in advice.reason and "orders of magnitude" in advice.reason
    (note,) = advice.notes
    assert "log-transformed target" in note and "mean_squared_error" in note
    assert_alternatives_fit(advice, problem, y)


def test_a_positive_target_within_one_order_of_magnitude_is_a_quantity():
    y = np.random.default_rng(0).lognormal(3.0, 0.3, size=400)  # skewed, but max / min well under 100
    assert y.max() / y.min() < 100
    advice = recommend(problem_with(y))
    assert advice == dataclasses.replace(recommend("regression"), target="quantity")


def test_a_proportion_keeps_mse_with_a_note_on_bounding_the_output():
    y = np.random.default_rng(0).beta(2.0, 5.0, size=400)
    advice = recommend(problem_with(y))
    assert (advice.target, advice.loss) == ("proportion", "mean_squared_error")
    assert advice.output_layer == "1 unit, linear"  # no built-in regression loss has a sigmoid output
    assert not [s for s in map(get_loss, loss_names()) if s.kind == "regression" and s.activation == "sigmoid"]
    assert len(advice.notes) == 1 and "clip the predictions to [0, 1]" in advice.notes[0]
    assert "sigmoid" in advice.notes[0]


def test_a_gaussian_target_gets_the_tutorial_s_answer():
    y = np.random.default_rng(0).normal(5.0, 2.0, size=400)
    advice = recommend(problem_with(y))
    assert advice.target == "quantity" and advice.notes == ()
    assert dataclasses.replace(advice, target="") == recommend("regression")


def test_imbalanced_binary_classes_get_a_note_on_accuracy():
    y = np.array([0] * 180 + [1] * 20)
    advice = recommend(problem_with(y, kind="binary"))
    assert (advice.target, advice.loss) == ("imbalanced classes", "binary_crossentropy")
    assert advice.notes == ("Accuracy is misleading here: the majority class (0) alone scores 90.0%, and the smallest "
                            "(1) holds 10.0% of the rows; judge models by F1 or ROC AUC (--metric f1 or --metric roc_auc).",)


def test_balanced_binary_classes_get_the_tutorial_s_answer():
    advice = recommend(problem_with(np.array([0] * 110 + [1] * 90), kind="binary"))
    assert advice == dataclasses.replace(recommend("binary"), target="balanced classes")


@pytest.mark.parametrize(("counts", "target"), [((95, 90, 15), "imbalanced classes"),  # smallest < 0.2 of largest
                                                ((80, 80, 40), "balanced classes")])
def test_multiclass_imbalance_points_to_macro_f1(counts, target):
    y = np.repeat(np.arange(3), counts)
    advice = recommend(problem_with(y, kind="multiclass"))
    assert (advice.target, advice.loss) == (target, "categorical_crossentropy")
    assert bool(advice.notes) == (target == "imbalanced classes")
    assert all("macro-F1 (--metric macro_f1)" in note and "alone scores 47.5%" in note for note in advice.notes)


def test_a_majority_of_80_percent_is_imbalanced_even_when_the_smallest_is_not_tiny():
    y = np.array([0] * 160 + [1] * 40)  # smallest / largest = 0.25, but the majority holds 80%
    assert describe_target(problem_with(y, kind="binary")) == "imbalanced classes"


def test_recommend_reads_the_tutorial_s_problems():
    from losslab.problems import get_problem

    assert recommend(get_problem("regression")).target == "quantity"  # standardised, crossing zero
    assert recommend(get_problem("circles")).target == "balanced classes"


def test_recommend_for_a_kind_reads_no_target():
    advice = recommend("regression")
    assert advice.target == "" and advice.notes == ()
    with pytest.raises(LosslabError, match="or a losslab.Problem"):
        recommend(3)


# --- user losses -------------------------------------------------------------------------------------


def test_register_loss_round_trip():
    spec = register_loss("Quartic", quartic, kind="regression")
    assert spec.name == "quartic" and not spec.builtin
    assert get_loss("QUARTIC") is spec and get_loss("quartic") is spec
    assert spec.output_layer == "1 unit, linear" and spec.encoding == "raw" and spec.metric == "mse"
    y = jnp.array([[1.0], [2.0], [0.0]])
    z = jnp.array([[0.0], [4.0], [0.5]])
    np.testing.assert_allclose(np.asarray(spec.objective(y, z)), [1.0, 16.0, 0.0625])
    assert "quartic" in loss_names()
    assert "quartic" in set(losses_table()["loss"])


def test_register_loss_defaults_follow_the_kind():
    spec = register_loss("my_bce", lambda t, p: jnp.mean(-(t * jnp.log(p) + (1 - t) * jnp.log(1 - p)), axis=-1),
                         kind="binary")
    assert (spec.activation, spec.encoding) == ("sigmoid", "{0,1}")
    multi = register_loss("my_cce", lambda t, p: -jnp.sum(t * jnp.log(p), axis=-1), kind="multiclass")
    assert multi.output_layer == "n_classes units, softmax" and multi.encoding == "one-hot"


def test_register_loss_with_aliases():
    spec = register_loss("quartic", quartic, kind="regression", aliases=("l4", "Fourth Power"))
    assert get_loss("L4") is spec and get_loss("fourth_power") is spec


def test_a_loss_returning_a_scalar_is_refused():
    with pytest.raises(LosslabError, match="one value per sample"):
        register_loss("scalar_mse", lambda t, p: jnp.mean((t - p) ** 2), kind="regression")
    with pytest.raises(UnknownNameError):
        get_loss("scalar_mse")


def test_a_loss_that_fails_on_a_batch_is_refused():
    def broken(y_true, y_pred):
        raise RuntimeError("boom")

    with pytest.raises(LosslabError, match="boom"):
        register_loss("broken", broken, kind="regression")


def test_re_registering_needs_overwrite():
    register_loss("quartic", quartic, kind="regression")
    with pytest.raises(LosslabError, match="overwrite=True"):
        register_loss("quartic", quartic, kind="regression")
    double = register_loss("quartic", lambda t, p: 2.0 * quartic(t, p), kind="regression", overwrite=True)
    assert get_loss("quartic") is double


def test_overwriting_drops_the_old_aliases():
    register_loss("quartic", quartic, kind="regression", aliases=("l4",))
    register_loss("quartic", quartic, kind="regression", overwrite=True)
    with pytest.raises(UnknownNameError):
        get_loss("l4")


def test_a_builtin_name_cannot_be_taken():
    for name in ("huber", "Mean Squared Error"):
        with pytest.raises(LosslabError, match="built-in"):
            register_loss(name, quartic, kind="regression", overwrite=True)
    with pytest.raises(LosslabError, match="built-in loss 'mean_squared_error'"):
        register_loss("mse", quartic, kind="regression")
    with pytest.raises(LosslabError, match="already belongs"):
        register_loss("quartic", quartic, kind="regression", aliases=("mae",))
    assert get_loss("huber").fn is losses.huber
    assert get_loss("mse").name == "mean_squared_error"


def test_overwrite_does_not_let_a_user_loss_take_a_builtin_alias():
    with pytest.raises(LosslabError):
        register_loss("mse", quartic, kind="regression", overwrite=True)
    assert get_loss("mse").name == "mean_squared_error"


def test_overwrite_does_not_let_a_user_alias_take_a_builtin_name():
    with pytest.raises(LosslabError):
        register_loss("quartic", quartic, kind="regression", aliases=("huber",), overwrite=True)
    assert get_loss("huber").name == "huber"


def test_a_loss_returning_nan_is_refused():
    with pytest.raises(LosslabError):
        register_loss("nan_loss", lambda t, p: jnp.mean(jnp.log(p - 10.0), axis=-1), kind="regression")


@pytest.mark.filterwarnings("ignore::losslab.registry.TargetWarning")
def test_an_unknown_policy_is_refused():
    with pytest.raises(LosslabError):
        encode_targets(get_loss("msle"), np.array([-1.0, 1.0]), policy="eror")


def test_register_loss_validates_its_arguments():
    with pytest.raises(LosslabError, match="kind must be one of"):
        register_loss("quartic", quartic, kind="ranking")
    with pytest.raises(LosslabError, match="activation must be one of"):
        register_loss("quartic", quartic, kind="regression", activation="relu")
    with pytest.raises(LosslabError, match="encoding must be one of"):
        register_loss("quartic", quartic, kind="regression", encoding="ordinal")
    with pytest.raises(LosslabError, match="must be a function"):
        register_loss("quartic", 42, kind="regression")
    with pytest.raises(LosslabError, match="domain must be 'real' or 'non-negative' or 'non-zero'"):
        register_loss("quartic", quartic, kind="regression", domain="positive")
    with pytest.raises(LosslabError, match=r"domain must be '\{0,1\}'"):
        register_loss("my_bce", quartic, kind="binary", domain="non-negative")
    assert "quartic" not in loss_names() and "my_bce" not in loss_names()


@pytest.mark.parametrize("name", ["", "   ", "-", None])
def test_register_loss_refuses_an_empty_name(name):
    with pytest.raises(LosslabError, match="a loss needs a non-empty name") as info:
        register_loss(name, quartic, kind="regression")
    assert "register_loss('quartic'" in str(info.value)
    assert loss_names() == BUILTIN_NAMES


def test_register_loss_refuses_a_string_of_aliases():
    with pytest.raises(LosslabError) as info:
        register_loss("quartic", quartic, kind="regression", aliases="q")
    assert str(info.value) == "aliases must be a list of names, e.g. aliases=['q']"
    with pytest.raises(UnknownNameError):
        get_loss("q")


@pytest.mark.parametrize("bad", [3, None, "", " "])
def test_register_loss_refuses_an_alias_that_is_not_a_name(bad):
    with pytest.raises(LosslabError, match=f"each alias must be a non-empty string, got {bad!r}"):
        register_loss("quartic", quartic, kind="regression", aliases=["l4", bad])
    assert "quartic" not in loss_names()


def test_register_loss_domain_defaults_to_the_encoding():
    assert register_loss("quartic", quartic, kind="regression").domain == "real"
    spec = register_loss("my_hinge", lambda t, p: jnp.mean(jnp.maximum(1 - t * p, 0), axis=-1), kind="binary",
                         activation="tanh", encoding="{-1,1}")
    assert spec.domain == "{-1,1}" and not spec.keeps_target_sign


def test_a_user_loss_domain_drives_the_target_check():
    spec = register_loss("log_quartic", quartic, kind="regression", domain="non-negative")
    assert spec.keeps_target_sign
    y = np.array([1.0, -1.0, -2.0])
    with pytest.raises(TargetError) as info:
        encode_targets(spec, y)
    assert str(info.value) == ("log_quartic needs non-negative targets; 2 of 3 are negative. "
                               "Use mean_squared_error, or shift the target")
    with pytest.warns(TargetWarning, match="log_quartic needs non-negative targets"):
        encode_targets(spec, y, policy="warn")
    non_zero = register_loss("rel_quartic", quartic, kind="regression", domain="non-zero")
    encode_targets(non_zero, -np.abs(y))  # negatives are fine away from zero, all of one sign
    with pytest.raises(TargetError, match="rel_quartic needs targets of one sign, away from zero; 2 of 3 are negative"):
        encode_targets(non_zero, y)  # crossing zero: values near it make relative errors explode
    with pytest.raises(TargetError, match="rel_quartic needs non-zero targets; 1 of 2 are zero"):
        encode_targets(non_zero, np.array([0.0, 2.0]))
    # the same targets pass a loss of the default domain
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        encode_targets(register_loss("quartic", quartic, kind="regression"), y)


# --- user losses from a file or module ----------------------------------------------------------------

USER_FILE = textwrap.dedent('''
    import jax.numpy as jnp


    def cubic_abs(y_true, y_pred):
        """Mean cubed absolute error."""
        return jnp.mean(jnp.abs(y_true - y_pred) ** 3, axis=-1)


    def helper_not_a_loss():
        return 1
''')


def test_get_loss_loads_a_function_from_a_file(tmp_path):
    path = tmp_path / "my_losses.py"
    path.write_text(USER_FILE)
    spec = get_loss(f"{path}:cubic_abs", kind="regression")
    assert spec.name == "cubic_abs" and not spec.builtin and spec.kind == "regression"
    assert spec.description == "Mean cubed absolute error."
    assert get_loss("Cubic Abs") is spec  # registered, so usable by name from now on
    np.testing.assert_allclose(np.asarray(spec.objective(jnp.array([[1.0], [0.0]]), jnp.array([[3.0], [0.5]]))),
                               [8.0, 0.125])
    # asking again reloads and replaces it rather than failing
    assert get_loss(f"{path}:cubic_abs", kind="regression").name == "cubic_abs"


def test_get_loss_loads_a_function_from_a_module(tmp_path, monkeypatch):
    (tmp_path / "my_loss_module.py").write_text(USER_FILE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_loss_module", raising=False)
    spec = get_loss("my_loss_module:cubic_abs", kind="regression")
    assert spec.name == "cubic_abs"
    sys.modules.pop("my_loss_module", None)


def test_a_user_loss_needs_a_kind(tmp_path):
    path = tmp_path / "my_losses.py"
    path.write_text(USER_FILE)
    with pytest.raises(LosslabError, match="which kind"):
        get_loss(f"{path}:cubic_abs")


def test_a_missing_file_or_function_is_an_unknown_name(tmp_path):
    with pytest.raises(UnknownNameError, match="no such file"):
        get_loss(f"{tmp_path / 'absent.py'}:cubic_abs", kind="regression")
    path = tmp_path / "my_losses.py"
    path.write_text(USER_FILE)
    with pytest.raises(UnknownNameError, match="did you mean 'cubic_abs'"):
        get_loss(f"{path}:cubic_ab", kind="regression")
    with pytest.raises(UnknownNameError, match="cannot import module"):
        get_loss("no_such_module_for_losslab:fn", kind="regression")


@pytest.mark.parametrize("ref", [":", " : ", "x.py:", ":fn", "my_losses.py: fn", "a..b:fn", "C:\\losses\\my.py"])
def test_a_malformed_reference_names_the_form(ref):
    for kind in (None, "regression"):
        with pytest.raises(UnknownNameError) as info:
            get_loss(ref, kind=kind)
        message = str(info.value)
        assert "\n" not in message
        assert f"cannot read the loss {ref!r}; give path/to/file.py:function or module:function" in message


def test_a_file_reference_without_a_function_names_the_form(tmp_path):
    path = tmp_path / "my_losses.py"
    path.write_text(USER_FILE)
    with pytest.raises(UnknownNameError, match="give path/to/file.py:function or module:function"):
        get_loss(f"{path}:", kind="regression")


def test_a_user_file_that_exits_does_not_end_the_program(tmp_path):
    path = tmp_path / "exits.py"
    path.write_text("import sys\n\nsys.exit(0)\n")
    with pytest.raises(LosslabError) as info:
        get_loss(f"{path}:quartic", kind="regression")
    assert str(info.value) == (f"the loss file {str(path)!r} exited while loading (sys.exit); "
                               "a loss file must only define functions")
    assert "losslab_user_exits" not in sys.modules


def test_a_user_module_that_exits_or_fails_is_reported_as_the_users_error(tmp_path, monkeypatch):
    (tmp_path / "losslab_test_exits.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "losslab_test_fails.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(LosslabError, match="the module 'losslab_test_exits' exited while loading"):
        get_loss("losslab_test_exits:fn", kind="regression")
    with pytest.raises(LosslabError) as info:
        get_loss("losslab_test_fails:fn", kind="regression")
    assert type(info.value) is LosslabError
    assert str(info.value) == ("cannot load the module 'losslab_test_fails' for the loss 'losslab_test_fails:fn': "
                               "RuntimeError: boom")
    assert "losslab_test_exits" not in sys.modules and "losslab_test_fails" not in sys.modules


def test_a_user_file_that_fails_is_reported_as_the_users_error(tmp_path):
    path = tmp_path / "fails.py"
    path.write_text("1 / 0\n")
    with pytest.raises(LosslabError, match="cannot load the loss file .*ZeroDivisionError: division by zero"):
        get_loss(f"{path}:fn", kind="regression")
    assert "losslab_user_fails" not in sys.modules
