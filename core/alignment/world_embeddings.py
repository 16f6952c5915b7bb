"""Embed one split of a demo world with every tower of a pack that can see each item: the base
encoders (image, text) and each leaf space's own towers. Ex-MCR's pools and the held-out set are
both made this way, once, and cached."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.alignment.extension import Embeddings
from core.errors import CorruptFileError, UsageError
from core.progress import CancelFn, ProgressFn


def split_rows(world_dir: str | Path, split: str, per_concept: int | None = None) -> list:
    """The split's rows in manifest order; with `per_concept`, the first N of each concept and
    modality (a fixed subset)."""
    from core.world.manifest import read_manifest

    rows = [r for r in read_manifest(world_dir) if r.split == split]
    if not rows:
        raise UsageError(f"The world has no {split!r} items", path=Path(world_dir),
                         hint="Generate it with `mcr demo world` (the full or small size).")
    if per_concept is not None:
        seen: dict[tuple, int] = {}
        kept = []
        for row in rows:
            key = (row.modality, row.concept_index)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= per_concept:
                kept.append(row)
        rows = kept
    return rows


def embed_world(models, world_dir: str | Path, split: str, *, per_concept: int | None = None,
                leaves: bool = True, workers: int = 2, progress: ProgressFn | None = None,
                cancel: CancelFn | None = None) -> Embeddings:
    """`models`: a `PackModels`. The pack's encoders embed every modality they can into the
    base space (`base`; audio and 3D through their heads in an extended pack); with `leaves`,
    each leaf space in the manifest also embeds the items of its modalities with its own
    towers."""
    world_dir = Path(world_dir)
    rows = split_rows(world_dir, split, per_concept)
    by_modality: dict[str, list] = {}
    for row in rows:
        by_modality.setdefault(row.modality, []).append(row)
    out = Embeddings({}, {}, {m: np.array([r.concept_index for r in rs], np.int64)
                              for m, rs in by_modality.items()})
    for m in models.modalities:
        if m in by_modality:
            out.base[m] = _embed(models.encoder(m), world_dir, by_modality[m], workers,
                                 progress, cancel)
    for leaf, towers in (models.pack.manifest.leaves if leaves else {}).items():
        for m in towers:
            if m in by_modality:
                out.leaves.setdefault(leaf, {})[m] = _embed(
                    models.leaf_encoder(leaf, m), world_dir, by_modality[m], workers, progress,
                    cancel)
    return out


def _embed(encoder, world_dir: Path, rows: list, workers, progress, cancel) -> np.ndarray:
    from core.encoders.pipeline import embed_files, embed_items

    if encoder.modality == "text":
        captions = [r.caption for r in rows]
        unique = list(dict.fromkeys(captions))
        done = embed_items(encoder, unique, batch_size=64, progress=progress, cancel=cancel)
        position = {c: i for i, c in enumerate(unique)}
        index = [position[c] for c in captions]
    else:
        done = embed_files(encoder, [world_dir / r.path for r in rows], batch_size=64,
                           workers=workers, progress=progress, cancel=cancel)
        index = list(range(len(rows)))
    if done.failed:
        i, err = done.failed[0]
        raise CorruptFileError(f"cannot be embedded ({err}); the world is damaged",
                               path=world_dir / rows[i].path if rows[i].path else world_dir,
                               hint="Regenerate it with `mcr demo world --force`.")
    return done.vectors[index]
