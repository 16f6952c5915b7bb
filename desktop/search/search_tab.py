"""The Search tab: a query (text, dropped or opened file, pasted picture, recording) on the
left; its nearest items of every modality on the right, as a grid, a list or on the map."""

from __future__ import annotations

import os

import numpy as np
from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPixmap,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.progress import Progress
from desktop.context import Context
from desktop.search.map_view import MapView
from desktop.search.query_panel import QueryPanel, pil_to_qimage
from desktop.search.record_dialog import RecordDialog
from desktop.search.results import THUMBNAILS, ResultsGrid, ResultsList, strip_size
from desktop.theme import MODALITY_LABELS
from desktop.widgets.cloud_view import CloudView

SEARCHING_SHOWN_AFTER_MS = 150  # a search running longer says so
FILTERS = ("image", "audio", "3d")
FILE_FILTER = ("Images, sounds and 3D scans (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp "
               "*.wav *.flac *.ogg *.mp3 *.ply *.pcd *.xyz *.obj *.stl *.off);;All files (*)")


def qimage_to_array(image: QImage) -> np.ndarray:
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, line = rgb.width(), rgb.height(), rgb.bytesPerLine()
    data = np.frombuffer(rgb.constBits(), np.uint8, count=line * h).reshape(h, line)
    return data[:, : 3 * w].reshape(h, w, 3).copy()


