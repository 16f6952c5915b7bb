"""Step 0 of a continual chain: what the pack could already do, as pairs that seed the DNS
statistics, so that base and emergent retrieval are protected like any later step. The base
image-text pairs, and for every other pair of modalities Ex-MCR's pseudo-pairs (each item with
the aggregate of the other pool) over unpaired pools in the pack's space."""

from __future__ import annotations

from itertools import combinations

import numpy as np

from core.continual.data import PairSet, pseudo_pairs
from core.continual.dns import Statistics
from core.continual.maps import Maps
from core.errors import UsageError


def seed_pairs(pools: dict[str, np.ndarray], base: PairSet | None = None) -> list[PairSet]:
    """`pools`: modality -> the pack's embeddings of unpaired items; `base`: the image-text
    pairs when there are any (else image-text gets pseudo-pairs too)."""
    out = [base] if base is not None else []
    for a, b in combinations(sorted(pools), 2):
        if base is not None and {a, b} == {base.m1, base.m2}:
            continue
        out.append(pseudo_pairs(f"pack: {a}-{b} (pseudo-pairs)", a, pools[a], b, pools[b]))
    return out


def seed_statistics(dim: int, seeds: list[PairSet]) -> Statistics:
    statistics, identity = Statistics(dim), Maps(dim)
    for pairs in seeds:
        statistics.record_pair(identity, pairs.m1, pairs.x1, pairs.m2, pairs.x2)
    return statistics


def library_pools(library, pack_ref: str | None = None, min_items: int = 16
                  ) -> dict[str, np.ndarray]:
    """The library's stored vectors per modality (its current space), for packs that have no
    statistics yet and are not the demo pack; the library must be in `pack_ref`'s space."""
    if library is None:
        raise UsageError("The pack has no continual statistics yet, and no library was given "
                         "whose items could stand in for what it already does",
                         hint="Pass --library with a library made with this pack.")
    if pack_ref is not None and library.space != pack_ref:
        raise UsageError(f"The library {library.folder} holds {library.space} vectors, not "
                         f"{pack_ref}'s, so its items cannot stand in for what {pack_ref} "
                         "already does", hint=f"Use a library made with {pack_ref}, or move "
                         f"one to it with `mcr library reindex --pack {pack_ref}`.")
    pools = {}
    for modality in ("image", "audio", "3d"):
        held = library.catalogue.ids(modalities=[modality])
        ids = sorted(held & library.catalogue.ids_with_vector(library.space))
        if len(ids) >= min_items:
            pools[modality] = library.catalogue.vectors(ids, library.space, library.dim)
    if len(pools) < 2:
        raise UsageError(
            "The pack has no continual statistics yet, and the library holds too few items of "
            "two modalities to stand in for what the pack already does",
            hint=f"Add at least {min_items} files of each modality to the library first.")
    return pools
