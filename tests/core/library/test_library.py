"""The library folder without encoders: the catalogue is the truth, the index follows it
after any crash, damage is repaired from the stored vectors, and filters and recall hold."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pytest

from core.errors import LibraryError
from core.library import library as library_module
from core.library.catalogue import FILE, NewItem
from core.library.library import Library
from tests.core.index.test_hnsw import clustered, exact_top, recall

DIM = 32
KINDS = ("image", "audio", "3d")


def items(n: int, start: int = 0, tags=()) -> list[NewItem]:
    vectors = clustered(n, dim=DIM, seed=start + 7)
    return [NewItem(hashlib.sha256(str(start + i).encode()).hexdigest(), KINDS[(start + i) % 3],
                    f"/data/f{start + i}.bin", 100 + i, 1, vectors[i], None, tuple(tags))
            for i in range(n)]


def open_lib(folder, **kw) -> Library:
    return Library.open(folder, space="test@1", dim=DIM, **kw)


def crash(lib: Library) -> None:
    """Drop the library as a killed process would: no save, the lock released by the OS."""
    lib._closed = True
    lib._lock_file.close()
    lib.catalogue.close()


def stored_ids(lib: Library) -> set[int]:
    return lib.catalogue.ids_with_vector(lib.space)


def test_commits_survive_a_crash_before_the_index_is_saved(tmp_path, monkeypatch):
    monkeypatch.setattr(library_module, "SAVE_EVERY_S", 1e9)  # the index is never saved
    lib = open_lib(tmp_path)
    first = lib.commit(items(50))
    lib.save(force=True)
    second = lib.commit(items(30, start=50))
    crash(lib)
    again = open_lib(tmp_path)
    assert set(again.index.ids()) == set(first) | set(second) == stored_ids(again)
    assert any("30 items added" in r for r in again.repairs)
    # the rebuilt entries answer like the others: each finds itself first
    vectors = again.catalogue.vectors(second, again.space, DIM)
    assert [again.search(v, 1)[0][0] for v in vectors] == second
    again.close()


def test_items_removed_before_a_crash_leave_the_index_on_reopening(tmp_path):
    lib = open_lib(tmp_path)
    ids = lib.commit(items(40))
    lib.close()
    lib = open_lib(tmp_path)
    lib.catalogue.remove_items(ids[:10])  # the catalogue commit, then the crash
    crash(lib)
    again = open_lib(tmp_path)
    assert set(again.index.ids()) == set(ids[10:])
    hits = {i for v in clustered(20, DIM, seed=3) for i, _ in again.search(v, 40)}
    assert not hits & set(ids[:10])
    again.close()


def test_ids_are_never_reused(tmp_path):
    lib = open_lib(tmp_path)
    ids = lib.commit(items(5))
    lib.remove_items([ids[-1]])
    new = lib.commit(items(1, start=100))
    assert new[0] > max(ids)
    lib.close()


@pytest.mark.parametrize("damage", ["truncate", "garbage", "delete", "record"])
def test_a_damaged_index_is_rebuilt_from_the_stored_vectors(tmp_path, damage):
    lib = open_lib(tmp_path)
    ids = lib.commit(items(200))
    queries = clustered(20, DIM, seed=9)
    before = [lib.search(q, 10) for q in queries]
    lib.close()
    folder = lib.index_folder()
    (binary,) = folder.glob("index-*.bin")
    if damage == "truncate":
        binary.write_bytes(binary.read_bytes()[:1000])
    elif damage == "garbage":
        binary.write_bytes(os.urandom(binary.stat().st_size))
    elif damage == "delete":
        binary.unlink()
    else:
        (folder / "index.json").write_text("{not json", encoding="utf-8")
    again = open_lib(tmp_path)
    assert any("rebuilt" in r for r in again.repairs), again.repairs
    assert sorted(again.index.ids()) == sorted(ids)
    after = [again.search(q, 10) for q in queries]
    assert [[i for i, _ in b] for b in before] == [[i for i, _ in a] for a in after]
    again.close()
    clean = open_lib(tmp_path)  # the rebuilt index was saved: nothing to repair now
    assert clean.repairs == []
    clean.close()


def test_one_writer_at_a_time_and_readers_never_write(tmp_path):
    writer = open_lib(tmp_path)
    writer.commit(items(20))
    with pytest.raises(LibraryError, match="another MCR Studio process"):
        open_lib(tmp_path)
    reader = Library.open(tmp_path, write=False)  # sees the committed items, not yet saved
    assert reader.count() == 20
    stamp = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("index*")}
    reader.close()
    assert stamp == {p: p.stat().st_mtime_ns for p in tmp_path.rglob("index*")}
    writer.close()


def test_a_corrupt_catalogue_is_a_clear_error(tmp_path):
    (tmp_path / FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match=FILE) as err:
        Library.open(tmp_path, write=False)
    assert "backup" in err.value.hint


def test_a_folder_without_a_library_says_how_to_make_one(tmp_path):
    with pytest.raises(LibraryError, match="holds no library") as err:
        Library.open(tmp_path / "none", write=False)
    assert "mcr library add" in err.value.hint


def test_filters_by_modality_tag_and_exclusion(tmp_path):
    lib = open_lib(tmp_path)
    ids = lib.commit(items(60)) + lib.commit(items(30, start=60, tags=("line4",)))
    kinds = {i.id: i.modality for i in lib.catalogue.items()}
    query = clustered(1, DIM, seed=5)[0]
    audio = lib.search(query, 100, modalities=["audio"])
    assert len(audio) == 30 and {kinds[i] for i, _ in audio} == {"audio"}
    tagged = lib.search(query, 100, tags=["line4"])
    assert {i for i, _ in tagged} == set(ids[60:])
    both = lib.search(query, 100, modalities=["3d"], tags=["line4"], exclude=[ids[62]])
    assert {i for i, _ in both} == {i for i in ids[60:] if kinds[i] == "3d"} - {ids[62]}
    assert lib.search(query, 5, tags=["nothing"]) == []
    scores = [s for _, s in lib.search(query, 90)]
    assert len(scores) == 90 and scores == sorted(scores, reverse=True)
    lib.close()


def test_library_search_recall_against_exact_search(tmp_path):
    lib = open_lib(tmp_path)
    ids = []
    for start in range(0, 6000, 1000):  # in batches, as ingest commits
        ids += lib.commit(items(1000, start=start))
    vectors = lib.catalogue.vectors(ids, lib.space, DIM)
    queries = clustered(100, DIM, seed=99)
    found = [[i for i, _ in lib.search(q, 10)] for q in queries]
    assert recall(found, exact_top(vectors, np.array(ids), queries, 10)) >= 0.98
    lib.close()


@pytest.mark.slow
def test_recall_at_100k_clustered_vectors_with_and_without_a_filter(tmp_path):
    """The issue's scale: 100k vectors; per-modality pools of 33k go through the graph's
    filtered search, not the exact fallback."""
    lib = open_lib(tmp_path)
    ids = []
    for start in range(0, 100_000, 10_000):
        ids += lib.commit(items(10_000, start=start))
    ids = np.array(ids)
    vectors = lib.catalogue.vectors(list(ids), lib.space, DIM)
    queries = clustered(200, DIM, seed=123)
    found = [[i for i, _ in lib.search(q, 10)] for q in queries]
    assert recall(found, exact_top(vectors, ids, queries, 10)) >= 0.98
    audio = np.array(sorted(lib.catalogue.ids(modalities=["audio"])))
    assert len(audio) > library_module.EXACT_BELOW
    audio_vectors = lib.catalogue.vectors(list(audio), lib.space, DIM)
    found = [[i for i, _ in lib.search(q, 10, modalities=["audio"])] for q in queries]
    assert recall(found, exact_top(audio_vectors, audio, queries, 10)) >= 0.98
    lib.close()
