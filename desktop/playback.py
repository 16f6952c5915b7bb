"""Playing sounds (a query, a result) without blocking: the engine's Player does the audio; this
tracks whether it still plays and where, for the Play/Stop buttons and the playhead."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer, Signal


class Playback(QObject):
    state_changed = Signal(bool)  # playing
    position = Signal(float)  # 0..1 of the clip

    def __init__(self, parent=None, backend=None) -> None:
        super().__init__(parent)
        self._backend = backend
        self._player = None
        self.playing_key: object = None  # what is playing (a path, "query")
        self._started, self._seconds = 0.0, 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._poll)

    def _get(self):
        if self._player is None:
            from core.io.playback import Player

            self._player = Player(backend=self._backend)
        return self._player

    def play(self, samples, rate: int, key: object = None) -> None:
        """Raises ResourceUnavailableError when there is no sound output."""
        self._get().play(samples, rate)
        self.playing_key = key
        self._started, self._seconds = time.monotonic(), len(samples) / max(rate, 1)
        self._timer.start()
        self.state_changed.emit(True)

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
        self._finish()

    def is_playing(self) -> bool:
        return self._player is not None and self._timer.isActive()

    def _poll(self) -> None:
        if not self._player.is_playing():
            self._finish()
            return
        self.position.emit(min(1.0, (time.monotonic() - self._started) / self._seconds)
                           if self._seconds else 0.0)

    def _finish(self) -> None:
        was = self._timer.isActive()
        self._timer.stop()
        self.playing_key = None
        if was:
            self.state_changed.emit(False)
