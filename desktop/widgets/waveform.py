"""A sound's waveform (min/max envelope per pixel column) with a playhead while it plays."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


class WaveformView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.samples: np.ndarray | None = None
        self.rate = 0
        self.position: float | None = None  # playhead, 0..1
        self.setMinimumHeight(70)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_samples(self, samples: np.ndarray | None, rate: int = 0) -> None:
        self.samples = None if samples is None else np.asarray(samples, np.float32).reshape(-1)
        self.rate, self.position = rate, None
        self.update()

    @property
    def seconds(self) -> float:
        return 0.0 if self.samples is None or not self.rate else len(self.samples) / self.rate

    def set_position(self, fraction: float | None) -> None:
        self.position = fraction
        self.update()

    def envelope(self, columns: int) -> tuple[np.ndarray, np.ndarray]:
        x = self.samples
        if x is None or len(x) == 0 or columns < 1:
            return np.zeros(0), np.zeros(0)
        edges = np.linspace(0, len(x), columns + 1).astype(np.int64)
        edges[-1] = len(x)
        starts = np.minimum(edges[:-1], len(x) - 1)
        lo, hi = np.minimum.reduceat(x, starts), np.maximum.reduceat(x, starts)
        peak = max(float(np.abs(x).max()), 1e-3)
        return lo / peak, hi / peak

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        rect = self.rect()
        palette = self.palette()
        painter.fillRect(rect, palette.color(QPalette.ColorRole.Base))
        mid = rect.height() / 2
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(0, int(mid), rect.width(), int(mid))
        lo, hi = self.envelope(rect.width())
        painter.setPen(QColor("#e3691c"))
        half = mid - 4
        for x, (a, b) in enumerate(zip(lo, hi)):
            painter.drawLine(x, int(mid - b * half), x, int(mid - a * half))
        if self.position is not None:
            painter.setPen(palette.color(QPalette.ColorRole.Highlight))
            x = int(self.position * rect.width())
            painter.drawLine(x, 0, x, rect.height())
        if self.samples is not None:
            painter.setPen(palette.color(QPalette.ColorRole.Text))
            painter.drawText(QRectF(rect).adjusted(4, 2, -4, -2),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                             f"{self.seconds:.1f} s")
        painter.end()
