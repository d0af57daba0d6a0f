"""Replicating the tutorial: the table, the claims and how they are judged."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from losslab.plan import CASE_STUDIES, CaseStudy, losses_by_problem
from losslab.replicate import _agrees, replicate


@pytest.fixture(scope="module")
def replication():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return replicate(repeats=1, epochs=4)


def test_the_table_has_every_case_in_order(replication) -> None:
    assert replication.table["case"].tolist() == [c.key for c in CASE_STUDIES]
    assert len(replication.table) == 11
    assert set(replication.studies) == {"regression", "circles", "blobs"}


def test_only_tanh_losses_carry_the_tutorials_rounding_accuracy(replication) -> None:
    table = replication.table.set_index("loss")
    for loss in ("hinge", "squared_hinge"):
        assert 0 <= table.loc[loss, "tutorial_train"] <= 1
    assert table.drop(index=["hinge", "squared_hinge"])["tutorial_train"].isna().all()


def test_a_diverged_extension_is_reported_in_the_notes(replication) -> None:
    mape = replication.table.set_index("case").loc["ext-1"]
    assert mape["diverged"] == 1 and mape["agrees"] == "-"
    assert any("mean_absolute_percentage_error" in note and "diverged" in note for note in replication.notes())


def test_each_problem_is_trained_once_with_all_its_losses() -> None:
    plan = losses_by_problem()
    assert plan["circles"] == ["binary_crossentropy", "hinge", "squared_hinge"]
    assert plan["blobs"][-1] == "categorical_hinge"


def _table(rows) -> pd.DataFrame:
    columns = ["case", "train", "test", "tutorial_train", "tutorial_test"]
    return pd.DataFrame([dict(zip(columns, row)) for row in rows])


def test_claims_are_judged_as_documented() -> None:
    table = _table([
        ("a", 0.83, 0.84, np.nan, np.nan),
        ("b", 0.86, 0.84, np.nan, np.nan),
        ("h", 0.85, 0.85, 0.79, 0.76),
        ("m", 0.002, 0.004, np.nan, np.nan),
        ("w", 0.3, 0.2, np.nan, np.nan),
        ("l", 0.835, 0.845, np.nan, np.nan),
    ])
    about = ("about", 0.83, 0.84)
    assert _agrees(CaseStudy("a", "", "p", "x", "", about), table) == "yes"
    assert _agrees(CaseStudy("b", "", "p", "x", "", about), table) == "no"  # 3.0 pt off on train
    assert _agrees(CaseStudy("h", "", "p", "x", "", ("below", 0.80)), table) == "yes"  # rounding accuracy
    assert _agrees(CaseStudy("h", "", "p", "x", "", ("below", 0.78)), table) == "no"
    assert _agrees(CaseStudy("m", "", "p", "x", "", ("near_zero", 0.01)), table) == "yes"
    assert _agrees(CaseStudy("w", "", "p", "x", "", ("worse_than", "m")), table) == "yes"
    assert _agrees(CaseStudy("m", "", "p", "x", "", ("worse_than", "w")), table) == "no"
    assert _agrees(CaseStudy("l", "", "p", "x", "", ("like", "a"), tolerance=0.01), table) == "yes"
    assert _agrees(CaseStudy("b", "", "p", "x", "", ("like", "a"), tolerance=0.01), table) == "no"
    assert _agrees(CaseStudy("a", "", "p", "x", "", None), table) == "-"


def test_diagnostics_put_numbers_beside_the_tutorials_words(replication) -> None:
    diagnostics = replication.diagnostics.set_index("case")
    assert diagnostics.index.tolist() == [c.key for c in CASE_STUDIES]
    assert "bumpy" in diagnostics.loc["4.3", "tutorial_curves"]
    assert (diagnostics.drop(index="ext-1")["bumpiness"] >= 0).all()
    assert np.isnan(diagnostics.loc["ext-1", "convergence_epoch"])  # every run diverged
