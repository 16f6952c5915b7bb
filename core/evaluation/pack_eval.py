"""`mcr eval`: evaluate an extended pack on a demo world's held-out set.

Measured live: the leaf spaces alone (the pack's leaf towers), the pack itself ("exmcr": every
modality through the encoders search uses), the base drift against the parent version (when it
is installed) and the leaf retention. The references (C-MCR, the paired oracle) are trained on
the world's pools when asked (`baselines`), otherwise taken from the pack's own build record
when the held-out set is the one it was built with."""

from __future__ import annotations

from pathlib import Path

from core.errors import UsageError
from core.progress import CancelFn, ProgressFn


def evaluate_pack(pack, world_dir: str | Path, *, per_concept: int | None = None,
                  baselines: bool = False, workers: int = 2, device: str = "cpu",
                  progress: ProgressFn | None = None, cancel: CancelFn | None = None) -> dict:
    from core.alignment.world_embeddings import embed_world
    from core.device import pick_device
    from core.encoders.runtime import PackModels
    from core.evaluation.report import check_targets, evaluate_extension

    if not pack.manifest.leaves or not pack.manifest.heads:
        raise UsageError(f"The pack {pack.ref} has no leaf spaces and heads to evaluate",
                         hint="`mcr eval` evaluates an extended pack such as the demo pack.")
    torch_device = pick_device(device)
    test = embed_world(PackModels(pack, torch_device), world_dir, "test",
                       per_concept=per_concept, workers=workers, progress=progress,
                       cancel=cancel)
    parent = _installed_parent(pack)
    drift = None
    if parent is not None:
        before = embed_world(PackModels(parent, torch_device), world_dir, "test",
                             per_concept=per_concept, leaves=False, workers=workers,
                             progress=progress, cancel=cancel)
        from core.evaluation.report import base_drift

        drift = base_drift({m: before.base[m] for m in ("image", "text")}, test.base)
    spaces = {f"leaf:{leaf}": {m: (v, test.labels[m]) for m, v in vs.items()}
              for leaf, vs in test.leaves.items()}
    spaces["exmcr"] = {m: (v, test.labels[m]) for m, v in test.base.items()}
    recorded: list[str] = []
    if baselines:
        spaces |= _trained_baselines(parent or pack, world_dir, test, torch_device, workers,
                                     progress, cancel)
    result = evaluate_extension(spaces, drift)  # drift None: no parent to measure it against
    if not baselines:
        recorded = _merge_recorded(result, pack, per_concept)
    result["pack"] = pack.ref
    result["held_out"] = {"world": str(world_dir), "per_concept": per_concept,
                          "items": {m: int(len(v)) for m, v in test.labels.items()}}
    result["drift_against"] = parent.ref if parent is not None else None
    result["recorded_methods"] = recorded
    result["targets"] = check_targets(result)
    return result


def _installed_parent(pack):
    """The parent version: a sibling folder of the pack first (they are installed together),
    then any installed pack of that name@version."""
    from core.errors import PackError
    from core.packs.store import Pack, resolve_pack

    if not pack.manifest.parent:
        return None
    for sibling in sorted(pack.folder.parent.glob("*/manifest.json")):
        try:
            candidate = Pack.open(sibling.parent)
        except PackError:
            continue
        if candidate.ref == pack.manifest.parent:
            return candidate
    try:
        return resolve_pack(pack.manifest.parent)
    except UsageError:
        return None


def _trained_baselines(pack, world_dir, test, device, workers, progress, cancel) -> dict:
    """C-MCR and the oracle trained now on the world's pools, with the towers of `pack`
    (the parent, whose base encoders equal the extended pack's)."""
    from core.alignment.extension import (
        Embeddings,
        ExtensionSettings,
        evaluation_spaces,
        train_extension,
    )
    from core.alignment.world_embeddings import embed_world
    from core.encoders.runtime import PackModels

    pool = embed_world(PackModels(pack, device), world_dir, "pool",
                       workers=workers, progress=progress, cancel=cancel)
    settings = ExtensionSettings(methods=("cmcr", "oracle"))
    extension = train_extension(pool, settings, progress=progress, cancel=cancel)
    base_only = Embeddings({m: test.base[m] for m in ("image", "text")}, test.leaves,
                           test.labels)
    spaces = evaluation_spaces(base_only, extension)
    return {k: v for k, v in spaces.items() if k in ("cmcr", "oracle")}


def _merge_recorded(result: dict, pack, per_concept: int | None) -> list[str]:
    """Add the build's C-MCR and oracle figures where this is the held-out set they were
    measured on (the whole test split, or the build's fixed subset)."""
    evaluation = pack.manifest.extra.get("evaluation") or {}
    if per_concept is None:
        record = evaluation.get("held_out")
    elif per_concept == evaluation.get("subset_per_concept"):
        record = evaluation.get("subset")
    else:
        record = None
    if not record:
        return []
    methods = set()
    for pair, entry in record.get("pairs", {}).items():
        for method in ("cmcr", "oracle"):
            if method in entry and pair in result["pairs"]:
                result["pairs"][pair][method] = entry[method]
                methods.add(method)
    return sorted(methods)

