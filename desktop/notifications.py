"""Non-blocking notifications: a stack of banners above the tabs. Each names what happened and
what to do; the technical details (a skipped-file list, a traceback) open on demand. Nothing
here is modal: work goes on while a banner shows, and information banners close themselves."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import MCRError

LEVELS = {"info": ("#1f6feb", "ℹ"), "success": ("#1a7f37", "✓"),
          "warning": ("#9a6700", "!"), "error": ("#cf222e", "✕")}
AUTO_CLOSE_MS = {"info": 6000, "success": 6000}
MAX_SHOWN = 4


class Banner(QFrame):
    closed = Signal(object)

    def __init__(self, level: str, text: str, details: str = "", parent=None) -> None:
        super().__init__(parent)
        self.level, self.text = level, text
        colour, mark = LEVELS[level]
        self.setObjectName("banner")
        self.setStyleSheet(f"#banner {{ border: 1px solid {colour}; border-left: 5px solid "
                           f"{colour}; border-radius: 4px; }}")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 6, 6, 6)
        row = QHBoxLayout()
        icon = QLabel(mark)
        icon.setStyleSheet(f"color: {colour}; font-weight: bold; font-size: 15px;")
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(icon)
        row.addWidget(self.label, 1)
        self.details_view = None
        if details:
            more = QPushButton("Details")
            more.setCheckable(True)
            more.setFlat(True)
            row.addWidget(more)
            self.details_view = QPlainTextEdit(details)
            self.details_view.setReadOnly(True)
            self.details_view.setMaximumHeight(160)
            self.details_view.hide()
            more.toggled.connect(self.details_view.setVisible)
        close = QToolButton()
        close.setText("×")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(lambda: self.closed.emit(self))
        row.addWidget(close)
        outer.addLayout(row)
        if self.details_view is not None:
            outer.addWidget(self.details_view)
        if level in AUTO_CLOSE_MS:  # a child timer: it dies with the banner
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.timeout.connect(lambda: self.closed.emit(self))
            self._timer.start(AUTO_CLOSE_MS[level])


class Notifications(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 4, 8, 0)
        self._layout.setSpacing(4)
        self.banners: list[Banner] = []
        self.history: list[tuple[str, str]] = []  # (level, text) of every notification shown

    def notify(self, level: str, text: str, details: str = "") -> Banner:
        banner = Banner(level, text, details, self)
        banner.closed.connect(self._close)
        self.banners.append(banner)
        self.history.append((level, text))
        self._layout.addWidget(banner)
        while len(self.banners) > MAX_SHOWN:
            self._close(self.banners[0])
        return banner

    def error(self, err: BaseException, details: str = "") -> Banner:
        """An engine error in words: the file, what is wrong and what to do (MCRError's own
        message); anything else is a bug, said plainly, with the traceback under Details."""
        if isinstance(err, MCRError):
            return self.notify("error", str(err), details)
        return self.notify("error", f"Something went wrong that MCR Studio did not expect "
                                    f"({type(err).__name__}: {err}). Please report it with "
                                    "the details.", details)

    def _close(self, banner: Banner) -> None:
        if banner in self.banners:
            self.banners.remove(banner)
            banner.hide()
            banner.deleteLater()
