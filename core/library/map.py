"""The library map: every item's vector laid out in 2-D by PCA, so a person can see the library
at a glance (coloured by modality) and where a query and its results fall in it.

PCA (not t-SNE or UMAP) because a query must land in the same picture without recomputing it:
`LibraryMap.project` places any vector of the library's space with the same two axes. Shared
spaces keep a gap between modalities, so the map shows one cloud per modality, with the
concepts spread along the axes they share.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.library.library import Library
from core.progress import CancelFn, ProgressFn, Tracker

MAX_ITEMS = 20_000  # beyond this, an even sample of the library is drawn


@dataclass(frozen=True)
class LibraryMap:
    ids: np.ndarray  # int64 [N]
    modalities: tuple[str, ...]
    paths: tuple[str, ...]
    points: np.ndarray  # float32 [N, 2]
    mean: np.ndarray  # float32 [D]
    axes: np.ndarray  # float32 [2, D], the first two principal directions
    total: int  # items in the library (N is at most MAX_ITEMS of them)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        v = np.atleast_2d(np.asarray(vectors, np.float32))
        return (v - self.mean) @ self.axes.T

    def point_of(self, item_id: int) -> np.ndarray | None:
        found = np.flatnonzero(self.ids == item_id)
        return self.points[found[0]] if len(found) else None


def library_map(library: Library, *, max_items: int = MAX_ITEMS,
                progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> LibraryMap:
    tracker = Tracker(progress, cancel)
    tracker.start("laying out the map")
    items = library.catalogue.items()
    with_vector = library.catalogue.ids_with_vector(library.space)
    items = [i for i in items if i.id in with_vector]
    total = len(items)
    if total > max_items:
        keep = np.linspace(0, total - 1, max_items).round().astype(int)
        items = [items[j] for j in keep]
    ids = np.array([i.id for i in items], np.int64)
    dim = library.dim
    if len(ids) == 0:
        empty = np.zeros((0, 2), np.float32)
        return LibraryMap(ids, (), (), empty, np.zeros(dim, np.float32),
                          np.eye(2, dim, dtype=np.float32), 0)
    vectors = library.catalogue.vectors(ids.tolist(), library.space, dim).astype(np.float64)
    tracker.check()
    mean = vectors.mean(axis=0)
    centred = vectors - mean
    if len(ids) > 1:
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        axes = np.zeros((2, dim))
        axes[: min(2, len(vt))] = vt[:2]
    else:
        axes = np.eye(2, dim)
    # a fixed sign per axis (largest loading positive), so the same library draws the same way
    signs = np.sign(axes[np.arange(2), np.abs(axes).argmax(axis=1)])
    axes *= np.where(signs == 0, 1.0, signs)[:, None]
    points = (centred @ axes.T).astype(np.float32)
    return LibraryMap(ids, tuple(i.modality for i in items), tuple(i.path for i in items),
                      points, mean.astype(np.float32), axes.astype(np.float32), total)
