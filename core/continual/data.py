"""What a continual step trains on: row-aligned pairs of two modalities' embeddings in the pack's
space (the frozen encoders' output), optionally with a concept per row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from core.errors import UsageError

MIN_PAIRS = 16  # fewer cannot make a contrastive batch worth training on


@dataclass
class PairSet:
    name: str
    m1: str
    m2: str
    x1: torch.Tensor  # [N, d] float32
    x2: torch.Tensor
    groups: torch.Tensor | None = None  # [N] int64; same group = not each other's negative

    def __post_init__(self) -> None:
        if self.m1 == self.m2:
            raise UsageError(f"The pairs {self.name!r} have {self.m1} in both columns",
                             hint="A step pairs two different modalities.")
        if len(self.x1) != len(self.x2):
            raise UsageError(f"The pairs {self.name!r} have {len(self.x1)} and {len(self.x2)} "
                             "rows", hint="Each row is one pair.")

    @property
    def modalities(self) -> tuple[str, str]:
        return (self.m1, self.m2)

    def __len__(self) -> int:
        return len(self.x1)

    def batch(self, index: torch.Tensor) -> PairSet:
        return PairSet(self.name, self.m1, self.m2, self.x1[index], self.x2[index],
                       None if self.groups is None else self.groups[index])

    def subset(self, count: int, seed: int = 0) -> PairSet:
        rng = np.random.default_rng(seed)
        index = torch.from_numpy(np.sort(rng.choice(len(self), min(count, len(self)),
                                                    replace=False)))
        return self.batch(index)


def pairs_by_concept(name: str, m1: str, v1: np.ndarray, l1: np.ndarray, m2: str,
                     v2: np.ndarray, l2: np.ndarray, *, concepts=None, seed: int = 0) -> PairSet:
    """Pair items of two modalities that show the same concept (e.g. a recording and a photo
    of the same machine state from an inspection log): the i-th item of a concept in one
    modality with the i-th (cycling) of the same concept in the other."""
    rng = np.random.default_rng(seed)
    keep = set(np.unique(l1)) & set(np.unique(l2))
    if concepts is not None:
        keep &= set(int(c) for c in concepts)
    rows1, rows2 = [], []
    for concept in sorted(keep):
        a = np.flatnonzero(l1 == concept)
        b = rng.permutation(np.flatnonzero(l2 == concept))
        rows1.extend(a)
        rows2.extend(b[np.arange(len(a)) % len(b)])
    rows1, rows2 = np.array(rows1, np.int64), np.array(rows2, np.int64)
    return PairSet(name, m1, m2, torch.from_numpy(np.ascontiguousarray(v1[rows1], np.float32)),
                   torch.from_numpy(np.ascontiguousarray(v2[rows2], np.float32)),
                   torch.from_numpy(np.asarray(l1)[rows1].astype(np.int64)))


def pseudo_pairs(name: str, m1: str, v1: np.ndarray, m2: str, v2: np.ndarray, *,
                 tau: float = 0.05, chunk: int = 1024) -> PairSet:
    """Ex-MCR's modality-centric aggregation over two unpaired pools in the pack's space: each
    item of `m1` with the softmax(cos / tau)-weighted mean of the `m2` pool (normalised), the
    pairs through which the pack's emergent retrieval works."""
    a = torch.from_numpy(np.ascontiguousarray(v1, np.float32))
    b = torch.from_numpy(np.ascontiguousarray(v2, np.float32))
    parts = [torch.nn.functional.normalize(torch.softmax(a[i:i + chunk] @ b.T / tau, dim=1) @ b,
                                           dim=-1) for i in range(0, len(a), chunk)]
    return PairSet(name, m1, m2, a, torch.cat(parts) if parts else b[:0])
