"""The plan stage: a study resolved, checked and encoded once, before anything is trained."""

from __future__ import annotations

import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from typer.testing import CliRunner

import losslab
from losslab.cli import app
from losslab.errors import IncompatibleLossError, LosslabError, SettingsError, TargetError
from losslab.models import MLP, Model
from losslab.planning import (
    TUTORIAL_SETTINGS,
    StudySize,
    check_memory,
    default_settings,
    estimate_bytes,
    own_data_settings,
    plan,
    usable_losses,
)
from losslab.problems import Problem, get_problem
from losslab.registry import TargetWarning, get_loss
from losslab.settings import Settings
from losslab.store import load as load_study

BLOBS = get_problem("blobs")
DIABETES = get_problem("diabetes")


# ------------------------------------------------------------------------- what a plan holds


def test_a_plan_resolves_every_name_once_and_encodes_each_loss_s_targets() -> None:
    p = plan(BLOBS, ["CategoricalCrossentropy", "scce", "kld"], seeds=range(4))
    assert p.losses == ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence")
    assert p.seeds == (0, 1, 2, 3) and p.n_runs == 12 and p.metric == "accuracy"
    one_hot, integer = p.targets["categorical_crossentropy"], p.targets["sparse_categorical_crossentropy"]
    assert one_hot.train.shape == (500, 3) and one_hot.test.shape == (500, 3)
    assert integer.train.shape == (500,) and integer.train.dtype == np.int32
    np.testing.assert_array_equal(one_hot.train.argmax(axis=1), BLOBS.y_train)
    np.testing.assert_array_equal(integer.test, BLOBS.y_test)


def test_a_single_loss_name_is_one_loss_not_its_letters() -> None:
    assert plan(BLOBS, "cce").losses == ("categorical_crossentropy",)


def test_defaults_are_the_tutorial_s_set_up_for_its_problems_and_their_own_for_data() -> None:
    first_loss = {"regression": "mse", "binary": "bce", "multiclass": "cce"}
    for name, settings in TUTORIAL_SETTINGS.items():
        problem = get_problem(name)
        assert plan(problem, first_loss[problem.kind]).settings == settings.updated(shuffle="rows")  # decided
    assert TUTORIAL_SETTINGS["regression"].hidden == (25,) and TUTORIAL_SETTINGS["circles"].epochs == 200
    iris = get_problem("iris")
    assert default_settings(iris) == own_data_settings(iris.n_train)
    given = Settings(epochs=3, hidden=(7,), shuffle="rows")
    p = plan(iris, "cce", settings=given)
    assert p.settings is given and p.model == MLP((7,), "relu")


def test_describe_is_plain_json_with_the_plan_and_versions() -> None:
    p = plan(BLOBS, ["cce"], seeds=[3], settings=Settings(epochs=2, activation="tanh"))
    described = json.loads(json.dumps(p.describe()))
    assert described["losses"] == ["categorical_crossentropy"] and described["seeds"] == [3]
    assert described["model"] == {"kind": "MLP", "hidden": [50], "activation": "tanh"}
    assert described["settings"]["epochs"] == 2 and described["versions"]["jax"] == jax.__version__
    study = losslab.run(p)
    assert study.metadata()["model"]["activation"] == "tanh" and "train_s" in study.metadata()["timings"]


# ------------------------------------------------------------------- the target-centring rule


def test_a_centred_target_stays_centred_without_a_sign_keeping_loss() -> None:
    p = plan(DIABETES, ["mse", "mae"])
    assert p.centred is True
    np.testing.assert_array_equal(p.targets["mean_squared_error"].train[:, 0], DIABETES.y_train.astype(np.float32))


def test_a_sign_keeping_loss_uncentres_the_target_for_every_loss_of_the_study() -> None:
    p = plan(DIABETES, ["mse", "msle"])
    assert p.centred is False
    # the same numbers as preparing the problem uncentred from the start (to float rounding)
    uncentred = get_problem("diabetes", center_target=False)
    for loss in ("mean_squared_error", "mean_squared_logarithmic_error"):
        np.testing.assert_allclose(p.targets[loss].train[:, 0], uncentred.y_train, rtol=1e-6)
        np.testing.assert_allclose(p.targets[loss].test[:, 0], uncentred.y_test, rtol=1e-6)
    assert p.targets["mean_squared_logarithmic_error"].train.min() > 0


