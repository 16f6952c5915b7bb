"""Light and dark palettes on the Fusion style; "system" follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

MODALITY_COLOURS = {"image": "#2f81f7", "audio": "#e3691c", "3d": "#2da44e", "text": "#8250df"}
MODALITY_LABELS = {"image": "Images", "audio": "Sounds", "3d": "3D scans", "text": "Text"}


def dark_wanted(theme: str) -> bool:
    if theme in ("light", "dark"):
        return theme == "dark"
    hints = QApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> None:
    app.setStyle("Fusion")
    app.setPalette(_dark() if dark_wanted(theme) else app.style().standardPalette())


def _dark() -> QPalette:
    p = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1e1f22", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#2b2d30", QPalette.ColorRole.AlternateBase: "#313338",
        QPalette.ColorRole.ToolTipBase: "#2b2d30", QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#2b2d30",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#2f81f7",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: "#58a6ff",
        QPalette.ColorRole.PlaceholderText: "#8b8d91", QPalette.ColorRole.Mid: "#3c3f44",
        QPalette.ColorRole.Dark: "#9a9ca0",
    }
    for role, colour in colours.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6e7074"))
    return p
