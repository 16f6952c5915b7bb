"""Procedural "inspection photos" of the demo factory world's parts and machines.

`render_image` draws one concept (a family in a condition) as a small photo. The family
fixes the structure and silhouette; the condition adds cues shared across families
(fading and scuffs, dark cracks, fluid drips and a puddle, a tilted or offset sub-part, a
missing or lifted fastener and a vibration ghost); and every image gets its own nuisance:
material colour from one palette shared by all families, pose, scale, position, a
background with low-contrast clutter, lighting, colour temperature, blur and sensor noise.
Material and background lean mildly towards a per-family choice (FAMILY_BIAS, SITE_BIAS),
so that colour alone does better than chance at naming the concept but far from perfectly.

Everything random comes from the generator passed in, so a seeded generator gives
byte-identical images. The part is drawn at twice the output size and box-downsampled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from core.world.concepts import Concept

RGB = tuple[int, int, int]
Point = tuple[float, float]

HOLE = (0, 0, 0, 0)  # drawing this on the part layer punches a see-through hole
RUBBER: RGB = (38, 38, 40)
GAP: RGB = (18, 16, 15)

# Materials shared by every family, so that colour does not give the family away.
MATERIALS: tuple[RGB, ...] = (
    (150, 154, 158),  # steel grey
    (96, 101, 107),  # dark steel
    (45, 85, 160),  # painted blue
    (40, 120, 75),  # machine green
    (225, 185, 35),  # safety yellow
    (232, 105, 25),  # safety orange
    (186, 146, 66),  # brass
    (42, 42, 46),  # black
    (168, 42, 36),  # signal red
    (212, 206, 190),  # cream
    (78, 112, 126),  # slate teal
)
# Each family leans towards two materials (pumps painted blue or green, pipes yellow or
# green): enough for colour alone to beat chance, never to decide.
FAMILY_MATERIALS: dict[str, tuple[int, ...]] = {
    "bearing": (0, 7),
    "gear": (1, 6),
    "pump": (2, 3),
    "valve": (8, 7),
    "pipe": (4, 3),
    "motor": (2, 10),
    "conveyor": (4, 5),
    "fan": (9, 1),
    "weld": (0, 10),
    "bolt": (6, 5),
}
FAMILY_BIAS = 0.6  # chance that the body material is one of the family's own
METALS: tuple[RGB, ...] = ((188, 191, 195), (150, 153, 157), (205, 192, 150), (70, 72, 76))
CARDBOARD: RGB = (176, 136, 88)
FLUIDS: tuple[RGB, ...] = ((32, 25, 16), (28, 116, 110))  # dark oil, blue-green coolant
RUST = (178, 86, 30)

# Largest rotation (degrees) of each family's pose; round parts may turn all the way.
SPIN = {
    "bearing": 180.0,
    "gear": 180.0,
    "fan": 180.0,
    "bolt": 60.0,
    "weld": 30.0,
}
DEFAULT_SPIN = 22.0
BG_MUTE = 0.5  # how far background colours are pulled towards grey
# Where each family is usually photographed (0 bench, 1 concrete, 2 sheet metal, 3 painted
# floor, 4 backdrop), and how often: a weak context cue, like the material bias.
SITES = {
    "bearing": 0,
    "gear": 2,
    "pump": 3,
    "valve": 1,
    "pipe": 1,
    "motor": 3,
    "conveyor": 1,
    "fan": 4,
    "weld": 2,
    "bolt": 0,
}
SITE_BIAS = 0.5


# --------------------------------------------------------------------------- colours


def _mix(a: Sequence[int], b: Sequence[int], t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def _shade(c: Sequence[int], k: float) -> RGB:
    return tuple(min(255, max(0, int(x * k))) for x in c)  # type: ignore[return-value]


def _jitter(c: Sequence[int], rng: np.random.Generator, amount: float) -> RGB:
    gains = 1.0 + rng.uniform(-amount, amount, 3)
    return tuple(int(min(255, max(0, x * g))) for x, g in zip(c, gains))  # type: ignore[return-value]


def _faded(c: Sequence[int]) -> RGB:
    grey = sum(c) / 3
    return _mix(_mix(c, (grey, grey, grey), 0.55), (196, 190, 178), 0.3)


def _rgba(c: Sequence[int], a: int) -> tuple[int, int, int, int]:
    return (c[0], c[1], c[2], a)


# --------------------------------------------------------------------------- pen


class Pen:
    """Draws shapes given in a part's local frame through an affine map to pixels."""

    def __init__(self, draw: ImageDraw.ImageDraw, matrix: np.ndarray) -> None:
        self.draw = draw
        self.m = matrix
        a = matrix[:, :2]
        self.unit = math.sqrt(abs(float(np.linalg.det(a))))
        self.similar = abs(a[0, 0] - a[1, 1]) < 1e-6 and abs(a[0, 1] + a[1, 0]) < 1e-6

    def sub(
        self,
        du: float = 0.0,
        dv: float = 0.0,
        angle: float = 0.0,
        pivot: Point = (0.0, 0.0),
        su: float = 1.0,
        sv: float = 1.0,
    ) -> Pen:
        """A pen for a sub-part: scaled, then turned `angle` degrees about `pivot`, then moved."""
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        a = np.array([[c * su, -s * sv], [s * su, c * sv]])
        p = np.array(pivot)
        t = p + np.array([du, dv]) - a @ p
        m = np.empty((2, 3))
        m[:, :2] = self.m[:, :2] @ a
        m[:, 2] = self.m[:, :2] @ t + self.m[:, 2]
        return Pen(self.draw, m)

    def xy(self, pts: Sequence[Point] | np.ndarray) -> list[float]:
        p = np.asarray(pts, dtype=float).reshape(-1, 2)
        return (p @ self.m[:, :2].T + self.m[:, 2]).ravel().tolist()

    def width(self, w: float) -> int:
        return max(1, int(round(w * self.unit)))

    def poly(self, pts, fill, outline=None, width: float = 0.012) -> None:
        w = self.width(width) if outline is not None else 1
        self.draw.polygon(self.xy(pts), fill=fill, outline=outline, width=w)

    def rect(self, u0, v0, u1, v1, fill, outline=None, width: float = 0.012) -> None:
        self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)], fill, outline, width)

    def line(self, pts, fill, width: float) -> None:
        self.draw.line(self.xy(pts), fill=fill, width=self.width(width), joint="curve")

    def circle(self, u, v, r, fill, outline=None, width: float = 0.012) -> None:
        if not self.similar:
            self.ellipse(u, v, r, r, fill, outline, width)
            return
        x, y = self.xy([(u, v)])
        rr = r * self.unit
        w = self.width(width) if outline is not None else 1
        self.draw.ellipse((x - rr, y - rr, x + rr, y + rr), fill=fill, outline=outline, width=w)

    def ellipse(self, u, v, ru, rv, fill, outline=None, width=0.012, n: int = 40) -> None:
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        self.poly(np.stack([u + ru * np.cos(t), v + rv * np.sin(t)], 1), fill, outline, width)

    def ring(self, u, v, r, w, colour) -> None:
        """An annulus of mean radius r and width w (outline only)."""
        if not self.similar:
            t = np.linspace(0, 2 * np.pi, 49)
            pts = np.stack([u + r * np.cos(t), v + r * np.sin(t)], 1)
            self.line(pts, colour, w)
            return
        x, y = self.xy([(u, v)])
        rr = (r + w / 2) * self.unit
        self.draw.ellipse((x - rr, y - rr, x + rr, y + rr), outline=colour, width=self.width(w))

    def cylinder(self, u0, v0, u1, v1, colour, along_u: bool = True) -> None:
        """A rectangle shaded as a lit cylinder whose axis runs along u (or v)."""
        self.rect(u0, v0, u1, v1, colour, _shade(colour, 0.5))
        bands = ((0.12, 0.38, 1.28), (0.7, 0.95, 0.72))
        for a, b, k in bands:
            if along_u:
                self.rect(u0, v0 + a * (v1 - v0), u1, v0 + b * (v1 - v0), _shade(colour, k))
            else:
                self.rect(u0 + a * (u1 - u0), v0, u0 + b * (u1 - u0), v1, _shade(colour, k))


