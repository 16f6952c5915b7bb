"""Recording a query from the microphone (sounddevice), with a level for a meter and cancel.

`record` reads fixed blocks from an input stream until it has the asked length, reporting each
block's peak level; the stream is opened by `open_stream(rate, block)`, by default the default
input device's, so tests (and CI, which has no sound card) inject a fake one."""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np

from core.errors import Cancelled, EmptyInputError, ResourceUnavailableError, UsageError

MAX_SECONDS = 60.0
SILENT_PEAK = 1e-4
FLOOR_DB = -90.0
NO_MIC_HINT = ("Connect a microphone (or enable the input device in the system's sound "
               "settings), or drop a recording file instead.")


def input_available() -> str | None:
    """None when an input device exists, else why not, in words."""
    try:
        import sounddevice
    except (OSError, ImportError) as err:  # PortAudio (or the package) is missing
        return f"the audio system is not available ({err})"
    try:
        devices = sounddevice.query_devices()
    except Exception as err:  # PortAudio failed to list devices
        return f"the audio system reported an error ({err})"
    if not any(d.get("max_input_channels", 0) > 0 for d in devices):
        return "no microphone was found"
    return None


def _default_stream(rate: int, block: int) -> AbstractContextManager:
    reason = input_available()
    if reason is not None:
        raise ResourceUnavailableError(f"Cannot record: {reason}", hint=NO_MIC_HINT)
    import sounddevice

    try:
        return sounddevice.InputStream(samplerate=rate, channels=1, dtype="float32",
                                       blocksize=block)
    except sounddevice.PortAudioError as err:
        raise ResourceUnavailableError(f"The microphone could not be opened ({err})",
                                       hint=NO_MIC_HINT) from err


def record(seconds: float, *, rate: int = 48_000,
           level: Callable[[float, float], None] | None = None,
           cancel: Callable[[], bool] | None = None,
           open_stream: Callable[[int, int], AbstractContextManager] | None = None,
           block: int = 2048) -> tuple[np.ndarray, int]:
    """`seconds` of mono float32 audio at `rate`; calls `level(peak_dBFS, elapsed_s)` after
    every block and stops with `Cancelled` when `cancel()` says so."""
    if not 0 < seconds <= MAX_SECONDS:
        raise UsageError(f"A recording must last between 0 and {MAX_SECONDS:.0f} seconds, "
                         f"not {seconds}")
    wanted = int(round(seconds * rate))
    chunks, got = [], 0
    stream = (open_stream or _default_stream)(rate, block)
    with stream as source:
        while got < wanted:
            if cancel is not None and cancel():
                raise Cancelled("Recording cancelled")
            data, _overflowed = source.read(min(block, wanted - got))
            chunk = np.asarray(data, np.float32).reshape(len(data), -1).mean(axis=1)
            chunks.append(chunk)
            got += len(chunk)
            if level is not None:
                peak = float(np.abs(chunk).max()) if len(chunk) else 0.0
                db = 20 * math.log10(peak) if peak > 0 else FLOOR_DB
                level(max(FLOOR_DB, db), got / rate)
    samples = np.concatenate(chunks)[:wanted] if chunks else np.zeros(0, np.float32)
    if len(samples) == 0 or float(np.abs(samples).max()) < SILENT_PEAK:
        raise EmptyInputError("The recording is silent",
                              hint="Check that the microphone is not muted and record again.")
    return samples, rate
