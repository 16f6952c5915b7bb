"""The main window. For now it tells the user what is installed; the search, library and training
tabs arrive with the engine pieces they draw."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from core.status import engine_status


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("MCR Studio")
        self.resize(1100, 720)
        status = engine_status()
        self.setCentralWidget(_welcome(status))
        self.statusBar().showMessage(status.summary)


def _welcome(status) -> QWidget:
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
    title = QLabel("MCR Studio")
    title.setObjectName("title")
    title.setStyleSheet("font-size: 28px; font-weight: 600;")
    subtitle = QLabel("Cross-modal search over photos, sounds, 3D scans and text")
    subtitle.setStyleSheet("font-size: 15px; color: palette(dark);")
    message = QLabel(status.message)
    message.setObjectName("status-message")
    message.setWordWrap(True)
    message.setMaximumWidth(560)
    message.setStyleSheet("font-size: 14px; margin-top: 24px;")
    for label in (title, subtitle, message):
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(label)
    return widget
