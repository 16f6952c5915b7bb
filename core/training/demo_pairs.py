"""Pairs for a continual step on the demo: the plant's inspection notes (asset tags and
maintenance codes the pack cannot read, core/continual/notes.py) with the demo library's
photos, written as the same pairs CSV a user brings to `mcr extend --pairs`."""

from __future__ import annotations

import csv
from pathlib import Path

from core.progress import CancelFn, ProgressFn

NOTES_PER_PHOTO = 2


def write_demo_note_pairs(out: str | Path, *, seed: int = 0, workers: int = 2,
                          progress: ProgressFn | None = None, cancel: CancelFn | None = None
                          ) -> Path:
    """Write `out` (a CSV headed `text,image`): `NOTES_PER_PHOTO` notes per photo of the demo
    plant library, generated (once) from the demo world's seed."""
    from core.continual.notes import notes
    from core.library.demo import SPLIT
    from core.paths import default_world_dir
    from core.world.build import build_world
    from core.world.concepts import concept_by_name

    world = default_world_dir("full", seed, SPLIT)
    build_world(world, "full", seed, only=SPLIT, workers=workers, progress=progress,
                cancel=cancel)
    with open(world / "manifest.csv", newline="", encoding="utf-8") as f:
        photos = [r for r in csv.DictReader(f) if r["modality"] == "image"]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "image"])
        for n, row in enumerate(photos):
            for note in notes(concept_by_name(row["concept"]), NOTES_PER_PHOTO, seed + n):
                writer.writerow([note, str(world / row["path"])])
    return out
