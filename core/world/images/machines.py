"""Drawers for the rotating machinery families: bearing, gear, pump, motor, conveyor, fan.

Each draws the family's structure with a `Pen` in the part's local frame (about 2 units
across) and shows misalignment (a tilted or offset sub-part) and looseness (a shifted or
missing piece) in its own way.
"""

from __future__ import annotations

import math

import numpy as np

from core.world.images.part import Part
from core.world.images.pen import GAP, HOLE, RGB, Pen, jitter, shade

RUBBER: RGB = (38, 38, 40)
CARDBOARD: RGB = (176, 136, 88)


def bearing(pen: Pen, p: Part) -> None:
    rng = p.rng
    pen.circle(0, 0, 1.0, p.body, p.dark, 0.02)
    pen.ring(0, 0, 0.92, 0.03, shade(p.body, 1.2))
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
        inner.circle(u, v, rb, p.metal, shade(p.metal, 0.45), 0.012)
        inner.circle(u - rb * 0.3, v - rb * 0.3, rb * 0.35, shade(p.metal, 1.3))
    if p.is_("loose"):
        inner = inner.sub(du=rng.uniform(0.05, 0.08) * p.sign(), dv=0.05 * p.sign())
    inner.circle(0, 0, 0.55, shade(p.body, 1.12), p.dark, 0.02)
    inner.ring(0, 0, 0.45, 0.025, shade(p.body, 0.8))
    inner.circle(0, 0, 0.34, HOLE, p.dark, 0.02)


def _gear_outline(n: int, depth: float) -> np.ndarray:
    pitch = 2 * np.pi / n
    pts = []
    for k in range(n):
        a = k * pitch
        for da, r in ((-0.28, 1 - depth), (-0.14, 1.0), (0.14, 1.0), (0.28, 1 - depth)):
            pts.append((r * math.cos(a + da * pitch), r * math.sin(a + da * pitch)))
    return np.array(pts)


def gear(pen: Pen, p: Part) -> None:
    rng = p.rng
    n = int(rng.integers(14, 28))
    depth = rng.uniform(0.11, 0.16)
    pen.poly(_gear_outline(n, depth), p.body, p.dark, 0.015)
    rim = 1 - depth - 0.1
    pen.ring(0, 0, rim, 0.025, shade(p.body, 0.7))
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
    hub.circle(0, 0, 0.33, shade(p.body, 1.12), p.dark, 0.02)
    hub.circle(0, 0, 0.18, GAP)
    if p.is_("loose"):
        hub.circle(0.055, 0.045, 0.1, p.metal, shade(p.metal, 0.5), 0.012)
    else:
        hub.circle(0, 0, 0.16, p.metal, shade(p.metal, 0.5), 0.012)
        hub.rect(-0.035, -0.17, 0.035, -0.12, shade(p.metal, 0.7))
    p.fastener(hub, 0.25, 0.0, 0.045)


def _spiral(cx: float, cy: float, r0: float, r1: float) -> np.ndarray:
    t = np.linspace(0, 2 * np.pi, 48)
    r = r0 + (r1 - r0) * t / (2 * np.pi)
    return np.stack([cx + r * np.cos(t), cy - r * np.sin(t)], 1)


