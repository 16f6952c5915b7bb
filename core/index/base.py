"""The interface every vector index offers, so a server backend can replace the on-disk HNSW
index without touching its callers. Ids are non-negative integers chosen by the caller (the
catalogue's item ids); vectors are L2-normalised float32 rows, scores are cosine similarities."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np


class VectorIndex(Protocol):
    dim: int

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace the vectors of `ids`."""

    def remove(self, ids: np.ndarray) -> None:
        """Forget `ids` (unknown ids are ignored)."""

    def search(self, queries: np.ndarray, k: int,
               allowed: Callable[[int], bool] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids [Q, k'], scores [Q, k']), best first; k' = min(k, count); `allowed` filters
        ids (e.g. by modality)."""

    def save(self) -> None:
        """Persist atomically: after a crash the previous or the new state is on disk."""

    def count(self) -> int:
        """Live (not removed) vectors."""

    def __contains__(self, item_id: int) -> bool: ...