def test_keeping_a_target_centred_for_msle_is_refused_with_the_count() -> None:
    with pytest.raises(TargetError, match=r"non-negative targets; \d+ of \d+ are negative"):
        plan(DIABETES, ["msle"], center_target=True)


def test_the_tutorial_s_regression_keeps_its_scaling_and_msle_only_warns() -> None:
    regression = get_problem("regression")
    with pytest.warns(TargetWarning, match="continuing as Keras would"):
        p = plan(regression, ["mse", "msle"])
    assert p.centred is None
    np.testing.assert_array_equal(p.targets["mean_squared_error"].train[:, 0], regression.y_train.astype(np.float32))
    with pytest.raises(SettingsError, match="keeps the targets as the tutorial scaled them"):
        plan(regression, ["mse"], center_target=False)


def test_usable_losses_sets_aside_a_loss_the_targets_cannot_take() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    crossing = Problem.from_arrays(X, X[:, 0] * 3 - 1 + rng.normal(size=80), center_target=False)
    usable, skipped = usable_losses(crossing, ["mse", "msle", "mae"])
    assert [spec.name for spec in usable] == ["mean_squared_error", "mean_absolute_error"]
    assert len(skipped) == 1 and skipped[0].startswith("mean_squared_logarithmic_error needs non-negative targets")


# ------------------------------------------------------------------------------- refused input


@pytest.mark.parametrize(
    ("call", "error", "phrase"),
    [
        (lambda: plan("blobs", ["cce"]), LosslabError, "losslab.get_problem('blobs')"),
        (lambda: losslab.train("blobs", ["cce"]), LosslabError, "losslab.get_problem('blobs')"),
        (lambda: plan(BLOBS, ["cce"], seeds=None), SettingsError, "range(30)"),
        (lambda: plan(BLOBS, ["cce"], seeds="01"), SettingsError, "collection of whole numbers"),
        (lambda: plan(BLOBS, ["cce"], seeds=5), SettingsError, "range(5)"),
        (lambda: plan(BLOBS, ["cce"], settings={"epochs": 3}), SettingsError, "must be a losslab.Settings"),
        (lambda: plan(BLOBS, ["cce"], model="mlp"), SettingsError, "losslab.models.Model"),
        (lambda: plan(BLOBS, ["cce", "categorical_crossentropy"]), SettingsError, "each loss may be named once"),
        (lambda: plan(BLOBS, []), SettingsError, "at least one loss"),
        (lambda: plan(BLOBS, ["hinge"]), IncompatibleLossError, "use categorical_hinge"),
        (lambda: Settings(hidden=50), SettingsError, "hidden=(50,)"),
        (lambda: Settings(learning_rate="0.01"), SettingsError, "learning_rate must be a number"),
        (lambda: Settings(momentum="0.9"), SettingsError, "momentum must be a number"),
        (lambda: Settings(optimizer="adam", momentum=0.5), SettingsError, "momentum applies to the sgd optimizer only"),
        (lambda: Settings(activation="rellu"), SettingsError, "did you mean 'relu'"),
        (lambda: Settings(hidden=(8, 0)), SettingsError, "hidden"),
    ],
)
def test_wrong_types_and_values_raise_losslab_errors_that_name_the_fix(call, error, phrase) -> None:
    with pytest.raises(error) as info:
        call()
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_momentum_belongs_to_sgd_and_follows_the_optimizer() -> None:
    assert Settings().momentum == 0.9
    adam = Settings().updated(optimizer="adam")
    assert adam.momentum is None  # not recorded as 0.9 when it is not applied
    assert adam.updated(optimizer="sgd").momentum == 0.9
    assert Settings(momentum=0.5).updated(epochs=3).momentum == 0.5
    assert Settings(hidden=[np.int64(8)]).hidden == (8,)


