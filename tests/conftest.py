"""Shared fixtures."""

from __future__ import annotations

import sys

import pytest

from losslab import registry


@pytest.fixture
def restore_registry():
    """Leave the loss registry as it was: tests and docstring examples register their own losses
    (and loading a user's loss file adds a ``losslab_user_*`` module)."""
    specs, aliases, modules = dict(registry._REGISTRY), dict(registry._ALIASES), set(sys.modules)
    yield
    registry._REGISTRY.clear()
    registry._REGISTRY.update(specs)
    registry._ALIASES.clear()
    registry._ALIASES.update(aliases)
    for name in set(sys.modules) - modules:
        if name.startswith("losslab_user_"):
            del sys.modules[name]
