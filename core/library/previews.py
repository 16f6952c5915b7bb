"""Small preview pictures of library items, for the result grids.

Ingest decodes every file once for the encoder anyway; while it has the decoded item in hand it
also draws a small RGB picture of it and caches it as a PNG in the library folder, so a search
can show its hits without decoding the originals again (a 10-minute recording or a 200k-point
scan takes far longer to read than a 256-pixel PNG).

`make_preview(modality, decoded, rate=None)` picks the drawing for the item's modality:

* "image" -> `image_preview(image)`: the picture itself, RGB, its longer side at most
  `PREVIEW_SIZE` (Lanczos, aspect kept). Smaller images are never enlarged: the grid scales
  its cells anyway, and upscaling would only make the cache bigger. Transparency is
  composited onto white.
* "audio" -> `waveform_preview(samples, rate)`: a `PREVIEW_SIZE` x `WAVE_HEIGHT` picture of
  the whole clip, one column per 1/256 of it, each column the min..max envelope of its
  samples around a mid-line, scaled so that the clip's peak reaches the top and bottom margins
  (the shape of a quiet clip and a loud one is the same). Peaks below `QUIET_PEAK` (-60 dBFS)
  are not scaled up to full height, so silence stays a flat line on the mid-line and faint
  room tone stays small.
* "3d" -> `cloud_preview(points)`: a `PREVIEW_SIZE` square orthographic view of the cloud,
  centred and scaled to the unit sphere, seen from a fixed oblique angle (`ELEVATION_DEG`
  above, `AZIMUTH_DEG` around the vertical y axis, the usual up axis of OBJ/ShapeNet
  files), each point a small square splat, the nearest point winning every pixel (a
  z-buffer) and shaded by depth: near points dark and saturated, far ones light.

Everything is plain numpy and Pillow (no matplotlib, no open3d), vectorised, and
deterministic: the same input always gives the same pixels, so the same PNG bytes. A 10-minute
48 kHz recording or a 200k-point cloud takes tens of milliseconds. Degenerate input (no
samples, silence, one point, identical or collinear points, NaN rows) gives a valid picture,
never a NaN or a numpy warning.

`write_preview(image, path)` saves the PNG atomically: a temporary file in the same folder,
then `os.replace`, so a reader never sees half a file and a failed write leaves nothing
behind. Previews are a cache, so the file is not fsynced: after a power cut a just-written preview
may be empty or missing, and can be redrawn from the original.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

PREVIEW_SIZE = 256  # width of every preview, and the longest side of image previews
WAVE_HEIGHT = 96  # height of audio previews
QUIET_PEAK = 1e-3  # -60 dBFS: quieter clips are not stretched to full height
ELEVATION_DEG = 30.0  # the 3D view looks down from this far above the horizon
AZIMUTH_DEG = 35.0  # ... and from this far around the vertical (y) axis

BACKGROUND = (248, 248, 250)
_MIDLINE = (208, 212, 220)
_WAVE = (52, 101, 164)
_NEAR = np.array([22, 60, 130], dtype=np.float64)  # dark, saturated blue
_FAR = np.array([184, 202, 228], dtype=np.float64)  # light, washed-out blue

_WAVE_MID = WAVE_HEIGHT // 2  # row of the mid-line (zero)
_WAVE_HALF = WAVE_HEIGHT // 2 - 4  # rows from the mid-line to full scale, leaving a margin
_CLOUD_MARGIN = 10  # pixels between the unit sphere's outline and the picture's edge
_BIG_CLOUD = 32_768  # clouds up to this many points get 3x3 splats, bigger ones 2x2
_DEPTH_LEVELS = 1 << 30  # depth quantisation of the z-buffer keys (30 bits over 32 of index)
_EMPTY = np.iinfo(np.int64).max


def image_preview(image: Image.Image) -> Image.Image:
    """An RGB copy of `image`, its longer side at most `PREVIEW_SIZE`, aspect kept.

    Large images are reduced with Lanczos (after a fast box pre-reduction for very large ones);
    images already within `PREVIEW_SIZE` keep their size. Transparent pixels become white.
    """
    width, height = image.size
    if width < 1 or height < 1:
        raise ValueError(f"cannot preview an empty image ({width}x{height})")
    if "A" in image.getbands() or "a" in image.getbands() or (
            image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    else:
        rgb = image.convert("RGB")
    scale = PREVIEW_SIZE / max(width, height)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def waveform_preview(samples: np.ndarray, rate: int) -> Image.Image:
    """An RGB `PREVIEW_SIZE` x `WAVE_HEIGHT` picture of a waveform's min/max envelope.

    `samples` is mono (N,) audio; a 2-D array is mixed down over its shorter axis (channels).
    The whole clip spans the width whatever its length: with at least `PREVIEW_SIZE` samples
    each column is the min..max of its share of them; shorter clips are linearly interpolated
    so each column joins two neighbouring points of the curve. The envelope is scaled to the
    clip's peak (at least `QUIET_PEAK`), so digital silence is one flat line on the mid-line.
    Non-finite samples flatten the columns they fall in. `rate` (Hz) must be positive; it does
    not change the picture.
    """
    if rate is None or rate <= 0:
        raise ValueError(f"sample rate must be positive, got {rate!r}")
    x = np.asarray(samples)
    if x.ndim == 2:
        x = x.mean(axis=1 if x.shape[0] >= x.shape[1] else 0, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples of shape (N,), got {x.shape}")
    lo, hi = _envelope(x, PREVIEW_SIZE)

    ok = np.isfinite(lo) & np.isfinite(hi)
    lo = np.where(ok, lo, 0.0)
    hi = np.where(ok, hi, 0.0)
    peak = max(float(np.abs(lo).max()), float(np.abs(hi).max()))
    gain = _WAVE_HALF / max(peak, QUIET_PEAK)
    top = _WAVE_MID - np.rint(np.clip(hi * gain, -_WAVE_HALF, _WAVE_HALF)).astype(np.int64)
    bottom = _WAVE_MID - np.rint(np.clip(lo * gain, -_WAVE_HALF, _WAVE_HALF)).astype(np.int64)

    pixels = np.empty((WAVE_HEIGHT, PREVIEW_SIZE, 3), dtype=np.uint8)
    pixels[:] = BACKGROUND
    pixels[_WAVE_MID] = _MIDLINE
    rows = np.arange(WAVE_HEIGHT)[:, None]
    pixels[(rows >= top[None, :]) & (rows <= bottom[None, :])] = _WAVE
    return Image.fromarray(pixels, "RGB")


def _envelope(x: np.ndarray, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-column (min, max) of `x` spread over `columns` columns, as float64."""
    n = x.size
    if n == 0:
        return np.zeros(columns), np.zeros(columns)
    if n >= columns:
        # column c holds samples [c*n//columns, (c+1)*n//columns): never empty, one pass each
        starts = np.arange(columns, dtype=np.int64) * n // columns
        lo = np.minimum.reduceat(x, starts).astype(np.float64)
        hi = np.maximum.reduceat(x, starts).astype(np.float64)
        return lo, hi
    with np.errstate(invalid="ignore"):  # NaN samples spread to their columns, cleared later
        curve = np.interp(np.linspace(0.0, n - 1, columns + 1), np.arange(n),
                          x.astype(np.float64))
    return np.minimum(curve[:-1], curve[1:]), np.maximum(curve[:-1], curve[1:])


