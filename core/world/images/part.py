"""What a family drawer works with: the part's materials, its condition and randomness,
and the fasteners it registers, drawn at the end (a loose part loses or lifts some).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from core.world.images.pen import GAP, RGB, Pen, jitter, mix, shade

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
        return shade(self.body, 0.45)

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


def _faded(c: Sequence[int]) -> RGB:
    grey = sum(c) / 3
    return mix(mix(c, (grey, grey, grey), 0.55), (196, 190, 178), 0.3)


def new_part(family: str, condition: str, rng: np.random.Generator) -> Part:
    body = jitter(_material(family, rng), rng, 0.08)
    if rng.random() < 0.5:
        trim = shade(body, rng.uniform(0.65, 0.85))
    else:
        trim = jitter(MATERIALS[rng.integers(len(MATERIALS))], rng, 0.08)
    metal = jitter(METALS[rng.integers(len(METALS))], rng, 0.05)
    if condition == "worn":
        body, trim, metal = _faded(body), _faded(trim), mix(metal, (170, 165, 155), 0.4)
    return Part(rng, condition, body, trim, metal)


def _hexagon(u: float, v: float, r: float, turn: float) -> np.ndarray:
    t = turn + np.arange(6) * np.pi / 3
    return np.stack([u + r * np.cos(t), v + r * np.sin(t)], 1)


def _draw_fastener(pen: Pen, u: float, v: float, r: float, rng: np.random.Generator, metal) -> None:
    pen.poly(_hexagon(u, v, r, rng.uniform(0, np.pi)), metal, shade(metal, 0.4), 0.01)
    pen.circle(u - r * 0.15, v - r * 0.15, r * 0.35, shade(metal, 1.2))


def draw_fasteners(part: Part) -> None:
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
            pen.circle(u, v, r * 0.75, GAP, shade(part.metal, 0.55), 0.012)
        if i in missing:
            continue
        if i == lifted:
            a = rng.uniform(0, 2 * np.pi)
            u, v = u + 1.7 * r * math.cos(a), v + 1.7 * r * math.sin(a)
            pen.circle(u + r * 0.35, v + r * 0.35, r * 1.05, (20, 20, 20, 255))
        _draw_fastener(pen, u, v, r, rng, part.metal)
