"""Preview pictures scaled to the size they are shown at, decoded once.

Decoding a preview PNG costs about a millisecond; a search shows a few dozen, so decoding them
when results arrive would double the time from a drop to the results on screen. The cache is
filled ahead: when a library opens or changes, a background thread decodes its items' previews
(newest first, within a memory budget); a preview not there yet is decoded when first shown.
QImage may be made on any thread; the GUI turns it into an icon."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader

BUDGET_BYTES = 48 << 20  # about 600 thumbnails of 148x148


class Thumbnails:
    def __init__(self, budget_bytes: int = BUDGET_BYTES) -> None:
        self.budget = budget_bytes
        self._images: OrderedDict[tuple, QImage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def image(self, path: str, size: QSize) -> QImage | None:
        """The picture at `path` scaled to fit `size` (aspect kept); None when it cannot be read.
        Cached by path, modification time and size, so a rewritten preview is read again."""
        try:
            key = (path, os.stat(path).st_mtime_ns, size.width(), size.height())
        except OSError:
            return None
        with self._lock:
            image = self._images.get(key)
            if image is not None:
                self._images.move_to_end(key)
                return image
        image = _decode(path, size)
        if image is None:
            return None
        with self._lock:
            if key not in self._images:
                self._images[key] = image
                self._bytes += image.sizeInBytes()
            while self._bytes > self.budget and len(self._images) > 1:
                _, old = self._images.popitem(last=False)
                self._bytes -= old.sizeInBytes()
        return image

    def prefetch(self, entries: Iterable[tuple[str, QSize]]) -> None:
        """Decode `entries` (path, size) on a background thread, stopping the previous one and
        stopping at the budget; what is shown meanwhile is decoded on the spot."""
        self.stop()
        stop = self._stop = threading.Event()
        entries = list(entries)

        def run() -> None:
            used = 0
            for path, size in entries:
                if stop.is_set() or used > self.budget:
                    return
                image = self.image(path, size)
                used += image.sizeInBytes() if image is not None else 0

        self._thread = threading.Thread(target=run, name="thumbnails", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __len__(self) -> int:
        return len(self._images)


def _decode(path: str, size: QSize) -> QImage | None:
    reader = QImageReader(path)
    image = reader.read()
    if image.isNull():
        return None
    return image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)
