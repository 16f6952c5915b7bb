"""Moving a library to another pack (version): every item gets a vector in the new space, batch
by batch, next to the current vectors, so the library stays searchable with its current pack
until the switch, and a cancelled run resumes where it stopped. When the two versions share
their encoders and heads (same files) and differ only by continual maps, the new vectors are one
matrix product per modality of the current ones, W_new W_old⁻¹ v (no file is read); otherwise
every item is embedded again from its file. The switch itself (the new index saved, then the
catalogue's space changed in one transaction) comes last; the old vectors and index are dropped
after it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from core.encoders.pipeline import decoder_for, iter_batches
from core.errors import MCRError, PackError
from core.index.hnsw import HnswIndex
from core.library.library import Library
from core.packs.manifest import Manifest
from core.packs.store import Pack, find_packs
from core.progress import CancelFn, ProgressFn, Tracker

MAX_CONDITION = 1e6  # an old map worse conditioned than this is not inverted
MAP_CHUNK = 500  # vectors mapped (and committed) at a time


def reindex(folder: str | Path, pack_name: str, *, device: str = "auto", workers: int = 2,
            batch_size: int = 16, progress: ProgressFn | None = None,
            cancel: CancelFn | None = None) -> dict:
    """Move the library to `pack_name`. The result says how: `method` is "matrix" (mapped from
    the current vectors), "re-embed" (from the files) or "none" (already there); `refused`
    says why the matrix path could not be taken when the versions allowed it, else None."""
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.packs.store import resolve_pack

    pack = resolve_pack(pack_name)
    models = PackModels(pack, pick_device(device))
    tracker = Tracker(progress, cancel)
    with Library.open(folder, write=True) as library:
        old, new = library.space, pack.ref
        if old == new:
            return {"pack": new, "items": library.count(), "missing": [], "method": "none",
                    "refused": None}
        method, refused = "re-embed", None
        try:
            transforms = _transforms(_installed(old), pack)
        except PackError as err:
            transforms, refused = None, str(err)
        if transforms is not None:
            method = "matrix"
            _map_into(library, transforms, new, tracker)
        missing = _embed_into(library, models, new, workers, batch_size, tracker)
        _switch(library, new, pack.manifest.dim, tracker)
    with Library.open(folder, write=False) as library:
        return {"pack": new, "items": library.count(), "missing": missing, "method": method,
                "refused": refused}


def _installed(ref: str) -> Pack | None:
    return next((f.pack for f in find_packs() if f.pack is not None and f.pack.ref == ref),
                None)


def _transforms(old: Pack | None, new: Pack) -> dict[str, np.ndarray] | None:
    """{modality: W_new W_old⁻¹} (float64, W the identity where a version has no map) when
    the versions differ only by their maps, else None; PackError when an old map cannot be
    inverted safely."""
    if old is None or not _same_encoders(old.manifest, new.manifest):
        return None
    from core.continual.version import map_weight

    dim = new.manifest.dim
    out = {}
    for m in new.manifest.encoders:
        w_old, w_new = (np.eye(dim) if w is None else w.double().numpy()
                        for w in (map_weight(old, m), map_weight(new, m)))
        condition = np.linalg.cond(w_old)
        if not condition <= MAX_CONDITION:  # (NaN included)
            raise PackError(f"the {m} map of {old.ref} is too ill-conditioned to invert "
                            f"(condition number {condition:.1e} > {MAX_CONDITION:.0e}), so "
                            "the library was re-embedded from its files", path=old.folder,
                            hint="")
        out[m] = w_new @ np.linalg.inv(w_old)
    return out


def _same_encoders(a: Manifest, b: Manifest) -> bool:
    """Same dimension, encoders and heads, reading files of the same sha256."""
    used = [rel for part in (a.encoders, a.heads) for c in part.values()
            for rel in c.files.values()]
    return (a.dim == b.dim and a.encoders == b.encoders and a.heads == b.heads
            and all(a.files[rel].sha256 == b.files[rel].sha256 for rel in used))


def _map_into(library: Library, transforms: dict[str, np.ndarray], space: str,
              tracker: Tracker) -> None:
    """Vectors in `space` from the current ones, normalise(M v), for every item lacking one."""
    catalogue = library.catalogue
    todo = catalogue.ids_with_vector(library.space) - catalogue.ids_with_vector(space)
    groups = {m: sorted(todo & catalogue.ids(modalities=[m])) for m in transforms}
    tracker.start(f"mapping into {space}", sum(len(ids) for ids in groups.values()))
    for m, ids in groups.items():
        for start in range(0, len(ids), MAP_CHUNK):
            chunk = ids[start:start + MAP_CHUNK]
            vectors = catalogue.vectors(chunk, library.space, library.dim) @ transforms[m].T
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            catalogue.put_vectors(chunk, vectors, space)
            tracker.advance(len(chunk))


def _embed_into(library: Library, models, space: str, workers: int, batch_size: int,
                tracker: Tracker) -> list[int]:
    """Vectors in `space` for every item lacking one; returns the items no file could give."""
    done = library.catalogue.ids_with_vector(space)
    todo = [i for i in library.catalogue.items() if i.id not in done]
    if not todo:
        return []
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