# --------------------------------------------------------------------------- part


@dataclass
class Part:
    """The colours, condition and randomness one family drawer works with."""

    rng: np.random.Generator
    condition: str
    body: RGB
    trim: RGB
    metal: RGB
    fasteners: list[tuple[Pen, float, float, float]] = field(default_factory=list)

    @property
    def dark(self) -> RGB:
        return _shade(self.body, 0.45)

    def is_(self, condition: str) -> bool:
        return self.condition == condition

    def fastener(self, pen: Pen, u: float, v: float, r: float) -> None:
        self.fasteners.append((pen, u, v, r))

    def sign(self) -> float:
        return 1.0 if self.rng.random() < 0.5 else -1.0


def _material(family: str, rng: np.random.Generator) -> RGB:
    if rng.random() < FAMILY_BIAS:
        choices = FAMILY_MATERIALS[family]
        return MATERIALS[choices[rng.integers(len(choices))]]
    return MATERIALS[rng.integers(len(MATERIALS))]


def _new_part(family: str, condition: str, rng: np.random.Generator) -> Part:
    body = _jitter(_material(family, rng), rng, 0.08)
    if rng.random() < 0.5:
        trim = _shade(body, rng.uniform(0.65, 0.85))
    else:
        trim = _jitter(MATERIALS[rng.integers(len(MATERIALS))], rng, 0.08)
    metal = _jitter(METALS[rng.integers(len(METALS))], rng, 0.05)
    if condition == "worn":
        body, trim, metal = _faded(body), _faded(trim), _mix(metal, (170, 165, 155), 0.4)
    return Part(rng, condition, body, trim, metal)


def _hexagon(u: float, v: float, r: float, turn: float) -> np.ndarray:
    t = turn + np.arange(6) * np.pi / 3
    return np.stack([u + r * np.cos(t), v + r * np.sin(t)], 1)


def _draw_fastener(pen: Pen, u: float, v: float, r: float, rng: np.random.Generator, metal) -> None:
    pen.poly(_hexagon(u, v, r, rng.uniform(0, np.pi)), metal, _shade(metal, 0.4), 0.01)
    pen.circle(u - r * 0.15, v - r * 0.15, r * 0.35, _shade(metal, 1.2))


def _draw_fasteners(part: Part) -> None:
    """Draws the registered fasteners; a loose part loses one or two and has one lifted."""
    rng, n = part.rng, len(part.fasteners)
    missing: set[int] = set()
    lifted = -1
    if part.is_("loose") and n:
        order = rng.permutation(n)
        missing = set(order[: 1 + (n >= 4)].tolist())
        lifted = int(order[-1]) if n >= 3 else -1
    for i, (pen, u, v, r) in enumerate(part.fasteners):
        if i in missing or i == lifted:
            pen.circle(u, v, r * 0.75, GAP, _shade(part.metal, 0.55), 0.012)
        if i in missing:
            continue
        if i == lifted:
            a = rng.uniform(0, 2 * np.pi)
            u, v = u + 1.7 * r * math.cos(a), v + 1.7 * r * math.sin(a)
            pen.circle(u + r * 0.35, v + r * 0.35, r * 1.05, (20, 20, 20, 255))
        _draw_fastener(pen, u, v, r, rng, part.metal)


# --------------------------------------------------------------------------- families


def _bearing(pen: Pen, p: Part) -> None:
    rng = p.rng
    pen.circle(0, 0, 1.0, p.body, p.dark, 0.02)
    pen.ring(0, 0, 0.92, 0.03, _shade(p.body, 1.2))
    pen.circle(0, 0, 0.8, GAP)
    inner = pen
    if p.is_("misaligned"):
        inner = pen.sub(du=0.09 * p.sign(), angle=rng.uniform(0, 180), sv=rng.uniform(0.6, 0.72))
    n = int(rng.integers(8, 13))
    rb = min(0.118, 0.66 * np.pi / n * 0.9)
    gone = set()
    if p.is_("loose"):
        first = int(rng.integers(n))
        gone = {(first + k) % n for k in range(int(rng.integers(2, 4)))}
    turn = rng.uniform(0, 2 * np.pi)
    for k in range(n):
        if k in gone:
            continue
        a = turn + 2 * np.pi * k / n
        u, v = 0.665 * math.cos(a), 0.665 * math.sin(a)
        inner.circle(u, v, rb, p.metal, _shade(p.metal, 0.45), 0.012)
        inner.circle(u - rb * 0.3, v - rb * 0.3, rb * 0.35, _shade(p.metal, 1.3))
    if p.is_("loose"):
        inner = inner.sub(du=rng.uniform(0.05, 0.08) * p.sign(), dv=0.05 * p.sign())
    inner.circle(0, 0, 0.55, _shade(p.body, 1.12), p.dark, 0.02)
    inner.ring(0, 0, 0.45, 0.025, _shade(p.body, 0.8))
    inner.circle(0, 0, 0.34, HOLE, p.dark, 0.02)


