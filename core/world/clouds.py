"""Procedural 3-D scans (point clouds) of the demo factory world's parts and machines.

`make_cloud` builds one instance of a concept from parametric surfaces (cylinders, discs,
tori, spheres, boxes, prisms, helices, swept tubes), samples them area-weighted into points,
and then applies three layers:

* the family's shape (shared by all its conditions), with per-instance proportions;
* the condition's geometric cue (shared by all families): worn = eroded rough patches,
  cracked = a jagged slab of points removed with the sides pushed apart, leaking = drips and
  a puddle below the part, misaligned = a sub-part tilted, loose = a sub-part slid along its
  axis leaving a gap;
* scanner nuisance: rotation about the vertical axis, a small tilt, jitter and outliers.

Model space has z up and parts roughly 2 units across; the result is centred on its mean
and scaled into the unit sphere. All randomness comes from the caller's generator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.world.concepts import Concept

TAU = 2.0 * np.pi
_Z = np.array([0.0, 0.0, 1.0])

Points = tuple[np.ndarray, np.ndarray]  # positions (n, 3) and unit outward normals (n, 3)
Sampler = Callable[[np.random.Generator, int], Points]


# --------------------------------------------------------------------------- rotations


def _rot(axis: Sequence[float], angle: float) -> np.ndarray:
    """Rotation matrix about `axis` by `angle` radians (Rodrigues)."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def _align(v: Sequence[float]) -> np.ndarray:
    """Rotation taking the local z axis onto direction `v`."""
    v = np.asarray(v, dtype=float)
    v = v / np.linalg.norm(v)
    c = float(v @ _Z)
    if c > 1.0 - 1e-9:
        return np.eye(3)
    if c < -1.0 + 1e-9:
        return _rot((1.0, 0.0, 0.0), np.pi)
    return _rot(np.cross(_Z, v), np.arccos(c))


_TO_X = _align((1.0, 0.0, 0.0))
_TO_Y = _align((0.0, 1.0, 0.0))


