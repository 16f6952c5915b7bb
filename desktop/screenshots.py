"""Screenshots of every tab for the README, taken of the real window (run under Xvfb by
scripts/screenshots): python -m desktop.screenshots OUT_DIR [--no-training]

It opens the window on the demo library (building it the first time), searches with one of the
plant's photos, shows the results as a grid and on the map, the Library tab after a verify, and
the Training tab after the Ex-MCR alignment (default settings) and after a short continual step
(6 epochs), each with its plots and table. The trained versions go to MCR_STUDIO_HOME's packs
(scripts/screenshots points it at a folder of its own)."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from core.library.demo import SPLIT
    from core.paths import assets_dir, default_world_dir
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from desktop.theme import apply_theme

    args = list(sys.argv[1:] if argv is None else argv)
    training = "--no-training" not in args
    args = [a for a in args if not a.startswith("--")]
    out = Path(args[0] if args else "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    app.setWindowIcon(QIcon(str(assets_dir() / "icons" / "mcr-studio.svg")))
    apply_theme(app, "light")
    window = MainWindow(Settings(results=6))
    window.resize(1280, 800)
    window.show()
    photos = default_world_dir("full", 0, SPLIT) / SPLIT / "photos"
    failures: list[str] = []
    window.ctx.runner.error.connect(lambda job, err, details: failures.append(str(err)))

    def shoot(name: str) -> None:
        path = out / f"{name}.png"
        window.grab().save(str(path))
        print(path, flush=True)

    def after(ms: int, fn) -> None:
        QTimer.singleShot(ms, fn)

    def opened(_info) -> None:
        window.ctx.listeners.remove(opened)
        window.search_tab.searched.connect(searched)
        window.search_tab.search_files([sorted(photos.iterdir())[12]])

    def searched(_result) -> None:
        window.search_tab.searched.disconnect(searched)
        after(300, lambda: (shoot("search-grid"), window.search_tab.show_view(2)))
        window.search_tab.map_ready.connect(mapped)

    def mapped() -> None:
        after(300, lambda: (shoot("search-map"), window.search_tab.show_view(0),
                            window.tabs.setCurrentWidget(window.library_tab),
                            window.library_tab.verify()))
        window.library_tab.report_shown.connect(verified)

    def verified(_report) -> None:
        after(500, lambda: (shoot("library"), train()))

    def train() -> None:
        tab = window.training_tab
        window.tabs.setCurrentWidget(tab)
        if not training:
            after(300, lambda: (shoot("training"), app.quit()))
            return
        tab.kind.setCurrentIndex(tab.kind.findData("align"))
        tab.finished.connect(aligned)
        tab.start.click()

    def aligned(_result) -> None:
        tab = window.training_tab
        tab.finished.disconnect(aligned)
        after(500, lambda: (shoot("training-align"), continual()))

    def continual() -> None:
        tab = window.training_tab
        tab.kind.setCurrentIndex(tab.kind.findData("cmcl-demo"))
        tab.epochs.setValue(6)
        tab.finished.connect(lambda _r: after(500, lambda: (shoot("training"), app.quit())))
        tab.start.click()

    window.ctx.listeners.append(opened)
    after(600_000, app.quit)
    code = app.exec()
    window.close()
    for problem in failures:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if failures else code


if __name__ == "__main__":
    sys.exit(main())
