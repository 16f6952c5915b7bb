"""Take screenshots of the application's window for the README (run under Xvfb by
scripts/screenshots): python -m desktop.screenshots OUT_DIR"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from core.paths import assets_dir
    from desktop.main_window import MainWindow

    out = Path((argv or sys.argv[1:] or ["screenshots"])[0])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([sys.argv[0]])
    app.setWindowIcon(QIcon(str(assets_dir() / "icons" / "mcr-studio.svg")))
    window = MainWindow()
    window.show()

    def shoot() -> None:
        path = out / "main-window.png"
        window.screen().grabWindow(window.winId()).save(str(path))
        print(path)
        app.quit()

    QTimer.singleShot(800, shoot)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