def pump(pen: Pen, p: Part) -> None:
    rng = p.rng
    cx, cy = -0.05, 0.05
    pen.rect(-0.95, 0.72, 0.95, 0.86, p.trim, shade(p.trim, 0.5))
    for u in (-0.8, -0.45, 0.45, 0.8):
        p.fastener(pen, u, 0.79, 0.045)
    pen.poly([(-0.32, 0.72), (0.32, 0.72), (0.18, 0.4), (-0.18, 0.4)], shade(p.body, 0.8), p.dark)
    inlet = pen.sub(dv=0.09 * p.sign()) if p.is_("misaligned") else pen
    inlet.cylinder(-0.88, cy - 0.16, cx - 0.3, cy + 0.16, p.body)
    inlet.rect(-0.98, cy - 0.27, -0.86, cy + 0.27, p.trim, shade(p.trim, 0.5))
    p.fastener(inlet, -0.92, cy - 0.19, 0.04)
    p.fastener(inlet, -0.92, cy + 0.19, 0.04)
    out = pen
    if p.is_("misaligned"):
        out = pen.sub(angle=rng.uniform(14, 24) * p.sign(), pivot=(cx + 0.53, cy - 0.35))
    out.cylinder(cx + 0.4, cy - 0.8, cx + 0.66, cy - 0.2, p.body, along_u=False)
    lift = rng.uniform(0.05, 0.08) if p.is_("loose") else 0.0
    flange = out.sub(dv=-lift, angle=8 * p.sign() * (lift > 0), pivot=(cx + 0.53, cy - 0.84))
    flange.rect(cx + 0.3, cy - 0.9, cx + 0.76, cy - 0.8, p.trim, shade(p.trim, 0.5))
    p.fastener(flange, cx + 0.36, cy - 0.85, 0.035)
    p.fastener(flange, cx + 0.7, cy - 0.85, 0.035)
    pen.poly(_spiral(cx, cy, 0.44, 0.66), p.body, p.dark, 0.018)
    pen.line(_spiral(cx, cy, 0.36, 0.52)[4:40], shade(p.body, 0.75), 0.025)
    pen.circle(cx, cy, 0.28, shade(p.body, 1.15), p.dark, 0.015)
    for k in range(4):
        a = np.pi / 4 + k * np.pi / 2
        p.fastener(pen, cx + 0.21 * math.cos(a), cy + 0.21 * math.sin(a), 0.035)
    pen.circle(cx, cy, 0.08, p.metal, shade(p.metal, 0.5))


def motor(pen: Pen, p: Part) -> None:
    rng = p.rng
    pen.rect(-0.62, 0.44, 0.4, 0.52, p.trim, shade(p.trim, 0.5))
    for u in (-0.5, 0.28):
        p.fastener(pen, u, 0.48, 0.04)
    shaft = pen
    if p.is_("misaligned"):
        shaft = pen.sub(angle=rng.uniform(18, 28) * p.sign(), pivot=(0.5, 0.0))
    shaft.cylinder(0.45, -0.075, 0.86, 0.075, p.metal)
    shaft.rect(0.6, -0.075, 0.76, -0.035, shade(p.metal, 0.5))
    shaft.cylinder(0.8, -0.15, 0.97, 0.15, shade(p.metal, 0.85))
    pen.poly([(-0.35, 0.3), (-0.1, 0.3), (-0.05, 0.45), (-0.4, 0.45)], p.body, p.dark)
    pen.poly([(0.05, 0.3), (0.3, 0.3), (0.35, 0.45), (0.0, 0.45)], p.body, p.dark)
    pen.cylinder(-0.86, -0.33, -0.6, 0.33, shade(p.body, 0.9))
    for v in np.linspace(-0.24, 0.24, 5):
        pen.line([(-0.84, v), (-0.64, v)], GAP, 0.025)
    pen.cylinder(-0.62, -0.38, 0.36, 0.38, p.body)
    for v in np.linspace(-0.3, 0.3, 7):
        pen.line([(-0.6, v), (0.34, v)], shade(p.body, 0.6), 0.03)
    pen.cylinder(0.34, -0.31, 0.5, 0.31, shade(p.body, 1.05))
    lid = pen
    if p.is_("loose"):
        lid = pen.sub(dv=-0.08, angle=rng.uniform(8, 15) * p.sign(), pivot=(-0.07, -0.56))
    pen.rect(-0.24, -0.52, 0.1, -0.38, p.body, p.dark)
    lid.rect(-0.28, -0.6, 0.14, -0.52, shade(p.body, 1.1), p.dark)
    for u in (-0.22, 0.08):
        p.fastener(lid, u, -0.56, 0.025)
    pen.rect(0.1, -0.48, 0.2, -0.42, RUBBER)


