"""The examples in the docstrings run and give what they show."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import losslab
from losslab import registry

MODULES = sorted(m.name for m in pkgutil.walk_packages(losslab.__path__, "losslab."))


@pytest.fixture(autouse=True)
def restore_registry():
    """Docstring examples register losses; leave the registry as it was."""
    saved = dict(registry._REGISTRY), dict(registry._ALIASES)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved[0])
    registry._ALIASES.clear()
    registry._ALIASES.update(saved[1])


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_examples_exist() -> None:
    attempted = sum(doctest.testmod(importlib.import_module(n)).attempted for n in ("losslab.registry", "losslab.engine"))
    assert attempted >= 5
