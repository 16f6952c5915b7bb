"""The one way long calls report progress and honour cancellation.

A long engine call takes `progress` (called with `Progress` records) and `cancel` (polled;
True means stop) and builds a `Tracker` from them. The CLI passes `console_progress()`; the GUI
passes a function that emits a Qt signal and a `CancelToken.is_set`. Neither knows the other.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from core.errors import Cancelled


@dataclass(frozen=True)
class Progress:
    stage: str
    done: int
    total: int | None
    message: str = ""
    # Figures a trainer reports at the end of an epoch (e.g. {"epoch": 3, "loss": 1.2,
    # "held_out_r1": 0.6}), for live plots; None on ordinary progress records.
    metrics: Mapping[str, float] | None = None

    @property
    def fraction(self) -> float | None:
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressFn = Callable[[Progress], None]
CancelFn = Callable[[], bool]


class CancelToken:
    """A thread-safe flag: the GUI sets it, the worker's engine call polls `is_set`.

    It also pauses: while paused, `is_set` (called by the engine between steps) waits until
    the job is resumed or cancelled, so any long call can be paused where it polls."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def set(self) -> None:
        self._event.set()
        self._running.set()  # a paused job wakes up to see that it is cancelled

    def pause(self) -> None:
        if not self._event.is_set():
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def is_set(self) -> bool:
        while not self._running.wait(0.1):
            pass
        return self._event.is_set()


class Tracker:
    """Counts work in named stages, forwards it to `progress`, raises `Cancelled` on request."""

    def __init__(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None):
        self._progress = progress
        self._cancel = cancel
        self._stage = ""
        self._done = 0
        self._total: int | None = None

    def start(self, stage: str, total: int | None = None, message: str = "") -> None:
        self.check()
        self._stage, self._done, self._total = stage, 0, total
        self._emit(message)

    def advance(self, n: int = 1, message: str = "") -> None:
        self.check()
        self._done += n
        self._emit(message)

    def report(self, metrics: Mapping[str, float], message: str = "") -> None:
        """Send figures (an epoch's loss, a held-out score) along with the current progress."""
        self.check()
        if self._progress is not None:
            self._progress(Progress(self._stage, self._done, self._total, message,
                                    dict(metrics)))

    def cancelled(self) -> bool:
        return self._cancel is not None and bool(self._cancel())

    def check(self) -> None:
        if self.cancelled():
            raise Cancelled(f"Cancelled during {self._stage or 'start-up'}")

    def _emit(self, message: str) -> None:
        if self._progress is not None:
            self._progress(Progress(self._stage, self._done, self._total, message))


def console_progress(stream=None, min_interval: float = 0.1) -> ProgressFn:
    """A progress function that draws one bar per stage on a terminal; elsewhere (logs, CI) it
    prints a line when a stage starts, at every tenth of it, and when it ends."""
    out = stream if stream is not None else sys.stderr
    state = {"stage": None, "last": 0.0, "tenth": -1}
    tty = hasattr(out, "isatty") and out.isatty()

    def show(p: Progress) -> None:
        now = time.monotonic()
        new_stage = p.stage != state["stage"]
        finished = p.total is not None and p.done >= p.total
        tenth = int(p.fraction * 10) if p.fraction is not None else -1
        if tty:
            if not (new_stage or finished or now - state["last"] >= min_interval):
                return
            if new_stage and state["stage"] is not None:
                out.write("\n")
            out.write("\r" + _bar_line(p) + ("\n" if finished else ""))
        elif new_stage or finished or tenth > state["tenth"]:
            out.write(_bar_line(p) + "\n")
        state["stage"] = None if (finished and tty) else p.stage
        state["last"], state["tenth"] = now, tenth
        out.flush()

    return show


def _bar_line(p: Progress, width: int = 30) -> str:
    if p.fraction is None:
        count = f": {p.done}" if p.done else "..."
        return f"{p.stage}{count} {p.message}".rstrip()
    filled = int(round(p.fraction * width))
    bar = "#" * filled + "-" * (width - filled)
    return f"{p.stage:<24} [{bar}] {p.done}/{p.total} {p.message}".rstrip()
