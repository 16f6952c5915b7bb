"""The Library tab: what the library holds (modality, file, size, when added), adding folders
or files (drop them here or use the buttons) with progress, counts and cancel, the report of
skipped files with their reasons, removing, re-scanning and verifying, and statistics."""

from __future__ import annotations

import datetime as dt
import os

from PySide6.QtCore import QAbstractTableModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.cli.tables import human_bytes
from core.progress import Progress
from core.status import MODALITY_NAMES
from desktop.context import Context
from desktop.theme import MODALITY_LABELS

COLUMNS = ("Modality", "File", "Folder", "Size", "Added", "Tags")


class ItemsModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.items: list = []

    def set_items(self, items: list) -> None:
        self.beginResetModel()
        self.items = list(items)
        self.endResetModel()

    def rowCount(self, parent=None) -> int:  # noqa: N802
        return 0 if parent is not None and parent.isValid() else len(self.items)

    def columnCount(self, parent=None) -> int:  # noqa: N802
        return len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        item = self.items[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.UserRole:  # sort keys
            return (item.modality, os.path.basename(item.path), os.path.dirname(item.path),
                    item.size, item.added, ",".join(item.tags))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(item.paths)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if column == 0:
            return MODALITY_LABELS.get(item.modality, item.modality)
        if column == 1:
            return os.path.basename(item.path) + (f"  (+{len(item.paths) - 1} copies)"
                                                  if len(item.paths) > 1 else "")
        if column == 2:
            return os.path.dirname(item.path)
        if column == 3:
            return human_bytes(item.size)
        if column == 4:
            return dt.datetime.fromtimestamp(item.added).strftime("%Y-%m-%d %H:%M")
        return ", ".join(item.tags)


class _Filter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.text, self.modality = "", ""
        self.setSortRole(Qt.ItemDataRole.UserRole)

    def filterAcceptsRow(self, row, parent) -> bool:  # noqa: N802
        item = self.sourceModel().items[row]
        return ((not self.modality or item.modality == self.modality)
                and (not self.text or self.text in item.path.lower()))


class LibraryTab(QWidget):
    changed = Signal()  # the library's content changed (the map and status bar follow)
    report_shown = Signal(object)  # IngestReport or VerifyReport

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.job = None
        self.report = None
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)

        bar = QHBoxLayout()
        self.buttons = {}
        for name, label, slot in (("add-folder", "Add folder…", self.choose_folder),
                                  ("add-files", "Add files…", self.choose_files),
                                  ("rescan", "Re-scan", self.rescan),
                                  ("verify", "Verify", self.verify),
                                  ("remove", "Remove", self.remove_selected)):
            button = QPushButton(label)
            button.setObjectName(f"library-{name}")
            button.clicked.connect(slot)
            bar.addWidget(button)
            self.buttons[name] = button
        bar.addStretch(1)
        self.filter_text = QLineEdit()
        self.filter_text.setPlaceholderText("Filter by path")
        self.filter_text.setClearButtonEnabled(True)
        self.filter_modality = QComboBox()
        self.filter_modality.addItem("All kinds", "")
        for modality in ("image", "audio", "3d"):
            self.filter_modality.addItem(MODALITY_LABELS[modality], modality)
        bar.addWidget(self.filter_text)
        bar.addWidget(self.filter_modality)
        layout.addLayout(bar)

        progress_row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setObjectName("library-progress")
        self.progress_label = QLabel("")
        self.cancel = QPushButton("Cancel")
        self.cancel.setObjectName("library-cancel")
        self.cancel.clicked.connect(self.cancel_job)
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.progress_label, 2)
        progress_row.addWidget(self.cancel)
        self.progress_widgets = (self.progress, self.progress_label, self.cancel)
        layout.addLayout(progress_row)
        self._busy(False)

        self.model = ItemsModel(self)
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setObjectName("library-items")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.filter_text.textChanged.connect(self._refilter)
        self.filter_modality.currentIndexChanged.connect(self._refilter)

        self.stats = QLabel("")
        self.stats.setObjectName("library-stats")
        self.stats.setWordWrap(True)
        self.stats.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.report_view = QTreeWidget()
        self.report_view.setObjectName("library-report")
        self.report_view.setHeaderLabels(["File", "Why it was skipped"])
        self.report_view.setRootIsDecorated(False)
        self.report_title = QLabel("<b>Last report</b>")
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("<b>Statistics</b>"))
        side_layout.addWidget(self.stats)
        side_layout.addWidget(self.report_title)
        side_layout.addWidget(self.report_view, 1)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)

    # ------------------------------------------------------------------ listing
    def refresh(self) -> None:
        def done(found) -> None:
            items, stats = found
            self.model.set_items(items)
            self.table.resizeColumnsToContents()
            self.show_stats(stats)

        self.ctx.run("listing the library",
                     lambda p, c: (self.ctx.session.items(), self.ctx.session.stats()),
                     on_done=done, group="library-list")

    def show_stats(self, stats: dict) -> None:
        kinds = ", ".join(f"{n} {MODALITY_NAMES.get(m, m)}"
                          for m, n in sorted(stats["modalities"].items()))
        roots = "<br>".join(stats["roots"]) or "none yet"
        self.stats.setText(f"{stats['items']} items ({kinds or 'none'})<br>"
                           f"{stats['files']} files, {human_bytes(stats['bytes'])}<br>"
                           f"searchable: {stats['indexed']}<br>space: {stats['pack']}<br>"
                           f"library: {stats['folder']}<br>folders: {roots}")

    def _refilter(self) -> None:
        self.proxy.text = self.filter_text.text().lower()
        self.proxy.modality = self.filter_modality.currentData()
        self.proxy.invalidate()

    # ------------------------------------------------------------------ adding
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add(paths)
        event.acceptProposedAction()

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a folder to the library")
        if folder:
            self.add([folder])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add files to the library")
        if files:
            self.add(files)

    def add(self, paths: list[str]) -> None:
        session = self.ctx.session
        self._start("adding files", lambda p, c: (session.add(paths, progress=p, cancel=c),
                                                  session.info()), self._added)

    def rescan(self) -> None:
        session = self.ctx.session
        self._start("re-scanning", lambda p, c: (session.rescan(p, c), session.info()),
                    self._added)

    def _added(self, found) -> None:
        report, info = found
        self.show_report(report)
        c = report.counts()
        level = "warning" if report.skipped or report.cancelled else "success"
        text = f"Library: {report.summary()}."
        if report.skipped:
            text += " The skipped files and why are listed in the Library tab."
        self.ctx.notifications.notify(level, text)
        self.ctx.session_changed(info)
        if c["indexed"] or report.cancelled:
            self.changed.emit()
        self.refresh()

    def show_report(self, report) -> None:
        self.report = report
        self.report_view.clear()
        if hasattr(report, "counts"):
            c = report.counts()
            self.report_title.setText(
                f"<b>Last report</b>: {c['indexed']} indexed, {c['duplicate']} duplicates, "
                f"{c['unchanged']} unchanged, {c['skipped']} skipped"
                + (f", {report.ignored} other files ignored" if report.ignored else "")
                + (" — cancelled; add again to continue" if report.cancelled else ""))
            for r in report.skipped:
                self.report_view.addTopLevelItem(QTreeWidgetItem([r.path, r.reason]))
        else:  # VerifyReport
            state = "all files as they were" if report.ok else (
                f"{len(report.missing)} missing, {len(report.changed)} changed — Re-scan to "
                "forget missing files and read changed ones again")
            self.report_title.setText(f"<b>Verify</b>: {report.files} files, {state}; index "
                                      f"{report.index_count} of {report.items_with_vectors}")
            for path in report.missing:
                self.report_view.addTopLevelItem(QTreeWidgetItem([path, "missing"]))
            for path in report.changed:
                self.report_view.addTopLevelItem(QTreeWidgetItem([path, "changed since read"]))
        self.report_view.resizeColumnToContents(0)
        self.report_shown.emit(report)

    def verify(self) -> None:
        self._start("verifying", lambda p, c: self.ctx.session.verify(p, c), self._verified)

    def _verified(self, report) -> None:
        self.show_report(report)
        self.ctx.notifications.notify("success" if report.ok else "warning",
                                      f"Verify: {report.files} files checked, "
                                      f"{len(report.missing)} missing, {len(report.changed)} "
                                      "changed.")

    # ------------------------------------------------------------------ removing
    def selected_items(self) -> list:
        rows = {self.proxy.mapToSource(i).row() for i in self.table.selectionModel()
                .selectedRows()}
        return [self.model.items[r] for r in sorted(rows)]

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Remove from the library", text)
        return answer == QMessageBox.StandardButton.Yes

    def remove_selected(self) -> None:
        items = self.selected_items()
        if not items:
            self.ctx.notifications.notify("info", "Select the items to remove in the list.")
            return
        if not self.confirm(f"Remove {len(items)} items from the library? The files stay "
                            "on disk."):
            return
        ids = [i.id for i in items]
        session = self.ctx.session

        def done(found) -> None:
            gone, info = found
            self.ctx.notifications.notify("success", f"{len(gone)} items removed from the "
                                                     "library.")
            self.ctx.session_changed(info)
            self.changed.emit()
            self.refresh()

        self._start("removing items", lambda p, c: (session.remove(ids), session.info()), done)

    # ------------------------------------------------------------------ jobs
    def _start(self, name: str, fn, on_done) -> None:
        if self.job is not None:
            self.ctx.notifications.notify("info", f"Wait for {self.job.name} to finish, or "
                                                  "cancel it.")
            return
        self._busy(True, name)

        def finish(result) -> None:
            self.job = None
            self._busy(False)
            on_done(result)

        def failed(err, details) -> None:
            self.job = None
            self._busy(False)
            self.ctx.notifications.error(err, details)
            self.refresh()

        self.job = self.ctx.run(name, fn, on_done=finish, on_error=failed,
                                on_progress=self._progress)

    def _progress(self, p: Progress) -> None:
        if p.total:
            self.progress.setRange(0, p.total)
            self.progress.setValue(p.done)
            self.progress_label.setText(f"{p.stage}: {p.done} of {p.total} files")
        else:
            self.progress.setRange(0, 0)
            self.progress_label.setText(f"{p.stage}…")

    def _busy(self, busy: bool, name: str = "") -> None:
        for widget in self.progress_widgets:
            widget.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
            self.progress_label.setText(f"{name}…")
        for key in ("add-folder", "add-files", "rescan", "verify", "remove"):
            if key in getattr(self, "buttons", {}):
                self.buttons[key].setEnabled(not busy)

    def cancel_job(self) -> None:
        if self.job is not None:
            self.ctx.runner.cancel(self.job)
            self.progress_label.setText("cancelling…")
