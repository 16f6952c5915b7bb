"""`mcr-studio --self-test [--report PATH]`: check that MCR Studio works on this machine, as a
person would use it, without a screen: the main window opens offscreen and opens the demo
library as on a first start (building it when it is missing) with the pack of its space; one
query per modality (a photo, a recording and a 3D scan of the demo world, and a typed sentence)
goes through the Search tab and the window's `Session` on its worker thread, and each result is
checked against the demo world's ground truth (`core/self_check.py` does the checking). Then the
real pack's architectures are built small and run once, so every encoder's code loads here.

The report (plain text, or JSON when PATH ends in .json; by default `self-test.txt` in the user
data folder) is written and printed; the exit status is 0 when every check passed, else 1 with
the reasons. Progress goes to stderr.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer, qVersion
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core import self_check
from core.self_check import Report

OPEN_TIMEOUT_S = 900.0  # the first start builds the demo library (about 15 s on 2 cores)
QUERY_TIMEOUT_S = 180.0
ARCH_TIMEOUT_S = 600.0


class _Silent:
    """Playback that plays nothing: the self-test never makes a sound."""

    def play(self, samples, rate) -> None:
        pass

    def stop(self) -> None:
        pass

    def is_playing(self) -> bool:
        return False


def main(argv: list[str], report_path: str | None = None) -> int:
    """Entry from `desktop.app`: offscreen unless a platform is set, then the self-test."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("MCR Studio")
    app.setOrganizationName("MCR Studio")
    return run_self_test(report_path)


