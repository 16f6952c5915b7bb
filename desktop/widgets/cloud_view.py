"""A point cloud that turns with the mouse: drag to rotate, wheel to zoom. Each view is drawn by
the engine's own renderer (`core.library.previews.cloud_preview`), the one that made the
thumbnails, at the widget's size; while dragging it draws a thinned cloud so turning stays
smooth, and the full cloud once the mouse is released."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from core.library.previews import AZIMUTH_DEG, ELEVATION_DEG, cloud_preview

DRAG_POINTS = 6000


class CloudView(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.points: np.ndarray | None = None
        self._thin: np.ndarray | None = None
        self.azimuth, self.elevation, self.zoom = AZIMUTH_DEG, ELEVATION_DEG, 1.0
        self._drag: QPointF | None = None
        self._image: QImage | None = None
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setToolTip("Drag to turn, wheel to zoom, double-click to reset")

    def set_points(self, points: np.ndarray | None) -> None:
        self.points = points
        self._thin = None
        if points is not None and len(points) > DRAG_POINTS:
            keep = np.random.default_rng(0).choice(len(points), DRAG_POINTS, replace=False)
            self._thin = points[np.sort(keep)]
        self.azimuth, self.elevation, self.zoom = AZIMUTH_DEG, ELEVATION_DEG, 1.0
        self._render()

    def turn(self, d_azimuth: float, d_elevation: float, thin: bool = False) -> None:
        self.azimuth = (self.azimuth + d_azimuth) % 360
        self.elevation = max(-89.0, min(89.0, self.elevation + d_elevation))
        self._render(thin)

    def _render(self, thin: bool = False) -> None:
        points = self._thin if thin and self._thin is not None else self.points
        if points is None:
            self._image = None
        else:
            side = max(64, min(self.width(), self.height()))
            picture = cloud_preview(points, azimuth=self.azimuth, elevation=self.elevation,
                                    size=int(side * self.zoom))
            data = picture.tobytes()
            self._image = QImage(data, picture.width, picture.height, 3 * picture.width,
                                 QImage.Format.Format_RGB888).copy()
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().color(QPalette.ColorRole.Base))
        if self._image is not None:
            x = (self.width() - self._image.width()) // 2
            y = (self.height() - self._image.height()) // 2
            painter.drawImage(x, y, self._image)
        painter.end()

    def resizeEvent(self, event) -> None:  # noqa: N802
        self._render()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        self._drag = event.position()
        self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        delta = event.position() - self._drag
        self._drag = event.position()
        self.turn(-delta.x() * 0.5, delta.y() * 0.5, thin=True)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        self._drag = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self._render()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.set_points(self.points)

    def wheelEvent(self, event) -> None:  # noqa: N802
        step = 1.1 if event.angleDelta().y() > 0 else 1 / 1.1
        self.zoom = max(0.5, min(2.0, self.zoom * step))
        self._render()
