"""GUI fixtures: the demo world's plant library (180 photos, recordings and scans) added once
with the shipped demo pack, and a private copy of it for each test, so tests that add or
remove items do not disturb the others; settings in a temporary file, never the user's."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def built_library(plant_world, tmp_path_factory) -> Path:
    import torch

    from core.encoders.runtime import PackModels
    from core.library.ingest import ingest
    from core.library.library import Library
    from core.packs.store import Pack
    from core.paths import assets_dir

    models = PackModels(Pack.open(assets_dir() / "packs" / "demo-1"), torch.device("cpu"))
    folder = tmp_path_factory.mktemp("gui-library") / "library"
    with Library.open(folder, space=models.pack.ref, dim=models.pack.manifest.dim) as lib:
        report = ingest(lib, models, [plant_world / "library"], tags=["demo"])
    assert report.counts()["indexed"] == 180
    return folder


@pytest.fixture
def library(built_library, tmp_path) -> Path:
    copy = tmp_path / "library"
    shutil.copytree(built_library, copy, ignore=shutil.ignore_patterns("writer.lock"))
    return copy


@pytest.fixture(autouse=True)
def private_settings(tmp_path, qapp):
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                      str(tmp_path / "settings"))
    qapp.setOrganizationName("MCR Studio Tests")
    qapp.setApplicationName("MCR Studio Tests")


class FakeSpeaker:
    """A playback backend that plays nothing and remembers what it was asked."""

    def __init__(self) -> None:
        self.played: list[tuple[int, int]] = []
        self._playing = False

    def play(self, samples, rate) -> None:
        self.played.append((len(samples), rate))
        self._playing = True

    def stop(self) -> None:
        self._playing = False

    def is_playing(self) -> bool:
        return self._playing


@pytest.fixture
def window(qtbot, library):
    """The main window on a copy of the plant library, opened (models loaded)."""
    from desktop.main_window import MainWindow
    from desktop.settings import Settings

    win = MainWindow(Settings(library=str(library), results=5), playback_backend=FakeSpeaker())
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.info is not None, timeout=60_000)
    yield win
    win.close()