def _gear_outline(n: int, depth: float) -> np.ndarray:
    pitch = 2 * np.pi / n
    pts = []
    for k in range(n):
        a = k * pitch
        for da, r in ((-0.28, 1 - depth), (-0.14, 1.0), (0.14, 1.0), (0.28, 1 - depth)):
            pts.append((r * math.cos(a + da * pitch), r * math.sin(a + da * pitch)))
    return np.array(pts)


def _gear(pen: Pen, p: Part) -> None:
    rng = p.rng
    n = int(rng.integers(14, 28))
    depth = rng.uniform(0.11, 0.16)
    pen.poly(_gear_outline(n, depth), p.body, p.dark, 0.015)
    rim = 1 - depth - 0.1
    pen.ring(0, 0, rim, 0.025, _shade(p.body, 0.7))
    turn = rng.uniform(0, 2 * np.pi)
    holes = int(rng.integers(4, 7))
    if rng.random() < 0.5:
        gap = 2 * np.pi / holes * rng.uniform(0.55, 0.75)
        for k in range(holes):
            a = turn + 2 * np.pi * k / holes + np.linspace(0, gap, 10)
            outer = np.stack([(rim - 0.04) * np.cos(a), (rim - 0.04) * np.sin(a)], 1)
            inner = np.stack([0.4 * np.cos(a[::-1]), 0.4 * np.sin(a[::-1])], 1)
            pen.poly(np.vstack([outer, inner]), HOLE, p.dark, 0.015)
    else:
        rh = rng.uniform(0.09, 0.13)
        for k in range(holes):
            a = turn + 2 * np.pi * k / holes
            pen.circle(0.56 * math.cos(a), 0.56 * math.sin(a), rh, HOLE, p.dark, 0.015)
    hub = pen
    if p.is_("misaligned"):
        a = rng.uniform(0, 2 * np.pi)
        hub = pen.sub(du=0.17 * math.cos(a), dv=0.17 * math.sin(a))
    hub.circle(0, 0, 0.33, _shade(p.body, 1.12), p.dark, 0.02)
    hub.circle(0, 0, 0.18, GAP)
    if p.is_("loose"):
        hub.circle(0.055, 0.045, 0.1, p.metal, _shade(p.metal, 0.5), 0.012)
    else:
        hub.circle(0, 0, 0.16, p.metal, _shade(p.metal, 0.5), 0.012)
        hub.rect(-0.035, -0.17, 0.035, -0.12, _shade(p.metal, 0.7))
    p.fastener(hub, 0.25, 0.0, 0.045)


def _spiral(cx: float, cy: float, r0: float, r1: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 48)
    r = r0 + (r1 - r0) * t / (2 * np.pi)
    return np.stack([cx + r * np.cos(t), cy - r * np.sin(t)], 1)


def _pump(pen: Pen, p: Part) -> None:
    rng = p.rng
    cx, cy = -0.05, 0.05
    pen.rect(-0.95, 0.72, 0.95, 0.86, p.trim, _shade(p.trim, 0.5))
    for u in (-0.8, -0.45, 0.45, 0.8):
        p.fastener(pen, u, 0.79, 0.045)
    pen.poly([(-0.32, 0.72), (0.32, 0.72), (0.18, 0.4), (-0.18, 0.4)], _shade(p.body, 0.8), p.dark)
    inlet = pen.sub(dv=0.09 * p.sign()) if p.is_("misaligned") else pen
    inlet.cylinder(-0.88, cy - 0.16, cx - 0.3, cy + 0.16, p.body)
    inlet.rect(-0.98, cy - 0.27, -0.86, cy + 0.27, p.trim, _shade(p.trim, 0.5))
    p.fastener(inlet, -0.92, cy - 0.19, 0.04)
    p.fastener(inlet, -0.92, cy + 0.19, 0.04)
    out = pen
    if p.is_("misaligned"):
        out = pen.sub(angle=rng.uniform(14, 24) * p.sign(), pivot=(cx + 0.53, cy - 0.35))
    out.cylinder(cx + 0.4, cy - 0.8, cx + 0.66, cy - 0.2, p.body, along_u=False)
    lift = rng.uniform(0.05, 0.08) if p.is_("loose") else 0.0
    flange = out.sub(dv=-lift, angle=8 * p.sign() * (lift > 0), pivot=(cx + 0.53, cy - 0.84))
    flange.rect(cx + 0.3, cy - 0.9, cx + 0.76, cy - 0.8, p.trim, _shade(p.trim, 0.5))
    p.fastener(flange, cx + 0.36, cy - 0.85, 0.035)
    p.fastener(flange, cx + 0.7, cy - 0.85, 0.035)
    pen.poly(_spiral(cx, cy, 0.44, 0.66), p.body, p.dark, 0.018)
    pen.line(_spiral(cx, cy, 0.36, 0.52)[4:40], _shade(p.body, 0.75), 0.025)
    pen.circle(cx, cy, 0.28, _shade(p.body, 1.15), p.dark, 0.015)
    for k in range(4):
        a = np.pi / 4 + k * np.pi / 2
        p.fastener(pen, cx + 0.21 * math.cos(a), cy + 0.21 * math.sin(a), 0.035)
    pen.circle(cx, cy, 0.08, p.metal, _shade(p.metal, 0.5))


