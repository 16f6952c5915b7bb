"""Decode a user's recording to float32 mono samples at the rate an encoder wants.

Entry points over one implementation:

* `read_audio(path, rate, max_seconds=600.0) -> Audio`: the samples plus what happened to them:
  `Audio(samples, rate, seconds, truncated, source_rate, source_channels, source_seconds)`.
  `truncated` is True when the file is longer than `max_seconds` and only its first
  `max_seconds` were read; `source_seconds` is the whole file's length from its header.
* `load_audio(path, rate, max_seconds=600.0) -> np.ndarray`: just `read_audio(...).samples`, for
  callers that do not care (the encoders).
* `from_array(samples, source_rate, rate)`: a raw recording (the microphone's) the same way.

Decoding is libsndfile's (WAV, FLAC, Ogg Vorbis/Opus, and MP3 when the installed libsndfile has
it), whatever the file is named. Channels are averaged to mono; a file whose rate differs from
`rate` is resampled with soxr (high quality, streaming). The file is read in blocks of about a
quarter million samples, mixed and resampled block by block into one preallocated output, and never
past `max_seconds`: memory is the output (at 48 kHz, 600 s is 110 MiB) plus one block, whatever
the file's length. Non-finite samples (float WAVs) become 0 / +-1.

Failures, each naming the file: empty (0-byte) or undecodable files -> `CorruptFileError`; files
that are another kind of thing -> `UnsupportedFileError`; no samples, shorter than
`MIN_SECONDS` (0.1 s, "too short") or peak level below `SILENCE_PEAK` (1e-4, "silent recording")
-> `EmptyInputError`.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from core.errors import (
    CorruptFileError,
    EmptyInputError,
    InputTooLargeError,
    ResourceUnavailableError,
    UnsupportedFileError,
)
from core.io.kinds import AUDIO, check_file, decode_error, detect_format, mp3_supported

MAX_SECONDS = 600.0
MIN_SECONDS = 0.1
SILENCE_PEAK = 1e-4
BLOCK_SAMPLES = 1 << 18  # samples (frames x channels) decoded at a time


@dataclass(frozen=True)
class Audio:
    samples: np.ndarray  # float32, mono, at `rate`
    rate: int
    seconds: float  # len(samples) / rate
    truncated: bool  # the file was longer than max_seconds; only its start was read
    source_rate: int
    source_channels: int
    source_seconds: float  # the whole file, from its header


def _soundfile():
    try:
        import soundfile
    except (ImportError, OSError) as err:
        raise ResourceUnavailableError(
            f"the audio decoder (libsndfile) is not available ({err})",
            hint="Reinstall with scripts/setup.",
        ) from None
    return soundfile


def _resampler(source_rate: int, rate: int):
    try:
        import soxr
    except ImportError as err:
        raise ResourceUnavailableError(f"the resampler (soxr) is not available ({err})",
                                       hint="Reinstall with scripts/setup.") from None
    return soxr.ResampleStream(source_rate, rate, 1, dtype="float32", quality="HQ")


class _Output:
    """A preallocated float32 buffer that grows only if a header under-reported the length."""

    def __init__(self, expected: int) -> None:
        self.data = np.empty(max(expected, 1), dtype=np.float32)
        self.size = 0

    def append(self, chunk: np.ndarray) -> None:
        need = self.size + len(chunk)
        if need > len(self.data):
            grown = np.empty(max(need, len(self.data) + len(self.data) // 2), dtype=np.float32)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size:need] = chunk
        self.size = need

    def result(self, length: int) -> np.ndarray:
        if length > self.size:  # the resampler's tail fell a sample or two short
            self.append(np.zeros(length - self.size, dtype=np.float32))
        if length < len(self.data) // 2:
            return self.data[:length].copy()  # give the unused tail back
        return self.data[:length]


def read_audio(path: str | os.PathLike, rate: int, *,
               max_seconds: float = MAX_SECONDS) -> Audio:
    """The recording at `path` as float32 mono at `rate`, at most `max_seconds` of it."""
    if not isinstance(rate, int) or rate <= 0:
        raise ValueError(f"rate must be a positive int, not {rate!r}")
    if not (max_seconds > 0 and math.isfinite(max_seconds)):
        raise ValueError(f"max_seconds must be a positive number, not {max_seconds!r}")
    if check_file(path) == 0:
        raise CorruptFileError("the file is empty (0 bytes)", path=path)
    if detect_format(path) == "mp3" and not mp3_supported():
        raise UnsupportedFileError("MP3 cannot be decoded by the installed libsndfile", path=path,
                                   hint="Convert it to WAV or FLAC.")
    sf = _soundfile()
    try:
        handle = sf.SoundFile(os.fspath(path))
    except (RuntimeError, ValueError, TypeError, OSError) as err:
        raise decode_error(path, AUDIO, f"not a readable recording ({_reason(err)})") from None
    with handle:
        source_rate, channels, frames = handle.samplerate, handle.channels, handle.frames
        header_frames = frames
        if source_rate <= 0 or channels <= 0:
            raise CorruptFileError(f"the header is invalid ({channels} channels at "
                                   f"{source_rate} Hz)", path=path)
        limit = max(1, math.ceil(max_seconds * source_rate))
        if frames < 0 or frames > 1 << 62:  # length unknown (some streams): read up to limit
            frames = limit + 1
        to_read = min(frames, limit)
        resampler = _resampler(source_rate, rate) if source_rate != rate else None
        out = _Output(math.ceil(to_read * rate / source_rate) + 64)
        block = max(1024, BLOCK_SAMPLES // channels)
        done = 0
        try:
            while done < to_read:
                data = handle.read(min(block, to_read - done), dtype="float32", always_2d=True)
                if len(data) == 0:
                    break  # the file holds fewer frames than its header says
                done += len(data)
                mono = data[:, 0] if channels == 1 else data.mean(axis=1, dtype=np.float32)
                mono = np.nan_to_num(np.ascontiguousarray(mono), copy=False, nan=0.0,
                                     posinf=1.0, neginf=-1.0)
                out.append(resampler.resample_chunk(mono) if resampler else mono)
            if resampler is not None:
                out.append(resampler.resample_chunk(np.zeros(0, np.float32), last=True))
        except (RuntimeError, ValueError, TypeError, OSError) as err:
            raise CorruptFileError(f"the audio data cannot be decoded ({_reason(err)})",
                                   path=path) from None
        except MemoryError:
            raise InputTooLargeError("not enough memory to decode it", path=path) from None
    truncated = frames > limit and done >= limit
    samples = out.result(round(done * rate / source_rate))
    seconds = len(samples) / rate
    _check_signal(samples, rate, path)
    return Audio(
        samples=samples,
        rate=rate,
        seconds=seconds,
        truncated=truncated,
        source_rate=source_rate,
        source_channels=channels,
        source_seconds=(header_frames if 0 < header_frames < 1 << 62 else done) / source_rate,
    )


def load_audio(path: str | os.PathLike, rate: int, *,
               max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Float32 mono samples at `rate` (`read_audio(...).samples`)."""
    return read_audio(path, rate, max_seconds=max_seconds).samples


