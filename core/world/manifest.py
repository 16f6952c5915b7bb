"""The demo world's manifest: one CSV row per item, plus `world.json` describing the build."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from core.errors import CorruptFileError, UsageError

MANIFEST = "manifest.csv"
WORLD_JSON = "world.json"


@dataclass(frozen=True)
class Row:
    item_id: str
    split: str
    group: str
    modality: str
    concept: str  # "family/condition"
    concept_index: int
    family: str
    condition: str
    path: str  # relative to the world folder; "" for text items
    caption: str  # non-empty exactly where the text belongs to the item (pairs, text items)
    seconds: float  # audio duration
    sha256: str  # of the file; "" for text items
    bytes: int


COLUMNS = [f.name for f in fields(Row)]


def write_manifest(folder: Path, rows: list[Row], info: dict) -> None:
    """Write the manifest, then world.json last: a world without world.json is incomplete."""
    tmp = folder / (MANIFEST + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
    os.replace(tmp, folder / MANIFEST)
    tmp = folder / (WORLD_JSON + ".tmp")
    tmp.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, folder / WORLD_JSON)


def read_world_info(folder: Path) -> dict | None:
    path = Path(folder) / WORLD_JSON
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CorruptFileError(f"cannot read the world description ({err})", path=path) from err


def read_manifest(folder: str | Path) -> list[Row]:
    folder = Path(folder)
    path = folder / MANIFEST
    if read_world_info(folder) is None or not path.exists():
        raise UsageError(
            "is not a complete demo world (no world.json or manifest.csv)",
            path=folder,
            hint="Generate one with `mcr demo world --out DIR`.",
        )
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != COLUMNS:
            raise CorruptFileError("has unexpected columns", path=path)
        return [_row(r) for r in reader]


def _row(r: dict) -> Row:
    return Row(
        **{
            **r,
            "concept_index": int(r["concept_index"]),
            "seconds": float(r["seconds"]),
            "bytes": int(r["bytes"]),
        }
    )
