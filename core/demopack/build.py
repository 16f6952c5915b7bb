"""`mcr demo pack build`: reproduce the shipped demo pack from a seed.

Stages, each kept in the work folder so that a cancelled or killed build resumes where it
stopped: the demo world (full size) -> the three spaces (base image-text, audio leaf, 3D leaf;
written as pack version 0) -> the pools and the held-out set embedded by every tower ->
Ex-MCR heads, with the C-MCR baseline and the paired oracle on the same pools -> pack version 1
(the parent's files + the heads) -> its evaluation, measured on the written pack -> the report.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from core.errors import PackError, UsageError
from core.progress import CancelFn, ProgressFn, Tracker

NAME = "demo"
LICENSE = "Proprietary (MCR Studio demo pack, trained on the procedural demo world)"
SUBSET_PER_CONCEPT = 5  # the fixed part of the held-out set that CI evaluates the pack on


def _alignment_settings():
    from core.alignment.exmcr import HeadTraining
    from core.alignment.extension import ExtensionSettings

    return {"full": ExtensionSettings(),
            "quick": ExtensionSettings(head=HeadTraining(epochs=20, batch_size=128,
                                                         temperature=0.07, warmup_steps=5))}





def build_demo_pack(work: str | Path, *, seed: int = 0, size: str = "full",
                    budget: str = "full", world: str | Path | None = None,
                    install: str | Path | None = None, workers: int = 2,
                    progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> dict:
    """Run every stage (skipping those already done in `work`); return the build summary.
    `world`: an existing demo world to use instead of generating one in `work`. With
    `install`, copy the finished packs there (a folder of packs, e.g. assets/packs)."""
    from core.alignment.extension import train_extension
    from core.alignment.spaces import train_demo_spaces
    from core.world.build import build_world

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(progress, cancel)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        timings[stage] = round(time.perf_counter() - clock, 1)
        clock = time.perf_counter()

    if world is None:
        tracker.start(f"demo world ({size}, seed {seed})")
        world = work / "world"
        build_world(world, size, seed, workers=workers, progress=progress, cancel=cancel)
    world = Path(world)
    lap("world")
    spaces_dir = work / "spaces"
    spaces = _done_spaces(spaces_dir, budget, seed) or train_demo_spaces(
        world, spaces_dir, budget=budget, seed=seed, workers=workers, progress=progress,
        cancel=cancel)
    lap("spaces")
    parent = _spaces_pack(spaces_dir, spaces, work / "packs" / f"{NAME}-0")
    pool, test = (embedded_split(parent, world, split, work, workers, progress, cancel)
                  for split in ("pool", "test"))
    lap("embedding")
    settings = _alignment_settings()[budget]
    extension = train_extension(pool, settings, progress=progress, cancel=cancel,
                                checkpoint_dir=work / "checkpoints")
    lap("alignment")
    pack = _child_pack(parent, extension, work, spaces, settings, seed, _world_size(world),
                       budget)
    result = evaluate_built(pack, parent, test, extension, world, work, workers, progress,
                            cancel)
    lap("evaluation")
    from core.demopack.report import write_report

    summary = {"pack": pack.ref, "folder": str(pack.folder), "seconds": timings,
               "total_seconds": round(sum(timings.values()), 1), **result}
    write_report(work / "report", summary, extension, test)
    if install is not None:  # the parent too: `mcr eval` measures the base drift against it
        summary["installed"] = [str(install_pack(p, Path(install))) for p in (parent, pack)]
    return summary


def _world_size(world: Path) -> str:
    from core.world.manifest import read_world_info

    return (read_world_info(world) or {}).get("size", "unknown")


def _done_spaces(folder: Path, budget: str, seed: int) -> dict | None:
    from core.alignment.spaces import SPACES_JSON

    path = folder / SPACES_JSON
    if not path.is_file():
        return None
    done = json.loads(path.read_text(encoding="utf-8"))
    return done if done.get("budget") == budget and done.get("seed") == seed else None


def _spaces_pack(spaces_dir: Path, spaces: dict, folder: Path):
    """Pack version 0: the three spaces as trained. Its encoders are the base's (image, text);
    the leaves' towers are listed under `leaves` for the alignment to use."""
    from core.packs.manifest import Component
    from core.packs.writer import PackFile, write_pack

    if folder.exists():
        shutil.rmtree(folder)  # always from the current spaces (a copy of ~9 MiB)
    source = "trained by `mcr demo pack build` (core/alignment/spaces.py)"
    files, components = {}, {}
    for space, info in spaces["spaces"].items():
        for modality, comp in info["components"].items():
            for rel in comp["files"].values():
                files[rel] = PackFile(spaces_dir / rel, source, LICENSE)
            components[(space, modality)] = Component(comp["arch"], comp["config"],
                                                      comp["files"])
    leaf_of = {"audio": "audio", "cloud": "3d"}
    leaves: dict[str, dict] = {}
    for (space, modality), comp in components.items():
        if space in leaf_of:
            leaves.setdefault(leaf_of[space], {})[modality] = comp
    return write_pack(
        folder, name=NAME, version="0", dim=spaces["dim"],
        encoders={m: components[("base", m)] for m in ("image", "text")}, files=files,
        leaves=leaves, extra={"description": "The demo's three spaces before alignment: "
                              "image and text in the base space, audio and 3D only in their "
                              "leaf spaces.", "spaces": _spaces_summary(spaces)})


