"""Condition cues shared by every family, drawn over or around the finished part:
worn (scuffs, chipped paint, scratches), cracked (dark jagged cracks bleeding rust),
leaking (drips and a puddle) and loose (a faint double edge, as if rattling).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageChops, ImageDraw

from core.world.images.pen import HOLE, RGB, jitter, rgba, shade
from core.world.images.raster import Silhouette, smooth

FLUIDS: tuple[RGB, ...] = ((32, 25, 16), (28, 116, 110))  # dark oil, blue-green coolant
RUST = (178, 86, 30)


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
            path.ravel().tolist(), fill=rgba(RUST, 110), width=int(width * 2.2), joint="curve"
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
        draw.polygon(_blob(c, radius, rng), fill=rgba(colour, 235))
    heading = rng.uniform(0, np.pi)
    width = max(3, int(shape.extent * 0.012))
    for c in shape.points(rng, int(rng.integers(8, 16))):
        a = heading + rng.normal(0, 0.25)
        d = shape.extent * rng.uniform(0.06, 0.16) * np.array([math.cos(a), math.sin(a)])
        tone = (232, 230, 222, 170) if rng.random() < 0.7 else (40, 38, 36, 150)
        draw.line([*(c - d), *(c + d)], fill=tone, width=width)


def _scuffs(rng: np.random.Generator, n: int) -> Image.Image:
    """A pale, patchy overlay: paint rubbed thin."""
    alpha = np.clip((smooth(rng, 7, n // 8) - 0.45) * 500, 0, 110).astype(np.uint8)
    scuff = Image.new("RGBA", (n, n), (206, 200, 188, 0))
    scuff.putalpha(Image.fromarray(alpha, "L").resize((n, n), Image.BILINEAR))
    return scuff


def surface_damage(layer: Image.Image, shape: Silhouette, worn: bool, rng) -> None:
    """Wear or cracks drawn over the part and clipped to its silhouette."""
    n = layer.size[0]
    over = _scuffs(rng, n) if worn else Image.new("RGBA", (n, n), HOLE)
    draw = ImageDraw.Draw(over, "RGBA")
    (_draw_wear if worn else _draw_cracks)(draw, shape, rng)
    over.putalpha(ImageChops.multiply(over.getchannel("A"), layer.getchannel("A")))
    layer.alpha_composite(over)


def draw_leak(
    under: ImageDraw.ImageDraw,
    draw: ImageDraw.ImageDraw,
    shape: Silhouette,
    bbox,
    rng: np.random.Generator,
    n: int,
) -> None:
    """Oily or coolant drips running down the part (`draw`) into a puddle under it (`under`)."""
    fluid = jitter(FLUIDS[rng.integers(len(FLUIDS))], rng, 0.15)
    shine = rgba(shade(fluid, 3.0), 80)
    x0, _, x1, y1 = bbox
    cx = rng.uniform(x0 + 0.3 * (x1 - x0), x1 - 0.3 * (x1 - x0))
    cy = min(y1 - 0.02 * n, 0.9 * n)
    rx = n * rng.uniform(0.15, 0.24)
    for _ in range(5):
        dx, dy, r = rng.normal(0, 0.35) * rx, rng.normal(0, 0.1) * rx, rx * rng.uniform(0.5, 1)
        under.ellipse(
            (cx + dx - r, cy + dy - 0.3 * r, cx + dx + r, cy + dy + 0.3 * r), fill=rgba(fluid, 225)
        )
    under.ellipse((cx - 0.4 * rx, cy - 0.08 * rx, cx, cy), fill=shine)
    for x, y in shape.points(rng, int(rng.integers(3, 6)), top=0.55):
        x = 0.6 * x + 0.4 * cx
        w = max(3.0, n * rng.uniform(0.018, 0.03))
        end = min(y1 + rng.uniform(-0.05, 0.02) * n, n - 2)
        ys = np.linspace(y, max(end, y + 0.1 * n), 6)
        path = np.stack([x + rng.normal(0, 0.01 * n, 6).cumsum(), ys], 1)
        draw.line(path.ravel().tolist(), fill=rgba(fluid, 230), width=int(w), joint="curve")
        draw.line((path + (w * 0.2, 0)).ravel().tolist(), fill=shine, width=max(1, int(w / 4)))
        bx, by = path[-1]
        draw.ellipse((bx - w, by - w, bx + w, by + 1.6 * w), fill=rgba(fluid, 240))


def ghost(canvas: Image.Image, part: Image.Image, rng: np.random.Generator) -> None:
    """A faint shifted copy of the part: the double edge of something rattling."""
    n = canvas.size[0]
    a = rng.uniform(0, 2 * np.pi)
    d = n * rng.uniform(0.022, 0.035)
    offset = (int(d * math.cos(a)), int(d * math.sin(a)))
    mask = part.getchannel("A").point([int(v * 0.42) for v in range(256)])
    canvas.paste(part.convert("RGB"), offset, mask)
