"""Pixel-grid helpers: a coordinate grid, value noise, and where the drawn part lies."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from PIL import Image


@lru_cache(maxsize=8)
def grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(-1.0, 1.0, n, dtype=np.float32)
    xx, yy = np.meshgrid(t, t)
    return xx, yy


def smooth(rng: np.random.Generator, cells: int, n: int, rows: int | None = None) -> np.ndarray:
    """Value noise in [0, 1]: random cells bilinearly upsampled to n x n."""
    small = Image.fromarray(rng.random((rows or cells, cells), dtype=np.float32), mode="F")
    return np.asarray(small.resize((n, n), Image.BILINEAR))


class Silhouette:
    """Where the part lies, from a coarse copy of its alpha; coordinates in layer pixels."""

    def __init__(self, alpha: Image.Image, factor: int = 8) -> None:
        self.coarse = np.asarray(alpha.reduce(factor)) > 200
        self.scale = float(factor)
        ys, xs = np.nonzero(self.coarse)
        if len(xs) == 0:
            ys, xs = np.array([self.coarse.shape[0] // 2]), np.array([self.coarse.shape[1] // 2])
        self.xs, self.ys = xs, ys
        self.centre = np.array([xs.mean() + 0.5, ys.mean() + 0.5]) * self.scale
        self.extent = math.sqrt(len(xs)) * self.scale  # side of a square of the same area

    def points(self, rng: np.random.Generator, k: int, top: float = 1.0) -> np.ndarray:
        """k random points inside the part, within its upper `top` fraction."""
        keep = self.ys <= self.ys.min() + top * (self.ys.max() - self.ys.min())
        xs, ys = self.xs[keep], self.ys[keep]
        i = rng.integers(0, len(xs), k)
        return np.stack([xs[i] + rng.random(k), ys[i] + rng.random(k)], 1) * self.scale
