"""Parametric surfaces in their local frames, each with its area and a sampler of points
spread uniformly over it (with unit outward normals).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.world.clouds.geometry import TAU, Z, polar

Points = tuple[np.ndarray, np.ndarray]  # positions (n, 3) and unit outward normals (n, 3)
Sampler = Callable[[np.random.Generator, int], Points]


@dataclass(frozen=True)
class Surface:
    """A surface in its local frame: its area and a sampler of uniform points on it."""

    area: float
    sample: Sampler


def _facing(n: int, sign: float) -> np.ndarray:
    """n copies of the normal (0, 0, sign)."""
    out = np.zeros((n, 3))
    out[:, 2] = sign
    return out


def _cdf(grid: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral of `weight` over `grid` (starts at 0)."""
    steps = 0.5 * (weight[1:] + weight[:-1]) * np.diff(grid)
    return np.concatenate([[0.0], np.cumsum(steps)])


def cylinder(r: float, h: float, z: float = 0.0, sign: float = 1.0) -> Surface:
    """Side of a cylinder about z; sign=-1 makes it a bore (normals inward)."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        radial = polar(rng.uniform(0.0, TAU, n))
        pts = r * radial
        pts[:, 2] = z + rng.uniform(-h / 2, h / 2, n)
        return pts, sign * radial

    return Surface(TAU * r * h, sample)


def disc(r0: float, r1: float, z: float = 0.0, sign: float = 1.0) -> Surface:
    """Annulus r0..r1 in the plane at height z, facing +z (sign=1) or -z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        rho = np.sqrt(rng.uniform(r0 * r0, r1 * r1, n))
        pts = rho[:, None] * polar(rng.uniform(0.0, TAU, n))
        pts[:, 2] = z
        return pts, _facing(n, sign)

    return Surface(np.pi * (r1 * r1 - r0 * r0), sample)


def ring(r_in: float, r_out: float, h: float) -> list[Surface]:
    """A hollow cylinder (bearing ring, flange, collar) about z; r_in=0 makes it solid."""
    faces = [cylinder(r_out, h), disc(r_in, r_out, h / 2), disc(r_in, r_out, -h / 2, -1.0)]
    return faces + ([cylinder(r_in, h, sign=-1.0)] if r_in > 0 else [])


