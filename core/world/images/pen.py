"""Drawing primitives: colours, colour arithmetic, and a pen that draws a part's
local frame through an affine map to pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PIL import ImageDraw

RGB = tuple[int, int, int]
Point = tuple[float, float]

HOLE = (0, 0, 0, 0)  # drawing this on the part layer punches a see-through hole
GAP: RGB = (18, 16, 15)


def mix(a: Sequence[int], b: Sequence[int], t: float) -> RGB:
    return tuple(int(round(x + (y - x) * t)) for x, y in zip(a, b))  # type: ignore[return-value]


def shade(c: Sequence[int], k: float) -> RGB:
    return tuple(min(255, max(0, int(x * k))) for x in c)  # type: ignore[return-value]


def jitter(c: Sequence[int], rng: np.random.Generator, amount: float) -> RGB:
    gains = 1.0 + rng.uniform(-amount, amount, 3)
    return tuple(int(min(255, max(0, x * g))) for x, g in zip(c, gains))  # type: ignore[return-value]


def rgba(c: Sequence[int], a: int) -> tuple[int, int, int, int]:
    return (c[0], c[1], c[2], a)


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
        self.rect(u0, v0, u1, v1, colour, shade(colour, 0.5))
        bands = ((0.12, 0.38, 1.28), (0.7, 0.95, 0.72))
        for a, b, k in bands:
            if along_u:
                self.rect(u0, v0 + a * (v1 - v0), u1, v0 + b * (v1 - v0), shade(colour, k))
            else:
                self.rect(u0 + a * (u1 - u0), v0, u0 + b * (u1 - u0), v1, shade(colour, k))
