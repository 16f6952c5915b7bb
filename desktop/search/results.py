"""The results of a search: as a grid (one row of thumbnails per modality, best first, like a
photo library's strip) or as a list (one line per hit with its score and folder). Both show the
same hits and honour the same modality filter; both offer the same actions on a hit."""

from __future__ import annotations

import os

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.search.thumbnails import Thumbnails
from desktop.theme import MODALITY_COLOURS, MODALITY_LABELS

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
ORDER = ("image", "audio", "3d", "text")
THUMB = QSize(148, 148)
WAVE_THUMB = QSize(200, 75)  # waveform previews are 256x96


THUMBNAILS = Thumbnails()  # shared by the views; filled ahead by the Search tab


def strip_size(modality: str) -> QSize:
    """The size of a hit's picture in the grid (waveform previews are wide)."""
    return WAVE_THUMB if modality == "audio" else THUMB


def hit_icon(hit, size: QSize = THUMB) -> QIcon:
    """The hit's preview at `size`, or its modality's colour when it has none."""
    image = THUMBNAILS.image(hit.preview, size) if hit.preview else None
    if image is not None:
        return QIcon(QPixmap.fromImage(image))
    swatch = QPixmap(size)
    swatch.fill(QColor(MODALITY_COLOURS.get(hit.modality, "#888888")))
    return QIcon(swatch)


def hit_tooltip(hit) -> str:
    return (f"{hit.path}\n{MODALITY_LABELS.get(hit.modality, hit.modality)} · rank {hit.rank}"
            f" · similarity {hit.score:.3f}" + (f"\ntags: {', '.join(hit.tags)}"
                                                 if hit.tags else ""))


class _Strip(QListWidget):
    """One modality's hits, left to right."""

    def __init__(self, thumb: QSize = THUMB, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(False)
        self.setMovement(QListView.Movement.Static)
        self.setIconSize(thumb)
        self.setGridSize(QSize(thumb.width() + 16, thumb.height() + 44))
        self.setFixedHeight(thumb.height() + 64)
        self.setWordWrap(True)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setDragEnabled(False)


class ResultsGrid(QScrollArea):
    activated = Signal(object)  # Hit (double-click / Enter)
    selected = Signal(object)  # Hit or None
    menu_requested = Signal(object, object)  # Hit, global position

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.setWidget(body)
        self.empty = QLabel("Results appear here: drop a file, type a description, paste an "
                            "image or record a sound.")
        self.empty.setObjectName("results-empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        # One section per modality, made once and refilled by each search.
        self._sections: dict[str, tuple[QLabel, _Strip]] = {}
        for modality in ORDER:
            title = QLabel()
            title.setStyleSheet(f"color: {MODALITY_COLOURS.get(modality, '#888')};"
                                "margin-top: 6px;")
            strip = _Strip(strip_size(modality))
            strip.setObjectName(f"strip-{modality}")
            strip.itemActivated.connect(lambda item: self.activated.emit(item.data(HIT_ROLE)))
            strip.itemDoubleClicked.connect(
                lambda item: self.activated.emit(item.data(HIT_ROLE)))
            strip.currentItemChanged.connect(self._current_changed)
            strip.customContextMenuRequested.connect(lambda pos, s=strip: self._menu(s, pos))
            layout.addWidget(title)
            layout.addWidget(strip)
            self._sections[modality] = (title, strip)
        self.set_visible_modalities(set())

    @property
    def sections(self) -> dict[str, tuple[QLabel, _Strip]]:
        """The modalities the last search found, with their title and strip."""
        return {m: section for m, section in self._sections.items() if section[1].count()}

    def show_hits(self, hits: list, visible: set[str]) -> None:
        by_modality: dict[str, list] = {m: [] for m in ORDER}
        for hit in hits:
            by_modality.setdefault(hit.modality, []).append(hit)
        for modality, (title, strip) in self._sections.items():
            group = by_modality[modality]
            strip.setUpdatesEnabled(False)
            strip.clear()
            for hit in group:
                item = QListWidgetItem(hit_icon(hit, strip.iconSize()),
                                       f"{hit.score:.3f}\n{os.path.basename(hit.path)}")
                item.setData(HIT_ROLE, hit)
                item.setToolTip(hit_tooltip(hit))
                strip.addItem(item)
            strip.setUpdatesEnabled(True)
            if group:
                title.setText(f"<b>{MODALITY_LABELS.get(modality, modality)}</b> · "
                              f"{len(group)} · best {group[0].score:.2f}")
        self.empty.setVisible(not hits)
        self.set_visible_modalities(visible)

    def set_visible_modalities(self, visible: set[str]) -> None:
        for modality, (title, strip) in self._sections.items():
            shown = modality in visible and strip.count() > 0
            title.setVisible(shown)
            strip.setVisible(shown)

    def visible_hits(self) -> list:
        return [strip.item(i).data(HIT_ROLE) for _, strip in self._sections.values()
                if not strip.isHidden() for i in range(strip.count())]

    def current_hit(self):
        for _, strip in self._sections.values():
            if strip.hasFocus() and strip.currentItem() is not None:
                return strip.currentItem().data(HIT_ROLE)
        return None

    def _current_changed(self, item, _previous) -> None:
        self.selected.emit(item.data(HIT_ROLE) if item is not None else None)

    def _menu(self, strip: _Strip, pos) -> None:
        item = strip.itemAt(pos)
        if item is not None:
            self.menu_requested.emit(item.data(HIT_ROLE), strip.viewport().mapToGlobal(pos))


class ResultsList(QTreeWidget):
    activated = Signal(object)
    selected = Signal(object)
    menu_requested = Signal(object, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(["", "Modality", "Rank", "Similarity", "File", "Folder"])
        self.setRootIsDecorated(False)
        self.setIconSize(QSize(72, 48))
        self.setSortingEnabled(False)
        self.setAlternatingRowColors(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.itemActivated.connect(lambda item, _c: self.activated.emit(item.data(0, HIT_ROLE)))
        self.currentItemChanged.connect(
            lambda item, _p: self.selected.emit(item.data(0, HIT_ROLE) if item else None))
        self.customContextMenuRequested.connect(self._menu)

    def show_hits(self, hits: list, visible: set[str]) -> None:
        self.clear()
        for hit in hits:
            row = QTreeWidgetItem(["", MODALITY_LABELS.get(hit.modality, hit.modality),
                                   str(hit.rank), f"{hit.score:.3f}",
                                   os.path.basename(hit.path), os.path.dirname(hit.path)])
            row.setIcon(0, hit_icon(hit, self.iconSize()))
            row.setData(0, HIT_ROLE, hit)
            row.setToolTip(4, hit_tooltip(hit))
            self.addTopLevelItem(row)
        for column in range(5):
            self.resizeColumnToContents(column)
        self.set_visible_modalities(visible)

    def set_visible_modalities(self, visible: set[str]) -> None:
        for i in range(self.topLevelItemCount()):
            row = self.topLevelItem(i)
            row.setHidden(row.data(0, HIT_ROLE).modality not in visible)

    def visible_hits(self) -> list:
        return [self.topLevelItem(i).data(0, HIT_ROLE) for i in range(self.topLevelItemCount())
                if not self.topLevelItem(i).isHidden()]

    def current_hit(self):
        item = self.currentItem()
        return item.data(0, HIT_ROLE) if item is not None and self.hasFocus() else None

    def _menu(self, pos) -> None:
        item = self.itemAt(pos)
        if item is not None:
            self.menu_requested.emit(item.data(0, HIT_ROLE), self.viewport().mapToGlobal(pos))
