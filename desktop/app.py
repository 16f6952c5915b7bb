"""`mcr-studio`: start the desktop application. The window shows before torch and the models
load; they load on the worker thread right after."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import multiprocessing

    multiprocessing.freeze_support()  # the demo world renders in worker processes
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from core.paths import assets_dir
    from desktop.main_window import MainWindow
    from desktop.settings import Settings
    from desktop.theme import apply_theme

    app = QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("MCR Studio")
    app.setOrganizationName("MCR Studio")
    app.setWindowIcon(QIcon(str(assets_dir() / "icons" / "mcr-studio.svg")))
    settings = Settings.load()
    apply_theme(app, settings.theme)
    window = MainWindow(settings)
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
