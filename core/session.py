"""One working session of the desktop app: a library, the pack of its space and the device,
opened once and used for search, library upkeep and switching pack versions.

The engine state lives here, not in the GUI: the window keeps a `Session` and calls its
methods on its worker thread (one at a time). Every method is plain Python with `progress` and
`cancel` where it can take long, and returns plain data (the same records the CLI prints).

Which library: the one asked for; else the user's library when it exists; else the demo
library, which is built (with progress) when it is missing, so a first start shows something.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import LibraryError, UsageError
from core.library.library import Library, is_library
from core.progress import CancelFn, ProgressFn, Tracker


@dataclass(frozen=True)
class SessionInfo:
    library: str  # its folder
    demo: bool  # the demo library
    pack: str  # name@version of the library's space
    device: str  # in words: "GPU: NVIDIA H100" or "CPU (2 threads)"
    items: int
    modalities: dict[str, int]
    read_only: bool  # another process is changing the library: search only
    repairs: tuple[str, ...] = ()  # what opening the library fixed


@dataclass(frozen=True)
class SearchResult:
    query: object  # core.library.search.Query
    hits: list  # core.library.search.Hit, per modality, best first
    seconds: float  # encoding the query and searching


@dataclass(frozen=True)
class Decoded:
    """A file decoded for a preview: an RGB image, mono samples at `rate`, or (N, 3) points."""

    path: str
    modality: str
    image: object = None  # PIL.Image.Image
    samples: np.ndarray | None = None
    rate: int = 0
    points: np.ndarray | None = None
    details: dict = field(default_factory=dict)


PLAYBACK_RATE = 48_000


class Session:
    def __init__(self, library: str | Path | None = None, *, device: str = "auto",
                 workers: int = 2) -> None:
        self._wanted = Path(library) if library else None
        self._device_pref = device
        self.workers = workers
        self.library: Library | None = None
        self._models = None
        self._device = None
        self._map = None

    # ------------------------------------------------------------------ opening
    def open(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None
             ) -> SessionInfo:
        """Open the library (building the demo library when it is the one and is missing),
        then load the pack's encoders on the device."""
        from core.library.demo import build_demo_library
        from core.library.locations import demo_library_dir, user_library_dir

        tracker = Tracker(progress, cancel)
        folder = self._wanted
        if folder is None:
            folder = user_library_dir() if is_library(user_library_dir()) else demo_library_dir()
        if not is_library(folder) and folder == demo_library_dir():
            tracker.start("building the demo library (once, about 15 s)")
            build_demo_library(folder, device=self._device_pref, workers=self.workers,
                               progress=progress, cancel=cancel)
        if not is_library(folder):
            raise LibraryError("holds no library", path=folder,
                               hint="Add a folder of photos, recordings or scans in the "
                                    "Library tab, or choose another library in Settings.")
        self.close()
        self.library = _open_library(folder)
        tracker.start(f"loading the model pack {self.library.space}")
        self._load_models()
        # Every encoder now, while the window says it is loading, not on the first search
        # (the first CLIP-style tower imports open_clip: seconds).
        tracker.start("loading the encoders", len(self._models.modalities))
        for modality in self._models.modalities:
            self._models.encoder(modality)
            tracker.advance(message=modality)
        return self.info()

    def _load_models(self) -> None:
        from core.device import pick_device
        from core.encoders.runtime import PackModels
        from core.library.locations import pack_for

        self._device = pick_device(self._device_pref)
        self._models = PackModels(pack_for(self.library.space), self._device)
        self._map = None

    def close(self) -> None:
        if self.library is not None:
            self.library.close()
        self.library, self._models, self._map = None, None, None

    @property
    def models(self):
        if self._models is None:
            raise UsageError("No library is open yet", hint="Wait for the library to load.")
        return self._models

    def _lib(self) -> Library:
        if self.library is None:
            raise UsageError("No library is open yet", hint="Wait for the library to load.")
        return self.library

    def info(self) -> SessionInfo:
        from core.device import describe_device
        from core.library.locations import demo_library_dir

        lib = self._lib()
        return SessionInfo(str(lib.folder), lib.folder == demo_library_dir(), lib.space,
                           describe_device(self._device) if self._device is not None else "",
                           lib.count(), dict(lib.held_modalities()), not lib.writable,
                           tuple(lib.repairs))

    # ------------------------------------------------------------------ search
    def search_text(self, text: str, k: int = 10, modalities: Sequence[str] | None = None
                    ) -> SearchResult:
        from core.library import search as s

        return self._search(lambda: s.text_query(self.models, text), k, modalities)

    def search_file(self, path: str | Path, k: int = 10,
                    modalities: Sequence[str] | None = None) -> SearchResult:
        from core.library import search as s

        return self._search(lambda: s.file_query(self.models, path), k, modalities)

    def search_image(self, image, k: int = 10, modalities: Sequence[str] | None = None
                     ) -> SearchResult:
        from core.library import search as s

        return self._search(lambda: s.image_query(self.models, image), k, modalities)

    def search_recording(self, samples: np.ndarray, rate: int, k: int = 10,
                         modalities: Sequence[str] | None = None) -> SearchResult:
        from core.library import search as s

        return self._search(lambda: s.recording_query(self.models, samples, rate), k,
                            modalities)

    def search_item(self, item_id: int, k: int = 10, modalities: Sequence[str] | None = None
                    ) -> SearchResult:
        from core.library import search as s

        return self._search(lambda: s.item_query(self._lib(), item_id), k, modalities)

    def _search(self, make_query, k, modalities) -> SearchResult:
        from core.library import search as s

        started = time.perf_counter()
        query = make_query()
        hits = s.search(self._lib(), query, k=k, modalities=modalities)
        return SearchResult(query, hits, time.perf_counter() - started)

    # ------------------------------------------------------------------ previews
    def decode(self, path: str | Path, modality: str | None = None) -> Decoded:
        """A file decoded for its preview (query area, 3D view, playback)."""
        from core import io
        from core.errors import UnsupportedFileError
        from core.io.kinds import check_file, modality_of, sniff

        path = Path(path)
        check_file(path)
        modality = modality or modality_of(path) or sniff(path)
        if modality == "image":
            image = io.load_image(path, max_side=1024)
            return Decoded(str(path), modality, image=image, details={"size": image.size})
        if modality == "audio":
            samples = io.load_audio(path, PLAYBACK_RATE)
            return Decoded(str(path), modality, samples=samples, rate=PLAYBACK_RATE,
                           details={"seconds": len(samples) / PLAYBACK_RATE})
        if modality == "3d":
            points = io.load_cloud(path, max_points=20_000)
            return Decoded(str(path), modality, points=points, details={"points": len(points)})
        raise UnsupportedFileError("is not an image, a recording or a 3D scan", path=path)

    # ------------------------------------------------------------------ the map
    def library_map(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None):
        """The library's 2-D map (cached until the library changes)."""
        from core.library.map import library_map

        if self._map is None or self._map.total != self._lib().count():
            self._map = library_map(self._lib(), progress=progress, cancel=cancel)
        return self._map

    # ------------------------------------------------------------------ library upkeep
    def items(self):
        return self._lib().catalogue.items()

    def previews(self) -> list[tuple[str, str]]:
        """(modality, absolute path) of every item's preview picture, newest item first."""
        lib = self._lib()
        return [(item.modality, str(lib.folder / item.preview))
                for item in sorted(lib.catalogue.items(), key=lambda i: -i.id) if item.preview]

    def stats(self) -> dict:
        lib = self._lib()
        return {**lib.catalogue.stats(), "indexed": lib.count(), "roots": lib.catalogue.roots(),
                "pack": lib.space, "folder": str(lib.folder)}

    def add(self, paths: Sequence[str | Path], tags: Sequence[str] = (),
            progress: ProgressFn | None = None, cancel: CancelFn | None = None):
        from core.library.ingest import ingest

        self._writable()
        report = ingest(self._lib(), self.models, paths, tags=tags, workers=self.workers,
                        progress=progress, cancel=cancel)
        self._map = None
        return report

    def rescan(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None):
        """Read the library's folders again: new and changed files are added, files gone are
        forgotten."""
        from core.library.verify import drop_missing, verify

        roots = self._lib().catalogue.roots()
        if not roots:
            raise UsageError("The library has no folders to re-scan",
                             hint="Add a folder first.")
        self._writable()
        drop_missing(self._lib(), verify(self._lib(), progress, cancel))
        return self.add(roots, progress=progress, cancel=cancel)

    def verify(self, progress: ProgressFn | None = None, cancel: CancelFn | None = None):
        from core.library.verify import verify

        return verify(self._lib(), progress, cancel)

    def remove(self, item_ids: Sequence[int]) -> list[int]:
        self._writable()
        gone = self._lib().remove_items(item_ids)
        self._map = None
        return gone

    def _writable(self) -> None:
        if not self._lib().writable:
            raise LibraryError("is being changed by another MCR Studio process",
                               path=self._lib().folder,
                               hint="Close the other program (searching still works).")

    # ------------------------------------------------------------------ packs
    def use_pack(self, ref: str, progress: ProgressFn | None = None,
                 cancel: CancelFn | None = None) -> SessionInfo:
        """Move the library into another pack version's space (by matrix product when the
        versions differ only by their continual maps, else by re-embedding) and use it."""
        from core.library.reindex import reindex
        from core.packs.store import resolve_pack

        ref = resolve_pack(ref).ref
        folder = self._lib().folder
        if ref != self._lib().space:
            self._writable()
            self.close()
            try:
                reindex(folder, ref, device=self._device_pref, workers=self.workers,
                        progress=progress, cancel=cancel)
            finally:  # on failure or cancel the library is still in its old space
                self.library = _open_library(folder)
                self._load_models()
        return self.info()


def _open_library(folder: Path) -> Library:
    """Open for writing; when another process holds the library, open it to search only."""
    try:
        return Library.open(folder, write=True)
    except LibraryError as err:
        if "another MCR Studio process" not in err.what:
            raise
        return Library.open(folder, write=False)
