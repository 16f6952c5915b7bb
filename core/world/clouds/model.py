"""A part as placed surfaces tagged by sub-part group, with the sub-parts the misaligned
and loose conditions move, sampled area-weighted into points.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.world.clouds.surfaces import Surface


@dataclass(frozen=True)
class Motion:
    """A sub-part the misaligned/loose conditions move: by tilting about `pivot` (about
    `hinge`, or a random axis perpendicular to `axis`) or by sliding along `axis`."""

    groups: tuple[str, ...]
    pivot: tuple[float, float, float]
    axis: tuple[float, float, float]
    hinge: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class _Piece:
    surface: Surface
    group: int
    rot: np.ndarray
    at: np.ndarray

    @property
    def turned(self) -> bool:
        return not np.array_equal(self.rot, np.eye(3))


class Model:
    """A part: placed surfaces tagged by sub-part group, plus its movable sub-parts."""

    def __init__(self) -> None:
        self.pieces: list[_Piece] = []
        self.groups: list[str] = []
        self.tilt: Motion | None = None
        self.slide: Motion | None = None

    def add(
        self,
        surfaces: Surface | Sequence[Surface],
        group: str = "main",
        rot: np.ndarray | None = None,
        at: Sequence[float] = (0.0, 0.0, 0.0),
    ) -> None:
        if isinstance(surfaces, Surface):
            surfaces = [surfaces]
        if group not in self.groups:
            self.groups.append(group)
        r = np.eye(3) if rot is None else rot
        for surface in surfaces:
            piece = _Piece(surface, self.groups.index(group), r, np.asarray(at, dtype=float))
            self.pieces.append(piece)

    def group_ids(self, names: Sequence[str]) -> list[int]:
        return [i for i, name in enumerate(self.groups) if name in names]

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
        """n area-weighted points, their normals, and each point's group id."""
        area = np.array([p.surface.area for p in self.pieces])
        counts = rng.multinomial(n, area / area.sum())
        pts, nrm = np.empty((n, 3)), np.empty((n, 3))
        start = 0
        for piece, k in zip(self.pieces, counts):
            if k == 0:
                continue
            p, q = piece.surface.sample(rng, int(k))
            if piece.turned:
                p, q = p @ piece.rot.T, q @ piece.rot.T
            pts[start : start + k] = p + piece.at
            nrm[start : start + k] = q
            start += k
        return pts, nrm, np.repeat([p.group for p in self.pieces], counts)
