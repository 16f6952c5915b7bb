"""Playing a sound (a query, a result) on the default output without blocking (sounddevice).

`Player` takes a `backend` with `play(samples, rate)`, `stop()` and `is_playing()`; the
default one is sounddevice's. With no output device, `play` raises `ResourceUnavailableError`:
listening is optional, searching never needs it."""

from __future__ import annotations

import numpy as np

from core.errors import ResourceUnavailableError

NO_OUTPUT_HINT = "Connect speakers or headphones to listen; search does not need them."


class _SoundDevice:
    def __init__(self) -> None:
        try:
            import sounddevice
        except (OSError, ImportError) as err:
            raise ResourceUnavailableError(f"No sound output: the audio system is not "
                                           f"available ({err})", hint=NO_OUTPUT_HINT) from err
        self._sd = sounddevice
        try:
            devices = sounddevice.query_devices()
        except Exception as err:
            raise ResourceUnavailableError(f"No sound output ({err})",
                                           hint=NO_OUTPUT_HINT) from err
        if not any(d.get("max_output_channels", 0) > 0 for d in devices):
            raise ResourceUnavailableError("No sound output device was found",
                                           hint=NO_OUTPUT_HINT)

    def play(self, samples: np.ndarray, rate: int) -> None:
        try:
            self._sd.play(samples, rate)
        except self._sd.PortAudioError as err:
            raise ResourceUnavailableError(f"The sound output could not be opened ({err})",
                                           hint=NO_OUTPUT_HINT) from err

    def stop(self) -> None:
        self._sd.stop()

    def is_playing(self) -> bool:
        try:
            return bool(self._sd.get_stream().active)
        except RuntimeError:  # nothing was played yet
            return False


class Player:
    def __init__(self, backend=None) -> None:
        self._backend = backend

    def _get(self):
        if self._backend is None:
            self._backend = _SoundDevice()
        return self._backend

    def play(self, samples: np.ndarray, rate: int) -> None:
        """Play a mono clip, stopping whatever was playing."""
        backend = self._get()
        backend.stop()
        clip = np.asarray(samples, np.float32).reshape(-1)
        peak = float(np.abs(clip).max()) if len(clip) else 0.0
        backend.play(clip / peak * 0.9 if peak > 1.0 else clip, int(rate))

    def stop(self) -> None:
        if self._backend is not None:
            self._backend.stop()

    def is_playing(self) -> bool:
        return self._backend is not None and self._backend.is_playing()
