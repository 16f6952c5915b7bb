"""A continual step's pack version: the parent's files unchanged (so its encoders and heads are
byte-identical), one d×d linear map per trained modality and the DNS statistics, written whole
or not at all; reading maps and statistics back; and a version's chain of parents."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import PackError
from core.packs.manifest import Component, Continual, Manifest
from core.packs.store import Pack, find_packs
from core.packs.writer import PackFile, write_pack

if TYPE_CHECKING:
    import torch

    from core.continual.dns import Statistics
    from core.continual.maps import Maps

MAP_ARCH = "linear_map"
STATISTICS = "continual/statistics.safetensors"
NOT_INSTALLED = " (not installed)"
_DAMAGED = "Re-copy the pack version, or write it again with `mcr extend`."


def write_version(parent: Pack, maps: Maps, statistics: Statistics, folder: str | Path, *,
                  version: str, source: str, license: str, step: dict,
                  extra: dict | None = None) -> Pack:
    """The child version of `parent` with `maps` (one file per modality in `maps.modalities`),
    `statistics`, and `step` appended to the parent's steps. The pack writer stages it under a
    hidden name and renames it into place, so a pack version is whole or absent."""
    manifest = parent.manifest
    if maps.dim != manifest.dim or statistics.dim != manifest.dim:
        raise PackError(f"{parent.ref} embeds into {manifest.dim} dimensions, the maps and "
                        f"statistics have {maps.dim} and {statistics.dim}", path=parent.folder,
                        hint="Train the step on this pack's own embeddings.")
    unknown = sorted(set(maps.modalities) - set(manifest.encoders))
    if unknown:
        raise PackError(f"{parent.ref} has no {', '.join(unknown)} encoder to put a map after",
                        path=parent.folder)
    replaced = {c.files.get("weights") for c in manifest.maps.values()}
    if manifest.continual is not None:
        replaced.add(manifest.continual.statistics)
    kept = [rel for rel in manifest.files if rel not in replaced]
    files = {rel: PackFile(parent.verified_path(rel), manifest.files[rel].source,
                           manifest.files[rel].license) for rel in kept}
    components = {}
    for m, weight in maps.matrices().items():
        rel = f"maps/{m}.safetensors"
        files[rel] = PackFile({"weight": weight.float().cpu()}, source, license)
        components[m] = Component(MAP_ARCH, {"dim": manifest.dim}, {"weights": rel})
    files[STATISTICS] = PackFile(statistics.to_tensors(), source, license)
    steps = (*(manifest.continual.steps if manifest.continual is not None else ()),
             {"name": _default_name(step), **step})
    written = write_pack(folder, name=manifest.name, version=version, dim=manifest.dim,
                         encoders=manifest.encoders, heads=manifest.heads, files=files,
                         parent=manifest.ref, extra=extra, leaves=manifest.leaves,
                         maps=components, continual=Continual(STATISTICS, steps))
    changed = [rel for rel in kept
               if written.manifest.files[rel].sha256 != manifest.files[rel].sha256]
    if changed:
        shutil.rmtree(folder, ignore_errors=True)
        raise PackError(f"{', '.join(changed)} changed while being copied from {parent.ref}",
                        path=parent.folder, hint="Try again.")
    return written


def _default_name(step: dict) -> str:
    modalities = "-".join(step.get("modalities", ())) or "step"
    return f"{modalities} ({step['pairs']})" if "pairs" in step else modalities


def map_weight(pack: Pack, modality: str) -> torch.Tensor | None:
    """The d×d matrix W of a modality's map (verified), or None when it has none."""
    component = pack.manifest.maps.get(modality)
    if component is None:
        return None
    dim = pack.manifest.dim
    rel = component.files.get("weights")
    if component.arch != MAP_ARCH or component.config.get("dim") != dim or rel is None:
        raise PackError(f"the {modality} map of {pack.ref} is not a {dim}×{dim} {MAP_ARCH!r} "
                        "with 'weights'", path=pack.folder, hint=_DAMAGED)
    weight = pack.tensors(rel).get("weight")
    if weight is None or tuple(weight.shape) != (dim, dim):
        found = "none" if weight is None else "×".join(map(str, weight.shape))
        raise PackError(f"the {modality} map of {pack.ref} ({rel}) needs a {dim}×{dim} "
                        f"'weight' tensor, found {found}", path=pack.folder, hint=_DAMAGED)
    return weight


def load_maps(pack: Pack) -> Maps | None:
    """The version's maps (an untrained modality keeps the identity), or None without any."""
    if not pack.manifest.maps:
        return None
    from core.continual.maps import Maps

    return Maps.from_matrices(pack.manifest.dim,
                              {m: map_weight(pack, m) for m in pack.manifest.maps})


def load_statistics(pack: Pack) -> Statistics | None:
    """The DNS statistics a later step continues from, or None for a version without any."""
    continual = pack.manifest.continual
    if continual is None:
        return None
    from core.continual.dns import Statistics

    dim = pack.manifest.dim
    tensors = pack.tensors(continual.statistics)
    shapes = {"inputs": (dim, dim), "partners": (dim, dim), "inputs_count": (1,),
              "partners_count": (1,)}
    modalities = {key.rpartition(".")[0] for key in tensors}
    for m in sorted(modalities):
        for part, shape in shapes.items():
            found = tensors.get(f"{m}.{part}")
            if found is None or tuple(found.shape) != shape:
                raise PackError(f"the statistics of {pack.ref} ({continual.statistics}) need "
                                f"'{m}.{part}' of shape {shape}, found "
                                f"{None if found is None else tuple(found.shape)}",
                                path=pack.folder, hint=_DAMAGED)
    if len(tensors) != len(shapes) * len(modalities):
        raise PackError(f"the statistics of {pack.ref} ({continual.statistics}) hold tensors "
                        "this version does not know", path=pack.folder, hint=_DAMAGED)
    return Statistics.from_tensors(dim, tensors)


def chain(pack: Pack, installed: list[Pack] | None = None) -> list[str]:
    """The refs from the root version to `pack` following `parent` among the installed packs
    (`installed`, default: all found); a parent that is not installed ends the chain, marked
    with NOT_INSTALLED."""
    manifests: dict[str, Manifest] = {p.ref: p.manifest for p in (
        installed if installed is not None
        else [f.pack for f in find_packs() if f.pack is not None])}
    refs = [pack.ref]
    parent = pack.manifest.parent
    while parent is not None and parent not in refs:  # a damaged manifest may loop
        if parent not in manifests:
            refs.append(parent + NOT_INSTALLED)
            break
        refs.append(parent)
        parent = manifests[parent].parent
    return refs[::-1]


def step_names(manifest: Manifest) -> list[str]:
    """The continual steps that made this version, oldest first."""
    steps = manifest.continual.steps if manifest.continual is not None else ()
    return [str(s.get("name") or "unnamed") for s in steps]
