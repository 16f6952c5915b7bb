"""Long work off the event loop: one worker thread runs engine calls one at a time (one GPU job
at a time), reports their progress with signals, and can pause or cancel the running one.

A job is `fn(progress, cancel) -> result`, a plain call into `core/`. Its callbacks run on the
GUI thread. A job submitted with a `group` replaces a job of the same group still waiting (a
new search makes the one typed a second ago pointless), never the one running.
"""

from __future__ import annotations

import itertools
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from core.errors import Cancelled
from core.progress import CancelToken, Progress


@dataclass
class Job:
    id: int
    name: str  # in words, for the status bar: "adding files"
    fn: Callable
    on_done: Callable | None = None
    on_error: Callable | None = None  # (exception, details) -> None; else the runner's
    on_progress: Callable | None = None
    group: str | None = None
    token: CancelToken | None = None


class _Worker(QObject):
    progressed = Signal(int, object)
    done = Signal(int, object)
    failed = Signal(int, object, str)

    @Slot(object)
    def run(self, job: Job) -> None:
        def progress(p: Progress) -> None:
            self.progressed.emit(job.id, p)

        try:
            result = job.fn(progress, job.token.is_set)
        except Exception as err:  # handed to the GUI thread, shown as a notification
            self.failed.emit(job.id, err, traceback.format_exc())
            return
        self.done.emit(job.id, result)


class JobRunner(QObject):
    started = Signal(object)  # Job
    progressed = Signal(object, object)  # Job, Progress
    ended = Signal(object, str)  # Job, "done" | "failed" | "cancelled"
    error = Signal(object, object, str)  # Job, exception, details: when the job has no on_error
    _run = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._waiting: deque[Job] = deque()
        self._jobs: dict[int, Job] = {}
        self.current: Job | None = None
        self._thread = QThread()
        self._thread.setObjectName("mcr-engine")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._run.connect(self._worker.run)
        self._worker.progressed.connect(self._on_progress)
        self._worker.done.connect(self._on_done)
        self._worker.failed.connect(self._on_failed)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:  # quitting without closing the window must still stop the thread
            app.aboutToQuit.connect(self.shutdown)

    def submit(self, name: str, fn: Callable, *, on_done: Callable | None = None,
               on_error: Callable | None = None, on_progress: Callable | None = None,
               group: str | None = None) -> Job:
        job = Job(next(self._ids), name, fn, on_done, on_error, on_progress, group,
                  CancelToken())
        if group is not None:
            for old in [j for j in self._waiting if j.group == group]:
                self._waiting.remove(old)
                self._jobs.pop(old.id, None)
        self._jobs[job.id] = job
        self._waiting.append(job)
        self._next()
        return job

    @property
    def busy(self) -> bool:
        return self.current is not None

    def waiting(self) -> list[Job]:
        return list(self._waiting)

    def cancel(self, job: Job | None = None) -> None:
        """Cancel `job` (default: the running one); a waiting job is simply dropped."""
        job = job or self.current
        if job is None:
            return
        if job in self._waiting:
            self._waiting.remove(job)
            self._jobs.pop(job.id, None)
            self.ended.emit(job, "cancelled")
            return
        job.token.set()

    def pause(self) -> None:
        if self.current is not None:
            self.current.token.pause()

    def resume(self) -> None:
        if self.current is not None:
            self.current.token.resume()

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Cancel everything and stop the thread (on closing the window)."""
        if not self._thread.isRunning():
            return
        self._waiting.clear()
        if self.current is not None:
            self.current.token.set()
        self._thread.quit()
        self._thread.wait(wait_ms)

    # ------------------------------------------------------------------ internals
    def _next(self) -> None:
        if self.current is not None or not self._waiting:
            return
        self.current = self._waiting.popleft()
        self.started.emit(self.current)
        self._run.emit(self.current)

    def _finish(self, job_id: int) -> Job | None:
        job = self._jobs.pop(job_id, None)
        if self.current is not None and self.current.id == job_id:
            self.current = None
        return job

    @Slot(int, object)
    def _on_progress(self, job_id: int, p: Progress) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            return
        if job.on_progress is not None:
            job.on_progress(p)
        self.progressed.emit(job, p)

    @Slot(int, object)
    def _on_done(self, job_id: int, result) -> None:
        job = self._finish(job_id)
        try:
            if job is not None:
                self.ended.emit(job, "done")
                if job.on_done is not None:
                    job.on_done(result)
        finally:
            self._next()

    @Slot(int, object, str)
    def _on_failed(self, job_id: int, err: Exception, details: str) -> None:
        job = self._finish(job_id)
        try:
            if job is None:
                return
            cancelled = isinstance(err, Cancelled)
            self.ended.emit(job, "cancelled" if cancelled else "failed")
            if job.on_error is not None:
                job.on_error(err, details)
            elif not cancelled:
                self.error.emit(job, err, details)
        finally:
            self._next()
