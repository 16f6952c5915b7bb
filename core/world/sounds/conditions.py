"""Condition signatures, shared by all families, applied to a family's sound: worn
(rough, saturated, richer, noisier), cracked (clicks once per revolution), leaking (a
high hiss), misaligned (2x and 3x running speed) and loose (jumps, rattles, thumps).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.world.sounds.families import Part
from core.world.sounds.noise import add_steady, band, noise, tilt
from core.world.sounds.scene import Scene, fill, steps, wander
from core.world.sounds.sources import click, periodic, place, poisson, slow, thump, tone


def _worn(s: Scene, part: Part, _tap: bool) -> np.ndarray:
    """Rough (random fast amplitude modulation), saturated, richer in harmonics, noisier."""
    rng = s.rng
    rough = part.signal * fill(s, 1.0 + rng.uniform(0.3, 0.6) * wander(s, rng.uniform(30, 70)))
    sig = _saturate(rough, max(rough.max(), -rough.min()) / rng.uniform(1.2, 2.5))
    if part.tone_hz:
        sig += tone(s, part.tone_hz, [0.0, *rng.uniform(0.02, 0.1, 4)]) * rng.uniform(1, 2)
    floor = band(s.f, 150, 7000) * tilt(s.f, 150.0, rng.uniform(-0.5, 0.0))
    add_steady(s, floor, "condition", rng.uniform(0.2, 0.4))
    return sig


def _saturate(x: np.ndarray, knee: float) -> np.ndarray:
    """Smooth cubic soft clipping that flattens out at +-knee (cheaper than tanh)."""
    u = np.clip(x, -knee, knee)
    u *= np.float32(1.0 / knee)
    out = u * u
    out *= np.float32(-0.5)
    out += np.float32(1.5)
    out *= u
    out *= np.float32(knee)
    return out


def _cracked(s: Scene, part: Part, tap: bool) -> np.ndarray:
    """Sharp clicks once per revolution (taps: the ring itself is dull, split and buzzing)."""
    if tap:
        return part.signal
    rng = s.rng
    kernel = click(s, rng.uniform(1000, 3000), rng.uniform(0.002, 0.005))
    times = periodic(s, part.event_hz, 0.01)
    amps = rng.uniform(5.0, 8.0) * rng.uniform(0.6, 1.0, times.size)
    return part.signal + place(s, times, kernel, amps)


def _leaking(s: Scene, part: Part, _tap: bool) -> np.ndarray:
    """A steady 3-7 kHz hiss, half of the time sputtering."""
    rng = s.rng
    hiss = band(s.f, rng.uniform(3000, 3500), rng.uniform(6000, 7000))
    level = rng.uniform(0.35, 0.8)
    if rng.random() >= 0.5:
        add_steady(s, hiss, "condition", level)
        return part.signal
    gate = np.clip(wander(s, rng.uniform(6, 15)) + rng.uniform(0.0, 0.8), 0.0, 1.0)
    gate *= level / np.sqrt(np.mean(gate * gate) + 1e-6)
    return part.signal + noise(s, hiss, "condition") * fill(s, gate)


def _misaligned(s: Scene, part: Part, tap: bool) -> np.ndarray:
    """Strong 2x and 3x running-speed harmonics, beating slowly, and 2x modulation
    (taps: beating 2x and 3x partials in the ring)."""
    rng = s.rng
    beat_hz = rng.uniform(0.4, 1.5)
    beating = 1.0 + rng.uniform(0.2, 0.4) * slow(s, beat_hz)
    if tap:
        return part.signal * fill(s, beating)
    run = part.run_hz
    amps = [rng.uniform(0.1, 0.3), rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.8)]
    low = slow(s, run, amps) + slow(s, run + beat_hz, amps)
    wobble = 1.0 + rng.uniform(0.2, 0.4) * slow(s, 2 * run)
    return part.signal * fill(s, wobble * beating) + fill(s, 0.8 * low)


def _loose(s: Scene, part: Part, _tap: bool) -> np.ndarray:
    """Amplitude jumps, irregular bursts of rattling and low thumps."""
    rng = s.rng
    sig = part.signal * steps(s, 0.15, 0.8, 0.5, 1.4)
    rattle = click(s, rng.uniform(800, 3000), 0.003)
    starts = poisson(s, rng.uniform(1.0, 3.0))
    gaps = [np.cumsum(rng.uniform(0.008, 0.03, c)) for c in rng.integers(3, 9, starts.size)]
    times = np.concatenate([t0 + g for t0, g in zip(starts, gaps, strict=True)] or [[]])
    sig += place(s, times, rattle, rng.uniform(0.5, 1.5, times.size))
    knock = thump(s, rng.uniform(40, 120), rng.uniform(0.04, 0.09))
    knocks = poisson(s, rng.uniform(0.5, 2.0))
    return sig + place(s, knocks, knock, rng.uniform(1.5, 3.0, knocks.size))


CONDITION_SIGNATURES: dict[str, Callable[[Scene, Part, bool], np.ndarray]] = {
    "normal": lambda _s, part, _tap: part.signal,
    "worn": _worn,
    "cracked": _cracked,
    "leaking": _leaking,
    "misaligned": _misaligned,
    "loose": _loose,
}
