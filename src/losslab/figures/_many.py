"""Many figures at once: only those whose inputs changed, drawn here and in one worker process.

**Only what changed.** Each PNG records (in a text chunk) a fingerprint of what it was drawn
from: the plot function, its arguments (tables and arrays by content), this package's code,
and the versions and settings of matplotlib, NumPy and pandas. A figure whose file already holds
the fingerprint of the figure asked for is the same figure, pixel for pixel, since drawing is
deterministic; it is kept (and its time stamp renewed) instead of drawn again. A command run
again on the same studies (all runs reused) therefore redraws nothing; any change of data,
title, code or style, or a file damaged, missing or written by something else, draws the figure
anew.

**Two at a time.** Drawing a figure is Python and Agg code that holds the interpreter's lock,
so threads draw one figure at a time; a second process draws beside this one when a second
core is free (:func:`_workers`). The worker is a fresh interpreter (``python -m
losslab.figures._many``) that imports matplotlib and pandas, never the engine, and is told what
to draw over a pipe: a plot function of this package and its arguments, pickled; it answers with
the PNG's bytes, which this process writes atomically. It is not started through
:mod:`multiprocessing`, whose workers import the caller's main script again (a user's script
that calls :func:`~losslab.outputs.save_replication` at its top level would run twice). This
process takes figures from the front of the list and the worker from the back, so that neither
waits for the other; the worker takes none until it has started, and a figure it could not draw
(it failed to start, died, or was given something it cannot unpickle) is drawn here, where its
error, if any, is raised. A command that will draw many figures starts the worker as it begins
(:mod:`losslab.figures._early`), and the drawing takes that one instead of starting its own.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import sys
import threading
import warnings
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from losslab._files import atomic_write
from losslab.figures import _early
from losslab.figures._canvas import PNG_TEXT

if TYPE_CHECKING:
    import subprocess

#: Fewer figures to draw than this are all drawn here: the worker takes about as long to start
#: (a Python with pandas and matplotlib) as three figures take to draw.
MIN_FIGURES = 6
WORKERS_VARIABLE = _early.WORKERS_VARIABLE
#: The PNG text chunk that holds a figure's fingerprint.
FINGERPRINT = "losslab inputs"


@dataclass(frozen=True)
class Job:
    """One figure: ``plot(*args, path)``, ``plot`` being one of this package's plot functions."""

    plot: Callable[..., object]
    args: tuple[Any, ...]
    path: Path
    fingerprint: str | None = None


def draw_all(jobs: Sequence[Job]) -> list[Path]:
    """Write every job's figure to its path, drawing only those not already there
    (:data:`FINGERPRINT`), beside a worker process when there are enough of them
    (:data:`MIN_FIGURES`) and a second core to draw on. Warnings the worker met while drawing
    are issued here, as if the figure had been drawn here. Returns the paths drawn."""
    style = _style()
    todo = []
    for job in jobs:
        job = dataclasses.replace(job, fingerprint=fingerprint(job.plot, job.args, style))
        if job.fingerprint is None or drawn_from(job.path) != job.fingerprint or not _touch(job.path):
            todo.append(job)
    pending = deque(todo)
    lock = threading.Lock()

    def take(last: bool) -> Job | None:
        with lock:
            return (pending.pop() if last else pending.popleft()) if pending else None

    def give_back(job: Job) -> None:
        with lock:
            pending.appendleft(job)  # at the front, where this process takes the next figure

    since, first, helper, early = _cpu_times(), True, None, _early.claim()
    try:
        while (job := take(last=False)) is not None:
            _draw(job)
            if first and len(pending) >= MIN_FIGURES - 1 and _workers(since) > 0:  # decided once: was the
                helper = _Helper(take, give_back, style, early)  # machine idle while this process drew its first?
                early = None
                helper.start()
            first = False
    except BaseException:  # an error or Ctrl-C here: the worker stops too, writing nothing more
        if helper is not None:
            with lock:
                pending.clear()
            helper.finish(stop=True)
        raise
    finally:
        if early is not None:  # started early for figures this process drew alone
            _early.end(early, kill=True)
    if helper is not None:
        helper.finish()
        for category, message in helper.warnings:
            warnings.warn(message, category, stacklevel=2)
        while (job := take(last=False)) is not None:  # what the worker gave back
            _draw(job)
    return [job.path for job in todo]


