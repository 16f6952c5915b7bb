"""Recording from the microphone: a countdown, then a live level meter and the time left, with
Stop. The recording itself runs on the worker thread (core.io.record); this only shows it."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout

FLOOR_DB = -60.0


class RecordDialog(QDialog):
    go = Signal()  # the countdown reached zero: start recording
    stopped = Signal()  # the user pressed Stop (or closed the dialog)

    def __init__(self, seconds: int, countdown: int = 3, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a sound")
        self.setModal(False)
        self.seconds, self.left = seconds, countdown
        layout = QVBoxLayout(self)
        self.status = QLabel("")
        self.status.setObjectName("record-status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status.setStyleSheet("font-size: 18px;")
        self.meter = QProgressBar()
        self.meter.setObjectName("record-level")
        self.meter.setRange(0, 100)
        self.meter.setFormat("level %v")
        self.meter.setTextVisible(False)
        self.time = QLabel("")
        self.time.setAlignment(Qt.AlignmentFlag.AlignCenter)
        stop = QPushButton("Stop")
        stop.clicked.connect(self._stop)
        for widget in (self.status, self.meter, self.time, stop):
            layout.addWidget(widget)
        self.setMinimumWidth(340)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.levels: list[float] = []  # every level shown, in dBFS

    def start(self) -> None:
        if self.left <= 0:
            self._begin()
            return
        self.status.setText(f"Recording starts in {self.left}…")
        self._timer.start(1000)

    def _tick(self) -> None:
        self.left -= 1
        if self.left > 0:
            self.status.setText(f"Recording starts in {self.left}…")
        else:
            self._timer.stop()
            self._begin()

    def _begin(self) -> None:
        self.status.setText("● Recording")
        self.time.setText(f"{self.seconds:.0f} s left")
        self.go.emit()

    def show_level(self, level_db: float, elapsed: float) -> None:
        self.levels.append(level_db)
        self.meter.setValue(int(round(100 * max(0.0, 1 - level_db / FLOOR_DB))))
        self.time.setText(f"{max(0.0, self.seconds - elapsed):.1f} s left")

    def _stop(self) -> None:
        self._timer.stop()
        self.stopped.emit()
        self.close()

    def closeEvent(self, event) -> None:  # noqa: N802
        if self._timer.isActive():
            self._timer.stop()
            self.stopped.emit()
        super().closeEvent(event)
