"""A claim of the tutorial's prose, the experiment that tests it, and its verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from losslab.engine import Progress

#: The verdicts a claim can get.
VERDICTS = ("supported", "not supported", "depends")


@dataclass
class Context:
    """What every experiment is given: the paired seeds per configuration (``repeats``), the folder
    for its figure, and a progress callback (``progress(done, total, what)``)."""

    repeats: int
    out: Path
    progress: Progress | None = None
    quick: bool = False  # a small version of the design, for tests: fewer epochs and settings


@dataclass
class Finding:
    """What an experiment found: ``verdict`` (one of :data:`VERDICTS`; ``depends`` names what it
    depends on in ``summary``), one ``summary`` sentence with the numbers, the ``numbers``
    themselves (plain values or records) and the ``figure`` it drew."""

    verdict: str
    summary: str
    numbers: dict[str, object]
    figure: Path | None = None

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"a verdict is one of {', '.join(VERDICTS)}, got {self.verdict!r}")


@dataclass(frozen=True)
class ClaimSpec:
    """A claim: its number, key, the tutorial's words, the design in one sentence, and the
    experiment that tests it."""

    number: int
    key: str
    quote: str
    design: str
    experiment: Callable[[Context], Finding]


@dataclass
class Claim:
    """A claim tested: the spec's text and the finding, as plain values for tables and JSON."""

    number: int
    key: str
    quote: str
    design: str
    verdict: str
    summary: str
    numbers: dict[str, object] = field(default_factory=dict)
    figure: Path | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        from losslab._plain import plain

        return plain({"number": self.number, "key": self.key, "quote": self.quote, "design": self.design,
                      "verdict": self.verdict, "summary": self.summary, "numbers": self.numbers,
                      "figure": str(self.figure) if self.figure else None, "seconds": round(self.seconds, 1)})


CLAIMS: list[ClaimSpec] = []


def claim(number: int, key: str, quote: str, design: str) -> Callable[[Callable[[Context], Finding]], Callable]:
    """Register the decorated experiment as claim ``number``."""
    def register(experiment: Callable[[Context], Finding]) -> Callable[[Context], Finding]:
        CLAIMS.append(ClaimSpec(number, key, quote, design, experiment))
        CLAIMS.sort(key=lambda spec: spec.number)
        return experiment
    return register
