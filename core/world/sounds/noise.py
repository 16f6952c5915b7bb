"""Noise shaped in the frequency domain: amplitude responses (band-pass, tilt, resonance
peaks) applied to a scene's white spectrum, and steady noise mixed straight into the
final spectrum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import fft as sfft

from core.world.sounds.scene import NOISE_ROLES, Scene


def _power(x: np.ndarray) -> float:
    """Sum of squares; einsum rather than BLAS, whose spinning threads would cost CPU."""
    return float(np.einsum("i,i->", x, x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(_power(x) / max(x.size, 1))) + 1e-12


def unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32, copy=False) * np.float32(1.0 / rms(x))


def _spectrum(s: Scene, weights: np.ndarray, role: str) -> np.ndarray:
    """Spectrum (bins from 0 Hz) of unit-RMS noise with amplitude response `weights`."""
    offset = NOISE_ROLES.index(role) * s.f.size
    spec = s.white[offset : offset + weights.size] * weights.astype(np.float32, copy=False)
    spec *= np.float32(s.size / np.sqrt(2.0 * _power(spec.view(np.float32)) + 1e-30))
    return spec


def noise(s: Scene, weights: np.ndarray, role: str = "family") -> np.ndarray:
    """Unit-RMS noise with amplitude response `weights`, in the time domain."""
    return sfft.irfft(_spectrum(s, weights, role), s.size)[: s.n]


def add_steady(s: Scene, weights: np.ndarray, role: str, level: float) -> None:
    """Mix steady noise (unit RMS times `level`) straight into the final spectrum."""
    spec = _spectrum(s, weights, role)
    spec *= np.float32(level)
    if s.steady is None:
        s.steady = spec
        return
    short, long = sorted((spec, s.steady), key=len)
    long[: short.size] += short
    s.steady = long


def band(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fourth-order band-pass amplitude response between `lo` and `hi` Hz."""
    low = np.float32(lo) / np.maximum(f, np.float32(1.0))
    high = f / np.float32(hi)
    low *= low
    high *= high
    return 1.0 / np.sqrt((1.0 + low * low) * (1.0 + high * high))


def tilt(f: np.ndarray, lowest: float, exponent: float) -> np.ndarray:
    """Amplitude slope f**exponent, held flat below `lowest` Hz."""
    return np.exp(np.float32(exponent) * np.log(np.maximum(f, np.float32(lowest))))


def peaks(f: np.ndarray, centres, widths, amps) -> np.ndarray:
    """Sum of resonance peaks (Lorentzian amplitude), each evaluated near its centre only."""
    out = np.zeros_like(f)
    step = float(f[1] - f[0]) if f.size > 1 else 1.0
    for centre, width, amp in zip(centres, widths, amps, strict=True):
        lo = max(int((centre - 30 * width) / step), 0)
        hi = min(int((centre + 30 * width) / step) + 1, f.size)
        out[lo:hi] += amp / (1.0 + np.square((f[lo:hi] - centre) / width))
    return out


def smooth_response(s: Scene, count: int, response: Callable) -> np.ndarray:
    """A smooth amplitude response over the first `count` bins, computed every 16 bins."""
    coarse = np.arange(0, count + 16, 16, dtype=np.float32) * np.float32(s.rate / s.size)
    return np.repeat(response(coarse).astype(np.float32), 16)[:count]
