"""The demo library: the demo world's "plant library" (photos, line recordings and 3D scans
under the names a plant's folders have, one of each per concept), generated from its seed and
added to a library in the user data folder, so a first run has something to search."""

from __future__ import annotations

from pathlib import Path

from core.library.ingest import IngestReport, ingest
from core.library.library import Library
from core.library.locations import demo_library_dir, new_library_pack, pack_for
from core.progress import CancelFn, ProgressFn

SPLIT = "library"


def build_demo_library(folder: str | Path | None = None, *, size: str = "full", seed: int = 0,
                       pack: str | None = None, device: str = "auto", workers: int = 2,
                       progress: ProgressFn | None = None, cancel: CancelFn | None = None
                       ) -> tuple[Path, IngestReport]:
    """Generate the world's library files (once) and add them; returns the library folder
    and the ingest report. Running it again only checks that nothing changed."""
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.paths import default_world_dir
    from core.world.build import build_world

    folder = Path(folder) if folder is not None else demo_library_dir()
    world = default_world_dir(size, seed, SPLIT)
    build_world(world, size, seed, only=SPLIT, workers=workers, progress=progress,
                cancel=cancel)
    chosen = new_library_pack(pack)
    with Library.open(folder, write=True, space=chosen.ref, dim=chosen.manifest.dim) as library:
        models = PackModels(pack_for(library.space), pick_device(device))
        report = ingest(library, models, [world / SPLIT], tags=["demo"], workers=workers,
                        progress=progress, cancel=cancel)
    return folder, report
