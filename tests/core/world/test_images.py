"""Procedural inspection photos: determinism, shape, and how much each cue carries."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from core.world.concepts import CONDITIONS, FAMILIES, all_concepts, concept_by_name
from core.world.images import render_image

CONCEPTS = all_concepts()
RENDERS = 15  # per concept: 10 to train a centroid, 5 to test it; 7 + 7 for mean images
SIZE = 96


def _pixels(image: Image.Image) -> np.ndarray:
    return np.asarray(image, dtype=np.float32)


@pytest.fixture(scope="module")
def renders() -> np.ndarray:
    """RENDERS images per concept, each at SIZE px and then downscaled to 64 px."""
    return np.array(
        [
            [
                _pixels(
                    render_image(c, np.random.default_rng([7, c.index, k]), SIZE).resize(
                        (64, 64), Image.BILINEAR
                    )
                )
                for k in range(RENDERS)
            ]
            for c in CONCEPTS
        ]
    )


def test_same_seed_gives_identical_pixels():
    concept = concept_by_name("pump/leaking")
    a = render_image(concept, np.random.default_rng(123))
    b = render_image(concept, np.random.default_rng(123))
    assert a.tobytes() == b.tobytes()


def test_global_random_state_is_not_used():
    concept = concept_by_name("fan/loose")
    np.random.seed(0)
    a = render_image(concept, np.random.default_rng(5), 64)
    np.random.seed(1)
    np.random.random(100)
    b = render_image(concept, np.random.default_rng(5), 64)
    assert a.tobytes() == b.tobytes()


def test_different_seeds_differ():
    concept = concept_by_name("gear/normal")
    a = _pixels(render_image(concept, np.random.default_rng(1)))
    b = _pixels(render_image(concept, np.random.default_rng(2)))
    assert np.abs(a - b).mean() > 10


@pytest.mark.parametrize("size", [224, 96, 64])
def test_size_and_mode(size):
    image = render_image(concept_by_name("bolt/worn"), np.random.default_rng(0), size)
    assert image.mode == "RGB"
    assert image.size == (size, size)


def test_default_size_is_224():
    assert render_image(CONCEPTS[0], np.random.default_rng(0)).size == (224, 224)


def test_every_concept_renders_something(renders):
    assert renders.shape == (len(FAMILIES) * len(CONDITIONS), RENDERS, 64, 64, 3)
    per_image_std = renders.reshape(len(CONCEPTS), RENDERS, -1).std(-1)
    assert per_image_std.min() > 8, "an image is (nearly) flat"
    # no two renders of a concept are the same picture
    first, second = renders[:, 0], renders[:, 1]
    assert np.abs(first - second).mean(axis=(1, 2, 3)).min() > 5


def test_family_structure_outweighs_render_noise(renders):
    """Mean images of one concept from two disjoint sets of renders are closer to each other
    than to those of other families; other conditions of the same family sit in between."""
    a, b = renders[:, :7].mean(1), renders[:, 7:14].mean(1)
    dist = np.sqrt(((a[:, None] - b[None]) ** 2).reshape(len(CONCEPTS), len(CONCEPTS), -1).mean(-1))
    family = np.array([c.family_index for c in CONCEPTS])
    same_family = family[:, None] == family[None]
    within = np.diag(dist).mean()
    other_condition = dist[same_family & ~np.eye(len(CONCEPTS), dtype=bool)].mean()
    other_family = dist[~same_family].mean()
    assert other_family > 1.15 * within
    assert within < other_condition < other_family


def _log_histogram(image: np.ndarray, bins: int = 4) -> np.ndarray:
    q = image.astype(np.int64) // (256 // bins)
    index = (q[..., 0] * bins + q[..., 1]) * bins + q[..., 2]
    counts = np.bincount(index.ravel(), minlength=bins**3).astype(np.float64)
    return np.log(counts / counts.sum() + 1e-3)


def test_colour_histogram_beats_chance_but_not_the_task(renders):
    """Nearest centroid over colour histograms: colour carries some of the concept, not all."""
    feats = np.array([[_log_histogram(image) for image in row] for row in renders])
    train, test = feats[:, :10], feats[:, 10:15]
    centroids = train.mean(1)
    dist = ((test[:, :, None, :] - centroids[None, None]) ** 2).sum(-1)
    predicted = dist.argmin(-1)
    truth = np.arange(len(CONCEPTS))[:, None]
    accuracy = (predicted == truth).mean()
    chance = 1 / len(CONCEPTS)
    assert 3 * chance < accuracy < 0.8, accuracy
    family_accuracy = (predicted // len(CONDITIONS) == truth // len(CONDITIONS)).mean()
    assert family_accuracy < 0.8, "colour alone gives the family away"
