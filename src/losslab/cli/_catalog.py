"""``losslab losses`` and ``losslab problems``: the catalogues, with only what they need imported
(the registry and the problems; not the engine, the statistics, the figures or the store)."""

from __future__ import annotations

import re

from losslab.cli._render import console, frame_table, print_json, table
from losslab.planning import default_settings
from losslab.problems import get_problem, problem_names
from losslab.registry import losses_table


def show_losses(as_json: bool) -> None:
    frame = losses_table()
    if as_json:
        print_json(frame)
        return
    # Keras class names (MeanSquaredError, ...) are accepted too; the table shows the short aliases
    frame["aliases"] = [", ".join(a for a in aliases.split(", ") if not re.search("[A-Z]", a)) for aliases in frame["aliases"]]
    console.print(frame_table("Losses (Keras class names such as MeanSquaredError are accepted too)", frame,
                              ["loss", "kind", "output layer", "targets", "metric", "aliases"]))


def show_problems(as_json: bool) -> None:
    rows = []
    for name in problem_names():
        problem = get_problem(name)
        settings = default_settings(problem)
        rows.append({**problem.summary(), "hidden": ",".join(map(str, settings.hidden)), "epochs": settings.epochs})
    if as_json:
        print_json(rows)
        return
    columns = ["problem", "kind", "n_classes", "features", "train", "test", "hidden", "epochs", "description"]
    console.print(table("Problems", columns, ([row[c] for c in columns] for row in rows)))
