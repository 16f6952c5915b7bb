"""Drawers for the pipework and joint families: valve, pipe, weld, bolt.

Each draws the family's structure with a `Pen` in the part's local frame (about 2 units
across) and shows misalignment (a tilted or offset sub-part) and looseness (a shifted or
missing piece) in its own way.
"""

from __future__ import annotations

import numpy as np

from core.world.images.part import MATERIALS, Part
from core.world.images.pen import GAP, RGB, Pen, jitter, mix, shade


def valve(pen: Pen, p: Part) -> None:
    rng = p.rng
    right = pen.sub(dv=0.1 * p.sign()) if p.is_("misaligned") else pen
    for side, q in ((-1, pen), (1, right)):
        q.cylinder(side * 1.0, -0.15, side * 0.36, 0.15, p.metal)
        q.rect(side * 0.44, -0.31, side * 0.32, 0.31, p.trim, shade(p.trim, 0.5))
        q.rect(side * 1.0, -0.26, side * 0.92, 0.26, p.trim, shade(p.trim, 0.5))
        for v in (-0.22, 0.22):
            p.fastener(q, side * 0.38, v, 0.045)
    pen.ellipse(0, 0.02, 0.36, 0.32, p.body, p.dark, 0.018)
    pen.ellipse(-0.1, -0.06, 0.12, 0.1, shade(p.body, 1.2))
    pen.poly([(-0.17, -0.24), (0.17, -0.24), (0.12, -0.46), (-0.12, -0.46)], p.body, p.dark)
    pen.rect(-0.2, -0.3, 0.2, -0.24, shade(p.body, 0.8), p.dark)
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
    wheel.circle(0, -0.84, 0.05, shade(p.metal, 0.8), shade(p.metal, 0.4))


def pipe(pen: Pen, p: Part) -> None:
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
        q.rect(u0, -0.34, u1, 0.34, p.trim, shade(p.trim, 0.5))
        for v in (-0.26, 0.0, 0.26):
            p.fastener(q, (u0 + u1) / 2, v, 0.04)
    for side in (-1, 1):
        q = pen if side < 0 else right
        q.rect(side * 0.98, -0.3, side * 0.9, 0.3, p.trim, shade(p.trim, 0.5))


def weld(pen: Pen, p: Part) -> None:
    rng = p.rng
    right = pen
    if p.is_("misaligned"):
        right = pen.sub(dv=0.12 * p.sign(), angle=rng.uniform(6, 10) * p.sign(), pivot=(0, 0))
    gap = 0.05 if p.is_("loose") else 0.0
    for q, side in ((pen, -1), (right, 1)):
        q = q.sub(du=side * gap / 2)
        plate = shade(p.body, 1.0 if side < 0 else 0.9)
        q.rect(side * 1.0, -0.7, side * 0.01, 0.7, plate, shade(plate, 0.5), 0.015)
        q.rect(side * 0.99, -0.7, side * 0.93, 0.7, shade(plate, 1.15))
        for v in (-0.52, 0.52):
            p.fastener(q, side * 0.8, v, 0.05)
    pen.rect(-0.16, -0.7, 0.16, 0.7, mix(p.body, (176, 124, 62), 0.4))
    pen.rect(-0.11, -0.7, 0.11, 0.7, mix(p.body, (82, 86, 150), 0.4))
    bead = jitter((128, 126, 120), rng, 0.08)
    stop = (rng.uniform(-0.5, 0.1), 0.0)
    if p.is_("loose"):
        stop = (stop[0], stop[0] + rng.uniform(0.3, 0.45))
    pen.rect(-0.08, -0.72, 0.08, 0.72, bead, shade(bead, 0.5), 0.012)
    if stop[1]:
        pen.rect(-0.09, stop[0], 0.09, stop[1], shade(p.body, 0.7))
        pen.rect(-gap / 2 - 0.015, stop[0], gap / 2 + 0.015, stop[1], GAP)
    pitch = rng.uniform(0.045, 0.06)
    for v in np.arange(-0.68, 0.7, pitch):
        if stop[1] and stop[0] - 0.03 < v < stop[1]:
            continue
        arc = [(-0.075, v + 0.03), (-0.035, v), (0.035, v), (0.075, v + 0.03)]
        pen.line(arc, shade(bead, 1.35), 0.018)
        pen.line([(x, y + 0.02) for x, y in arc], shade(bead, 0.6), 0.012)


def bolt(pen: Pen, p: Part) -> None:
    rng, colour = p.rng, p.body
    loose = p.is_("loose")
    r = 0.14  # shank radius
    shank = pen
    if p.is_("misaligned"):
        shank = pen.sub(angle=rng.uniform(15, 24) * p.sign(), pivot=(0, 0.05))
    pen.cylinder(-r, -0.6, r, 0.08, colour, along_u=False)
    shank.cylinder(-r, 0.05, r, 0.84, colour, along_u=False)
    shank.poly(
        [(-r, 0.84), (r, 0.84), (r - 0.05, 0.9), (0.05 - r, 0.9)], colour, shade(colour, 0.5)
    )
    for v in np.arange(0.0, 0.82, 0.055):
        thread = [(-r, v), (r, v + 0.04)]
        (pen if v < 0.05 else shank).line(thread, shade(colour, 0.5), 0.02)
    washer = pen.sub(dv=0.08 * loose, angle=14 * p.sign() * loose, pivot=(0, -0.6))
    washer.rect(-0.38, -0.63, 0.38, -0.57, p.metal, shade(p.metal, 0.5))
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
        shade(colour, 0.8),
        shade(colour, 0.45),
        0.015,
    )
    pen.rect(-half * 0.45, v0 + 0.01, half * 0.45, v0 + h - 0.01, shade(colour, 1.18))