def _perpendicular(axis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector perpendicular to `axis`."""
    v = np.cross(axis, rng.normal(size=3))
    return v / np.linalg.norm(v)


# --------------------------------------------------------------------------- surfaces


@dataclass(frozen=True)
class _Surface:
    """A surface in its local frame: its area and a sampler of uniform points on it."""

    area: float
    sample: Sampler


def _polar(theta: np.ndarray) -> np.ndarray:
    """Unit vectors in the xy plane at angles `theta`, shape (n, 3)."""
    out = np.zeros((len(theta), 3))
    out[:, 0], out[:, 1] = np.cos(theta), np.sin(theta)
    return out


def _facing(n: int, sign: float) -> np.ndarray:
    """n copies of the normal (0, 0, sign)."""
    out = np.zeros((n, 3))
    out[:, 2] = sign
    return out


def _cdf(grid: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral of `weight` over `grid` (starts at 0)."""
    steps = 0.5 * (weight[1:] + weight[:-1]) * np.diff(grid)
    return np.concatenate([[0.0], np.cumsum(steps)])


def _cylinder(r: float, h: float, z: float = 0.0, sign: float = 1.0) -> _Surface:
    """Side of a cylinder about z; sign=-1 makes it a bore (normals inward)."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        radial = _polar(rng.uniform(0.0, TAU, n))
        pts = r * radial
        pts[:, 2] = z + rng.uniform(-h / 2, h / 2, n)
        return pts, sign * radial

    return _Surface(TAU * r * h, sample)


def _disc(r0: float, r1: float, z: float = 0.0, sign: float = 1.0) -> _Surface:
    """Annulus r0..r1 in the plane at height z, facing +z (sign=1) or -z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        rho = np.sqrt(rng.uniform(r0 * r0, r1 * r1, n))
        pts = rho[:, None] * _polar(rng.uniform(0.0, TAU, n))
        pts[:, 2] = z
        return pts, _facing(n, sign)

    return _Surface(np.pi * (r1 * r1 - r0 * r0), sample)


def _ring(r_in: float, r_out: float, h: float) -> list[_Surface]:
    """A hollow cylinder (bearing ring, flange, collar) about z; r_in=0 makes it solid."""
    faces = [_cylinder(r_out, h), _disc(r_in, r_out, h / 2), _disc(r_in, r_out, -h / 2, -1.0)]
    return faces + ([_cylinder(r_in, h, sign=-1.0)] if r_in > 0 else [])


def _sphere(r: float) -> _Surface:
    def sample(rng: np.random.Generator, n: int) -> Points:
        v = rng.normal(size=(n, 3))
        v /= np.linalg.norm(v, axis=1, keepdims=True) + 1e-12
        return r * v, v

    return _Surface(2.0 * TAU * r * r, sample)


def _torus(big: float, small: float) -> _Surface:
    """Torus about z with centre-line radius `big` and tube radius `small`."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        radial = _polar(rng.uniform(0.0, TAU, n))
        phi = rng.uniform(0.0, TAU, n)
        nrm = np.cos(phi)[:, None] * radial
        nrm[:, 2] = np.sin(phi)
        return big * radial + small * nrm, nrm

    return _Surface(TAU * TAU * big * small, sample)


def _box(sx: float, sy: float, sz: float) -> _Surface:
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

    return _Surface(float(face_area.sum()), sample)


def _prism(sides: int, radius: float, h: float, bore: float = 0.0) -> list[_Surface]:
    """Regular polygonal prism about z (hex head, nut), optionally with a round bore."""
    corners = radius * _polar(TAU * np.arange(sides + 1) / sides)
    edge = 2.0 * radius * np.sin(np.pi / sides)
    inner = bore / (radius * np.cos(np.pi / sides))

    def side(rng: np.random.Generator, n: int) -> Points:
        k = rng.integers(0, sides, n)
        t = rng.random(n)[:, None]
        pts = (1.0 - t) * corners[k] + t * corners[k + 1]
        pts[:, 2] = rng.uniform(-h / 2, h / 2, n)
        return pts, _polar(TAU * (k + 0.5) / sides)

    def cap(rng: np.random.Generator, n: int) -> Points:
        k = rng.integers(0, sides, n)
        t = rng.random(n)[:, None]
        frac = np.sqrt(rng.uniform(inner * inner, 1.0, n))[:, None]
        pts = frac * ((1.0 - t) * corners[k] + t * corners[k + 1])
        up = rng.random(n) < 0.5
        pts[:, 2] = np.where(up, h / 2, -h / 2)
        return pts, _facing(n, 1.0) * np.where(up, 1.0, -1.0)[:, None]

    cap_area = sides * radius * radius * np.sin(TAU / sides) * (1.0 - inner * inner)
    faces = [_Surface(sides * edge * h, side), _Surface(cap_area, cap)]
    return faces + ([_cylinder(bore, h, sign=-1.0)] if bore > 0 else [])


def _helix(radius: float, tube: float, pitch: float, length: float) -> _Surface:
    """Thread ridge: a tube swept along a helix about z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        z = rng.uniform(-length / 2, length / 2, n)
        radial = _polar(TAU * z / pitch)
        a = rng.uniform(0.0, TAU, n)[:, None]
        nrm = np.cos(a) * radial + np.sin(a) * _Z
        pts = radius * radial + tube * nrm
        pts[:, 2] += z
        return pts, nrm

    turns = length / pitch
    return _Surface(TAU * tube * turns * np.hypot(TAU * radius, pitch), sample)


def _volute(r0: float, r1: float, t0: float, t1: float) -> _Surface:
    """Snail casing: a tube about z whose path radius grows r0->r1 and bore t0->t1."""
    grid = np.linspace(0.15, TAU, 64)
    path = r0 + (r1 - r0) * grid / TAU
    tube = t0 + (t1 - t0) * grid / TAU
    cdf = _cdf(grid, TAU * path * tube)

    def sample(rng: np.random.Generator, n: int) -> Points:
        theta = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
        radial = _polar(theta)
        a = rng.uniform(0.0, TAU, n)[:, None]
        nrm = np.cos(a) * radial + np.sin(a) * _Z
        frac = (theta / TAU)[:, None]
        pts = (r0 + (r1 - r0) * frac) * radial + (t0 + (t1 - t0) * frac) * nrm
        return pts, nrm

    return _Surface(float(cdf[-1]), sample)


def _tooth_profile(teeth: int, depth: float, r_root: float) -> tuple[np.ndarray, np.ndarray]:
    """Outer radius of a spur gear on a fine angle grid (trapezoidal teeth)."""
    grid = np.linspace(0.0, TAU, teeth * 24 + 1)
    wave = 0.5 + 0.5 * np.cos(teeth * grid)
    return grid, r_root + depth * np.clip((wave - 0.3) / 0.4, 0.0, 1.0)


def _gear_rim(teeth: int, depth: float, r_root: float, h: float) -> _Surface:
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
        pts = rho[:, None] * _polar(theta)
        pts[:, 2] = rng.uniform(-h / 2, h / 2, n)
        return pts, nrm

    return _Surface(float(cdf[-1]) * h, sample)


def _gear_face(teeth: int, depth: float, r_root: float, r_in: float, z: float) -> _Surface:
    """Flat face of the gear between the hub and the tooth outline."""
    grid, r = _tooth_profile(teeth, depth, r_root)
    cdf = _cdf(grid, 0.5 * (r * r - r_in * r_in))
    sign = 1.0 if z >= 0 else -1.0

    def sample(rng: np.random.Generator, n: int) -> Points:
        theta = np.interp(rng.uniform(0.0, cdf[-1], n), cdf, grid)
        outer = np.interp(theta, grid, r)
        rho = np.sqrt(r_in * r_in + rng.random(n) * (outer * outer - r_in * r_in))
        pts = rho[:, None] * _polar(theta)
        pts[:, 2] = z
        return pts, _facing(n, sign)

    return _Surface(float(cdf[-1]), sample)


def _blade(r0: float, r1: float, chord: float, pitch: float) -> _Surface:
    """Fan blade along +x, twisted about its span; the fan axis is z."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        u = rng.uniform(r0, r1, n)
        span = (u - r0) / (r1 - r0)
        v = (rng.random(n) - 0.5) * chord * (0.6 + 0.6 * span)
        phi = pitch * (1.3 - 0.6 * span)
        pts = np.stack([u, v * np.cos(phi), v * np.sin(phi)], axis=1)
        nrm = np.stack([np.zeros(n), -np.sin(phi), np.cos(phi)], axis=1)
        return pts, nrm

    return _Surface((r1 - r0) * chord * 0.9, sample)


def _bead(length: float, radius: float, ripple: float, a0: float, a1: float) -> _Surface:
    """Weld bead along y: a tube sector a0..a1 (angle in xz) with scalloped ripples."""

    def sample(rng: np.random.Generator, n: int) -> Points:
        y = rng.uniform(-length / 2, length / 2, n)
        a = rng.uniform(a0, a1, n)
        rho = radius * (0.8 + 0.35 * np.abs(np.sin(np.pi * y / ripple)))
        nrm = np.stack([np.cos(a), np.zeros(n), np.sin(a)], axis=1)
        pts = rho[:, None] * nrm
        pts[:, 1] = y
        return pts, nrm

    return _Surface((a1 - a0) * radius * length, sample)


def _pattern(
    surfaces: _Surface | Sequence[_Surface],
    offsets: np.ndarray,
    rots: np.ndarray | None = None,
) -> list[_Surface]:
    """Copies of `surfaces` (balls, bolts, fins, blades), each turned by `rots[i]` and moved
    by `offsets[i]`; sampled in one go, each point landing on a random copy."""
    offsets = np.asarray(offsets, dtype=float)

    def copies(surface: _Surface) -> _Surface:
        def sample(rng: np.random.Generator, n: int) -> Points:
            pts, nrm = surface.sample(rng, n)
            k = rng.integers(0, len(offsets), n)
            if rots is not None:
                pts = np.einsum("nij,nj->ni", rots[k], pts)
                nrm = np.einsum("nij,nj->ni", rots[k], nrm)
            return pts + offsets[k], nrm

        return _Surface(surface.area * len(offsets), sample)

    return [copies(s) for s in ([surfaces] if isinstance(surfaces, _Surface) else surfaces)]


def _circle(radius: float, count: int, phase: float = 0.0) -> np.ndarray:
    """`count` evenly spaced points on a circle in the xy plane."""
    return radius * _polar(phase + TAU * np.arange(count) / count)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class _Motion:
    """A sub-part the misaligned/loose conditions move: by tilting about `pivot` (about
    `hinge`, or a random axis perpendicular to `axis`) or by sliding along `axis`."""

    groups: tuple[str, ...]
    pivot: tuple[float, float, float]
    axis: tuple[float, float, float]
    hinge: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class _Piece:
    surface: _Surface
    group: int
    rot: np.ndarray
    at: np.ndarray

    @property
    def turned(self) -> bool:
        return not np.array_equal(self.rot, np.eye(3))


class _Model:
    """A part: placed surfaces tagged by sub-part group, plus its movable sub-parts."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.groups: list[str] = []
        self.tilt: _Motion | None = None
        self.slide: _Motion | None = None

    def add(
        self,
        surfaces: _Surface | Sequence[_Surface],
        group: str = "main",
        rot: np.ndarray | None = None,
        at: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> None:
        if isinstance(surfaces, _Surface):
            surfaces = [surfaces]
        if group not in self.groups:
            self.groups.append(group)
        r = np.eye(3) if rot is None else rot
        for surface in surfaces:
            piece = _Piece(surface, self.groups.index(group), r, np.asarray(at, dtype=float))
            self.pieces.append(piece)

    def group_ids(self, names: Sequence[str]) -> list[int]:
        return [i for i, name in enumerate(self.groups) if name in names]

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
        """n area-weighted points, their normals, and each point's group id."""
        area = np.array([p.surface.area for p in self.pieces])
        counts = rng.multinomial(n, area / area.sum())
        pts, nrm = np.empty((n, 3)), np.empty((n, 3))
        start = 0
        for piece, k in zip(self.pieces, counts):
            if k == 0:
                continue
            p, q = piece.surface.sample(rng, int(k))
            if piece.turned:
                p, q = p @ piece.rot.T, q @ piece.rot.T
            pts[start : start + k] = p + piece.at
            nrm[start : start + k] = q
            start += k
        return pts, nrm, np.repeat([p.group for p in self.pieces], counts)


def _bearing(rng: np.random.Generator) -> _Model:
    """Outer and inner rings with a ring of balls between, standing on edge (axis y)."""
    m = _Model()
    pitch, ball = rng.uniform(0.6, 0.7), rng.uniform(0.09, 0.13)
    width = rng.uniform(0.26, 0.42)
    outer_in, inner_out = pitch + 0.55 * ball, pitch - 0.55 * ball
    m.add(_ring(outer_in, outer_in + rng.uniform(0.12, 0.2), width), rot=_TO_Y)
    m.add(_ring(inner_out - rng.uniform(0.1, 0.18), inner_out, width), "inner", rot=_TO_Y)
    balls = _circle(pitch, int(rng.integers(7, 13)), rng.uniform(0.0, TAU))
    m.add(_pattern(_sphere(ball), balls), rot=_TO_Y)
    m.tilt = _Motion(("inner",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = _Motion(("inner",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _gear(rng: np.random.Generator) -> _Model:
    """Spur gear with hub and bore on a shaft with a collar (axis y)."""
    m = _Model()
    teeth, r_root = int(rng.integers(12, 29)), rng.uniform(0.72, 0.85)
    depth, width = rng.uniform(0.1, 0.16), rng.uniform(0.14, 0.26)
    bore = rng.uniform(0.1, 0.15)
    hub, hub_w = bore + rng.uniform(0.1, 0.18), width * rng.uniform(1.6, 2.2)
    m.add(_gear_rim(teeth, depth, r_root, width), "gear", rot=_TO_Y)
    for z in (width / 2, -width / 2):
        m.add(_gear_face(teeth, depth, r_root, hub, z), "gear", rot=_TO_Y)
    m.add(_ring(bore, hub, hub_w), "gear", rot=_TO_Y)
    length = rng.uniform(1.0, 1.6)
    m.add(_cylinder(bore, length), rot=_TO_Y, at=(0.0, rng.uniform(-0.2, 0.2), 0.0))
    collar_w = rng.uniform(0.08, 0.14)
    m.add(_ring(bore, hub, collar_w), rot=_TO_Y, at=(0.0, -(hub_w + collar_w) / 2, 0.0))
    m.tilt = _Motion(("gear",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = _Motion(("gear",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _pump(rng: np.random.Generator) -> _Model:
    """Volute casing (in the xz plane) with an axial inlet, a tangential outlet, a base."""
    m = _Model()
    r0, r1 = rng.uniform(0.42, 0.52), rng.uniform(0.62, 0.75)
    t0, t1 = rng.uniform(0.1, 0.14), rng.uniform(0.26, 0.34)
    casing = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # local z -> -y
    m.add(_volute(r0, r1, t0, t1), rot=casing)
    m.add(_disc(0.0, r0, -t0, -1.0), rot=casing)
    inlet_r, inlet_l = rng.uniform(0.16, 0.24), rng.uniform(0.45, 0.8)
    m.add(_disc(inlet_r, r0, t0), rot=casing)
    inlet = [_cylinder(inlet_r, inlet_l), _cylinder(0.8 * inlet_r, inlet_l, sign=-1.0)]
    y = -(t0 + inlet_l / 2)
    m.add(inlet, "inlet", rot=_TO_Y, at=(0.0, y, 0.0))
    flange_r = inlet_r * 1.5
    m.add(_ring(inlet_r, flange_r, 0.07), "inlet", rot=_TO_Y, at=(0.0, y - inlet_l / 2, 0.0))
    outlet_l = rng.uniform(0.35, 0.6)
    m.add(_cylinder(0.8 * t1, outlet_l), at=(r1, 0.0, outlet_l / 2))
    m.add(_ring(0.8 * t1, 1.3 * t1, 0.07), at=(r1, 0.0, outlet_l))
    floor = -(r0 + 0.75 * (r1 - r0) + t0 + 0.75 * (t1 - t0)) - 0.15
    m.add(_box(2.0 * r1 * 1.1, 2.4 * t1, 0.08), at=(0.0, 0.0, floor))
    m.add(_box(0.5 * r1, 1.2 * t1, 0.2), at=(0.0, 0.0, floor + 0.12))
    m.tilt = _Motion(("inlet",), (0.0, -t0, 0.0), (0.0, -1.0, 0.0))
    m.slide = _Motion(("inlet",), (0.0, -t0, 0.0), (0.0, -1.0, 0.0))
    return m


def _valve(rng: np.random.Generator) -> _Model:
    """Globe valve: body, two flanged pipe stubs along x, stem and handwheel on top."""
    m = _Model()
    body, stub_r, stub_l = rng.uniform(0.3, 0.4), rng.uniform(0.13, 0.19), rng.uniform(0.45, 0.7)
    m.add(_sphere(body))
    for side, group in ((-1.0, "main"), (1.0, "stub")):
        x = side * (0.8 * body + stub_l / 2)
        m.add(_cylinder(stub_r, stub_l), group, rot=_TO_X, at=(x, 0.0, 0.0))
        flange = _ring(stub_r, 1.7 * stub_r, 0.08)
        m.add(flange, group, rot=_TO_X, at=(x + side * stub_l / 2, 0.0, 0.0))
    bonnet_h, seat = rng.uniform(0.15, 0.25), 0.95 * body
    m.add(_ring(0.0, 0.5 * body, bonnet_h), "stem", at=(0.0, 0.0, seat + bonnet_h / 2))
    top = seat + bonnet_h
    stem_l, wheel = rng.uniform(0.35, 0.6), rng.uniform(0.28, 0.42)
    m.add(_cylinder(0.045, stem_l), "stem", at=(0.0, 0.0, top + stem_l / 2))
    m.add(_torus(wheel, 0.035), "stem", at=(0.0, 0.0, top + stem_l))
    spokes = _circle(1.0, int(rng.integers(3, 6)), rng.uniform(0.0, TAU))
    turns = np.array([_align(d) for d in spokes])
    spoke = _pattern(_cylinder(0.02, wheel), wheel / 2 * spokes, turns)
    m.add(spoke, "stem", at=(0.0, 0.0, top + stem_l))
    m.tilt = _Motion(("stub",), (0.8 * body, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = _Motion(("stem",), (0.0, 0.0, seat), (0.0, 0.0, 1.0))
    return m


def _pipe(rng: np.random.Generator) -> _Model:
    """Two pipe sections along x meeting at a bolted flange joint."""
    m = _Model()
    r, half = rng.uniform(0.18, 0.3), rng.uniform(1.0, 1.6)
    flange_r, thick = r * rng.uniform(1.6, 2.0), rng.uniform(0.06, 0.1)
    bolts = int(rng.integers(6, 11))
    bolt_at = r + 0.6 * (flange_r - r)
    for side, group in ((-1.0, "main"), (1.0, "b")):
        m.add(_cylinder(r, half), group, rot=_TO_X, at=(side * half / 2, 0.0, 0.0))
        m.add(_ring(r, flange_r, thick), group, rot=_TO_X, at=(side * thick / 2, 0.0, 0.0))
        heads = _circle(bolt_at, bolts, np.pi / bolts) + (0.0, 0.0, side * (thick + 0.03))
        m.add(_pattern(_prism(6, 0.045, 0.06), heads), group, rot=_TO_X)
    m.tilt = _Motion(("b",), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = _Motion(("b",), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    return m


def _motor(rng: np.random.Generator) -> _Model:
    """Finned motor body along x with shaft, fan cowl, terminal box and feet."""
    m = _Model()
    radius, length = rng.uniform(0.38, 0.5), rng.uniform(1.0, 1.4)
    m.add(_cylinder(radius, length), rot=_TO_X)
    m.add(_disc(0.0, radius, length / 2), rot=_TO_X)
    fins, fin_h = int(rng.integers(8, 15)), rng.uniform(0.06, 0.11)
    turns = np.array([_rot((1.0, 0.0, 0.0), a) for a in np.linspace(-0.8, 0.8, fins) * np.pi])
    m.add(_pattern(_box(0.9 * length, 0.025, fin_h), turns[:, :, 2] * (radius + fin_h / 2), turns))
    shaft_l, shaft_r = rng.uniform(0.45, 0.7), rng.uniform(0.08, 0.11)
    shaft = [_cylinder(shaft_r, shaft_l), _disc(0.0, shaft_r, shaft_l / 2)]
    m.add(shaft, "shaft", rot=_TO_X, at=(length / 2 + shaft_l / 2, 0.0, 0.0))
    cowl_l = rng.uniform(0.22, 0.35)
    cowl = [_cylinder(radius + fin_h, cowl_l), _disc(0.0, radius + fin_h, -cowl_l / 2, -1.0)]
    m.add(cowl, "cowl", rot=_TO_X, at=(-(length + cowl_l) / 2, 0.0, 0.0))
    box = rng.uniform(0.25, 0.35)
    m.add(_box(box, box, 0.2), at=(0.1 * length, 0.0, radius + fin_h + 0.1))
    for x in (-0.3 * length, 0.3 * length):
        m.add(_box(0.14, 1.8 * radius, 0.08), at=(x, 0.0, -radius - 0.12))
    m.tilt = _Motion(("shaft",), (length / 2, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = _Motion(("cowl",), (-length / 2, 0.0, 0.0), (-1.0, 0.0, 0.0))
    return m


def _conveyor(rng: np.random.Generator) -> _Model:
    """Flat belt along x between two end rollers, standing on four legs."""
    m = _Model()
    length, width = rng.uniform(2.4, 3.2), rng.uniform(0.5, 0.8)
    height, roller = rng.uniform(0.5, 0.8), rng.uniform(0.12, 0.17)
    axle = height - roller
    m.add(_box(length, width, 2.0 * roller), at=(0.0, 0.0, axle))
    for side, group in ((-1.0, "main"), (1.0, "roller")):
        at = (side * length / 2, 0.0, axle)
        m.add(_ring(0.0, roller, 1.2 * width), group, rot=_TO_Y, at=at)
        m.add(_cylinder(0.035, 1.7 * width), group, rot=_TO_Y, at=at)
    leg_h = axle - roller
    for x in (-0.4 * length, 0.4 * length):
        for y in (-0.42 * width, 0.42 * width):
            m.add(_box(0.05, 0.05, leg_h), at=(x, y, leg_h / 2))
    pivot = (length / 2, 0.0, axle)
    m.tilt = _Motion(("roller",), pivot, (0.0, 1.0, 0.0), hinge=(0.0, 0.0, 1.0))
    m.slide = _Motion(("roller",), pivot, (0.0, 1.0, 0.0))
    return m


def _fan(rng: np.random.Generator) -> _Model:
    """Axial fan (axis y): hub and twisted blades inside guard rings, motor, stand."""
    m = _Model()
    guard, gap = 1.0, rng.uniform(0.12, 0.2)
    for y in (-gap, gap):
        m.add(_torus(guard, 0.03), rot=_TO_Y, at=(0.0, y, 0.0))
    hub, tip = rng.uniform(0.14, 0.2), rng.uniform(0.78, 0.88)
    chord, pitch = rng.uniform(0.25, 0.4), rng.uniform(0.35, 0.7)
    m.add(_ring(0.0, hub, 0.22), "rotor", rot=_TO_Y)
    blades = int(rng.integers(3, 8))
    turns = np.array([_rot(_Z, a) for a in TAU * np.arange(blades) / blades + rng.uniform(0, TAU)])
    rotor = _pattern(_blade(hub, tip, chord, pitch), np.zeros((blades, 3)), turns)
    m.add(rotor, "rotor", rot=_TO_Y)
    m.add(_ring(0.0, 0.2, 0.3), rot=_TO_Y, at=(0.0, -gap - 0.15, 0.0))
    post = rng.uniform(1.2, 1.6)
    m.add(_cylinder(0.04, post), at=(0.0, -gap - 0.15, -post / 2))
    m.add(_ring(0.0, rng.uniform(0.3, 0.45), 0.05), at=(0.0, -gap - 0.15, -post))
    m.tilt = _Motion(("rotor",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = _Motion(("rotor",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _weld(rng: np.random.Generator) -> _Model:
    """Two plates welded along a seam on y: a butt joint or a T joint, rippled bead."""
    m = _Model()
    thick, width, seam = rng.uniform(0.07, 0.12), rng.uniform(0.7, 1.0), rng.uniform(1.4, 2.0)
    bead, ripple = rng.uniform(0.07, 0.1), rng.uniform(0.06, 0.1)
    if rng.random() < 0.5:  # butt joint: both plates flat, bead over the seam
        m.add(_box(width, seam, thick), at=(-width / 2 - 0.02, 0.0, 0.0))
        m.add(_box(width, seam, thick), "b", at=(width / 2 + 0.02, 0.0, 0.0))
        m.add(_bead(seam, bead, ripple, 0.0, np.pi), at=(0.0, 0.0, thick / 2))
        m.add(_bead(seam, 0.6 * bead, ripple, np.pi, TAU), at=(0.0, 0.0, -thick / 2))
        pivot, axis = (0.02, 0.0, 0.0), (1.0, 0.0, 0.0)
    else:  # T joint: web standing on the base plate, fillet beads in both corners
        m.add(_box(2.0 * width, seam, thick), at=(0.0, 0.0, 0.0))
        m.add(_box(thick, seam, width), "b", at=(0.0, 0.0, thick / 2 + width / 2 + 0.02))
        for x, a0 in ((thick / 2, 0.0), (-thick / 2, 0.5 * np.pi)):
            m.add(_bead(seam, 1.3 * bead, ripple, a0, a0 + 0.5 * np.pi), at=(x, 0.0, thick / 2))
        pivot, axis = (0.0, 0.0, thick / 2), (0.0, 0.0, 1.0)
    m.tilt = _Motion(("b",), pivot, axis, hinge=(0.0, 1.0, 0.0))
    m.slide = _Motion(("b",), pivot, axis)
    return m


def _bolt(rng: np.random.Generator) -> _Model:
    """Hex bolt through a clamped plate, threaded shank, optional nut underneath."""
    m = _Model()
    shank, head, head_h = rng.uniform(0.1, 0.14), rng.uniform(0.26, 0.34), rng.uniform(0.15, 0.22)
    plate_t, plate_r = rng.uniform(0.1, 0.15), rng.uniform(0.42, 0.55)
    has_nut = rng.random() < 0.5
    nut_h = rng.uniform(0.14, 0.2)
    length = plate_t + nut_h + rng.uniform(0.6, 1.0)
    m.add(_ring(shank, plate_r, plate_t), at=(0.0, 0.0, -plate_t / 2))
    m.add(_prism(6, head, head_h), "bolt", at=(0.0, 0.0, head_h / 2))
    m.add(_cylinder(shank, length), "bolt", at=(0.0, 0.0, -length / 2))
    m.add(_disc(0.0, shank, -length, -1.0), "bolt")
    pitch, threaded = rng.uniform(0.09, 0.13), 0.6 * length
    thread = _helix(shank, 0.4 * pitch, pitch, threaded)
    m.add(thread, "bolt", at=(0.0, 0.0, threaded / 2 - length))
    if has_nut:
        m.add(_prism(6, head, nut_h, bore=shank), "nut", at=(0.0, 0.0, -plate_t - nut_h / 2))
    m.tilt = _Motion(("bolt", "nut"), (0.0, 0.0, -plate_t / 2), (0.0, 0.0, 1.0))
    if has_nut:
        m.slide = _Motion(("nut",), (0.0, 0.0, -plate_t), (0.0, 0.0, -1.0))
    else:
        m.slide = _Motion(("bolt",), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    return m


_FAMILIES: dict[str, Callable[[np.random.Generator], _Model]] = {
    "bearing": _bearing,
    "gear": _gear,
    "pump": _pump,
    "valve": _valve,
    "pipe": _pipe,
    "motor": _motor,
    "conveyor": _conveyor,
    "fan": _fan,
    "weld": _weld,
    "bolt": _bolt,
}


# --------------------------------------------------------------------------- conditions


@dataclass
class _Scan:
    """Points of a sampled model while a condition is applied to them."""

    pts: np.ndarray
    nrm: np.ndarray
    groups: np.ndarray
    model: _Model

    def keep(self, mask: np.ndarray) -> None:
        self.pts, self.nrm, self.groups = self.pts[mask], self.nrm[mask], self.groups[mask]


def _normal(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
    return scan.pts


def _worn(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
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


def _cracked(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
    """A jagged slab of points removed along a plane; the far side pushed apart."""
    hit = rng.integers(len(scan.pts))
    centre = scan.pts[hit]
    normal = _perpendicular(scan.nrm[hit], rng)  # the plane cuts across the surface
    u = _perpendicular(normal, rng)
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


def _leaking(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
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
    centres = sources - fall[:, None] * _Z
    blob = rng.normal(size=(drops, per_drop, 3))
    blob /= np.linalg.norm(blob, axis=2, keepdims=True)
    drips = centres[:, None, :] + blob * np.array([0.04, 0.04, 0.065])
    return np.concatenate([pts, puddle, drips.reshape(-1, 3)])


def _move(scan: _Scan, motion: _Motion, transform: np.ndarray, shift: np.ndarray) -> None:
    """Turn the motion's sub-part by `transform` about its pivot, then shift it."""
    mask = np.isin(scan.groups, scan.model.group_ids(motion.groups))
    pivot = np.asarray(motion.pivot)
    scan.pts[mask] = (scan.pts[mask] - pivot) @ transform.T + pivot + shift
    scan.nrm[mask] = scan.nrm[mask] @ transform.T


def _misaligned(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
    """A sub-part tilted 10-25 degrees about its pivot."""
    motion = scan.model.tilt
    if motion is not None:
        hinge = motion.hinge or _perpendicular(np.asarray(motion.axis), rng)
        angle = np.radians(rng.uniform(10.0, 25.0)) * rng.choice((-1.0, 1.0))
        _move(scan, motion, _rot(hinge, angle), np.zeros(3))
    return scan.pts


def _loose(scan: _Scan, rng: np.random.Generator) -> np.ndarray:
    """A sub-part slid out along its axis, leaving a gap."""
    motion = scan.model.slide
    if motion is not None:
        gap = rng.uniform(0.15, 0.3) * np.asarray(motion.axis)
        _move(scan, motion, np.eye(3), gap)
    return scan.pts


_CONDITIONS: dict[str, Callable[[_Scan, np.random.Generator], np.ndarray]] = {
    "normal": _normal,
    "worn": _worn,
    "cracked": _cracked,
    "leaking": _leaking,
    "misaligned": _misaligned,
    "loose": _loose,
}


# Share of the points a condition may remove, sampled in excess so that enough remain.
_REMOVES = {"worn": 0.3, "cracked": 0.3}


# --------------------------------------------------------------------------- scanner


def _fit_unit_sphere(pts: np.ndarray) -> np.ndarray:
    pts = pts - pts.mean(axis=0)
    radius = np.sqrt(np.einsum("ij,ij->i", pts, pts).max())
    return pts / (radius * (1.0 + 1e-5) + 1e-12)


def _scanner(pts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Pose, outliers, jitter, and normalisation into the unit sphere."""
    tilt = _rot(_perpendicular(_Z, rng), np.radians(rng.uniform(0.0, 20.0)))
    pts = _fit_unit_sphere(pts @ (tilt @ _rot(_Z, rng.uniform(0.0, TAU))).T)
    outliers = int(rng.integers(2, 9))
    low, high = pts.min(axis=0), pts.max(axis=0)
    pts[:outliers] = rng.uniform(low, high, (outliers, 3))
    pts += rng.normal(0.0, rng.uniform(0.005, 0.01), pts.shape)
    return _fit_unit_sphere(pts)


def make_cloud(concept: Concept, rng: np.random.Generator, n_points: int = 4096) -> np.ndarray:
    """A procedural scan of one instance of `concept`: float32 (n_points, 3), centred on its
    mean and inside the unit sphere. Deterministic given the state of `rng`."""
    model = _FAMILIES[concept.family](rng)
    spare = _REMOVES.get(concept.condition, 0.0)
    pts, nrm, groups = model.sample(rng, int((1.0 + spare) * n_points) + 16)
    pts = _CONDITIONS[concept.condition](_Scan(pts, nrm, groups, model), rng)
    pick = rng.choice(len(pts), size=n_points, replace=len(pts) < n_points)
    return _scanner(pts[pick], rng).astype(np.float32)
