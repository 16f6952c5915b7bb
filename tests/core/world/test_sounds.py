"""Tests for the procedural factory recordings (core.world.sounds).

Signature tests compare renders of two conditions of one family from the same seed: the
nuisance (background, microphone, levels) and the family's own draws are then identical,
so the difference is the condition's signature alone.
"""

from __future__ import annotations

import time
from functools import cache

import numpy as np
import pytest
from scipy import fft as sfft

from core.world.concepts import FAMILIES, all_concepts, concept_by_name
from core.world.sounds import RATE, synth_sound

TAPS = ("weld", "bolt")
MACHINES = tuple(f for f in FAMILIES if f not in TAPS)
SEEDS = range(4)
SECONDS = 2.0


@cache
def render(name: str, seed: int, seconds: float = SECONDS) -> np.ndarray:
    clip = synth_sound(concept_by_name(name), np.random.default_rng(seed), seconds)
    clip.flags.writeable = False
    return clip


def spectrum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.abs(sfft.rfft(x)) ** 2, sfft.rfftfreq(x.size, 1.0 / RATE)


def band_fraction(x: np.ndarray, lo: float, hi: float) -> float:
    """Share of the energy below 8 kHz that lies in [lo, hi) Hz."""
    power, freqs = spectrum(x)
    return float(power[(freqs >= lo) & (freqs < hi)].sum() / power[freqs < 8000].sum())


def highband_kurtosis(x: np.ndarray) -> float:
    """Kurtosis of the signal above 1 kHz: impulses raise it, steady sound keeps it near 3."""
    coeffs = np.fft.rfft(x)
    coeffs[np.fft.rfftfreq(x.size, 1.0 / RATE) < 1000] = 0
    y = np.fft.irfft(coeffs, x.size)
    return float(np.mean(y**4) / np.mean(y**2) ** 2)


def noise_floor(x: np.ndarray) -> float:
    """The quietest fifth of the 1-7 kHz spectrum (the floor between the lines), as a share
    of the energy below 8 kHz."""
    power, freqs = spectrum(x)
    band = power[(freqs > 1000) & (freqs < 7000)]
    band = band[: band.size // 16 * 16].reshape(-1, 16).mean(axis=1)
    return float(np.percentile(band, 20) / power[freqs < 8000].sum())


def peakiness(x: np.ndarray) -> float:
    """How far (dB) the loudest 10 ms frames stand above the median frame."""
    frames = x[: x.size // 480 * 480].reshape(-1, 480).astype(np.float64)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    return float(np.percentile(level, 99) - np.median(level))


def paired_ratios(family: str, condition: str, measure) -> np.ndarray:
    """measure(condition) / measure(normal) for renders of `family` from the same seeds."""
    return np.array(
        [
            measure(render(f"{family}/{condition}", seed))
            / measure(render(f"{family}/normal", seed))
            for seed in SEEDS
        ]
    )


# --------------------------------------------------------------------------- format


def test_every_concept_renders_a_sane_clip():
    for concept in all_concepts():
        clip = render(concept.name, 7)
        assert clip.shape == (round(SECONDS * RATE),), concept.name
        assert clip.dtype == np.float32
        assert np.all(np.isfinite(clip))
        assert np.abs(clip).max() <= 0.99
        rms = float(np.sqrt(np.mean(clip.astype(np.float64) ** 2)))
        assert rms > 1e-3, f"{concept.name} is silent"


@pytest.mark.parametrize(
    ("seconds", "rate"), [(2.0, RATE), (3.337, RATE), (10.0, RATE), (2.5, 16_000), (0.01, RATE)]
)
def test_length_follows_duration_and_rate(seconds, rate):
    clip = synth_sound(concept_by_name("gear/worn"), np.random.default_rng(0), seconds, rate)
    assert clip.shape == (round(seconds * rate),)
    assert clip.dtype == np.float32
    assert np.all(np.isfinite(clip)) and np.abs(clip).max() <= 0.99


@pytest.mark.parametrize(
    "name",
    [
        "motor/normal",
        "pump/leaking",
        "weld/cracked",
        "bolt/loose",
        "conveyor/misaligned",
        "bearing/worn",
    ],
)
def test_same_seed_gives_identical_samples(name):
    first = synth_sound(concept_by_name(name), np.random.default_rng(123), 2.5)
    second = synth_sound(concept_by_name(name), np.random.default_rng(123), 2.5)
    assert np.array_equal(first, second)


@pytest.mark.parametrize("name", ["fan/normal", "valve/cracked", "weld/normal"])
def test_different_seeds_give_different_recordings(name):
    first = synth_sound(concept_by_name(name), np.random.default_rng(1), 2.0)
    second = synth_sound(concept_by_name(name), np.random.default_rng(2), 2.0)
    assert abs(np.corrcoef(first, second)[0, 1]) < 0.5


def test_uses_no_global_random_state():
    concept = concept_by_name("pipe/loose")
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    first = synth_sound(concept, np.random.default_rng(5), 2.0)
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.seed(99)
    second = synth_sound(concept, np.random.default_rng(5), 2.0)
    assert np.array_equal(first, second)


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("family", FAMILIES)
def test_leaking_adds_a_3_to_7_khz_hiss(family):
    # against the energy below 1 kHz, which a leak leaves alone
    hiss = paired_ratios(
        family, "leaking", lambda x: band_fraction(x, 3000, 7000) / band_fraction(x, 0, 1000)
    )
    assert np.all(hiss > 1.1)
    if family not in ("bearing", "bolt", "pipe"):  # their own sound already fills 3-7 kHz
        share = paired_ratios(family, "leaking", lambda x: band_fraction(x, 3000, 7000))
        assert share.mean() > 1.5


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "conveyor"])
def test_cracked_is_more_impulsive(family):
    # a conveyor's clunks are impulsive already; there the clicks show only as a rhythm
    ratios = paired_ratios(family, "cracked", highband_kurtosis)
    assert ratios.mean() > 1.25


