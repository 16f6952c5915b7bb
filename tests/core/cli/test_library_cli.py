"""`mcr library ...` and `mcr search` as a newcomer runs them: tables by default, JSON on
request, exit codes that say what happened (0 done, 6 partial, 7 no results, 2 bad usage,
4 library problems)."""

from __future__ import annotations

import json
import shutil

import pytest

from core.cli.main import main


def mcr(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def files(plant_copy):
    folder = plant_copy(4)
    (folder / "photos" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return folder


def test_add_list_stats_search_verify_remove(capsys, files):
    code, out, _ = mcr(capsys, "library", "add", str(files), "--tag", "hall-2", "--device", "cpu")
    assert code == 6  # partial: one file skipped
    assert "broken.jpg" in out and "12 indexed" in out and "1 skipped" in out

    code, out, _ = mcr(capsys, "library", "list", "--json")
    listed = json.loads(out)
    assert code == 0 and len(listed) == 12 and all(i["tags"] == ["hall-2"] for i in listed)

    code, out, _ = mcr(capsys, "library", "stats")
    assert code == 0 and "12 items (4 3d, 4 audio, 4 image)" in out and "demo@1" in out

    code, out, _ = mcr(capsys, "search", "--text", "pump", "-k", "2", "--json", "--device", "cpu")
    found = json.loads(out)
    assert code == 0 and [r["modality"] for r in found["results"]] == ["image"] * 2 + [
        "audio"] * 2 + ["3d"] * 2
    assert found["pack"] == "demo@1" and all(r["preview"] for r in found["results"])

    photo = sorted((files / "photos").glob("IMG_*"))[0]
    code, out, _ = mcr(capsys, "search", "--image", str(photo), "--modality", "audio")
    rows = [line for line in out.splitlines() if line.startswith("audio ")]
    assert code == 0 and len(rows) == 4 and "score" in out  # the table

    code, _, err = mcr(capsys, "search", "--audio", str(photo))
    assert code == 2 and "--image" in err

    item = listed[0]["id"]
    code, out, _ = mcr(capsys, "search", "--like", str(item), "--json", "-k", "1")
    assert code == 0 and item not in [r["item_id"] for r in json.loads(out)["results"]]

    code, out, _ = mcr(capsys, "search", "--text", "pump", "--tag", "no-such-tag")
    assert code == 7 and "0 results" in out

    gone = sorted((files / "scans").iterdir())[0]
    gone.unlink()
    code, out, _ = mcr(capsys, "library", "verify")
    assert code == 1 and f"gone: {gone}" in out
    code, out, _ = mcr(capsys, "library", "verify", "--fix", "--json")
    assert code == 0 and json.loads(out)["fixed"] == {"dropped_items": 1}

    code, out, _ = mcr(capsys, "library", "remove", str(item), "99999")
    assert code == 1 and "Removed 1 items; the library holds 10" in out and "99999" in out


def test_search_without_any_library_says_what_to_do(capsys):
    code, _, err = mcr(capsys, "search", "--text", "pump")
    assert code == 4 and "mcr library add" in err and "mcr demo library" in err


def test_reindex_moves_a_library_to_another_pack_version(capsys, files, isolated_home):
    from core.library.library import Library
    from core.paths import assets_dir

    assert mcr(capsys, "library", "add", str(files), "--device", "cpu")[0] == 6
    newer = isolated_home / "packs" / "demo-2"
    shutil.copytree(assets_dir() / "packs" / "demo-1", newer)
    manifest = json.loads((newer / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(version="2", parent="demo@1")
    (newer / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    before = json.loads(mcr(capsys, "search", "--text", "fan", "--json")[1])["results"]

    code, out, _ = mcr(capsys, "library", "reindex", "--pack", "demo@2", "--device", "cpu")
    assert code == 0 and "12 items in the space of demo@2" in out
    after = json.loads(mcr(capsys, "search", "--text", "fan", "--json")[1])
    assert after["pack"] == "demo@2"
    assert [r["item_id"] for r in after["results"]] == [r["item_id"] for r in before]
    with Library.open(isolated_home / "library", write=False) as lib:
        assert lib.catalogue.ids_with_vector("demo@1") == set()  # the old vectors are gone
        assert not lib.index_folder("demo@1").exists()
