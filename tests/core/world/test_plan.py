"""The world's plan: balanced, no forbidden pairs, captions varied, library names uninformative."""

from collections import Counter
from functools import lru_cache

import numpy as np
import pytest

from core.errors import UsageError
from core.world.captions import caption
from core.world.concepts import CONDITIONS, FAMILIES, all_concepts
from core.world.plan import TRAINING_SPLITS, plan_world


@lru_cache
def _plan(size: str, seed: int = 0):
    return plan_world(size, seed)


def test_at_least_48_concepts_from_families_and_conditions():
    concepts = all_concepts()
    assert len(concepts) == len(FAMILIES) * len(CONDITIONS) >= 48
    assert [c.index for c in concepts] == list(range(len(concepts)))


@pytest.mark.parametrize("size", ["small", "full"])
def test_every_split_and_modality_is_balanced_over_concepts(size):
    items = _plan(size)
    per_cell = Counter((i.split, i.modality, i.concept.index) for i in items)
    for split, modality in {(s, m) for s, m, _ in per_cell}:
        counts = {per_cell[(split, modality, c.index)] for c in all_concepts()}
        assert len(counts) == 1 and counts != {0}, (split, modality, counts)


@pytest.mark.parametrize("size", ["small", "full"])
def test_no_training_group_pairs_audio_with_image_or_3d(size):
    groups: dict[str, set[str]] = {}
    for item in _plan(size):
        if item.split in TRAINING_SPLITS:
            groups.setdefault(item.group, set()).add(item.modality)
    kinds = {frozenset(m) for m in groups.values()}
    assert all(not ({"audio"} < k or ("audio" in k and len(k) > 1)) for k in kinds)
    assert frozenset({"3d", "image"}) in kinds  # the 3D leaf's triplets exist
    assert all(len(m) == 1 for g, m in groups.items() if "audio" in m)


def test_pools_and_test_files_carry_no_caption_but_pairs_and_texts_do():
    for item in _plan("small"):
        paired = item.split in ("base_pairs", "audio_pairs", "cloud_triplets")
        assert bool(item.caption) == (paired or item.modality == "text"), item


def test_full_world_has_tens_of_thousands_of_items_per_file_modality():
    counts = Counter(i.modality for i in _plan("full"))
    assert counts["image"] >= 20_000 and counts["audio"] >= 20_000 and counts["3d"] >= 19_000


def test_each_concept_has_many_phrasings():
    rng = np.random.default_rng(0)
    for concept in all_concepts():
        phrasings = {caption(concept, rng) for _ in range(60)}
        assert len(phrasings) >= 6, concept
        assert not any(" a a" in p or p.startswith("a a") or " a i" in p for p in phrasings)


def test_library_names_do_not_follow_concept_order():
    library = [i for i in _plan("small") if i.split == "library"]
    assert len({i.path for i in library}) == len(library)
    images = [i for i in library if i.modality == "image"]
    names = [i.path for i in images]
    assert names != sorted(names)
    assert {p.rsplit(".", 1)[1] for p in names} == {"jpg", "png"}


def test_unknown_size_is_a_usage_error():
    with pytest.raises(UsageError, match="huge"):
        plan_world("huge", seed=0)


def test_plan_depends_on_the_seed():
    a = [i.caption for i in _plan("small")]
    b = [i.caption for i in plan_world("small", seed=1)]
    assert a == [i.caption for i in _plan("small")] and a != b
