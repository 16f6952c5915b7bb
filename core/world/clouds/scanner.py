"""Scanner nuisance (pose, tilt, outliers, jitter, normalisation into the unit sphere)
and `make_cloud`, which builds, conditions and scans one instance of a concept.
"""

from __future__ import annotations

import numpy as np

from core.world.clouds.conditions import CONDITION_CUES, REMOVES, Scan
from core.world.clouds.families import FAMILY_MODELS
from core.world.clouds.geometry import TAU, Z, perpendicular, rot
from core.world.concepts import Concept


def _fit_unit_sphere(pts: np.ndarray) -> np.ndarray:
    pts = pts - pts.mean(axis=0)
    radius = np.sqrt(np.einsum("ij,ij->i", pts, pts).max())
    return pts / (radius * (1.0 + 1e-5) + 1e-12)


def _scanner(pts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pose, outliers, jitter, and normalisation into the unit sphere."""
    tilt = rot(perpendicular(Z, rng), np.radians(rng.uniform(0.0, 20.0)))
    pts = _fit_unit_sphere(pts @ (tilt @ rot(Z, rng.uniform(0.0, TAU))).T)
    outliers = int(rng.integers(2, 9))
    low, high = pts.min(axis=0), pts.max(axis=0)
    pts[:outliers] = rng.uniform(low, high, (outliers, 3))
    pts += rng.normal(0.0, rng.uniform(0.005, 0.01), pts.shape)
    return _fit_unit_sphere(pts)


def make_cloud(concept: Concept, rng: np.random.Generator, n_points: int = 4096) -> np.ndarray:
    """A procedural scan of one instance of `concept`: float32 (n_points, 3), centred on its
    mean and inside the unit sphere. Deterministic given the state of `rng`."""
    model = FAMILY_MODELS[concept.family](rng)
    spare = REMOVES.get(concept.condition, 0.0)
    pts, nrm, groups = model.sample(rng, int((1.0 + spare) * n_points) + 16)
    pts = CONDITION_CUES[concept.condition](Scan(pts, nrm, groups, model), rng)
    pick = rng.choice(len(pts), size=n_points, replace=len(pts) < n_points)
    return _scanner(pts[pick], rng).astype(np.float32)
