"""Tests for the procedural point-cloud scans of the demo world (core.world.clouds)."""

from __future__ import annotations

import numpy as np
import pytest

from core.world.clouds import make_cloud
from core.world.concepts import FAMILIES, all_concepts, concept_by_name

CONCEPTS = all_concepts()


def _cloud(name: str, seed: int, n_points: int = 4096) -> np.ndarray:
    return make_cloud(concept_by_name(name), np.random.default_rng(seed), n_points)


def test_same_seed_gives_identical_cloud() -> None:
    for concept in CONCEPTS[::7]:
        a = make_cloud(concept, np.random.default_rng(123))
        b = make_cloud(concept, np.random.default_rng(123))
        assert np.array_equal(a, b), concept.name


def test_different_seeds_give_different_clouds() -> None:
    a, b = _cloud("gear/normal", 1), _cloud("gear/normal", 2)
    assert not np.allclose(np.sort(a, axis=0), np.sort(b, axis=0), atol=1e-3)


def test_global_random_state_is_untouched() -> None:
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    _cloud("pump/leaking", 0)
    assert np.array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(("n_points", "step"), [(4096, 1), (1024, 5), (100, 7)])
def test_clouds_are_centred_and_fill_the_unit_sphere(n_points: int, step: int) -> None:
    for concept in CONCEPTS[::step]:
        pts = make_cloud(concept, np.random.default_rng(concept.index), n_points)
        assert pts.shape == (n_points, 3), concept.name
        assert pts.dtype == np.float32
        assert np.isfinite(pts).all()
        assert np.abs(pts.mean(axis=0)).max() < 1e-4, concept.name
        radius = np.linalg.norm(pts.astype(np.float64), axis=1)
        assert radius.max() <= 1.0 + 1e-6
        assert radius.max() > 0.9  # scaled to fill the sphere, not just inside it
        # a scan of surfaces, not a blob: far fewer distinct points would mean collapse
        assert len(np.unique(pts.round(4), axis=0)) > 0.95 * n_points


def _bottom_gap(pts: np.ndarray) -> float:
    """Height between the 10% and 20% quantiles of z, over the height of the cloud: large
    when the lowest tenth of the points is a puddle lying well below the part."""
    q01, q10, q20, q99 = np.quantile(pts[:, 2], [0.01, 0.1, 0.2, 0.99])
    return float((q20 - q10) / (q99 - q01))


def test_leaking_clouds_have_a_puddle_below_the_part() -> None:
    normal, leaking = [], []
    for family in FAMILIES:
        normal.append(np.mean([_bottom_gap(_cloud(f"{family}/normal", s)) for s in range(4)]))
        leaking.append(np.mean([_bottom_gap(_cloud(f"{family}/leaking", s)) for s in range(4)]))
    normal, leaking = np.array(normal), np.array(leaking)
    assert leaking.mean() > 2.0 * normal.mean()
    assert (leaking > normal).sum() >= 9


def _along_main_axis(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centred points and their coordinate along the principal axis."""
    centred = pts - pts.mean(axis=0)
    axis = np.linalg.eigh(np.cov(centred.T))[1][:, -1]
    return centred, centred @ axis


def _bend_degrees(pts: np.ndarray) -> float:
    """Angle between the principal axes of the two halves of a long part."""
    centred, t = _along_main_axis(pts)
    halves = [np.linalg.eigh(np.cov(centred[m].T))[1][:, -1] for m in (t < -0.2, t > 0.2)]
    return float(np.degrees(np.arccos(min(1.0, abs(halves[0] @ halves[1])))))


def _widest_gap(pts: np.ndarray) -> float:
    """Widest empty slab across the principal axis near the middle of the part."""
    _, t = _along_main_axis(pts)
    return float(np.diff(np.sort(t[np.abs(t) < 0.5])).max())


def test_misaligned_pipe_is_bent_at_the_joint() -> None:
    normal = [_bend_degrees(_cloud("pipe/normal", s)) for s in range(5)]
    misaligned = [_bend_degrees(_cloud("pipe/misaligned", s)) for s in range(5)]
    assert max(normal) < 8.0
    assert min(misaligned) > 12.0  # tilted 10-25 degrees


def test_loose_pipe_has_a_gap_at_the_joint() -> None:
    normal = [_widest_gap(_cloud("pipe/normal", s)) for s in range(5)]
    loose = [_widest_gap(_cloud("pipe/loose", s)) for s in range(5)]
    assert max(normal) < 0.02
    assert min(loose) > 0.03


def test_bounding_box_extents_classify_above_chance_but_not_perfectly() -> None:
    """Sorted bounding-box extents carry some signal (aspect ratios of the families, the
    puddle of a leak) but nowhere near all of it: the point structure has to be learned."""

    def features(concept, seeds: range) -> np.ndarray:
        clouds = [make_cloud(concept, np.random.default_rng([99, concept.index, s])) for s in seeds]
        return np.array([np.sort(p.max(axis=0) - p.min(axis=0)) for p in clouds])

    train = np.array([features(c, range(10)) for c in CONCEPTS])  # (60, 10, 3)
    test = np.array([features(c, range(10, 15)) for c in CONCEPTS])  # (60, 5, 3)
    centroids = train.mean(axis=1)
    dist = ((test[:, :, None, :] - centroids[None, None]) ** 2).sum(axis=-1)
    accuracy = (dist.argmin(axis=-1) == np.arange(len(CONCEPTS))[:, None]).mean()
    chance = 1.0 / len(CONCEPTS)
    assert 2.0 * chance < accuracy < 0.8


def test_open3d_round_trip() -> None:
    o3d = pytest.importorskip("open3d")
    pts = _cloud("motor/cracked", 3)
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(pts.astype(np.float64)))
    assert np.allclose(np.asarray(cloud.points), pts, atol=1e-7)
    down = cloud.farthest_point_down_sample(1024)
    assert np.asarray(down.points).shape == (1024, 3)
