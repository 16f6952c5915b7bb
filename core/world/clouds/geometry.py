"""Directions and rotations in model space (z up)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

TAU = 2.0 * np.pi
Z = np.array([0.0, 0.0, 1.0])


def rot(axis: Sequence[float], angle: float) -> np.ndarray:
    """Rotation matrix about `axis` by `angle` radians (Rodrigues)."""
    a = np.asarray(axis, dtype=float)
    a = a / np.linalg.norm(a)
    k = np.array([[0.0, -a[2], a[1]], [a[2], 0.0, -a[0]], [-a[1], a[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def align(v: Sequence[float]) -> np.ndarray:
    """Rotation taking the local z axis onto direction `v`."""
    v = np.asarray(v, dtype=float)
    v = v / np.linalg.norm(v)
    c = float(v @ Z)
    if c > 1.0 - 1e-9:
        return np.eye(3)
    if c < -1.0 + 1e-9:
        return rot((1.0, 0.0, 0.0), np.pi)
    return rot(np.cross(Z, v), np.arccos(c))


TO_X = align((1.0, 0.0, 0.0))
TO_Y = align((0.0, 1.0, 0.0))


def perpendicular(axis: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector perpendicular to `axis`."""
    v = np.cross(axis, rng.normal(size=3))
    return v / np.linalg.norm(v)


def polar(theta: np.ndarray) -> np.ndarray:
    """Unit vectors in the xy plane at angles `theta`, shape (n, 3)."""
    out = np.zeros((len(theta), 3))
    out[:, 0], out[:, 1] = np.cos(theta), np.sin(theta)
    return out


def circle(radius: float, count: int, phase: float = 0.0) -> np.ndarray:
    """`count` evenly spaced points on a circle in the xy plane."""
    return radius * polar(phase + TAU * np.arange(count) / count)
