"""Shared engine fixtures: the shipped demo pack's encoders on the CPU, and private copies of
the demo world's plant library (`plant_world`, tests/conftest.py) to damage freely."""

from __future__ import annotations

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