# ----------------------------------------------------------------------------------- memory


def test_absurd_sizes_are_refused_at_once_with_the_largest_size_that_fits() -> None:
    start = time.perf_counter()
    with pytest.raises(SettingsError, match=r"largest that fit.*batch size ([\d,]+) \(now 1,000,000,000\)"):
        plan(BLOBS, ["cce"], settings=Settings(batch_size=1_000_000_000))
    with pytest.raises(SettingsError, match=r"hidden layer size ([\d,]+) \(now 10,000,000\)"):
        plan(BLOBS, ["cce"], settings=Settings(hidden=(10_000_000,)))
    with pytest.raises(SettingsError, match=r"seeds \(repeats\) ([\d,]+) \(now 1,000,000,000\)"):
        plan(BLOBS, ["cce"], seeds=range(1_000_000_000))
    assert time.perf_counter() - start < 60  # refused from shapes, not by trying to allocate


def test_the_largest_size_named_fits_and_one_more_does_not() -> None:
    size = StudySize(n_train=500, n_all=1000, n_features=2, n_outputs=3, n_losses=2, n_seeds=1000, chunk=16)
    settings = Settings(hidden=(64, 32))
    budget = estimate_bytes(dataclasses.replace(size, n_seeds=333), settings, settings.model) + 12_345
    with pytest.raises(SettingsError) as info:
        check_memory(size, settings, settings.model, budget=budget)
    seeds = int(str(info.value).split("seeds (repeats) ")[1].split(" ")[0].replace(",", ""))
    assert estimate_bytes(dataclasses.replace(size, n_seeds=seeds), settings, settings.model) <= budget
    assert estimate_bytes(dataclasses.replace(size, n_seeds=seeds + 1), settings, settings.model) > budget
    check_memory(size, settings, settings.model, budget=10 * budget)  # within the budget: no error


def test_the_estimate_grows_with_what_the_engine_holds() -> None:
    size = StudySize(n_train=500, n_all=1000, n_features=2, n_outputs=3, n_losses=1, n_seeds=16, chunk=16)
    base = Settings()
    assert estimate_bytes(size, base.updated(epochs=200), base.model) > estimate_bytes(size, base, base.model)
    wide = base.updated(hidden=(500,))
    assert estimate_bytes(size, wide, wide.model) > estimate_bytes(size, base, base.model)
    more = dataclasses.replace(size, n_seeds=1600)
    assert estimate_bytes(more, base, base.model) > estimate_bytes(size, base, base.model)


# ----------------------------------------------------------------------------- other models


@dataclasses.dataclass(frozen=True)
class Linear(Model):
    """A linear model: ``init`` and ``forward`` only, so the engine uses autodiff's backward."""

    def init(self, keys, n_in, n_out):
        return {"W": jax.vmap(lambda k: jax.random.normal(k, (n_out, n_in)) * 0.1)(keys), "b": jnp.zeros((keys.shape[0], n_out))}

    def forward(self, params, x):
        spec = "roi,rbi->rob" if x.ndim == 3 else "roi,bi->rob"
        return jnp.einsum(spec, params["W"], x) + params["b"][:, :, None], None


def test_a_model_with_only_init_and_forward_trains_through_the_plan() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    separable = Problem.from_arrays(X, (X @ [1.0, -2.0, 0.5] > 0).astype(int))
    study = losslab.run(plan(separable, ["bce"], seeds=range(3), settings=Settings(epochs=30), model=Linear()))
    assert study.model == Linear() and study.metadata()["model"] == {"kind": "Linear"}
    assert (study.runs["test_metric"] > 0.9).all()  # a linear boundary, learnt by a linear model


def test_the_activation_reaches_the_model_and_changes_the_training() -> None:
    relu = losslab.train(BLOBS, ["cce"], seeds=[0], settings=Settings(epochs=5))
    tanh = losslab.train(BLOBS, ["cce"], seeds=[0], settings=Settings(epochs=5, activation="tanh"))
    assert tanh.model == MLP((50,), "tanh")
    assert tanh.runs["test_loss"].item() != relu.runs["test_loss"].item()
    assert tanh.runs["test_metric"].item() > 0.6


