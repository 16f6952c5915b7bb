"""Write the pack version that an alignment produces: the parent's files unchanged (so the base
encoders are byte-identical), plus one Ex-MCR head per leaf; each leaf-only modality (audio, 3D)
becomes an encoder of the new version through its leaf tower and head."""

from __future__ import annotations

import json
import os
from pathlib import Path

from core.errors import PackError
from core.packs.manifest import MANIFEST, Component
from core.packs.store import Pack
from core.packs.writer import PackFile, write_pack


def extend_pack(parent: Pack, heads: dict, folder: str | Path, *, version: str,
                source: str, license: str, extra: dict | None = None) -> Pack:
    """`heads`: {leaf: ExMCRHead (trained, eval mode)}; the leaf's towers must be in the
    parent's `leaves`. The new version names the parent; the base encoders are the parent's."""
    manifest = parent.manifest
    encoders = {m: c for m, c in manifest.encoders.items() if m not in heads}
    head_components = {}
    files = {rel: PackFile(parent.verified_path(rel), entry.source, entry.license)
             for rel, entry in manifest.files.items()}
    for leaf, head in heads.items():
        towers = manifest.leaves.get(leaf, {})
        if leaf not in towers:
            raise PackError(f"has no {leaf} tower in its leaf spaces, so no {leaf} head can be "
                            "added", path=parent.folder)
        encoders[leaf] = towers[leaf]
        rel = f"heads/{leaf}.safetensors"
        files[rel] = PackFile({k: v.detach().cpu() for k, v in head.state_dict().items()},
                              source, license)
        dim = head.Head1.in_features
        expansion = head.Head2.mlp1.net1[0].out_features // dim
        head_components[leaf] = Component("exmcr_head", {"dim": dim, "expansion": expansion},
                                          {"weights": rel})
    return write_pack(folder, name=manifest.name, version=version, dim=manifest.dim,
                      encoders=encoders, heads={**manifest.heads, **head_components},
                      files=files, parent=manifest.ref, extra=extra, leaves=manifest.leaves)


def amend_extra(pack: Pack, **entries) -> Pack:
    """Add entries to a freshly built pack's `extra` (its evaluation, measured on the written
    files) by replacing manifest.json atomically; the weight files are not touched."""
    path = pack.folder / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    data.setdefault("extra", {}).update(entries)
    tmp = path.with_name(MANIFEST + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return Pack.open(pack.folder)