def _view_axes(azimuth: float = AZIMUTH_DEG, elevation: float = ELEVATION_DEG) -> np.ndarray:
    """Rows: screen right, screen up, towards the viewer, for a view from `elevation` degrees
    above the horizon (kept within +-89, y up) and `azimuth` degrees around the y axis."""
    el = math.radians(max(-89.0, min(89.0, elevation)))
    az = math.radians(azimuth)
    toward = np.array([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)])
    right = np.cross([0.0, 1.0, 0.0], toward)
    right /= np.linalg.norm(right)
    up = np.cross(toward, right)
    return np.stack([right, up, toward])


def cloud_preview(points: np.ndarray, *, azimuth: float = AZIMUTH_DEG,
                  elevation: float = ELEVATION_DEG, size: int = PREVIEW_SIZE) -> Image.Image:
    """An RGB `size` square depth-shaded view of an (N, 3) point cloud, seen from `azimuth` /
    `elevation` (the defaults give the cached preview; the desktop's 3D view turns the cloud by
    changing them).

    Extra columns (normals, colours) are ignored and rows with NaN or infinite coordinates
    dropped. The cloud is centred on its bounding box and scaled so its farthest point touches
    the unit sphere; a single point or identical points become one dot in the middle, and no
    points at all a blank picture. Splats are 3x3 pixels for clouds of up to 32,768
    points (a 16k-point scan then reads as a surface, not a sprinkle), 2x2 above; depth shading
    runs over the cloud's own depth range.
    """
    p = np.asarray(points)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"expected points of shape (N, 3), got {p.shape}")
    p = p[:, :3].astype(np.float64)
    p = p[np.isfinite(p).all(axis=1)]

    pixels = np.empty((size * size, 3), dtype=np.uint8)
    pixels[:] = BACKGROUND
    if len(p):
        p -= p.min(axis=0) / 2 + p.max(axis=0) / 2
        extent = float(np.abs(p).max())
        if extent > 0.0:
            p /= extent  # first into [-1, 1] so squaring cannot overflow
            p /= math.sqrt(float((p * p).sum(axis=1).max()))
        screen = p @ _view_axes(azimuth, elevation).T  # right, up, nearness; each within [-1, 1]

        nearness = screen[:, 2]
        span = float(nearness.max() - nearness.min())
        far = (nearness.max() - nearness) / span if span > 1e-12 else np.zeros(len(p))
        # z-buffer: each pixel keeps the smallest (depth, point index) key of the splats on it,
        # so the nearest point wins and ties go to the earlier point, whatever the order
        key = (np.rint(far * _DEPTH_LEVELS).astype(np.int64) << 32) | np.arange(len(p))
        half = size / 2 - _CLOUD_MARGIN * size / PREVIEW_SIZE
        cx = np.floor(size / 2 + screen[:, 0] * half).astype(np.int64)
        cy = np.floor(size / 2 - screen[:, 1] * half).astype(np.int64)
        splat = 3 if len(p) <= _BIG_CLOUD else 2
        offsets = np.arange(splat) - splat // 2
        xs = np.clip(cx[:, None, None] + offsets[None, None, :], 0, size - 1)
        ys = np.clip(cy[:, None, None] + offsets[None, :, None], 0, size - 1)
        zbuffer = np.full(size * size, _EMPTY, dtype=np.int64)
        np.minimum.at(zbuffer, (ys * size + xs).ravel(), np.repeat(key, splat * splat))
        shown = np.flatnonzero(zbuffer != _EMPTY)
        winner = zbuffer[shown] & 0xFFFFFFFF

        colours = _NEAR + (_FAR - _NEAR) * far[winner, None] ** 0.8
        pixels[shown] = np.rint(colours).astype(np.uint8)
    return Image.fromarray(pixels.reshape(size, size, 3), "RGB")


def make_preview(modality: str, decoded, rate: int | None = None) -> Image.Image:
    """The preview of a decoded item: a PIL image ("image"), float32 samples at `rate` Hz
    ("audio", `rate` required) or (N, 3) points ("3d"). Unknown modality -> `ValueError`."""
    if modality == "image":
        return image_preview(decoded)
    if modality == "audio":
        if rate is None:
            raise ValueError("an audio preview needs the sample rate")
        return waveform_preview(decoded, rate)
    if modality == "3d":
        return cloud_preview(decoded)
    raise ValueError(f"no preview for modality {modality!r}")


def write_preview(image: Image.Image, path: Path) -> Path:
    """Save `image` as a PNG at `path` atomically, creating its folders; returns `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path
