"""A library folder: the catalogue (source of truth), one HNSW index per space (pack version)
derived from the catalogue's stored vectors, and cached previews.

Write order: a change is committed to the catalogue first, then applied to the index in
memory; the index file is saved every few seconds and on close. After a crash the index on
disk may lag behind the catalogue or hold items since removed; `open` reconciles the two (adds
the missing vectors from the catalogue, drops the extra ones) and rebuilds the index from the
stored vectors when its file is missing or damaged. So no item is lost once its commit has
returned, and no vector is searchable without its row.

One process writes at a time (a lock file); others may open the library read-only, which
reconciles in memory and never writes.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import IndexDamagedError, LibraryError, UsageError
from core.index.hnsw import HnswIndex
from core.library.catalogue import FILE, Catalogue, NewItem

SAVE_EVERY_S = 5.0
EXACT_BELOW = 4096  # a filtered search over fewer items than this is done exactly
LOCK_FILE = "writer.lock"


def is_library(folder: str | Path) -> bool:
    return (Path(folder) / FILE).is_file()


class Library:
    def __init__(self, folder: Path, catalogue: Catalogue, write: bool, lock) -> None:
        self.folder, self.catalogue, self.writable, self._lock_file = folder, catalogue, write, lock
        self.space = catalogue.meta("space") or ""
        self.dim = int(catalogue.meta("dim") or 0)
        self.repairs: list[str] = []  # what `open` had to fix, in words
        self._closed = False
        self._guard = threading.RLock()
        self._dirty = False
        self._pools: dict[tuple, _Pool] = {}
        self._held: dict[str, int] | None = None
        self._saved_at = time.monotonic()
        if write and (orphans := catalogue.delete_orphans()):
            self.repairs.append(f"{len(orphans)} items no file holds any more removed")
        self.index = self._load_index()

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, folder: str | Path, *, write: bool = True, space: str | None = None,
             dim: int | None = None) -> Library:
        """Open a library; with `space` and `dim`, create it if the folder holds none."""
        folder = Path(folder)
        if not is_library(folder):
            if space is None or not write:
                raise LibraryError("holds no library", path=folder,
                                   hint="Add files with `mcr library add PATH`, or build the "
                                        "demo library with `mcr demo library`.")
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise LibraryError(f"cannot be created ({err.strerror})", path=folder) from err
        lock = _take_writer_lock(folder) if write else None
        try:
            catalogue = Catalogue(folder)
            if catalogue.meta("space") is None:
                if space is None or dim is None:
                    raise LibraryError("has no space recorded", path=folder)
                catalogue.set_meta(space=space, dim=str(int(dim)))
            return cls(folder, catalogue, write, lock)
        except BaseException:
            _release(lock)
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.save(force=True)
        self.catalogue.close()
        _release(self._lock_file)
        self._lock_file = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def previews(self) -> Path:
        return self.folder / "previews"

    def index_folder(self, space: str | None = None) -> Path:
        return self.folder / "index" / re.sub(r"[^A-Za-z0-9._@-]", "_", space or self.space)

    # ------------------------------------------------------------------ index upkeep
    def _load_index(self) -> HnswIndex:
        folder = self.index_folder()
        index, problem = None, None
        for _attempt in range(1 if self.writable else 3):  # a reader may race a save
            try:
                index = HnswIndex.load(folder, owner=self.space)
                break
            except (IndexDamagedError, UsageError) as err:
                problem = err
                time.sleep(0.05)
        if index is None:
            index = HnswIndex(folder, self.dim, owner=self.space)
            if any(folder.glob("index*")) or self.catalogue.ids_with_vector(self.space):
                self.repairs.append(f"index rebuilt from the stored vectors ({problem.what})"
                                    if problem is not None else "index rebuilt")
        self._reconcile(index)
        return index

    def _reconcile(self, index: HnswIndex) -> None:
        stored = self.catalogue.ids_with_vector(self.space)
        indexed = set(index.ids())
        extra = sorted(indexed - stored)
        missing = sorted(stored - indexed)
        if extra:
            index.remove(extra)
            self.repairs.append(f"{len(extra)} removed items dropped from the index")
        for start in range(0, len(missing), 2000):
            chunk = missing[start:start + 2000]
            index.add(chunk, self.catalogue.vectors(chunk, self.space, self.dim))
        if missing and len(missing) < len(stored):
            self.repairs.append(f"{len(missing)} items added to the index from the catalogue")
        if (extra or missing or self.repairs) and self.writable:
            index.save()

    def save(self, force: bool = False) -> None:
        with self._guard:
            if not (self.writable and self._dirty):
                return
            if force or time.monotonic() - self._saved_at >= SAVE_EVERY_S:
                self.index.save()
                self._dirty, self._saved_at = False, time.monotonic()

    # ------------------------------------------------------------------ changes
    def _need_write(self) -> None:
        if not self.writable:
            raise UsageError("This library was opened read-only")

    def commit(self, items: Sequence[NewItem]) -> list[int]:
        """Store new items (catalogue first, then the index); returns their ids."""
        self._need_write()
        ids = self.catalogue.add_items(items, self.space)
        with self._guard:
            self.index.add(ids, np.stack([item.vector for item in items]))
            self._changed()
        self.save()
        return ids

    def forget_paths(self, paths: Sequence[str]) -> list[int]:
        """Forget files; items no file holds any more leave the catalogue and the index."""
        self._need_write()
        gone = self.catalogue.unlink_files(paths)
        self._drop_from_index(gone)
        return gone

    def drop_orphans(self) -> list[int]:
        """Remove items no file holds any more (a changed file's old content)."""
        self._need_write()
        gone = self.catalogue.delete_orphans()
        self._drop_from_index(gone)
        return gone

    def remove_items(self, ids: Sequence[int]) -> list[int]:
        self._need_write()
        gone = self.catalogue.remove_items(ids)
        self._drop_from_index(gone)
        return gone

    def _drop_from_index(self, ids: list[int]) -> None:
        if ids:
            with self._guard:
                self.index.remove(ids)
                self._changed()
            self.save(force=True)

    # ------------------------------------------------------------------ queries
    def count(self) -> int:
        with self._guard:
            return self.index.count()

    def search(self, vector: np.ndarray, k: int = 10, *,
               modalities: Sequence[str] | None = None, tags: Sequence[str] = (),
               exclude: Sequence[int] = ()) -> list[tuple[int, float]]:
        """The k nearest items to one query vector, best first, as (item id, cosine)."""
        vector = np.asarray(vector, np.float32).reshape(-1)
        if vector.shape[0] != self.dim:
            raise UsageError(f"A query of {vector.shape[0]} dimensions cannot search a library "
                             f"in a {self.dim}-dimensional space ({self.space})")
        if modalities is None and not tags and not exclude:
            with self._guard:
                ids, scores = self.index.search(vector[None], k)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0])]
        pool = self._pool(modalities, tags)
        drop = {int(i) for i in exclude}
        if len(pool.ids) - len(drop) > EXACT_BELOW:
            allowed = pool.members - drop if drop else pool.members
            with self._guard:
                try:
                    ids, scores = self.index.search(vector[None], min(k, len(allowed)),
                                                    allowed=allowed.__contains__)
                    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0])]
                except RuntimeError:  # the graph search found fewer than k: search exactly
                    pass
        return pool.exact(vector, k, drop, self)

    def _pool(self, modalities, tags) -> _Pool:
        """The items a filter allows; cached until the library changes."""
        key = (None if modalities is None else tuple(sorted(modalities)), tuple(sorted(tags)))
        with self._guard:
            if key not in self._pools:
                allowed = self.catalogue.ids(modalities=key[0], tags=key[1])
                self._pools[key] = _Pool(np.array(sorted(i for i in allowed if i in self.index),
                                                  np.int64))
            return self._pools[key]

    def held_modalities(self) -> dict[str, int]:
        """Items per modality (cached until the library changes)."""
        with self._guard:
            if self._held is None:
                self._held = self.catalogue.modalities()
            return self._held

    def _changed(self) -> None:
        self._dirty = True
        self._pools.clear()
        self._held = None


class _Pool:
    """The ids of a filter, and (for small ones, on first use) their vectors for exact search."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids, self.members = ids, frozenset(ids.tolist())
        self._vectors: np.ndarray | None = None

    def exact(self, vector: np.ndarray, k: int, drop: set[int], library: Library):
        if len(self.ids) == 0:
            return []
        if self._vectors is None:
            with library._guard:
                vectors = library.index.vectors(self.ids)
            norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            self._vectors = (vectors / norms).astype(np.float32)
        scores = self._vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        if drop:
            scores[np.isin(self.ids, list(drop))] = -np.inf
        order = np.lexsort((self.ids, -scores))[:k]
        return [(int(self.ids[j]), float(scores[j])) for j in order if np.isfinite(scores[j])]


def _take_writer_lock(folder: Path):
    path = folder / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 (held open: closing it releases the lock)
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        handle.close()
        raise LibraryError("is being changed by another MCR Studio process", path=folder,
                           hint="Wait for it to finish (searching still works).") from err
    return handle


def _release(handle) -> None:
    if handle is not None:
        handle.close()  # closing the descriptor releases the lock
