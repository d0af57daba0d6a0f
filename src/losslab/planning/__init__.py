"""The plan stage: a study's losses, seeds, settings, model and targets, resolved and checked once.

``plan(problem, losses, seeds, settings)`` returns a :class:`StudyPlan`, which the engine trains
without checking again. ``default_settings(problem)`` is what a plan uses when it is given no
settings; the memory a study needs is estimated here, before anything is allocated.
"""

from __future__ import annotations

from losslab.planning._defaults import OWN_DATA_UPDATES, TUTORIAL_SETTINGS, default_settings, own_data_settings
from losslab.planning._memory import (
    EVAL_ROWS,
    StudySize,
    check_memory,
    epoch_block,
    eval_block_rows,
    estimate_bytes,
    memory_budget,
)
from losslab.planning._plan import ACCELERATOR_CHUNK, CHUNK, StudyPlan, Targets, default_chunk, plan, usable_losses
from losslab.planning._splits import Rows, SplitDesign, parse_split, split_design

__all__ = [
    "ACCELERATOR_CHUNK", "CHUNK", "EVAL_ROWS", "OWN_DATA_UPDATES", "Rows", "SplitDesign", "StudyPlan", "StudySize", "TUTORIAL_SETTINGS", "Targets", "check_memory",
    "default_chunk", "default_settings", "epoch_block", "estimate_bytes", "eval_block_rows", "memory_budget", "own_data_settings", "parse_split", "plan",
    "split_design", "usable_losses",
]
