"""A continual step on the user's own pairs, written as a new pack version (`mcr extend`).

Everything that can be wrong with the pairs is found before training: the table is read and
checked, every file embedded (a file that cannot be read stops the step, named). Training
writes nothing; only a finished step writes the new version, whole or not at all (the pack
writer stages and renames), so a cancelled or killed run leaves the current version as it was.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from core.continual.data import PairSet
from core.continual.maps import Maps
from core.continual.methods import DNS
from core.continual.metrics import Probe, score
from core.continual.pairs import TEXT, PairTable, read_pairs
from core.continual.step0 import library_pools, seed_pairs, seed_statistics
from core.continual.train import StepSettings, train_step
from core.continual.version import NOT_INSTALLED, chain, load_maps, load_statistics, write_version
from core.errors import CorruptFileError, UsageError
from core.packs.store import Pack, find_packs, resolve_pack
from core.progress import CancelFn, ProgressFn, Tracker

HELD_OUT_SHARE = 0.2  # of the pairs, kept out of training for the before/after table
MIN_HELD_OUT = 8
DEMO_PACK = "demo"


@dataclass
class ExtendResult:
    pack: Pack
    parent: str
    pairs: int
    held_out: int
    before: dict[str, float]
    after: dict[str, float]
    losses: list[float]
    pack_before: dict[str, float] = field(default_factory=dict)  # demo pack: its own pairs
    pack_after: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0


def extend(parent: Pack, source: str | Path, *, version: str | None = None,
           settings: StepSettings | None = None, device: str = "auto", workers: int = 2,
           library=None, seeds: list[PairSet] | None = None,
           progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> ExtendResult:
    """Train a DNS step on the pairs in `source` on top of `parent` and write the new version.
    A parent without statistics (the first step) gets step 0 from `seeds`, else from the demo
    world (the demo pack) or from `library`'s items (any other pack)."""
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.paths import data_dir

    started = time.perf_counter()
    settings = settings or StepSettings()
    models = PackModels(parent, pick_device(device))
    table = read_pairs(source, models.modalities)
    target_version = version or next_version(parent)
    pairs = _embed_table(models, table, workers, progress, cancel)
    train, held = _split(pairs, settings.seed)
    dim = parent.manifest.dim
    maps = load_maps(parent) or Maps(dim)
    statistics = load_statistics(parent)
    demo = None
    if parent.manifest.name == DEMO_PACK and seeds is None:
        demo = _demo_seeds(parent, workers, progress, cancel)
    if statistics is None:
        if seeds is None:
            seeds = (demo.seed if demo is not None
                     else seed_pairs(library_pools(library, parent.ref)))
        statistics = seed_statistics(dim, seeds)
    probe = Probe(f"{table.m1}-{table.m2}", table.m1, table.m2)
    before = _score_pairs(maps, held, probe)
    pack_before = _score_pack(maps, demo)
    method = DNS(statistics, settings.lambda_min)
    losses = train_step(maps, train, method, settings, progress=progress, cancel=cancel,
                        probe=lambda m: {"held_out_r1": _score_pairs(m, held, probe)["R@1"]})
    Tracker(progress, cancel).start("writing the new pack version")
    method.end(maps, train, settings.temperature)
    after = _score_pairs(maps, held, probe)
    pack_after = _score_pack(maps, demo)
    step = {"pairs": str(table.source.name), "modalities": [table.m1, table.m2],
            "count": len(train), "held_out": len(held), "settings": settings.to_json(),
            "before": before, "after": after, "pack_before": pack_before,
            "pack_after": pack_after}
    folder = data_dir() / "packs" / f"{parent.manifest.name}-{target_version}"
    pack = write_version(parent, maps, statistics, folder, version=target_version,
                         source=f"`mcr extend --pairs {table.source.name}`",
                         license="trained locally on the user's pairs", step=step)
    return ExtendResult(pack, parent.ref, len(train), len(held), before, after, losses,
                        pack_before, pack_after, round(time.perf_counter() - started, 1))


