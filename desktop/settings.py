"""The app's settings, kept with QSettings (per user), and the dialog that edits them.

Device, pack, library folder, results per modality, theme (system, light, dark) and the length
of a microphone recording. The engine reads none of this itself: the window passes the values
to `core/` calls."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

THEMES = ("system", "light", "dark")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class Settings:
    device: str = "auto"
    pack: str = ""  # "" = the library's own pack
    library: str = ""  # "" = the user's library, else the demo library
    results: int = 8  # per modality
    theme: str = "system"
    record_seconds: int = 5

    @classmethod
    def load(cls, store: QSettings | None = None) -> Settings:
        store = store or QSettings()
        out = cls()
        for f in fields(cls):
            value = store.value(f.name, getattr(out, f.name))
            with contextlib.suppress(TypeError, ValueError):  # a damaged value: the default
                setattr(out, f.name, type(getattr(out, f.name))(value))
        out.results = max(1, min(100, out.results))
        out.record_seconds = max(1, min(30, out.record_seconds))
        out.theme = out.theme if out.theme in THEMES else "system"
        return out

    def save(self, store: QSettings | None = None) -> None:
        store = store or QSettings()
        for f in fields(self):
            store.setValue(f.name, getattr(self, f.name))
        store.sync()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, packs: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
        form = QFormLayout(self)
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setCurrentText(settings.device)
        self.device.setToolTip("auto: the GPU when there is one, else the CPU")
        self.pack = QComboBox()
        self.pack.addItem("the library's own pack", "")
        for ref in packs:
            self.pack.addItem(ref, ref)
        self.pack.setCurrentIndex(max(0, self.pack.findData(settings.pack)))
        self.library = QLineEdit(settings.library)
        self.library.setPlaceholderText("my library, else the demo library")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_library)
        row = QHBoxLayout()
        row.addWidget(self.library, 1)
        row.addWidget(browse)
        self.results = QSpinBox()
        self.results.setRange(1, 100)
        self.results.setValue(settings.results)
        self.results.setSuffix(" per modality")
        self.theme = QComboBox()
        self.theme.addItems(THEMES)
        self.theme.setCurrentText(settings.theme)
        self.record_seconds = QSpinBox()
        self.record_seconds.setRange(1, 30)
        self.record_seconds.setValue(settings.record_seconds)
        self.record_seconds.setSuffix(" s")
        form.addRow("Device", self.device)
        form.addRow("Model pack", self.pack)
        form.addRow("Library folder", row)
        form.addRow("Results", self.results)
        form.addRow("Theme", self.theme)
        form.addRow("Recording length", self.record_seconds)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Library folder", self.library.text())
        if folder:
            self.library.setText(folder)

    def values(self) -> Settings:
        return Settings(self.device.currentText(), self.pack.currentData() or "",
                        self.library.text().strip(), self.results.value(),
                        self.theme.currentText(), self.record_seconds.value())
