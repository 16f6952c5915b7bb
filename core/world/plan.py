"""What a demo world contains: the splits, their per-concept counts, and every item's plan.

The plan is a pure function of (size, seed, concepts). Each item gets a global number that
seeds the random stream of its file, so files are identical whatever the number of worker
processes; captions and durations come from one stream drawn in plan order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import UsageError
from core.world.captions import caption
from core.world.concepts import Concept, all_concepts

MODALITIES: tuple[str, ...] = ("image", "audio", "3d", "text")

# Audio durations: 2-10 s, skewed short (mean about 4 s) to keep the full world's size sensible.
MIN_SECONDS, MAX_SECONDS = 2.0, 10.0


@dataclass(frozen=True)
class GroupKind:
    """Groups of items that belong together (a pair, a triplet, or a single unpaired item)."""

    split: str
    modalities: tuple[str, ...]
    captioned: bool
    counts: dict[str, int]  # per concept, by world size


# The Ex-MCR setting: base image-text pairs, audio-text pairs (audio leaf), 3D-image-text
# triplets (3D leaf), unpaired pools for the alignment, a labelled held-out test set and a small
# "plant library". No group anywhere puts audio together with image or 3D.
GROUP_KINDS: tuple[GroupKind, ...] = (
    GroupKind("base_pairs", ("image",), True, {"tiny": 1, "small": 6, "full": 140}),
    GroupKind("audio_pairs", ("audio",), True, {"tiny": 1, "small": 6, "full": 250}),
    GroupKind("cloud_triplets", ("3d", "image"), True, {"tiny": 1, "small": 6, "full": 220}),
    GroupKind("pool", ("image",), False, {"tiny": 1, "small": 3, "full": 80}),
    GroupKind("pool", ("audio",), False, {"tiny": 1, "small": 3, "full": 80}),
    GroupKind("pool", ("3d",), False, {"tiny": 1, "small": 3, "full": 80}),
    GroupKind("pool", ("text",), True, {"tiny": 1, "small": 4, "full": 80}),
    GroupKind("test", ("image",), False, {"tiny": 1, "small": 3, "full": 20}),
    GroupKind("test", ("audio",), False, {"tiny": 1, "small": 3, "full": 20}),
    GroupKind("test", ("3d",), False, {"tiny": 1, "small": 3, "full": 20}),
    GroupKind("test", ("text",), True, {"tiny": 1, "small": 3, "full": 20}),
    GroupKind("library", ("image",), False, {"tiny": 1, "small": 1, "full": 1}),
    GroupKind("library", ("audio",), False, {"tiny": 1, "small": 1, "full": 1}),
    GroupKind("library", ("3d",), False, {"tiny": 1, "small": 1, "full": 1}),
)
SIZES: tuple[str, ...] = ("tiny", "small", "full")
TRAINING_SPLITS: tuple[str, ...] = ("base_pairs", "audio_pairs", "cloud_triplets", "pool")

_EXTENSIONS = {"image": ("jpg", "png"), "audio": ("wav", "flac"), "3d": ("ply", "pcd")}
_LIBRARY_FOLDERS = {"image": "photos", "audio": "recordings", "3d": "scans"}


@dataclass(frozen=True)
class Item:
    number: int  # global; seeds the item's random streams
    split: str
    group: str
    modality: str
    concept: Concept
    path: str  # relative to the world folder; "" for text
    caption: str  # the group's caption where the text belongs to the item, else ""
    seconds: float  # audio duration, 0 otherwise

    @property
    def item_id(self) -> str:
        return f"{self.number:07d}"


def item_rng(seed: int, number: int) -> np.random.Generator:
    """The random stream that renders one item's file, whatever process renders it."""
    return np.random.default_rng([seed, number, 0])


def plan_world(size: str, seed: int, concepts: list[Concept] | None = None) -> list[Item]:
    if size not in SIZES:
        raise UsageError(f"Unknown world size {size!r}", hint=f"Use one of {', '.join(SIZES)}.")
    concepts = concepts if concepts is not None else all_concepts()
    items: list[Item] = []
    group_number = 0
    meta = np.random.default_rng([seed, 1])  # captions and durations, drawn in plan order
    for kind in GROUP_KINDS:
        for concept in concepts:
            for _ in range(kind.counts[size]):
                group = f"g{group_number:07d}"
                group_number += 1
                text = caption(concept, meta) if kind.captioned else ""
                for modality in kind.modalities:
                    items.append(_item(len(items), kind, group, modality, concept, text, meta))
    return _name_library(items, seed)


def select_items(items: list[Item], split: str | None = None,
                 per_concept: int | None = None) -> list[Item]:
    """The items of one split (all if None), keeping the first `per_concept` groups of each
    concept in each group kind; numbers, paths and captions stay as in the whole world."""
    if split is not None and split not in {k.split for k in GROUP_KINDS}:
        raise UsageError(f"Unknown split {split!r}", hint="Use one of " + ", ".join(
            dict.fromkeys(k.split for k in GROUP_KINDS)) + ".")
    if per_concept is not None and per_concept < 1:
        raise UsageError("--per-concept must be at least 1")
    members: dict[str, list[str]] = {}
    for item in items:
        members.setdefault(item.group, []).append(item.modality)
    kept, seen = [], {}
    for item in items:
        if split is not None and item.split != split:
            continue
        if per_concept is not None:  # a group kind: its split and its modalities
            kind = (item.split, tuple(members[item.group]), item.concept.index)
            groups = seen.setdefault(kind, [])
            if item.group not in groups:
                if len(groups) >= per_concept:
                    continue
                groups.append(item.group)
        kept.append(item)
    return kept


def _item(number, kind, group, modality, concept, text, meta) -> Item:
    seconds = 0.0
    if modality == "audio":
        seconds = round(MIN_SECONDS + (MAX_SECONDS - MIN_SECONDS) * meta.random() ** 3, 2)
    path = ""
    if modality != "text":
        ext = _EXTENSIONS[modality][0]
        path = f"{kind.split}/{modality}/{number:07d}.{ext}"
    return Item(number, kind.split, group, modality, concept, path, text, seconds)


def _name_library(items: list[Item], seed: int) -> list[Item]:
    """Give library files the kind of names a plant's folders have, in an order unrelated to
    their concepts, and a mix of formats (a third PNG, FLAC or PCD)."""
    rng = np.random.default_rng([seed, 0x11B])
    library = [i for i, item in enumerate(items) if item.split == "library"]
    order = rng.permutation(len(library))
    out = list(items)
    for slot, index in zip(order, library):
        item = items[index]
        ext = _EXTENSIONS[item.modality][1 if slot % 3 == 2 else 0]
        folder = _LIBRARY_FOLDERS[item.modality]
        stem = _library_stem(item.modality, int(slot), rng)
        out[index] = Item(
            item.number, item.split, item.group, item.modality, item.concept,
            f"library/{folder}/{stem}.{ext}", item.caption, item.seconds,
        )
    return out


def _library_stem(modality: str, slot: int, rng: np.random.Generator) -> str:
    if modality == "image":
        return f"IMG_{1000 + slot:04d}"
    if modality == "audio":
        day, minute = 1 + int(rng.integers(28)), int(rng.integers(24 * 60))
        clock = f"{minute // 60:02d}{minute % 60:02d}"
        return f"line{1 + slot % 4}_2026-03-{day:02d}_{clock}_{slot:03d}"
    return f"scan_{slot:04d}"
