"""Player with a fake backend and a faked sounddevice: CI has no sound card."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import sounddevice

from core.errors import ResourceUnavailableError, UsageError
from core.io.playback import LOUD_PEAK, Player

MIC = {"name": "mic", "max_input_channels": 1, "max_output_channels": 0}
SPEAKERS = {"name": "speakers", "max_input_channels": 0, "max_output_channels": 2}


class Speaker:
    """A fake backend: remembers what it was asked; a clip plays until stopped or `end()`."""

    def __init__(self) -> None:
        self.calls, self.playing = [], False

    def play(self, samples, rate):
        self.calls.append(("play", samples, rate))
        self.playing = True

    def stop(self):
        self.calls.append(("stop",))
        self.playing = False

    def is_playing(self):
        return self.playing

    def end(self):
        self.playing = False


def test_play_then_stop():
    speaker = Speaker()
    player = Player(backend=speaker)
    assert not player.is_playing()
    clip = np.sin(np.linspace(0, 100, 4800)).astype(np.float32) * 0.5
    player.play(clip, 48_000)
    assert player.is_playing()
    _, played, rate = speaker.calls[-1]
    assert rate == 48_000 and played.dtype == np.float32 and np.array_equal(played, clip)
    player.stop()
    assert not player.is_playing()


def test_play_stops_what_was_playing_first_and_a_clip_that_ended_is_not_playing():
    speaker = Speaker()
    player = Player(backend=speaker)
    player.play(np.full(10, 0.1, np.float32), 16_000)
    player.play(np.full(20, 0.2, np.float32), 22_050)
    assert [c[0] for c in speaker.calls] == ["stop", "play", "stop", "play"]
    assert len(speaker.calls[-1][1]) == 20 and speaker.calls[-1][2] == 22_050
    speaker.end()
    assert not player.is_playing()


def test_clips_are_made_mono_finite_and_within_full_scale():
    speaker = Speaker()
    player = Player(backend=speaker)
    player.play(np.array([0.5, -2.0, 1.0], np.float32), 8000)
    np.testing.assert_allclose(speaker.calls[-1][1], np.array([0.5, -2.0, 1.0]) * LOUD_PEAK / 2)
    player.play(np.array([[0.2, 0.4], [-0.2, 0.0]], np.float64), 8000)  # stereo
    np.testing.assert_allclose(speaker.calls[-1][1], [0.3, -0.1], rtol=1e-6)
    assert speaker.calls[-1][1].dtype == np.float32 and speaker.calls[-1][1].ndim == 1
    player.play(np.array([np.nan, 0.25], np.float32), 8000)
    assert np.array_equal(speaker.calls[-1][1], np.array([0.0, 0.25], np.float32))


def test_an_empty_clip_only_stops_and_a_bad_rate_is_refused():
    speaker = Speaker()
    player = Player(backend=speaker)
    player.play(np.zeros(0, np.float32), 48_000)
    assert speaker.calls == [("stop",)] and not player.is_playing()
    with pytest.raises(UsageError):
        player.play(np.ones(10, np.float32) * 0.1, 0)


def test_no_output_device_is_said_with_what_to_do(monkeypatch):
    played = []
    monkeypatch.setattr(sounddevice, "query_devices", lambda: [MIC])
    monkeypatch.setattr(sounddevice, "play", lambda *args, **kwargs: played.append(args))
    player = Player()
    with pytest.raises(ResourceUnavailableError, match="No sound output device was found") as err:
        player.play(np.ones(10, np.float32) * 0.1, 48_000)
    assert err.value.hint == "Connect speakers or headphones to listen; search does not need them."
    assert not player.is_playing() and played == []
    player.stop()  # does not fail either


def test_no_audio_system_at_all(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # the import fails
    with pytest.raises(ResourceUnavailableError, match="No sound output device was found") as err:
        Player().play(np.ones(10, np.float32) * 0.1, 48_000)
    assert "PortAudio" in str(err.value) and "speakers or headphones" in err.value.hint


class FakeSoundDevice:
    """sounddevice's play/stop/get_stream, installed on the real module by monkeypatch."""

    def __init__(self, monkeypatch, fail_play: bool = False) -> None:
        self.played, self.stops, self.stream = [], 0, None
        self.fail_play = fail_play
        monkeypatch.setattr(sounddevice, "query_devices", lambda: [MIC, SPEAKERS])
        for name in ("play", "stop", "get_stream"):
            monkeypatch.setattr(sounddevice, name, getattr(self, name))

    def play(self, samples, rate):
        if self.fail_play:
            raise sounddevice.PortAudioError("Error opening OutputStream: Invalid device")
        self.played.append((samples, rate))
        self.stream = type("Stream", (), {"active": True})()

    def stop(self):
        self.stops += 1
        if self.stream is not None:
            self.stream.active = False

    def get_stream(self):
        if self.stream is None:
            raise RuntimeError("play()/rec()/playrec() was not called yet")
        return self.stream


def test_the_default_backend_is_sounddevice(monkeypatch):
    sd = FakeSoundDevice(monkeypatch)
    player = Player()
    player.play(np.zeros(0, np.float32), 44_100)  # nothing to play: get_stream() has none
    assert sd.played == [] and not player.is_playing()
    player.play(np.full(100, 0.1, np.float32), 44_100)
    assert len(sd.played) == 1 and sd.played[0][1] == 44_100 and player.is_playing()
    sd.stream.active = False  # the clip ended
    assert not player.is_playing()
    player.play(np.full(100, 0.1, np.float32), 44_100)
    player.stop()
    assert not player.is_playing() and sd.stops == 4  # before each play, and stop()


def test_an_output_portaudio_cannot_open_is_said_with_what_to_do(monkeypatch):
    FakeSoundDevice(monkeypatch, fail_play=True)
    with pytest.raises(ResourceUnavailableError, match="could not be opened") as err:
        Player().play(np.full(100, 0.1, np.float32), 44_100)
    assert "speakers or headphones" in err.value.hint


def test_a_device_plugged_in_after_a_failure_is_found(monkeypatch):
    monkeypatch.setattr(sounddevice, "query_devices", lambda: [MIC])
    player = Player()
    with pytest.raises(ResourceUnavailableError):
        player.play(np.full(10, 0.1, np.float32), 8000)
    sd = FakeSoundDevice(monkeypatch)
    player.play(np.full(10, 0.1, np.float32), 8000)
    assert len(sd.played) == 1 and player.is_playing()
