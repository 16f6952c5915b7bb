"""Sound sources on a scene's clock: harmonic tones (coarse for low ones) and struck
events (rings, clicks, thumps) placed at periodic or random times.
"""

from __future__ import annotations

import numpy as np

from core.world.sounds.scene import Scene, fill

TAU = 2.0 * np.pi
_COARSE_TONE_HZ = 200.0  # harmonic series that stay below this use the coarse grid
_CHUNK = 32_768  # samples per step of per-sample tone work, so scratch arrays stay cached


def slow(s: Scene, hz: float, amps=(1.0,)) -> np.ndarray:
    """Coarse harmonic series sum(amps[k] * sin((k+1) * phase)) at `hz`, random phase:
    for modulators and low tones (up to a few hundred hertz)."""
    angle = TAU * (hz * s.coarse_tau + s.rng.random())
    return sum(a * np.sin((k + 1) * angle) for k, a in enumerate(amps))


def tone(s: Scene, hz: float, amps=(1.0,)) -> np.ndarray:
    """Harmonic series sum(amps[k] * sin((k+1) * phase)) at `hz`, random phase, per sample.

    Worked out a few clock blocks at a time, so the scratch arrays stay small and cached."""
    if hz * len(amps) <= _COARSE_TONE_HZ:
        return fill(s, slow(s, hz, amps))
    offset = hz * s.clock_hi + s.rng.random()
    offset = (TAU * (offset - np.floor(offset))).astype(np.float32)  # (B, 1)
    step = s.speed * np.float32(TAU * hz)  # (B, 1)
    out = np.empty((step.size, s.local.size), np.float32)
    rows = max(_CHUNK // s.local.size, 1)
    for row in range(0, step.size, rows):
        angle = step[row : row + rows] * s.local
        angle += offset[row : row + rows]
        _series(angle, amps, out[row : row + rows])
    return out.ravel()[: s.n]


def _series(angle: np.ndarray, amps, out: np.ndarray) -> None:
    """out = sum(amps[k] * sin((k+1) * angle)) by the Chebyshev recurrence
    sin((k+1)x) = 2 cos(x) sin(kx) - sin((k-1)x); overwrites `angle`."""
    np.sin(angle, out=out)
    if len(amps) == 1:
        out *= np.float32(amps[0])
        return
    cur, prev, scratch = out.copy(), np.zeros_like(out), np.empty_like(out)
    twice_cos = np.cos(angle, out=angle)
    twice_cos *= np.float32(2.0)
    out *= np.float32(amps[0])
    for amp in amps[1:]:
        np.multiply(twice_cos, cur, out=scratch)
        prev, cur = cur, np.subtract(scratch, prev, out=prev)  # prev's buffer was free
        out += np.multiply(cur, np.float32(amp), out=scratch)


def ring(rate: int, freqs, decays, amps, phases) -> np.ndarray:
    """Kernel (float32) of decaying sinusoidal modes, a struck object: the sum over modes of
    amps * exp(-t / decays) * sin(2 pi freqs t + phases), each cut after 5 decay times."""
    lengths = (5.0 * np.asarray(decays) * rate).astype(int) + 1
    t = np.arange(lengths.max(), dtype=np.float32) / np.float32(rate)
    out = np.zeros(t.size, np.float32)
    for hz, decay, amp, phase, size in zip(freqs, decays, amps, phases, lengths, strict=True):
        mode = np.sin(np.float32(TAU * hz) * t[:size] + np.float32(phase))
        mode *= np.exp(t[:size] * np.float32(-1.0 / decay))
        out[:size] += np.float32(amp) * mode
    return out


def click(s: Scene, centre: float, decay: float) -> np.ndarray:
    """A sharp impact: a bright resonance plus a broadband spike, `decay` seconds long."""
    size = max(int(6 * decay * s.rate), 8)
    t = np.arange(size, dtype=np.float32) / s.rate
    spike = s.rng.standard_normal(size).astype(np.float32) * np.exp(-t / (0.3 * decay))
    return np.exp(-t / decay) * np.sin(TAU * centre * t) + 0.6 * spike


def thump(s: Scene, hz: float, decay: float) -> np.ndarray:
    """A low knock whose pitch drops slightly as it dies away."""
    t = np.arange(int(5 * decay * s.rate), dtype=np.float32) / s.rate
    phase = TAU * hz * (t + 0.15 * decay * (1.0 - np.exp(-t / decay)))
    return np.exp(-t / decay) * np.sin(phase)


def place(s: Scene, times: np.ndarray, kernel: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """Add `kernel` at each time (seconds), scaled by its amplitude; vectorised per event."""
    out = np.zeros(s.n, np.float32)
    for time, amp in zip(times, amps, strict=True):
        start = int(round(time * s.rate))
        lo, hi = max(0, -start), min(kernel.size, s.n - start)
        if hi > lo:
            out[start + lo : start + hi] += np.float32(amp) * kernel[lo:hi]
    return out


def periodic(s: Scene, hz: float, jitter: float) -> np.ndarray:
    """Event times at `hz` with a random phase and relative timing jitter."""
    count = int(s.seconds * hz) + 2
    times = (np.arange(count) - s.rng.random()) / hz
    return times + s.rng.normal(0.0, jitter / hz, count)


def poisson(s: Scene, hz: float) -> np.ndarray:
    return np.sort(s.rng.uniform(-0.2, s.seconds, s.rng.poisson(hz * (s.seconds + 0.2))))
