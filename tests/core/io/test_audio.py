"""load_audio / read_audio: float32 mono at the asked rate, bounded memory, typed errors."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile
from PIL import Image

from core.errors import CorruptFileError, EmptyInputError, UnsupportedFileError
from core.io import Audio, load_audio, read_audio
from core.io.kinds import mp3_supported
from tests.core.io.helpers import measure


def _tone(seconds: float, rate: int, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.argmax(spectrum) * rate / len(samples))


def test_stereo_44k_wav_becomes_mono_48k_of_the_right_length(tmp_path):
    path = tmp_path / "stereo.wav"
    left, right = _tone(2.0, 44100, amp=0.6), _tone(2.0, 44100, amp=0.2)
    soundfile.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_16")
    out = load_audio(path, 48000)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.ndim == 1
    assert len(out) == 96000
    assert abs(_dominant_hz(out, 48000) - 440) < 2
    assert abs(np.abs(out[1000:-1000]).max() - 0.4) < 0.01  # the mean of the two channels


def test_same_rate_is_not_resampled(tmp_path):
    path = tmp_path / "mono.wav"
    tone = _tone(1.0, 16000)
    soundfile.write(path, tone, 16000, subtype="FLOAT")
    audio = read_audio(path, 16000)
    assert isinstance(audio, Audio)
    assert np.array_equal(audio.samples, tone)
    assert (audio.rate, audio.seconds, audio.truncated) == (16000, 1.0, False)
    assert (audio.source_rate, audio.source_channels, audio.source_seconds) == (16000, 1, 1.0)


@pytest.mark.parametrize(("name", "fmt", "subtype"), [
    ("a.flac", "FLAC", "PCM_24"), ("b.ogg", "OGG", "VORBIS"), ("c.ogg", "OGG", "OPUS"),
    ("d.wav", "WAV", "PCM_U8"), ("e.wav", "WAV", "DOUBLE"),
])
def test_other_formats(tmp_path, name, fmt, subtype):
    path = tmp_path / name
    rate = 48000 if subtype == "OPUS" else 22050
    soundfile.write(path, _tone(1.5, rate), rate, format=fmt, subtype=subtype)
    out = load_audio(path, 16000)
    assert out.dtype == np.float32 and abs(len(out) - 24000) <= 1
    assert abs(_dominant_hz(out, 16000) - 440) < 2


@pytest.mark.skipif(not mp3_supported(), reason="the installed libsndfile has no MP3")
def test_mp3(tmp_path):
    path = tmp_path / "clip.mp3"
    soundfile.write(path, _tone(1.0, 44100), 44100, format="MP3")
    out = load_audio(path, 16000)
    assert abs(len(out) - 16000) < 1200 and abs(_dominant_hz(out, 16000) - 440) < 3


def test_misnamed_flac_and_many_channels(tmp_path):
    path = tmp_path / "really_flac.wav"
    six = np.stack([_tone(1.0, 8000, amp=0.1 * (i + 1)) for i in range(6)], axis=1)
    soundfile.write(path, six, 8000, format="FLAC")
    audio = read_audio(path, 8000)
    assert audio.source_channels == 6 and len(audio.samples) == 8000
    assert abs(np.abs(audio.samples).max() - 0.35) < 0.01


def test_non_finite_samples_are_cleaned(tmp_path):
    path = tmp_path / "float.wav"
    tone = _tone(0.5, 8000)
    tone[100:110] = np.nan
    tone[200] = np.inf
    soundfile.write(path, tone, 8000, subtype="FLOAT")
    out = load_audio(path, 8000)
    assert np.isfinite(out).all() and out[200] == 1.0 and (out[100:110] == 0).all()


def test_longer_than_max_seconds_is_cut_and_says_so(tmp_path):
    path = tmp_path / "long.wav"
    soundfile.write(path, _tone(3.0, 8000), 8000)
    audio = read_audio(path, 16000, max_seconds=1.0)
    assert audio.truncated and audio.seconds == 1.0 and len(audio.samples) == 16000
    assert audio.source_seconds == 3.0
    assert len(load_audio(path, 16000, max_seconds=1.0)) == 16000
    assert not read_audio(path, 16000, max_seconds=3.0).truncated


def test_zero_byte_wav_is_corrupt(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match=r"empty\.wav: the file is empty \(0 bytes\)"):
        load_audio(path, 16000)


def test_damaged_wav_is_corrupt(tmp_path):
    path = tmp_path / "damaged.wav"
    soundfile.write(path, _tone(0.5, 8000), 8000)
    path.write_bytes(b"RIFF\xff\xff\xff\xffWAVEjunk" + bytes(range(256)) * 8)
    with pytest.raises(CorruptFileError, match=r"damaged\.wav"):
        load_audio(path, 16000)


def test_text_or_image_named_wav_is_unsupported(tmp_path):
    text = tmp_path / "readme.wav"
    text.write_text("this is not a recording\n")
    with pytest.raises(UnsupportedFileError, match=r"readme\.wav: it is plain text"):
        load_audio(text, 16000)
    image = tmp_path / "photo.wav"
    Image.new("RGB", (8, 8)).save(image, "PNG")
    with pytest.raises(UnsupportedFileError, match=r"photo\.wav: it contains a PNG image"):
        load_audio(image, 16000)


def test_silent_recording_is_empty(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(16000, np.float32), 16000)
    with pytest.raises(EmptyInputError, match=r"silence\.wav: silent recording"):
        load_audio(path, 16000)
    hiss = tmp_path / "hiss.wav"
    soundfile.write(hiss, np.full(16000, 5e-5, np.float32), 16000, subtype="FLOAT")
    with pytest.raises(EmptyInputError, match="silent"):
        load_audio(hiss, 16000)


def test_too_short_or_no_samples_is_empty(tmp_path):
    short = tmp_path / "click.wav"
    soundfile.write(short, _tone(0.05, 16000), 16000)
    with pytest.raises(EmptyInputError, match=r"click\.wav: the recording is too short"):
        load_audio(short, 16000)
    nothing = tmp_path / "nothing.wav"
    soundfile.write(nothing, np.zeros((0, 1), np.float32), 16000)
    assert nothing.stat().st_size > 0  # a header and no samples
    with pytest.raises(EmptyInputError, match=r"nothing\.wav: the recording has no samples"):
        load_audio(nothing, 16000)


def test_one_hour_wav_is_read_in_bounded_memory_and_truncated(tmp_path):
    path = tmp_path / "shift.wav"
    rate, block = 8000, 8000 * 60
    tone = (9830 * np.sin(2 * np.pi * 100 * np.arange(block) / rate)).astype(np.int16)  # 0.3
    with soundfile.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(60):  # one hour, a minute at a time
            f.write(tone)
    assert path.stat().st_size > 57_000_000
    result = measure(
        "from core.io import read_audio",
        f"""
        audio = read_audio({str(path)!r}, 8000)
        result = {{"n": len(audio.samples), "truncated": audio.truncated,
                   "seconds": audio.seconds, "source_seconds": audio.source_seconds,
                   "peak": float(audio.samples.max())}}
        """,
    )
    assert result["n"] == 600 * 8000 and result["truncated"] and result["seconds"] == 600
    assert result["source_seconds"] == 3600 and abs(result["peak"] - 0.3) < 0.01
    # The output is 18 MiB; the whole hour as float32 would be 110 MiB (float64: 220 MiB).
    assert result["delta_mb"] < 18 + 16, result