def sphere(r: float) -> Surface:
    def sample(rng: np.random.Generator, n: int) -> Points:
        v = rng.normal(size=(n, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-12
        return r * v, v

    return Surface(2.0 * TAU * r * r, sample)


def torus(big: float, small: float) -> Surface:
    """Torus about z with centre-line radius `big` and tube radius `small`."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        radial = polar(rng.uniform(0.0, TAU, n))
        phi = rng.uniform(0.0, TAU, n)
        nrm = np.cos(phi)[:, None] * radial
        nrm[:, 2] = np.sin(phi)
        return big * radial + small * nrm, nrm

    return Surface(TAU * TAU * big * small, sample)


def box(sx: float, sy: float, sz: float) -> Surface:
    """Surface of an axis-aligned box centred at the origin."""
    size = np.array([sx, sy, sz])
    face_area = np.array([sy * sz, sy * sz, sx * sz, sx * sz, sx * sy, sx * sy])

    def sample(rng: np.random.Generator, n: int) -> Points:
        face = rng.choice(6, size=n, p=face_area / face_area.sum())
        axis, sign = face // 2, (face % 2) * 2.0 - 1.0
        pts = (rng.random((n, 3)) - 0.5) * size
        rows = np.arange(n)
        pts[rows, axis] = sign * size[axis] / 2
        nrm = np.zeros((n, 3))
        nrm[rows, axis] = sign
        return pts, nrm

    return Surface(float(face_area.sum()), sample)


def prism(sides: int, radius: float, h: float, bore: float = 0.0) -> list[Surface]:
    """Regular polygonal prism about z (hex head, nut), optionally with a round bore."""
    corners = radius * polar(TAU * np.arange(sides + 1) / sides)
    edge = 2.0 * radius * np.sin(np.pi / sides)
    inner = bore / (radius * np.cos(np.pi / sides))

    def side(rng: np.random.Generator, n: int) -> Points:
        k = rng.integers(0, sides, n)
        t = rng.random(n)[:, None]
        pts = (1.0 - t) * corners[k] + t * corners[k + 1]
        pts[:, 2] = rng.uniform(-h / 2, h / 2, n)
        return pts, polar(TAU * (k + 0.5) / sides)

    def cap(rng: np.random.Generator, n: int) -> Points:
        k = rng.integers(0, sides, n)
        t = rng.random(n)[:, None]
        frac = np.sqrt(rng.uniform(inner * inner, 1.0, n))[:, None]
        pts = frac * ((1.0 - t) * corners[k] + t * corners[k + 1])
        up = rng.random(n) < 0.5
        pts[:, 2] = np.where(up, h / 2, -h / 2)
        return pts, _facing(n, 1.0) * np.where(up, 1.0, -1.0)[:, None]

    cap_area = sides * radius * radius * np.sin(TAU / sides) * (1.0 - inner * inner)
    faces = [Surface(sides * edge * h, side), Surface(cap_area, cap)]
    return faces + ([cylinder(bore, h, sign=-1.0)] if bore > 0 else [])


def helix(radius: float, tube: float, pitch: float, length: float) -> Surface:
    """Thread ridge: a tube swept along a helix about z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        z = rng.uniform(-length / 2, length / 2, n)
        radial = polar(TAU * z / pitch)
        a = rng.uniform(0.0, TAU, n)[:, None]
        nrm = np.cos(a) * radial + np.sin(a) * Z
        pts = radius * radial + tube * nrm
        pts[:, 2] += z
        return pts, nrm

    turns = length / pitch
    return Surface(TAU * tube * turns * np.hypot(TAU * radius, pitch), sample)


def volute(r0: float, r1: float, t0: float, t1: float) -> Surface:
    """Snail casing: a tube about z whose path radius grows r0->r1 and bore t0->t1."""
    grid = np.linspace(0.15, TAU, 64)
    path = r0 + (r1 - r0) * grid / TAU
    tube = t0 + (t1 - t0) * grid / TAU
    cdf = _cdf(grid, TAU * path * tube)

    def sample(rng: np.random.Generator, n: int) -> Points:
        theta = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
        radial = polar(theta)
        a = rng.uniform(0.0, TAU, n)[:, None]
        nrm = np.cos(a) * radial + np.sin(a) * Z
        frac = (theta / TAU)[:, None]
        pts = (r0 + (r1 - r0) * frac) * radial + (t0 + (t1 - t0) * frac) * nrm
        return pts, nrm

    return Surface(float(cdf[-1]), sample)


def _tooth_profile(teeth: int, depth: float, r_root: float) -> tuple[np.ndarray, np.ndarray]:
    """Outer radius of a spur gear on a fine angle grid (trapezoidal teeth)."""
    grid = np.linspace(0.0, TAU, teeth * 24 + 1)
    wave = 0.5 + 0.5 * np.cos(teeth * grid)
    return grid, r_root + depth * np.clip((wave - 0.3) / 0.4, 0.0, 1.0)


def gear_rim(teeth: int, depth: float, r_root: float, h: float) -> Surface:
    """Side surface of the toothed rim, sampled uniformly along the tooth outline."""
    grid, r = _tooth_profile(teeth, depth, r_root)
    dr = np.gradient(r, grid)
    cdf = _cdf(grid, np.hypot(r, dr))

    def sample(rng: np.random.Generator, n: int) -> Points:
        theta = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
        rho, drho = np.interp(theta, grid, r), np.interp(theta, grid, dr)
        c, s = np.cos(theta), np.sin(theta)
        nrm = np.stack([drho * s + rho * c, rho * s - drho * c, np.zeros(n)], axis=1)
        nrm /= np.linalg.norm(nrm, axis=1, keepdims=True)
        pts = rho[:, None] * polar(theta)
        pts[:, 2] = rng.uniform(-h / 2, h / 2, n)
        return pts, nrm

    return Surface(float(cdf[-1]) * h, sample)


def gear_face(teeth: int, depth: float, r_root: float, r_in: float, z: float) -> Surface:
    """Flat face of the gear between the hub and the tooth outline."""
    grid, r = _tooth_profile(teeth, depth, r_root)
    cdf = _cdf(grid, 0.5 * (r * r - r_in * r_in))
    sign = 1.0 if z >= 0 else -1.0

    def sample(rng: np.random.Generator, n: int) -> Points:
        theta = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
        outer = np.interp(theta, grid, r)
        rho = np.sqrt(r_in * r_in + rng.random(n) * (outer * outer - r_in * r_in))
        pts = rho[:, None] * polar(theta)
        pts[:, 2] = z
        return pts, _facing(n, sign)

    return Surface(float(cdf[-1]), sample)


def blade(r0: float, r1: float, chord: float, pitch: float) -> Surface:
    """Fan blade along +x, twisted about its span; the fan axis is z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        u = rng.uniform(r0, r1, n)
        span = (u - r0) / (r1 - r0)
        v = (rng.random(n) - 0.5) * chord * (0.6 + 0.6 * span)
        phi = pitch * (1.3 - 0.6 * span)
        pts = np.stack([u, v * np.cos(phi), v * np.sin(phi)], axis=1)
        nrm = np.stack([np.zeros(n), -np.sin(phi), np.cos(phi)], axis=1)
        return pts, nrm

    return Surface((r1 - r0) * chord * 0.9, sample)


def bead(length: float, radius: float, ripple: float, a0: float, a1: float) -> Surface:
    """Weld bead along y: a tube sector a0..a1 (angle in xz) with scalloped ripples."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        y = rng.uniform(-length / 2, length / 2, n)
        a = rng.uniform(a0, a1, n)
        rho = radius * (0.8 + 0.35 * np.abs(np.sin(np.pi * y / ripple)))
        nrm = np.stack([np.cos(a), np.zeros(n), np.sin(a)], axis=1)
        pts = rho[:, None] * nrm
        pts[:, 1] = y
        return pts, nrm

    return Surface((a1 - a0) * radius * length, sample)


def pattern(
    surfaces: Surface | Sequence[Surface],
    offsets: np.ndarray,
    rots: np.ndarray | None = None,
) -> list[Surface]:
    """Copies of `surfaces` (balls, bolts, fins, blades), each turned by `rots[i]` and moved
    by `offsets[i]`; sampled in one go, each point landing on a random copy."""
    offsets = np.asarray(offsets, dtype=float)

    def copies(surface: Surface) -> Surface:
        def sample(rng: np.random.Generator, n: int) -> Points:
            pts, nrm = surface.sample(rng, n)
            k = rng.integers(0, len(offsets), n)
            if rots is not None:
                pts = np.einsum("nij,nj->ni", rots[k], pts)
                nrm = np.einsum("nij,nj->ni", rots[k], nrm)
            return pts + offsets[k], nrm

        return Surface(surface.area * len(offsets), sample)

    return [copies(s) for s in ([surfaces] if isinstance(surfaces, Surface) else surfaces)]
