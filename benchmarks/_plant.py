"""Shared by the library benchmarks: the shipped demo pack on the CPU and a mixed folder of
demo-world files (the plant library split with --quick; held-out files otherwise)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import _common  # noqa: F401  (puts the repo on sys.path)


def parse_args(*extra: tuple[str, dict]):
    """--quick and --real (the real pack's architectures instead of the demo pack), plus
    `extra` (flag, argparse keywords)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--real", action="store_true",
                        help="the real pack's architectures instead of the demo pack")
    for flag, options in extra:
        parser.add_argument(flag, **options)
    return parser.parse_args()


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


class OneEncoder:
    """The part of PackModels that ingest uses, over one bare encoder (its own space)."""

    def __init__(self, name: str, encoder) -> None:
        self.pack = SimpleNamespace(ref=f"{name}@bench", manifest=SimpleNamespace(dim=encoder.dim))
        self.modalities, self._encoder = [encoder.modality], encoder

    def encoder(self, modality):
        return self._encoder