def from_array(samples, source_rate: int, rate: int, *, name: str = "the recording"
               ) -> np.ndarray:
    """A raw recording (e.g. from the microphone; [N] or [N, channels]) as float32 mono at
    `rate`, refused like a file would be when empty, too short or silent (`name` in the
    message). At most MAX_SECONDS are kept."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    x = np.nan_to_num(x.reshape(-1)[: int(MAX_SECONDS * source_rate)], nan=0.0, posinf=1.0,
                      neginf=-1.0)
    if source_rate != rate and len(x):
        resampler = _resampler(int(source_rate), rate)
        x = np.concatenate([resampler.resample_chunk(x),
                            resampler.resample_chunk(np.zeros(0, np.float32), last=True)])
    _check_signal(x, rate, name)
    return np.ascontiguousarray(x, dtype=np.float32)


def _check_signal(samples: np.ndarray, rate: int, path) -> None:
    seconds = len(samples) / rate
    if len(samples) == 0:
        raise EmptyInputError("the recording has no samples", path=path)
    if seconds < MIN_SECONDS:
        raise EmptyInputError(f"the recording is too short ({seconds:.3f} s; at least "
                              f"{MIN_SECONDS:g} s is needed)", path=path)
    peak = max(float(samples.max()), -float(samples.min()))  # no |x| copy of a long array
    if peak < SILENCE_PEAK:
        raise EmptyInputError(f"silent recording (peak level {peak:.1e}, below "
                              f"{SILENCE_PEAK:g})", path=path,
                              hint="Record again closer to the sound, or check the input level.")


def _reason(err: Exception) -> str:
    text = str(err).strip() or type(err).__name__
    return text.removeprefix("Error opening ").strip()