def _valve(pen: Pen, p: Part) -> None:
    rng = p.rng
    right = pen.sub(dv=0.1 * p.sign()) if p.is_("misaligned") else pen
    for side, q in ((-1, pen), (1, right)):
        q.cylinder(side * 1.0, -0.15, side * 0.36, 0.15, p.metal)
        q.rect(side * 0.44, -0.31, side * 0.32, 0.31, p.trim, _shade(p.trim, 0.5))
        q.rect(side * 1.0, -0.26, side * 0.92, 0.26, p.trim, _shade(p.trim, 0.5))
        for v in (-0.22, 0.22):
            p.fastener(q, side * 0.38, v, 0.045)
    pen.ellipse(0, 0.02, 0.36, 0.32, p.body, p.dark, 0.018)
    pen.ellipse(-0.1, -0.06, 0.12, 0.1, _shade(p.body, 1.2))
    pen.poly([(-0.17, -0.24), (0.17, -0.24), (0.12, -0.46), (-0.12, -0.46)], p.body, p.dark)
    pen.rect(-0.2, -0.3, 0.2, -0.24, _shade(p.body, 0.8), p.dark)
    stem = pen
    if p.is_("misaligned"):
        stem = pen.sub(angle=rng.uniform(16, 26) * p.sign(), pivot=(0, -0.46))
    stem.cylinder(-0.035, -0.84, 0.035, -0.46, p.metal, along_u=False)
    wheel = stem
    if p.is_("loose"):
        wheel = stem.sub(dv=-0.12, angle=rng.uniform(8, 14) * p.sign(), pivot=(0, -0.84))
    wheel_colour = p.trim if rng.random() < 0.5 else MATERIALS[8]
    wheel.ellipse(0, -0.84, 0.4, 0.11, None, wheel_colour, 0.05)
    for u in (-0.2, 0.2):
        wheel.line([(0, -0.84), (u, -0.8)], wheel_colour, 0.03)
    wheel.circle(0, -0.84, 0.05, _shade(p.metal, 0.8), _shade(p.metal, 0.4))


def _pipe(pen: Pen, p: Part) -> None:
    rng = p.rng
    joint = rng.uniform(-0.3, 0.3)
    right = pen
    if p.is_("misaligned"):
        right = pen.sub(dv=0.07 * p.sign(), angle=rng.uniform(6, 11) * p.sign(), pivot=(joint, 0))
    gap = rng.uniform(0.05, 0.08) if p.is_("loose") else 0.0
    right = right.sub(du=gap)
    pen.cylinder(-1.15, -0.17, joint, 0.17, p.body)
    right.cylinder(joint, -0.17, 1.15, 0.17, p.body)
    if gap:
        pen.rect(joint - 0.02, -0.14, joint + gap + 0.02, 0.14, GAP)
    for q, u0, u1 in ((pen, joint - 0.11, joint), (right, joint, joint + 0.11)):
        q.rect(u0, -0.34, u1, 0.34, p.trim, _shade(p.trim, 0.5))
        for v in (-0.26, 0.0, 0.26):
            p.fastener(q, (u0 + u1) / 2, v, 0.04)
    for side in (-1, 1):
        q = pen if side < 0 else right
        q.rect(side * 0.98, -0.3, side * 0.9, 0.3, p.trim, _shade(p.trim, 0.5))


def _motor(pen: Pen, p: Part) -> None:
    rng = p.rng
    pen.rect(-0.62, 0.44, 0.4, 0.52, p.trim, _shade(p.trim, 0.5))
    for u in (-0.5, 0.28):
        p.fastener(pen, u, 0.48, 0.04)
    shaft = pen
    if p.is_("misaligned"):
        shaft = pen.sub(angle=rng.uniform(18, 28) * p.sign(), pivot=(0.5, 0.0))
    shaft.cylinder(0.45, -0.075, 0.86, 0.075, p.metal)
    shaft.rect(0.6, -0.075, 0.76, -0.035, _shade(p.metal, 0.5))
    shaft.cylinder(0.8, -0.15, 0.97, 0.15, _shade(p.metal, 0.85))
    pen.poly([(-0.35, 0.3), (-0.1, 0.3), (-0.05, 0.45), (-0.4, 0.45)], p.body, p.dark)
    pen.poly([(0.05, 0.3), (0.3, 0.3), (0.35, 0.45), (0.0, 0.45)], p.body, p.dark)
    pen.cylinder(-0.86, -0.33, -0.6, 0.33, _shade(p.body, 0.9))
    for v in np.linspace(-0.24, 0.24, 5):
        pen.line([(-0.84, v), (-0.64, v)], GAP, 0.025)
    pen.cylinder(-0.62, -0.38, 0.36, 0.38, p.body)
    for v in np.linspace(-0.3, 0.3, 7):
        pen.line([(-0.6, v), (0.34, v)], _shade(p.body, 0.6), 0.03)
    pen.cylinder(0.34, -0.31, 0.5, 0.31, _shade(p.body, 1.05))
    lid = pen
    if p.is_("loose"):
        lid = pen.sub(dv=-0.08, angle=rng.uniform(8, 15) * p.sign(), pivot=(-0.07, -0.56))
    pen.rect(-0.24, -0.52, 0.1, -0.38, p.body, p.dark)
    lid.rect(-0.28, -0.6, 0.14, -0.52, _shade(p.body, 1.1), p.dark)
    for u in (-0.22, 0.08):
        p.fastener(lid, u, -0.56, 0.025)
    pen.rect(0.1, -0.48, 0.2, -0.42, RUBBER)


def _conveyor(pen: Pen, p: Part) -> None:
    rng = p.rng
    tilt = rng.uniform(0.1, 0.15) * p.sign() if p.is_("misaligned") else 0.0
    left, right = np.array([-0.78, -0.2]), np.array([0.78, -0.2 + tilt])
    lift = rng.uniform(0.07, 0.11) if p.is_("loose") else 0.0
    lifted_leg = int(rng.integers(2))
    for k, u in enumerate((-0.6, 0.6)):
        bottom = 0.78 - (lift if k == lifted_leg else 0.0)
        pen.rect(u - 0.035, -0.1, u + 0.035, bottom, p.trim, _shade(p.trim, 0.5))
        pen.rect(u - 0.11, bottom, u + 0.11, bottom + 0.04, p.trim, _shade(p.trim, 0.5))
        p.fastener(pen, u - 0.075, bottom + 0.02, 0.025)
        p.fastener(pen, u + 0.075, bottom + 0.02, 0.025)
    pen.line([(-0.6, 0.6), (0.6, 0.05)], p.trim, 0.03)
    for radius, colour in ((0.21, RUBBER), (0.155, p.body)):
        pen.poly(_capsule(left, right, radius), colour, _shade(colour, 0.5), 0.012)
    pen.line([left + (0.3, 0.08), right + (-0.3, 0.08)], _shade(p.body, 0.7), 0.02)
    for c in (left, right):
        pen.circle(c[0], c[1], 0.12, p.metal, _shade(p.metal, 0.45), 0.012)
        pen.circle(c[0], c[1], 0.04, _shade(p.metal, 0.5))
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    belt = pen.sub(angle=angle, pivot=tuple(left))
    u = -0.7
    for _ in range(int(rng.integers(2, 4))):
        w, h = rng.uniform(0.18, 0.3), rng.uniform(0.14, 0.26)
        if u + w > 0.75:
            break
        box = _jitter(CARDBOARD, rng, 0.12)
        belt.rect(u, -0.41 - h, u + w, -0.41, box, _shade(box, 0.55))
        belt.line([(u + w / 2, -0.41 - h), (u + w / 2, -0.41)], _shade(box, 1.25), 0.03)
        u += w + rng.uniform(0.08, 0.25)


