"""Shared engine fixtures: the shipped demo pack's encoders on the CPU, and the demo world's
plant library (one photo, recording and scan per concept), generated once per session."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from core.library.library import Library


@pytest.fixture(scope="session")
def demo_models():
    import torch

    from core.encoders.runtime import PackModels
    from core.packs.store import Pack
    from core.paths import assets_dir

    return PackModels(Pack.open(assets_dir() / "packs" / "demo-1"), torch.device("cpu"))


@pytest.fixture(scope="session")
def plant_world(tmp_path_factory) -> Path:
    """`mcr demo world --size small --only library`: 180 files under library/."""
    from core.world.build import build_world

    out = tmp_path_factory.mktemp("plant") / "world"
    build_world(out, "small", 0, only="library", workers=2)
    return out


@pytest.fixture(scope="session")
def concepts(plant_world) -> dict[str, str]:
    """Absolute path of every plant library file -> its concept (the ground truth)."""
    with open(plant_world / "manifest.csv", newline="", encoding="utf-8") as f:
        return {str(plant_world / row["path"]): row["concept"] for row in csv.DictReader(f)}


@pytest.fixture
def plant_copy(plant_world, tmp_path):
    """A private copy of `count` files of each kind (first in name order), to damage freely."""

    def make(count: int | None = None) -> Path:
        out = tmp_path / "files"
        for kind in ("photos", "recordings", "scans"):
            (out / kind).mkdir(parents=True)
            for src in sorted((plant_world / "library" / kind).iterdir())[:count]:
                shutil.copy2(src, out / kind / src.name)
        return out

    return make


@pytest.fixture
def new_library(tmp_path, demo_models):
    opened = []

    def make(name: str = "lib", **kwargs) -> Library:
        lib = Library.open(tmp_path / name, space=demo_models.pack.ref,
                           dim=demo_models.pack.manifest.dim, **kwargs)
        opened.append(lib)
        return lib

    yield make
    for lib in opened:
        lib.close()  # (closing twice is harmless)
