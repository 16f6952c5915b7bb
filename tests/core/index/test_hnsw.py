"""The on-disk HNSW index: recall against exact search, removal and compaction, atomic saves
that survive a crash at any step, and damage detected on load."""

import os

import numpy as np
import pytest

from core.errors import IndexDamagedError, UsageError
from core.index.hnsw import RECORD_FILE, HnswIndex


def clustered(n: int, dim: int = 64, clusters: int = 50, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 fixed centres (the same for every seed), as embeddings of a
    library of concepts are; `seed` draws the samples."""
    centres = np.random.default_rng(12345).standard_normal((clusters, dim))
    rng = np.random.default_rng(seed)
    x = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top(vectors, ids, queries, k):
    scores = queries @ vectors.T
    return ids[np.argsort(-scores, axis=1, kind="stable")[:, :k]]


def recall(found, truth) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


@pytest.fixture(scope="module")
def data():
    vectors = clustered(20_000)
    return vectors, np.arange(100, 100 + len(vectors)), clustered(200, seed=1)


@pytest.fixture(scope="module")
def built(data, tmp_path_factory):
    vectors, ids, _ = data
    index = HnswIndex(tmp_path_factory.mktemp("idx"), 64, owner="demo@1")
    for start in range(0, len(ids), 5000):  # incrementally, growing past its capacity
        index.add(ids[start:start + 5000], vectors[start:start + 5000])
    return index


def test_recall_at_10_against_exact_search(built, data):
    vectors, ids, queries = data
    found, scores = built.search(queries, 10)
    assert recall(found, exact_top(vectors, ids, queries, 10)) >= 0.98
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first
    exact = (queries[:, None, :] * vectors[found - 100]).sum(-1)
    assert np.allclose(scores, exact, atol=1e-4)  # scores are cosine similarities


def test_save_and_load_give_the_same_answers(built, data, tmp_path):
    _, _, queries = data
    built.folder = tmp_path / "copy"
    built.save()
    loaded = HnswIndex.load(tmp_path / "copy", owner="demo@1")
    assert loaded.count() == built.count() == 20_000
    a, b = built.search(queries[:20], 10), loaded.search(queries[:20], 10)
    assert np.array_equal(a[0], b[0])
    with pytest.raises(UsageError, match="holds vectors of demo@1"):
        HnswIndex.load(tmp_path / "copy", owner="demo@2")


def test_removed_items_are_never_returned_and_compaction_keeps_the_rest(tmp_path):
    vectors = clustered(2000, seed=3)
    ids = np.arange(2000)
    index = HnswIndex(tmp_path, 64)
    index.add(ids, vectors)
    gone = ids[::5]  # 20%: marked deleted, not yet compacted
    index.remove(gone)
    found, _ = index.search(vectors[:50], 20)
    assert not set(found.ravel()) & set(gone.tolist())
    assert index.count() == 1600 and 0 not in index
    index.remove(ids[1::5])  # 40% deleted: compacted
    assert index.count() == 1200 and index._index.get_current_count() == 1200
    keep = np.setdiff1d(ids, np.concatenate([ids[::5], ids[1::5]]))
    found, scores = index.search(vectors[keep[:30]], 1)
    assert np.array_equal(found[:, 0], keep[:30]) and np.allclose(scores[:, 0], 1, atol=1e-5)
    index.add(gone[:3], vectors[gone[:3]])  # removed ids come back
    assert all(int(i) in index for i in gone[:3])


def test_search_filters_and_small_indexes(tmp_path):
    index = HnswIndex(tmp_path, 64)
    assert index.search(clustered(2), 10)[0].shape == (2, 0)
    vectors = clustered(100, seed=4)
    index.add(np.arange(100), vectors)
    found, _ = index.search(vectors[:5], 10, allowed=lambda i: i % 2 == 0)
    assert found.shape == (5, 10) and np.all(found % 2 == 0)
    assert index.search(vectors[:1], 500)[0].shape == (1, 100)
    with pytest.raises(UsageError, match="32 dimensions"):
        index.add([200], np.ones((1, 32)))
    with pytest.raises(UsageError, match="distinct"):
        index.add([1, 1], vectors[:2])


def test_a_crash_during_save_leaves_the_previous_state(tmp_path, monkeypatch):
    vectors = clustered(300, seed=5)
    index = HnswIndex(tmp_path, 64)
    index.add(np.arange(200), vectors[:200])
    index.save()
    index.add(np.arange(200, 300), vectors[200:])
    real_replace = os.replace

    def crash_on_record(src, dst):
        if str(dst).endswith(RECORD_FILE):
            raise OSError("power cut")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_record)
    with pytest.raises(OSError, match="power cut"):
        index.save()
    monkeypatch.setattr(os, "replace", real_replace)
    assert HnswIndex.load(tmp_path).count() == 200  # the new file exists; the record wins
    index.save()
    assert HnswIndex.load(tmp_path).count() == 300
    assert len(list(tmp_path.glob("index-*.bin"))) == 1  # the old file was removed


@pytest.mark.parametrize("damage", ["truncate", "flip", "no_record", "bad_record", "no_file"])
def test_damage_is_detected_on_load(tmp_path, damage):
    index = HnswIndex(tmp_path, 64)
    index.add(np.arange(50), clustered(50, seed=6))
    index.save()
    (binary,) = tmp_path.glob("index-*.bin")
    if damage == "truncate":
        binary.write_bytes(binary.read_bytes()[:1000])
    elif damage == "flip":
        data = bytearray(binary.read_bytes())
        data[len(data) // 2] ^= 0xFF
        binary.write_bytes(bytes(data))
    elif damage == "no_record":
        (tmp_path / RECORD_FILE).unlink()
    elif damage == "bad_record":
        (tmp_path / RECORD_FILE).write_text("{not json")
    else:
        binary.unlink()
    with pytest.raises(IndexDamagedError) as err:
        HnswIndex.load(tmp_path)
    assert str(tmp_path) in str(err.value)
