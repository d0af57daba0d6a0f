"""losslab: configure what a neural network optimizes.

Keras-compatible losses in JAX with the output layer, target encoding and metric each needs;
every (loss x seed) of a study trained at once in one vectorised program; statistical verdicts
and learning-curve diagnostics; the tutorial "Configure What to Optimize with Loss Functions"
reproduced case by case.

>>> import losslab
>>> losslab.get_loss("mean squared error").output_layer
'1 unit, linear'
"""

from losslab._version import __version__
from losslab.analysis import Comparison, Verification, compare, curve_diagnostics, verify
from losslab.errors import (
    DataError,
    IncompatibleLossError,
    LosslabError,
    SettingsError,
    TargetError,
    UnknownNameError,
)
from losslab.models import MLP, Model
from losslab.planning import StudyPlan, default_settings, plan
from losslab.problems import Problem, get_problem, problem_names
from losslab.registry import (
    LossSpec,
    Recommendation,
    check_compatible,
    encode_targets,
    get_loss,
    loss_names,
    losses_table,
    recommend,
    register_loss,
)
from losslab.replicate import Replication, replicate
from losslab.report import html_fragment, report_html, save_report
from losslab.predict import predict
from losslab.results import Study, run, train
from losslab.store import load, run_stored
from losslab.settings import Settings

# Jupyter shows these results as the report's HTML (verdicts, tables, figures). Attached here,
# in the package root, because the report is the last stage: the results cannot import it.
for _result in (Study, Comparison, Replication, Verification):
    _result._repr_html_ = html_fragment  # type: ignore[attr-defined]
del _result


__all__ = [
    "MLP", "Comparison", "DataError", "IncompatibleLossError", "LossSpec", "LosslabError", "Model", "Problem",
    "Recommendation", "Replication", "Settings", "SettingsError", "Study", "StudyPlan", "TargetError",
    "UnknownNameError", "Verification", "check_compatible", "compare", "curve_diagnostics", "default_settings",
    "encode_targets", "get_loss", "get_problem", "load", "loss_names", "losses_table", "plan", "predict", "problem_names",
    "recommend", "run_stored",
    "register_loss", "replicate", "report_html", "run", "save_report", "train", "verify",
]
