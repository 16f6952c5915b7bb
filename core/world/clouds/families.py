"""One model per family, with per-instance proportions drawn from the generator; each
names the sub-part that misalignment tilts and looseness slides.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.world.clouds.geometry import TAU, TO_X, TO_Y, Z, align, circle, rot
from core.world.clouds.model import Model, Motion
from core.world.clouds.surfaces import (
    bead,
    blade,
    box,
    cylinder,
    disc,
    gear_face,
    gear_rim,
    helix,
    pattern,
    prism,
    ring,
    sphere,
    torus,
    volute,
)


def _bearing(rng: np.random.Generator) -> Model:
    """Outer and inner rings with a ring of balls between, standing on edge (axis y)."""
    m = Model()
    pitch, ball = rng.uniform(0.6, 0.7), rng.uniform(0.09, 0.13)
    width = rng.uniform(0.26, 0.42)
    outer_in, inner_out = pitch + 0.55 * ball, pitch - 0.55 * ball
    m.add(ring(outer_in, outer_in + rng.uniform(0.12, 0.2), width), rot=TO_Y)
    m.add(ring(inner_out - rng.uniform(0.1, 0.18), inner_out, width), "inner", rot=TO_Y)
    balls = circle(pitch, int(rng.integers(7, 13)), rng.uniform(0.0, TAU))
    m.add(pattern(sphere(ball), balls), rot=TO_Y)
    m.tilt = Motion(("inner",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = Motion(("inner",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _gear(rng: np.random.Generator) -> Model:
    """Spur gear with hub and bore on a shaft with a collar (axis y)."""
    m = Model()
    teeth, r_root = int(rng.integers(12, 29)), rng.uniform(0.72, 0.85)
    depth, width = rng.uniform(0.1, 0.16), rng.uniform(0.14, 0.26)
    bore = rng.uniform(0.1, 0.15)
    hub, hub_w = bore + rng.uniform(0.1, 0.18), width * rng.uniform(1.6, 2.2)
    m.add(gear_rim(teeth, depth, r_root, width), "gear", rot=TO_Y)
    for z in (width / 2, -width / 2):
        m.add(gear_face(teeth, depth, r_root, hub, z), "gear", rot=TO_Y)
    m.add(ring(bore, hub, hub_w), "gear", rot=TO_Y)
    length = rng.uniform(1.0, 1.6)
    m.add(cylinder(bore, length), rot=TO_Y, at=(0.0, rng.uniform(-0.2, 0.2), 0.0))
    collar_w = rng.uniform(0.08, 0.14)
    m.add(ring(bore, hub, collar_w), rot=TO_Y, at=(0.0, -(hub_w + collar_w) / 2, 0.0))
    m.tilt = Motion(("gear",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = Motion(("gear",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _pump(rng: np.random.Generator) -> Model:
    """Volute casing (in the xz plane) with an axial inlet, a tangential outlet, a base."""
    m = Model()
    r0, r1 = rng.uniform(0.42, 0.52), rng.uniform(0.62, 0.75)
    t0, t1 = rng.uniform(0.1, 0.14), rng.uniform(0.26, 0.34)
    casing = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])  # local z -> -y
    m.add(volute(r0, r1, t0, t1), rot=casing)
    m.add(disc(0.0, r0, -t0, -1.0), rot=casing)
    inlet_r, inlet_l = rng.uniform(0.16, 0.24), rng.uniform(0.45, 0.8)
    m.add(disc(inlet_r, r0, t0), rot=casing)
    inlet = [cylinder(inlet_r, inlet_l), cylinder(0.8 * inlet_r, inlet_l, sign=-1.0)]
    y = -(t0 + inlet_l / 2)
    m.add(inlet, "inlet", rot=TO_Y, at=(0.0, y, 0.0))
    flange_r = inlet_r * 1.5
    m.add(ring(inlet_r, flange_r, 0.07), "inlet", rot=TO_Y, at=(0.0, y - inlet_l / 2, 0.0))
    outlet_l = rng.uniform(0.35, 0.6)
    m.add(cylinder(0.8 * t1, outlet_l), at=(r1, 0.0, outlet_l / 2))
    m.add(ring(0.8 * t1, 1.3 * t1, 0.07), at=(r1, 0.0, outlet_l))
    floor = -(r0 + 0.75 * (r1 - r0) + t0 + 0.75 * (t1 - t0)) - 0.15
    m.add(box(2.0 * r1 * 1.1, 2.4 * t1, 0.08), at=(0.0, 0.0, floor))
    m.add(box(0.5 * r1, 1.2 * t1, 0.2), at=(0.0, 0.0, floor + 0.12))
    m.tilt = Motion(("inlet",), (0.0, -t0, 0.0), (0.0, -1.0, 0.0))
    m.slide = Motion(("inlet",), (0.0, -t0, 0.0), (0.0, -1.0, 0.0))
    return m


def _valve(rng: np.random.Generator) -> Model:
    """Globe valve: body, two flanged pipe stubs along x, stem and handwheel on top."""
    m = Model()
    body, stub_r, stub_l = rng.uniform(0.3, 0.4), rng.uniform(0.13, 0.19), rng.uniform(0.45, 0.7)
    m.add(sphere(body))
    for side, group in ((-1.0, "main"), (1.0, "stub")):
        x = side * (0.8 * body + stub_l / 2)
        m.add(cylinder(stub_r, stub_l), group, rot=TO_X, at=(x, 0.0, 0.0))
        flange = ring(stub_r, 1.7 * stub_r, 0.08)
        m.add(flange, group, rot=TO_X, at=(x + side * stub_l / 2, 0.0, 0.0))
    bonnet_h, seat = rng.uniform(0.15, 0.25), 0.95 * body
    m.add(ring(0.0, 0.5 * body, bonnet_h), "stem", at=(0.0, 0.0, seat + bonnet_h / 2))
    top = seat + bonnet_h
    stem_l, wheel = rng.uniform(0.35, 0.6), rng.uniform(0.28, 0.42)
    m.add(cylinder(0.045, stem_l), "stem", at=(0.0, 0.0, top + stem_l / 2))
    m.add(torus(wheel, 0.035), "stem", at=(0.0, 0.0, top + stem_l))
    spokes = circle(1.0, int(rng.integers(3, 6)), rng.uniform(0.0, TAU))
    turns = np.array([align(d) for d in spokes])
    spoke = pattern(cylinder(0.02, wheel), wheel / 2 * spokes, turns)
    m.add(spoke, "stem", at=(0.0, 0.0, top + stem_l))
    m.tilt = Motion(("stub",), (0.8 * body, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = Motion(("stem",), (0.0, 0.0, seat), (0.0, 0.0, 1.0))
    return m


def _pipe(rng: np.random.Generator) -> Model:
    """Two pipe sections along x meeting at a bolted flange joint."""
    m = Model()
    r, half = rng.uniform(0.18, 0.3), rng.uniform(1.0, 1.6)
    flange_r, thick = r * rng.uniform(1.6, 2.0), rng.uniform(0.06, 0.1)
    bolts = int(rng.integers(6, 11))
    bolt_at = r + 0.6 * (flange_r - r)
    for side, group in ((-1.0, "main"), (1.0, "b")):
        m.add(cylinder(r, half), group, rot=TO_X, at=(side * half / 2, 0.0, 0.0))
        m.add(ring(r, flange_r, thick), group, rot=TO_X, at=(side * thick / 2, 0.0, 0.0))
        heads = circle(bolt_at, bolts, np.pi / bolts) + (0.0, 0.0, side * (thick + 0.03))
        m.add(pattern(prism(6, 0.045, 0.06), heads), group, rot=TO_X)
    m.tilt = Motion(("b",), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = Motion(("b",), (0.0, 0.0, 0.0), (1.0, 0.0, 0.0))
    return m


def _motor(rng: np.random.Generator) -> Model:
    """Finned motor body along x with shaft, fan cowl, terminal box and feet."""
    m = Model()
    radius, length = rng.uniform(0.38, 0.5), rng.uniform(1.0, 1.4)
    m.add(cylinder(radius, length), rot=TO_X)
    m.add(disc(0.0, radius, length / 2), rot=TO_X)
    fins, fin_h = int(rng.integers(8, 15)), rng.uniform(0.06, 0.11)
    turns = np.array([rot((1.0, 0.0, 0.0), a) for a in np.linspace(-0.8, 0.8, fins) * np.pi])
    m.add(pattern(box(0.9 * length, 0.025, fin_h), turns[:, :, 2] * (radius + fin_h / 2), turns))
    shaft_l, shaft_r = rng.uniform(0.45, 0.7), rng.uniform(0.08, 0.11)
    shaft = [cylinder(shaft_r, shaft_l), disc(0.0, shaft_r, shaft_l / 2)]
    m.add(shaft, "shaft", rot=TO_X, at=(length / 2 + shaft_l / 2, 0.0, 0.0))
    cowl_l = rng.uniform(0.22, 0.35)
    cowl = [cylinder(radius + fin_h, cowl_l), disc(0.0, radius + fin_h, -cowl_l / 2, -1.0)]
    m.add(cowl, "cowl", rot=TO_X, at=(-(length + cowl_l) / 2, 0.0, 0.0))
    terminal = rng.uniform(0.25, 0.35)
    m.add(box(terminal, terminal, 0.2), at=(0.1 * length, 0.0, radius + fin_h + 0.1))
    for x in (-0.3 * length, 0.3 * length):
        m.add(box(0.14, 1.8 * radius, 0.08), at=(x, 0.0, -radius - 0.12))
    m.tilt = Motion(("shaft",), (length / 2, 0.0, 0.0), (1.0, 0.0, 0.0))
    m.slide = Motion(("cowl",), (-length / 2, 0.0, 0.0), (-1.0, 0.0, 0.0))
    return m


def _conveyor(rng: np.random.Generator) -> Model:
    """Flat belt along x between two end rollers, standing on four legs."""
    m = Model()
    length, width = rng.uniform(2.4, 3.2), rng.uniform(0.5, 0.8)
    height, roller = rng.uniform(0.5, 0.8), rng.uniform(0.12, 0.17)
    axle = height - roller
    m.add(box(length, width, 2.0 * roller), at=(0.0, 0.0, axle))
    for side, group in ((-1.0, "main"), (1.0, "roller")):
        at = (side * length / 2, 0.0, axle)
        m.add(ring(0.0, roller, 1.2 * width), group, rot=TO_Y, at=at)
        m.add(cylinder(0.035, 1.7 * width), group, rot=TO_Y, at=at)
    leg_h = axle - roller
    for x in (-0.4 * length, 0.4 * length):
        for y in (-0.42 * width, 0.42 * width):
            m.add(box(0.05, 0.05, leg_h), at=(x, y, leg_h / 2))
    pivot = (length / 2, 0.0, axle)
    m.tilt = Motion(("roller",), pivot, (0.0, 1.0, 0.0), hinge=(0.0, 0.0, 1.0))
    m.slide = Motion(("roller",), pivot, (0.0, 1.0, 0.0))
    return m


def _fan(rng: np.random.Generator) -> Model:
    """Axial fan (axis y): hub and twisted blades inside guard rings, motor, stand."""
    m = Model()
    guard, gap = 1.0, rng.uniform(0.12, 0.2)
    for y in (-gap, gap):
        m.add(torus(guard, 0.03), rot=TO_Y, at=(0.0, y, 0.0))
    hub, tip = rng.uniform(0.14, 0.2), rng.uniform(0.78, 0.88)
    chord, pitch = rng.uniform(0.25, 0.4), rng.uniform(0.35, 0.7)
    m.add(ring(0.0, hub, 0.22), "rotor", rot=TO_Y)
    blades = int(rng.integers(3, 8))
    turns = np.array([rot(Z, a) for a in TAU * np.arange(blades) / blades + rng.uniform(0, TAU)])
    rotor = pattern(blade(hub, tip, chord, pitch), np.zeros((blades, 3)), turns)
    m.add(rotor, "rotor", rot=TO_Y)
    m.add(ring(0.0, 0.2, 0.3), rot=TO_Y, at=(0.0, -gap - 0.15, 0.0))
    post = rng.uniform(1.2, 1.6)
    m.add(cylinder(0.04, post), at=(0.0, -gap - 0.15, -post / 2))
    m.add(ring(0.0, rng.uniform(0.3, 0.45), 0.05), at=(0.0, -gap - 0.15, -post))
    m.tilt = Motion(("rotor",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    m.slide = Motion(("rotor",), (0.0, 0.0, 0.0), (0.0, 1.0, 0.0))
    return m


def _weld(rng: np.random.Generator) -> Model:
    """Two plates welded along a seam on y: a butt joint or a T joint, rippled bead."""
    m = Model()
    thick, width, seam = rng.uniform(0.07, 0.12), rng.uniform(0.7, 1.0), rng.uniform(1.4, 2.0)
    radius, ripple = rng.uniform(0.07, 0.1), rng.uniform(0.06, 0.1)
    if rng.random() < 0.5:  # butt joint: both plates flat, bead over the seam
        m.add(box(width, seam, thick), at=(-width / 2 - 0.02, 0.0, 0.0))
        m.add(box(width, seam, thick), "b", at=(width / 2 + 0.02, 0.0, 0.0))
        m.add(bead(seam, radius, ripple, 0.0, np.pi), at=(0.0, 0.0, thick / 2))
        m.add(bead(seam, 0.6 * radius, ripple, np.pi, TAU), at=(0.0, 0.0, -thick / 2))
        pivot, axis = (0.02, 0.0, 0.0), (1.0, 0.0, 0.0)
    else:  # T joint: web standing on the base plate, fillet beads in both corners
        m.add(box(2.0 * width, seam, thick), at=(0.0, 0.0, 0.0))
        m.add(box(thick, seam, width), "b", at=(0.0, 0.0, thick / 2 + width / 2 + 0.02))
        for x, a0 in ((thick / 2, 0.0), (-thick / 2, 0.5 * np.pi)):
            m.add(bead(seam, 1.3 * radius, ripple, a0, a0 + 0.5 * np.pi), at=(x, 0.0, thick / 2))
        pivot, axis = (0.0, 0.0, thick / 2), (0.0, 0.0, 1.0)
    m.tilt = Motion(("b",), pivot, axis, hinge=(0.0, 1.0, 0.0))
    m.slide = Motion(("b",), pivot, axis)
    return m


def _bolt(rng: np.random.Generator) -> Model:
    """Hex bolt through a clamped plate, threaded shank, optional nut underneath."""
    m = Model()
    shank, head, head_h = rng.uniform(0.1, 0.14), rng.uniform(0.26, 0.34), rng.uniform(0.15, 0.22)
    plate_t, plate_r = rng.uniform(0.1, 0.15), rng.uniform(0.42, 0.55)
    has_nut = rng.random() < 0.5
    nut_h = rng.uniform(0.14, 0.2)
    length = plate_t + nut_h + rng.uniform(0.6, 1.0)
    m.add(ring(shank, plate_r, plate_t), at=(0.0, 0.0, -plate_t / 2))
    m.add(prism(6, head, head_h), "bolt", at=(0.0, 0.0, head_h / 2))
    m.add(cylinder(shank, length), "bolt", at=(0.0, 0.0, -length / 2))
    m.add(disc(0.0, shank, -length, -1.0), "bolt")
    pitch, threaded = rng.uniform(0.09, 0.13), 0.6 * length
    thread = helix(shank, 0.4 * pitch, pitch, threaded)
    m.add(thread, "bolt", at=(0.0, 0.0, threaded / 2 - length))
    if has_nut:
        m.add(prism(6, head, nut_h, bore=shank), "nut", at=(0.0, 0.0, -plate_t - nut_h / 2))
    m.tilt = Motion(("bolt", "nut"), (0.0, 0.0, -plate_t / 2), (0.0, 0.0, 1.0))
    if has_nut:
        m.slide = Motion(("nut",), (0.0, 0.0, -plate_t), (0.0, 0.0, -1.0))
    else:
        m.slide = Motion(("bolt",), (0.0, 0.0, 0.0), (0.0, 0.0, 1.0))
    return m


FAMILY_MODELS: dict[str, Callable[[np.random.Generator], Model]] = {
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
