"""Recording and playback with fake devices: CI has no sound card."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from core.errors import Cancelled, EmptyInputError, ResourceUnavailableError, UsageError
from core.io.playback import Player
from core.io.record import input_available, record


class Sine:
    def __init__(self, amplitude=0.3):
        self.amplitude, self.at, self.reads = amplitude, 0, 0

    def __call__(self, rate, block):
        self.rate = rate
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        t = (self.at + np.arange(n)) / self.rate
        self.at += n
        self.reads += 1
        return (self.amplitude * np.sin(2 * np.pi * 440 * t)).reshape(-1, 1).astype(
            np.float32), False


def test_a_recording_has_its_length_and_reports_its_level_each_block():
    levels = []
    samples, rate = record(1.0, rate=16_000, block=1024, open_stream=Sine(),
                           level=lambda db, t: levels.append((db, t)))
    assert rate == 16_000 and samples.dtype == np.float32 and len(samples) == 16_000
    assert len(levels) == math.ceil(16_000 / 1024)
    assert all(abs(db - 20 * math.log10(0.3)) < 0.5 for db, _ in levels)
    times = [t for _, t in levels]
    assert times == sorted(times) and times[-1] == pytest.approx(1.0)


def test_cancel_stops_a_recording():
    stream = Sine()
    with pytest.raises(Cancelled):
        record(5.0, open_stream=stream, cancel=lambda: stream.reads >= 3)
    assert stream.reads == 3


def test_silence_and_bad_lengths_are_refused():
    with pytest.raises(EmptyInputError, match="silent"):
        record(0.5, open_stream=Sine(amplitude=0.0))
    for seconds in (0, -1, 61):
        with pytest.raises(UsageError):
            record(seconds, open_stream=Sine())


def test_no_microphone_is_said_with_what_to_do(monkeypatch):
    import sounddevice

    monkeypatch.setattr(sounddevice, "query_devices",
                        lambda: [{"name": "speakers", "max_input_channels": 0,
                                  "max_output_channels": 2}])
    assert input_available() == "no microphone was found"
    with pytest.raises(ResourceUnavailableError, match="microphone") as err:
        record(1.0)
    assert "drop a recording file" in err.value.hint


def test_no_audio_system_at_all(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # the import fails
    assert input_available() is not None
    with pytest.raises(ResourceUnavailableError):
        record(1.0)
    with pytest.raises(ResourceUnavailableError, match="sound output"):
        Player().play(np.zeros(10, np.float32), 48_000)


class Speaker:
    def __init__(self):
        self.clips, self.playing = [], False

    def play(self, samples, rate):
        self.clips.append((samples, rate))
        self.playing = True

    def stop(self):
        self.playing = False

    def is_playing(self):
        return self.playing


def test_the_player_plays_stops_and_keeps_clips_within_full_scale():
    speaker = Speaker()
    player = Player(backend=speaker)
    assert not player.is_playing()
    player.play(np.array([0.5, -2.0, 1.0], np.float32), 22_050)
    assert player.is_playing() and speaker.clips[-1][1] == 22_050
    assert np.abs(speaker.clips[-1][0]).max() == pytest.approx(0.9)
    player.stop()
    assert not player.is_playing()


def test_no_output_device_is_said_with_what_to_do(monkeypatch):
    import sounddevice

    monkeypatch.setattr(sounddevice, "query_devices",
                        lambda: [{"name": "mic", "max_input_channels": 1,
                                  "max_output_channels": 0}])
    with pytest.raises(ResourceUnavailableError, match="output") as err:
        Player().play(np.ones(10, np.float32) * 0.1, 48_000)
    assert "search does not need them" in err.value.hint
