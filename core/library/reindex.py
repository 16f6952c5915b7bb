"""Moving a library to another pack (version): every item is embedded again from its file into
the new space, batch by batch, next to the current vectors, so the library stays searchable
with its current pack until the switch, and a cancelled run resumes where it stopped. The
switch itself (the new index saved, then the catalogue's space changed in one transaction)
comes last; the old vectors and index are dropped after it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.encoders.pipeline import decoder_for, iter_batches
from core.errors import MCRError
from core.index.hnsw import HnswIndex
from core.library.library import Library
from core.progress import CancelFn, ProgressFn, Tracker


def reindex(folder: str | Path, pack_name: str, *, device: str = "auto", workers: int = 2,
            batch_size: int = 16, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> dict:
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.packs.store import resolve_pack

    pack = resolve_pack(pack_name)
    models = PackModels(pack, pick_device(device))
    tracker = Tracker(progress, cancel)
    with Library.open(folder, write=True) as library:
        old, new = library.space, pack.ref
        if old == new:
            return {"pack": new, "items": library.count(), "missing": []}
        missing = _embed_into(library, models, new, workers, batch_size, tracker)
        _switch(library, new, pack.manifest.dim, tracker)
    with Library.open(folder, write=False) as library:
        return {"pack": new, "items": library.count(), "missing": missing}


def _embed_into(library: Library, models, space: str, workers: int, batch_size: int,
                tracker: Tracker) -> list[int]:
    """Vectors in `space` for every item lacking one; returns the items no file could give."""
    done = library.catalogue.ids_with_vector(space)
    todo = [i for i in library.catalogue.items() if i.id not in done]
    tracker.start(f"re-embedding with {space}", len(todo))
    missing = []
    for modality in ("image", "audio", "3d"):
        group = [i for i in todo if i.modality == modality]
        if not group:
            continue
        encoder = models.encoder(modality)
        decode = decoder_for(encoder)

        def prepare(item, encoder=encoder, decode=decode):
            problem = MCRError("none of its files is there any more", path=item.path)
            for path in item.paths:  # any copy of the content will do
                if os.path.isfile(path):
                    try:
                        return encoder.preprocess(decode(Path(path)))
                    except MCRError as err:
                        problem = err
            return problem

        for ok, vectors, failed in iter_batches(encoder, prepare, group, batch_size, workers,
                                                tracker):
            missing += [group[index].id for index, _ in failed]
            if ok:
                library.catalogue.put_vectors([group[i].id for i in ok], vectors, space)
    return missing


def _switch(library: Library, space: str, dim: int, tracker: Tracker) -> None:
    tracker.start("building the new index")
    index = HnswIndex(library.index_folder(space), dim, owner=space)
    for chunk in library.catalogue.iter_ids(space):
        index.add(chunk, library.catalogue.vectors(chunk, space, dim))
    index.save()
    old_space, old_folder = library.space, library.index_folder()
    library.catalogue.set_meta(space=space, dim=str(dim))
    library.catalogue.drop_space(old_space)
    shutil.rmtree(old_folder, ignore_errors=True)
