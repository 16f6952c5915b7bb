"""A small live line chart (training loss, held-out retrieval) drawn with QPainter: one line per
series, axes with their ranges, a legend. No plotting library is imported for it."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

COLOURS = ("#2f81f7", "#e3691c", "#2da44e", "#8250df", "#cf222e")


class LinePlot(QWidget):
    def __init__(self, title: str, y_label: str = "", parent=None) -> None:
        super().__init__(parent)
        self.title, self.y_label = title, y_label
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.setMinimumSize(260, 170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def clear(self) -> None:
        self.series.clear()
        self.update()

    def add(self, name: str, x: float, y: float) -> None:
        self.series.setdefault(name, []).append((float(x), float(y)))
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        painter.setPen(text)
        painter.drawText(QRectF(8, 4, self.width() - 16, 18), Qt.AlignmentFlag.AlignLeft,
                         self.title)
        area = QRectF(46, 26, self.width() - 58, self.height() - 50)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(area)
        points = [p for s in self.series.values() for p in s]
        if not points:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter, "waiting for the first epoch")
            painter.end()
            return
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
        if x1 == x0:
            x1 = x0 + 1
        if y1 - y0 < 1e-9:
            y0, y1 = y0 - 0.5, y1 + 0.5

        def at(x: float, y: float) -> QPointF:
            return QPointF(area.left() + (x - x0) / (x1 - x0) * area.width(),
                           area.bottom() - (y - y0) / (y1 - y0) * area.height())

        painter.setPen(text)
        small = painter.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() - 1))
        painter.setFont(small)
        painter.drawText(QRectF(0, area.top() - 6, 42, 14), Qt.AlignmentFlag.AlignRight,
                         f"{y1:.3g}")
        painter.drawText(QRectF(0, area.bottom() - 8, 42, 14), Qt.AlignmentFlag.AlignRight,
                         f"{y0:.3g}")
        painter.drawText(QRectF(area.left(), area.bottom() + 2, 60, 14),
                         Qt.AlignmentFlag.AlignLeft, f"{x0:g}")
        painter.drawText(QRectF(area.right() - 80, area.bottom() + 2, 80, 14),
                         Qt.AlignmentFlag.AlignRight, f"epoch {x1:g}")
        for n, (name, values) in enumerate(self.series.items()):
            colour = QColor(COLOURS[n % len(COLOURS)])
            painter.setPen(QPen(colour, 2))
            line = [at(x, y) for x, y in values]
            for a, b in zip(line, line[1:]):
                painter.drawLine(a, b)
            for p in line:
                painter.drawEllipse(p, 2.5, 2.5)
            painter.drawText(QRectF(area.left() + 6, area.top() + 4 + 14 * n, 200, 14),
                             Qt.AlignmentFlag.AlignLeft, f"— {name}")
        painter.end()