def run_self_test(report_path: str | Path | None = None, *, library: str | Path | None = None,
                  world: str | Path | None = None, architectures: bool = True,
                  echo: Callable[[str], None] | None = None) -> int:
    """Run every check in the running QApplication; returns the exit status (0 or 1).

    `library` and `world` default to the demo library and the demo world it is made of;
    `architectures=False` leaves out the real pack's architectures (tests)."""
    from core.library.locations import demo_library_dir
    from core.library.search import MODALITY_ORDER
    from core.paths import assets_dir
    from desktop.main_window import MainWindow
    from desktop.settings import Settings

    say = echo or (lambda line: print(line, file=sys.stderr, flush=True))
    app = QApplication.instance()
    report = Report()
    report.info["qt"] = f"Qt {qVersion()}, platform {app.platformName()}"
    icon = QIcon(str(assets_dir() / "icons" / "mcr-studio.svg"))
    if app.windowIcon().isNull():
        app.setWindowIcon(icon)
    report.add("icon", not icon.pixmap(64, 64).isNull(),
               "the SVG icon draws" if not icon.pixmap(64, 64).isNull() else
               f"the icon {assets_dir() / 'icons' / 'mcr-studio.svg'} cannot be drawn (is "
               "Qt's SVG plugin missing?)")

    folder = Path(library) if library is not None else demo_library_dir()
    world = Path(world) if world is not None else self_check.demo_world_dir()
    existed = (folder / "catalogue.sqlite").is_file()
    settings = Settings(device=Settings.load().device, library=str(folder),
                        results=self_check.K)
    window = MainWindow(settings, playback_backend=_Silent())
    runner = window.ctx.runner
    errors: dict[int, tuple[BaseException, str]] = {}
    ended: dict[int, str] = {}  # job id -> "done" | "failed" | "cancelled"
    last_stage = [""]

    def on_progress(job, p) -> None:
        if not p.metrics and p.stage != last_stage[0]:
            last_stage[0] = p.stage
            say(f"self-test: {job.name}: {p.stage}")

    runner.progressed.connect(on_progress)
    runner.error.connect(lambda job, err, details: errors.__setitem__(job.id, (err, details)))
    runner.ended.connect(lambda job, how: ended.__setitem__(job.id, how))
    try:
        say(f"self-test: opening the window offscreen ({app.platformName()}) and the library "
            f"{folder}")
        window.show()
        start = time.perf_counter()
        # the window's first job opens the library: it ends "done" with window.info set
        opened = _wait(lambda: window.info is not None
                       or any(how != "done" for how in ended.values()), OPEN_TIMEOUT_S)
        if window.info is None:
            reason = (_last_error(window, say) if opened else
                      f"the library did not open within {OPEN_TIMEOUT_S:.0f} s")
            report.add("window", False, f"{folder}: {reason}", time.perf_counter() - start)
            return _finish(report, report_path, say)
        info = window.info
        held = [m for m in MODALITY_ORDER if m in info.modalities]
        report.info.update(self_check.environment())
        report.info.update({"device": info.device, "pack": info.pack,
                            "library": f"{info.library} ({info.items} items)"})
        report.add("window", window.isVisible(),
                   f"opened offscreen; {'the demo library' if info.demo else 'the library'} "
                   f"{'opened' if existed else 'built and opened'} with {info.items} items "
                   f"({', '.join(f'{info.modalities[m]} {m}' for m in held)}), pack "
                   f"{info.pack} on {info.device}", time.perf_counter() - start)
        session = window.ctx.session
        report.add("library", *self_check.check_library(info.modalities, session.models,
                                                        info.library))
        report.run("pack", lambda: self_check.check_pack(session.models.pack))

        try:
            planned = self_check.plan_queries(world)
            concepts = self_check.ground_truth(world)
        except Exception as err:
            report.add("queries", False, "the demo world's ground truth in "
                                         f"{world}: {self_check.describe_error(err)}")
            return _finish(report, report_path, say)
        tab = window.search_tab
        for p in planned:
            say(f"self-test: {p.name}: {p.describe()}")
            results: list = []

            def shown(result, results=results) -> None:
                results.append(result)

            tab.searched.connect(shown)
            before = set(ended)
            start = time.perf_counter()
            if p.text is not None:
                tab.search_text(p.text)
            else:
                tab.search_files([p.path])

            def failed(before=before) -> int | None:
                return next((i for i, how in ended.items()
                             if i not in before and how != "done"), None)

            finished = _wait(lambda failed=failed, results=results:
                             bool(results) or failed() is not None, QUERY_TIMEOUT_S)
            tab.searched.disconnect(shown)
            seconds = time.perf_counter() - start
            if results:
                ok, detail = self_check.check_query(p, results[0], held, concepts,
                                                    self_check.K)
            elif finished and failed() in errors:  # a job without its own error handler
                err, details = errors[failed()]
                say(details)
                ok, detail = False, f"{p.describe()}: {self_check.describe_error(err)}"
            elif finished:  # the search tab handled it: the notification it showed
                ok, detail = False, f"{p.describe()}: {_last_error(window, say)}"
            else:
                ok, detail = False, f"{p.describe()}: no results within {QUERY_TIMEOUT_S:.0f} s"
            report.add(p.name, ok, detail, seconds)
        report.add("encoders", *self_check.encoders_used(session.models, planned))

        if architectures:
            say("self-test: building the real pack's architectures (small, random weights)")
            done: list = []
            device = session.models.device
            window.ctx.run("checking the architectures",
                           lambda progress, cancel: self_check.check_architectures(device),
                           on_done=done.append,
                           on_error=lambda err, details: done.append((err, details)))
            if not _wait(lambda: bool(done), ARCH_TIMEOUT_S):
                report.add("architectures", False, f"not done within {ARCH_TIMEOUT_S:.0f} s")
            elif isinstance(done[0], Report):
                report.checks.extend(done[0].checks)
            else:
                say(done[0][1])
                report.add("architectures", False, self_check.describe_error(done[0][0]))
        return _finish(report, report_path, say)
    finally:
        window.close()


def _wait(done: Callable[[], bool], timeout_s: float) -> bool:
    """Run the event loop until `done()` or the timeout; returns done()."""
    if done():
        return True
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: loop.quit() if done() or time.monotonic() > deadline
                          else None)
    timer.start()
    loop.exec()
    timer.stop()
    return done()


def _last_error(window, say) -> str:
    """The reason the window shows for a failure (its newest error notification)."""
    for banner in reversed(window.notifications.banners):
        if banner.level == "error" and banner.details_view is not None:
            say(banner.details_view.toPlainText())
            break
    texts = [text for level, text in window.notifications.history if level == "error"]
    return texts[-1] if texts else "it failed without saying why"


def _finish(report: Report, report_path, say) -> int:
    text = report.text()
    try:
        written = report.write(report_path or self_check.default_report_path())
        text += f"Report written to {written}\n"
    except OSError as err:
        report.add("report", False, f"cannot write the report ({err})")
        text = report.text()
    sys.stdout.write(text)
    sys.stdout.flush()
    say(f"self-test: {'passed' if report.ok else 'FAILED'}")
    return 0 if report.ok else 1
