"""Recording a query from the microphone (sounddevice), with a level for a meter and cancel.

* `record(seconds, rate=48_000, level=None, cancel=None, open_stream=None, block=2048)
  -> (samples, rate)`: `seconds` (0 < seconds <= `MAX_SECONDS`) of mono float32 audio. It reads
  `block` frames at a time from a stream opened by `open_stream(rate, block)` (by default the
  default input device's `sounddevice.InputStream`) into one preallocated buffer; after each block
  it calls `level(peak_dbfs, elapsed_seconds)` (the block's peak, floored at `FLOOR_DB`) and polls
  `cancel()`, which stops it with `Cancelled`. The result is exactly `round(seconds * rate)`
  samples long.
* `input_available() -> str | None`: None when an input device exists, else why not, in words,
  so the GUI can say so before the user clicks Record.

Failures: no PortAudio, no device with an input channel, or a stream PortAudio cannot open or
read -> `ResourceUnavailableError` saying what to do; a recording whose peak is below
`SILENT_PEAK` (digital silence: a muted microphone) -> `EmptyInputError`; a bad length ->
`UsageError`.

`sounddevice` is imported only when a device is needed, so importing this module never loads
PortAudio. The device check is skipped when `open_stream` is given: tests (and CI, which has no
sound card) inject a fake stream, any object usable as `with open_stream(rate, block) as s:` whose
`s.read(n)` returns `(data [n, channels] float32, overflowed)`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

import numpy as np

from core.errors import Cancelled, EmptyInputError, ResourceUnavailableError, UsageError

MAX_SECONDS = 60.0
SILENT_PEAK = 1e-4
FLOOR_DB = -90.0
NO_MIC_HINT = ("Connect a microphone (or enable the input device in the system's sound "
               "settings), or drop a recording file instead.")
NO_MIC_REASON = "no microphone was found"
SILENT_HINT = "Check that the microphone is not muted and record again."

OpenStream = Callable[[int, int], AbstractContextManager]


def _sounddevice() -> tuple[Any, str | None]:
    """(the sounddevice module, None), or (None, why it cannot be used)."""
    try:
        import sounddevice
    except (OSError, ImportError) as err:  # PortAudio (or the package itself) is missing
        return None, f"the audio system (PortAudio) is not available ({err})"
    return sounddevice, None


def input_available() -> str | None:
    """None when an input device exists, else the reason in words (lower case, no full stop)."""
    sd, reason = _sounddevice()
    if sd is None:
        return reason
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as err:
        return f"the audio system could not list the sound devices ({err})"
    if not any(device.get("max_input_channels", 0) > 0 for device in devices):
        return NO_MIC_REASON
    return None


class _Microphone:
    """A sounddevice stream whose PortAudio errors become `ResourceUnavailableError`."""

    def __init__(self, sd: Any, rate: int, block: int) -> None:
        self._error = sd.PortAudioError
        with self._translated("opened"):
            self._stream = sd.InputStream(samplerate=rate, channels=1, dtype="float32",
                                          blocksize=block)

    @contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        try:
            yield
        except self._error as err:
            raise ResourceUnavailableError(f"The microphone could not be {doing} ({err})",
                                           hint=NO_MIC_HINT) from err

    def __enter__(self) -> _Microphone:
        with self._translated("started"):
            self._stream.__enter__()
        return self

    def __exit__(self, *exc: object) -> bool:
        with suppress(self._error):  # a device gone while closing: the outcome stands
            self._stream.__exit__(*exc)
        return False

    def read(self, frames: int) -> tuple[np.ndarray, bool]:
        with self._translated("read"):
            return self._stream.read(frames)


def _default_stream(rate: int, block: int) -> _Microphone:
    reason = input_available()
    if reason is not None:
        what = ("No microphone was found" if reason == NO_MIC_REASON
                else f"No microphone can be used: {reason}")
        raise ResourceUnavailableError(what, hint=NO_MIC_HINT)
    sd, _ = _sounddevice()
    return _Microphone(sd, rate, block)


def _peak_db(peak: float) -> float:
    return max(FLOOR_DB, 20.0 * math.log10(peak)) if peak > 0 else FLOOR_DB


def record(seconds: float, *, rate: int = 48_000,
           level: Callable[[float, float], None] | None = None,
           cancel: Callable[[], bool] | None = None,
           open_stream: OpenStream | None = None,
           block: int = 2048) -> tuple[np.ndarray, int]:
    """`seconds` of mono float32 audio at `rate` from the default input (or `open_stream`'s);
    calls `level(peak_dbfs, elapsed_seconds)` after every block and stops with `Cancelled` when
    `cancel()` returns True. Returns (samples, rate), exactly `round(seconds * rate)` samples."""
    if not 0 < seconds <= MAX_SECONDS:  # also refuses NaN
        raise UsageError(f"A recording must last more than 0 and at most {MAX_SECONDS:.0f} "
                         f"seconds, not {seconds}")
    if rate <= 0 or block <= 0:
        raise UsageError(f"The sample rate and block size must be positive, not {rate} and "
                         f"{block}")
    wanted = int(round(seconds * rate))
    if wanted == 0:
        raise UsageError(f"A recording of {seconds} seconds at {rate} Hz has no samples")
    if cancel is not None and cancel():
        raise Cancelled("Recording cancelled")
    samples = np.zeros(wanted, np.float32)
    got = 0
    with (open_stream or _default_stream)(rate, block) as stream:
        while got < wanted:
            data, _overflowed = stream.read(min(block, wanted - got))
            data = np.asarray(data, np.float32)
            if data.size == 0:
                raise ResourceUnavailableError("The microphone stopped sending sound",
                                               hint=NO_MIC_HINT)
            chunk = data.reshape(len(data), -1).mean(axis=1)[: wanted - got]
            np.nan_to_num(chunk, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
            samples[got:got + len(chunk)] = chunk
            got += len(chunk)
            if level is not None:
                level(_peak_db(float(np.abs(chunk).max())), got / rate)
            if cancel is not None and cancel():
                raise Cancelled("Recording cancelled")
    if float(np.abs(samples).max()) < SILENT_PEAK:
        raise EmptyInputError("The recording is silent", hint=SILENT_HINT)
    return samples, rate
