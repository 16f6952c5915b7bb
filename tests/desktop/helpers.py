"""Driving the window as a person would: dropping files, waiting for results."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent


def drop_files(widget, paths) -> None:
    """Drop local files on `widget` as a file manager does (a drag with file URLs)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(event)


def search_and_wait(qtbot, tab, start, timeout: int = 30_000):
    with qtbot.waitSignal(tab.searched, timeout=timeout) as blocker:
        start()
    return blocker.args[0]


def family(concepts: dict[str, str], path: str) -> str:
    return concepts[path].split("/")[0]
