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

Layout: `geometry` (rotations and directions), `surfaces` (parametric surfaces and their
area-uniform samplers), `model` (surfaces placed into a part, tagged by sub-part, sampled
area-weighted), `families` (one model per family), `conditions` (one geometric cue per
condition) and `scanner` (the scanner nuisance, and `make_cloud`, which puts them together).
"""

from core.world.clouds.scanner import make_cloud

__all__ = ["make_cloud"]
