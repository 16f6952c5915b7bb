"""`mcr extend`: pairs checked before any training, a finished step written as a new pack
version (the parent untouched and still selectable), a cancelled step writes nothing."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.continual.data import PairSet
from core.continual.extend import extend, next_version
from core.continual.pairs import read_pairs
from core.continual.step0 import seed_pairs
from core.errors import Cancelled, CorruptFileError, UsageError
from core.packs.store import resolve_pack
from core.paths import data_dir

ALL = ["image", "text", "audio", "3d"]


def write_csv(path: Path, rows, header=None) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture
def pairs_csv(plant_world, concepts, tmp_path) -> Path:
    """Recordings paired with the photo of the same concept (60 pairs), relative paths."""
    by_concept: dict[str, dict[str, str]] = {}
    for path, concept in concepts.items():
        kind = Path(path).parent.name
        by_concept.setdefault(concept, {})[kind] = path
    rows = [(c["recordings"], c["photos"]) for c in by_concept.values()]
    return write_csv(tmp_path / "pairs.csv", rows)


def test_bad_pair_files_are_refused_before_training(pairs_csv, tmp_path):
    rows = list(csv.reader(pairs_csv.read_text().splitlines()))
    missing = write_csv(tmp_path / "missing.csv", rows[:20] + [["nope.wav", rows[0][1]]])
    with pytest.raises(UsageError, match="pair 21: nope.wav does not exist"):
        read_pairs(missing, ALL)
    same = write_csv(tmp_path / "same.csv", [(a, a) for a, _ in rows])
    with pytest.raises(UsageError, match="audio in both columns"):
        read_pairs(same, ALL)
    with pytest.raises(UsageError, match="cannot embed"):
        read_pairs(pairs_csv, ["image", "text"])
    few = write_csv(tmp_path / "few.csv", rows[:5])
    with pytest.raises(UsageError, match="holds 5 pairs"):
        read_pairs(few, ALL)
    mixed = write_csv(tmp_path / "mixed.csv", rows[:30] + [(rows[0][1], rows[0][1])])
    with pytest.raises(UsageError, match="column 1 mixes"):
        read_pairs(mixed, ALL)
    ragged = tmp_path / "ragged.csv"
    ragged.write_text(f"{rows[0][0]},{rows[0][1]},extra\n")
    with pytest.raises(UsageError, match="line 1 has 3 columns"):
        read_pairs(ragged, ALL)


def test_a_text_column_and_a_concept_folder_are_read(plant_world, concepts, tmp_path):
    photos = sorted(p for p in concepts if "/photos/" in p)[:20]
    table = read_pairs(write_csv(tmp_path / "t.csv", [(p, f"note {i}") for i, p in
                                                      enumerate(photos)], ["image", "text"]),
                       ALL)
    assert (table.m1, table.m2, table.right[3]) == ("image", "text", "note 3")
    folder = tmp_path / "by-concept"
    for path, concept in list(concepts.items()):
        if "/scans/" in path:
            continue
        target = folder / concept.replace("/", "-") / Path(path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(path).read_bytes())
    table = read_pairs(folder, ALL)
    assert (table.m1, table.m2, len(table)) == ("audio", "image", 60)
    assert len(set(table.groups)) == 60


def _seeds(demo_models, pairs_csv) -> list[PairSet]:
    """Step 0 from the plant library's own embeddings (the test skips the demo world)."""
    from core.encoders.pipeline import embed_files

    table = read_pairs(pairs_csv, ALL)
    pools = {m: embed_files(demo_models.encoder(m), files).vectors
             for m, files in (("audio", table.left), ("image", table.right))}
    return seed_pairs(pools)


def test_extend_writes_a_new_version_and_keeps_the_parent(demo_models, pairs_csv, quick_data):
    from core.continual.version import load_maps, load_statistics

    parent = resolve_pack("demo@1")
    before = parent.verify()
    result = extend(parent, pairs_csv, seeds=_seeds(demo_models, pairs_csv), device="cpu")
    assert result.pack.ref == "demo@2" and result.pack.manifest.parent == "demo@1"
    assert parent.verify() == before == []
    assert result.pairs + result.held_out == 60 and result.held_out == 12
    assert set(result.before) >= {"R@1", "R@5", "R@10", "mAP"}
    assert result.losses[-1] < result.losses[0]
    maps = load_maps(result.pack)
    assert set(maps.modalities) == {"audio", "image"}
    assert not np.allclose(maps.matrices()["audio"].numpy(), np.eye(256), atol=1e-4)
    statistics = load_statistics(result.pack)
    assert statistics.modalities["audio"].inputs.count > 0
    assert next_version(parent) == "3"  # demo@2 is taken now

    # a second step continues the chain from demo@2's maps and statistics, on the frozen
    # embeddings (not demo@2's mapped ones)
    second = extend(result.pack, pairs_csv, device="cpu")
    assert second.pack.ref == "demo@3" and second.pack.manifest.parent == "demo@2"
    assert second.before == pytest.approx(result.after, abs=1e-4)
    grown = load_statistics(second.pack).modalities["audio"].inputs.count
    assert grown == statistics.modalities["audio"].inputs.count + second.pairs
    assert [s["name"] for s in second.pack.manifest.continual.steps] == [
        "audio-image (pairs.csv)", "audio-image (pairs.csv)"]


def test_cancel_writes_nothing(demo_models, pairs_csv):
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) > 15  # into training (2 embedding polls, then one per batch)

    with pytest.raises(Cancelled):
        extend(resolve_pack("demo@1"), pairs_csv, seeds=_seeds(demo_models, pairs_csv),
               device="cpu", cancel=cancel)
    packs = data_dir() / "packs"
    assert not packs.exists() or not any(packs.iterdir())


def test_an_unreadable_file_stops_the_step_naming_it(demo_models, pairs_csv, tmp_path):
    rows = list(csv.reader(pairs_csv.read_text().splitlines()))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    bad = write_csv(tmp_path / "bad.csv", rows[:30] + [[str(broken), rows[0][1]]])
    with pytest.raises(CorruptFileError) as err:
        extend(resolve_pack("demo@1"), bad, seeds=_seeds(demo_models, pairs_csv),
               device="cpu")
    assert "broken.wav" in str(err.value)
    assert not (data_dir() / "packs").exists() or not any((data_dir() / "packs").iterdir())


@pytest.mark.slow
def test_cli_extend_on_the_demo_pack(quick_data, pairs_csv, capsys):
    """The whole command as a user runs it: step 0 from the demo world, a before/after table,
    the pack's own retrieval kept, and `mcr pack list` showing the chain."""
    assert main(["extend", "--pairs", str(pairs_csv), "--device", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pack"] == "demo@2" and out["parent"] == "demo@1"
    drops = [out["pack_before"][k] - out["pack_after"][k] for k in out["pack_before"]]
    assert len(drops) == 6 and max(drops) <= 0.03
    assert main(["pack", "list"]) == 0
    listing = capsys.readouterr().out
    assert "demo@2" in listing and "demo@1" in listing
