"""Ingest with the shipped demo pack: every good file indexed once, every bad one reported with
its reason, unchanged files not read again, duplicates folded, changes re-embedded, a cancelled
run resumed."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from PIL import Image

from core.errors import LibraryError
from core.library.ingest import ingest


def damage(folder) -> dict[str, str]:
    """Six bad files among the good ones: name -> a word their reason must contain."""
    photos, recordings, scans = (folder / k for k in ("photos", "recordings", "scans"))
    png = next(photos.glob("*.png"))
    wav = next(recordings.glob("*.wav"))
    (photos / "truncated.png").write_bytes(png.read_bytes()[:300])
    (recordings / "empty.wav").write_bytes(b"")
    (scans / "notes.ply").write_text("inspection notes, not a scan\n" * 20, encoding="utf-8")
    shutil.copy(wav, photos / "sound_named_as_photo.png")
    (scans / "tiny.obj").write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\n", encoding="utf-8")
    locked = photos / "locked.jpg"
    shutil.copy(next(photos.glob("*.jpg")), locked)
    locked.chmod(0)
    (folder / "README.txt").write_text("not media", encoding="utf-8")
    expected = {"truncated.png": "", "empty.wav": "empty", "notes.ply": "",
                "sound_named_as_photo.png": "", "tiny.obj": "points"}
    if os.getuid() != 0:  # root reads anything
        expected["locked.jpg"] = "Permission denied"
    return expected


def test_a_folder_with_bad_files_indexes_every_good_one(plant_copy, new_library, demo_models):
    folder = plant_copy(20)
    bad = damage(folder)
    lib = new_library()
    seen = []
    report = ingest(lib, demo_models, [folder], progress=seen.append)
    counts = report.counts()
    assert counts["indexed"] == 60  # (as root, the locked copy is read: a duplicate)
    skipped = {os.path.basename(r.path): r.reason for r in report.skipped}
    assert set(skipped) == set(bad), skipped
    for name, word in bad.items():
        assert word in skipped[name] and len(skipped[name]) > 10, (name, skipped[name])
    assert report.partial and report.ignored == 1
    assert lib.count() == lib.catalogue.stats()["items"] == counts["indexed"]
    assert {"scanning", "reading files", "indexing"} <= {p.stage for p in seen}
    for item in lib.catalogue.items():  # every item has its preview
        assert (lib.folder / item.preview).is_file()
        Image.open(lib.folder / item.preview).verify()
    (folder / "photos" / "locked.jpg").chmod(0o644)


def test_a_second_run_reads_nothing_again_and_folds_duplicates(plant_copy, new_library,
                                                                demo_models):
    folder = plant_copy(5)
    lib = new_library()
    first = ingest(lib, demo_models, [folder], tags=["hall-2"])
    assert first.counts()["indexed"] == 15 and not first.partial
    first_photo = sorted((folder / "photos").iterdir())[0]
    copy = folder / "photos" / ("copy-of-first" + first_photo.suffix)
    shutil.copy2(first_photo, copy)
    second = ingest(lib, demo_models, [folder])
    assert second.counts() == {"indexed": 0, "duplicate": 1, "unchanged": 15, "skipped": 0}
    assert lib.count() == 15 and lib.catalogue.stats()["files"] == 16
    (item,) = [i for i in lib.catalogue.items() if str(copy) in i.paths]
    assert len(item.paths) == 2 and item.tags == ("hall-2",)


def test_a_changed_file_is_embedded_again(plant_copy, new_library, demo_models):
    folder = plant_copy(3)
    lib = new_library()
    ingest(lib, demo_models, [folder])
    photo = sorted((folder / "photos").iterdir())[0]
    (old,) = [i for i in lib.catalogue.items() if str(photo) in i.paths]
    old_vector = lib.catalogue.vectors([old.id], lib.space, lib.dim)[0]
    with Image.open(photo) as original:
        turned, kind = original.convert("RGB").transpose(Image.Transpose.ROTATE_90), original.format
    turned.save(photo, format=kind)
    report = ingest(lib, demo_models, [folder])
    assert report.counts()["indexed"] == 1 and report.counts()["unchanged"] == 8
    (new,) = [i for i in lib.catalogue.items() if str(photo) in i.paths]
    assert new.id != old.id and not lib.catalogue.items([old.id]) and old.id not in lib.index
    new_vector = lib.catalogue.vectors([new.id], lib.space, lib.dim)[0]
    assert not np.allclose(new_vector, old_vector) and lib.count() == 9


def test_a_cancelled_run_keeps_its_commits_and_resumes(plant_copy, new_library, demo_models):
    folder = plant_copy(20)
    lib = new_library()
    state = {"indexed": 0}

    def progress(p):
        if p.stage == "indexing":
            state["indexed"] = p.done

    report = ingest(lib, demo_models, [folder], batch_size=8, progress=progress,
                    cancel=lambda: state["indexed"] >= 24)
    assert report.cancelled and "run the same command again" in report.summary()
    kept = lib.count()
    assert 24 <= kept < 60 and kept == report.counts()["indexed"]
    rest = ingest(lib, demo_models, [folder])
    assert rest.counts() == {"indexed": 60 - kept, "duplicate": 0, "unchanged": kept,
                             "skipped": 0}
    assert lib.count() == 60 == len(lib.catalogue.items())


def test_named_files_that_cannot_be_used_are_reported(tmp_path, new_library, demo_models):
    (tmp_path / "list.csv").write_text("a,b\n", encoding="utf-8")
    lib = new_library()
    report = ingest(lib, demo_models, [tmp_path / "list.csv", tmp_path / "nowhere"])
    reasons = {os.path.basename(r.path): r.reason for r in report.skipped}
    assert "not a supported type" in reasons["list.csv"]
    assert reasons["nowhere"] == "does not exist"


def test_a_library_of_another_pack_refuses_to_mix_spaces(tmp_path, demo_models):
    from core.library.library import Library

    lib = Library.open(tmp_path / "other", space="demo@0", dim=demo_models.pack.manifest.dim)
    with pytest.raises(LibraryError, match="demo@0") as err:
        ingest(lib, demo_models, [tmp_path])
    assert "reindex" in err.value.hint
    lib.close()
