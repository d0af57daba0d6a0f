"""The stages import only the stages before them: problem -> loss spec -> plan -> engine ->
results -> analysis -> presentation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import losslab

SOURCE = Path(losslab.__file__).parent

#: Every module's stage; a module may import its own stage and earlier ones only.
STAGES: list[tuple[str, ...]] = [
    ("losslab._version", "losslab.errors", "losslab._names", "losslab._plain", "losslab._arrays", "losslab._files", "losslab._machine",
     "losslab._lazy"),
    ("losslab.losses", "losslab.metrics", "losslab.scores", "losslab.reference"),
    ("losslab.problems",),
    ("losslab.registry",),
    ("losslab.models", "losslab.settings"),
    ("losslab.planning", "losslab.case_studies"),
    ("losslab.engine",),
    ("losslab.results", "losslab.store", "losslab.predict"),
    ("losslab.analysis", "losslab.replicate", "losslab.sweep"),
    ("losslab.figures", "losslab.outputs", "losslab.report", "losslab.tracking", "losslab.claims"),
    ("losslab.cli",),
]


def stage_of(module: str) -> int:
    for rank, prefixes in enumerate(STAGES):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"{module} is in no stage; add it to STAGES")


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every losslab module ``path`` imports, at the top or inside a function, relative imports
    resolved."""
    names = set()
    package = module_name(path).split(".") if path.name == "__init__.py" else module_name(path).split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # from ..engine import x
            base = ".".join(package[: len(package) - node.level + 1])
            names.update([f"{base}.{node.module}"] if node.module else (f"{base}.{a.name}" for a in node.names))
        elif isinstance(node, ast.ImportFrom) and node.module == "losslab":  # from losslab import losses
            names.update(f"losslab.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("losslab"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names if alias.name.startswith("losslab"))
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module" and node.args \
                and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith("losslab"):
            names.add(node.args[0].value)  # importlib.import_module("losslab.engine")
    return names


MODULES = sorted(p for p in SOURCE.rglob("*.py") if module_name(p) != "losslab")


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_imports_a_later_stage(path: Path) -> None:
    own = stage_of(module_name(path))
    later = {name for name in imported(path) if stage_of(name) > own}
    assert not later, f"{module_name(path)} (stage {own}) imports later stages: {sorted(later)}"


def test_the_command_line_does_not_import_the_engine() -> None:
    for path in (SOURCE / "cli").rglob("*.py"):
        assert not any(name.startswith("losslab.engine") for name in imported(path)), path


def test_the_package_root_is_imported_by_no_stage() -> None:
    for path in MODULES:
        assert "losslab" not in imported(path), f"{module_name(path)} imports the package root"
