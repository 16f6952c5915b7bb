"""A recording's scene: its length, a warped clock with coarse curves on it, and the white
spectrum that all shaped noise is cut from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

_BLOCK_S = 0.1  # tone phases restart from float64 every block, so float32 stays exact
_CONTROL_HZ = 3000.0  # rate of the coarse grid for slow curves and low tones
_MACHINE_TOP_HZ = 9000.0  # machine noise is shaped below this
_BACKGROUND_TOP_HZ = 16000.0  # and the background below this
NOISE_ROLES = ("family", "condition", "background")  # each shapes its own white values


@dataclass
class Scene:
    """What every generator of one recording shares: length, clocks and noise source.

    The clock is warped time (seconds) with a slow random speed drift, piecewise linear over
    blocks of L samples: a float64 start per block (`clock_hi`, shape (B, 1)) plus float32
    time within the block (`local`, shape (L,)) times the block's speed (`speed`, shape
    (B, 1)), so tone phases are cheap float32 work yet stay exact. The coarse clock
    `coarse_tau` is the same warped time every `hop` samples.
    """

    rng: np.random.Generator
    n: int
    rate: int
    pitch: float  # global pitch jitter factor
    clock_hi: np.ndarray
    local: np.ndarray
    speed: np.ndarray
    hop: int
    coarse_t: np.ndarray
    coarse_tau: np.ndarray
    size: int  # FFT length, at least n
    f: np.ndarray  # bin frequencies (float32) below _MACHINE_TOP_HZ
    white: np.ndarray  # complex white spectrum, split between NOISE_ROLES
    steady: np.ndarray | None = None  # spectrum of steady noise, mixed in at the end

    @property
    def seconds(self) -> float:
        return self.n / self.rate

    @property
    def bins(self) -> int:
        return self.size // 2 + 1


def new_scene(rng: np.random.Generator, n: int, rate: int) -> Scene:
    block = max(int(rate * _BLOCK_S), 1)
    count = -(-n // block)
    knots = rng.standard_normal(int(count * block / rate * 4) + 2)  # the drift turns at 4 Hz
    speed = 1.0 + 0.004 * np.interp(
        np.arange(count) * (block / rate * 4), np.arange(knots.size), knots
    )
    starts = np.concatenate([[0.0], np.cumsum(block / rate * speed[:-1])])
    local = np.arange(block, dtype=np.float32) / np.float32(rate)
    hop = max(int(rate / _CONTROL_HZ), 1)
    coarse_t = np.arange(-(-n // hop) + 1) * (hop / rate)
    which = np.minimum((coarse_t * rate) // block, count - 1).astype(int)
    coarse_tau = starts[which] + (coarse_t - which * (block / rate)) * speed[which]
    size = sfft.next_fast_len(max(n, 2), real=True)
    f, white = _white(rng, size, rate)
    return Scene(
        rng,
        n,
        rate,
        rng.uniform(0.9, 1.1),
        starts[:, None],
        local,
        speed[:, None].astype(np.float32),
        hop,
        coarse_t,
        coarse_tau,
        size,
        f,
        white,
    )


def _white(rng: np.random.Generator, size: int, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies of the machine-noise bins, and a complex white spectrum (uniform real and
    imaginary parts) with those bins for each machine role and the rest for the background."""
    bins = size // 2 + 1
    machine = min(int(_MACHINE_TOP_HZ * size / rate) + 1, bins)
    background = min(int(_BACKGROUND_TOP_HZ * size / rate) + 1, bins)
    white = rng.random(2 * ((len(NOISE_ROLES) - 1) * machine + background), dtype=np.float32)
    white -= np.float32(0.5)
    return np.arange(machine, dtype=np.float32) * np.float32(rate / size), white.view(np.complex64)


def fill(s: Scene, coarse: np.ndarray) -> np.ndarray:
    """Every sample (float32) of a curve given every `hop` samples, linearly filled in."""
    coarse = coarse.astype(np.float32, copy=False)
    ramp = np.arange(s.hop, dtype=np.float32) / np.float32(s.hop)
    fine = np.empty((coarse.size - 1, s.hop), np.float32)  # in place: far fewer page faults
    np.multiply(np.diff(coarse)[:, None], ramp, out=fine)
    fine += coarse[:-1, None]
    return fine.ravel()[: s.n]


def curve(s: Scene, knots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Piecewise-linear curve through (knots in seconds, values) at every sample."""
    return fill(s, np.interp(s.coarse_t, knots, values))


def wander(s: Scene, ctrl_hz: float) -> np.ndarray:
    """Coarse smooth random signal, about unit variance, changing at about `ctrl_hz`."""
    knots = np.arange(int(s.seconds * ctrl_hz) + 2) / ctrl_hz
    return np.interp(s.coarse_t, knots, s.rng.standard_normal(knots.size))


def steps(s: Scene, shortest: float, longest: float, lo: float, hi: float) -> np.ndarray:
    """Piecewise-constant random gain with 4 ms ramps between segments."""
    edges = np.cumsum(s.rng.uniform(shortest, longest, int(s.seconds / shortest) + 2))
    levels = s.rng.uniform(lo, hi, edges.size + 1)
    knots = np.concatenate([[0.0], np.repeat(edges, 2) + np.tile([0.0, 0.004], edges.size)])
    return curve(s, knots, np.concatenate([levels[:1], np.repeat(levels, 2)[1:-1]]))
