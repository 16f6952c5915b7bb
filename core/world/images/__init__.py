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

Layout: `pen` (colour arithmetic and the Pen that draws in a part's local frame), `part`
(materials, the Part a drawer works with, fasteners), `machines` and `fittings` (one drawer
per family), `conditions` (wear, cracks, leaks, the loose ghost), `raster` (pixel grid,
value noise, the part's silhouette) and `scene` (background, pose, shadow, photograph, and
`render_image`, which puts them together).
"""

from core.world.images.scene import render_image

__all__ = ["render_image"]
