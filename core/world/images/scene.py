"""The photo around the part: background and clutter, pose, shadow, and the camera's
blur, lighting and noise; `render_image` composes a whole inspection photo.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from core.world.concepts import Concept
from core.world.images.conditions import draw_leak, ghost, surface_damage
from core.world.images.fittings import bolt, pipe, valve, weld
from core.world.images.machines import bearing, conveyor, fan, gear, motor, pump
from core.world.images.part import Part, draw_fasteners, new_part
from core.world.images.pen import HOLE, RGB, Pen, jitter, mix, rgba, shade
from core.world.images.raster import Silhouette, grid, smooth

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


def _texture(rng: np.random.Generator, n: int, kind: int) -> np.ndarray:
    """A bench, floor, metal or backdrop texture as an n x n x 3 float array."""
    xx, yy = grid(n)
    if kind == 0:  # wooden workbench
        base = jitter((160, 112, 66), rng, 0.15)
        warp = smooth(rng, 3, n, rows=4)
        grain = np.sin(2 * np.pi * (yy * rng.uniform(8, 14) + 0.8 * warp))
        streaks = smooth(rng, 3, n, rows=n // 2) - 0.5
        value = 0.07 * grain + 0.16 * streaks + 0.1 * (smooth(rng, 3, n) - 0.5)
    elif kind == 1:  # concrete floor
        base = jitter((142, 140, 134), rng, 0.12)
        value = 0.28 * (smooth(rng, 6, n) - 0.5) + 0.12 * (smooth(rng, 24, n) - 0.5)
    elif kind == 2:  # brushed metal sheet
        base = jitter((132, 138, 146), rng, 0.1)
        value = 0.14 * (smooth(rng, 4, n, rows=n) - 0.5)
    elif kind == 3:  # painted floor
        base = jitter(((82, 112, 92), (96, 100, 108))[rng.integers(2)], rng, 0.12)
        value = 0.16 * (smooth(rng, 5, n) - 0.5)
    else:  # studio backdrop gradient
        base = jitter((int(rng.integers(70, 200)),) * 3, rng, 0.15)
        a = rng.uniform(0, 2 * np.pi)
        value = 0.22 * (math.cos(a) * xx + math.sin(a) * yy)
    base = mix(base, (sum(base) / 3,) * 3, BG_MUTE)
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
        tone = shade(mean, float(rng.choice([0.6, 0.75, 1.25, 1.4])))
        colour = rgba(tone, int(rng.integers(70, 160)))
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


def _photograph(image: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Blur, lighting gradient, vignette, colour temperature, contrast and sensor noise."""
    n = image.size[0]
    if rng.random() < 0.5:
        m = int(n * rng.uniform(0.55, 0.85))
        image = image.resize((m, m), Image.BILINEAR).resize((n, n), Image.BILINEAR)
    xx, yy = grid(n)
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


FAMILY_DRAWERS: dict[str, Callable[[Pen, Part], None]] = {
    "bearing": bearing,
    "gear": gear,
    "pump": pump,
    "valve": valve,
    "pipe": pipe,
    "motor": motor,
    "conveyor": conveyor,
    "fan": fan,
    "weld": weld,
    "bolt": bolt,
}


def render_image(concept: Concept, rng: np.random.Generator, size: int = 224) -> Image.Image:
    """One RGB `size` x `size` inspection photo of `concept`, drawn from `rng` alone."""
    canvas = _background(rng, size, concept.family)
    layer = Image.new("RGBA", (2 * size, 2 * size), HOLE)
    part = new_part(concept.family, concept.condition, rng)
    pen = _pose(ImageDraw.Draw(layer), rng, 2 * size, concept.family)
    FAMILY_DRAWERS[concept.family](pen, part)
    draw_fasteners(part)
    shape = Silhouette(layer.getchannel("A"))
    if concept.condition in ("worn", "cracked"):
        surface_damage(layer, shape, concept.condition == "worn", rng)
    _cast_shadow(canvas, shape, rng)
    small = layer.reduce(2)
    if concept.condition == "leaking":
        leak = Image.new("RGBA", (size, size), HOLE)
        half = Silhouette(small.getchannel("A"), factor=4)
        bbox = small.getchannel("A").getbbox() or (0, 0, size, size)
        draw_leak(
            ImageDraw.Draw(canvas, "RGBA"), ImageDraw.Draw(leak, "RGBA"), half, bbox, rng, size
        )
        small.alpha_composite(leak)
    canvas.paste(small, (0, 0), small)
    if concept.condition == "loose":
        ghost(canvas, small, rng)
    return _photograph(canvas, rng)
