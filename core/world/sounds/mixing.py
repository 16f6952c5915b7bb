"""The recording around the machine: factory background, microphone colour, a late
onset, and the final mix at a random level (`synth_sound`).
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from core.world.concepts import Concept
from core.world.sounds.conditions import CONDITION_SIGNATURES
from core.world.sounds.families import FAMILY_SOUNDS, TAP_FAMILIES
from core.world.sounds.noise import add_steady, band, rms, smooth_response, tilt
from core.world.sounds.scene import NOISE_ROLES, Scene, curve, new_scene
from core.world.sounds.sources import place, poisson, ring, tone

RATE = 48_000
_PEAK = 0.985  # a little under the promised 0.99, safe after float32 rounding


def _background(s: Scene, level: float) -> np.ndarray:
    """Factory ambience: pink-to-brown noise (mixed in as steady noise), a distant hum at an
    unrelated frequency and occasional distant clanks (returned)."""
    rng = s.rng
    slope, top = -0.5 * rng.uniform(0.8, 2.0), rng.uniform(5000, 12000)
    count = s.white.size - NOISE_ROLES.index("background") * s.f.size
    colour = smooth_response(s, count, lambda f: tilt(f, 20.0, slope) * band(f, 20, top))
    add_steady(s, colour, "background", level)
    hum = tone(s, rng.uniform(47, 330), [1.0, rng.uniform(0.1, 0.5)]) * rng.uniform(0.1, 0.5)
    clanks = poisson(s, rng.uniform(0.0, 0.4))
    if clanks.size:
        modes = rng.uniform(200, 2000, 3)
        kernel = ring(s.rate, modes, rng.uniform(0.2, 0.6, 3), 300.0 / modes, np.zeros(3))
        kernel /= np.abs(kernel).max() + 1e-9
        hum += place(s, clanks, kernel, rng.uniform(1.0, 3.0, clanks.size))
    return hum * np.float32(level)


def _microphone(s: Scene) -> np.ndarray:
    """Gain per bin of a random, smooth equaliser: where and with what it was recorded."""
    nodes = np.log(np.geomspace(50.0, 16000.0, 7))
    gains = s.rng.normal(0.0, 3.0, nodes.size) * (np.log(10.0) / 20.0)  # dB to nepers

    def response(f: np.ndarray) -> np.ndarray:
        return np.exp(np.interp(np.log(np.maximum(f, 50.0)), nodes, gains))

    return smooth_response(s, s.bins, response)


def _onset(s: Scene) -> np.ndarray | float:
    """Sometimes the machine starts (or is first heard) after the recording starts."""
    if s.rng.random() >= 0.2:
        return 1.0
    start = s.rng.uniform(0.1, 0.35) * s.seconds
    return curve(s, np.array([start, start + 0.03]), np.array([0.0, 1.0]))


def synth_sound(
    concept: Concept, rng: np.random.Generator, duration: float, rate: int = RATE
) -> np.ndarray:
    """One procedural recording of `concept`: float32 mono, round(duration*rate) samples.

    The peak is at most 0.99. Every random choice is drawn from `rng`.
    """
    n = int(round(duration * rate))
    if n <= 0:
        return np.zeros(0, np.float32)
    s = new_scene(rng, n, rate)
    snr_db, level_db = rng.uniform(0.0, 20.0), rng.uniform(-32.0, -16.0)
    ambience = _background(s, 10.0 ** (-snr_db / 20.0))
    microphone = _microphone(s)
    onset = _onset(s)
    part = FAMILY_SOUNDS[concept.family](s, concept.condition)
    # the condition adds to the unit-RMS family sound, so the SNR is relative to the family
    machine = CONDITION_SIGNATURES[concept.condition](s, part, concept.family in TAP_FAMILIES)
    spectrum = sfft.rfft(machine * onset + ambience, s.size)
    if s.steady is not None:
        spectrum[: s.steady.size] += s.steady
    spectrum *= microphone
    mix = sfft.irfft(spectrum, s.size)[:n]
    mix *= np.float32(
        min(10.0 ** (level_db / 20.0) / rms(mix), _PEAK / (float(np.abs(mix).max()) + 1e-12))
    )
    return mix
