"""One machine sound per family, shared by all of its conditions: hums, whines, mesh
tones, flow noise and resonances for running machines, hammer taps for welds and bolts.
A family's draws do not depend on the condition.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.world.sounds.noise import band, noise, peaks, tilt, unit
from core.world.sounds.scene import Scene, fill, wander
from core.world.sounds.sources import TAU, click, periodic, place, ring, slow, thump, tone

TAP_FAMILIES = ("weld", "bolt")


@dataclass
class Part:
    """A family's machine sound (unit RMS) and the rates that condition signatures use."""

    signal: np.ndarray
    run_hz: float  # running speed, whose 2x and 3x show misalignment
    event_hz: float  # once-per-revolution rate for crack clicks
    tone_hz: float = 0.0  # main tone that wear enriches with harmonics (0: none)


def _motor(s: Scene, _condition: str) -> Part:
    """Electrical hum at 100 or 120 Hz with harmonics, a rotor whine at 1-3 kHz, a little hiss."""
    rng, p = s.rng, s.pitch
    hum_hz = float(rng.choice([100.0, 120.0])) * p
    overtones = rng.uniform([0.3, 0.15, 0.05, 0.02], [0.7, 0.4, 0.2, 0.1])
    hum = tone(s, hum_hz, [1.0, *overtones])
    whine = tone(s, rng.uniform(1000, 3000) * p) * fill(s, 1.0 + 0.3 * wander(s, 3.0))
    hiss = noise(s, band(s.f, 200, 4000))
    sig = hum + rng.uniform(0.15, 0.4) * whine + rng.uniform(0.05, 0.12) * hiss
    return Part(unit(sig), run_hz=hum_hz / 4, event_hz=hum_hz / 12, tone_hz=hum_hz)


