"""Procedural recordings of the factory world's parts and machines.

A recording is the family's machine sound (shared by all of its conditions), altered by the
condition's signature (shared by all families), at a random pitch, level and onset, over a
factory background at a random signal-to-noise ratio, through a random microphone colour.
The decisive content stays below about 7 kHz so that it survives resampling to 16 kHz.

All randomness comes from the caller's generator. The nuisance is drawn first and a
family's draws do not depend on the condition, so one seed renders the same background,
microphone, levels and machine for every condition of a family: only the signature differs.

Speed: tones below a few hundred hertz and slow modulators are computed on a coarse grid
and filled in linearly; steady noise is shaped and mixed in the frequency domain, together
with the microphone colour, so that a recording costs a handful of FFTs and array passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft

from core.world.concepts import Concept

RATE = 48_000

_PEAK = 0.985  # a little under the promised 0.99, safe after float32 rounding
_TAU = 2.0 * np.pi
_TAP_FAMILIES = ("weld", "bolt")
_BLOCK_S = 0.1  # tone phases restart from float64 every block, so float32 stays exact
_CONTROL_HZ = 3000.0  # rate of the coarse grid for slow curves and low tones
_COARSE_TONE_HZ = 200.0  # harmonic series that stay below this use the coarse grid
_CHUNK = 32_768  # samples per step of per-sample tone work, so scratch arrays stay cached
_MACHINE_TOP_HZ = 9000.0  # machine noise is shaped below this
_BACKGROUND_TOP_HZ = 16000.0  # and the background below this
_NOISE_ROLES = ("family", "condition", "background")  # each shapes its own white values


@dataclass
class _Scene:
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
    white: np.ndarray  # complex white spectrum, split between _NOISE_ROLES
    steady: np.ndarray | None = None  # spectrum of steady noise, mixed in at the end

    @property
    def seconds(self) -> float:
        return self.n / self.rate

    @property
    def bins(self) -> int:
        return self.size // 2 + 1


@dataclass
class _Part:
    """A family's machine sound (unit RMS) and the rates that condition signatures use."""

    signal: np.ndarray
    run_hz: float  # running speed, whose 2x and 3x show misalignment
    event_hz: float  # once-per-revolution rate for crack clicks
    tone_hz: float = 0.0  # main tone that wear enriches with harmonics (0: none)


# --------------------------------------------------------------------------- clocks, tones


