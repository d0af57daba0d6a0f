"""The examples in the docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import losslab

MODULES = sorted(m.name for m in pkgutil.walk_packages(losslab.__path__, "losslab."))


@pytest.fixture(autouse=True)
def _clean(restore_registry):
    """Docstring examples register losses."""


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_examples_exist() -> None:
    attempted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in ("losslab.registry", "losslab.results"))
    assert attempted >= 5
