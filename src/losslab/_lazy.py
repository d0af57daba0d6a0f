"""Names a package imports from its modules when they are first used (PEP 562), so that importing
the package stays light: ``losslab --help`` loads no JAX, and the figure worker starts before
matplotlib is imported."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(namespace: dict[str, Any], where: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` for the names ``where`` maps to the module each
    lives in: a name is imported from its module on first use and then kept in ``namespace``
    (the package's ``globals()``), where Python finds it without asking again."""

    def __getattr__(name: str) -> object:
        if name not in where:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
