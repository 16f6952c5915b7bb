"""Shared by the library benchmarks: the shipped demo pack on the CPU and a mixed folder of
demo-world files (the plant library split with --quick; held-out files otherwise)."""

from __future__ import annotations

from pathlib import Path

import _common  # noqa: F401  (puts the repo on sys.path)


def demo_models():
    import torch

    from core.encoders.runtime import PackModels
    from core.packs.store import Pack
    from core.paths import assets_dir

    return PackModels(Pack.open(assets_dir() / "packs" / "demo-1"), torch.device("cpu"))


def mixed_folder(tmp: Path, quick: bool) -> Path:
    """180 files (60 photos, recordings, scans) with --quick, else 900 (300 of each)."""
    from core.world.build import build_world

    if quick:
        build_world(tmp / "world", "small", 0, only="library", workers=2)
        return tmp / "world" / "library"
    build_world(tmp / "world", "full", 0, only="test", per_concept=5, workers=2)
    return tmp / "world" / "test"


def media_files(folder: Path) -> dict[str, list[Path]]:
    from core.io.kinds import modality_of

    found: dict[str, list[Path]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and modality_of(path):
            found.setdefault(modality_of(path), []).append(path)
    return found
