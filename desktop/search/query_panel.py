"""Where a query comes from and what it looks like: a text box, a drop area that takes images,
sounds and 3D scans from the file manager (or a pasted picture), Open/Paste/Record buttons, and
the query's preview: the picture, the waveform with play, or the scan, turnable."""

from __future__ import annotations

import os

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.widgets.cloud_view import CloudView
from desktop.widgets.waveform import WaveformView

HINT = ("Drop an image, a sound or a 3D scan here\n\nCtrl+O to open a file · Ctrl+V to paste "
        "an image · Record to use the microphone")


def pil_to_qimage(image) -> QImage:
    rgb = image.convert("RGB")
    return QImage(rgb.tobytes(), rgb.width, rgb.height, 3 * rgb.width,
                  QImage.Format.Format_RGB888).copy()


class DropArea(QFrame):
    """Accepts local files and pictures dragged in from other programs."""

    files_dropped = Signal(list)
    image_dropped = Signal(QImage)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.setObjectName("drop-area")
        self.setContentsMargins(3, 3, 3, 3)
        self.hovering = False

    def _style(self, hovering: bool) -> None:
        """The dashed border turns to the highlight colour while something is dragged over.
        Painted, not a style sheet: restyling re-polishes and re-lays out the whole panel,
        which would cost every drop a repaint of the window."""
        if hovering != self.hovering:
            self.hovering = hovering
            self.update()

    def paintEvent(self, event) -> None:  # noqa: N802
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        role = QPalette.ColorRole.Highlight if self.hovering else QPalette.ColorRole.Mid
        painter.setPen(QPen(self.palette().color(role), 2, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 8, 8)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()
            self._style(True)

    def dragLeaveEvent(self, event) -> None:  # noqa: N802
        self._style(False)

    def dropEvent(self, event) -> None:  # noqa: N802
        self._style(False)
        mime = event.mimeData()
        files = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if files:
            self.files_dropped.emit(files)
        elif mime.hasImage():
            self.image_dropped.emit(QImage(mime.imageData()))
        event.acceptProposedAction()


class QueryPanel(QWidget):
    text_submitted = Signal(str)
    files_given = Signal(list)
    image_given = Signal(QImage)
    open_requested = Signal()
    paste_requested = Signal()
    record_requested = Signal()
    play_requested = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.text = QLineEdit()
        self.text.setObjectName("query-text")
        self.text.setPlaceholderText("Describe what you are looking for (Ctrl+F)")
        self.text.setClearButtonEnabled(True)
        self.text.returnPressed.connect(self._submit_text)
        go = QPushButton("Search")
        go.clicked.connect(self._submit_text)
        row.addWidget(self.text, 1)
        row.addWidget(go)
        layout.addLayout(row)

        self.drop = DropArea()
        self.drop.files_dropped.connect(self.files_given)
        self.drop.image_dropped.connect(self.image_given)
        inner = QVBoxLayout(self.drop)
        self.stack = QStackedWidget()
        self.hint = QLabel(HINT)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(dark);")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(120, 120)
        sound = QWidget()
        sound_layout = QVBoxLayout(sound)
        self.waveform = WaveformView()
        self.play = QPushButton("▶ Play")
        self.play.setObjectName("query-play")
        self.play.clicked.connect(self.play_requested)
        sound_layout.addWidget(self.waveform, 1)
        sound_layout.addWidget(self.play, 0, Qt.AlignmentFlag.AlignLeft)
        self.cloud = CloudView()
        self.pages = {"hint": self.hint, "image": self.picture, "audio": sound,
                      "3d": self.cloud}
        for page in self.pages.values():
            self.stack.addWidget(page)
        inner.addWidget(self.stack)
        layout.addWidget(self.drop, 1)

        self.caption = QLabel("")
        self.caption.setObjectName("query-caption")
        self.caption.setWordWrap(True)
        layout.addWidget(self.caption)
        buttons = QHBoxLayout()
        for label, signal, name in (("Open…", self.open_requested, "open"),
                                    ("Paste", self.paste_requested, "paste"),
                                    ("● Record", self.record_requested, "record")):
            button = QPushButton(label)
            button.setObjectName(f"query-{name}")
            button.clicked.connect(signal)
            buttons.addWidget(button)
        layout.addLayout(buttons)

    def _submit_text(self) -> None:
        self.text_submitted.emit(self.text.text())

    # ------------------------------------------------------------------ the preview
    def show_decoded(self, decoded) -> None:
        """Preview a decoded file (core.session.Decoded)."""
        name = os.path.basename(decoded.path) if decoded.path else "recording"
        if decoded.modality == "image":
            self.show_image(pil_to_qimage(decoded.image), name)
        elif decoded.modality == "audio":
            self.show_sound(decoded.samples, decoded.rate, name)
        elif decoded.modality == "3d":
            self.cloud.set_points(decoded.points)
            self.stack.setCurrentWidget(self.cloud)
            self.caption.setText(f"{name} · {len(decoded.points)} points · drag to turn")

    def show_image(self, image: QImage, name: str) -> None:
        pixmap = QPixmap.fromImage(image)
        self.picture.setPixmap(pixmap.scaled(300, 300, Qt.AspectRatioMode.KeepAspectRatio,
                                             Qt.TransformationMode.SmoothTransformation))
        self.stack.setCurrentWidget(self.picture)
        self.caption.setText(f"{name} · {image.width()}×{image.height()}")

    def show_sound(self, samples, rate: int, name: str) -> None:
        self.waveform.set_samples(samples, rate)
        self.stack.setCurrentWidget(self.pages["audio"])
        self.caption.setText(f"{name} · {self.waveform.seconds:.1f} s")

    def show_text(self, text: str) -> None:
        self.stack.setCurrentWidget(self.hint)
        self.caption.setText(f'Text: "{text}"')

    def set_playing(self, playing: bool) -> None:
        self.play.setText("■ Stop" if playing else "▶ Play")
