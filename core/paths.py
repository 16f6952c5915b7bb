"""Where MCR Studio keeps things: the user data folder (overridable) and the shipped assets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_HOME = "MCR_STUDIO_HOME"


def data_dir() -> Path:
    """The user data folder: $MCR_STUDIO_HOME, else the platform's (~/.local/share/mcr-studio)."""
    override = os.environ.get(ENV_HOME)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_data_path("mcr-studio", appauthor=False)


def assets_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "assets"


def bundle_dir() -> Path | None:
    """The folder of a packaged MCR Studio (the PyInstaller bundle's executables), where packs
    can be dropped next to the program; None when running from source."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(sys.executable).resolve().parent


def default_world_dir(size: str, seed: int, only: str | None = None,
                      per_concept: int | None = None) -> Path:
    name = f"{size}-seed{seed}" + (f"-{only}" if only else "") + (
        f"-{per_concept}per" if per_concept else "")
    return data_dir() / "worlds" / name
