"""The Training tab's alignment job: re-run the demo pack's Ex-MCR alignment from its three
unaligned spaces (demo@0) on a small demo world, and install the result as a new version.

Stages: the demo world's pool and test splits (generated small, once) -> both embedded by every
tower of demo@0 (cached in the work folder, so a second run reuses them) -> one Ex-MCR head per
leaf, each epoch reporting its loss and held-out R@1 for the live plots -> the new version
written in the work folder and evaluated there (as `mcr demo pack build` evaluates its pack),
against the shipped demo@1 on the same held-out items -> installed among the user's packs by a
copy that is renamed into place. A cancelled run installs nothing; its finished head epochs are
checkpointed, so the next run resumes them."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import UsageError
from core.packs.store import Pack
from core.progress import CancelFn, ProgressFn, Tracker

PARENT = "demo@0"  # the three spaces before alignment
PREVIOUS = "demo@1"  # the shipped alignment, the table's reference
WORLD_SIZE = "full"
TEST_PER_CONCEPT = 3  # held-out items per concept and modality
# The table's pairs, each in both directions: the emergent ones, then the leaves' own pairs as
# the base space now sees them.
TABLE_PAIRS = (("image", "audio"), ("audio", "3d"), ("image", "3d"), ("text", "audio"))
# What each leaf's probe retrieves during training: its modality, through the head being
# trained, against the held-out images in the base space.
PROBE_GALLERY = {"audio": "image", "3d": "image"}


@dataclass
class AlignResult:
    pack: Pack  # the new version, installed
    previous: str  # the version it is compared with (demo@1)
    table: list[tuple[str, float, float]]  # (pair "a->b", R@1 previous, R@1 new)
    losses: dict[str, list[float]]  # leaf -> mean loss per epoch
    seconds: float


def align_demo(*, per_concept: int = 6, epochs: int = 20, version: str | None = None,
               seed: int = 0, workers: int = 2, progress: ProgressFn | None = None,
               cancel: CancelFn | None = None) -> AlignResult:
    """Align demo@0's leaves (audio, 3D) to its base space by Ex-MCR on the demo world's pools
    (`per_concept` unpaired items per concept and modality, world `seed`), `epochs` per head,
    and install the result as demo@`version` (default: the version after demo@1 not yet
    installed). Base files are the parent's, byte for byte."""
    from core.alignment.exmcr import HeadTraining
    from core.alignment.extension import ExtensionSettings, train_extension
    from core.continual.extend import next_version
    from core.demopack.build import embedded_split, evaluate_built, install_pack
    from core.packs.store import resolve_pack
    from core.paths import data_dir

    started = time.perf_counter()
    if per_concept < 1 or epochs < 1:
        raise UsageError("The alignment needs at least one item per concept and one epoch")
    tracker = Tracker(progress, cancel)
    tracker.start("preparing the alignment")
    parent, previous = resolve_pack(PARENT), resolve_pack(PREVIOUS)
    version = version or next_version(previous)
    packs_dir = data_dir() / "packs"
    target = packs_dir / f"{parent.manifest.name}-{version}"
    _refuse_taken(parent.manifest.name, version, target)
    root = data_dir() / "training" / "align"

    pool_world, pool_work = _world(root, "pool", per_concept, seed, workers, progress, cancel)
    test_world, test_work = _world(root, "test", TEST_PER_CONCEPT, seed, workers, progress,
                                   cancel)
    pool = embedded_split(parent, pool_world, "pool", pool_work, workers, progress, cancel)
    test = embedded_split(parent, test_world, "test", test_work, workers, progress, cancel)

    settings = ExtensionSettings(methods=("exmcr",), head=HeadTraining(
        epochs=epochs, batch_size=128, temperature=0.07, warmup_steps=5))
    checkpoints = root / "checkpoints"
    extension = train_extension(
        pool, settings, progress=progress, cancel=cancel, checkpoint_dir=checkpoints,
        probes={leaf: _probe(test, leaf, gallery) for leaf, gallery in PROBE_GALLERY.items()})

    tracker.start(f"writing {parent.manifest.name}@{version}")
    staging = root / "packs" / target.name  # outside every pack folder until it is evaluated
    if staging.exists():
        shutil.rmtree(staging)
    try:
        pack = _write(parent, extension, staging, version, settings, seed, per_concept)
        tracker.start(f"evaluating {pack.ref} and {previous.ref}")
        new = evaluate_built(pack, parent, test, extension, test_world, test_work, workers,
                             progress, cancel)["evaluation"]
        old = _evaluate_previous(previous, test, test_world, test_work, workers, progress,
                                 cancel)
        tracker.start(f"installing {pack.ref}")
        _refuse_taken(parent.manifest.name, version, target)
        installed = Pack.open(install_pack(pack, packs_dir))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(checkpoints, ignore_errors=True)  # done: the next run trains afresh
    table = [(f"{a}->{b}", _r1(old, a, b), _r1(new, a, b))
             for x, y in TABLE_PAIRS for a, b in ((x, y), (y, x))]
    return AlignResult(installed, previous.ref, table, dict(extension.history["exmcr"]),
                       round(time.perf_counter() - started, 1))


