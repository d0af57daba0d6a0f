"""losslab: configure what a neural network optimizes.

Keras-compatible losses in JAX with the output layer, target encoding and metric each needs;
every (loss x seed) of a study trained at once in one vectorised program; statistical verdicts
and learning-curve diagnostics; the tutorial "Configure What to Optimize with Loss Functions"
reproduced case by case.

>>> import losslab
>>> losslab.get_loss("mean squared error").output_layer
'1 unit, linear'
"""

from __future__ import annotations

import importlib.machinery
import sys
import types

from losslab._lazy import lazy_names as _lazy_names
from losslab._version import __version__
from losslab.errors import (
    DataError,
    IncompatibleLossError,
    LosslabError,
    SettingsError,
    TargetError,
    UnknownNameError,
)

# The rest of the API is imported when first used (PEP 562), so that ``import losslab`` and the
# command line's start-up (``losslab --help``) do not load JAX, SciPy, pandas and matplotlib.
#: Where each public name lives.
_LAZY = {
    **dict.fromkeys(("Comparison", "Verification", "compare", "curve_diagnostics", "verify"), "losslab.analysis"),
    **dict.fromkeys(("MLP", "Model"), "losslab.models"),
    **dict.fromkeys(("StudyPlan", "default_settings", "plan"), "losslab.planning"),
    **dict.fromkeys(("Problem", "get_problem", "problem_names"), "losslab.problems"),
    **dict.fromkeys(("LossSpec", "Recommendation", "check_compatible", "encode_targets", "get_loss", "loss_names",
                     "losses_table", "recommend", "register_loss"), "losslab.registry"),
    **dict.fromkeys(("Replication", "replicate"), "losslab.replicate"),
    **dict.fromkeys(("html_fragment", "report_html", "save_report"), "losslab.report"),
    "predict": "losslab.predict",
    **dict.fromkeys(("Study", "run", "train"), "losslab.results"),
    **dict.fromkeys(("load", "run_stored"), "losslab.store"),
    "Settings": "losslab.settings",
    **dict.fromkeys(("Sweep", "sweep"), "losslab.sweep"),
    **dict.fromkeys(("claims", "claims_table"), "losslab.claims"),
    "Backend": "losslab.settings",
}


__getattr__, __dir__ = _lazy_names(globals(), _LAZY)  # losslab.train and the other public names, on first use


class _Package(types.ModuleType):
    """The package module, whose ``predict`` and ``replicate`` stay the functions when their
    submodules (``losslab.predict``, ``losslab.replicate``) are imported: the import system sets
    a submodule as its parent's attribute, which would hide the function of the same name."""

    def __setattr__(self, name: str, value: object) -> None:
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == f"{__name__}.{name}":
            return  # the submodule stays in sys.modules, for ``from losslab.predict import ...``
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


# Jupyter shows these results as the report's HTML (verdicts, tables, figures). Attached by the
# package root, because the report is the last stage: the results cannot import it. Attached as
# each result's module is imported, however it is imported; the report itself is imported only
# when a result is shown.
def _repr_html_(self: object) -> str:
    from losslab.report import html_fragment

    return html_fragment(self)


#: The results shown as HTML, by the module that defines (or exports) them.
_SHOWN = {"losslab.results": ("Study",), "losslab.analysis": ("Comparison", "Verification"),
          "losslab.replicate": ("Replication",)}


class _ShowResults:
    """An import finder (:data:`sys.meta_path`) that gives the results of :data:`_SHOWN` their
    ``_repr_html_`` when their module is imported; every other module it leaves to the next finder."""

    def find_spec(self, fullname: str, path, target=None):
        if fullname not in _SHOWN:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_attach(module: types.ModuleType) -> None:
            exec_module(module)
            for name in _SHOWN[fullname]:
                getattr(module, name)._repr_html_ = _repr_html_

        spec.loader.exec_module = exec_and_attach
        return spec


def _show_results() -> None:
    sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "_ShowResults"]  # one, on reload
    sys.meta_path.insert(0, _ShowResults())
    for module in _SHOWN.keys() & sys.modules.keys():  # imported before this package was: a reload
        for name in _SHOWN[module]:
            getattr(sys.modules[module], name)._repr_html_ = _repr_html_


_show_results()


__all__ = [
    "MLP", "Comparison", "DataError", "IncompatibleLossError", "LossSpec", "LosslabError", "Model", "Problem",
    "Recommendation", "Replication", "Settings", "SettingsError", "Study", "StudyPlan", "TargetError",
    "UnknownNameError", "Verification", "check_compatible", "compare", "curve_diagnostics", "default_settings",
    "encode_targets", "get_loss", "get_problem", "load", "loss_names", "losses_table", "plan", "predict", "problem_names",
    "recommend", "run_stored",
    "register_loss", "replicate", "report_html", "run", "save_report", "train", "verify",
]