def _scene(rng: np.random.Generator, n: int, rate: int) -> _Scene:
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
    return _Scene(
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
    white = rng.random(2 * ((len(_NOISE_ROLES) - 1) * machine + background), dtype=np.float32)
    white -= np.float32(0.5)
    return np.arange(machine, dtype=np.float32) * np.float32(rate / size), white.view(np.complex64)


def _fill(s: _Scene, coarse: np.ndarray) -> np.ndarray:
    """Every sample (float32) of a curve given every `hop` samples, linearly filled in."""
    coarse = coarse.astype(np.float32, copy=False)
    ramp = np.arange(s.hop, dtype=np.float32) / np.float32(s.hop)
    fine = np.empty((coarse.size - 1, s.hop), np.float32)  # in place: far fewer page faults
    np.multiply(np.diff(coarse)[:, None], ramp, out=fine)
    fine += coarse[:-1, None]
    return fine.ravel()[: s.n]


def _curve(s: _Scene, knots: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Piecewise-linear curve through (knots in seconds, values) at every sample."""
    return _fill(s, np.interp(s.coarse_t, knots, values))


def _wander(s: _Scene, ctrl_hz: float) -> np.ndarray:
    """Coarse smooth random signal, about unit variance, changing at about `ctrl_hz`."""
    knots = np.arange(int(s.seconds * ctrl_hz) + 2) / ctrl_hz
    return np.interp(s.coarse_t, knots, s.rng.standard_normal(knots.size))


def _slow(s: _Scene, hz: float, amps=(1.0,)) -> np.ndarray:
    """Coarse harmonic series sum(amps[k] * sin((k+1) * phase)) at `hz`, random phase:
    for modulators and low tones (up to a few hundred hertz)."""
    angle = _TAU * (hz * s.coarse_tau + s.rng.random())
    return sum(a * np.sin((k + 1) * angle) for k, a in enumerate(amps))


def _tone(s: _Scene, hz: float, amps=(1.0,)) -> np.ndarray:
    """Harmonic series sum(amps[k] * sin((k+1) * phase)) at `hz`, random phase, per sample.

    Worked out a few clock blocks at a time, so the scratch arrays stay small and cached."""
    if hz * len(amps) <= _COARSE_TONE_HZ:
        return _fill(s, _slow(s, hz, amps))
    offset = hz * s.clock_hi + s.rng.random()
    offset = (_TAU * (offset - np.floor(offset))).astype(np.float32)  # (B, 1)
    step = s.speed * np.float32(_TAU * hz)  # (B, 1)
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


def _steps(s: _Scene, shortest: float, longest: float, lo: float, hi: float) -> np.ndarray:
    """Piecewise-constant random gain with 4 ms ramps between segments."""
    edges = np.cumsum(s.rng.uniform(shortest, longest, int(s.seconds / shortest) + 2))
    levels = s.rng.uniform(lo, hi, edges.size + 1)
    knots = np.concatenate([[0.0], np.repeat(edges, 2) + np.tile([0.0, 0.004], edges.size)])
    return _curve(s, knots, np.concatenate([levels[:1], np.repeat(levels, 2)[1:-1]]))


# --------------------------------------------------------------------------- noise


def _power(x: np.ndarray) -> float:
    """Sum of squares; einsum rather than BLAS, whose spinning threads would cost CPU."""
    return float(np.einsum("i,i->", x, x))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(_power(x) / max(x.size, 1))) + 1e-12


def _unit(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32, copy=False) * np.float32(1.0 / _rms(x))


def _spectrum(s: _Scene, weights: np.ndarray, role: str) -> np.ndarray:
    """Spectrum (bins from 0 Hz) of unit-RMS noise with amplitude response `weights`."""
    offset = _NOISE_ROLES.index(role) * s.f.size
    spec = s.white[offset : offset + weights.size] * weights.astype(np.float32, copy=False)
    spec *= np.float32(s.size / np.sqrt(2.0 * _power(spec.view(np.float32)) + 1e-30))
    return spec


def _noise(s: _Scene, weights: np.ndarray, role: str = "family") -> np.ndarray:
    """Unit-RMS noise with amplitude response `weights`, in the time domain."""
    return sfft.irfft(_spectrum(s, weights, role), s.size)[: s.n]


def _add_steady(s: _Scene, weights: np.ndarray, role: str, level: float) -> None:
    """Mix steady noise (unit RMS times `level`) straight into the final spectrum."""
    spec = _spectrum(s, weights, role)
    spec *= np.float32(level)
    if s.steady is None:
        s.steady = spec
        return
    short, long = sorted((spec, s.steady), key=len)
    long[: short.size] += short
    s.steady = long


def _band(f: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Fourth-order band-pass amplitude response between `lo` and `hi` Hz."""
    low = np.float32(lo) / np.maximum(f, np.float32(1.0))
    high = f / np.float32(hi)
    low *= low
    high *= high
    return 1.0 / np.sqrt((1.0 + low * low) * (1.0 + high * high))


def _tilt(f: np.ndarray, lowest: float, exponent: float) -> np.ndarray:
    """Amplitude slope f**exponent, held flat below `lowest` Hz."""
    return np.exp(np.float32(exponent) * np.log(np.maximum(f, np.float32(lowest))))


def _peaks(f: np.ndarray, centres, widths, amps) -> np.ndarray:
    """Sum of resonance peaks (Lorentzian amplitude), each evaluated near its centre only."""
    out = np.zeros_like(f)
    step = float(f[1] - f[0]) if f.size > 1 else 1.0
    for centre, width, amp in zip(centres, widths, amps, strict=True):
        lo = max(int((centre - 30 * width) / step), 0)
        hi = min(int((centre + 30 * width) / step) + 1, f.size)
        out[lo:hi] += amp / (1.0 + np.square((f[lo:hi] - centre) / width))
    return out


def _smooth_response(s: _Scene, count: int, response: Callable) -> np.ndarray:
    """A smooth amplitude response over the first `count` bins, computed every 16 bins."""
    coarse = np.arange(0, count + 16, 16, dtype=np.float32) * np.float32(s.rate / s.size)
    return np.repeat(response(coarse).astype(np.float32), 16)[:count]


# --------------------------------------------------------------------------- events


def _ring(rate: int, freqs, decays, amps, phases) -> np.ndarray:
    """Kernel (float32) of decaying sinusoidal modes, a struck object: the sum over modes of
    amps * exp(-t / decays) * sin(2 pi freqs t + phases), each cut after 5 decay times."""
    lengths = (5.0 * np.asarray(decays) * rate).astype(int) + 1
    t = np.arange(lengths.max(), dtype=np.float32) / np.float32(rate)
    out = np.zeros(t.size, np.float32)
    for hz, decay, amp, phase, size in zip(freqs, decays, amps, phases, lengths, strict=True):
        mode = np.sin(np.float32(_TAU * hz) * t[:size] + np.float32(phase))
        mode *= np.exp(t[:size] * np.float32(-1.0 / decay))
        out[:size] += np.float32(amp) * mode
    return out


def _click(s: _Scene, centre: float, decay: float) -> np.ndarray:
    """A sharp impact: a bright resonance plus a broadband spike, `decay` seconds long."""
    size = max(int(6 * decay * s.rate), 8)
    t = np.arange(size, dtype=np.float32) / s.rate
    spike = s.rng.standard_normal(size).astype(np.float32) * np.exp(-t / (0.3 * decay))
    return np.exp(-t / decay) * np.sin(_TAU * centre * t) + 0.6 * spike


def _thump(s: _Scene, hz: float, decay: float) -> np.ndarray:
    """A low knock whose pitch drops slightly as it dies away."""
    t = np.arange(int(5 * decay * s.rate), dtype=np.float32) / s.rate
    phase = _TAU * hz * (t + 0.15 * decay * (1.0 - np.exp(-t / decay)))
    return np.exp(-t / decay) * np.sin(phase)


def _place(s: _Scene, times: np.ndarray, kernel: np.ndarray, amps: np.ndarray) -> np.ndarray:
    """Add `kernel` at each time (seconds), scaled by its amplitude; vectorised per event."""
    out = np.zeros(s.n, np.float32)
    for time, amp in zip(times, amps, strict=True):
        start = int(round(time * s.rate))
        lo, hi = max(0, -start), min(kernel.size, s.n - start)
        if hi > lo:
            out[start + lo : start + hi] += np.float32(amp) * kernel[lo:hi]
    return out


def _periodic(s: _Scene, hz: float, jitter: float) -> np.ndarray:
    """Event times at `hz` with a random phase and relative timing jitter."""
    count = int(s.seconds * hz) + 2
    times = (np.arange(count) - s.rng.random()) / hz
    return times + s.rng.normal(0.0, jitter / hz, count)


def _poisson(s: _Scene, hz: float) -> np.ndarray:
    return np.sort(s.rng.uniform(-0.2, s.seconds, s.rng.poisson(hz * (s.seconds + 0.2))))


# --------------------------------------------------------------------------- families


def _motor(s: _Scene, _condition: str) -> _Part:
    """Electrical hum at 100 or 120 Hz with harmonics, a rotor whine at 1-3 kHz, a little hiss."""
    rng, p = s.rng, s.pitch
    hum_hz = float(rng.choice([100.0, 120.0])) * p
    overtones = rng.uniform([0.3, 0.15, 0.05, 0.02], [0.7, 0.4, 0.2, 0.1])
    hum = _tone(s, hum_hz, [1.0, *overtones])
    whine = _tone(s, rng.uniform(1000, 3000) * p) * _fill(s, 1.0 + 0.3 * _wander(s, 3.0))
    hiss = _noise(s, _band(s.f, 200, 4000))
    sig = hum + rng.uniform(0.15, 0.4) * whine + rng.uniform(0.05, 0.12) * hiss
    return _Part(_unit(sig), run_hz=hum_hz / 4, event_hz=hum_hz / 12, tone_hz=hum_hz)


def _fan(s: _Scene, _condition: str) -> _Part:
    """Blade-pass tone at 100-400 Hz and a broad airflow whoosh swelling once per revolution."""
    rng, p = s.rng, s.pitch
    bpf = rng.uniform(100, 400) * p
    shaft = bpf / max(round(bpf / rng.uniform(10, 25)), 4)  # 4 or more blades
    tone = _tone(s, bpf, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    peak = rng.uniform(300, 900) * p
    whoosh = _noise(s, _band(s.f, 60, 2500) * (0.3 + _peaks(s.f, [peak], [peak], [1.0])))
    whoosh *= _fill(s, 1.0 + 0.15 * _slow(s, shaft))
    sig = rng.uniform(0.8, 1.5) * tone + whoosh
    return _Part(_unit(sig), run_hz=max(shaft, 20.0), event_hz=shaft, tone_hz=bpf)


def _pump(s: _Scene, _condition: str) -> _Part:
    """Fluid noise pulsing at 15-40 Hz, with a 200-600 Hz vane tone."""
    rng, p = s.rng, s.pitch
    pulse_hz = rng.uniform(15, 40) * p
    pulse = _slow(s, pulse_hz)
    fluid = _noise(s, _band(s.f, 150, 2500)) * _fill(s, 0.25 + 0.3 * np.square(1.0 + pulse))
    vane_hz = rng.uniform(200, 600) * p
    vane = _tone(s, vane_hz, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    sig = fluid + rng.uniform(0.4, 0.8) * vane + _fill(s, 0.5 * pulse)
    return _Part(_unit(sig), run_hz=max(pulse_hz, 20.0), event_hz=pulse_hz / 2, tone_hz=vane_hz)


def _gear(s: _Scene, _condition: str) -> _Part:
    """Gear-mesh tone at 0.5-2 kHz with sidebands at the shaft rate."""
    rng, p = s.rng, s.pitch
    shaft = rng.uniform(10, 30) * p
    mesh_hz = rng.uniform(500, 2000) * p
    mesh = _tone(s, mesh_hz, [1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2)])
    sidebands = _fill(s, 1.0 + _slow(s, shaft, [rng.uniform(0.3, 0.6), 0.15]))
    hiss = _noise(s, _band(s.f, 300, 5000))
    sig = mesh * sidebands + rng.uniform(0.08, 0.2) * hiss
    return _Part(_unit(sig), run_hz=max(shaft, 20.0), event_hz=shaft, tone_hz=mesh_hz)


def _bearing(s: _Scene, _condition: str) -> _Part:
    """A band of rolling noise at 2-6 kHz and a faint low hum."""
    rng, p = s.rng, s.pitch
    centre = rng.uniform(2500, 4500) * p
    shape = _band(s.f, 2000 * p, 6000 * p) * _peaks(s.f, [centre], [centre * 0.4], [1.0])
    run = rng.uniform(20, 30) * p
    rolling = _noise(s, shape) * _fill(s, 1.0 + 0.15 * _slow(s, run * rng.uniform(3.0, 5.0)))
    sig = rolling + rng.uniform(0.15, 0.35) * _tone(s, rng.uniform(50, 120) * p)
    return _Part(_unit(sig), run_hz=run, event_hz=rng.uniform(8, 16) * p)


def _conveyor(s: _Scene, _condition: str) -> _Part:
    """Belt rumble and friction with roller clunks 1-4 times a second."""
    rng, p = s.rng, s.pitch
    belt = rng.uniform(0.03, 0.06) * _band(s.f, 200, 2500)
    rumble = _noise(s, _band(s.f, 30, 600) * _tilt(s.f, 30.0, -1.0) + belt)
    drive = rng.uniform(20, 30) * p
    kernel = _thump(s, rng.uniform(80, 200) * p, rng.uniform(0.04, 0.08))
    snap = _click(s, rng.uniform(500, 1500) * p, rng.uniform(0.008, 0.015))
    kernel[: snap.size] += rng.uniform(1.5, 2.5) * snap
    times = _periodic(s, rng.uniform(1, 4), 0.03)
    clunks = _place(s, times, kernel, rng.uniform(0.8, 1.2, times.size))
    sig = rumble + rng.uniform(2.0, 4.0) * clunks + 0.2 * _tone(s, 2 * drive)
    return _Part(_unit(sig), run_hz=drive, event_hz=drive / rng.uniform(2.5, 4.0))


def _valve(s: _Scene, _condition: str) -> _Part:
    """Narrow-band flow noise and a periodic double tick of the actuator."""
    rng, p = s.rng, s.pitch
    centre = rng.uniform(600, 2500) * p
    shape = _peaks(s.f, [centre], [centre / rng.uniform(6, 12)], [1.0])
    flow = _noise(s, shape + 0.03 * _band(s.f, 200, 5000))
    tick = _click(s, rng.uniform(2000, 4000) * p, 0.004)
    gap = int(rng.uniform(0.015, 0.035) * s.rate)
    pair = np.zeros(tick.size + gap, np.float32)
    pair[: tick.size] += tick
    pair[gap:] += 0.6 * tick
    times = _periodic(s, 1.0 / rng.uniform(0.5, 1.2), 0.02)
    ticks = _place(s, times, pair, rng.uniform(0.8, 1.1, times.size))
    sig = flow + rng.uniform(1.5, 3.0) * ticks
    return _Part(_unit(sig), run_hz=rng.uniform(20, 35) * p, event_hz=rng.uniform(4, 10))


def _pipe(s: _Scene, _condition: str) -> _Part:
    """Flow noise exciting the pipe's harmonic resonances (150-400 Hz apart)."""
    rng, p = s.rng, s.pitch
    f1 = rng.uniform(150, 400) * p
    k = np.arange(1, max(int(4000 / f1), 3) + 1)
    centres = f1 * k * (1.0 + 0.004 * k * rng.uniform(0.5, 1.5))
    modes = _peaks(s.f, centres, centres / rng.uniform(25, 50), rng.uniform(0.4, 1.0, k.size) / k)
    flow = _noise(s, modes + 0.05 * _band(s.f, 100, 4000)) * _fill(s, 1 + 0.2 * _wander(s, 2))
    return _Part(
        _unit(flow), run_hz=rng.uniform(20, 35) * p, event_hz=rng.uniform(3, 8), tone_hz=f1
    )


def _tap_test(
    s: _Scene, condition: str, f1: float, ratios: np.ndarray, decay: float, interval: float
) -> _Part:
    """Hammer taps on an object. A crack dulls, splits and buzzes the ring; misalignment adds
    beating 2x and 3x partials. The draws do not depend on the condition."""
    rng = s.rng
    count = ratios.size
    freqs = f1 * ratios * (1.0 + rng.normal(0.0, 0.01, count))
    decays = decay * np.sqrt(f1 / freqs)
    amps = rng.uniform(0.4, 1.0, count) / np.sqrt(np.arange(1, count + 1))
    phases = rng.uniform(0.0, 0.3, count + 4)
    detune, split, dull, buzz_hz = rng.uniform([0.003, 0.015, 0.2, 60], [0.01, 0.04, 0.35, 140])
    hit = _click(s, rng.uniform(800, 2000), 0.003)
    times = _periodic(s, 1.0 / interval, 0.08)
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
    kernel = _ring(s.rate, freqs[keep], decays[keep], amps[keep], phases)
    if condition == "cracked":
        t = np.arange(kernel.size, dtype=np.float32) / np.float32(s.rate)
        kernel *= 1.0 + 0.7 * np.sign(np.sin(np.float32(_TAU * buzz_hz) * t))
    kernel = np.pad(kernel, (0, max(hit.size - kernel.size, 0)))
    kernel[: hit.size] += 0.5 * hit
    return _Part(_unit(_place(s, times, kernel, strengths)), run_hz=25.0, event_hz=1 / interval)


def _weld(s: _Scene, condition: str) -> _Part:
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


def _bolt(s: _Scene, condition: str) -> _Part:
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


_FAMILIES: dict[str, Callable[[_Scene, str], _Part]] = {
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


# --------------------------------------------------------------------------- conditions


def _worn(s: _Scene, part: _Part, _tap: bool) -> np.ndarray:
    """Rough (random fast amplitude modulation), saturated, richer in harmonics, noisier."""
    rng = s.rng
    rough = part.signal * _fill(s, 1.0 + rng.uniform(0.3, 0.6) * _wander(s, rng.uniform(30, 70)))
    sig = _saturate(rough, max(rough.max(), -rough.min()) / rng.uniform(1.2, 2.5))
    if part.tone_hz:
        sig += _tone(s, part.tone_hz, [0.0, *rng.uniform(0.02, 0.1, 4)]) * rng.uniform(1, 2)
    floor = _band(s.f, 150, 7000) * _tilt(s.f, 150.0, rng.uniform(-0.5, 0.0))
    _add_steady(s, floor, "condition", rng.uniform(0.2, 0.4))
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


def _cracked(s: _Scene, part: _Part, tap: bool) -> np.ndarray:
    """Sharp clicks once per revolution (taps: the ring itself is dull, split and buzzing)."""
    if tap:
        return part.signal
    rng = s.rng
    click = _click(s, rng.uniform(1000, 3000), rng.uniform(0.002, 0.005))
    times = _periodic(s, part.event_hz, 0.01)
    amps = rng.uniform(5.0, 8.0) * rng.uniform(0.6, 1.0, times.size)
    return part.signal + _place(s, times, click, amps)


def _leaking(s: _Scene, part: _Part, _tap: bool) -> np.ndarray:
    """A steady 3-7 kHz hiss, half of the time sputtering."""
    rng = s.rng
    hiss = _band(s.f, rng.uniform(3000, 3500), rng.uniform(6000, 7000))
    level = rng.uniform(0.35, 0.8)
    if rng.random() >= 0.5:
        _add_steady(s, hiss, "condition", level)
        return part.signal
    gate = np.clip(_wander(s, rng.uniform(6, 15)) + rng.uniform(0.0, 0.8), 0.0, 1.0)
    gate *= level / np.sqrt(np.mean(gate * gate) + 1e-6)
    return part.signal + _noise(s, hiss, "condition") * _fill(s, gate)


def _misaligned(s: _Scene, part: _Part, tap: bool) -> np.ndarray:
    """Strong 2x and 3x running-speed harmonics, beating slowly, and 2x modulation
    (taps: beating 2x and 3x partials in the ring)."""
    rng = s.rng
    beat_hz = rng.uniform(0.4, 1.5)
    beating = 1.0 + rng.uniform(0.2, 0.4) * _slow(s, beat_hz)
    if tap:
        return part.signal * _fill(s, beating)
    run = part.run_hz
    amps = [rng.uniform(0.1, 0.3), rng.uniform(0.6, 1.0), rng.uniform(0.4, 0.8)]
    low = _slow(s, run, amps) + _slow(s, run + beat_hz, amps)
    wobble = 1.0 + rng.uniform(0.2, 0.4) * _slow(s, 2 * run)
    return part.signal * _fill(s, wobble * beating) + _fill(s, 0.8 * low)


def _loose(s: _Scene, part: _Part, _tap: bool) -> np.ndarray:
    """Amplitude jumps, irregular bursts of rattling and low thumps."""
    rng = s.rng
    sig = part.signal * _steps(s, 0.15, 0.8, 0.5, 1.4)
    rattle = _click(s, rng.uniform(800, 3000), 0.003)
    starts = _poisson(s, rng.uniform(1.0, 3.0))
    gaps = [np.cumsum(rng.uniform(0.008, 0.03, c)) for c in rng.integers(3, 9, starts.size)]
    times = np.concatenate([t0 + g for t0, g in zip(starts, gaps, strict=True)] or [[]])
    sig += _place(s, times, rattle, rng.uniform(0.5, 1.5, times.size))
    thump = _thump(s, rng.uniform(40, 120), rng.uniform(0.04, 0.09))
    knocks = _poisson(s, rng.uniform(0.5, 2.0))
    return sig + _place(s, knocks, thump, rng.uniform(1.5, 3.0, knocks.size))


_CONDITIONS: dict[str, Callable[[_Scene, _Part, bool], np.ndarray]] = {
    "normal": lambda _s, part, _tap: part.signal,
    "worn": _worn,
    "cracked": _cracked,
    "leaking": _leaking,
    "misaligned": _misaligned,
    "loose": _loose,
}


# --------------------------------------------------------------------------- nuisance


def _background(s: _Scene, level: float) -> np.ndarray:
    """Factory ambience: pink-to-brown noise (mixed in as steady noise), a distant hum at an
    unrelated frequency and occasional distant clanks (returned)."""
    rng = s.rng
    slope, top = -0.5 * rng.uniform(0.8, 2.0), rng.uniform(5000, 12000)
    count = s.white.size - _NOISE_ROLES.index("background") * s.f.size
    colour = _smooth_response(s, count, lambda f: _tilt(f, 20.0, slope) * _band(f, 20, top))
    _add_steady(s, colour, "background", level)
    hum = _tone(s, rng.uniform(47, 330), [1.0, rng.uniform(0.1, 0.5)]) * rng.uniform(0.1, 0.5)
    clanks = _poisson(s, rng.uniform(0.0, 0.4))
    if clanks.size:
        modes = rng.uniform(200, 2000, 3)
        kernel = _ring(s.rate, modes, rng.uniform(0.2, 0.6, 3), 300.0 / modes, np.zeros(3))
        kernel /= np.abs(kernel).max() + 1e-9
        hum += _place(s, clanks, kernel, rng.uniform(1.0, 3.0, clanks.size))
    return hum * np.float32(level)


def _microphone(s: _Scene) -> np.ndarray:
    """Gain per bin of a random, smooth equaliser: where and with what it was recorded."""
    nodes = np.log(np.geomspace(50.0, 16000.0, 7))
    gains = s.rng.normal(0.0, 3.0, nodes.size) * (np.log(10.0) / 20.0)  # dB to nepers

    def response(f: np.ndarray) -> np.ndarray:
        return np.exp(np.interp(np.log(np.maximum(f, 50.0)), nodes, gains))

    return _smooth_response(s, s.bins, response)


def _onset(s: _Scene) -> np.ndarray | float:
    """Sometimes the machine starts (or is first heard) after the recording starts."""
    if s.rng.random() >= 0.2:
        return 1.0
    start = s.rng.uniform(0.1, 0.35) * s.seconds
    return _curve(s, np.array([start, start + 0.03]), np.array([0.0, 1.0]))


def synth_sound(
    concept: Concept, rng: np.random.Generator, duration: float, rate: int = RATE
) -> np.ndarray:
    """One procedural recording of `concept`: float32 mono, round(duration*rate) samples.

    The peak is at most 0.99. Every random choice is drawn from `rng`.
    """
    n = int(round(duration * rate))
    if n <= 0:
        return np.zeros(0, np.float32)
    s = _scene(rng, n, rate)
    snr_db, level_db = rng.uniform(0.0, 20.0), rng.uniform(-32.0, -16.0)
    ambience = _background(s, 10.0 ** (-snr_db / 20.0))
    microphone = _microphone(s)
    onset = _onset(s)
    part = _FAMILIES[concept.family](s, concept.condition)
    # the condition adds to the unit-RMS family sound, so the SNR is relative to the family
    machine = _CONDITIONS[concept.condition](s, part, concept.family in _TAP_FAMILIES)
    spectrum = sfft.rfft(machine * onset + ambience, s.size)
    if s.steady is not None:
        spectrum[: s.steady.size] += s.steady
    spectrum *= microphone
    mix = sfft.irfft(spectrum, s.size)[:n]
    mix *= np.float32(
        min(10.0 ** (level_db / 20.0) / _rms(mix), _PEAK / (float(np.abs(mix).max()) + 1e-12))
    )
    return mix
