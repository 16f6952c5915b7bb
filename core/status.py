"""What the engine can do right now, in words for the status bar and the start page."""

from __future__ import annotations

from dataclasses import dataclass

from core.paths import assets_dir, data_dir


@dataclass(frozen=True)
class EngineStatus:
    packs: list[str]
    summary: str
    message: str


def engine_status() -> EngineStatus:
    packs = sorted(
        p.parent.name
        for root in (assets_dir() / "packs", data_dir() / "packs")
        if root.is_dir()
        for p in root.glob("*/manifest.json")
    )
    if not packs:
        return EngineStatus(
            packs,
            "No model pack installed",
            "No model pack is installed yet, so there is nothing to search with. "
            "A model pack holds the encoders that turn images, sounds, 3D scans and text "
            f"into one shared space. Import one with `mcr pack import PATH`, or put it in\n"
            f"{data_dir() / 'packs'}",
        )
    return EngineStatus(packs, f"Model packs: {', '.join(packs)}", "Ready.")