def conveyor(pen: Pen, p: Part) -> None:
    rng = p.rng
    tilt = rng.uniform(0.1, 0.15) * p.sign() if p.is_("misaligned") else 0.0
    left, right = np.array([-0.78, -0.2]), np.array([0.78, -0.2 + tilt])
    lift = rng.uniform(0.07, 0.11) if p.is_("loose") else 0.0
    lifted_leg = int(rng.integers(2))
    for k, u in enumerate((-0.6, 0.6)):
        bottom = 0.78 - (lift if k == lifted_leg else 0.0)
        pen.rect(u - 0.035, -0.1, u + 0.035, bottom, p.trim, shade(p.trim, 0.5))
        pen.rect(u - 0.11, bottom, u + 0.11, bottom + 0.04, p.trim, shade(p.trim, 0.5))
        p.fastener(pen, u - 0.075, bottom + 0.02, 0.025)
        p.fastener(pen, u + 0.075, bottom + 0.02, 0.025)
    pen.line([(-0.6, 0.6), (0.6, 0.05)], p.trim, 0.03)
    for radius, colour in ((0.21, RUBBER), (0.155, p.body)):
        pen.poly(_capsule(left, right, radius), colour, shade(colour, 0.5), 0.012)
    pen.line([left + (0.3, 0.08), right + (-0.3, 0.08)], shade(p.body, 0.7), 0.02)
    for c in (left, right):
        pen.circle(c[0], c[1], 0.12, p.metal, shade(p.metal, 0.45), 0.012)
        pen.circle(c[0], c[1], 0.04, shade(p.metal, 0.5))
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    belt = pen.sub(angle=angle, pivot=tuple(left))
    u = -0.7
    for _ in range(int(rng.integers(2, 4))):
        w, h = rng.uniform(0.18, 0.3), rng.uniform(0.14, 0.26)
        if u + w > 0.75:
            break
        box = jitter(CARDBOARD, rng, 0.12)
        belt.rect(u, -0.41 - h, u + w, -0.41, box, shade(box, 0.55))
        belt.line([(u + w / 2, -0.41 - h), (u + w / 2, -0.41)], shade(box, 1.25), 0.03)
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


def fan(pen: Pen, p: Part) -> None:
    rng = p.rng
    framed = rng.random() < 0.5
    if framed:
        pen.rect(-1, -1, 1, 1, p.trim, shade(p.trim, 0.5))
        pen.circle(0, 0, 0.9, HOLE, shade(p.trim, 0.6), 0.02)
    for k in range(4):
        a = np.pi / 4 + k * np.pi / 2
        u, v = 1.0 * math.cos(a), 1.0 * math.sin(a)
        if framed:
            u, v = 0.86 * np.sign(u), 0.86 * np.sign(v)
        else:
            pen.circle(u, v, 0.09, p.trim, shade(p.trim, 0.5))
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
        rotor.poly(shape, blade_colour, shade(blade_colour, 0.45), 0.015)
    rotor.circle(0, 0, 0.22, shade(p.body, 0.7), shade(p.body, 0.4), 0.015)
    rotor.circle(0, 0, 0.1, p.metal, shade(p.metal, 0.5))
    if not framed:
        pen.ring(0, 0, 0.94, 0.08, p.trim)
        pen.ring(0, 0, 0.55, 0.02, shade(p.trim, 0.8))
        for k in range(4):
            a = turn / 3 + k * np.pi / 2
            pen.line(
                [
                    (0.24 * math.cos(a), 0.24 * math.sin(a)),
                    (0.92 * math.cos(a), 0.92 * math.sin(a)),
                ],
                shade(p.trim, 0.8),
                0.02,
            )
