"""record / input_available with fake streams and faked sounddevice: CI has no sound card."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import sounddevice

from core.errors import Cancelled, EmptyInputError, ResourceUnavailableError, UsageError
from core.io.record import FLOOR_DB, input_available, record
from tests.core.io.helpers import ROOT

SINE_DB = 20 * math.log10(0.3)
SPEAKERS = {"name": "speakers", "max_input_channels": 0, "max_output_channels": 2}
MIC = {"name": "mic", "max_input_channels": 1, "max_output_channels": 0}


def _sine(start: int, n: int, rate: int, amplitude: float) -> np.ndarray:
    t = (start + np.arange(n)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


class Sine:
    """A fake input stream: a 440 Hz sine; `open_stream` and the stream in one object."""

    def __init__(self, amplitude: float = 0.3, quiet_blocks: int = 0,
                 quiet_amplitude: float = 0.0) -> None:
        self.amplitude, self.quiet_blocks, self.quiet = amplitude, quiet_blocks, quiet_amplitude
        self.at, self.asked, self.opened, self.closed = 0, [], None, False

    def __call__(self, rate: int, block: int) -> Sine:
        self.rate, self.opened = rate, (rate, block)
        return self

    def __enter__(self) -> Sine:
        return self

    def __exit__(self, *exc: object) -> bool:
        self.closed = True
        return False

    def read(self, n: int) -> tuple[np.ndarray, bool]:
        self.asked.append(n)
        amplitude = self.quiet if len(self.asked) <= self.quiet_blocks else self.amplitude
        data = _sine(self.at, n, self.rate, amplitude)
        self.at += n
        return data.reshape(-1, 1), False


def test_a_recording_has_its_length_and_reports_its_level_each_block():
    levels, stream = [], Sine()
    samples, rate = record(1.0, rate=16_000, block=1024, open_stream=stream,
                           level=lambda db, t: levels.append((db, t)))
    assert stream.opened == (16_000, 1024) and stream.closed
    assert rate == 16_000 and samples.dtype == np.float32 and samples.shape == (16_000,)
    np.testing.assert_allclose(samples, _sine(0, 16_000, 16_000, 0.3), atol=1e-7)
    assert len(levels) == math.ceil(16_000 / 1024) == len(stream.asked)
    assert all(abs(db - SINE_DB) < 0.1 for db, _ in levels)
    times = [t for _, t in levels]
    assert all(a < b for a, b in zip(times, times[1:], strict=False))
    assert times[0] == pytest.approx(1024 / 16_000) and times[-1] == pytest.approx(1.0)


def test_the_last_block_is_cut_to_the_asked_length():
    stream = Sine()
    samples, rate = record(0.1234, rate=16_000, block=512, open_stream=stream)
    assert rate == 16_000 and len(samples) == round(0.1234 * 16_000) == 1974
    assert stream.asked == [512, 512, 512, 438]


def test_a_stream_giving_more_than_asked_is_still_cut_exactly():
    class Generous(Sine):
        def read(self, n):
            return super().read(4096)

    samples, _ = record(0.5, rate=48_000, block=2048, open_stream=Generous())
    assert len(samples) == 24_000


@pytest.mark.parametrize("quiet", [0.0, 1e-6])  # silence, and -120 dB
def test_a_block_below_the_floor_reads_as_the_floor(quiet):
    levels = []
    stream = Sine(quiet_blocks=1, quiet_amplitude=quiet)
    samples, _ = record(0.5, rate=8000, block=1000, open_stream=stream,
                        level=lambda db, t: levels.append(db))
    assert levels[0] == FLOOR_DB and all(abs(db - SINE_DB) < 0.1 for db in levels[1:])
    assert np.abs(samples[:1000]).max() <= quiet and np.abs(samples[1000:]).max() > 0.29


def test_cancel_stops_a_recording_and_closes_the_stream():
    stream = Sine()
    with pytest.raises(Cancelled, match="Recording cancelled"):
        record(5.0, open_stream=stream, cancel=lambda: len(stream.asked) >= 3)
    assert len(stream.asked) == 3 and stream.closed


def test_silence_is_refused_with_what_to_do():
    with pytest.raises(EmptyInputError, match="The recording is silent") as err:
        record(0.5, open_stream=Sine(amplitude=0.0))
    assert "not muted" in err.value.hint
    with pytest.raises(EmptyInputError):
        record(0.5, open_stream=Sine(amplitude=5e-5))
    samples, _ = record(0.5, open_stream=Sine(amplitude=1e-3))  # quiet, but a signal
    assert np.abs(samples).max() > 9e-4


@pytest.mark.parametrize("seconds", [0, -1, 60.01, 120, float("nan")])
def test_bad_lengths_are_refused_before_opening_anything(seconds):
    stream = Sine()
    with pytest.raises(UsageError, match="60 seconds"):
        record(seconds, open_stream=stream)
    assert stream.opened is None


def test_the_longest_recording_is_allowed():
    samples, rate = record(60, rate=8000, block=8000, open_stream=Sine())
    assert len(samples) == 480_000 and rate == 8000


def test_no_microphone_is_said_with_what_to_do(monkeypatch):
    opened = []
    monkeypatch.setattr(sounddevice, "query_devices", lambda: [SPEAKERS])
    monkeypatch.setattr(sounddevice, "InputStream", lambda **kwargs: opened.append(kwargs))
    assert input_available() == "no microphone was found"
    with pytest.raises(ResourceUnavailableError, match="No microphone was found") as err:
        record(1.0)
    assert "Connect a microphone" in err.value.hint and "drop a recording file" in err.value.hint
    assert opened == []


class _NoPortAudio:
    """An import hook that fails the way sounddevice does without the PortAudio library."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


