"""Step 0 for a pack that is not the demo pack: the library's own items stand in for what the
pack already does (pseudo-pairs between every two modalities it holds)."""

from __future__ import annotations

import pytest
import torch

from core.continual.step0 import library_pools, seed_pairs, seed_statistics
from core.errors import UsageError
from core.library.ingest import ingest


def test_library_items_seed_every_pair_of_their_modalities(new_library, demo_models,
                                                             plant_copy):
    lib = new_library()
    ingest(lib, demo_models, [plant_copy(20)])
    pools = library_pools(lib)
    assert {m: v.shape for m, v in pools.items()} == {m: (20, 256) for m in
                                                      ("image", "audio", "3d")}
    seeds = seed_pairs(pools)
    assert sorted((s.m1, s.m2) for s in seeds) == [("3d", "audio"), ("3d", "image"),
                                                   ("audio", "image")]
    statistics = seed_statistics(256, seeds)
    for m in pools:  # each modality seen twice, as itself and as a partner's output
        stats = statistics.modalities[m]
        assert stats.inputs.count == stats.partners.count == 40
        assert torch.allclose(stats.inputs.mean.trace(), torch.tensor(1.0, dtype=torch.float64))


def test_too_few_items_is_a_clear_error(new_library, demo_models, plant_copy):
    lib = new_library()
    ingest(lib, demo_models, [plant_copy(5)])
    with pytest.raises(UsageError, match="too few items"):
        library_pools(lib)


def test_a_library_of_another_pack_is_refused(new_library, demo_models, plant_copy):
    lib = new_library()
    ingest(lib, demo_models, [plant_copy(20)])
    with pytest.raises(UsageError, match="holds demo@1 vectors, not real@1"):
        library_pools(lib, "real@1")
    with pytest.raises(UsageError, match="no library was given"):
        library_pools(None, "real@1")
