"""Geometric condition cues, shared by all families, applied to a sampled model's points:
worn (eroded rough patches), cracked (a jagged slab removed), leaking (drips and a
puddle), misaligned (a sub-part tilted) and loose (a sub-part slid out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.world.clouds.geometry import TAU, Z, perpendicular, rot
from core.world.clouds.model import Model, Motion


@dataclass
class Scan:
    """Points of a sampled model while a condition is applied to them."""

    pts: np.ndarray
    nrm: np.ndarray
    groups: np.ndarray
    model: Model

    def keep(self, mask: np.ndarray) -> None:
        self.pts, self.nrm, self.groups = self.pts[mask], self.nrm[mask], self.groups[mask]


def _normal(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    return scan.pts


def _worn(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    """Eroded patches: surface pushed inward, roughened, and thinned out."""
    for _ in range(int(rng.integers(2, 4))):
        centre = scan.pts[rng.integers(len(scan.pts))]
        radius = rng.uniform(0.3, 0.45)
        w = np.clip(1.0 - np.linalg.norm(scan.pts - centre, axis=1) / radius, 0.0, 1.0)
        hit = w > 0
        rough = np.abs(rng.normal(0.0, 0.06, hit.sum())) * np.sqrt(w[hit])
        depth = rng.uniform(0.1, 0.18) * w[hit] + rough
        scan.pts[hit] -= depth[:, None] * scan.nrm[hit]
        scan.pts[hit] += rng.normal(0.0, 0.03, (hit.sum(), 3)) * w[hit, None]
        scan.keep(rng.random(len(scan.pts)) > 0.55 * w)
    return scan.pts


def _cracked(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    """A jagged slab of points removed along a plane; the far side pushed apart."""
    hit = rng.integers(len(scan.pts))
    centre = scan.pts[hit]
    normal = perpendicular(scan.nrm[hit], rng)  # the plane cuts across the surface
    u = perpendicular(normal, rng)
    v = np.cross(normal, u)
    rel = scan.pts - centre
    a, b = rel @ u, rel @ v
    phase = rng.uniform(0.0, TAU, 3)
    jag = 0.05 * np.sin(9.0 * a + phase[0]) + 0.03 * np.sin(23.0 * b + phase[1])
    jag += 0.02 * np.sign(np.sin(31.0 * (a + b) + phase[2]))
    offset = rel @ normal - jag
    reach = np.clip(1.0 - np.hypot(a, b) / rng.uniform(0.6, 1.0), 0.0, 1.0)
    half_width = rng.uniform(0.07, 0.1)
    scan.pts += (offset > 0)[:, None] * rng.uniform(0.06, 0.12) * reach[:, None] * normal
    scan.keep((np.abs(offset) > half_width) | (reach == 0))
    return scan.pts


def _leaking(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    """Drips hanging below the part and a flat puddle on the floor under it."""
    n, pts = len(scan.pts), scan.pts
    bottom = pts[pts[:, 2] <= np.quantile(pts[:, 2], 0.1)]
    floor = pts[:, 2].min() - rng.uniform(0.3, 0.55)
    middle = bottom[:, :2].mean(axis=0) + rng.normal(0.0, 0.1, 2)
    k = int(0.16 * n)
    theta = rng.uniform(0.0, TAU, k)
    phase = rng.uniform(0.0, TAU, 2)
    edge = rng.uniform(0.4, 0.7) * (
        1.0 + 0.2 * np.sin(3.0 * theta + phase[0]) + 0.12 * np.sin(5.0 * theta + phase[1])
    )
    rho = edge * np.sqrt(rng.random(k))
    puddle = np.stack(
        [middle[0] + rho * np.cos(theta), middle[1] + rho * np.sin(theta), np.full(k, floor)],
        axis=1,
    )
    drops = int(rng.integers(3, 8))
    per_drop = max(int(0.012 * n), 4)
    sources = bottom[rng.integers(len(bottom), size=drops)]
    fall = rng.uniform(0.08, 0.8, drops) * (sources[:, 2] - floor)
    centres = sources - fall[:, None] * Z
    blob = rng.normal(size=(drops, per_drop, 3))
    blob /= np.linalg.norm(blob, axis=2, keepdims=True)
    drips = centres[:, None, :] + blob * np.array([0.04, 0.04, 0.065])
    return np.concatenate([pts, puddle, drips.reshape(-1, 3)])


def _move(scan: Scan, motion: Motion, transform: np.ndarray, shift: np.ndarray) -> None:
    """Turn the motion's sub-part by `transform` about its pivot, then shift it."""
    mask = np.isin(scan.groups, scan.model.group_ids(motion.groups))
    pivot = np.asarray(motion.pivot)
    scan.pts[mask] = (scan.pts[mask] - pivot) @ transform.T + pivot + shift
    scan.nrm[mask] = scan.nrm[mask] @ transform.T


def _misaligned(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    """A sub-part tilted 10-25 degrees about its pivot."""
    motion = scan.model.tilt
    if motion is not None:
        hinge = motion.hinge or perpendicular(np.asarray(motion.axis), rng)
        angle = np.radians(rng.uniform(10.0, 25.0)) * rng.choice((-1.0, 1.0))
        _move(scan, motion, rot(hinge, angle), np.zeros(3))
    return scan.pts


def _loose(scan: Scan, rng: np.random.Generator) -> np.ndarray:
    """A sub-part slid out along its axis, leaving a gap."""
    motion = scan.model.slide
    if motion is not None:
        gap = rng.uniform(0.15, 0.3) * np.asarray(motion.axis)
        _move(scan, motion, np.eye(3), gap)
    return scan.pts


CONDITION_CUES: dict[str, Callable[[Scan, np.random.Generator], np.ndarray]] = {
    "normal": _normal,
    "worn": _worn,
    "cracked": _cracked,
    "leaking": _leaking,
    "misaligned": _misaligned,
    "loose": _loose,
}


# Share of the points a condition may remove, sampled in excess so that enough remain.
REMOVES = {"worn": 0.3, "cracked": 0.3}