@pytest.mark.parametrize("family", MACHINES)
def test_misaligned_adds_low_running_speed_harmonics(family):
    ratios = paired_ratios(
        family, "misaligned", lambda x: band_fraction(x, 30, 200) / band_fraction(x, 1000, 7000)
    )
    assert np.all(ratios > 1.0)
    assert ratios.mean() > 1.4


@pytest.mark.parametrize("family", ["motor", "gear", "fan", "valve", "weld", "bolt"])
def test_worn_raises_the_noise_floor(family):
    # families whose normal sound is made of lines or rings, so that it has a floor to raise
    assert paired_ratios(family, "worn", noise_floor).mean() > 1.15


@pytest.mark.parametrize("family", [f for f in MACHINES if f != "conveyor"])
def test_loose_has_knocks_standing_out(family):
    assert paired_ratios(family, "loose", peakiness).mean() > 1.1


# --------------------------------------------------------------------------- difficulty


def spectral_features(x: np.ndarray) -> np.ndarray:
    """Trivial features: log spectral centroid and log shares of a handful of bands."""
    power, freqs = spectrum(x)
    total = power.sum() + 1e-20
    edges = [0, 200, 500, 1000, 2000, 3000, 5000, 7000, RATE / 2]
    shares = [
        power[(freqs >= lo) & (freqs < hi)].sum() / total
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    ]
    centroid = float((freqs * power).sum() / total)
    return np.log(np.array([centroid + 1.0, *shares]) + 1e-9)


@pytest.mark.slow
def test_spectral_centroid_classifier_is_above_chance_but_far_from_perfect():
    concepts = all_concepts()
    train, test = 8, 4
    feats = np.array(
        [
            [
                spectral_features(synth_sound(c, np.random.default_rng([c.index, k]), SECONDS))
                for k in range(train + test)
            ]
            for c in concepts
        ]
    )  # (60, 12, d)
    reference = feats[:, :train].reshape(-1, feats.shape[-1])
    feats = (feats - reference.mean(axis=0)) / (reference.std(axis=0) + 1e-9)
    centroids = feats[:, :train].mean(axis=1)  # (60, d)
    queries = feats[:, train:].reshape(-1, feats.shape[-1])
    labels = np.repeat(np.arange(len(concepts)), test)
    dists = ((queries[:, None, :] - centroids[None]) ** 2).sum(-1)
    accuracy = float(np.mean(dists.argmin(axis=1) == labels))
    assert 3.0 / len(concepts) < accuracy < 0.8, accuracy


# --------------------------------------------------------------------------- speed


def test_synthesis_is_vectorised():
    # the budget is about 8 ms of CPU per second of audio; this only guards against
    # per-sample Python loops (which would cost seconds), with room for a slow machine
    concept = concept_by_name("pump/worn")
    synth_sound(concept, np.random.default_rng(0), 1.0)
    costs = []
    for seed in range(3):
        start = time.thread_time()
        synth_sound(concept, np.random.default_rng(seed), 10.0)
        costs.append(time.thread_time() - start)
    assert min(costs) < 0.4