@pytest.mark.parametrize("how", ["no package", "no PortAudio"])
def test_no_audio_system_at_all(monkeypatch, how):
    if how == "no package":
        monkeypatch.setitem(sys.modules, "sounddevice", None)  # the import fails
    else:
        monkeypatch.delitem(sys.modules, "sounddevice")
        monkeypatch.setattr(sys, "meta_path", [_NoPortAudio(), *sys.meta_path])
    reason = input_available()
    assert reason is not None and "PortAudio" in reason
    with pytest.raises(ResourceUnavailableError, match="No microphone can be used") as err:
        record(1.0)
    assert "Connect a microphone" in err.value.hint


def _fake_input_stream(monkeypatch, fail_on: str | None = None) -> list:
    """Replace sounddevice.InputStream with a sine source; it may fail the PortAudio way."""
    made = []

    class FakeInputStream(Sine):
        def __init__(self, **kwargs):
            if fail_on == "open":
                raise sounddevice.PortAudioError("Error opening InputStream: Invalid device")
            super().__init__()
            self.rate, self.kwargs = kwargs["samplerate"], kwargs
            made.append(self)

        def read(self, n):
            if fail_on == "read" and self.asked:
                raise sounddevice.PortAudioError("Stream is stopped")
            return super().read(n)

    monkeypatch.setattr(sounddevice, "query_devices", lambda: [SPEAKERS, MIC])
    monkeypatch.setattr(sounddevice, "InputStream", FakeInputStream)
    return made


def test_the_default_stream_is_the_default_input_in_mono_float32(monkeypatch):
    made = _fake_input_stream(monkeypatch)
    assert input_available() is None
    samples, rate = record(0.25, rate=22_050, block=441)
    assert rate == 22_050 and len(samples) == round(0.25 * 22_050)
    assert made[0].kwargs == {"samplerate": 22_050, "channels": 1, "dtype": "float32",
                              "blocksize": 441}
    assert made[0].closed and abs(np.abs(samples).max() - 0.3) < 1e-3


@pytest.mark.parametrize(("fail_on", "doing"), [("open", "opened"), ("read", "read")])
def test_a_microphone_portaudio_cannot_use_is_said_with_what_to_do(monkeypatch, fail_on, doing):
    made = _fake_input_stream(monkeypatch, fail_on=fail_on)
    with pytest.raises(ResourceUnavailableError, match=f"could not be {doing}") as err:
        record(1.0)
    assert "Connect a microphone" in err.value.hint
    assert all(stream.closed for stream in made)


def test_importing_the_modules_loads_neither_portaudio_nor_qt():
    code = ("import sys, core.io.record, core.io.playback; "
            "print(sorted(m for m in ('sounddevice', 'PySide6') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