def _touch(path: Path) -> bool:
    """Renew the time stamp of a figure kept as it is (written again, it would be the same
    bytes), so that it reads as the latest command's like every other file; False if it cannot."""
    try:
        os.utime(path)
    except OSError:
        return False
    return True


def _draw(job: Job, path: object = None) -> None:
    """Draw ``job`` to ``path`` (its own by default), its fingerprint written into the PNG."""
    token = PNG_TEXT.set({FINGERPRINT: job.fingerprint} if job.fingerprint else {})
    try:
        job.plot(*job.args, job.path if path is None else path)
    finally:
        PNG_TEXT.reset(token)


# ------------------------------------------------------------------------------- fingerprints


def fingerprint(plot: Callable[..., object], args: tuple[Any, ...], style: Mapping[str, object]) -> str | None:
    """A SHA-256 of everything ``plot(*args, path)`` draws from (see the module's description);
    None when an argument is of a kind it cannot read by content, so that the figure is drawn."""
    digest = hashlib.sha256(_code().encode())
    digest.update(f"{plot.__module__}.{plot.__qualname__}\n{sorted(style.items())!r}".encode())
    try:
        _digest(args, digest)
    except TypeError:
        return None
    return digest.hexdigest()


def drawn_from(path: Path) -> str | None:
    """The fingerprint recorded in the PNG at ``path``; None when there is none (or no PNG)."""
    from PIL import Image

    try:
        with Image.open(path) as image:  # reads the chunks before the pixels
            recorded = image.info.get(FINGERPRINT) if image.format == "PNG" else None
            if recorded is not None:
                image.verify()  # and every chunk's checksum, without decoding the pixels: a damaged file is drawn again
            return recorded
    except (OSError, ValueError, SyntaxError):
        return None


@functools.cache
def _code() -> str:
    """This package's source and the versions of what draws: a change to any redraws."""
    import matplotlib
    import PIL

    digest = hashlib.sha256(f"{matplotlib.__version__} {np.__version__} {pd.__version__} {PIL.__version__}".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + source.read_bytes())
    return digest.hexdigest()


def _digest(value: object, digest: Any) -> None:
    """Feed ``value`` into ``digest`` by type and content; TypeError for a kind it cannot read."""
    digest.update(type(value).__qualname__.encode() + b":")
    if value is None or isinstance(value, bool | int | float | complex | str | bytes | np.generic):
        digest.update(repr(value).encode())
    elif isinstance(value, pd.DataFrame):
        digest.update(repr((list(value.columns), [str(t) for t in value.dtypes], value.shape)).encode())
        digest.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    elif isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("an array of objects")
        digest.update(repr((value.dtype.str, value.shape)).encode() + np.ascontiguousarray(value).tobytes())
    elif isinstance(value, tuple | list):
        digest.update(str(len(value)).encode())
        for item in value:
            _digest(item, digest)
    elif isinstance(value, Mapping):
        digest.update(str(len(value)).encode())
        for key in sorted(value, key=repr):
            _digest(key, digest)
            _digest(value[key], digest)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            digest.update(item.name.encode())
            _digest(getattr(value, item.name), digest)
    else:
        raise TypeError(f"cannot fingerprint a {type(value).__qualname__}")


def _style() -> dict[str, object]:
    """This process's matplotlib settings, for the fingerprints and for the worker to draw alike."""
    import matplotlib

    return {key: value for key, value in matplotlib.rcParams.items() if not key.startswith("backend")}


# ------------------------------------------------------------------------------------ the worker


def _workers(since: tuple[int, int] | None) -> int:
    """Worker processes to draw beside this one: one where a worker may be started
    (:func:`~losslab.figures._early.can_start`) and a second core is free.

    A core is free when this process may use two or more and the machine's cores were idle half
    a core's worth or more since ``since`` (:func:`_cpu_times`, taken before this process drew
    its first figure: one core is this process's own); without ``/proc/stat``, when the one-minute
    load average is below the number of cores. On a busy machine a worker only adds its start-up:
    drawing two at a time was slower there (5.5 s instead of 3.9 s for the replication's 14
    figures, at a load of 3 to 6 on 2 cores; 1.9-2.1 s instead of 2.4-2.8 s idle)."""
    if not _early.can_start():
        return 0
    cores, now = os.cpu_count() or 1, _cpu_times()
    if since is not None and now is not None and now[1] > since[1]:
        return 1 if cores * (now[0] - since[0]) / (now[1] - since[1]) >= 0.5 else 0
    try:
        return 1 if os.getloadavg()[0] < cores else 0
    except (AttributeError, OSError):  # no load average either (Windows): assume the cores are free
        return 1


