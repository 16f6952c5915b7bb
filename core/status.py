"""What the engine can do right now, in words for the status bar and the start page."""

from __future__ import annotations

from dataclasses import dataclass

from core.paths import data_dir

MODALITY_NAMES = {"image": "images", "text": "text", "audio": "sounds", "3d": "3D scans"}


@dataclass(frozen=True)
class EngineStatus:
    packs: list[str]  # every installed pack version, as name@version
    active: str | None  # the pack used by default
    summary: str
    message: str


def engine_status() -> EngineStatus:
    from core.packs.store import default_pack, find_packs

    found = find_packs()
    packs = sorted(f.pack.ref for f in found if f.pack is not None)
    broken = [f"{f.folder.name} ({f.problem})" for f in found if f.pack is None]
    active = default_pack()
    if active is None:
        return EngineStatus(
            packs, None,
            "No model pack installed",
            "No model pack is installed yet, so there is nothing to search with. "
            "A model pack holds the encoders that turn images, sounds, 3D scans and text "
            f"into one shared space. Import one with `mcr pack import PATH`, or put it in\n"
            f"{data_dir() / 'packs'}" + (f"\n\nNot readable: {'; '.join(broken)}"
                                          if broken else ""),
        )
    names = [MODALITY_NAMES.get(m, m) for m in active.manifest.encoders]
    kinds = ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0]
    message = (f"Ready. The {active.manifest.name} pack ({active.ref}) puts {kinds} into one "
               f"{active.manifest.dim}-dimensional space.")
    if len(packs) > 1:
        message += f" Installed: {', '.join(packs)}."
    if broken:
        message += f" Not readable: {'; '.join(broken)}."
    return EngineStatus(packs, active.ref, f"Pack {active.ref}", message)
