"""In a packaged bundle (PyInstaller sets sys.frozen), packs are also found next to the program:
a pack folder dropped beside the executables or into a `packs` folder there is listed and
resolved without rebuilding or importing; from source, nothing changes."""

from __future__ import annotations

import json
import shutil
import sys

from core.packs.store import find_packs, pack_roots, resolve_pack
from core.paths import assets_dir, bundle_dir, data_dir


def _pack(folder, name: str, version: str):
    """A pack folder (only its manifest: finding and resolving read nothing else)."""
    folder.mkdir(parents=True)
    manifest = json.loads((assets_dir() / "packs" / "demo-0" / "manifest.json").read_text())
    manifest.update(name=name, version=version)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_from_source_packs_come_from_the_assets_and_the_data_folder():
    assert bundle_dir() is None
    assert pack_roots() == [assets_dir() / "packs", data_dir() / "packs"]


def test_a_bundle_finds_packs_dropped_next_to_its_program(tmp_path, monkeypatch):
    bundle = tmp_path / "opt" / "mcr-studio"
    (bundle / "_internal").mkdir(parents=True)  # a bundle's own folder: not a pack
    program = bundle / "mcr-studio"
    program.write_bytes(b"")
    (bundle / "mcr").symlink_to("mcr-studio")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(bundle / "mcr"))  # started through the link

    assert bundle_dir() == bundle.resolve()
    assert pack_roots() == [assets_dir() / "packs", bundle.resolve() / "packs",
                            bundle.resolve(), data_dir() / "packs"]
    beside = _pack(bundle / "real-pack", "real", "1")
    in_packs = _pack(bundle / "packs" / "plant-2", "plant", "2")
    shutil.copytree(in_packs, data_dir() / "packs" / "plant-1")
    manifest = json.loads((data_dir() / "packs" / "plant-1" / "manifest.json").read_text())
    (data_dir() / "packs" / "plant-1" / "manifest.json").write_text(
        json.dumps({**manifest, "version": "1"}))

    found = {f.pack.ref: f.folder for f in find_packs() if f.pack is not None}
    assert found["real@1"] == beside.resolve()
    assert found["plant@2"] == in_packs.resolve()
    assert {"demo@0", "demo@1", "plant@1"} <= set(found)
    assert resolve_pack("real").folder == beside.resolve()
    assert resolve_pack("plant").manifest.version == "2"  # the newest, wherever it is
