"""The figure worker's process, started before it is needed.

:func:`~losslab.figures._many.draw_all` draws beside one worker process, a fresh Python that
takes about 0.6 s to import matplotlib and pandas. Started when the drawing starts, the worker
is ready only after the command has drawn three or four figures alone. A command that knows it
will draw many figures (``losslab replicate``: 14) starts it with :func:`start` as the command
begins, while this process imports its own modules on one core and the other core is free; the
drawing then claims it (:func:`claim`), or :func:`stop` ends it unused. This module imports
nothing heavy, so that the worker starts before this process's own imports.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: ``LOSSLAB_FIGURE_WORKERS=0`` draws every figure in the calling process.
WORKERS_VARIABLE = "LOSSLAB_FIGURE_WORKERS"
#: The worker's module: ``python -m`` runs its ``_serve``.
WORKER_MODULE = "losslab.figures._many"

_STARTED: list[subprocess.Popen] = []  # at most one, started early and not yet claimed


def can_start() -> bool:
    """Whether a worker may be started at all: not turned off (:data:`WORKERS_VARIABLE`), this
    process runs in a Python interpreter it can start again (not one embedded in a server), and
    it may use two cores or more."""
    if os.environ.get(WORKERS_VARIABLE, "").strip() == "0":
        return False
    if not Path(sys.executable or "").name.lower().startswith(("python", "pypy")):
        return False
    return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) >= 2


def launch() -> subprocess.Popen | None:
    """A new worker process, importing this very losslab, talking over its standard input and
    output; None when it cannot be started. It has a process group of its own, so that Ctrl-C in
    the terminal interrupts the command only: the worker ends when its input does, quietly,
    instead of printing a KeyboardInterrupt of its own after the command's last line."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    try:
        return subprocess.Popen([sys.executable, "-m", WORKER_MODULE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                env=env, process_group=0)
    except OSError:
        return None


def start() -> None:
    """Start a worker now for the figures to come, where one may be started."""
    if not _STARTED and can_start() and (process := launch()) is not None:
        _STARTED.append(process)


def claim() -> subprocess.Popen | None:
    """The worker started early, now the caller's to use and end; None if there is none."""
    return _STARTED.pop() if _STARTED else None


def stop() -> None:
    """End a worker started early and never claimed (the command drew few figures, or failed)."""
    while _STARTED:
        end(_STARTED.pop(), kill=True)


def end(process: subprocess.Popen, kill: bool = False) -> None:
    """Close the worker's pipes (it exits when its input ends) and wait for it; ``kill`` first."""
    if kill:
        process.kill()
    for stream in (process.stdin, process.stdout):
        try:
            stream.close()
        except OSError:
            pass
    process.wait()