def next_version(parent: Pack) -> str:
    """The parent's version plus one (demo@1 -> demo@2), skipping versions installed."""
    taken = {f.pack.manifest.version for f in find_packs()
             if f.pack is not None and f.pack.manifest.name == parent.manifest.name}
    head, _, last = parent.manifest.version.rpartition(".")
    number = int(last) + 1 if last.isdigit() else 1
    prefix = f"{head}." if head else ("" if last.isdigit() else f"{last}.")
    while f"{prefix}{number}" in taken:
        number += 1
    return f"{prefix}{number}"


def _embed_table(models, table: PairTable, workers, progress, cancel) -> PairSet:
    from core.encoders.pipeline import embed_files, embed_items

    columns = []
    for m, cells in ((table.m1, table.left), (table.m2, table.right)):
        encoder = _unmapped(models.encoder(m))
        if m == TEXT:
            done = embed_items(encoder, cells, batch_size=64, progress=progress, cancel=cancel)
        else:
            unique = list(dict.fromkeys(cells))
            done = embed_files(encoder, unique, batch_size=32, workers=workers,
                               progress=progress, cancel=cancel)
        if done.failed:
            index, err = done.failed[0]
            more = f" (and {len(done.failed) - 1} more)" if len(done.failed) > 1 else ""
            raise CorruptFileError(f"cannot be used for the step: {err}{more}",
                                   path=unique[index] if m != TEXT else table.source,
                                   hint="Fix or remove that pair; nothing was trained.")
        vectors = done.vectors
        if m != TEXT:
            position = {p: i for i, p in enumerate(unique)}
            vectors = vectors[[position[p] for p in cells]]
        columns.append(torch.from_numpy(np.ascontiguousarray(vectors, np.float32)))
    groups = None if table.groups is None else torch.tensor(table.groups, dtype=torch.long)
    return PairSet(f"{table.m1}-{table.m2} from {table.source.name}", table.m1, table.m2,
                   columns[0], columns[1], groups)


def _unmapped(encoder):
    """The pack's encoder before any continual map: steps train on the frozen embeddings."""
    from core.encoders.runtime import MappedEncoder

    return encoder.inner if isinstance(encoder, MappedEncoder) else encoder


def _split(pairs: PairSet, seed: int) -> tuple[PairSet, PairSet]:
    count = len(pairs)
    held = max(MIN_HELD_OUT, int(round(count * HELD_OUT_SHARE)))
    if count - held < MIN_HELD_OUT:
        return pairs, pairs  # too few to hold any out: the table says so (held_out == pairs)
    order = torch.from_numpy(np.random.default_rng(seed).permutation(count))
    return pairs.batch(order[held:]), pairs.batch(order[:held])


def _score_pairs(maps: Maps, held: PairSet, probe: Probe) -> dict[str, float]:
    labels = (held.groups.numpy() if held.groups is not None
              else np.arange(len(held), dtype=np.int64))
    held_out = {probe.m1: (held.x1.numpy(), labels), probe.m2: (held.x2.numpy(), labels)}
    return {k: round(v, 4) for k, v in score(maps, held_out, probe).items()}


def _demo_seeds(parent: Pack, workers, progress, cancel):
    """The demo world's step 0 and held-out sets, embedded as every step of the chain was."""
    from core.continual.demo import QUICK, demo_data, demo_sequence

    return demo_sequence(demo_data(_unmapped_ref(parent), QUICK, workers=workers,
                                   progress=progress, cancel=cancel))


def _unmapped_ref(parent: Pack) -> str:
    """The latest version of the chain without maps: its encoders give the frozen
    embeddings that every step trains on."""
    for ref in reversed(chain(parent)):  # the parent first
        if ref.endswith(NOT_INSTALLED):
            break
        if not (parent if ref == parent.ref else resolve_pack(ref)).manifest.maps:
            return ref
    raise UsageError(f"No version before {parent.ref} without continual maps is installed, so "
                     "the demo world cannot be embedded as the steps were",
                     hint="Install the demo pack's first version (demo@1) again.")


def _score_pack(maps: Maps, demo) -> dict[str, float]:
    if demo is None:
        return {}
    return {p.name: round(score(maps, demo.held_out, p)["R@1"], 4) for p in demo.pack_probes}