def _refuse_taken(name: str, version: str, target: Path) -> None:
    from core.packs.store import find_packs

    taken = {f.pack.manifest.version for f in find_packs()
             if f.pack is not None and f.pack.manifest.name == name}
    if version in taken or target.exists():
        raise UsageError(f"The pack version {name}@{version} already exists",
                         hint="Choose another version; a pack version is never overwritten.")


def _world(root: Path, split: str, per_concept: int, seed: int, workers, progress, cancel
           ) -> tuple[Path, Path]:
    """The demo world's `split` with `per_concept` items per concept (generated once), and the
    work folder of its embeddings, named after its manifest so a regenerated world re-embeds."""
    from core.paths import default_world_dir
    from core.world.build import build_world

    Tracker(progress, cancel).start(f"demo world: {split} split, {per_concept} per concept")
    world = default_world_dir(WORLD_SIZE, seed, split, per_concept)
    build_world(world, WORLD_SIZE, seed, only=split, per_concept=per_concept, workers=workers,
                progress=progress, cancel=cancel)
    digest = hashlib.sha256((world / "manifest.csv").read_bytes()).hexdigest()[:12]
    return world, root / f"{world.name}-{digest}"


def _probe(test, leaf: str, gallery: str):
    """R@1 of the leaf's held-out items, through the head, against held-out `gallery` items in
    the base space, by concept."""
    import numpy as np
    import torch

    from core.evaluation.metrics import retrieval_scores

    queries = torch.from_numpy(np.ascontiguousarray(test.leaves[leaf][leaf], np.float32))
    labels, items, item_labels = test.labels[leaf], test.base[gallery], test.labels[gallery]

    def probe(head) -> dict[str, float]:
        projected = head.leaf_only(queries).numpy()
        return {"held_out_r1": retrieval_scores(projected, labels, items, item_labels)["R@1"]}

    return probe


def _write(parent: Pack, extension, folder: Path, version: str, settings, seed: int,
           per_concept: int) -> Pack:
    from core.alignment.pack_version import extend_pack
    from core.demopack.build import LICENSE

    extra = {
        "description": "The demo pack's leaves (audio through text, 3D through image) aligned "
                       "again by Ex-MCR from its unaligned spaces, in MCR Studio's Training "
                       "tab; no audio-image or 3D-audio pair was used.",
        "built_by": f"core.training.align.align_demo(per_concept={per_concept}, "
                    f"epochs={settings.head.epochs}, seed={seed})",
        "data": {"world": {"size": WORLD_SIZE, "seed": seed},
                 "pools": f"split 'pool', {per_concept} unpaired images, sounds, scans and "
                          "captions per concept",
                 "held_out": f"split 'test', {TEST_PER_CONCEPT} per concept and modality",
                 "tuples": extension.tuples},
        "alignment": {"method": "exmcr", **settings.to_json(),
                      "loss_per_epoch": extension.history.get("exmcr", {})},
        **({"spaces": parent.manifest.extra["spaces"]} if "spaces" in parent.manifest.extra
           else {}),
    }
    return extend_pack(parent, extension.exmcr, folder, version=version,
                       source="trained in the Training tab (core/training/align.py)",
                       license=LICENSE, extra=extra)


def _evaluate_previous(previous: Pack, test, world: Path, work: Path, workers, progress,
                       cancel) -> dict:
    """The previous version on the same held-out items: every modality through its encoders,
    the leaf spaces from the parent's towers (its leaves are the parent's)."""
    from core.alignment.extension import Extension, evaluation_spaces
    from core.demopack.build import embedded_split
    from core.evaluation.report import base_drift, evaluate_extension

    embedded = embedded_split(previous, world, "test", work, workers, progress, cancel,
                         leaves=False)
    spaces = evaluation_spaces(test, Extension())  # the leaf spaces alone
    spaces["exmcr"] = {m: (v, test.labels[m]) for m, v in embedded.base.items()}
    drift = base_drift({m: test.base[m] for m in ("image", "text")}, embedded.base)
    return evaluate_extension(spaces, drift)


def _r1(result: dict, a: str, b: str) -> float:
    return float(result["pairs"][f"{a}->{b}"]["exmcr"]["R@1"])
