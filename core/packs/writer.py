"""Write a model pack: files first (tensors as safetensors), then the manifest with each file's
sha256, all in a staging folder renamed into place, so a pack is whole or absent."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from core.errors import PackError
from core.packs.manifest import MANIFEST, Component, Continual, FileEntry, Manifest
from core.packs.store import Pack


@dataclass(frozen=True)
class PackFile:
    content: bytes | dict | Path  # raw bytes, a dict of tensors (-> safetensors), or a file
    source: str  # where it came from (URL, "trained by `mcr demo pack build`", ...)
    license: str


def write_pack(
    folder: str | Path,
    *,
    name: str,
    version: str,
    dim: int,
    encoders: dict[str, Component],
    heads: dict[str, Component] | None = None,
    files: dict[str, PackFile],
    parent: str | None = None,
    extra: dict | None = None,
    leaves: dict[str, dict[str, Component]] | None = None,
    maps: dict[str, Component] | None = None,
    continual: Continual | None = None,
) -> Pack:
    folder = Path(folder)
    if folder.exists():
        raise PackError("already exists; a pack version is never overwritten", path=folder,
                        hint="Choose a new version or folder.")
    staging = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        entries = {rel: _write_file(staging, rel, f) for rel, f in files.items()}
        manifest = Manifest(name, version, dim, encoders, heads or {}, entries, parent,
                            extra or {}, leaves or {}, maps or {}, continual)
        (staging / MANIFEST).write_text(json.dumps(manifest.to_json(), indent=2) + "\n",
                                        encoding="utf-8")
        Pack.open(staging)  # the manifest we wrote must read back
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Pack.open(folder)


def _write_file(staging: Path, rel: str, f: PackFile) -> FileEntry:
    target = staging / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(f.content, dict):
        from safetensors.torch import save_file

        if not rel.endswith(".safetensors"):
            raise PackError(f"tensors must go to a .safetensors file, not {rel}")
        save_file({k: v.contiguous() for k, v in f.content.items()}, str(target))
    elif isinstance(f.content, Path):
        shutil.copyfile(f.content, target)
    else:
        target.write_bytes(f.content)
    data = target.read_bytes()
    return FileEntry(rel, hashlib.sha256(data).hexdigest(), len(data), f.source, f.license)
