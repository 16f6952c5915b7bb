"""Playing a sound (a query, a result) on the default output without blocking (sounddevice).

`Player(backend=None)` has `play(samples, rate)` (stops what was playing, then starts the clip and
returns at once), `stop()` and `is_playing()` (False once the clip has ended or was stopped).

The backend is any object with `play(samples, rate)`, `stop()` and `is_playing() -> bool`; tests
pass a fake one. The default, made on the first `play`, is the sounddevice module's
`play`/`stop`/`get_stream().active`; `sounddevice` is imported then, never when this module is.

A clip is played as mono float32: several channels are averaged, non-finite samples become 0 /
+-1, and a clip louder than full scale is scaled down to a peak of `LOUD_PEAK` rather than
clipped.

Listening is optional (search never needs it): with PortAudio missing, no device with an output
channel, or a stream PortAudio cannot open, `play` raises `ResourceUnavailableError` saying so;
`stop` and `is_playing` never fail.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any, Protocol

import numpy as np

from core.errors import ResourceUnavailableError, UsageError

NO_OUTPUT = "No sound output device was found"
NO_OUTPUT_HINT = "Connect speakers or headphones to listen; search does not need them."
LOUD_PEAK = 0.9  # a clip beyond full scale is scaled to this peak


class Backend(Protocol):
    def play(self, samples: np.ndarray, rate: int) -> None: ...

    def stop(self) -> None: ...

    def is_playing(self) -> bool: ...


class _SoundDevice:
    """The default output through sounddevice; refuses to exist without an output device."""

    def __init__(self) -> None:
        try:
            import sounddevice
        except (OSError, ImportError) as err:  # PortAudio (or the package itself) is missing
            raise ResourceUnavailableError(
                f"{NO_OUTPUT} (the audio system, PortAudio, is not available: {err})",
                hint=NO_OUTPUT_HINT) from err
        self._sd: Any = sounddevice
        try:
            devices = sounddevice.query_devices()
        except sounddevice.PortAudioError as err:
            raise ResourceUnavailableError(
                f"{NO_OUTPUT} (the audio system could not list the sound devices: {err})",
                hint=NO_OUTPUT_HINT) from err
        if not any(device.get("max_output_channels", 0) > 0 for device in devices):
            raise ResourceUnavailableError(NO_OUTPUT, hint=NO_OUTPUT_HINT)

    def play(self, samples: np.ndarray, rate: int) -> None:
        try:
            self._sd.play(samples, rate)
        except self._sd.PortAudioError as err:
            raise ResourceUnavailableError(f"{NO_OUTPUT} (the output could not be opened: {err})",
                                           hint=NO_OUTPUT_HINT) from err

    def stop(self) -> None:
        with suppress(self._sd.PortAudioError):  # a device gone while stopping: it is stopped
            self._sd.stop()

    def is_playing(self) -> bool:
        try:
            return bool(self._sd.get_stream().active)
        except (RuntimeError, self._sd.PortAudioError):  # nothing played yet / device gone
            return False


def _clip(samples: np.ndarray) -> np.ndarray:
    clip = np.asarray(samples, np.float32)
    if clip.ndim > 1:
        clip = clip.reshape(len(clip), -1).mean(axis=1)
    clip = np.nan_to_num(clip.reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0)
    peak = float(np.abs(clip).max()) if len(clip) else 0.0
    return (clip * (LOUD_PEAK / peak)).astype(np.float32) if peak > 1.0 else clip


class Player:
    """Plays one clip at a time on the default output (or `backend`) without blocking."""

    def __init__(self, backend: Backend | None = None) -> None:
        self._backend = backend

    def _get(self) -> Backend:
        if self._backend is None:  # not kept on failure: a device plugged in later is found
            self._backend = _SoundDevice()
        return self._backend

    def play(self, samples: np.ndarray, rate: int) -> None:
        """Play a mono clip, stopping whatever was playing; returns at once. Raises
        `ResourceUnavailableError` when there is no sound output."""
        if rate <= 0:
            raise UsageError(f"A sample rate must be positive, not {rate}")
        backend = self._get()
        backend.stop()
        clip = _clip(samples)
        if len(clip):
            backend.play(clip, int(rate))

    def stop(self) -> None:
        """Stop playing (nothing happens when nothing plays)."""
        if self._backend is not None:
            self._backend.stop()

    def is_playing(self) -> bool:
        """True while a clip plays; False once it has ended or was stopped."""
        return self._backend is not None and bool(self._backend.is_playing())