class SearchTab(QWidget):
    searched = Signal(object)  # core.session.SearchResult, once its hits are shown
    map_ready = Signal()

    def __init__(self, ctx: Context, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.result = None
        self._filled: set = set()  # the views (grid, list) showing `result`
        self._map_wanted = False
        self._query_sound = None  # (samples, rate) of the current query, for Play
        self._record_job = None
        self.record_dialog: RecordDialog | None = None
        self._searching = QTimer(self)  # "Searching…" only for a search that takes a while:
        self._searching.setSingleShot(True)  # rewriting it for a 10 ms one costs a repaint
        self._searching.setInterval(SEARCHING_SHOWN_AFTER_MS)  # while the engine works
        self._searching.timeout.connect(lambda: self.info.setText("Searching…"))

        self.query = QueryPanel()
        self.query.text_submitted.connect(self.search_text)
        self.query.files_given.connect(self.search_files)
        self.query.image_given.connect(self.search_image)
        self.query.open_requested.connect(self.open_file)
        self.query.paste_requested.connect(self.paste)
        self.query.record_requested.connect(self.start_recording)
        self.query.play_requested.connect(self.toggle_query_sound)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.filters: dict[str, QPushButton] = {}
        for modality in FILTERS:
            button = QPushButton(MODALITY_LABELS[modality])
            button.setCheckable(True)
            button.setChecked(True)
            button.setObjectName(f"filter-{modality}")
            button.toggled.connect(self._filter_changed)
            self.filters[modality] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.info = QLabel("")
        self.info.setObjectName("search-info")
        # Its text changes with every search: a width it may not ask for keeps the panel's
        # layout (and a repaint of the results) out of each change.
        self.info.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.views = QButtonGroup(self)
        for n, label in enumerate(("Grid", "List", "Map")):
            button = QPushButton(label)
            button.setCheckable(True)
            button.setObjectName(f"view-{label.lower()}")
            self.views.addButton(button, n)
            bar.addWidget(button)
        self.views.button(0).setChecked(True)
        self.views.idClicked.connect(self.show_view)
        right_layout.addLayout(bar)
        right_layout.addWidget(self.info)

        self.grid, self.list, self.map = ResultsGrid(), ResultsList(), MapView()
        self.stack = QStackedWidget()
        for view in (self.grid, self.list, self.map):
            self.stack.addWidget(view)
        for view in (self.grid, self.list):
            view.activated.connect(self.open_hit)
            view.menu_requested.connect(self.hit_menu)
        self.map.activated.connect(self.search_item)
        right_layout.addWidget(self.stack, 1)

        splitter = QSplitter()
        splitter.addWidget(self.query)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 770])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)

        for keys, slot in ((QKeySequence.StandardKey.Find, self.query.text.setFocus),
                           (QKeySequence.StandardKey.Open, self.open_file),
                           (QKeySequence.StandardKey.Paste, self.paste),
                           (QKeySequence(Qt.Key.Key_Space), self.toggle_play)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        ctx.playback.state_changed.connect(self._playing_changed)
        ctx.playback.position.connect(self.query.waveform.set_position)

    # ------------------------------------------------------------------ queries
    def search_text(self, text: str) -> None:
        text = text.strip()
        if not text:
            self.ctx.notifications.notify("info", "Type what you are looking for, e.g. "
                                                  "“grinding noise from a worn bearing”.")
            return
        self.query.show_text(text)
        self._query_sound = None
        self._run(f'searching for "{text}"',
                  lambda p, c, k, m: (self.ctx.session.search_text(text, k, m), None))

    def search_files(self, paths: list) -> None:
        if not paths:
            return
        path = str(paths[0])
        if len(paths) > 1:
            self.ctx.notifications.notify("info", f"Searching with the first of {len(paths)} "
                                                  f"files: {os.path.basename(path)}.")
        if os.path.isdir(path):
            self.ctx.notifications.notify("warning", f"{path} is a folder. To add it to the "
                                                     "library, drop it on the Library tab.")
            return
        self._run(f"searching with {os.path.basename(path)}",
                  lambda p, c, k, m: (self.ctx.session.search_file(path, k, m), None))
        self._preview(path)

    def search_image(self, image: QImage) -> None:
        if image.isNull():
            self.ctx.notifications.notify("warning", "The clipboard holds no picture. Copy an "
                                                     "image (or an image file) and paste again.")
            return
        array = qimage_to_array(image)
        self.query.show_image(image, "pasted image")
        self._query_sound = None
        self._run("searching with the pasted image",
                  lambda p, c, k, m: (self.ctx.session.search_image(array, k, m), None))

    def search_item(self, item_id: int) -> None:
        """More like this: an item of the library as the query."""
        def shown(result) -> None:
            if os.path.isfile(result.query.source):
                self._preview(result.query.source)

        self._run(f"searching like item {item_id}",
                  lambda p, c, k, m: (self.ctx.session.search_item(item_id, k, m), None),
                  then=shown)

    def _preview(self, path: str) -> None:
        """Decode the query file for its preview after the search: results come first."""
        def show(decoded) -> None:
            self.query.show_decoded(decoded)
            if decoded.modality == "audio":
                self._query_sound = (decoded.samples, decoded.rate)

        self.ctx.run(f"previewing {os.path.basename(path)}",
                     lambda p, c: self.ctx.session.decode(path), on_done=show,
                     on_error=lambda err, details: None, group="preview")

    def search_recording(self, samples: np.ndarray, rate: int) -> None:
        self.query.show_sound(samples, rate, "recording")
        self._query_sound = (samples, rate)
        self._run("searching with the recording",
                  lambda p, c, k, m: (self.ctx.session.search_recording(samples, rate, k, m),
                                      None))

    def _run(self, name: str, fn, then=None) -> None:
        k = self.ctx.settings.results

        def done(found) -> None:
            self._searching.stop()
            self._show(found[0])
            if then is not None:
                then(found[0])

        def failed(err, details) -> None:
            self._searching.stop()
            self.info.setText("The search failed (see the message above).")
            self.ctx.notifications.error(err, details)

        self._searching.start()
        self.ctx.run(name, lambda p, c: fn(p, c, k, None), on_done=done, on_error=failed,
                     group="search")

    def _show(self, result) -> None:
        self.result = result
        self._filled = set()  # the grid and the list are filled when shown
        self._fill_current_view()
        counts = {m: sum(h.modality == m for h in result.hits) for m in FILTERS}
        self.info.setText(f"{len(result.hits)} results for {result.query.modality} query · "
                          f"{result.seconds * 1000:.0f} ms")
        for modality, button in self.filters.items():
            button.setText(f"{MODALITY_LABELS[modality]} ({counts[modality]})")
        self.map.set_query(result.query.vector, [h.item_id for h in result.hits])
        self.searched.emit(result)

    # ------------------------------------------------------------------ filters and views
    def visible_modalities(self) -> set[str]:
        return {m for m, b in self.filters.items() if b.isChecked()} | {"text"}

    def _filter_changed(self) -> None:
        visible = self.visible_modalities()
        for view in (self.grid, self.list, self.map):
            view.set_visible_modalities(visible)

    def show_view(self, index: int) -> None:
        self.views.button(index).setChecked(True)
        self.stack.setCurrentIndex(index)
        self._fill_current_view()
        if index == 2:
            self.load_map()

    def _fill_current_view(self) -> None:
        view = self.stack.currentWidget()
        if self.result is not None and view in (self.grid, self.list) \
                and view not in self._filled:
            view.show_hits(self.result.hits, self.visible_modalities())
            self._filled.add(view)

    def load_map(self) -> None:
        def shown(library_map) -> None:
            self.map.set_map(library_map)
            if self.result is not None:
                self.map.set_query(self.result.query.vector,
                                   [h.item_id for h in self.result.hits])
            self.map_ready.emit()

        self.ctx.run("laying out the library map",
                     lambda p, c: self.ctx.session.library_map(p, c), on_done=shown,
                     group="map")

    def library_changed(self) -> None:
        self.map.set_map(None)
        if self.stack.currentIndex() == 2:
            self.load_map()
        self.ctx.run("listing previews", lambda p, c: self.ctx.session.previews(),
                     on_done=lambda previews: THUMBNAILS.prefetch(
                         (path, strip_size(modality)) for modality, path in previews),
                     group="previews")

    # ------------------------------------------------------------------ open, paste, record
    def open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Search with a file", "", FILE_FILTER)
        if path:
            self.search_files([path])

    def paste(self) -> None:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls() and any(u.isLocalFile() for u in mime.urls()):
            self.search_files([u.toLocalFile() for u in mime.urls() if u.isLocalFile()])
        else:
            self.search_image(QGuiApplication.clipboard().image())

    def start_recording(self) -> None:
        from core.io.record import input_available

        if self.ctx.open_stream is None:
            reason = input_available()
            if reason is not None:
                self.ctx.notifications.notify(
                    "warning", f"Cannot record: {reason}. Connect a microphone (or enable "
                               "the input in the system's sound settings), or drop a recording "
                               "file instead.")
                return
        seconds = self.ctx.settings.record_seconds
        self.record_dialog = RecordDialog(seconds, self.ctx.countdown, self)
        self.record_dialog.go.connect(lambda: self._record(seconds))
        self.record_dialog.stopped.connect(self._stop_recording)
        self.record_dialog.show()
        self.record_dialog.start()

    def _record(self, seconds: int) -> None:
        from core.io.record import record

        stream = self.ctx.open_stream
        dialog = self.record_dialog

        def job(progress, cancel):
            def level(db: float, elapsed: float) -> None:
                progress(Progress("recording", int(elapsed * 1000), seconds * 1000,
                                  metrics={"level_db": db, "elapsed": elapsed}))

            return record(seconds, level=level, cancel=cancel, open_stream=stream)

        def on_progress(p: Progress) -> None:
            if p.metrics and dialog is not None:
                dialog.show_level(p.metrics["level_db"], p.metrics["elapsed"])

        def done(recorded) -> None:
            self._record_job = None
            if dialog is not None:
                dialog.close()
            self.search_recording(*recorded)

        def failed(err, details) -> None:
            self._record_job = None
            if dialog is not None:
                dialog.close()
            from core.errors import Cancelled

            if not isinstance(err, Cancelled):
                self.ctx.notifications.error(err, details)

        self._record_job = self.ctx.run("recording", job, on_done=done, on_error=failed,
                                        on_progress=on_progress)

    def _stop_recording(self) -> None:
        if self._record_job is not None:
            self.ctx.runner.cancel(self._record_job)

    # ------------------------------------------------------------------ hits
    def current_hit(self):
        view = self.grid if self.stack.currentIndex() == 0 else self.list
        return view.current_hit()

    def toggle_play(self) -> None:
        """Space: play or stop the selected sound (or the query's)."""
        if self.ctx.playback.is_playing():
            self.ctx.playback.stop()
            return
        hit = self.current_hit()
        if hit is not None and hit.modality == "audio":
            self.play_path(hit.path)
        elif self._query_sound is not None:
            self.toggle_query_sound()

    def toggle_query_sound(self) -> None:
        if self.ctx.playback.is_playing():
            self.ctx.playback.stop()
        elif self._query_sound is not None:
            self._play(*self._query_sound, key="query")

    def play_path(self, path: str) -> None:
        self.ctx.run(f"decoding {os.path.basename(path)}",
                     lambda p, c: self.ctx.session.decode(path, "audio"),
                     on_done=lambda d: self._play(d.samples, d.rate, key=path))

    def _play(self, samples, rate: int, key) -> None:
        from core.errors import MCRError

        try:
            self.ctx.playback.play(samples, rate, key)
        except MCRError as err:
            self.ctx.notifications.error(err)

    def _playing_changed(self, playing: bool) -> None:
        self.query.set_playing(playing and self.ctx.playback.playing_key == "query")
        if not playing:
            self.query.waveform.set_position(None)

    def open_hit(self, hit) -> None:
        """Double-click: sounds play, scans open in the 3D view, pictures in a viewer."""
        if hit.modality == "audio":
            self.play_path(hit.path)
            return
        self.ctx.run(f"opening {os.path.basename(hit.path)}",
                     lambda p, c: self.ctx.session.decode(hit.path, hit.modality),
                     on_done=self._show_large)

    def _show_large(self, decoded) -> None:
        dialog = QDialog(self)
        dialog.setObjectName("hit-viewer")
        dialog.setWindowTitle(os.path.basename(decoded.path))
        layout = QVBoxLayout(dialog)
        if decoded.modality == "3d":
            view = CloudView()
            view.set_points(decoded.points)
            layout.addWidget(view)
            dialog.resize(560, 560)
        else:
            picture = QLabel()
            picture.setPixmap(QPixmap.fromImage(pil_to_qimage(decoded.image)))
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(picture)
        layout.addWidget(QLabel(decoded.path))
        dialog.show()
        self.viewer = dialog

    def hit_menu(self, hit, position) -> None:
        menu = self.make_hit_menu(hit)
        menu.exec(position)

    def make_hit_menu(self, hit) -> QMenu:
        menu = QMenu(self)
        menu.addAction("Open file", lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(hit.path)))
        menu.addAction("Show in folder", lambda: QDesktopServices.openUrl(
            QUrl.fromLocalFile(os.path.dirname(hit.path))))
        menu.addAction("Copy path", lambda: QGuiApplication.clipboard().setText(hit.path))
        if hit.modality == "audio":
            menu.addAction("Play / stop (Space)", lambda: self.play_path(hit.path))
        menu.addSeparator()
        menu.addAction("Search with this item (more like this)",
                       lambda: self.search_item(hit.item_id))
        return menu