def _spaces_summary(spaces: dict) -> dict:
    return {name: {k: info[k] for k in ("split", "groups", "steps", "settings", "retrieval",
                                         "seconds")}
            for name, info in spaces["spaces"].items()} | {"seed": spaces["seed"],
                                                            "budget": spaces["budget"]}


def embedded_split(pack, world: Path, split: str, work: Path, workers, progress, cancel,
                   leaves: bool = True):
    """The world's `split` embedded by every tower of `pack` (only its base towers without
    `leaves`), cached under `work` by the pack's file hashes so a rebuilt version re-embeds."""
    import hashlib

    from core.alignment.extension import Embeddings
    from core.alignment.world_embeddings import embed_world
    from core.device import pick_device
    from core.encoders.runtime import PackModels

    files = "".join(sorted(e.sha256 for e in pack.manifest.files.values()))
    digest = hashlib.sha256(files.encode()).hexdigest()[:12]  # a rebuilt version re-embeds
    cache = work / "embeddings" / f"{pack.ref}-{digest}-{split}.npz"
    if cache.is_file():
        return Embeddings.load(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    embedded = embed_world(PackModels(pack, pick_device("cpu")), world, split, leaves=leaves,
                           workers=workers, progress=progress, cancel=cancel)
    embedded.save(cache)
    return embedded


def _child_pack(parent, extension, work: Path, spaces: dict, settings, seed, size, budget):
    from core.alignment.pack_version import extend_pack

    folder = work / "packs" / f"{NAME}-1"
    if folder.exists():
        shutil.rmtree(folder)  # rebuilt from the (checkpointed) heads: cheap and always current
    extra = {
        "description": "The demo pack: a small image-text base space, extended with audio "
                       "(through text) and 3D (through image) by Ex-MCR; no audio-image or "
                       "3D-audio pair was used.",
        "built_by": f"mcr demo pack build --seed {seed} --size {size} --budget {budget}",
        "data": {"world": {"size": size, "seed": seed},
                 "pools": "split 'pool' (unpaired images, sounds, scans and captions)",
                 "tuples": extension.tuples},
        "alignment": {"method": "exmcr", **settings.to_json(),
                      "loss_per_epoch": extension.history.get("exmcr", {})},
        "spaces": _spaces_summary(spaces),
    }
    source = "trained by `mcr demo pack build` (core/alignment/exmcr.py)"
    return extend_pack(parent, extension.exmcr, folder, version="1", source=source,
                       license=LICENSE, extra=extra)


def evaluate_built(pack, parent, test, extension, world: Path, work: Path, workers, progress,
                   cancel) -> dict:
    """Evaluate the written pack: its test embeddings through the product's loading path, the
    base drift against the parent pack, every method on the held-out set and on the fixed
    subset that CI re-checks; record it all in the pack's manifest."""
    from core.alignment.extension import evaluation_spaces
    from core.alignment.pack_version import amend_extra
    from core.evaluation.report import base_drift, check_targets, evaluate_extension

    after = embedded_split(pack, world, "test", work, workers, progress, cancel, leaves=False)
    drift = base_drift({m: test.base[m] for m in ("image", "text")}, after.base)
    spaces = evaluation_spaces(test, extension)
    # The pack's audio and 3D encoders (leaf tower + head, as search loads them) must give what
    # the trained heads give; the evaluation then uses the pack's own output.
    consistency = {m: float(np.abs(after.base[m] - spaces["exmcr"][m][0]).max())
                   for m in ("audio", "3d")}
    if max(consistency.values()) > 1e-4:
        raise PackError(f"gives audio/3D embeddings that differ from the trained heads' "
                        f"({consistency}): it is not what was trained", path=pack.folder,
                        hint="Delete the work folder's packs/ and build again.")
    spaces["exmcr"] = {m: (v, test.labels[m]) for m, v in after.base.items()}
    full = evaluate_extension(spaces, drift)
    subset_index = _subset_index(test.labels, SUBSET_PER_CONCEPT)
    subset = evaluate_extension(
        {name: {m: (v[subset_index[m]], lab[subset_index[m]]) for m, (v, lab) in s.items()}
         for name, s in spaces.items()}, drift)
    targets = check_targets(full)
    amend_extra(pack, evaluation={"held_out": full, "subset": subset,
                                  "subset_per_concept": SUBSET_PER_CONCEPT,
                                  "targets": targets, "pack_vs_heads": consistency})
    return {"evaluation": full, "subset": subset, "targets": targets}


def _subset_index(labels: dict[str, np.ndarray], per_concept: int) -> dict[str, np.ndarray]:
    """Rows of the first `per_concept` items of each concept, per modality (manifest order)."""
    out = {}
    for m, lab in labels.items():
        seen: dict[int, int] = {}
        keep = []
        for i, concept in enumerate(lab.tolist()):
            seen[concept] = seen.get(concept, 0) + 1
            if seen[concept] <= per_concept:
                keep.append(i)
        out[m] = np.array(keep, np.int64)
    return out


def install_pack(pack, packs_dir: Path) -> Path:
    """Copy the pack into a packs folder (the shipped assets or the user's), replacing the same
    version only after the copy is complete and verified."""
    from core.packs.store import Pack

    target = packs_dir / f"{pack.manifest.name}-{pack.manifest.version}"
    staging = packs_dir / f".{target.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(pack.folder, staging)
    problems = Pack.open(staging).verify()
    if problems:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError("The copied pack does not verify: " + "; ".join(problems),
                         path=staging)
    if target.exists():
        shutil.rmtree(target)
    staging.rename(target)
    return target