def _cpu_times() -> tuple[int, int] | None:
    """The machine's idle and total CPU time since it started, in clock ticks (``/proc/stat``,
    Linux); None where there is no such file."""
    try:
        with open("/proc/stat", "rb") as stat:
            ticks = [int(field) for field in stat.readline().split()[1:9]]  # user nice system idle iowait irq softirq steal
    except (OSError, ValueError):
        return None
    return ticks[3] + ticks[4], sum(ticks)


class _Helper(threading.Thread):
    """A thread that starts the worker process (or takes ``process``, one started early), feeds
    it figures from the back of the list once it is ready, and writes what it draws; a job it
    could not get drawn it gives back."""

    def __init__(self, take: Callable[[bool], Job | None], give_back: Callable[[Job], None],
                 style: dict[str, object], process: subprocess.Popen | None = None) -> None:
        super().__init__(name="losslab-figures", daemon=True)
        self.take, self.give_back, self.style = take, give_back, style
        self.warnings: list[tuple[type[Warning], str]] = []
        self.ready = threading.Event()
        self.process = process

    def finish(self, stop: bool = False) -> None:
        """Wait for the figure the worker is drawing (``stop``: stop it instead); a worker still
        starting is stopped, as there is nothing left for it to draw."""
        if (stop or not self.ready.is_set()) and self.process is not None:
            self.process.kill()
        self.join()

    def run(self) -> None:
        if self.process is None:
            self.process = _early.launch()
        if (process := self.process) is None:
            return
        try:
            process.stdin.write(pickle.dumps(self.style, protocol=pickle.HIGHEST_PROTOCOL))
            process.stdin.flush()
            if pickle.load(process.stdout) != "ready":
                return
            self.ready.set()
            while (job := self.take(True)) is not None:
                try:
                    request = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception:  # noqa: BLE001 - what cannot travel is drawn here
                    self.give_back(job)
                    continue
                try:
                    process.stdin.write(request)
                    process.stdin.flush()
                    ok, answer, caught = pickle.load(process.stdout)
                except (OSError, EOFError, pickle.UnpicklingError):
                    self.give_back(job)  # the worker is gone: the rest is drawn here
                    return
                if not ok:
                    self.give_back(job)  # drawn here again, so that its error is raised here
                    return
                self.warnings.extend(caught)
                atomic_write(job.path, lambda tmp, data=answer: tmp.write_bytes(data))
        except (OSError, EOFError, pickle.UnpicklingError):
            return
        finally:
            _early.end(process)


def _serve() -> None:
    """The worker: take matplotlib's settings, say it is ready, then draw each job asked for
    into PNG bytes until its input ends; answer ``(True, png, warnings)`` or ``(False, what went
    wrong, warnings)``. Its standard output is the answers' pipe only: whatever else would be
    printed there goes to standard error."""
    import io

    import matplotlib

    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer

    def answer(value: object) -> None:
        answers.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        answers.flush()

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            matplotlib.rcParams.update(pickle.load(requests))
    except EOFError:  # started early and never used: the command ended, or drew its figures alone
        return
    except Exception as exc:  # noqa: BLE001 - a style it cannot take: the caller draws everything itself
        answer(f"not ready: {exc!r}")
        return
    answer("ready")
    while True:
        try:
            job = pickle.load(requests)
        except EOFError:
            return
        except Exception as exc:  # noqa: BLE001 - a job it cannot unpickle (a function it cannot import)
            answer((False, repr(exc), []))
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                buffer = io.BytesIO()
                _draw(job, buffer)
                result: tuple[bool, object] = (True, buffer.getvalue())
            except Exception as exc:  # noqa: BLE001 - reported; the caller draws the figure again and raises
                result = (False, repr(exc))
        answer((*result, [(_travelling(w.category), str(w.message)) for w in caught]))


def _travelling(category: type[Warning]) -> type[Warning]:
    """``category``, or UserWarning when it cannot be pickled (a class made inside a function)."""
    try:
        pickle.dumps(category)
    except Exception:  # noqa: BLE001
        return UserWarning
    return category


if __name__ == "__main__":
    try:
        _serve()
    except BrokenPipeError:  # the command ended (Ctrl-C) while this drew its figure: no one to answer
        os._exit(0)  # quietly, without flushing the answer into the closed pipe again at exit
