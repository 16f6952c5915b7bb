"""The library map: every item as a dot in 2-D (the engine's PCA layout), coloured by
modality, the query as a star and its results ringed; hovering a dot names the item."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from desktop.theme import MODALITY_COLOURS, MODALITY_LABELS

MARGIN = 24
HOVER_PX = 7


class MapView(QWidget):
    activated = Signal(int)  # item id (double-click on a dot)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.map = None
        self.query_point: np.ndarray | None = None
        self.hit_ids: set[int] = set()
        self.visible: set[str] = set(MODALITY_COLOURS)
        self.setMouseTracking(True)
        self.setMinimumSize(300, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_map(self, library_map) -> None:
        self.map = library_map
        self.update()

    def set_query(self, query_vector: np.ndarray | None, hit_ids) -> None:
        self.query_point = (None if query_vector is None or self.map is None
                            else self.map.project(query_vector)[0])
        self.hit_ids = set(hit_ids)
        self.update()

    def set_visible_modalities(self, visible: set[str]) -> None:
        self.visible = set(visible)
        self.update()

    # ------------------------------------------------------------------ geometry
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        pts = self.map.points
        if self.query_point is not None:
            pts = np.vstack([pts, self.query_point[None]])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        span = np.maximum(hi - lo, 1e-6)
        return lo - 0.04 * span, hi + 0.04 * span

    def screen(self, points: np.ndarray) -> np.ndarray:
        lo, hi = self._bounds()
        w, h = self.width() - 2 * MARGIN, self.height() - 2 * MARGIN
        scaled = (np.atleast_2d(points) - lo) / (hi - lo)
        return np.c_[MARGIN + scaled[:, 0] * w, MARGIN + (1 - scaled[:, 1]) * h]

    def item_at(self, x: float, y: float) -> int | None:
        """The index (into the map) of the visible dot nearest to (x, y), within reach."""
        if self.map is None or len(self.map.ids) == 0:
            return None
        shown = np.array([m in self.visible for m in self.map.modalities])
        xy = self.screen(self.map.points)
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        d[~shown] = np.inf
        best = int(np.argmin(d))
        return best if d[best] <= HOVER_PX else None

    # ------------------------------------------------------------------ drawing
    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self.map is None or len(self.map.ids) == 0:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             "The map of the library appears here.")
            painter.end()
            return
        xy = self.screen(self.map.points)
        for modality in MODALITY_COLOURS:
            if modality not in self.visible:
                continue
            colour = QColor(MODALITY_COLOURS[modality])
            colour.setAlpha(150)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(colour))
            for (x, y), m in zip(xy, self.map.modalities):
                if m == modality:
                    painter.drawEllipse(QPointF(x, y), 3.0, 3.0)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Text), 2))
        for j, item_id in enumerate(self.map.ids.tolist()):
            if item_id in self.hit_ids and self.map.modalities[j] in self.visible:
                painter.drawEllipse(QPointF(*xy[j]), 7.0, 7.0)
        if self.query_point is not None:
            qx, qy = self.screen(self.query_point)[0]
            painter.setPen(QPen(QColor("#000000"), 1))
            painter.setBrush(QBrush(QColor("#ffd33d")))
            painter.drawPath(_star(qx, qy, 11))
        self._legend(painter)
        painter.end()

    def _legend(self, painter: QPainter) -> None:
        held = {m for m in self.map.modalities}
        y = 8
        for modality, colour in MODALITY_COLOURS.items():
            if modality not in held:
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(colour))
            painter.drawEllipse(QPointF(14, y + 7), 4, 4)
            painter.setPen(self.palette().color(QPalette.ColorRole.Text))
            painter.drawText(QRectF(24, y, 160, 16), Qt.AlignmentFlag.AlignLeft,
                             MODALITY_LABELS.get(modality, modality))
            y += 18
        note = f"{len(self.map.ids)} of {self.map.total} items · PCA of the shared space"
        painter.drawText(QRectF(8, self.height() - 20, self.width() - 16, 16),
                         Qt.AlignmentFlag.AlignRight, note)

    # ------------------------------------------------------------------ hover
    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        j = self.item_at(event.position().x(), event.position().y())
        if j is None:
            QToolTip.hideText()
            return
        label = MODALITY_LABELS.get(self.map.modalities[j], self.map.modalities[j])
        QToolTip.showText(event.globalPosition().toPoint(),
                          f"{os.path.basename(self.map.paths[j])}\n{label} · "
                          f"{os.path.dirname(self.map.paths[j])}", self)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        j = self.item_at(event.position().x(), event.position().y())
        if j is not None:
            self.activated.emit(int(self.map.ids[j]))


def _star(x: float, y: float, r: float) -> QPainterPath:
    path = QPainterPath()
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.45
        angle = np.pi / 2 + k * np.pi / 5
        point = QPointF(x + radius * np.cos(angle), y - radius * np.sin(angle))
        path.moveTo(point) if k == 0 else path.lineTo(point)
    path.closeSubpath()
    return path