def _capsule(a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
    d = b - a
    base = math.atan2(d[1], d[0])
    t1 = base + np.linspace(-np.pi / 2, np.pi / 2, 16)
    t2 = base + np.linspace(np.pi / 2, 3 * np.pi / 2, 16)
    arc_b = b + r * np.stack([np.cos(t1), np.sin(t1)], 1)
    arc_a = a + r * np.stack([np.cos(t2), np.sin(t2)], 1)
    return np.vstack([arc_b, arc_a])


def _blade(turn: float, width: float, sweep: float) -> np.ndarray:
    t = np.linspace(0, 1, 8)
    r = 0.18 + 0.66 * t
    mid = turn + sweep * t
    half = width * (0.35 + 0.65 * np.sin(np.pi * (0.15 + 0.7 * t)))
    lead = np.stack([r * np.cos(mid + half), r * np.sin(mid + half)], 1)
    trail = np.stack([r * np.cos(mid - half), r * np.sin(mid - half)], 1)
    return np.vstack([lead, trail[::-1]])


def _fan(pen: Pen, p: Part) -> None:
    rng = p.rng
    framed = rng.random() < 0.5
    if framed:
        pen.rect(-1, -1, 1, 1, p.trim, _shade(p.trim, 0.5))
        pen.circle(0, 0, 0.9, HOLE, _shade(p.trim, 0.6), 0.02)
    for k in range(4):
        a = np.pi / 4 + k * np.pi / 2
        u, v = 1.0 * math.cos(a), 1.0 * math.sin(a)
        if framed:
            u, v = 0.86 * np.sign(u), 0.86 * np.sign(v)
        else:
            pen.circle(u, v, 0.09, p.trim, _shade(p.trim, 0.5))
        p.fastener(pen, u, v, 0.045)
    rotor = pen
    if p.is_("misaligned"):
        a = rng.uniform(0, 2 * np.pi)
        rotor = pen.sub(
            du=0.13 * math.cos(a), dv=0.13 * math.sin(a), angle=math.degrees(a), su=0.78
        )
    n = int(rng.integers(3, 8))
    turn, sweep = rng.uniform(0, 2 * np.pi), rng.uniform(0.3, 0.7) * p.sign()
    width = min(0.55, 2.2 / n)
    blade_colour = p.body if rng.random() < 0.6 else p.metal
    odd = int(rng.integers(n)) if p.is_("loose") else -1
    for k in range(n):
        a = turn + 2 * np.pi * k / n
        shape = _blade(a, width, sweep)
        if k == odd:
            shape = shape * 1.12 + 0.04
            a2 = (np.pi / n) * 0.45
            rot = np.array([[math.cos(a2), -math.sin(a2)], [math.sin(a2), math.cos(a2)]])
            shape = shape @ rot.T
        rotor.poly(shape, blade_colour, _shade(blade_colour, 0.45), 0.015)
    rotor.circle(0, 0, 0.22, _shade(p.body, 0.7), _shade(p.body, 0.4), 0.015)
    rotor.circle(0, 0, 0.1, p.metal, _shade(p.metal, 0.5))
    if not framed:
        pen.ring(0, 0, 0.94, 0.08, p.trim)
        pen.ring(0, 0, 0.55, 0.02, _shade(p.trim, 0.8))
        for k in range(4):
            a = turn / 3 + k * np.pi / 2
            pen.line(
                [
                    (0.24 * math.cos(a), 0.24 * math.sin(a)),
                    (0.92 * math.cos(a), 0.92 * math.sin(a)),
                ],
                _shade(p.trim, 0.8),
                0.02,
            )


def _weld(pen: Pen, p: Part) -> None:
    rng = p.rng
    right = pen
    if p.is_("misaligned"):
        right = pen.sub(dv=0.12 * p.sign(), angle=rng.uniform(6, 10) * p.sign(), pivot=(0, 0))
    gap = 0.05 if p.is_("loose") else 0.0
    for q, side in ((pen, -1), (right, 1)):
        q = q.sub(du=side * gap / 2)
        plate = _shade(p.body, 1.0 if side < 0 else 0.9)
        q.rect(side * 1.0, -0.7, side * 0.01, 0.7, plate, _shade(plate, 0.5), 0.015)
        q.rect(side * 0.99, -0.7, side * 0.93, 0.7, _shade(plate, 1.15))
        for v in (-0.52, 0.52):
            p.fastener(q, side * 0.8, v, 0.05)
    pen.rect(-0.16, -0.7, 0.16, 0.7, _mix(p.body, (176, 124, 62), 0.4))
    pen.rect(-0.11, -0.7, 0.11, 0.7, _mix(p.body, (82, 86, 150), 0.4))
    bead = _jitter((128, 126, 120), rng, 0.08)
    stop = (rng.uniform(-0.5, 0.1), 0.0)
    if p.is_("loose"):
        stop = (stop[0], stop[0] + rng.uniform(0.3, 0.45))
    pen.rect(-0.08, -0.72, 0.08, 0.72, bead, _shade(bead, 0.5), 0.012)
    if stop[1]:
        pen.rect(-0.09, stop[0], 0.09, stop[1], _shade(p.body, 0.7))
        pen.rect(-gap / 2 - 0.015, stop[0], gap / 2 + 0.015, stop[1], GAP)
    pitch = rng.uniform(0.045, 0.06)
    for v in np.arange(-0.68, 0.7, pitch):
        if stop[1] and stop[0] - 0.03 < v < stop[1]:
            continue
        arc = [(-0.075, v + 0.03), (-0.035, v), (0.035, v), (0.075, v + 0.03)]
        pen.line(arc, _shade(bead, 1.35), 0.018)
        pen.line([(x, y + 0.02) for x, y in arc], _shade(bead, 0.6), 0.012)


def _bolt(pen: Pen, p: Part) -> None:
    rng, colour = p.rng, p.body
    loose = p.is_("loose")
    r = 0.14  # shank radius
    shank = pen
    if p.is_("misaligned"):
        shank = pen.sub(angle=rng.uniform(15, 24) * p.sign(), pivot=(0, 0.05))
    pen.cylinder(-r, -0.6, r, 0.08, colour, along_u=False)
    shank.cylinder(-r, 0.05, r, 0.84, colour, along_u=False)
    shank.poly(
        [(-r, 0.84), (r, 0.84), (r - 0.05, 0.9), (0.05 - r, 0.9)], colour, _shade(colour, 0.5)
    )
    for v in np.arange(0.0, 0.82, 0.055):
        thread = [(-r, v), (r, v + 0.04)]
        (pen if v < 0.05 else shank).line(thread, _shade(colour, 0.5), 0.02)
    washer = pen.sub(dv=0.08 * loose, angle=14 * p.sign() * loose, pivot=(0, -0.6))
    washer.rect(-0.38, -0.63, 0.38, -0.57, p.metal, _shade(p.metal, 0.5))
    _hex_side(pen, -0.85 - 0.07 * loose, 0.22, 0.32, colour)
    if rng.random() < 0.5:
        v0 = rng.uniform(0.56, 0.62) if loose else rng.uniform(0.15, 0.4)
        _hex_side(shank, v0, 0.2, 0.3, p.metal)


def _hex_side(pen: Pen, v0: float, h: float, half: float, colour: RGB) -> None:
    """A hex head or nut seen from the side: three faces, the middle one lit."""
    c = half * 0.1
    pen.poly(
        [
            (-half, v0 + c),
            (-half + c, v0),
            (half - c, v0),
            (half, v0 + c),
            (half, v0 + h - c),
            (half - c, v0 + h),
            (-half + c, v0 + h),
            (-half, v0 + h - c),
        ],
        _shade(colour, 0.8),
        _shade(colour, 0.45),
        0.015,
    )
    pen.rect(-half * 0.45, v0 + 0.01, half * 0.45, v0 + h - 0.01, _shade(colour, 1.18))


FAMILY_DRAWERS: dict[str, Callable[[Pen, Part], None]] = {
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


# --------------------------------------------------------------------------- background


@lru_cache(maxsize=8)
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    xx, yy = np.meshgrid(t, t)
    return xx, yy


def _smooth(rng: np.random.Generator, cells: int, n: int, rows: int | None = None) -> np.ndarray:
    """Value noise in [0, 1]: random cells bilinearly upsampled to n x n."""
    small = Image.fromarray(rng.random((rows or cells, cells), dtype=np.float32), mode="F")
    return np.asarray(small.resize((n, n), Image.BILINEAR))


def _texture(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    """A bench, floor, metal or backdrop texture as an n x n x 3 float array."""
    xx, yy = _grid(n)
    if kind == 0:  # wooden workbench
        base = _jitter((160, 112, 66), rng, 0.15)
        warp = _smooth(rng, 3, n, rows=4)
        grain = np.sin(2 * np.pi * (yy * rng.uniform(8, 14) + 0.8 * warp))
        streaks = _smooth(rng, 3, n, rows=n // 2) - 0.5
        value = 0.07 * grain + 0.16 * streaks + 0.1 * (_smooth(rng, 3, n) - 0.5)
    elif kind == 1:  # concrete floor
        base = _jitter((142, 140, 134), rng, 0.12)
        value = 0.28 * (_smooth(rng, 6, n) - 0.5) + 0.12 * (_smooth(rng, 24, n) - 0.5)
    elif kind == 2:  # brushed metal sheet
        base = _jitter((132, 138, 146), rng, 0.1)
        value = 0.14 * (_smooth(rng, 4, n, rows=n) - 0.5)
    elif kind == 3:  # painted floor
        base = _jitter(((82, 112, 92), (96, 100, 108))[rng.integers(2)], rng, 0.12)
        value = 0.16 * (_smooth(rng, 5, n) - 0.5)
    else:  # studio backdrop gradient
        base = _jitter((int(rng.integers(70, 200)),) * 3, rng, 0.15)
        a = rng.uniform(0, 2 * np.pi)
        value = 0.22 * (math.cos(a) * xx + math.sin(a) * yy)
    base = _mix(base, (sum(base) / 3,) * 3, BG_MUTE)
    return np.asarray(base, np.float32) * (1.0 + value[..., None])


def _bezier(pts: np.ndarray, k: int = 20) -> np.ndarray:
    t = np.linspace(0, 1, k)[:, None]
    return (
        (1 - t) ** 3 * pts[0]
        + 3 * (1 - t) ** 2 * t * pts[1]
        + 3 * (1 - t) * t**2 * pts[2]
        + t**3 * pts[3]
    )


def _clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, n: int, mean: RGB) -> None:
    """Low-contrast things behind the part: cables, markings, plates, rings."""
    for _ in range(int(rng.integers(1, 6))):
        tone = _shade(mean, float(rng.choice([0.6, 0.75, 1.25, 1.4])))
        colour = _rgba(tone, int(rng.integers(70, 160)))
        pts = rng.uniform(-0.1, 1.1, (4, 2)) * n
        width = max(2, int(n * rng.uniform(0.012, 0.04)))
        kind = rng.integers(4)
        if kind == 0:  # cable
            draw.line(_bezier(pts).ravel().tolist(), fill=colour, width=width, joint="curve")
        elif kind == 1:  # floor marking or bench edge
            draw.line(pts[:2].ravel().tolist(), fill=colour, width=2 * width)
        elif kind == 2:  # a plate or box
            x, y = pts[0]
            w, h = rng.uniform(0.1, 0.4, 2) * n
            draw.rectangle((x, y, x + w, y + h), fill=colour)
        else:  # a ring or stain
            (x, y), r = pts[0], rng.uniform(0.03, 0.15) * n
            draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=int(r / 3) + 1)


def _background(rng: np.random.Generator, n: int, family: str) -> Image.Image:
    kind = SITES[family] if rng.random() < SITE_BIAS else int(rng.integers(5))
    small = np.clip(_texture(rng, n // 2, kind), 0, 255).astype(np.uint8)
    image = Image.fromarray(small, "RGB").resize((n, n), Image.BILINEAR)
    mean: RGB = tuple(int(x) for x in small.reshape(-1, 3).mean(0))  # type: ignore[assignment]
    _clutter(ImageDraw.Draw(image, "RGBA"), rng, n, mean)
    return image


# --------------------------------------------------------------------------- damage


class Silhouette:
    """Where the part lies, from a coarse copy of its alpha; coordinates in layer pixels."""

    def __init__(self, alpha: Image.Image, factor: int = 8) -> None:
        self.coarse = np.asarray(alpha.reduce(factor)) > 200
        self.scale = float(factor)
        ys, xs = np.nonzero(self.coarse)
        if len(xs) == 0:
            ys, xs = np.array([self.coarse.shape[0] // 2]), np.array([self.coarse.shape[1] // 2])
        self.xs, self.ys = xs, ys
        self.centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5]) * self.scale
        self.extent = math.sqrt(len(xs)) * self.scale  # side of a square of the same area

    def points(self, rng: np.random.Generator, k: int, top: float = 1.0) -> np.ndarray:
        """k random points inside the part, within its upper `top` fraction."""
        keep = self.ys <= self.ys.min() + top * (self.ys.max() - self.ys.min())
        xs, ys = self.xs[keep], self.ys[keep]
        i = rng.integers(0, len(xs), k)
        return np.stack([xs[i] + rng.random(k), ys[i] + rng.random(k)], 1) * self.scale


def _jagged(start: np.ndarray, heading: float, length: float, rng: np.random.Generator):
    steps = int(rng.integers(7, 12))
    pts = [start]
    for a in heading + rng.normal(0, 0.55, steps):
        pts.append(pts[-1] + length / steps * np.array([math.cos(a), math.sin(a)]))
    return np.array(pts)


def _draw_cracks(draw: ImageDraw.ImageDraw, shape: Silhouette, rng: np.random.Generator) -> None:
    """Dark jagged cracks, bleeding rust, from inside the part towards its middle."""
    width = int(np.clip(shape.extent * rng.uniform(0.035, 0.05), 7, 14))
    dark = (22, 18, 16, 245)
    for start in shape.points(rng, int(rng.integers(2, 4))):
        to_centre = shape.centre - start
        heading = math.atan2(to_centre[1], to_centre[0]) + rng.normal(0, 0.6)
        path = _jagged(start, heading, shape.extent * rng.uniform(0.5, 0.85), rng)
        draw.line(
            path.ravel().tolist(), fill=_rgba(RUST, 110), width=int(width * 2.2), joint="curve"
        )
        edge = (path + width * 0.4).ravel().tolist()
        draw.line(edge, fill=(235, 230, 220, 90), width=max(2, width // 3), joint="curve")
        draw.line(path.ravel().tolist(), fill=dark, width=width, joint="curve")
        for _ in range(int(rng.integers(1, 3))):
            root = path[int(rng.integers(2, len(path) - 1))]
            turn = heading + rng.choice([-1, 1]) * rng.uniform(0.6, 1.1)
            twig = _jagged(root, turn, shape.extent * rng.uniform(0.12, 0.25), rng)
            draw.line(
                twig.ravel().tolist(), fill=dark, width=max(5, int(width * 0.65)), joint="curve"
            )


def _blob(centre: np.ndarray, radius: float, rng: np.random.Generator) -> list[float]:
    k = int(rng.integers(6, 10))
    t = np.sort(rng.uniform(0, 2 * np.pi, k))
    r = radius * rng.uniform(0.5, 1.0, k)
    return (centre + np.stack([r * np.cos(t), r * np.sin(t)], 1)).ravel().tolist()


def _draw_wear(draw: ImageDraw.ImageDraw, shape: Silhouette, rng: np.random.Generator) -> None:
    """Chipped paint down to metal, rust or primer, and bunches of light scratches."""
    for c in shape.points(rng, int(rng.integers(5, 10))):
        colour = ((168, 168, 162), (120, 122, 125), (150, 138, 116))[rng.integers(3)]
        radius = shape.extent * rng.uniform(0.05, 0.1)
        draw.polygon(_blob(c, radius, rng), fill=_rgba(colour, 235))
    heading = rng.uniform(0, np.pi)
    width = max(3, int(shape.extent * 0.012))
    for c in shape.points(rng, int(rng.integers(8, 16))):
        a = heading + rng.normal(0, 0.25)
        d = shape.extent * rng.uniform(0.06, 0.16) * np.array([math.cos(a), math.sin(a)])
        tone = (232, 230, 222, 170) if rng.random() < 0.7 else (40, 38, 36, 150)
        draw.line([*(c - d), *(c + d)], fill=tone, width=width)


def _scuffs(rng: np.random.Generator, n: int) -> Image.Image:
    """A pale, patchy overlay: paint rubbed thin."""
    alpha = np.clip((_smooth(rng, 7, n // 8) - 0.45) * 500, 0, 110).astype(np.uint8)
    scuff = Image.new("RGBA", (n, n), (206, 200, 188, 0))
    scuff.putalpha(Image.fromarray(alpha, "L").resize((n, n), Image.BILINEAR))
    return scuff


def _surface_damage(layer: Image.Image, shape: Silhouette, worn: bool, rng) -> None:
    """Wear or cracks drawn over the part and clipped to its silhouette."""
    n = layer.size[0]
    over = _scuffs(rng, n) if worn else Image.new("RGBA", (n, n), HOLE)
    draw = ImageDraw.Draw(over, "RGBA")
    (_draw_wear if worn else _draw_cracks)(draw, shape, rng)
    over.putalpha(ImageChops.multiply(over.getchannel("A"), layer.getchannel("A")))
    layer.alpha_composite(over)


def _draw_leak(
    under: ImageDraw.ImageDraw,
    draw: ImageDraw.ImageDraw,
    shape: Silhouette,
    bbox,
    rng: np.random.Generator,
    n: int,
) -> None:
    """Oily or coolant drips running down the part (`draw`) into a puddle under it (`under`)."""
    fluid = _jitter(FLUIDS[rng.integers(len(FLUIDS))], rng, 0.15)
    shine = _rgba(_shade(fluid, 3.0), 80)
    x0, _, x1, y1 = bbox
    cx = rng.uniform(x0 + 0.3 * (x1 - x0), x1 - 0.3 * (x1 - x0))
    cy = min(y1 - 0.02 * n, 0.9 * n)
    rx = n * rng.uniform(0.15, 0.24)
    for _ in range(5):
        dx, dy, r = rng.normal(0, 0.35) * rx, rng.normal(0, 0.1) * rx, rx * rng.uniform(0.5, 1)
        under.ellipse(
            (cx + dx - r, cy + dy - 0.3 * r, cx + dx + r, cy + dy + 0.3 * r), fill=_rgba(fluid, 225)
        )
    under.ellipse((cx - 0.4 * rx, cy - 0.08 * rx, cx, cy), fill=shine)
    for x, y in shape.points(rng, int(rng.integers(3, 6)), top=0.55):
        x = 0.6 * x + 0.4 * cx
        w = max(3.0, n * rng.uniform(0.018, 0.03))
        end = min(y1 + rng.uniform(-0.05, 0.02) * n, n - 2)
        ys = np.linspace(y, max(end, y + 0.1 * n), 6)
        path = np.stack([x + rng.normal(0, 0.01 * n, 6).cumsum(), ys], 1)
        draw.line(path.ravel().tolist(), fill=_rgba(fluid, 230), width=int(w), joint="curve")
        draw.line((path + (w * 0.2, 0)).ravel().tolist(), fill=shine, width=max(1, int(w / 4)))
        bx, by = path[-1]
        draw.ellipse((bx - w, by - w, bx + w, by + 1.6 * w), fill=_rgba(fluid, 240))


# --------------------------------------------------------------------------- photo


def _pose(draw: ImageDraw.ImageDraw, rng: np.random.Generator, n: int, family: str) -> Pen:
    fill = rng.uniform(0.45, 0.9)
    scale = fill * n / 2
    spin = SPIN.get(family, DEFAULT_SPIN)
    angle = math.radians(rng.uniform(-spin, spin))
    room = (1 - fill) * n / 2 * 0.9
    cx, cy = n / 2 + rng.uniform(-room, room, 2)
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return Pen(draw, np.array([[c, -s, cx], [s, c, cy]]))


def _cast_shadow(canvas: Image.Image, shape: Silhouette, rng: np.random.Generator) -> None:
    n = canvas.size[0]
    small = Image.fromarray(shape.coarse.astype(np.uint8) * 255, "L")
    shifted = Image.new("L", small.size, 0)
    shifted.paste(small, tuple(int(x) for x in rng.integers(-1, 4, 2)))
    blurred = shifted.filter(ImageFilter.BoxBlur(1.5)).resize((n, n), Image.BILINEAR)
    strength = rng.uniform(0.3, 0.6)
    canvas.paste((16, 14, 12), None, blurred.point([int(a * strength) for a in range(256)]))


def _ghost(canvas: Image.Image, part: Image.Image, rng: np.random.Generator) -> None:
    """A faint shifted copy of the part: the double edge of something rattling."""
    n = canvas.size[0]
    a = rng.uniform(0, 2 * np.pi)
    d = n * rng.uniform(0.022, 0.035)
    offset = (int(d * math.cos(a)), int(d * math.sin(a)))
    mask = part.getchannel("A").point([int(v * 0.42) for v in range(256)])
    canvas.paste(part.convert("RGB"), offset, mask)


def _photograph(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Blur, lighting gradient, vignette, colour temperature, contrast and sensor noise."""
    n = image.size[0]
    if rng.random() < 0.5:
        m = int(n * rng.uniform(0.55, 0.85))
        image = image.resize((m, m), Image.BILINEAR).resize((n, n), Image.BILINEAR)
    xx, yy = _grid(n)
    a = rng.uniform(0, 2 * np.pi)
    slope = rng.uniform(0, 0.2)
    light = rng.uniform(0.85, 1.1) * (1 + slope * (math.cos(a) * xx + math.sin(a) * yy))
    light *= 1 - rng.uniform(0, 0.15) * (xx * xx + yy * yy)
    warm = rng.uniform(-0.06, 0.06)
    contrast = rng.uniform(0.9, 1.1)
    gains = np.array([1 + warm, 1.0, 1 - warm], np.float32) * np.float32(contrast)
    pixels = np.asarray(image, np.float32) - np.float32(128)
    pixels *= gains
    pixels += np.float32(128) + rng.standard_normal((n, n, 1), dtype=np.float32) * np.float32(
        rng.uniform(1.5, 7.0)
    )
    pixels *= light[..., None]
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def render_image(concept: Concept, rng: np.random.Generator, size: int = 224) -> Image.Image:
    """One RGB `size` x `size` inspection photo of `concept`, drawn from `rng` alone."""
    canvas = _background(rng, size, concept.family)
    layer = Image.new("RGBA", (2 * size, 2 * size), HOLE)
    part = _new_part(concept.family, concept.condition, rng)
    pen = _pose(ImageDraw.Draw(layer), rng, 2 * size, concept.family)
    FAMILY_DRAWERS[concept.family](pen, part)
    _draw_fasteners(part)
    shape = Silhouette(layer.getchannel("A"))
    if concept.condition in ("worn", "cracked"):
        _surface_damage(layer, shape, concept.condition == "worn", rng)
    _cast_shadow(canvas, shape, rng)
    small = layer.reduce(2)
    if concept.condition == "leaking":
        leak = Image.new("RGBA", (size, size), HOLE)
        half = Silhouette(small.getchannel("A"), factor=4)
        bbox = small.getchannel("A").getbbox() or (0, 0, size, size)
        _draw_leak(
            ImageDraw.Draw(canvas, "RGBA"), ImageDraw.Draw(leak, "RGBA"), half, bbox, rng, size
        )
        small.alpha_composite(leak)
    canvas.paste(small, (0, 0), small)
    if concept.condition == "loose":
        _ghost(canvas, small, rng)
    return _photograph(canvas, rng)
