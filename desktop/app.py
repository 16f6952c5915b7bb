"""`mcr-studio`: start the desktop application. Heavy engine imports wait until the window shows."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from core.paths import assets_dir
    from desktop.main_window import MainWindow

    app = QApplication(sys.argv if argv is None else argv)
    app.setApplicationName("MCR Studio")
    app.setOrganizationName("MCR Studio")
    app.setWindowIcon(QIcon(str(assets_dir() / "icons" / "mcr-studio.svg")))
    window = MainWindow()
    window.show()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
