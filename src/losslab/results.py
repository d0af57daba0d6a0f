"""Results: the tidy tables a study produces, and writing them to files.

``history`` has one row per run, epoch and split (long format, easy to group and plot):

=================  ======================================================================
column             meaning
=================  ======================================================================
problem            problem name
loss               canonical loss name
seed               the run's seed (paired across losses)
epoch              1..epochs, evaluated after the epoch's updates
split              ``"train"`` or ``"test"``
loss_value         the loss on the whole split (mean of per-sample losses, Keras form)
metric             ``"accuracy"`` or ``"mse"``
metric_value       the metric on the whole split
rounding_accuracy  one-unit classifiers only: the tutorial's Keras ``round(output) == label``
=================  ======================================================================

``runs`` has one row per run: ``problem, loss, seed, diverged, diverged_epoch`` and the final
``train_loss, test_loss, train_metric, test_metric, metric`` (plus ``train_rounding_accuracy``
and ``test_rounding_accuracy``, and for a regression target that was scaled,
``train_metric_target_units`` and ``test_metric_target_units``: the MSE times
``problem.target_scale**2``). A diverged run has NaN from its ``diverged_epoch`` on.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from losslab.errors import LosslabError
from losslab.problems import Problem
from losslab.settings import Settings

HISTORY_COLUMNS = (
    "problem", "loss", "seed", "epoch", "split", "loss_value", "metric", "metric_value", "rounding_accuracy",
)
RUN_COLUMNS = (
    "problem", "loss", "seed", "diverged", "diverged_epoch", "metric",
    "train_loss", "test_loss", "train_metric", "test_metric", "train_rounding_accuracy", "test_rounding_accuracy",
    "train_metric_target_units", "test_metric_target_units",
)


@dataclass
class Study:
    """Every run of one problem: losses x seeds under one set of settings."""

    problem: Problem
    settings: Settings
    losses: tuple[str, ...]
    seeds: tuple[int, ...]
    history: pd.DataFrame
    runs: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return len(self.runs)

    def final(self, loss: str, column: str = "test_metric") -> pd.Series:
        """``column`` of every run of ``loss``, indexed by seed (for paired comparisons)."""
        rows = self.runs[self.runs["loss"] == loss]
        return rows.set_index("seed")[column].sort_index()

    def metadata(self) -> dict[str, object]:
        """What produced these results: problem, preparation, settings, losses, seeds, timings."""
        return {
            "problem": self.problem.name,
            "kind": self.problem.kind,
            "n_classes": self.problem.n_classes,
            "n_train": self.problem.n_train,
            "n_test": self.problem.n_test,
            "preparation": dict(self.problem.preparation),
            "settings": asdict(self.settings),
            "losses": list(self.losses),
            "seeds": list(self.seeds),
            "timings": self.timings,
        }

    def save(self, out_dir: str | Path, stem: str = "study") -> list[Path]:
        """Write history (Parquet and CSV), runs (CSV) and metadata (JSON) under ``out_dir``.

        Each file is written to a temporary name and renamed when complete, so an interrupted
        write never leaves a partial file under the final name.
        """
        out = ensure_out_dir(out_dir)
        written = [
            _atomic(out / f"{stem}_history.parquet", lambda p: self.history.to_parquet(p, index=False)),
            _atomic(out / f"{stem}_history.csv", lambda p: self.history.to_csv(p, index=False)),
            _atomic(out / f"{stem}_runs.csv", lambda p: self.runs.to_csv(p, index=False)),
            _atomic(out / f"{stem}.json", lambda p: p.write_text(json.dumps(self.metadata(), indent=2, default=str))),
        ]
        return written


def ensure_out_dir(out_dir: str | Path) -> Path:
    """Create ``out_dir`` if needed and check it is writable; a clear error if not."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".losslab-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise LosslabError(f"cannot write to the output directory {str(out)!r} ({exc.strerror}); choose another --out") from exc
    return out


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(path.name + ".partial")
    write(tmp)
    tmp.replace(path)
    return path