# --------------------------------------------------------------------------- the command line


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("run", "circles", "--loss", "bce", "--test-size", "0.3"), "--test-size cannot be used with the tutorial problem"),
        (("run", "circles", "--loss", "bce", "--split-seed", "2"), "--split-seed cannot be used with the tutorial problem"),
        (("run", "circles", "--loss", "bce", "--momentum", "0.5", "--optimizer", "adam"), "momentum applies to the sgd"),
        (("run", "circles", "--loss", "bce", "--batch-size", "1000000000"), "batch size"),
        (("run", "circles", "--loss", "bce", "--hidden", "10000000"), "hidden layer size"),
        (("compare", "circles", "--loss", "bce", "--loss", "hinge", "--repeats", "1000000000"), "seeds (repeats)"),
        (("run", "circles", "--loss", "bce", "--activation", "rellu"), "unknown activation 'rellu'"),
        (("run", "iris", "--loss", "cce", "--dropna"), "--dropna applies to --data only"),
    ],
)
def test_options_that_cannot_apply_or_cannot_fit_are_refused_in_one_line(args, phrase, tmp_path) -> None:
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and phrase in lines[0], result.stderr
    assert not (tmp_path / "out").exists()


def test_activation_and_hidden_reach_the_model_from_the_command_line(tmp_path) -> None:
    result = runner.invoke(app, ["run", "circles", "--loss", "bce", "--epochs", "2", "--activation", "elu",
                                 "--hidden", "8,4", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    metadata = json.loads((tmp_path / "circles_binary_crossentropy_seed0.json").read_text())
    assert metadata["model"] == {"kind": "MLP", "hidden": [8, 4], "activation": "elu"}
    assert metadata["settings"]["activation"] == "elu"


def test_a_user_loss_is_resolved_by_the_plan_for_the_problem_s_kind(tmp_path, restore_registry) -> None:
    path = tmp_path / "mine.py"
    path.write_text("import jax.numpy as jnp\n\ndef quartic(y_true, y_pred):\n"
                    "    '''Mean fourth power.'''\n    return jnp.mean((y_true - y_pred) ** 4, axis=-1)\n")
    p = plan(DIABETES, [f"{path}:quartic", "mse"])
    assert p.losses == ("quartic", "mean_squared_error") and p.specs[0].kind == "regression"
    assert get_loss("quartic").builtin is False


# ------------------------------------------------------------------------- found in review


def test_a_generator_of_seeds_is_read_no_further_than_what_fits() -> None:
    def endless():
        seed = 0
        while True:
            yield seed
            seed += 1

    with pytest.raises(SettingsError, match=r"seeds \(repeats\)"):
        plan(BLOBS, ["cce"], seeds=endless())  # would never end if it were materialised
    assert plan(BLOBS, ["cce"], seeds=(s for s in range(3))).seeds == (0, 1, 2)


def test_the_batch_size_suggested_is_never_larger_than_the_training_rows() -> None:
    with pytest.raises(SettingsError) as info:
        plan(BLOBS, ["cce"], settings=Settings(batch_size=1_000_000_000))
    suggested = int(str(info.value).split("batch size ")[1].split(" ")[0].replace(",", ""))
    assert suggested == BLOBS.n_train


def test_center_target_on_classification_and_unknown_settings_fields_are_refused() -> None:
    with pytest.raises(SettingsError, match="center_target applies to regression targets"):
        plan(BLOBS, ["cce"], center_target=False)
    with pytest.raises(SettingsError, match="Settings has no field lr"):
        Settings().updated(lr=0.1)


def test_describe_records_the_model_used_and_the_targets_as_trained() -> None:
    p = plan(BLOBS, ["cce"], settings=Settings(epochs=2), model=MLP((9,), "elu"))
    described = p.describe()
    assert described["model"] == {"kind": "MLP", "hidden": [9], "activation": "elu"}
    assert "hidden" not in described["settings"] and "activation" not in described["settings"]
    uncentred = plan(DIABETES, ["mse", "poisson"]).describe()
    assert uncentred["target_centred"] is False
    assert uncentred["preparation"]["target_standardized"] is False and uncentred["preparation"]["target_mean"] is None
    assert plan(DIABETES, ["mse"]).describe()["preparation"]["target_standardized"] is True


def test_a_plan_s_targets_are_read_only() -> None:
    p = plan(BLOBS, ["cce"])
    with pytest.raises(ValueError, match="read-only"):
        p.targets["categorical_crossentropy"].train[0, 0] = 5.0


def test_a_problem_marked_tutorial_that_the_tutorial_lacks_gets_data_defaults() -> None:
    renamed = dataclasses.replace(get_problem("circles"), name="mine")
    assert default_settings(renamed) == own_data_settings(renamed.n_train)


def test_verify_trains_the_recommendation_and_the_usable_alternatives() -> None:
    verification = losslab.verify(get_problem("regression"), seeds=range(2), settings=Settings(epochs=2))
    assert verification.recommendation.loss == "mean_squared_error"
    assert verification.study.losses == ("mean_squared_error", "mean_absolute_error", "huber")
    # MSLE is set aside even though the tutorial's problem only warns: half its targets are negative
    assert len(verification.skipped) == 1 and "mean_squared_logarithmic_error needs non-negative" in verification.skipped[0]
    assert len(verification.comparison.verdicts) == 3
    assert "choice=" in repr(verification) and len(repr(verification)) < 2000


def test_recommend_refuses_training_options_without_verify_and_checks_alpha_before_training(tmp_path) -> None:
    result = runner.invoke(app, ["recommend", "iris", "--epochs", "3"])
    assert result.exit_code == 2 and "--epochs is only used with --verify" in result.stderr
    result = runner.invoke(app, ["recommend", "iris", "--batch-size", "64", "--shuffle", "blocks"])
    assert result.exit_code == 2 and "--batch-size and --shuffle are only used with --verify" in result.stderr
    result = runner.invoke(app, ["compare", "blobs", "--loss", "cce", "--loss", "kld", "--repeats", "100000",
                                 "--alpha", "2", "--out", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.startswith("error: alpha must be between 0 and 1")


def test_recommend_verify_on_the_command_line(tmp_path) -> None:
    result = runner.invoke(app, ["recommend", "iris", "--verify", "--repeats", "2", "--epochs", "2", "--batch-size", "16",
                                 "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (study,) = (tmp_path / "studies").iterdir()
    assert load_study(study).plan.settings.batch_size == 16
    payload = json.loads(result.stdout)
    assert payload["loss"] == "categorical_crossentropy" and payload["skipped"] == []
    assert len(payload["verification"]["verdicts"]) == 6  # four candidates, every pair
    assert (tmp_path / "compare_iris_curves.png").exists()
    shown = runner.invoke(app, ["recommend", "iris", "--verify", "--repeats", "2", "--epochs", "2", "--batch-size", "16",
                                "--out", str(tmp_path)])
    assert shown.exit_code == 0, shown.output  # the same study, reused: the output says where its files are
    assert f"figures and tables in {tmp_path}/ ({len(payload['files'])} files)" in shown.output


def test_a_batch_size_on_the_command_line_keeps_about_400_updates(tmp_path) -> None:
    result = runner.invoke(app, ["run", "iris", "--loss", "cce", "--batch-size", "64",
                                 "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    (study,) = (tmp_path / "studies").iterdir()
    study = load_study(study)
    n_train = study.plan.problem.n_train
    assert study.plan.settings.batch_size == 64
    assert study.plan.settings.epochs == own_data_settings(n_train, 64).epochs != own_data_settings(n_train).epochs


def test_a_user_loss_that_exits_while_it_runs_is_an_error_not_a_success(tmp_path, restore_registry) -> None:
    path = tmp_path / "exits.py"
    path.write_text("import sys\n\ndef quits(y_true, y_pred):\n    sys.exit(0)\n")
    with pytest.raises(LosslabError, match="failed on a test batch: SystemExit"):
        plan(DIABETES, [f"{path}:quits"])
