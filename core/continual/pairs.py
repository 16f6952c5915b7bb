"""Read the pairs a user brings for a continual step, and check them before any training:
a CSV of two columns (a file per cell, or text in a column headed `text`), or a folder laid out
by concept (`FOLDER/<concept>/<files>`: every file of one modality paired with the files of the
other in the same concept folder)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from core.continual.data import MIN_PAIRS
from core.errors import UsageError
from core.io.kinds import modality_of

TEXT = "text"


@dataclass(frozen=True)
class PairTable:
    source: Path
    m1: str
    m2: str
    left: list  # Path per row, or str for text
    right: list
    groups: list[int] | None  # concept per row (folder layout), else None

    def __len__(self) -> int:
        return len(self.left)


def read_pairs(source: str | Path, embeddable: list[str]) -> PairTable:
    """The pairs in `source`, checked: every file exists and is readable, each column holds
    one modality, the two differ, the pack (`embeddable`) embeds both, and there are enough."""
    source = Path(source)
    if source.is_dir():
        table = _from_folder(source)
    elif source.is_file():
        table = _from_csv(source)
    else:
        raise UsageError("does not exist", path=source,
                         hint="Give a CSV of two columns or a folder with one subfolder per "
                              "concept.")
    for m in (table.m1, table.m2):
        if m not in embeddable:
            raise UsageError(f"pairs {m} items, which the pack cannot embed", path=source,
                             hint=f"The pack embeds {', '.join(embeddable)}.")
    if table.m1 == table.m2:
        raise UsageError(f"has {table.m1} in both columns; a step pairs two modalities",
                         path=source, hint="Pair, for example, recordings with photos.")
    if len(table) < MIN_PAIRS:
        raise UsageError(f"holds {len(table)} pairs; a step needs at least {MIN_PAIRS}",
                         path=source, hint="Add more pairs (hundreds train well).")
    return table


def _from_csv(path: Path) -> PairTable:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if any(cell.strip() for cell in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise UsageError(f"cannot be read as a CSV file ({err})", path=path) from err
    if not rows:
        raise UsageError("is empty", path=path, hint="Write one pair per line: two files.")
    bad = next((i for i, r in enumerate(rows, 1) if len(r) != 2), None)
    if bad is not None:
        raise UsageError(f"line {bad} has {len(rows[bad - 1])} columns, not 2", path=path,
                         hint="Write one pair per line: two files separated by a comma.")
    header = [c.strip().lower() for c in rows[0]]
    has_header = all(c in (TEXT, "image", "audio", "3d") for c in header)
    body = rows[1:] if has_header else rows
    columns = []
    for col in range(2):
        cells = [r[col].strip() for r in body]
        if has_header and header[col] == TEXT:
            columns.append((TEXT, cells))
        else:
            columns.append(_files(path, col, cells))
    (m1, left), (m2, right) = columns
    return PairTable(path, m1, m2, left, right, None)


def _files(csv_path: Path, col: int, cells: list[str]) -> tuple[str, list[Path]]:
    paths, modalities = [], set()
    for line, cell in enumerate(cells, 1):
        p = Path(cell)
        p = p if p.is_absolute() else csv_path.parent / p
        if not p.is_file():
            raise UsageError(f"column {col + 1}, pair {line}: {cell} does not exist",
                             path=csv_path, hint="Paths are relative to the CSV's folder.")
        m = modality_of(p)
        if m is None:
            raise UsageError(f"column {col + 1}, pair {line}: {cell} is not an image, "
                             "recording or 3D file MCR Studio reads", path=csv_path)
        modalities.add(m)
        paths.append(p)
    if len(modalities) > 1:
        raise UsageError(f"column {col + 1} mixes {' and '.join(sorted(modalities))}; each "
                         "column holds one modality", path=csv_path)
    return (modalities.pop() if modalities else TEXT), paths


def _from_folder(folder: Path) -> PairTable:
    concepts = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    by_concept: list[dict[str, list[Path]]] = []
    found: set[str] = set()
    for concept in concepts:
        files: dict[str, list[Path]] = {}
        for p in sorted(concept.rglob("*")):
            m = modality_of(p) if p.is_file() else None
            if m is not None:
                files.setdefault(m, []).append(p)
        found |= set(files)
        by_concept.append(files)
    if len(found) != 2:
        raise UsageError(f"holds {', '.join(sorted(found)) or 'no readable files'} in its "
                         "concept folders; a step needs exactly two modalities", path=folder,
                         hint="Lay out FOLDER/<concept>/ with, e.g., photos and recordings.")
    m1, m2 = sorted(found)
    left, right, groups = [], [], []
    for index, files in enumerate(by_concept):
        a, b = files.get(m1, []), files.get(m2, [])
        if not a or not b:
            continue
        for i, p in enumerate(a):
            left.append(p)
            right.append(b[i % len(b)])
            groups.append(index)
    return PairTable(folder, m1, m2, left, right, groups)