def _fan(s: Scene, _condition: str) -> Part:
    """Blade-pass tone at 100-400 Hz and a broad airflow whoosh swelling once per revolution."""
    rng, p = s.rng, s.pitch
    bpf = rng.uniform(100, 400) * p
    shaft = bpf / max(round(bpf / rng.uniform(10, 25)), 4)  # 4 or more blades
    blade_pass = tone(s, bpf, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    peak = rng.uniform(300, 900) * p
    whoosh = noise(s, band(s.f, 60, 2500) * (0.3 + peaks(s.f, [peak], [peak], [1.0])))
    whoosh *= fill(s, 1.0 + 0.15 * slow(s, shaft))
    sig = rng.uniform(0.8, 1.5) * blade_pass + whoosh
    return Part(unit(sig), run_hz=max(shaft, 20.0), event_hz=shaft, tone_hz=bpf)


def _pump(s: Scene, _condition: str) -> Part:
    """Fluid noise pulsing at 15-40 Hz, with a 200-600 Hz vane tone."""
    rng, p = s.rng, s.pitch
    pulse_hz = rng.uniform(15, 40) * p
    pulse = slow(s, pulse_hz)
    fluid = noise(s, band(s.f, 150, 2500)) * fill(s, 0.25 + 0.3 * np.square(1.0 + pulse))
    vane_hz = rng.uniform(200, 600) * p
    vane = tone(s, vane_hz, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    sig = fluid + rng.uniform(0.4, 0.8) * vane + fill(s, 0.5 * pulse)
    return Part(unit(sig), run_hz=max(pulse_hz, 20.0), event_hz=pulse_hz / 2, tone_hz=vane_hz)


def _gear(s: Scene, _condition: str) -> Part:
    """Gear-mesh tone at 0.5-2 kHz with sidebands at the shaft rate."""
    rng, p = s.rng, s.pitch
    shaft = rng.uniform(10, 30) * p
    mesh_hz = rng.uniform(500, 2000) * p
    mesh = tone(s, mesh_hz, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    sidebands = fill(s, 1.0 + slow(s, shaft, [rng.uniform(0.3, 0.6), 0.15]))
    hiss = noise(s, band(s.f, 300, 5000))
    sig = mesh * sidebands + rng.uniform(0.08, 0.2) * hiss
    return Part(unit(sig), run_hz=max(shaft, 20.0), event_hz=shaft, tone_hz=mesh_hz)


def _bearing(s: Scene, _condition: str) -> Part:
    """A band of rolling noise at 2-6 kHz and a faint low hum."""
    rng, p = s.rng, s.pitch
    centre = rng.uniform(2500, 4500) * p
    shape = band(s.f, 2000 * p, 6000 * p) * peaks(s.f, [centre], [centre * 0.4], [1.0])
    run = rng.uniform(20, 30) * p
    rolling = noise(s, shape) * fill(s, 1.0 + 0.15 * slow(s, run * rng.uniform(3.0, 5.0)))
    sig = rolling + rng.uniform(0.15, 0.35) * tone(s, rng.uniform(50, 120) * p)
    return Part(unit(sig), run_hz=run, event_hz=rng.uniform(8, 16) * p)


def _conveyor(s: Scene, _condition: str) -> Part:
    """Belt rumble and friction with roller clunks 1-4 times a second."""
    rng, p = s.rng, s.pitch
    belt = rng.uniform(0.03, 0.06) * band(s.f, 200, 2500)
    rumble = noise(s, band(s.f, 30, 600) * tilt(s.f, 30.0, -1.0) + belt)
    drive = rng.uniform(20, 30) * p
    kernel = thump(s, rng.uniform(80, 200) * p, rng.uniform(0.04, 0.08))
    snap = click(s, rng.uniform(500, 1500) * p, rng.uniform(0.008, 0.015))
    kernel[: snap.size] += rng.uniform(1.5, 2.5) * snap
    times = periodic(s, rng.uniform(1, 4), 0.03)
    clunks = place(s, times, kernel, rng.uniform(0.8, 1.2, times.size))
    sig = rumble + rng.uniform(2.0, 4.0) * clunks + 0.2 * tone(s, 2 * drive)
    return Part(unit(sig), run_hz=drive, event_hz=drive / rng.uniform(2.5, 4.0))


def _valve(s: Scene, _condition: str) -> Part:
    """Narrow-band flow noise and a periodic double tick of the actuator."""
    rng, p = s.rng, s.pitch
    centre = rng.uniform(600, 2500) * p
    shape = peaks(s.f, [centre], [centre / rng.uniform(6, 12)], [1.0])
    flow = noise(s, shape + 0.03 * band(s.f, 200, 5000))
    tick = click(s, rng.uniform(2000, 4000) * p, 0.004)
    gap = int(rng.uniform(0.015, 0.035) * s.rate)
    pair = np.zeros(tick.size + gap, np.float32)
    pair[: tick.size] += tick
    pair[gap:] += 0.6 * tick
    times = periodic(s, 1.0 / rng.uniform(0.5, 1.2), 0.02)
    ticks = place(s, times, pair, rng.uniform(0.8, 1.1, times.size))
    sig = flow + rng.uniform(1.5, 3.0) * ticks
    return Part(unit(sig), run_hz=rng.uniform(20, 35) * p, event_hz=rng.uniform(4, 10))


def _pipe(s: Scene, _condition: str) -> Part:
    """Flow noise exciting the pipe's harmonic resonances (150-400 Hz apart)."""
    rng, p = s.rng, s.pitch
    f1 = rng.uniform(150, 400) * p
    k = np.arange(1, max(int(4000 / f1), 3) + 1)
    centres = f1 * k * (1.0 + 0.004 * k * rng.uniform(0.5, 1.5))
    modes = peaks(s.f, centres, centres / rng.uniform(25, 50), rng.uniform(0.4, 1.0, k.size) / k)
    flow = noise(s, modes + 0.05 * band(s.f, 100, 4000)) * fill(s, 1 + 0.2 * wander(s, 2))
    return Part(unit(flow), run_hz=rng.uniform(20, 35) * p, event_hz=rng.uniform(3, 8), tone_hz=f1)


def _tap_test(
    s: Scene, condition: str, f1: float, ratios: np.ndarray, decay: float, interval: float
) -> Part:
    """Hammer taps on an object. A crack dulls, splits and buzzes the ring; misalignment adds
    beating 2x and 3x partials. The draws do not depend on the condition."""
    rng = s.rng
    count = ratios.size
    freqs = f1 * ratios * (1.0 + rng.normal(0.0, 0.01, count))
    decays = decay * np.sqrt(f1 / freqs)
    amps = rng.uniform(0.4, 1.0, count) / np.sqrt(np.arange(1, count + 1))
    phases = rng.uniform(0.0, 0.3, count + 4)
    detune, split, dull, buzz_hz = rng.uniform([0.003, 0.015, 0.2, 60], [0.01, 0.04, 0.35, 140])
    hit = click(s, rng.uniform(800, 2000), 0.003)
    times = periodic(s, 1.0 / interval, 0.08)
    strengths = rng.uniform(0.7, 1.2, times.size)
    if condition == "misaligned":
        freqs = np.concatenate([freqs, np.array([2, 2 + 2 * detune, 3, 3 + 3 * detune]) * f1])
        decays = np.concatenate([decays, np.full(4, decay)])
        amps = np.concatenate([amps, [0.8, 0.8, 0.6, 0.6]])
    if condition == "cracked":
        freqs = np.concatenate([freqs * (1 - split), freqs * (1 + split)])
        decays = np.tile(decays * dull, 2)
        amps = np.tile(amps, 2) / np.sqrt(2)
    keep = freqs < min(7000.0, 0.45 * s.rate)
    phases = np.resize(phases, freqs.size)[keep]
    kernel = ring(s.rate, freqs[keep], decays[keep], amps[keep], phases)
    if condition == "cracked":
        t = np.arange(kernel.size, dtype=np.float32) / np.float32(s.rate)
        kernel *= 1.0 + 0.7 * np.sign(np.sin(np.float32(TAU * buzz_hz) * t))
    kernel = np.pad(kernel, (0, max(hit.size - kernel.size, 0)))
    kernel[: hit.size] += 0.5 * hit
    return Part(unit(place(s, times, kernel, strengths)), run_hz=25.0, event_hz=1 / interval)


def _weld(s: Scene, condition: str) -> Part:
    """Plate-like modes from a few hundred hertz up, ringing for a few tenths of a second."""
    rng = s.rng
    ratios = np.array([1.0, 1.59, 2.14, 2.65, 3.16, 3.65, 4.15, 5.2, 6.1])
    f1 = rng.uniform(300, 700) * s.pitch
    return _tap_test(
        s,
        condition,
        f1,
        ratios * rng.uniform(0.97, 1.03, ratios.size),
        rng.uniform(0.2, 0.45),
        rng.uniform(0.4, 0.9),
    )


def _bolt(s: Scene, condition: str) -> Part:
    """A few bright modes at 2-7 kHz, ringing for a few hundredths of a second."""
    rng = s.rng
    ratios = np.array([1.0, 1.47, 2.03])
    f1 = rng.uniform(2000, 3300) * s.pitch
    return _tap_test(
        s,
        condition,
        f1,
        ratios * rng.uniform(0.97, 1.03, ratios.size),
        rng.uniform(0.03, 0.08),
        rng.uniform(0.3, 0.8),
    )


FAMILY_SOUNDS: dict[str, Callable[[Scene, str], Part]] = {
    "motor": _motor,
    "fan": _fan,
    "pump": _pump,
    "gear": _gear,
    "bearing": _bearing,
    "conveyor": _conveyor,
    "valve": _valve,
    "pipe": _pipe,
    "weld": _weld,
    "bolt": _bolt,
}
